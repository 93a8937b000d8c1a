package reactor

import "gosd/manager"

// Automount points (the reactor's hooks of manager/automount.go). On
// Linux (automount_linux.go) each set-up unit has an autofs mount on its
// Where= whose kernel requests arrive on a pipe in the poller; elsewhere
// a start answers that the platform has none.

// autofsSource marks an automount unit's request pipe in r.sources.
type autofsSource struct{ unit string }

// automountEffect carries out the automount effects.
func (r *Reactor) automountEffect(e manager.Effect) {
	switch e := e.(type) {
	case manager.StartAutomount:
		r.feedNext(r.startAutomount(e))
	case manager.AutomountReply:
		r.replyAutomount(e)
	case manager.ExpireAutomount:
		r.expireAutomount(e)
	case manager.StopAutomount:
		r.stopAutomount(e.Unit)
	case manager.AdoptAutomount:
		r.adoptAutomount(e)
	}
}

// closeAutomounts undoes every automount point still set up.
func (r *Reactor) closeAutomounts() {
	for unit := range r.automounts {
		r.stopAutomount(unit)
	}
}
