package boot

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// EarlyBoot does what the kernel leaves to init, before the manager starts:
// mounts /proc, /sys, /dev (devtmpfs) with /dev/pts and /dev/shm, /run and
// the cgroup2 hierarchy; puts stdio on /dev/console; sets the hostname from
// /etc/hostname; brings up the loopback interface; seeds the machine id;
// and, as the init of a machine, asks the kernel to send SIGINT for
// Ctrl-Alt-Del instead of rebooting on the spot.
//
// Each step is skipped when already done (a container runtime or an initrd
// may have done it), and a failed step is logged and the next one runs. The
// error joins every failure, for the caller to log; it never means "stop".
func EarlyBoot(log Logf) error {
	var errs []error
	step := func(err error) {
		if err != nil {
			log.printf("boot: %v", err)
			errs = append(errs, err)
		}
	}
	step(mountAPI("", log))
	machine := os.Getpid() == 1 && !InContainer()
	step(setupStdio("/dev/console", machine, log))
	cmd := ParseKernelCmdline(ReadKernelCmdline())
	step(setHostname("/etc/hostname", log))
	step(loopbackUp(log))
	step(seedMachineID("/etc/machine-id", "/run/machine-id", cmd.MachineID, log))
	if machine {
		// The kernel then sends SIGINT to PID1 for Ctrl-Alt-Del (and a
		// Firecracker SendCtrlAltDel); ActionForSignal maps it to reboot.
		if err := unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF); err != nil {
			step(fmt.Errorf("ctrl-alt-del to SIGINT: %w", err))
		}
	}
	return errors.Join(errs...)
}

// apiMount is one API filesystem systemd's mount-setup.c also mounts.
type apiMount struct {
	point, fstype, source, data string
	flags                       uintptr
	// fallbackData is tried when the kernel refuses data with EINVAL
	// (older kernels do not know every option).
	fallbackData string
}

var apiMounts = []apiMount{
	{point: "/proc", fstype: "proc", source: "proc", flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
	{point: "/sys", fstype: "sysfs", source: "sysfs", flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
	{point: "/dev", fstype: "devtmpfs", source: "devtmpfs", data: "mode=0755", flags: unix.MS_NOSUID | unix.MS_STRICTATIME},
	// gid 5 is the tty group on Debian and Fedora, as systemd hard-codes it;
	// ptmxmode=0666 makes /dev/pts/ptmx usable where /dev/ptmx is a link to it.
	{point: "/dev/pts", fstype: "devpts", source: "devpts", data: "mode=0620,gid=5,ptmxmode=0666", fallbackData: "mode=0620,ptmxmode=0666", flags: unix.MS_NOSUID | unix.MS_NOEXEC},
	{point: "/dev/shm", fstype: "tmpfs", source: "tmpfs", data: "mode=1777", flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_STRICTATIME},
	{point: "/run", fstype: "tmpfs", source: "tmpfs", data: "mode=0755,size=20%,nr_inodes=800k", fallbackData: "mode=0755", flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_STRICTATIME},
	// Only when no cgroup filesystem (v1, v2 or a hybrid's tmpfs) is there.
	{point: "/sys/fs/cgroup", fstype: "cgroup2", source: "cgroup2", data: "nsdelegate,memory_recursiveprot", flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
}

// mountAPI mounts the API filesystems under root ("" for the real root;
// tests pass a scratch directory in a private mount namespace).
func mountAPI(root string, log Logf) error {
	var errs []error
	for _, m := range apiMounts {
		point := root + m.point
		// Re-read every time: the first mount is /proc itself, and a
		// mount of /dev changes what is under it.
		// Any filesystem at the point counts as done: a container runtime
		// mounts /dev as tmpfs, a hybrid host has tmpfs at /sys/fs/cgroup.
		if have := mountedAt(readMountinfo(), point); have != nil {
			log.printf("boot: %s already mounted (%s), skipped", m.point, have.FSType)
			continue
		}
		if err := os.MkdirAll(point, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("mount %s: %w", m.point, err))
			continue
		}
		err := unix.Mount(m.source, point, m.fstype, m.flags, m.data)
		if err != nil && m.data != "" && errors.Is(err, unix.EINVAL) {
			err = unix.Mount(m.source, point, m.fstype, m.flags, m.fallbackData)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("mount %s (%s): %w", m.point, m.fstype, err))
			continue
		}
		log.printf("boot: mounted %s (%s)", m.point, m.fstype)
	}
	return errors.Join(errs...)
}

// setupStdio points fds 0-2 at the console when they are not open. Go's
// runtime, before main, opens /dev/null for a closed stdio fd (and dies if
// it cannot), so for the init of a machine, whom the kernel hands either
// the console or nothing, /dev/null also counts as "not open".
func setupStdio(console string, machine bool, log Logf) error {
	var bad []int
	for fd := 0; fd <= 2; fd++ {
		var st unix.Stat_t
		err := unix.Fstat(fd, &st)
		switch {
		case err != nil:
			bad = append(bad, fd)
		case machine && st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 3:
			bad = append(bad, fd)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	c, err := unix.Open(console, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("stdio on %s: %w", console, err)
	}
	if c > 2 {
		defer unix.Close(c)
	}
	for _, fd := range bad {
		// Without O_CLOEXEC: stdio is what every child inherits. A closed
		// fd was reused by the open itself (lowest free number).
		if fd == c {
			_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
		} else {
			err = unix.Dup3(c, fd, 0)
		}
		if err != nil {
			return fmt.Errorf("stdio fd %d on %s: %w", fd, console, err)
		}
	}
	log.printf("boot: stdio %v on %s", bad, console)
	return nil
}

// setHostname sets the hostname from the first non-comment line of file
// (hostname(5)); with no name there and none set by the kernel, "localhost",
// as systemd does.
func setHostname(file string, log Logf) error {
	name := ""
	b, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		log.printf("boot: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			name = line
			break
		}
	}
	cur, _ := os.Hostname()
	if name == "" {
		if cur != "" && cur != "(none)" {
			return nil
		}
		name = "localhost"
	}
	if name == cur {
		// Set already (a container runtime writes /etc/hostname with the
		// name it gave): nothing to do, and no CAP_SYS_ADMIN needed, as
		// systemd's sethostname_idempotent.
		return nil
	}
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("hostname %q: %w", name, err)
	}
	log.printf("boot: hostname %s", name)
	return nil
}

// loopbackUp sets IFF_UP on "lo" with SIOCSIFFLAGS; the kernel then gives
// it 127.0.0.1 and ::1 by itself. No `ip` binary needed.
func loopbackUp(log Logf) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback flags: %w", err)
	}
	flags := ifr.Uint16()
	if flags&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(flags | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	log.printf("boot: loopback up")
	return nil
}

// seedMachineID follows machine-id(5): a valid id in etcPath is kept. For
// an empty file, or one that says "uninitialized" (a first boot), the id is
// written to runPath and bind-mounted over etcPath, so it works on a
// read-only /etc and leaves the image untouched; gosd has no
// machine-id-commit service, so such an id lasts one boot. A missing file
// gets the id written into it when /etc is writable. The id is the
// kernel's systemd.machine_id=, else D-Bus's, else random (a v4 UUID).
func seedMachineID(etcPath, runPath, fromCmdline string, log Logf) error {
	cur, err := os.ReadFile(etcPath)
	missing := errors.Is(err, os.ErrNotExist)
	if err != nil && !missing {
		return fmt.Errorf("machine id: %w", err)
	}
	if validMachineID(strings.TrimSpace(string(cur))) {
		return nil
	}
	id := fromCmdline
	if id == "" {
		if b, err := os.ReadFile("/var/lib/dbus/machine-id"); err == nil && validMachineID(strings.TrimSpace(string(b))) {
			id = strings.TrimSpace(string(b))
		}
	}
	if id == "" {
		if id, err = randomMachineID(); err != nil {
			return fmt.Errorf("machine id: %w", err)
		}
	}
	if missing {
		if err := os.WriteFile(etcPath, []byte(id+"\n"), 0o444); err != nil {
			return fmt.Errorf("machine id: %w", err)
		}
		log.printf("boot: machine id %s written to %s", id, etcPath)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(runPath), 0o755); err != nil {
		return fmt.Errorf("machine id: %w", err)
	}
	if err := os.WriteFile(runPath, []byte(id+"\n"), 0o444); err != nil {
		return fmt.Errorf("machine id: %w", err)
	}
	if err := unix.Mount(runPath, etcPath, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("machine id: bind %s over %s: %w", runPath, etcPath, err)
	}
	// Read-only, as systemd leaves it: nobody should write a transient id.
	if err := unix.Mount("", etcPath, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		log.printf("boot: machine id: read-only remount: %v", err)
	}
	log.printf("boot: machine id %s (transient, on %s)", id, etcPath)
	return nil
}

// randomMachineID asks for GRND_INSECURE bytes first: an id needs to be
// unique, not secret, and early in a microVM's boot the kernel's random pool
// may not be ready yet: crypto/rand would block boot until it is (measured
// under qemu: 0.8 s). Kernels before 5.6 refuse the flag; then a plain,
// possibly blocking getrandom (what crypto/rand does, without linking the
// crypto packages into PID1).
func randomMachineID() (string, error) {
	var b [16]byte
	if n, err := unix.Getrandom(b[:], unix.GRND_INSECURE); err != nil || n != len(b) {
		if n, err := unix.Getrandom(b[:], 0); err != nil || n != len(b) {
			return "", fmt.Errorf("getrandom: %d bytes, %v", n, err)
		}
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 1
	return hex.EncodeToString(b[:]), nil
}
