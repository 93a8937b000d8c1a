package reactor

import "golang.org/x/sys/unix"

// becomeSubreaper calls procctl(P_PID, 0, PROC_REAP_ACQUIRE, NULL)
// (procctl(2)); x/sys has no wrapper.
func becomeSubreaper() error {
	const pPID, procReapAcquire = 0, 2
	_, _, e := unix.Syscall6(unix.SYS_PROCCTL, pPID, 0, procReapAcquire, 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// raiseDgramQueue: the unix datagram queue length is a Linux sysctl.
func raiseDgramQueue() error { return nil }
