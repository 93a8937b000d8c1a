package manager

import (
	"path"
	"strconv"
	"strings"

	"gosd/unitfile"
)

// Swap units (systemd.swap(5)). A start asks the reactor whether the
// device or file is in use as swap already (ProbeSwap, /proc/swaps) and,
// if not, runs "swapon [-p PRIORITY] [-o OPTIONS] WHAT" as the unit's
// control process; a stop runs "swapoff WHAT". Both are bounded by
// TimeoutSec=. /proc/swaps is followed (SwapsChanged): a swap unit whose
// swap someone turns on is active, one someone turns off is dead, and a
// swap without a unit file gets a unit made from the table
// (unitfile.SwapFromTable), which goes when the swap goes and which
// gosd's shutdown leaves alone (as PID1 the final shutdown turns every
// swap off). Where gosd differs from systemd: the other names udev gives
// the same device are not units, so a unit whose What= is a link
// (/dev/disk/by-uuid/...) follows only its own swapon and swapoff.

// swapRun is the runtime state of a swap unit.
type swapRun struct {
	baseType
	control
	probing bool
}

// swapType registers swap units (unitTypes).
var swapType = typeEntry{
	has:       func(d *unitfile.Unit) bool { return d.Swap != nil && d.LoadState == unitfile.Loaded },
	make:      func(u *unit) unitVTable { return &swapRun{} },
	processes: true,
}

func (*swapRun) activeOf(sub SubState) ActiveState {
	switch sub {
	case SubDead:
		return ActiveInactive
	case SubFailed:
		return ActiveFailed
	case SubActivating:
		return ActiveActivating
	case SubDeactivating:
		return ActiveDeactivating
	}
	return ActiveActive
}

// addDeps: systemd.swap(5) "Implicit Dependencies" (the device, or the
// mounts a swap file lies on) and "Default Dependencies".
func (*swapRun) addDeps(m *Manager, u *unit, implicit func(string, ...dep)) {
	d := u.def.Swap
	if d == nil {
		return
	}
	if strings.HasPrefix(d.What, "/dev/") {
		if swapFromTable(u.def) {
			// systemd binds only swap units with a file to devices.
			return
		}
		if name, err := unitfile.EscapePath(d.What); err == nil {
			implicit(name+".device", depBindsTo, depAfter)
		}
	} else if strings.HasPrefix(d.What, "/") {
		for _, name := range mountUnitsFor(path.Dir(d.What)) {
			implicit(name, depRequires, depAfter)
		}
	}
	if u.def.Unit.DefaultDependencies {
		implicit("swap.target", depBefore)
		implicit("umount.target", depConflicts, depBefore)
	}
}

func (*swapRun) startable(m *Manager, u *unit) bool  { return u.sub == SubDead || u.sub == SubFailed }
func (*swapRun) startLimited() bool                  { return true }
func (r *swapRun) ctl() *control                     { return &r.control }
func (r *swapRun) busy() bool                        { return r.controlPID != 0 || r.controlSpawn != 0 }
func (r *swapRun) forceDown(m *Manager, u *unit) int { return r.controlPID }

func (r *swapRun) status(m *Manager, u *unit, s *UnitStatus) { s.ControlPID = r.controlPID }

func (r *swapRun) fillControl(m *Manager, u *unit, sp *Spawn) {
	if d := u.def.Swap; d != nil {
		sp.Exec = &d.Exec
	}
}

func (r *swapRun) start(m *Manager, u *unit) {
	u.result = "success"
	r.probing = true
	m.setTimeout(u, "state", u.def.Swap.TimeoutSec)
	m.setState(u, SubActivating)
	m.emit(ProbeSwap{Unit: u.name, What: u.def.Swap.What})
}

func (m *Manager) onSwapProbed(e SwapProbed) {
	u := m.units[e.Unit]
	var r *swapRun
	if u != nil {
		r, _ = u.impl.(*swapRun)
	}
	if r == nil || !r.probing || u.sub != SubActivating {
		m.logf(u, LevelDebug, "ignoring swap probe of %s", e.Unit)
		return
	}
	r.probing = false
	if e.Active {
		m.cancelTimer(u, "state")
		m.setState(u, SubActive)
		return
	}
	d := u.def.Swap
	argv := []string{"swapon"}
	if d.Priority != nil {
		argv = append(argv, "-p", strconv.Itoa(*d.Priority))
	}
	if d.Options != "" {
		argv = append(argv, "-o", d.Options)
	}
	argv = append(argv, d.What)
	m.runControl(u, SubActivating, []unitfile.ExecCommand{{Path: "swapon", Argv: argv, Pos: settingPos(u.def, "What")}})
}

func (r *swapRun) controlDone(m *Manager, u *unit, phase SubState, ok bool, st WaitStatus, res string) {
	m.cancelTimer(u, "state")
	if phase == SubActivating && ok {
		m.setState(u, SubActive)
		return
	}
	if !ok {
		m.setResult(u, res)
	}
	m.controlUnitDead(u)
}

func (r *swapRun) stop(m *Manager, u *unit, restart bool) {
	delete(m.pendingChecks, u.name)
	switch u.sub {
	case SubDead, SubFailed, SubDeactivating:
		return
	case SubActivating:
		if r.probing {
			r.probing = false
			m.controlUnitDead(u)
			return
		}
		m.abortControl(u, r.controlPID)
	}
	m.setTimeout(u, "state", u.def.Swap.TimeoutSec)
	m.runControl(u, SubDeactivating, []unitfile.ExecCommand{{Path: "swapoff", Argv: []string{"swapoff", u.def.Swap.What},
		Pos: settingPos(u.def, "What")}})
}

func (r *swapRun) timer(m *Manager, u *unit, kind string) {
	if kind != "state" {
		return
	}
	m.logAt(u, "TimeoutSec", LevelWarning, "%s timed out. Killing.", u.sub)
	m.abortControl(u, r.controlPID)
	r.probing = false
	m.setResult(u, "timeout")
	m.controlUnitDead(u)
}

// keepForStop: a swap unit whose file went away still runs swapoff; one
// made from the table keeps what the table gave it.
func (r *swapRun) keepForStop(u *unit, old *unitfile.Unit) {
	if r.keepFromTable(u, old) {
		return
	}
	if u.def.Swap != nil || old == nil || old.Swap == nil {
		return
	}
	nd := *u.def
	sw := *old.Swap
	nd.Swap = &sw
	u.def = &nd
}

// swapFromTable: the unit has no file; it was made from /proc/swaps.
func swapFromTable(def *unitfile.Unit) bool {
	return def.FragmentPath == "" && def.Unit.SourcePath == unitfile.SwapTable
}

// followsOnly: a swap made from the table is not turned off by gosd's
// shutdown (gosd may not be the init; as PID1 the final shutdown does).
func (r *swapRun) followsOnly(u *unit) bool {
	return swapFromTable(u.def) && !r.busy() && !r.probing
}

// keepForStop on a reload: a unit made from the table keeps its definition.
func (r *swapRun) keepFromTable(u *unit, old *unitfile.Unit) bool {
	if u.def.LoadState == unitfile.NotFound && old != nil && swapFromTable(old) {
		u.def = old
		return true
	}
	return false
}

// onSwapsChanged follows /proc/swaps. A unit running its own swapon or
// swapoff waits for the command instead.
func (m *Manager) onSwapsChanged(e SwapsChanged) {
	for _, what := range e.Removed {
		name, err := unitfile.EscapePath(what)
		if err != nil {
			continue
		}
		u := m.units[name+".swap"]
		if u == nil {
			continue
		}
		r, ok := u.impl.(*swapRun)
		if !ok || r.probing || r.busy() {
			continue
		}
		if u.sub == SubActive {
			m.logf(u, LevelInfo, "%s was turned off (not by gosd).", what)
			m.controlUnitDead(u)
		}
		if swapFromTable(u.def) && isInactive(u) && u.job == nil {
			m.forget(u)
		}
	}
	for _, sw := range e.Added {
		name, err := tableUnitName(sw.What, ".swap")
		if err != nil {
			m.logf(nil, LevelWarning, "Failed to make a swap unit for %q, ignoring it: %v", sw.What, err)
			continue
		}
		u := m.units[name]
		if u == nil || u.def.LoadState == unitfile.NotFound {
			u = m.loadFromTable(name, u, unitfile.SwapFromTable(name, sw.What, sw.Priority))
		}
		r, ok := u.impl.(*swapRun)
		if !ok || r.probing || r.busy() {
			continue
		}
		if u.sub == SubDead || u.sub == SubFailed {
			if swapFromTable(u.def) {
				m.logf(u, LevelDebug, "%s is on.", sw.What)
			} else {
				m.logf(u, LevelInfo, "%s was turned on (not by gosd).", sw.What)
			}
			u.result = "success"
			m.setState(u, SubActive)
		}
	}
}
