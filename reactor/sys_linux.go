package reactor

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sigRTMin is SIGRTMIN as systemd and glibc number it (the kernel's 32 and
// 33 are reserved by the C library).
const sigRTMin = 34

func platformSignals() []os.Signal {
	s := []os.Signal{unix.SIGPWR}
	for n := 0; n <= 24 && sigRTMin+n <= 64; n++ {
		s = append(s, syscall.Signal(sigRTMin+n))
	}
	return s
}

// rtShutdown maps systemd's SIGRTMIN+n shutdown signals (systemd(1)
// "SIGNALS") to an action, for PID1.
func rtShutdown(sig syscall.Signal) string {
	switch int(sig) - sigRTMin {
	case 3, 13:
		return "halt"
	case 4, 14:
		return "poweroff"
	case 5, 15:
		return "reboot"
	case 6, 16:
		return "kexec"
	}
	return ""
}

func isPowerSignal(sig syscall.Signal) bool { return sig == unix.SIGPWR }

func becomeSubreaper() error { return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }

// registerPidFD makes a spawned child's pidfd a wake source.
func registerPidFD(p poller, pidfd, pid int) bool {
	if pidfd < 0 {
		return false
	}
	return p.add(pidfd) == nil
}

func pipe() (r, w int, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return -1, -1, err
	}
	// Only the read end is non-blocking: the service's writes must block,
	// never fail with EAGAIN.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return -1, -1, err
	}
	return fds[0], fds[1], nil
}
