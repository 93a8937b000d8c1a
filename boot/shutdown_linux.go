package boot

import (
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const umountLimit = 5 * time.Second // per umount(2) or remount

func rebootSyscall(a Action) error {
	cmd := unix.LINUX_REBOOT_CMD_POWER_OFF
	switch a {
	case Reboot:
		cmd = unix.LINUX_REBOOT_CMD_RESTART
	case Halt:
		cmd = unix.LINUX_REBOOT_CMD_HALT
	}
	return unix.Reboot(cmd)
}

// drainConsole waits until the console's output buffer is on the wire
// (tcdrain: TCSBRK with a non-zero argument).
func drainConsole() {
	fd, err := unix.Open("/dev/console", unix.O_WRONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	unix.IoctlSetInt(fd, unix.TCSBRK, 1)
}

// apiFS are kernel interfaces, not storage: nothing to flush, and the
// kernel or gosd itself may need them until the end. systemd leaves them
// too. "rootfs" is the initramfs root, which cannot be unmounted.
var apiFS = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true,
	"cgroup": true, "cgroup2": true, "securityfs": true, "debugfs": true,
	"tracefs": true, "bpf": true, "pstore": true, "mqueue": true,
	"hugetlbfs": true, "configfs": true, "fusectl": true, "efivarfs": true,
	"binfmt_misc": true, "autofs": true, "rootfs": true, "nsfs": true,
	"selinuxfs": true,
}

// apiTrees are the API mount points EarlyBoot makes, with everything under
// them: /run and /dev/shm are tmpfs that gosd and the kernel still use.
var apiTrees = []string{"/proc", "/sys", "/dev", "/run"}

func isAPI(m mountEntry) bool {
	if apiFS[m.FSType] {
		return true
	}
	for _, t := range apiTrees {
		if m.Point == t || strings.HasPrefix(m.Point, t+"/") {
			return true
		}
	}
	return false
}

// unmountAll unmounts every mount at or under top (the newest first, so
// children go before parents), skipping API filesystems (isAPI). A mount that is
// still busy is remounted read-only instead, which flushes it just as well.
// Passes repeat while they make progress (an unmount can free a parent),
// at most three times.
func unmountAll(top string, log Logf) {
	under := func(p string) bool {
		return top == "/" || p == top || strings.HasPrefix(p, strings.TrimSuffix(top, "/")+"/")
	}
	for pass := 0; pass < 3; pass++ {
		mounts := readMountinfo()
		progress := false
		busy := 0
		for i := len(mounts) - 1; i >= 0; i-- {
			m := mounts[i]
			if !under(m.Point) || isAPI(m) {
				continue
			}
			var err error
			if m.Point != "/" {
				err = boundedErr(umountLimit, func() error { return unix.Unmount(m.Point, 0) })
				if err == nil {
					log.printf("boot: unmounted %s", m.Point)
					progress = true
					continue
				}
			}
			if hasOption(m.Options, "ro") {
				continue
			}
			rerr := boundedErr(umountLimit, func() error {
				return unix.Mount("", m.Point, "", unix.MS_REMOUNT|unix.MS_RDONLY, "")
			})
			if rerr == nil {
				log.printf("boot: remounted %s read-only", m.Point)
				progress = true
				continue
			}
			busy++
			log.printf("boot: %s: unmount: %v; read-only: %v", m.Point, err, rerr)
		}
		if !progress || busy == 0 {
			return
		}
	}
}

func hasOption(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}
