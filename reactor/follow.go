package reactor

import (
	"syscall"

	"gosd/manager"
)

// follower receives every captured output line of one unit ("" = all).
type follower struct {
	unit string
	fn   func(unit, line string)
}

// Follow calls fn for every new output line of unit ("" = every unit) until
// cancel is called. Reactor goroutine only (fn runs there and must not
// block); it serves `logs --follow`.
func (r *Reactor) Follow(unit string, fn func(unit, line string)) (cancel func()) {
	if r.followers == nil {
		r.followers = map[int]follower{}
	}
	r.followerSeq++
	id := r.followerSeq
	r.followers[id] = follower{unit: unit, fn: fn}
	return func() { delete(r.followers, id) }
}

func (r *Reactor) notifyFollowers(unit, line string) {
	for _, f := range r.followers {
		if f.unit == "" || f.unit == unit {
			f.fn(unit, line)
		}
	}
}

// Signal sends sig to one process of a unit, or with group to every
// process the unit owns, exactly as a manager Kill effect would.
// Reactor goroutine only; it serves `gosdctl kill`.
func (r *Reactor) Signal(unit string, pid int, group bool, sig syscall.Signal) {
	r.kill(manager.Kill{Unit: unit, Pid: pid, Group: group, Signal: int(sig)})
}
