package manager

import (
	"fmt"
	"runtime/debug"
	"sort"
	"syscall"

	"gosd/unitfile"
)

// This file holds what keeps every job ending when a unit's definition
// goes away under it (masked, removed, broken) and when a Step panics:
// PID1 must be able to stop everything, always.

// loaded: the unit's definition is usable; a unit that is not may only be
// stopped (systemd refuses start and reload of a unit that is not loaded).
func loaded(u *unit) bool { return u.def.LoadState == unitfile.Loaded }

// keepForStop gives a unit whose new definition has no [Service] or
// [Socket] section for the runtime it has (its file was masked, removed
// or broken by a daemon-reload, or it comes back so from a re-exec) what
// stopping it needs. systemd keeps such a unit loaded, shows it masked or
// not-found, and stop still works on it. The section kept is the old one
// (its kill settings and stop timeout are the ones the processes were
// started under), else the defaults, with nothing left to run: no Exec*=
// command of a unit that is gone starts, and Restart= is off. A definition
// from the source is copied, never changed: the source may share it.
func (m *Manager) keepForStop(u *unit, old *unitfile.Unit) {
	if loaded(u) {
		return
	}
	u.impl.keepForStop(u, old)
}

func (*serviceRun) keepForStop(u *unit, old *unitfile.Unit) {
	def := u.def
	base := def.Service
	if base == nil && old != nil {
		base = old.Service
	}
	if base == nil {
		base = unitfile.DefaultService()
	}
	s := *base
	s.ExecCondition, s.ExecStartPre, s.ExecStart, s.ExecStartPost = nil, nil, nil, nil
	s.ExecReload, s.ExecStop, s.ExecStopPost = nil, nil, nil
	s.Restart = "no"
	nd := *def
	nd.Service = &s
	u.def = &nd
}

func (*socketRun) keepForStop(u *unit, old *unitfile.Unit) {
	def := u.def
	base := def.Socket
	if base == nil && old != nil {
		base = old.Socket
	}
	if base == nil {
		base = unitfile.DefaultSocket()
	}
	s := *base
	s.ExecStartPre, s.ExecStartPost, s.ExecStopPre, s.ExecStopPost = nil, nil, nil, nil
	nd := *def
	nd.Socket = &s
	u.def = &nd
}

// refuseGone ends a job that would start or reload a unit that is not
// loaded any more (it was queued before a daemon-reload took its file).
func (m *Manager) refuseGone(j *job) {
	u := j.u
	m.logf(u, LevelWarning, "Unit %s is %s, cannot %s it.", u.name, loadWord(u.def.LoadState), j.kind)
	m.finishJob(j, ResultFailed)
}

// ---- panics ----

// unitOf is the unit an event is about, when the manager knows it: the one
// a panic while handling the event is charged to.
func (m *Manager) unitOf(ev Event) *unit {
	name := ""
	switch e := ev.(type) {
	case Request:
		name = e.Unit
	case Spawned:
		return m.spawns[e.ID].u
	case Exited:
		return m.pids[e.Pid].u
	case Notify:
		if ref, ok := m.pids[e.Pid]; ok {
			return ref.u
		}
		name = e.Unit
	case TimerFired:
		name = e.ID.Unit
	case PIDFileRead:
		name = e.Unit
	case SocketsOpened:
		name = e.Unit
	case SocketReady:
		name = e.Unit
	case Connection:
		name = e.Unit
	case ConditionsChecked:
		name = e.Unit
	case CgroupEmpty:
		name = e.Unit
	case OOMKilled:
		name = e.Unit
	case TimerStamp:
		name = e.Unit
	case PathsChecked:
		name = e.Unit
	case MountProbed:
		name = e.Unit
	case MountsChanged:
		// not about one unit
	case SwapProbed:
		name = e.Unit
	case SwapsChanged:
		// not about one unit
	case AutomountStarted:
		name = e.Unit
	case AutomountRequest:
		name = e.Unit
	case ResetFailed:
		name = e.Unit
	}
	return m.units[name]
}

// try runs fn and reports whether it panicked (the panic is logged).
func (m *Manager) try(what string, fn func()) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			m.emit(Log{Level: LevelError, Msg: fmt.Sprintf("internal error in %s: %v", what, v)})
		}
	}()
	fn()
	return false
}

// recoverStep runs after a panic inside Step; evUnit is unitOf(ev) from
// before the event was handled. Whatever the bug, the job
// the manager was working on must end with a result, or a client waits
// for ever, daemon-reexec is refused and a shutdown never completes:
//   - the job being run (or, without one, the job of the unit the event
//     was about) ends with result "failed";
//   - when that job was a stop (or gosd is shutting down) the unit is
//     forced down: its processes get SIGKILL and are forgotten, and it is
//     failed with result "resources", so the stop is done whatever state
//     the panic left the unit in;
//   - a Request that installed no job is answered with an error;
//   - the other ready jobs run, and an exit that became due is reported.
func (m *Manager) recoverStep(ev Event, evUnit *unit, v any) {
	u := m.cur
	if u == nil {
		u = evUnit
	}
	if u == nil {
		u = m.unitOf(ev) // a Request's unit, loaded since
	}
	name := ""
	if u != nil {
		name = u.name
	}
	m.emit(Log{Unit: name, Level: LevelError, Msg: fmt.Sprintf("internal error (panic) handling %T: %v\n%s", ev, v, debug.Stack())})
	if u != nil {
		m.try("ending the job after a panic", func() { m.failAfterPanic(u) })
	}
	if r, ok := ev.(Request); ok && r.ID != 0 && !m.answered(r.ID) {
		m.emit(JobFinished{ID: r.ID, Unit: r.Unit, Kind: r.Kind, Result: ResultFailed,
			Error: "internal error (see gosd's log)"})
	}
	m.cur = nil
	m.try("running ready jobs after a panic", m.drain)
	m.try("checking for exit after a panic", m.checkExit)
}

func (m *Manager) failAfterPanic(u *unit) {
	j := u.job
	stop := m.shuttingDown || (j != nil && j.stopLike())
	if j != nil {
		if m.try("finishing job "+j.String(), func() { m.finishJob(j, ResultFailed) }) && u.job == j {
			// finishJob died before it took the job off: do it bare.
			u.job = nil
			m.jobs--
			m.emit(JobFinished{ID: firstID(j), Unit: u.name, Kind: j.asked, Result: ResultFailed})
		}
	}
	if stop {
		m.forceDown(u)
	}
}

// forceDown kills and forgets every process of u and leaves it failed.
func (m *Manager) forceDown(u *unit) {
	pid := u.impl.forceDown(m, u)
	m.emit(Kill{Unit: u.name, Pid: pid, Group: true, Signal: int(syscall.SIGKILL)})
	for p, ref := range m.pids {
		if ref.u == u {
			delete(m.pids, p)
		}
	}
	for id, ref := range m.spawns {
		if ref.u == u {
			delete(m.spawns, id)
		}
	}
	if c := m.ctl(u); c != nil {
		c.controlPID, c.controlSpawn = 0, 0
	}
	delete(m.pendingChecks, u.name)
	kinds := make([]string, 0, len(u.timers))
	for k := range u.timers {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		m.cancelTimer(u, k)
	}
	u.result = "resources"
	m.logf(u, LevelError, "Forced down after an internal error: processes killed, unit failed.")
	if m.try("failing "+u.name, func() { m.setState(u, SubFailed) }) && u.active != ActiveFailed {
		if !isInactive(u) {
			m.busyUnits--
		}
		u.active, u.sub = ActiveFailed, SubFailed
	}
}

func (s *serviceRun) forceDown(m *Manager, u *unit) int {
	pid := s.mainPID
	if pid == 0 {
		pid = s.controlPID
	}
	s.mainPID, s.mainSpawn, s.noPID = 0, 0, false
	return pid
}

func (k *socketRun) forceDown(m *Manager, u *unit) int {
	if k.open {
		k.open = false
		m.emit(CloseSockets{Unit: u.name, RemoveOnStop: u.def.Socket != nil && u.def.Socket.RemoveOnStop})
	}
	return k.controlPID
}

// answered: a JobFinished for request id went out in this step, or a job
// carries the id (it will answer when it ends).
func (m *Manager) answered(id uint64) bool {
	for _, e := range m.out {
		if f, ok := e.(JobFinished); ok && f.ID == id {
			return true
		}
	}
	for _, u := range m.loadOrder {
		if j := u.job; j != nil {
			for _, x := range j.ids {
				if x == id {
					return true
				}
			}
		}
	}
	return false
}
