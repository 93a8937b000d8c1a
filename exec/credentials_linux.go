package exec

import (
	"syscall"

	"golang.org/x/sys/unix"
)

const syscallNonblock = syscall.O_NONBLOCK

// mountCredentials puts a ramfs (never swapped) on dir; false where gosd
// may not mount (then the files live on dir's file system, as systemd
// falls back to).
func mountCredentials(dir string) bool {
	return unix.Mount("ramfs", dir, "ramfs", unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_NOSUID, "mode=0700") == nil
}

func remountReadOnly(dir string) error {
	return unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_NOSUID, "")
}

func unmountCredentials(dir string) { unix.Unmount(dir, unix.MNT_DETACH) }
