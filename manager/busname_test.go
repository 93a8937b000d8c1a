package manager

import (
	"testing"
	"time"

	"gosd/unitfile"
)

func dbusSvc(name, bus string) *unitfile.Unit {
	u := svc(name, "dbus")
	u.Service.BusName = bus
	return u
}

// A Type=dbus service is activating until its name has an owner; a unit
// ordered after it starts only then; the name going away stops it.
func TestDBusUpWhenNameAcquired(t *testing.T) {
	a := dbusSvc("a.service", "org.example.A")
	b := svc("b.service", "simple")
	b.Unit.After = []string{"a.service"}
	h := newHarness(t, memSource{}.add(a, b, target("t.target", "a.service", "b.service")))
	pids, _ := h.spawnAll(h.start("t.target"))
	h.wantState("a.service", "activating/start")
	h.wantState("b.service", "inactive/dead")
	if w := find[WatchBusName](h.all); len(w) != 1 || w[0] != (WatchBusName{Unit: "a.service", Name: "org.example.A"}) {
		t.Fatalf("want one WatchBusName:\n%s", dump(h.all))
	}
	if !hasLog(h.all, "Waiting for bus name org.example.A") {
		t.Fatal("no log line about waiting for the name")
	}
	// Another name, and "no owner", change nothing.
	h.step(BusNameOwner{Name: "org.example.Other", Owner: ":1.3"})
	h.step(BusNameOwner{Name: "org.example.A", Owner: ""})
	h.wantState("a.service", "activating/start")

	effs := h.step(BusNameOwner{Name: "org.example.A", Owner: ":1.7"})
	h.wantState("a.service", "active/running")
	if len(spawnsOf(effs, "b.service")) != 1 {
		t.Fatalf("b not started once a's name appeared:\n%s", dump(effs))
	}
	h.spawnAll(effs)
	h.wantState("b.service", "active/running")
	h.wantJob("t.target", ResultDone)

	// The same owner again (GetNameOwner and the signal) changes nothing.
	if effs := h.step(BusNameOwner{Name: "org.example.A", Owner: ":1.7"}); len(find[UnitChanged](effs)) != 0 {
		t.Fatalf("repeated owner changed state:\n%s", dump(effs))
	}

	// Released: stopped (result success), the watch ends.
	effs = h.step(BusNameOwner{Name: "org.example.A", Owner: ""})
	h.wantState("a.service", "deactivating/stop-sigterm")
	if k := find[Kill](effs); len(k) == 0 || k[0].Signal != sigTERM() {
		t.Fatalf("want SIGTERM after the name was released:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	h.wantState("a.service", "inactive/dead")
	if u := find[UnwatchBusName](effs); len(u) != 1 || u[0].Name != "org.example.A" {
		t.Fatalf("want UnwatchBusName:\n%s", dump(effs))
	}
	// b is only ordered after a: it stays.
	h.wantState("b.service", "active/running")
}

// A name that is already taken counts at once (the reactor reports the
// owner right after WatchBusName).
func TestDBusNameAlreadyTaken(t *testing.T) {
	h := newHarness(t, memSource{}.add(dbusSvc("a.service", "org.example.A")))
	h.spawnAll(h.start("a.service"))
	h.step(BusNameOwner{Name: "org.example.A", Owner: ":1.1"})
	h.wantState("a.service", "active/running")
	h.wantJob("a.service", ResultDone)
}

// TimeoutStartSec= applies while waiting for the name.
func TestDBusNameTimeout(t *testing.T) {
	a := dbusSvc("a.service", "org.example.A")
	a.Service.TimeoutStartSec = 5 * time.Second
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.advance(5 * time.Second)
	h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "state"}})
	h.wantState("a.service", "deactivating/stop-sigterm")
	if !hasLog(h.all, "Bus name org.example.A was not acquired") {
		t.Fatalf("no log line about the name:\n%s", dump(h.all))
	}
	h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	h.wantState("a.service", "failed/failed")
	h.wantJob("a.service", ResultFailed)
	if s, _ := h.m.Status("a.service"); s.Result != "timeout" {
		t.Fatalf("result %q, want timeout", s.Result)
	}
	if len(find[UnwatchBusName](h.all)) != 1 {
		t.Fatalf("want UnwatchBusName:\n%s", dump(h.all))
	}
}

// The main process exiting before the name appears: as systemd's
// service_enter_running, a failure fails the unit, a clean exit stops it
// (inactive, not failed), RemainAfterExit= keeps it active (exited).
func TestDBusMainExitsBeforeName(t *testing.T) {
	for _, tc := range []struct {
		status WaitStatus
		remain bool
		state  string
		job    JobResult
	}{
		{exited(1), false, "failed/failed", ResultFailed},
		{exited(0), false, "inactive/dead", ResultDone},
		{exited(0), true, "active/exited", ResultDone},
	} {
		a := dbusSvc("a.service", "org.example.A")
		a.Service.RemainAfterExit = tc.remain
		h := newHarness(t, memSource{}.add(a))
		pids, _ := h.spawnAll(h.start("a.service"))
		effs := h.step(Exited{Pid: pids["a.service/main"], Status: tc.status})
		h.spawnAll(effs)
		h.wantState("a.service", tc.state)
		h.wantJob("a.service", tc.job)
		// A late owner report changes nothing.
		h.step(BusNameOwner{Name: "org.example.A", Owner: ":1.9"})
		h.wantState("a.service", tc.state)
	}
}

// RemainAfterExit=: a released name leaves the service active (exited),
// as systemd's service_enter_running does.
func TestDBusReleasedRemainAfterExit(t *testing.T) {
	a := dbusSvc("a.service", "org.example.A")
	a.Service.RemainAfterExit = true
	h := newHarness(t, memSource{}.add(a))
	h.spawnAll(h.start("a.service"))
	h.step(BusNameOwner{Name: "org.example.A", Owner: ":1.2"})
	h.wantState("a.service", "active/running")
	h.step(BusNameOwner{Name: "org.example.A", Owner: ""})
	h.wantState("a.service", "active/exited")
}

// A restart unwatches and watches the name again, so the new process's
// name is waited for afresh.
func TestDBusRestartWatchesAgain(t *testing.T) {
	h := newHarness(t, memSource{}.add(dbusSvc("a.service", "org.example.A")))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.step(BusNameOwner{Name: "org.example.A", Owner: ":1.2"})
	h.wantState("a.service", "active/running")
	effs := h.step(Request{ID: 2, Unit: "a.service", Kind: JobRestart, Mode: ModeReplace})
	effs = append(effs, h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})...)
	h.spawnAll(effs)
	h.wantState("a.service", "activating/start")
	if w := find[WatchBusName](h.all); len(w) != 2 {
		t.Fatalf("want a second WatchBusName:\n%s", dump(h.all))
	}
	h.step(BusNameOwner{Name: "org.example.A", Owner: ":1.3"})
	h.wantState("a.service", "active/running")
}

// After daemon-reexec the new reactor has no bus connection: a running
// Type=dbus service is watched again; its name still taken changes
// nothing, its name gone stops it.
func TestDBusRestoreWatchesAgain(t *testing.T) {
	for _, owner := range []string{":1.5", ""} {
		src := memSource{}.add(dbusSvc("a.service", "org.example.A"))
		h := newHarness(t, src)
		h.spawnAll(h.start("a.service"))
		h.step(BusNameOwner{Name: "org.example.A", Owner: ":1.2"})
		saved, err := h.m.Save()
		if err != nil {
			t.Fatal(err)
		}
		m2 := New(src)
		effs, _ := m2.Restore(h.now, saved)
		if w := find[WatchBusName](effs); len(w) != 1 || w[0].Name != "org.example.A" {
			t.Fatalf("want WatchBusName after restore:\n%s", dump(effs))
		}
		m2.Step(h.now, BusNameOwner{Name: "org.example.A", Owner: owner})
		st, _ := m2.Status("a.service")
		want := "running"
		if owner == "" {
			want = "stop-sigterm"
		}
		if st.Sub != want {
			t.Fatalf("owner %q after restore: %s/%s, want %s", owner, st.Active, st.Sub, want)
		}
	}
}

// daemon-reload with a new BusName=: the running service follows the new
// name (its release stops the unit), the old one is no longer watched.
func TestDBusReloadFollowsNewName(t *testing.T) {
	h := newHarness(t, memSource{}.add(dbusSvc("a.service", "org.example.Old")))
	h.spawnAll(h.start("a.service"))
	h.step(BusNameOwner{Name: "org.example.Old", Owner: ":1.1"})
	h.wantState("a.service", "active/running")

	effs := h.step(Reload{Units: memSource{}.add(dbusSvc("a.service", "org.example.New"))})
	if u := find[UnwatchBusName](effs); len(u) != 1 || u[0].Name != "org.example.Old" {
		t.Fatalf("want the old name unwatched:\n%s", dump(effs))
	}
	if w := find[WatchBusName](effs); len(w) != 1 || w[0].Name != "org.example.New" {
		t.Fatalf("want the new name watched:\n%s", dump(effs))
	}
	h.step(BusNameOwner{Name: "org.example.Old", Owner: ""})
	h.wantState("a.service", "active/running")
	h.step(BusNameOwner{Name: "org.example.New", Owner: ":1.1"})
	h.step(BusNameOwner{Name: "org.example.New", Owner: ""})
	h.wantState("a.service", "deactivating/stop-sigterm")

	// No longer Type=dbus after a reload: not followed any more.
	h2 := newHarness(t, memSource{}.add(dbusSvc("b.service", "org.example.B")))
	h2.spawnAll(h2.start("b.service"))
	h2.step(BusNameOwner{Name: "org.example.B", Owner: ":1.2"})
	effs = h2.step(Reload{Units: memSource{}.add(svc("b.service", "simple"))})
	if u := find[UnwatchBusName](effs); len(u) != 1 {
		t.Fatalf("want the name unwatched:\n%s", dump(effs))
	}
	h2.step(BusNameOwner{Name: "org.example.B", Owner: ""})
	h2.wantState("b.service", "active/running")
}
