package boot

import "golang.org/x/sys/unix"

// From sys/procctl.h; x/sys has no Procctl wrapper (FINDINGS.md).
const (
	pPID            = 0
	procReapAcquire = 2
)

// DetachForJail makes gosd usable as a jail's exec.start (FreeBSD jails
// have no PID1, and jail(8) waits for exec.start to finish). The first call
// re-executes gosd as a child in its own session and waits: when the child
// calls notifyParent (once its target is reached) the parent exits 0, and
// if the child dies first the parent exits 1. Only the child returns, with
// isChild true; it is the reaper of everything it starts
// (procctl(PROC_REAP_ACQUIRE)). An error in the child is worth logging but
// not fatal: it still supervises, only orphans escape it.
func DetachForJail() (isChild bool, notifyParent func(), err error) {
	return detach(func() error {
		_, _, e := unix.Syscall6(unix.SYS_PROCCTL, pPID, 0, procReapAcquire, 0, 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})
}

// Detach is DetachForJail: on FreeBSD the mechanism is the jail's.
func Detach() (isChild bool, notifyParent func(), err error) { return DetachForJail() }
