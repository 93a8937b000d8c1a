//go:build freebsd || darwin

package reactor

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func platformSignals() []os.Signal { return nil }

// crashSignals are the signals whose default action dumps core.
func crashSignals() []os.Signal {
	return []os.Signal{unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGEMT, unix.SIGBUS,
		unix.SIGFPE, unix.SIGSEGV, unix.SIGSYS}
}
func rtShutdown(syscall.Signal) string { return "" }
func isPowerSignal(syscall.Signal) bool {
	return false
}

func registerPidFD(p poller, pidfd, pid int) bool {
	p.watchProcess(pid)
	return false
}

func pipe() (r, w int, err error) {
	var fds [2]int
	syscall.ForkLock.RLock()
	err = unix.Pipe(fds[:])
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, -1, err
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return -1, -1, err
	}
	return fds[0], fds[1], nil
}

// openPidFD: no pidfds here; registerPidFD watches the pid instead.
func openPidFD(pid int) int { return -1 }

// handoverFile makes the anonymous file the re-exec state travels in: an
// unlinked temporary file (no memfd here).
func handoverFile() (*os.File, error) {
	f, err := os.CreateTemp("", "gosd-reexec-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}

// credentials: there is no systemd-journald here and no SCM_CREDENTIALS
// to name another process with.
func credentials(pid, uid, gid int) []byte { return nil }

// openJournal: systemd-journald runs on Linux only.
func openJournal(path string) *journal { return nil }

// hasAudit: no Linux audit subsystem here.
func hasAudit() bool { return false }
