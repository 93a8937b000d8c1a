package manager

import (
	"testing"
	"time"
)

// Boot: a target wants a simple service, a oneshot and a notify service;
// the simple one is After the oneshot, so it waits for it to finish.
func TestBootTargetOrdering(t *testing.T) {
	a := svc("a.service", "oneshot")
	b := svc("b.service", "simple")
	b.Unit.After = []string{"a.service"}
	n := svc("n.service", "notify")
	src := memSource{}.add(target("multi-user.target", "a.service", "b.service", "n.service"), a, b, n)
	h := newHarness(t, src)
	effs := h.start("multi-user.target")
	if len(spawnsOf(effs, "b.service")) != 0 {
		t.Fatalf("b spawned before a finished:\n%s", dump(effs))
	}
	if len(spawnsOf(effs, "a.service")) != 1 || len(spawnsOf(effs, "n.service")) != 1 {
		t.Fatalf("a and n must be spawned at once:\n%s", dump(effs))
	}
	pids, _ := h.spawnAll(effs)
	h.wantState("a.service", "activating/start")
	h.wantState("n.service", "activating/start")
	h.wantState("multi-user.target", "inactive/dead")
	effs = h.step(Exited{Pid: pids["a.service/main"], Status: exited(0)})
	h.wantState("a.service", "inactive/dead")
	h.wantJob("a.service", ResultDone)
	if len(spawnsOf(effs, "b.service")) != 1 {
		t.Fatalf("b not spawned after a finished:\n%s", dump(effs))
	}
	h.wantState("b.service", "active/running")
	h.spawnAll(effs)
	h.wantState("multi-user.target", "inactive/dead")
	h.step(Notify{Pid: pids["n.service/main"], Fields: [][2]string{{"READY", "1"}, {"STATUS", "up"}}})
	h.wantState("n.service", "active/running")
	h.wantState("multi-user.target", "active/active")
	h.wantJob("multi-user.target", ResultDone)
	if s, _ := h.m.Status("n.service"); s.StatusText != "up" || s.MainPID != pids["n.service/main"] {
		t.Fatalf("status %+v", s)
	}
	// JobStarted and JobFinished bracket every job.
	if st, fin := len(find[JobStarted](h.all)), len(find[JobFinished](h.all)); st != 4 || fin != 4 {
		t.Fatalf("jobs started %d finished %d", st, fin)
	}
}

func TestRequiresFailurePropagates(t *testing.T) {
	a := svc("a.service", "oneshot")
	b := svc("b.service", "simple")
	b.Unit.Requires = []string{"a.service"}
	b.Unit.After = []string{"a.service"}
	c := svc("c.service", "simple")
	c.Unit.Wants = []string{"a.service"}
	c.Unit.After = []string{"a.service"}
	h := newHarness(t, memSource{}.add(target("t.target", "b.service", "c.service"), a, b, c))
	pids, _ := h.spawnAll(h.start("t.target"))
	effs := h.step(Exited{Pid: pids["a.service/main"], Status: exited(3)})
	h.wantState("a.service", "failed/failed")
	h.wantJob("a.service", ResultFailed)
	h.wantJob("b.service", ResultDependency)
	h.wantState("b.service", "inactive/dead")
	// Wants= only orders: c starts anyway.
	if len(spawnsOf(effs, "c.service")) != 1 {
		t.Fatalf("c not started:\n%s", dump(effs))
	}
	if !hasLog(effs, "Dependency failed for b.service") {
		t.Fatalf("no dependency log:\n%s", dump(effs))
	}
	if s, _ := h.m.Status("a.service"); s.Result != "exit-code" {
		t.Fatalf("result %q", s.Result)
	}
}

func TestMissingRequiresAndWants(t *testing.T) {
	b := svc("b.service", "simple")
	b.Unit.Requires = []string{"missing.service"}
	c := svc("c.service", "simple")
	c.Unit.Wants = []string{"gone.service"}
	h := newHarness(t, memSource{}.add(target("t.target", "b.service", "c.service"), b, c))
	effs := h.start("t.target")
	h.wantJob("b.service", ResultDependency)
	if len(spawnsOf(effs, "b.service")) != 0 || len(spawnsOf(effs, "c.service")) != 1 {
		t.Fatalf("spawns wrong:\n%s", dump(effs))
	}
	effs = h.step(Request{ID: 7, Unit: "nope.service", Kind: JobStart})
	f := find[JobFinished](effs)
	if len(f) != 1 || f[0].ID != 7 || f[0].Result != ResultFailed || f[0].Error == "" {
		t.Fatalf("missing unit request: %+v", f)
	}
}

func TestStopAndShutdownExit(t *testing.T) {
	a := svc("a.service", "simple")
	b := svc("b.service", "simple")
	b.Unit.After = []string{"a.service"}
	h := newHarness(t, memSource{}.add(target("t.target", "a.service", "b.service"), a, b))
	pids, _ := h.spawnAll(h.start("t.target"))
	h.wantState("t.target", "active/active")
	effs := h.step(Shutdown{Action: "poweroff"})
	// b is After a: b stops first, a waits.
	kills := find[Kill](effs)
	if len(kills) != 1 || kills[0].Unit != "b.service" || kills[0].Signal != sigTERM() || !kills[0].Group {
		t.Fatalf("want one SIGTERM to b first:\n%s", dump(effs))
	}
	h.wantState("b.service", "deactivating/stop-sigterm")
	h.wantState("a.service", "active/running")
	effs = h.step(Exited{Pid: pids["b.service/main"], Status: killed(sigTERM())})
	h.wantState("b.service", "inactive/dead")
	if k := find[Kill](effs); len(k) != 1 || k[0].Unit != "a.service" {
		t.Fatalf("a not signalled after b stopped:\n%s", dump(effs))
	}
	if len(find[Exit](effs)) != 0 {
		t.Fatal("exit too early")
	}
	effs = h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	ex := find[Exit](effs)
	if len(ex) != 1 || ex[0].Action != "poweroff" || ex[0].Code != 0 {
		t.Fatalf("no Exit:\n%s", dump(effs))
	}
	h.wantState("a.service", "inactive/dead")
}

func TestStopTimeoutSIGKILL(t *testing.T) {
	a := svc("a.service", "simple")
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	h.advance(90 * time.Second)
	effs := h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "state"}})
	if k := find[Kill](effs); len(k) != 1 || k[0].Signal != sigKILL() {
		t.Fatalf("want SIGKILL:\n%s", dump(effs))
	}
	h.wantState("a.service", "deactivating/stop-sigkill")
	h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigKILL())})
	h.wantState("a.service", "failed/failed")
	if s, _ := h.m.Status("a.service"); s.Result != "timeout" {
		t.Fatalf("result %q", s.Result)
	}
	h.wantJob("a.service", ResultDone) // the first: start job
}

func TestRestartOnFailure(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.Restart = "on-failure"
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	effs := h.step(Exited{Pid: pids["a.service/main"], Status: exited(1)})
	h.wantState("a.service", "activating/auto-restart")
	tm := find[SetTimer](effs)
	if len(tm) == 0 || tm[len(tm)-1].ID.Kind != "restart" || tm[len(tm)-1].At != h.now+100*time.Millisecond {
		t.Fatalf("no restart timer:\n%s", dump(effs))
	}
	h.advance(100 * time.Millisecond)
	effs = h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "restart"}})
	if len(spawnsOf(effs, "a.service")) != 1 {
		t.Fatalf("not restarted:\n%s", dump(effs))
	}
	h.wantState("a.service", "active/running")
	if s, _ := h.m.Status("a.service"); s.NRestarts != 1 {
		t.Fatalf("NRestarts %d", s.NRestarts)
	}
	// Clean exit: on-failure does not restart.
	pids, _ = h.spawnAll(effs)
	h.step(Exited{Pid: pids["a.service/main"], Status: exited(0)})
	h.wantState("a.service", "inactive/dead")
}

func TestManualStopNeverRestarts(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.Restart = "always"
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	h.wantState("a.service", "inactive/dead")
}
