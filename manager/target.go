package manager

import "gosd/unitfile"

// Target units (systemd.target(5)): no processes, active once started.
type targetUnit struct{ baseType }

// targetType registers target units (unitTypes).
var targetType = typeEntry{
	has:  func(d *unitfile.Unit) bool { return d.LoadState == unitfile.Loaded },
	make: func(*unit) unitVTable { return &targetUnit{} },
}

func (*targetUnit) activeOf(sub SubState) ActiveState { return plainActive(sub) }

func (*targetUnit) addDeps(m *Manager, u *unit, implicit func(string, ...dep)) {
	if u.def.Unit.DefaultDependencies {
		// systemd.target(5): Wants=/Requires= get an implicit After=
		// (addTargetDeps, once the tree is loaded).
		m.targetDeps = append(m.targetDeps, u)
		implicit("shutdown.target", depConflicts, depBefore)
	}
}

func (*targetUnit) start(m *Manager, u *unit) { m.setState(u, SubActive) }

func (*targetUnit) stop(m *Manager, u *unit, restart bool) {
	delete(m.pendingChecks, u.name)
	m.setState(u, SubDead)
}

// plainUnit is a unit of a type gosd does not run: the unsupported types
// (unitfile/extern.go), and what a unit that is not loaded needs to be
// stopped.
type plainUnit struct{ baseType }

func plainActive(sub SubState) ActiveState {
	switch sub {
	case SubDead:
		return ActiveInactive
	case SubFailed:
		return ActiveFailed
	}
	return ActiveActive
}

func (*plainUnit) activeOf(sub SubState) ActiveState { return plainActive(sub) }

func (*plainUnit) start(m *Manager, u *unit) {
	switch {
	case unitfile.UnsupportedType(u.def.Type):
		m.logf(u, LevelNotice, "gosd does not run %s units: %s not started (unsupported).", u.def.Type, u.name)
		if u.job != nil {
			m.finishJob(u.job, ResultUnsupported)
		}
	default:
		if u.def.Type != "target" {
			m.logf(u, LevelDebug, "unit type %q has no runtime in gosd; treated like a target", u.def.Type)
		}
		m.setState(u, SubActive)
	}
}

func (*plainUnit) stop(m *Manager, u *unit, restart bool) {
	delete(m.pendingChecks, u.name)
	m.setState(u, SubDead)
}
