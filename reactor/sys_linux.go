package reactor

import (
	"os"
	"strconv"
	"strings"
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

// crashSignals are the signals whose default action dumps core (signal(7));
// systemd catches them as PID1 (its crash handler). SIGSTKFLT is
// Linux's own.
func crashSignals() []os.Signal {
	return []os.Signal{unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGBUS,
		unix.SIGFPE, unix.SIGSEGV, unix.SIGSTKFLT, unix.SIGSYS}
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

// minDgramQueue is the unix datagram queue length systemd makes sure of
// as the system manager (the kernel default was 10 until Linux 6.5). With
// 10, a thousand services reporting READY=1 at once block in sendmsg and
// every receive wakes them all: measured here, 1000 notify services took
// ~4 s to their target instead of ~2 s.
const minDgramQueue = 512

// raiseDgramQueue raises net.unix.max_dgram_qlen to minDgramQueue when
// lower. It applies to sockets created afterwards, so it runs before the
// notify socket is made. Root only; failure is harmless.
func raiseDgramQueue() error {
	const path = "/proc/sys/net/unix/max_dgram_qlen"
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n >= minDgramQueue {
		return nil
	}
	return os.WriteFile(path, []byte(strconv.Itoa(minDgramQueue)), 0o644)
}

// openPidFD opens a pidfd for a process inherited across a re-exec; -1
// when the kernel has none.
func openPidFD(pid int) int {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1
	}
	unix.CloseOnExec(fd)
	return fd
}

// handoverFile makes the anonymous file the re-exec state travels in.
func handoverFile() (*os.File, error) {
	fd, err := unix.MemfdCreate("gosd-reexec", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "gosd-reexec"), nil
}

// credentials is an SCM_CREDENTIALS message naming pid, uid and gid.
func credentials(pid, uid, gid int) []byte {
	return unix.UnixCredentials(&unix.Ucred{Pid: int32(pid), Uid: uint32(uid), Gid: uint32(gid)})
}

// openJournal returns nil for path "" or when no socket can be made; a
// journald that is not running (yet) is found out per line (journal.go).
func openJournal(path string) *journal {
	if path == "" {
		return nil
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	return &journal{fd: fd, addr: &unix.SockaddrUnix{Name: path}}
}

// hasAudit says whether the kernel's audit subsystem answers: an audit
// netlink socket can be opened (as systemd's use_audit() decides).
func hasAudit() bool {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return err != unix.EAFNOSUPPORT && err != unix.EPROTONOSUPPORT && err != unix.EPERM
	}
	unix.Close(fd)
	return true
}

// killSubtree: Linux has no reaper subtrees; a unit's processes are its
// cgroup's, or its process groups'.
func killSubtree(subtree int, sig syscall.Signal) (bool, error) { return false, nil }
