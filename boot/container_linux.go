package boot

import (
	"os"

	"golang.org/x/sys/unix"
)

// initPIDNSInode is the inode number of the initial PID namespace, a
// constant of the kernel ABI since Linux 3.8 (PROC_PID_INIT_INO in
// include/linux/proc_ns.h). Every other PID namespace gets a fresh one.
const initPIDNSInode = 0xEFFFFFFC

// InContainer reports whether reboot(2) would miss the machine: gosd runs in
// a PID namespace other than the initial one (a container, `unshare -p`),
// where the kernel turns reboot(2) into "kill this namespace's init" and
// FinalShutdown should simply exit with a status.
//
// The test is the inode of /proc/self/ns/pid against the kernel's constant
// for the initial namespace: it needs no cooperation from the runtime and
// is right for `unshare -p` too, which sets no $container. Only when /proc
// cannot tell (not mounted, or a /proc of another namespace, where
// /proc/self does not resolve) does it fall back to systemd's hints:
// $container, /run/.containerenv (podman), /.dockerenv (docker).
func InContainer() bool {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err == nil {
		return st.Ino != initPIDNSInode
	}
	if os.Getenv("container") != "" {
		return true
	}
	for _, f := range []string{"/run/.containerenv", "/.dockerenv"} {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}
