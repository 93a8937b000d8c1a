package boot

import (
	"os"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"gosd/internal/mountinfo"
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

// apiTrees are the API mount points EarlyBoot makes, with everything
// under them; /run itself (gosd's own state, the kernel's) is left too,
// what is mounted under it is not (systemd-shutdown's choice).
var apiTrees = []string{"/proc", "/sys", "/dev"}

func isAPI(m mountEntry) bool {
	if apiFS[m.FSType] || m.Point == "/run" {
		return true
	}
	for _, t := range apiTrees {
		if m.Point == t || strings.HasPrefix(m.Point, t+"/") {
			return true
		}
	}
	return false
}

// readOnlyFS are file system types that cannot be written at all:
// remounting them read-only is pointless.
var readOnlyFS = map[string]bool{"squashfs": true, "iso9660": true, "erofs": true, "cramfs": true, "romfs": true}

// networkFS are the network file systems (systemd's fstype_is_network):
// never remounted read-only (nothing to leave dirty, and the server may
// be gone), unmounted with MNT_FORCE so that a dead server cannot hang it.
func networkFS(t string) bool {
	switch strings.TrimPrefix(t, "fuse.") {
	case "afs", "ceph", "cifs", "smb3", "smbfs", "sshfs", "ncpfs", "ncp", "nfs", "nfs4", "gfs", "gfs2",
		"glusterfs", "gpfs", "pvfs2", "ocfs2", "lustre", "davfs", "9p", "virtiofs":
		return true
	}
	return false
}

// Bounds of the final unmount: passes repeat while one makes progress,
// and all of them together end by unmountLimit.
const (
	maxPasses    = 10
	unmountLimit = 60 * time.Second
)

// unmountAll is systemd-shutdown's last loop: for every mount at or under
// top, the newest first (children before parents), it remounts the file
// system read-only (which flushes it, and leaves it clean if the unmount
// then fails) and unmounts it; with swaps (top "/" only: a test must never
// touch the host's swap), it then turns off every swap in /proc/swaps.
// Passes repeat while they make progress (an unmount frees a parent, a
// swapoff frees the file system its swap file is on). When a pass changes
// nothing, one last pass detaches (MNT_DETACH, lazily) what is still
// mounted and has nothing mounted under it: only then, as a last resort.
// API file systems (isAPI) are left; / and /usr cannot be unmounted, being
// in use by gosd itself, and end read-only. Every syscall is bounded
// (umountLimit), and so is the whole (unmountLimit).
func unmountAll(top string, log Logf) {
	under := func(p string) bool {
		return top == "/" || p == top || strings.HasPrefix(p, strings.TrimSuffix(top, "/")+"/")
	}
	swaps := top == "/"
	deadline := time.Now().Add(unmountLimit)
	lastTry := false
	for pass := 0; pass < maxPasses; pass++ {
		changed := false
		mountsLeft := unmountPass(under, lastTry, &changed, log)
		swapsLeft := 0
		if swaps {
			swapsLeft = swapoffAll(&changed, log)
		}
		if mountsLeft == 0 && swapsLeft == 0 {
			log.printf("boot: all file systems unmounted (or read-only), all swaps off")
			return
		}
		switch {
		case time.Now().After(deadline):
			log.printf("boot: %d file systems and %d swaps left after %v, going on", mountsLeft, swapsLeft, unmountLimit)
			return
		case !changed && lastTry:
			log.printf("boot: cannot finalize %d file systems and %d swaps, going on", mountsLeft, swapsLeft)
			return
		case !changed:
			lastTry = true
		}
	}
	log.printf("boot: file systems still changing after %d passes, going on", maxPasses)
}

// unmountPass is one pass over the mount table; it returns how many
// mounts are left to do.
func unmountPass(under func(string) bool, lastTry bool, changed *bool, log Logf) int {
	mounts := readMountinfo()
	left := 0
	for i := len(mounts) - 1; i >= 0; i-- {
		m := mounts[i]
		if !under(m.Point) || isAPI(m) {
			continue
		}
		keep := m.Point == "/" || m.Point == "/usr"
		rerr := error(nil)
		if !m.ReadOnly() && !networkFS(m.FSType) && !readOnlyFS[m.FSType] {
			rerr = boundedErr(umountLimit, func() error {
				return unix.Mount("", m.Point, "", unix.MS_REMOUNT|unix.MS_RDONLY, "")
			})
			if rerr == nil {
				log.printf("boot: remounted %s read-only", m.Point)
				*changed = true
			}
		}
		if keep {
			if rerr != nil {
				left++
				log.printf("boot: %s: read-only: %v", m.Point, rerr)
			}
			continue
		}
		flags := unix.UMOUNT_NOFOLLOW
		how := "unmounted"
		if networkFS(m.FSType) {
			flags |= unix.MNT_FORCE
		}
		if lastTry && !hasMountUnder(mounts[i+1:], m.Point) {
			flags |= unix.MNT_DETACH
			how = "detached (lazily)"
		}
		err := boundedErr(umountLimit, func() error { return unix.Unmount(m.Point, flags) })
		if err == nil {
			log.printf("boot: %s %s", how, m.Point)
			*changed = true
			continue
		}
		left++
		if rerr != nil || lastTry {
			log.printf("boot: %s: unmount: %v; read-only: %v", m.Point, err, rerr)
		}
	}
	return left
}

// hasMountUnder: one of mounts (those mounted after p's) is below p.
func hasMountUnder(mounts []mountEntry, p string) bool {
	for _, m := range mounts {
		if strings.HasPrefix(m.Point, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// swapoffAll turns off every swap in /proc/swaps; it returns how many are
// left.
func swapoffAll(changed *bool, log Logf) int {
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return 0
	}
	left := 0
	for _, what := range parseSwaps(string(b)) {
		err := boundedErr(swapoffLimit, func() error { return swapoff(what) })
		if err == nil {
			log.printf("boot: swap off %s", what)
			*changed = true
			continue
		}
		left++
		log.printf("boot: swapoff %s: %v", what, err)
	}
	return left
}

// swapoffLimit bounds one swapoff(2), which reads every page of the swap
// back into memory.
const swapoffLimit = 30 * time.Second

func swapoff(what string) error {
	p, err := unix.BytePtrFromString(what)
	if err != nil {
		return err
	}
	if _, _, e := unix.Syscall(unix.SYS_SWAPOFF, uintptr(unsafe.Pointer(p)), 0, 0); e != 0 {
		return e
	}
	return nil
}

// parseSwaps is the first column of /proc/swaps (its header left out),
// the kernel's octal escapes undone.
func parseSwaps(text string) []string {
	var out []string
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) == 0 {
			continue
		}
		out = append(out, mountinfo.Unescape(f[0]))
	}
	return out
}

func hasOption(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}
