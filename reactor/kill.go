package reactor

import (
	"syscall"

	"gosd/manager"
)

// Signal sends sig to one process of a unit, or with group to every
// process the unit owns, exactly as a manager Kill effect would.
// Reactor goroutine only; it serves `gosdctl kill`.
func (r *Reactor) Signal(unit string, pid int, group bool, sig syscall.Signal) {
	r.kill(manager.Kill{Unit: unit, Pid: pid, Group: group, Signal: int(sig)})
}
