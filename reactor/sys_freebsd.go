package reactor

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// procctl(2) commands and flags (sys/procctl.h); x/sys has no wrapper.
const (
	pPID               = 0 // P_PID
	procReapAcquire    = 2
	procReapKill       = 6
	reaperKillSubtree  = 0x2
	procctlReaperKillN = 15 // rk_pad0
)

// procctlReaperKill is struct procctl_reaper_kill.
type procctlReaperKill struct {
	sig     int32
	flags   uint32
	subtree int32
	killed  uint32
	fpid    int32
	_       [procctlReaperKillN]uint32
}

// becomeSubreaper calls procctl(P_PID, 0, PROC_REAP_ACQUIRE, NULL)
// (procctl(2)). EBUSY means gosd is the reaper already (a jail's gosd
// acquired it in boot.DetachForJail).
func becomeSubreaper() error {
	_, _, e := unix.Syscall6(unix.SYS_PROCCTL, pPID, 0, procReapAcquire, 0, 0, 0)
	if e != 0 && e != unix.EBUSY {
		return e
	}
	return nil
}

// killSubtree signals every descendant of gosd (the reaper) that descends
// from subtree, a process gosd spawned: procctl(PROC_REAP_KILL,
// REAPER_KILL_SUBTREE). The kernel keeps each process's reaper subtree
// across setsid(2) and reparenting, so this reaches what left the process
// group too, as a cgroup would on Linux. any is false when none was left.
func killSubtree(subtree int, sig syscall.Signal) (any bool, err error) {
	rk := procctlReaperKill{sig: int32(sig), flags: reaperKillSubtree, subtree: int32(subtree)}
	_, _, e := unix.Syscall6(unix.SYS_PROCCTL, pPID, uintptr(unix.Getpid()), procReapKill, uintptr(unsafe.Pointer(&rk)), 0, 0)
	switch {
	case e == unix.ESRCH:
		return false, nil
	case e != 0:
		return rk.killed > 0, e
	}
	return rk.killed > 0, nil
}

// raiseDgramQueue: the unix datagram queue length is a Linux sysctl.
func raiseDgramQueue() error { return nil }
