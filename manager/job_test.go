package manager

import (
	"testing"
	"time"

	"gosd/unitfile"
)

func TestConflictsStopTheOther(t *testing.T) {
	a := svc("a.service", "simple")
	b := svc("b.service", "simple")
	b.Unit.Conflicts = []string{"a.service"}
	h := newHarness(t, memSource{}.add(a, b))
	pids, _ := h.spawnAll(h.start("a.service"))
	effs := h.start("b.service")
	// b is not ordered against a, but the stop must still happen.
	if k := find[Kill](effs); len(k) != 1 || k[0].Unit != "a.service" {
		t.Fatalf("a not stopped:\n%s", dump(effs))
	}
	h.spawnAll(effs)
	h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	h.wantState("a.service", "inactive/dead")
	h.wantState("b.service", "active/running")
	// Conflicts= works both ways: starting a now stops b.
	effs = h.start("a.service")
	if k := find[Kill](effs); len(k) != 1 || k[0].Unit != "b.service" {
		t.Fatalf("b not stopped:\n%s", dump(effs))
	}
}

func TestStopBeforeStartWhenOrdered(t *testing.T) {
	// b After a; a stops while b starts: the stop runs first.
	a := svc("a.service", "simple")
	b := svc("b.service", "simple")
	b.Unit.After = []string{"a.service"}
	b.Unit.Conflicts = []string{"a.service"}
	h := newHarness(t, memSource{}.add(a, b))
	pids, _ := h.spawnAll(h.start("a.service"))
	effs := h.start("b.service")
	if len(spawnsOf(effs, "b.service")) != 0 {
		t.Fatalf("b started before a stopped:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	if len(spawnsOf(effs, "b.service")) != 1 {
		t.Fatalf("b not started after a stopped:\n%s", dump(effs))
	}
}

func TestModeFailAndReplace(t *testing.T) {
	a := svc("a.service", "notify")
	h := newHarness(t, memSource{}.add(a))
	h.spawnAll(h.start("a.service"))
	effs := h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop, Mode: ModeFail})
	f := find[JobFinished](effs)
	if len(f) != 1 || f[0].ID != 2 || f[0].Result != ResultFailed || f[0].Error == "" {
		t.Fatalf("fail mode must refuse:\n%s", dump(effs))
	}
	h.wantState("a.service", "activating/start")
	effs = h.step(Request{ID: 3, Unit: "a.service", Kind: JobStop, Mode: ModeReplace})
	var got []JobFinished = find[JobFinished](effs)
	if len(got) != 1 || got[0].ID != 1 || got[0].Result != ResultCanceled {
		t.Fatalf("start job must be canceled:\n%s", dump(effs))
	}
	h.wantState("a.service", "deactivating/stop-sigterm")
}

func TestJobMerging(t *testing.T) {
	if k, ok := mergeKinds(JobStart, JobVerifyActive); !ok || k != JobStart {
		t.Error("start+verify-active")
	}
	if k, ok := mergeKinds(JobRestart, JobStart); !ok || k != JobRestart {
		t.Error("restart+start")
	}
	if k, ok := mergeKinds(JobReload, JobRestart); !ok || k != JobRestart {
		t.Error("reload+restart")
	}
	if _, ok := mergeKinds(JobStop, JobStart); ok {
		t.Error("stop+start must conflict")
	}
	// Two requests for one pending start: one job, both answered.
	a := svc("a.service", "notify")
	b := svc("b.service", "simple")
	h := newHarness(t, memSource{}.add(a, b))
	pids, _ := h.spawnAll(h.start("a.service"))
	effs := h.step(Request{ID: 2, Unit: "a.service", Kind: JobStart})
	if len(find[JobStarted](effs)) != 0 || len(spawnsOf(effs, "a.service")) != 0 {
		t.Fatalf("second start must merge:\n%s", dump(effs))
	}
	effs = h.step(Notify{Pid: pids["a.service/main"], Fields: [][2]string{{"READY", "1"}}})
	if f := find[JobFinished](effs); len(f) != 2 || f[0].ID != 1 || f[1].ID != 2 {
		t.Fatalf("both requests answered:\n%s", dump(effs))
	}
}

func TestRestartAndTryRestartJobs(t *testing.T) {
	a := svc("a.service", "simple")
	b := svc("b.service", "simple")
	b.Unit.Requires = []string{"a.service"}
	b.Unit.After = []string{"a.service"}
	h := newHarness(t, memSource{}.add(a, b))
	effs := h.step(Request{ID: 1, Unit: "x.service", Kind: JobTryRestart})
	if f := find[JobFinished](effs); len(f) != 1 || f[0].Result != ResultFailed {
		t.Fatalf("unknown unit: %+v", f)
	}
	effs = h.step(Request{ID: 2, Unit: "a.service", Kind: JobTryRestart})
	if f := find[JobFinished](effs); len(f) != 1 || f[0].Result != ResultDone || len(find[Spawn](effs)) != 0 {
		t.Fatalf("try-restart of inactive must do nothing:\n%s", dump(effs))
	}
	pids, _ := h.spawnAll(h.start("b.service"))
	h.wantState("a.service", "active/running")
	// restart a: b (Requires=) is restarted too; stops in reverse order.
	effs = h.step(Request{ID: 3, Unit: "a.service", Kind: JobRestart})
	if k := find[Kill](effs); len(k) != 1 || k[0].Unit != "b.service" {
		t.Fatalf("b must stop first:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: pids["b.service/main"], Status: killed(sigTERM())})
	if k := find[Kill](effs); len(k) != 1 || k[0].Unit != "a.service" {
		t.Fatalf("then a:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	ia := index(effs, func(e Effect) bool { s, ok := e.(Spawn); return ok && s.Unit == "a.service" })
	ib := index(effs, func(e Effect) bool { s, ok := e.(Spawn); return ok && s.Unit == "b.service" })
	if ia < 0 || ib < ia {
		t.Fatalf("a starts again before b:\n%s", dump(effs))
	}
	h.spawnAll(effs)
	h.wantState("b.service", "active/running")
	var restartDone bool
	for _, f := range find[JobFinished](h.all) {
		if f.ID == 3 && f.Kind == JobRestart && f.Result == ResultDone {
			restartDone = true
		}
	}
	if !restartDone {
		t.Fatalf("restart job not reported:\n%s", dump(h.all))
	}
}

func TestReloadJobs(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.ExecReload = []unitfile.ExecCommand{cmd("/bin/reload")}
	b := svc("b.service", "simple")
	h := newHarness(t, memSource{}.add(a, b))
	effs := h.step(Request{ID: 1, Unit: "a.service", Kind: JobReload})
	if f := find[JobFinished](effs); len(f) != 1 || f[0].Result != ResultInvalid {
		t.Fatalf("reload of inactive: %+v", f)
	}
	h.spawnAll(h.start("a.service"))
	effs = h.step(Request{ID: 2, Unit: "a.service", Kind: JobReload})
	h.wantState("a.service", "reloading/reload")
	pids, _ := h.spawnAll(effs)
	effs = h.step(Exited{Pid: pids["a.service/control"], Status: exited(1)})
	h.wantState("a.service", "active/running")
	if r, _ := jobResult(effs, "a.service"); r != ResultFailed {
		t.Fatalf("failed reload:\n%s", dump(effs))
	}
	h.spawnAll(h.start("b.service"))
	effs = h.step(Request{ID: 3, Unit: "b.service", Kind: JobReload})
	if f := find[JobFinished](effs); len(f) != 1 || f[0].Error == "" {
		t.Fatalf("reload not applicable: %+v", f)
	}
	// reload-or-restart falls back to restart.
	effs = h.step(Request{ID: 4, Unit: "b.service", Kind: JobReloadOrRestart})
	if s := find[JobStarted](effs); len(s) != 1 || s[0].Kind != JobRestart {
		t.Fatalf("reload-or-restart:\n%s", dump(effs))
	}
}

func TestIsolate(t *testing.T) {
	a := svc("a.service", "simple")
	b := svc("b.service", "simple")
	keep := svc("keep.service", "simple")
	keep.Unit.IgnoreOnIsolate = true
	t1 := target("one.target", "a.service", "keep.service")
	t2 := target("two.target", "b.service")
	t2.Unit.AllowIsolate = true
	h := newHarness(t, memSource{}.add(a, b, keep, t1, t2))
	h.spawnAll(h.start("one.target"))
	effs := h.step(Request{ID: 2, Unit: "one.target", Kind: JobStart, Mode: ModeIsolate})
	if f := find[JobFinished](effs); len(f) != 1 || f[0].Error == "" {
		t.Fatalf("isolate without AllowIsolate: %+v", f)
	}
	effs = h.step(Request{ID: 3, Unit: "two.target", Kind: JobStart, Mode: ModeIsolate})
	kills := map[string]bool{}
	for _, k := range find[Kill](effs) {
		kills[k.Unit] = true
	}
	if !kills["a.service"] || kills["keep.service"] || len(spawnsOf(effs, "b.service")) != 1 {
		t.Fatalf("isolate:\n%s", dump(effs))
	}
	h.wantState("one.target", "inactive/dead")
}

func TestOrderingCycleBroken(t *testing.T) {
	// a After b, b After c, c After a; c is only wanted: its job goes.
	a := svc("a.service", "simple")
	a.Unit.Requires = []string{"b.service"}
	a.Unit.After = []string{"b.service"}
	a.Unit.Wants = []string{"c.service"}
	b := svc("b.service", "simple")
	b.Unit.After = []string{"c.service"}
	c := svc("c.service", "simple")
	c.Unit.After = []string{"a.service"}
	h := newHarness(t, memSource{}.add(a, b, c))
	effs := h.start("a.service")
	if !hasLog(effs, "Found ordering cycle on") || !hasLog(effs, "Job c.service/start deleted to break ordering cycle starting with") {
		t.Fatalf("cycle logs:\n%s", dump(effs))
	}
	h.spawnAll(effs)
	h.wantState("a.service", "active/running")
	h.wantState("b.service", "active/running")
	h.wantState("c.service", "inactive/dead")

	// All required: the request fails.
	c.Unit.After = []string{"a.service"}
	b.Unit.Requires = []string{"c.service"}
	a.Unit.Wants = nil
	a.Unit.Requires = []string{"b.service", "c.service"}
	h = newHarness(t, memSource{}.add(a, b, c))
	effs = h.start("a.service")
	if f := find[JobFinished](effs); len(f) != 1 || f[0].Result != ResultFailed || f[0].Error == "" || len(find[Spawn](effs)) != 0 {
		t.Fatalf("unbreakable cycle:\n%s", dump(effs))
	}
}

func TestDefaultDependenciesOnlyOnExistingUnits(t *testing.T) {
	a := svc("a.service", "simple")
	h := newHarness(t, memSource{}.add(a))
	h.spawnAll(h.start("a.service"))
	h.wantState("a.service", "active/running")
	if _, ok := h.m.Status("sysinit.target"); ok {
		t.Fatal("sysinit.target loaded though absent")
	}
	// With the special targets present, services order after them.
	b := svc("b.service", "simple")
	si := target("sysinit.target")
	si.Unit.DefaultDependencies = false
	sd := target("shutdown.target")
	sd.Unit.DefaultDependencies = false
	h = newHarness(t, memSource{}.add(b, si, sd))
	u := h.m.units["b.service"]
	if !inUnits(u.deps[depRequires], h.m.units["sysinit.target"]) || !inUnits(u.deps[depAfter], h.m.units["sysinit.target"]) ||
		!inUnits(u.deps[depConflicts], h.m.units["shutdown.target"]) || !inUnits(h.m.units["shutdown.target"].deps[depAfter], u) {
		t.Fatal("default dependencies missing")
	}
	effs := h.start("b.service")
	if len(find[JobStarted](effs)) != 2 {
		t.Fatalf("sysinit.target not pulled in:\n%s", dump(effs))
	}
}

func TestOnFailureOnSuccess(t *testing.T) {
	a := svc("a.service", "oneshot")
	a.Unit.OnFailure = []string{"rescue.service"}
	b := svc("b.service", "oneshot")
	b.Unit.OnSuccess = []string{"next.service"}
	h := newHarness(t, memSource{}.add(a, b, svc("rescue.service", "simple"), svc("next.service", "simple")))
	pids, _ := h.spawnAll(h.start("a.service"))
	effs := h.step(Exited{Pid: pids["a.service/main"], Status: exited(1)})
	if len(spawnsOf(effs, "rescue.service")) != 1 {
		t.Fatalf("OnFailure:\n%s", dump(effs))
	}
	pids, _ = h.spawnAll(h.start("b.service"))
	effs = h.step(Exited{Pid: pids["b.service/main"], Status: exited(0)})
	if len(spawnsOf(effs, "next.service")) != 1 {
		t.Fatalf("OnSuccess:\n%s", dump(effs))
	}
}

func TestBindsToUpholdsStopWhenUnneeded(t *testing.T) {
	a := svc("a.service", "simple")
	b := svc("b.service", "simple")
	b.Unit.BindsTo = []string{"a.service"}
	b.Unit.After = []string{"a.service"}
	h := newHarness(t, memSource{}.add(a, b))
	pids, _ := h.spawnAll(h.start("b.service"))
	effs := h.step(Exited{Pid: pids["a.service/main"], Status: exited(0)})
	if k := find[Kill](effs); len(k) != 2 || k[1].Unit != "b.service" || k[1].Pid != pids["b.service/main"] {
		t.Fatalf("BindsTo= must stop b:\n%s", dump(effs))
	}

	up := svc("up.service", "simple")
	w := svc("w.service", "simple")
	w.Unit.Upholds = []string{"up.service"}
	h = newHarness(t, memSource{}.add(up, w))
	pids, _ = h.spawnAll(h.start("w.service"))
	h.wantState("up.service", "active/running")
	effs = h.step(Exited{Pid: pids["up.service/main"], Status: exited(0)})
	if len(spawnsOf(effs, "up.service")) != 1 {
		t.Fatalf("Upholds= must restart:\n%s", dump(effs))
	}

	lib := svc("lib.service", "simple")
	lib.Unit.StopWhenUnneeded = true
	user := svc("user.service", "simple")
	user.Unit.Wants = []string{"lib.service"}
	h = newHarness(t, memSource{}.add(lib, user))
	pids, _ = h.spawnAll(h.start("user.service"))
	h.wantState("lib.service", "active/running")
	effs = h.step(Exited{Pid: pids["user.service/main"], Status: exited(0)})
	if k := find[Kill](effs); len(k) != 2 || k[1].Unit != "lib.service" {
		t.Fatalf("StopWhenUnneeded:\n%s", dump(effs))
	}
}

func TestPartOfStops(t *testing.T) {
	a := svc("a.service", "simple")
	p := svc("p.service", "simple")
	p.Unit.PartOf = []string{"a.service"}
	h := newHarness(t, memSource{}.add(a, p))
	h.spawnAll(h.start("a.service"))
	h.spawnAll(h.start("p.service"))
	effs := h.step(Request{ID: 5, Unit: "a.service", Kind: JobStop})
	units := map[string]bool{}
	for _, k := range find[Kill](effs) {
		units[k.Unit] = true
	}
	if !units["p.service"] || !units["a.service"] {
		t.Fatalf("PartOf:\n%s", dump(effs))
	}
}

func TestRequisite(t *testing.T) {
	a := svc("a.service", "simple")
	b := svc("b.service", "simple")
	b.Unit.Requisite = []string{"a.service"}
	b.Unit.After = []string{"a.service"}
	h := newHarness(t, memSource{}.add(a, b))
	effs := h.start("b.service")
	h.wantJob("b.service", ResultDependency)
	if len(find[Spawn](effs)) != 0 {
		t.Fatal("Requisite= must not start anything")
	}
	h.spawnAll(h.start("a.service"))
	h.all = nil
	h.spawnAll(h.start("b.service"))
	h.wantState("b.service", "active/running")
}

func TestDaemonReloadKeepsRunning(t *testing.T) {
	a := svc("a.service", "simple")
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	a2 := svc("a.service", "simple")
	a2.Service.ExecStart = []unitfile.ExecCommand{cmd("/bin/new")}
	effs := h.step(Reload{Units: memSource{}.add(a2)})
	if len(find[Kill](effs)) != 0 {
		t.Fatal("reload killed a service")
	}
	h.wantState("a.service", "active/running")
	h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	effs = h.start("a.service")
	if sp := spawnsOf(effs, "a.service"); len(sp) != 1 || sp[0].Cmd.Path != "/bin/new" {
		t.Fatalf("new definition not used:\n%s", dump(effs))
	}
}

func TestUnitChangedAndTimestamps(t *testing.T) {
	a := svc("a.service", "simple")
	h := newHarness(t, memSource{}.add(a))
	h.advance(time.Second)
	h.spawnAll(h.start("a.service"))
	s, _ := h.m.Status("a.service")
	if s.ActiveEnter != time.Second || s.InactiveExit != time.Second {
		t.Fatalf("timestamps %+v", s)
	}
	ch := find[UnitChanged](h.all)
	if len(ch) < 2 || ch[len(ch)-1] != (UnitChanged{Unit: "a.service", Active: "active", Sub: "running", Result: "success"}) {
		t.Fatalf("UnitChanged %+v", ch)
	}
}

func TestJobTimeout(t *testing.T) {
	a := svc("a.service", "notify")
	a.Unit.JobTimeoutSec = 5 * time.Second
	a.Unit.JobTimeoutAction = "poweroff-force"
	h := newHarness(t, memSource{}.add(a))
	h.spawnAll(h.start("a.service"))
	h.advance(5 * time.Second)
	effs := h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "job"}})
	h.wantJob("a.service", ResultTimeout)
	if a := find[Action](effs); len(a) != 1 || a[0].Action != "poweroff-force" {
		t.Fatalf("JobTimeoutAction:\n%s", dump(effs))
	}
	// The unit itself goes on starting.
	h.wantState("a.service", "activating/start")
}

func TestStartLimitOnFailedUnitEndsJob(t *testing.T) {
	a := svc("a.service", "oneshot")
	a.Unit.StartLimitBurst = 1
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.step(Exited{Pid: pids["a.service/main"], Status: exited(1)})
	h.wantState("a.service", "failed/failed")
	effs := h.step(Request{ID: 9, Unit: "a.service", Kind: JobStart})
	if f := find[JobFinished](effs); len(f) != 1 || f[0].ID != 9 || f[0].Result != ResultFailed {
		t.Fatalf("start-limit on failed unit:\n%s", dump(effs))
	}
}

// Only what the requested target needs is started.
func TestPruning(t *testing.T) {
	a := svc("a.service", "simple")
	a.Unit.Requires = []string{"b.service"}
	h := newHarness(t, memSource{}.add(target("t.target", "a.service"), a, svc("b.service", "simple"), svc("other.service", "simple"), target("other.target", "other.service")))
	effs := h.start("t.target")
	for _, sp := range find[Spawn](effs) {
		if sp.Unit != "a.service" && sp.Unit != "b.service" {
			t.Fatalf("%s started though not needed", sp.Unit)
		}
	}
	if len(find[Spawn](effs)) != 2 {
		t.Fatalf("want a and b:\n%s", dump(effs))
	}
}

func TestControlFailureLogHasPos(t *testing.T) {
	a := svc("a.service", "simple")
	pre := cmd("/bin/pre")
	pre.Pos = unitfile.Pos{File: "/etc/a.service", Line: 7}
	a.Service.ExecStartPre = []unitfile.ExecCommand{pre}
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	effs := h.step(Exited{Pid: pids["a.service/control"], Status: exited(2)})
	for _, l := range find[Log](effs) {
		if l.Pos == pre.Pos {
			return
		}
	}
	t.Fatalf("no log with the ExecStartPre= line:\n%s", dump(effs))
}

func TestResetFailed(t *testing.T) {
	a := svc("a.service", "oneshot")
	a.Unit.StartLimitBurst = 1
	a.Unit.OnSuccess = []string{"b.service"}
	h := newHarness(t, memSource{}.add(a, svc("b.service", "simple")))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.step(Exited{Pid: pids["a.service/main"], Status: exited(1)})
	h.wantState("a.service", "failed/failed")
	effs := h.step(ResetFailed{})
	h.wantState("a.service", "inactive/dead")
	if len(find[Spawn](effs)) != 0 {
		t.Fatal("reset-failed must not trigger OnSuccess=")
	}
	// The start limit counter is reset too: a start works again.
	if len(spawnsOf(h.start("a.service"), "a.service")) != 1 {
		t.Fatal("start after reset-failed refused")
	}
}

// TestTargetDefaultAfter follows systemd.target(5) "Default Dependencies":
// a target is After= what it Wants=/Requires= unless the wanted unit sets
// DefaultDependencies=no, and never After= a unit already ordered after
// it. Debian's multi-user.target wants systemd-update-utmp-runlevel.service
// (DefaultDependencies=no, After=multi-user.target): no cycle, and the
// runlevel unit runs after the target.
func TestTargetDefaultAfter(t *testing.T) {
	mu := target("multi-user.target", "runlevel.service", "plain.service", "after-me.service")
	runlevel := svc("runlevel.service", "oneshot")
	runlevel.Unit.DefaultDependencies = false
	runlevel.Unit.After = []string{"multi-user.target"}
	plain := svc("plain.service", "oneshot")
	afterMe := svc("after-me.service", "oneshot")
	afterMe.Unit.After = []string{"multi-user.target"} // default deps, but ordered after the target
	h := newHarness(t, memSource{}.add(mu, runlevel, plain, afterMe))
	m := h.m.units["multi-user.target"]
	if inUnits(m.deps[depAfter], h.m.units["runlevel.service"]) || inUnits(m.deps[depAfter], h.m.units["after-me.service"]) {
		t.Fatal("target ordered after a unit with DefaultDependencies=no or one ordered after it")
	}
	if !inUnits(m.deps[depAfter], h.m.units["plain.service"]) {
		t.Fatal("target not ordered after a plain wanted unit")
	}
	effs := h.start("multi-user.target")
	if hasLog(effs, "ordering cycle") {
		t.Fatalf("cycle where systemd sees none:\n%s", dump(effs))
	}
	if len(spawnsOf(effs, "runlevel.service")) != 0 || len(spawnsOf(effs, "plain.service")) != 1 {
		t.Fatalf("runlevel.service must wait for the target, plain.service must start:\n%s", dump(effs))
	}
	pids, _ := h.spawnAll(effs)
	effs = h.step(Exited{Pid: pids["plain.service/main"], Status: exited(0)})
	h.wantState("multi-user.target", "active/active")
	if len(spawnsOf(effs, "runlevel.service")) != 1 || len(spawnsOf(effs, "after-me.service")) != 1 {
		t.Fatalf("units ordered after the target must start once it is active:\n%s", dump(effs))
	}
}

// PrivateTmp= orders the service after the mounts of /tmp and /var/tmp
// (and requires them) and after systemd-tmpfiles-setup.service, where
// those units exist (systemd.exec(5) "Implicit Dependencies").
func TestPrivateTmpImplicitDependencies(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.Exec.PrivateTmp = true
	plain := svc("plain.service", "simple")
	tmp := svc("tmp.mount", "simple") // the type does not matter to the edges
	tmp.Unit.DefaultDependencies = false
	tf := svc("systemd-tmpfiles-setup.service", "oneshot")
	tf.Unit.DefaultDependencies = false
	h := newHarness(t, memSource{}.add(a, plain, tmp, tf))
	u, p := h.m.units["a.service"], h.m.units["plain.service"]
	tm, ts := h.m.units["tmp.mount"], h.m.units["systemd-tmpfiles-setup.service"]
	if !inUnits(u.deps[depRequires], tm) || !inUnits(u.deps[depAfter], tm) || !inUnits(u.deps[depAfter], ts) || inUnits(u.deps[depRequires], ts) {
		t.Fatal("PrivateTmp= dependencies missing")
	}
	if inUnits(p.deps[depAfter], tm) || inUnits(p.deps[depAfter], ts) {
		t.Fatal("a unit without PrivateTmp= got its dependencies")
	}
	if _, ok := h.m.Status("var-tmp.mount"); ok {
		t.Fatal("var-tmp.mount loaded though absent")
	}
}

// The reactor dials the system bus when its daemon becomes active, and
// knows it only from UnitChanged: by name or by its alias dbus.service.
func TestUnitChangedNamesTheBusDaemon(t *testing.T) {
	broker := svc("dbus-broker.service", "simple")
	broker.Names = []string{"dbus.service"}
	other := svc("other.service", "simple")
	h := newHarness(t, memSource{}.add(broker, other))
	h.spawnAll(h.start("dbus-broker.service"))
	h.spawnAll(h.start("other.service"))
	seen := map[string]bool{}
	for _, c := range find[UnitChanged](h.all) {
		if c.Active == "active" {
			seen[c.Unit] = c.BusDaemon
		}
	}
	if bus, ok := seen["dbus-broker.service"]; !ok || !bus {
		t.Errorf("dbus-broker.service (alias dbus.service) active: BusDaemon %v (seen %v)", bus, ok)
	}
	if bus, ok := seen["other.service"]; !ok || bus {
		t.Errorf("other.service active: BusDaemon %v (seen %v)", bus, ok)
	}
}

// JobStarted names the unit as the console does, so the reactor prints a
// waiting device job's line without reading the unit's definition.
func TestJobStartedCarriesDescription(t *testing.T) {
	a := svc("a.service", "simple")
	a.Unit.Description = "Service A"
	h := newHarness(t, memSource{}.add(a))
	st := find[JobStarted](h.start("a.service"))
	if len(st) != 1 || st[0].Description != "Service A" {
		t.Fatalf("JobStarted %+v", st)
	}
}
