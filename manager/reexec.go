package manager

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gosd/unitfile"
)

// Saved is the manager's state handed to a re-executed gosd
// (daemon-reexec): values only, JSON-encodable. Times are on the manager's
// monotonic clock; the reactor keeps that clock's zero across the exec.
type Saved struct {
	Units     []SavedUnit
	NextInvoc uint64
	NextSpawn uint64
	Cgroups   bool
}

// SavedUnit is one unit that is not inactive-and-untouched: what status
// shows and what supervision needs.
type SavedUnit struct {
	Name                                                 string
	Active, Sub, Result                                  string
	ActiveEnter, ActiveExit, InactiveEnter, InactiveExit time.Duration
	CgroupPath                                           string
	CgPopulated                                          bool
	Timers                                               []string // kinds armed; re-armed fresh
	StartLimitWindow                                     time.Duration
	StartLimitCount                                      int
	AcceptOf                                             string // Accept=yes socket of this instance

	// Services.
	MainPID       int
	MainExited    bool
	MainStatus    WaitStatus
	ExecMain      ExecMainStatus `json:",omitempty"`
	ExecRuns      []ExecRun      `json:",omitempty"` // services and sockets
	Condition     CheckResult    `json:",omitempty"`
	Assert        CheckResult    `json:",omitempty"`
	Started       bool
	NoPID         bool
	ForbidRestart bool
	Invocation    string
	StatusText    string
	Errno         int
	NRestarts     int
	Fds           []int
	FdNames       []string

	// Socket units.
	SockOpen     bool
	TriggerStart time.Duration
	TriggerCount int
	NConn        int

	// Timer units; the next elapse is planned again at the first ClockSet.
	TimerActivated time.Duration
	TimerLastMono  time.Duration
	TimerLastReal  time.Time

	// Automount units: the autofs point is set up (the reactor hands its
	// pipe over), at Where; the kernel's requests still unanswered.
	AutomountUp           bool     `json:",omitempty"`
	AutomountWhere        string   `json:",omitempty"`
	AutomountTokens       []uint32 `json:",omitempty"`
	AutomountExpireTokens []uint32 `json:",omitempty"`
}

// Save captures the state for daemon-reexec. It refuses (and changes
// nothing) while any job is installed, any process is being spawned, any
// control process (ExecStartPre=, ExecStop=, ...) runs, or a unit is in a
// transition other than waiting to restart: a first version hands over
// only settled units.
func (m *Manager) Save() (Saved, error) {
	if m.shuttingDown {
		return Saved{}, fmt.Errorf("shutting down")
	}
	if m.jobs > 0 {
		return Saved{}, fmt.Errorf("%d job(s) running or queued", m.jobs)
	}
	if len(m.spawns) > 0 {
		return Saved{}, fmt.Errorf("%d process(es) being spawned", len(m.spawns))
	}
	if len(m.pendingChecks) > 0 {
		return Saved{}, fmt.Errorf("condition checks pending")
	}
	s := Saved{NextInvoc: m.nextInvoc, NextSpawn: m.nextSpawnID, Cgroups: m.cgroups}
	for _, u := range m.loadOrder {
		if why := u.impl.unsettled(u); why != "" {
			return Saved{}, fmt.Errorf("%s %s", u.name, why)
		}
		if _, ok := u.timers["state"]; ok {
			return Saved{}, fmt.Errorf("%s has a state timeout running", u.name)
		}
		if c := u.impl.ctl(); c != nil && (c.controlPID != 0 || c.controlSpawn != 0) {
			return Saved{}, fmt.Errorf("%s runs a control process (pid %d)", u.name, c.controlPID)
		}
		if u.job == nil && u.impl.followsOnly(u) {
			continue
		}
		if u.active == ActiveInactive && (u.result == "" || u.result == "success") && u.inactiveExit == 0 &&
			u.activeEnter == 0 && u.cgroupPath == "" && !u.impl.holdsFDs() {
			continue // never touched: nothing to hand over
		}
		su := SavedUnit{
			Name: u.name, Active: u.active.String(), Sub: u.sub.String(), Result: u.result,
			ActiveEnter: u.activeEnter, ActiveExit: u.activeExit,
			InactiveEnter: u.inactiveEnter, InactiveExit: u.inactiveExit,
			CgroupPath: u.cgroupPath, CgPopulated: u.cgPopulated,
			StartLimitWindow: u.startLimitWindow, StartLimitCount: u.startLimitCount,
		}
		for k := range u.timers {
			su.Timers = append(su.Timers, k)
		}
		if u.acceptOf != nil {
			su.AcceptOf = u.acceptOf.name
		}
		u.impl.save(&su)
		if c := u.impl.ctl(); c != nil {
			su.ExecRuns = c.runs
		}
		su.Condition, su.Assert = u.condition, u.assert
		s.Units = append(s.Units, su)
	}
	return s, nil
}

// Restore puts saved state into a fresh manager (before any other event
// but CgroupsAvailable/CgroupCreated). Timers are re-armed fresh from the
// unit definitions: RestartSec= for a unit waiting to restart,
// WatchdogSec= and RuntimeMaxSec= for a running service. It returns the
// effects (timers, logs) and how many units were restored.
func (m *Manager) Restore(now time.Duration, s Saved) ([]Effect, int) {
	if now > m.now {
		m.now = now
	}
	m.out = nil
	m.nextInvoc = max(m.nextInvoc, s.NextInvoc)
	m.nextSpawnID = max(m.nextSpawnID, s.NextSpawn)
	if s.Cgroups {
		m.cgroups = true
	}
	n := 0
	var cgroups []*unit
	for _, su := range s.Units {
		active, okA := ParseActiveState(su.Active)
		sub, okS := ParseSubState(su.Sub)
		if !okA || !okS {
			m.logf(nil, LevelWarning, "re-exec: ignoring %s in unknown state %s/%s", su.Name, su.Active, su.Sub)
			continue
		}
		u := m.load(su.Name)
		if !loaded(u) && (su.MainPID > 0 || su.SockOpen || !isInactiveState(active)) {
			// Its file went away before the re-exec: keep what stopping
			// it needs (keepForStop), or its processes are lost.
			if t, ok := unitTypes[u.def.Type]; ok && (t.processes || t.kernelState) {
				if _, plain := u.impl.(*plainUnit); plain {
					u.impl = t.make(u)
				}
			}
			m.keepForStop(u, nil)
		}
		wasBusy := !isInactive(u)
		u.active, u.sub, u.result = active, sub, su.Result
		u.activeEnter, u.activeExit, u.inactiveEnter, u.inactiveExit = su.ActiveEnter, su.ActiveExit, su.InactiveEnter, su.InactiveExit
		if su.CgroupPath != "" {
			u.cgroupPath = su.CgroupPath
		}
		u.cgPopulated = su.CgPopulated
		u.startLimitWindow, u.startLimitCount = su.StartLimitWindow, su.StartLimitCount
		if isBusy := !isInactive(u); isBusy != wasBusy {
			if isBusy {
				m.busyUnits++
			} else {
				m.busyUnits--
			}
		}
		if !u.impl.restore(m, u, su) && len(su.Fds) > 0 {
			m.closeFDs(u.name, su.Fds) // the unit is no service any more
		}
		if c := u.impl.ctl(); c != nil {
			c.runs = su.ExecRuns
		}
		u.condition, u.assert = su.Condition, su.Assert
		if su.AcceptOf != "" {
			if s := m.units[su.AcceptOf]; s != nil && s.sock != nil {
				u.acceptOf = s
			}
		}
		for _, k := range su.Timers {
			m.rearm(u, k)
		}
		if u.cgroupPath != "" && !isInactive(u) {
			cgroups = append(cgroups, u)
		}
		n++
	}
	// The reactor re-opens these units' cgroups with their settings.
	slices.SortFunc(cgroups, func(a, b *unit) int { return strings.Compare(a.name, b.name) })
	for _, u := range cgroups {
		m.emit(ApplyResources{Unit: u.name, Resources: resourcesOf(u.def)})
	}
	out := m.out
	m.out = nil
	return out, n
}

// unsettled says why u cannot be handed over now ("" when it can): a first
// version hands over only units that are not in a transition.
func unsettled(u *unit) string {
	switch u.active {
	case ActiveActive, ActiveInactive, ActiveFailed:
		return ""
	}
	return fmt.Sprintf("is %s (%s)", u.active, u.sub)
}

// unsettled: a service may also be waiting to restart, not while it
// starts its main process.
func (v *serviceRun) unsettled(u *unit) string {
	if v.mainSpawn != 0 || v.hasConn {
		return "is starting its main process"
	}
	if u.sub == SubAutoRestart {
		return ""
	}
	return unsettled(u)
}

func (v *serviceRun) holdsFDs() bool { return len(v.fds) > 0 }

// rearm arms a timer kind that was armed before the re-exec, fresh.
func (m *Manager) rearm(u *unit, kind string) { u.impl.rearm(m, u, kind) }

func (*serviceRun) rearm(m *Manager, u *unit, kind string) {
	var d time.Duration
	switch {
	case kind == "restart" && u.sub == SubAutoRestart:
		d = max(u.def.Service.RestartSec, 1)
	case kind == "watchdog" && (u.sub == SubRunning || u.sub == SubReload):
		d = u.def.Service.WatchdogSec
	case kind == "runtime" && isActive(u):
		d = u.def.Service.RuntimeMaxSec
	default:
		return
	}
	if d <= 0 || d == unitfile.Infinity {
		return
	}
	m.setTimer(u, kind, m.now+d)
}

func (v *serviceRun) save(su *SavedUnit) {
	su.MainPID, su.MainExited, su.MainStatus = v.mainPID, v.mainExited, v.mainStatus
	su.ExecMain = v.execMain
	su.Started, su.NoPID, su.ForbidRestart = v.started, v.noPID, v.forbidRestart
	su.Invocation, su.StatusText, su.Errno, su.NRestarts = v.invocation, v.statusText, v.errno, v.nRestarts
	su.Fds = append([]int(nil), v.fds...)
	su.FdNames = append([]string(nil), v.fdNames...)
}

func (v *serviceRun) restore(m *Manager, u *unit, su SavedUnit) bool {
	v.mainPID, v.mainExited, v.mainStatus = su.MainPID, su.MainExited, su.MainStatus
	v.execMain = su.ExecMain
	v.started, v.noPID, v.forbidRestart = su.Started, su.NoPID, su.ForbidRestart
	v.invocation, v.statusText, v.errno, v.nRestarts = su.Invocation, su.StatusText, su.Errno, su.NRestarts
	v.fds, v.fdNames = su.Fds, su.FdNames
	v.conn, v.hasConn = -1, false
	if v.mainPID > 0 {
		m.pids[v.mainPID] = pidRef{u: u, role: "main"}
	}
	if isDBus(u) && isActive(u) {
		// The new reactor has no bus connection yet: follow the
		// name again (taken now: nothing changes; gone: stop).
		m.watchBusName(u)
		v.busOwner = "(before re-exec)"
	}
	return true
}

func (k *socketRun) save(su *SavedUnit) {
	su.SockOpen, su.TriggerStart, su.TriggerCount, su.NConn = k.open, k.triggerStart, k.triggerCount, k.nConn
}

func (k *socketRun) restore(m *Manager, u *unit, su SavedUnit) bool {
	k.open, k.triggerStart, k.triggerCount, k.nConn = su.SockOpen, su.TriggerStart, su.TriggerCount, su.NConn
	return false
}

func (t *timerRun) save(su *SavedUnit) {
	su.TimerActivated, su.TimerLastMono, su.TimerLastReal = t.activated, t.lastMono, t.lastReal
}

func (t *timerRun) restore(m *Manager, u *unit, su SavedUnit) bool {
	t.activated, t.lastMono, t.lastReal = su.TimerActivated, su.TimerLastMono, su.TimerLastReal
	return false
}
