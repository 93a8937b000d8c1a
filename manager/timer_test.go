package manager

import (
	"testing"
	"time"

	"gosd/unitfile"
)

func timerUnit(name string, values ...unitfile.TimerValue) *unitfile.Unit {
	u := baseUnit(name)
	u.Timer = &unitfile.Timer{Values: values, AccuracySec: time.Minute, RemainAfterElapse: true}
	return u
}

func mono(base string, d time.Duration) unitfile.TimerValue {
	return unitfile.TimerValue{Base: base, Span: d}
}

func cal(t *testing.T, spec string) unitfile.TimerValue {
	c, err := unitfile.ParseCalendar(spec)
	if err != nil {
		t.Fatal(err)
	}
	return unitfile.TimerValue{Base: "OnCalendar", Calendar: c}
}

func oneshot(name string) *unitfile.Unit {
	u := svc(name, "oneshot")
	u.Service.TimeoutStartSec = unitfile.Infinity
	return u
}

var wall = time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC)

func lastTimer(effs []Effect, unit string) (SetTimer, bool) {
	st := find[SetTimer](effs)
	for i := len(st) - 1; i >= 0; i-- {
		if st[i].ID.Unit == unit && st[i].ID.Kind == "elapse" {
			return st[i], true
		}
	}
	return SetTimer{}, false
}

// runOnce answers the service's spawn and its exit.
func (h *harness) runOnce(effs []Effect, unit string) []Effect {
	h.t.Helper()
	pids, more := h.spawnAll(effs)
	pid, ok := pids[unit+"/main"]
	if !ok {
		h.t.Fatalf("%s not spawned:\n%s", unit, dump(append(effs, more...)))
	}
	return h.step(Exited{Pid: pid, Status: exited(0)})
}

// OnActiveSec= fires once, relative to the timer's start; the service runs
// while the timer is active/running; then, nothing left to fire, the timer
// is active/elapsed (RemainAfterElapse=yes) or stops (no).
func TestTimerOnActiveSec(t *testing.T) {
	tm := timerUnit("a.timer", mono("OnActiveSec", 5*time.Second))
	tm2 := timerUnit("b.timer", mono("OnActiveSec", 5*time.Second))
	tm2.Timer.RemainAfterElapse = false
	h := newHarness(t, memSource{}.add(target("timers.target", "a.timer", "b.timer"), tm, tm2, oneshot("a.service"), oneshot("b.service")))
	h.advance(time.Second)
	h.step(ClockSet{Realtime: wall})
	effs := h.start("timers.target")
	h.wantState("a.timer", "active/waiting")
	h.wantState("timers.target", "active/active")
	if st, ok := lastTimer(effs, "a.timer"); !ok || st.At != 6*time.Second {
		t.Fatalf("elapse at 6s:\n%s", dump(effs))
	}
	if len(spawnsOf(effs, "a.service")) != 0 {
		t.Fatalf("service started early:\n%s", dump(effs))
	}
	h.advance(5 * time.Second)
	effs = h.step(TimerFired{ID: TimerID{Unit: "a.timer", Kind: "elapse"}})
	h.wantState("a.timer", "active/running")
	effs = h.runOnce(effs, "a.service")
	h.wantState("a.service", "inactive/dead")
	h.wantState("a.timer", "active/elapsed")
	if s, _ := h.m.Status("a.timer"); s.Triggers != "a.service" || !s.LastTrigger.Equal(wall.Add(5*time.Second)) || !s.NextElapse.IsZero() {
		t.Fatalf("status: %+v", s)
	}
	effs = h.step(TimerFired{ID: TimerID{Unit: "b.timer", Kind: "elapse"}})
	h.runOnce(effs, "b.service")
	h.wantState("b.timer", "inactive/dead")
	// Restarting the timer arms OnActiveSec= again, from the new start.
	h.advance(time.Minute)
	h.step(Request{ID: 7, Unit: "a.timer", Kind: JobRestart, Mode: ModeReplace})
	h.wantState("a.timer", "active/waiting")
	if s, _ := h.m.Status("a.timer"); !s.NextElapse.Equal(wall.Add(time.Minute + 10*time.Second)) {
		t.Fatalf("next elapse after restart: %v", s.NextElapse)
	}
}

// systemd-tmpfiles-clean.timer: OnBootSec=15min, OnUnitActiveSec=1d.
func TestTimerBootThenUnitActive(t *testing.T) {
	tm := timerUnit("clean.timer", mono("OnBootSec", 15*time.Minute), mono("OnUnitActiveSec", 24*time.Hour))
	h := newHarness(t, memSource{}.add(tm, oneshot("clean.service")))
	h.step(ClockSet{Realtime: wall, Boot: -10 * time.Minute}) // booted 10 minutes before gosd
	effs := h.start("clean.timer")
	if st, ok := lastTimer(effs, "clean.timer"); !ok || st.At != 5*time.Minute {
		t.Fatalf("OnBootSec from the boot:\n%s", dump(effs))
	}
	h.advance(5 * time.Minute)
	effs = h.step(TimerFired{ID: TimerID{Unit: "clean.timer", Kind: "elapse"}})
	h.advance(time.Second)
	effs = h.runOnce(effs, "clean.service")
	h.wantState("clean.timer", "active/waiting")
	if st, ok := lastTimer(effs, "clean.timer"); !ok || st.At != 5*time.Minute+24*time.Hour {
		t.Fatalf("OnUnitActiveSec from the unit's start:\n%s", dump(effs))
	}
	// The unit started by hand moves the base.
	h.advance(time.Hour)
	effs = h.start("clean.service")
	h.runOnce(effs, "clean.service")
	if s, _ := h.m.Status("clean.timer"); !s.NextElapse.Equal(wall.Add(5*time.Minute + time.Second + time.Hour + 24*time.Hour)) {
		t.Fatalf("next elapse: %v", s.NextElapse)
	}
	h.advance(24 * time.Hour)
	effs = h.step(TimerFired{ID: TimerID{Unit: "clean.timer", Kind: "elapse"}})
	if len(spawnsOf(effs, "clean.service")) != 1 {
		t.Fatalf("second elapse:\n%s", dump(effs))
	}
}

// OnCalendar= needs the wall clock; a clock jump re-plans it.
func TestTimerCalendar(t *testing.T) {
	tm := timerUnit("apt-daily.timer", cal(t, "*-*-* 6,18:00"))
	h := newHarness(t, memSource{}.add(tm, oneshot("apt-daily.service")))
	h.start("apt-daily.timer")
	h.wantState("apt-daily.timer", "active/elapsed") // no wall clock yet
	effs := h.step(ClockSet{Realtime: wall})
	h.wantState("apt-daily.timer", "active/waiting")
	if st, ok := lastTimer(effs, "apt-daily.timer"); !ok || st.At != 2*time.Hour {
		t.Fatalf("18:00 is 2h away:\n%s", dump(effs))
	}
	h.advance(10 * time.Minute)
	effs = h.step(ClockSet{Realtime: wall.Add(70 * time.Minute)}) // the clock jumped an hour forward
	if st, ok := lastTimer(effs, "apt-daily.timer"); !ok || st.At != 10*time.Minute+50*time.Minute {
		t.Fatalf("re-planned after the jump:\n%s", dump(effs))
	}
	h.advance(50 * time.Minute)
	effs = h.step(TimerFired{ID: TimerID{Unit: "apt-daily.timer", Kind: "elapse"}})
	effs = h.runOnce(effs, "apt-daily.service")
	if s, _ := h.m.Status("apt-daily.timer"); !s.NextElapse.Equal(time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("next: %v\n%s", s.NextElapse, dump(effs))
	}
	if len(find[WriteTimerStamp](h.all)) != 0 || len(find[ReadTimerStamp](h.all)) != 0 {
		t.Fatalf("stamps without Persistent=")
	}
}

// Persistent=: a missed elapse since the stamp fires at once; each
// trigger writes the stamp.
func TestTimerPersistent(t *testing.T) {
	tm := timerUnit("fstrim.timer", cal(t, "weekly"))
	tm.Timer.Persistent = true
	h := newHarness(t, memSource{}.add(tm, oneshot("fstrim.service")))
	h.advance(time.Second)
	h.step(ClockSet{Realtime: wall})
	effs := h.start("fstrim.timer")
	if r := find[ReadTimerStamp](effs); len(r) != 1 || r[0].Unit != "fstrim.timer" {
		t.Fatalf("stamp read:\n%s", dump(effs))
	}
	if st, ok := lastTimer(effs, "fstrim.timer"); !ok || st.At != time.Second+8*time.Hour {
		t.Fatalf("next Monday without a stamp:\n%s", dump(effs))
	}
	// Last run two Mondays ago: this Monday's run was missed.
	effs = h.step(TimerStamp{Unit: "fstrim.timer", Last: time.Date(2026, 11, 23, 0, 0, 5, 0, time.UTC)})
	if st, ok := lastTimer(effs, "fstrim.timer"); !ok || st.At != time.Second {
		t.Fatalf("missed run fires at once:\n%s", dump(effs))
	}
	effs = h.step(TimerFired{ID: TimerID{Unit: "fstrim.timer", Kind: "elapse"}})
	if w := find[WriteTimerStamp](effs); len(w) != 1 || !w[0].At.Equal(wall) {
		t.Fatalf("stamp write:\n%s", dump(effs))
	}
	h.runOnce(effs, "fstrim.service")
	if s, _ := h.m.Status("fstrim.timer"); !s.NextElapse.Equal(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("next: %v", s.NextElapse)
	}
}

// RandomizedDelaySec= is a fixed delay per machine and unit.
func TestTimerRandomizedDelay(t *testing.T) {
	delay := func(machine, name string) time.Duration {
		tm := timerUnit(name, mono("OnActiveSec", time.Second))
		tm.Timer.RandomizedDelaySec = 12 * time.Hour
		h := newHarness(t, memSource{}.add(tm, oneshot(timerUnitName(&unit{name: name, def: tm}))))
		h.step(ClockSet{Realtime: wall, MachineID: machine})
		st, ok := lastTimer(h.start(name), name)
		if !ok {
			t.Fatalf("no elapse")
		}
		return st.At - time.Second
	}
	a, b, c := delay("m1", "x.timer"), delay("m1", "x.timer"), delay("m2", "x.timer")
	if a != b || a < 0 || a >= 12*time.Hour || a == c {
		t.Fatalf("delays %v %v %v", a, b, c)
	}
}

// systemd.timer(5) implicit and default dependencies, only on units that
// exist; a timer whose unit is missing fails to start.
func TestTimerDependencies(t *testing.T) {
	tm := timerUnit("c.timer", cal(t, "daily"))
	m := timerUnit("m.timer", mono("OnActiveSec", time.Second))
	m.Timer.Unit = "missing.service"
	h := newHarness(t, memSource{}.add(tm, m, oneshot("c.service"), target("sysinit.target"), target("timers.target"),
		target("shutdown.target"), target("time-sync.target")))
	c := h.m.units["c.timer"]
	has := func(list []*unit, name string) bool {
		for _, x := range list {
			if x.name == name {
				return true
			}
		}
		return false
	}
	if !has(c.deps[depAfter], "sysinit.target") || !has(c.deps[depRequires], "sysinit.target") || !has(c.deps[depBefore], "timers.target") ||
		!has(c.deps[depConflicts], "shutdown.target") || !has(c.deps[depBefore], "shutdown.target") || !has(c.deps[depAfter], "time-sync.target") ||
		has(c.deps[depAfter], "time-set.target") || !has(c.deps[depBefore], "c.service") || !has(c.deps[depTriggers], "c.service") {
		t.Fatalf("edges: after %v before %v", names(c.deps[depAfter]), names(c.deps[depBefore]))
	}
	if mt := h.m.units["m.timer"]; has(mt.deps[depAfter], "time-sync.target") {
		t.Fatalf("time-sync.target for a monotonic timer")
	}
	effs := h.start("m.timer")
	h.wantState("m.timer", "failed/failed")
	if !hasLog(effs, "unit missing.service to trigger not loaded") {
		t.Fatalf("no reason:\n%s", dump(effs))
	}
}

func names(list []*unit) []string {
	var out []string
	for _, u := range list {
		out = append(out, u.name)
	}
	return out
}

// Review findings (each failed before its fix).

// A trigger at infinity is never, not "now": the unit runs once (its
// OnActiveSec=) and the timer does not re-arm at the current instant.
func TestTimerInfinityIsNever(t *testing.T) {
	tm := timerUnit("i.timer", mono("OnActiveSec", time.Second), mono("OnUnitActiveSec", unitfile.Infinity))
	h := newHarness(t, memSource{}.add(tm, oneshot("i.service")))
	h.step(ClockSet{Realtime: wall})
	h.start("i.timer")
	h.advance(time.Second)
	effs := h.runOnce(h.step(TimerFired{ID: TimerID{Unit: "i.timer", Kind: "elapse"}}), "i.service")
	if st, ok := lastTimer(effs, "i.timer"); ok {
		t.Fatalf("re-armed at %v (now %v) for an infinite span:\n%s", st.At, h.now, dump(effs))
	}
	h.wantState("i.timer", "active/elapsed")
}

// daemon-reload: a changed OnCalendar= re-plans at once; a removed timer
// file stops the timer, and later clock reports and stale elapses are
// harmless (they panicked).
func TestTimerReload(t *testing.T) {
	h := newHarness(t, memSource{}.add(timerUnit("r.timer", cal(t, "*-*-* 17:00")), oneshot("r.service")))
	h.step(ClockSet{Realtime: wall}) // 16:00
	h.start("r.timer")
	effs := h.step(Reload{Units: memSource{}.add(timerUnit("r.timer", cal(t, "*-*-* 16:30")), oneshot("r.service"))})
	if st, ok := lastTimer(effs, "r.timer"); !ok || st.At != 30*time.Minute {
		t.Fatalf("not re-planned for 16:30 after the reload:\n%s", dump(effs))
	}
	h.step(Reload{Units: memSource{}.add(oneshot("r.service"))})
	h.step(ClockSet{Realtime: wall.Add(time.Minute)})
	h.advance(time.Hour)
	h.step(TimerFired{ID: TimerID{Unit: "r.timer", Kind: "elapse"}})
	h.wantState("r.timer", "inactive/dead")
}

// A non-persistent timer stopped across its elapse and started again
// plans the next one, as systemd forgets the last trigger at start.
func TestTimerRestartDoesNotFireMissed(t *testing.T) {
	h := newHarness(t, memSource{}.add(timerUnit("d.timer", cal(t, "*-*-* 17:00")), oneshot("d.service")))
	h.step(ClockSet{Realtime: wall}) // 16:00
	h.start("d.timer")
	h.advance(time.Hour)
	h.runOnce(h.step(TimerFired{ID: TimerID{Unit: "d.timer", Kind: "elapse"}}), "d.service")
	h.step(Request{ID: 9, Unit: "d.timer", Kind: JobStop, Mode: ModeReplace})
	h.advance(49 * time.Hour) // two days later, 18:00
	effs := h.start("d.timer")
	if st, ok := lastTimer(effs, "d.timer"); !ok || st.At != h.now+23*time.Hour {
		t.Fatalf("want the next 17:00 (23 h ahead), got:\n%s", dump(effs))
	}
}

// A Persistent= stamp in the future is not used; the clock set back past
// the last trigger counts from the new time.
func TestTimerFutureStampAndClockBack(t *testing.T) {
	tm := timerUnit("p.timer", cal(t, "daily"))
	tm.Timer.Persistent = true
	h := newHarness(t, memSource{}.add(tm, oneshot("p.service")))
	h.step(ClockSet{Realtime: wall})
	h.start("p.timer")
	h.step(TimerStamp{Unit: "p.timer", Last: wall.AddDate(3, 0, 0)})
	if s, _ := h.m.Status("p.timer"); !s.NextElapse.Equal(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("future stamp used: next elapse %v", s.NextElapse)
	}

	b := newHarness(t, memSource{}.add(timerUnit("b.timer", cal(t, "*-*-* 17:00")), oneshot("b.service")))
	b.step(ClockSet{Realtime: wall.AddDate(0, 1, 0)}) // a month ahead
	b.start("b.timer")
	b.advance(time.Hour)
	b.runOnce(b.step(TimerFired{ID: TimerID{Unit: "b.timer", Kind: "elapse"}}), "b.service")
	b.advance(time.Minute)
	b.step(ClockSet{Realtime: wall.Add(61 * time.Minute)}) // set back: 17:01 on the 6th
	if s, _ := b.m.Status("b.timer"); !s.NextElapse.Equal(time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the clock went back: next elapse %v, want 2026-12-07 17:00", s.NextElapse)
	}
}

// OnUnitActiveSec= alone, RemainAfterElapse=no, the unit never ran: the
// timer stays (elapsed) and plans once the unit runs (systemd's
// leave_around).
func TestTimerUnitRelativeWaitsForUnit(t *testing.T) {
	tm := timerUnit("u.timer", mono("OnUnitActiveSec", time.Hour))
	tm.Timer.RemainAfterElapse = false
	h := newHarness(t, memSource{}.add(tm, oneshot("u.service")))
	h.step(ClockSet{Realtime: wall})
	h.start("u.timer")
	h.wantState("u.timer", "active/elapsed")
	h.advance(time.Minute)
	h.runOnce(h.start("u.service"), "u.service")
	h.wantState("u.timer", "active/waiting")
}
