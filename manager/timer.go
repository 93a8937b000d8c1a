package manager

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"gosd/unitfile"
)

// Timer units (systemd.timer(5)). The manager has no clock: monotonic
// triggers are computed on the event's now, and calendar triggers on the
// wall clock the reactor reports with ClockSet (realtime at a monotonic
// instant). Every next elapse, monotonic or calendar, becomes one
// monotonic deadline, the "elapse" timer; a ClockSet re-plans it.
//
// Where gosd differs from systemd, on purpose:
//   - AccuracySec= only widens the window systemd may fire in; gosd fires at
//     the elapse itself, which is inside every window.
//   - RandomizedDelaySec= is not random: the delay is a hash of the machine
//     id (ClockSet.MachineID) and the unit name modulo the setting, that is
//     FixedRandomDelay=yes semantics always, so Step stays deterministic.
//     It still spreads timers across units and machines.

// timerRun is the runtime state of a timer unit.
type timerRun struct {
	baseType
	activated time.Duration // monotonic time the timer last started
	// lastMono/lastReal: the last trigger (0/zero: never). lastReal may
	// come from the Persistent= stamp.
	lastMono time.Duration
	lastReal time.Time
	// initial: the next plan is the first since the timer started
	// (elapsed OnActiveSec=/OnBootSec=/OnStartupSec= still count).
	initial bool
	next    time.Duration // planned monotonic elapse; valid when planned
	planned bool
}

// timerType registers timer units (unitTypes).
var timerType = typeEntry{
	has:  func(d *unitfile.Unit) bool { return d.Timer != nil },
	make: func(u *unit) unitVTable { u.tmr = &timerRun{}; return u.tmr },
}

func (*timerRun) activeOf(sub SubState) ActiveState {
	switch sub {
	case SubDead:
		return ActiveInactive
	case SubFailed:
		return ActiveFailed
	}
	return ActiveActive // waiting, running, elapsed
}

func (*timerRun) addDeps(m *Manager, u *unit, implicit func(string, ...dep)) {
	if u.def.Unit.DefaultDependencies {
		// systemd.timer(5) "Implicit Dependencies" and "Default
		// Dependencies"; the time targets only for OnCalendar=.
		implicit("sysinit.target", depRequires, depAfter)
		implicit("timers.target", depBefore)
		implicit("shutdown.target", depConflicts, depBefore)
		if t := u.def.Timer; t != nil && hasCalendar(t) {
			implicit("time-set.target", depAfter)
			implicit("time-sync.target", depAfter)
		}
	}
	if u.def.Timer != nil {
		// A timer is Before= the unit it activates.
		target := m.load(timerUnitName(u))
		m.edge(target, u, depAfter)
		m.edge(u, target, depTriggers)
	}
}

func (*timerRun) startable(m *Manager, u *unit) bool { return u.sub == SubDead || u.sub == SubFailed }
func (*timerRun) start(m *Manager, u *unit)          { m.timerStart(u) }

func (*timerRun) stop(m *Manager, u *unit, restart bool) {
	delete(m.pendingChecks, u.name)
	m.timerStop(u)
}

func (*timerRun) timer(m *Manager, u *unit, kind string) {
	if kind != "elapse" {
		m.logf(u, LevelDebug, "ignoring timer %s", kind)
		return
	}
	m.timerElapsed(u)
}

func (t *timerRun) status(m *Manager, u *unit, s *UnitStatus) {
	s.Triggers = timerUnitName(u)
	s.LastTrigger = t.lastReal
	if t.planned {
		s.NextElapse, _ = m.realAt(t.next)
	}
}

func (*timerRun) reloaded(m *Manager, u *unit)               { m.reloadTimer(u) }
func (*timerRun) triggerChanged(m *Manager, u, target *unit) { m.timerTriggerChanged(u, target) }

func timerUnitName(u *unit) string {
	if t := u.def.Timer; t != nil && t.Unit != "" {
		return t.Unit
	}
	return strings.TrimSuffix(u.name, ".timer") + ".service"
}

func hasCalendar(d *unitfile.Timer) bool {
	for _, v := range d.Values {
		if v.Calendar != nil {
			return true
		}
	}
	return false
}

// realAt is the wall-clock time of monotonic time mono; ok is false before
// the first ClockSet.
func (m *Manager) realAt(mono time.Duration) (time.Time, bool) {
	if m.clock.Realtime.IsZero() {
		return time.Time{}, false
	}
	return m.clock.Realtime.Add(mono - m.clockMono), true
}

func (m *Manager) onClockSet(e ClockSet) {
	if e.Realtime.IsZero() {
		m.logf(nil, LevelWarning, "ignoring clock report without a time")
		return
	}
	m.clock, m.clockMono = e, m.now
	for _, u := range m.loadOrder {
		if u.tmr == nil || u.def.Timer == nil {
			continue
		}
		// The clock went back past the last trigger (systemd's
		// timer_time_change): count from now, or a daily timer would
		// wait until the old date comes round again.
		if u.tmr.lastReal.After(e.Realtime) {
			u.tmr.lastReal = e.Realtime
		}
		if u.sub == SubWaiting || u.sub == SubElapsed {
			m.timerPlan(u)
		}
	}
}

// reloadTimer follows a daemon-reload: a timer whose definition is gone
// stops, one that changed re-plans with its new values.
func (m *Manager) reloadTimer(u *unit) {
	if u.def.Timer == nil {
		m.timerStop(u)
		u.tmr, u.impl = nil, &plainUnit{}
		return
	}
	if u.sub == SubWaiting || u.sub == SubElapsed {
		m.timerPlan(u)
	}
}

// addSat adds two durations (b non-negative); ok is false when the sum would
// reach unitfile.Infinity ("never": infinity, or a date centuries away).
func addSat(a, b time.Duration) (time.Duration, bool) {
	if a >= unitfile.Infinity || b >= unitfile.Infinity || a > unitfile.Infinity-b {
		return 0, false
	}
	return a + b, true
}

func (m *Manager) timerStart(u *unit) {
	target := m.load(timerUnitName(u))
	if target.def.LoadState != unitfile.Loaded {
		m.logAt(u, "Unit", LevelError, "Refusing to start, unit %s to trigger not loaded.", target.name)
		u.result = "resources"
		m.setState(u, SubFailed)
		if j := u.job; j != nil && j.running {
			m.finishJob(j, ResultFailed) // it was failed already: no state change ended it
		}
		return
	}
	r := u.tmr
	r.activated, r.initial = m.now, true
	// As systemd's timer_start: the last trigger is forgotten, and only a
	// Persistent= stamp brings it back.
	r.lastMono, r.lastReal = 0, time.Time{}
	u.result = "success"
	if u.def.Timer.Persistent {
		m.emit(ReadTimerStamp{Unit: u.name})
	}
	m.setState(u, SubWaiting)
	if u.sub == SubWaiting { // a start job's end may have changed it already
		m.timerPlan(u)
	}
}

func (m *Manager) timerStop(u *unit) {
	m.cancelTimer(u, "elapse")
	u.tmr.planned = false
	if u.result == "" {
		u.result = "success"
	}
	m.setState(u, SubDead)
}

func (m *Manager) onTimerStamp(e TimerStamp) {
	u := m.units[e.Unit]
	if u == nil || u.tmr == nil {
		m.logf(nil, LevelDebug, "ignoring timer stamp of %s", e.Unit)
		return
	}
	if e.Last.IsZero() || !e.Last.After(u.tmr.lastReal) {
		return
	}
	if now, ok := m.realAt(m.now); ok && e.Last.After(now) {
		m.logf(u, LevelWarning, "Not using persistent file timestamp %s as it is in the future.", e.Last.UTC().Format(time.RFC3339))
		return
	}
	u.tmr.lastReal = e.Last
	if u.sub == SubWaiting {
		m.timerPlan(u)
	}
}

// randomDelay is RandomizedDelaySec= as FixedRandomDelay=yes computes it:
// the same delay for this unit on this machine every time.
func (m *Manager) randomDelay(u *unit) time.Duration {
	max := u.def.Timer.RandomizedDelaySec
	if max <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(m.clock.MachineID))
	h.Write([]byte{0})
	h.Write([]byte(u.name))
	return time.Duration(h.Sum64() % uint64(max))
}

// timerPlan computes the next elapse of a waiting timer from all its
// values and arms it; with none left the timer is elapsed (or stops,
// RemainAfterElapse=no), as systemd's timer_enter_waiting does.
func (m *Manager) timerPlan(u *unit) {
	d, r := u.def.Timer, u.tmr
	target := m.load(timerUnitName(u))
	initial := r.initial
	r.initial = false
	best, found := time.Duration(0), false
	// leaveAround: a trigger relative to the unit waits for the unit's
	// first run, so the timer stays (elapsed) even with
	// RemainAfterElapse=no, as systemd's leave_around.
	leaveAround := false
	consider := func(at time.Duration) {
		if !found || at < best {
			best, found = at, true
		}
	}
	for _, v := range d.Values {
		if v.Calendar != nil {
			base, ok := m.realAt(r.activated)
			if !ok {
				continue // no wall clock yet: a ClockSet re-plans
			}
			if !r.lastReal.IsZero() {
				base = r.lastReal
			}
			next, ok := v.Calendar.Next(base)
			if !ok {
				continue
			}
			if d := next.Sub(m.clock.Realtime); d < 0 {
				consider(m.clockMono + d)
			} else if at, ok := addSat(m.clockMono, d); ok {
				consider(at)
			}
			continue
		}
		var base time.Duration
		switch v.Base {
		case "OnActiveSec":
			base = r.activated
		case "OnBootSec":
			base = m.clock.Boot
		case "OnStartupSec":
			base = 0
		case "OnUnitActiveSec", "OnUnitInactiveSec":
			if v.Base == "OnUnitActiveSec" {
				base = target.inactiveExit
			} else {
				base = target.inactiveEnter
			}
			base = max(base, r.lastMono)
			if base <= 0 {
				leaveAround = true
				continue // the unit never ran: nothing to be relative to
			}
		default:
			continue
		}
		at, ok := addSat(base, v.Span)
		if !ok {
			continue // infinity: never
		}
		// A one-time trigger that already fired is done, unless the timer
		// was (re)started just now.
		if !initial && at <= r.lastMono && (v.Base == "OnActiveSec" || v.Base == "OnBootSec" || v.Base == "OnStartupSec") {
			continue
		}
		consider(at)
	}
	if found {
		best, found = addSat(best, m.randomDelay(u))
	}
	if !found {
		m.cancelTimer(u, "elapse")
		r.planned = false
		if d.RemainAfterElapse || leaveAround {
			m.setState(u, SubElapsed)
			return
		}
		m.timerStop(u)
		return
	}
	_, armed := u.timers["elapse"]
	if armed && r.planned && r.next == best {
		m.setState(u, SubWaiting)
		return // unchanged: no new SetTimer
	}
	r.next, r.planned = best, true
	m.setState(u, SubWaiting)
	m.setTimer(u, "elapse", max(best, m.now))
}

// timerElapsed starts the timer's unit (a start job, mode replace, as
// systemd enqueues it) and waits for that unit to finish.
func (m *Manager) timerElapsed(u *unit) {
	if u.sub != SubWaiting {
		return
	}
	r := u.tmr
	r.planned = false
	r.lastMono = m.now
	if rt, ok := m.realAt(m.now); ok {
		r.lastReal = rt
		if u.def.Timer.Persistent {
			m.emit(WriteTimerStamp{Unit: u.name, At: rt})
		}
	}
	target := m.load(timerUnitName(u))
	if s := target.svc; s != nil && isInactive(target) {
		// systemd.exec(5) TRIGGER_*: the timer and when it elapsed.
		s.trigger = []string{"TRIGGER_UNIT=" + u.name,
			"TRIGGER_TIMER_MONOTONIC_USEC=" + strconv.FormatInt(int64((m.now-m.clock.Boot)/time.Microsecond), 10)}
		if rt, ok := m.realAt(m.now); ok {
			s.trigger = append(s.trigger, "TRIGGER_TIMER_REALTIME_USEC="+strconv.FormatInt(rt.UnixMicro(), 10))
		}
	}
	m.setState(u, SubRunning)
	m.logf(u, LevelDebug, "Timer elapsed, starting %s", target.name)
	m.request(0, target.name, JobStart, ModeReplace)
	if target.job == nil && !isActive(target) && target.active != ActiveActivating {
		// Refused (or already over): plan the next elapse rather than
		// wait for a unit that will not change.
		m.timerPlan(u)
	}
}

// timerTriggerChanged follows the triggered unit: a running timer waits
// again once the unit is down; a waiting one re-plans, since
// OnUnitActiveSec=/OnUnitInactiveSec= count from the unit's transitions.
func (m *Manager) timerTriggerChanged(t *unit, target *unit) {
	if t.tmr == nil || target.name != timerUnitName(t) {
		return
	}
	switch t.sub {
	case SubRunning:
		if isInactive(target) {
			m.timerPlan(t)
		}
	case SubWaiting, SubElapsed:
		m.timerPlan(t)
	}
}
