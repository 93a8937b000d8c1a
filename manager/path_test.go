package manager

import (
	"errors"
	"slices"
	"testing"
	"time"

	"gosd/unitfile"
)

func pathUnit(name string, specs ...unitfile.PathSpec) *unitfile.Unit {
	u := baseUnit(name)
	u.Path = &unitfile.Path{Specs: specs, DirectoryMode: 0o755, TriggerLimitIntervalSec: 2 * time.Second, TriggerLimitBurst: 200}
	return u
}

func lastWatch(t *testing.T, effs []Effect) WatchPaths {
	t.Helper()
	w := find[WatchPaths](effs)
	if len(w) == 0 {
		t.Fatalf("no WatchPaths:\n%s", dump(effs))
	}
	return w[len(w)-1]
}

// A path unit watches at start (initial check), triggers its service on a
// good check, stops watching while the service runs, and watches again
// (a trigger-notify check) once the service is down.
func TestPathTriggersAndWatchesAgain(t *testing.T) {
	spec := unitfile.PathSpec{Kind: "PathExists", Path: "/run/x/flag"}
	h := newHarness(t, memSource{}.add(pathUnit("x.path", spec), oneshot("x.service")))
	effs := h.start("x.path")
	w := lastWatch(t, effs)
	if !w.Initial || w.FromTrigger || len(w.Specs) != 1 || w.Specs[0] != spec {
		t.Fatalf("first watch %+v", w)
	}
	h.wantState("x.path", "active/waiting")
	h.wantJob("x.path", ResultDone)
	// Not good: nothing happens.
	if effs := h.step(PathsChecked{Unit: "x.path"}); len(find[Spawn](effs)) != 0 {
		t.Fatalf("a bad check started something:\n%s", dump(effs))
	}
	effs = h.step(PathsChecked{Unit: "x.path", Good: true, Path: "/run/x/flag"})
	h.wantState("x.path", "active/running")
	if sp := spawnsOf(effs, "x.service"); len(sp) != 1 || !slices.Contains(sp[0].Env, "TRIGGER_UNIT=x.path") ||
		!slices.Contains(sp[0].Env, "TRIGGER_PATH=/run/x/flag") {
		t.Fatalf("trigger environment:\n%s", dump(effs))
	}
	if len(find[UnwatchPaths](effs)) != 1 || len(spawnsOf(effs, "x.service")) != 1 {
		t.Fatalf("trigger:\n%s", dump(effs))
	}
	effs = h.runOnce(effs, "x.service")
	w = lastWatch(t, effs)
	if w.Initial || !w.FromTrigger {
		t.Fatalf("watch after the service %+v", w)
	}
	h.wantState("x.path", "active/waiting")
	// Stop: watches end.
	effs = h.step(Request{Unit: "x.path", Kind: JobStop})
	h.wantState("x.path", "inactive/dead")
	if len(find[UnwatchPaths](effs)) != 1 {
		t.Fatalf("stop:\n%s", dump(effs))
	}
	// A late answer is ignored.
	if effs := h.step(PathsChecked{Unit: "x.path", Good: true}); len(find[Spawn](effs)) != 0 {
		t.Fatalf("late answer acted:\n%s", dump(effs))
	}
}

// TriggerLimitBurst= good checks within TriggerLimitIntervalSec= are
// allowed; the next fails the unit with trigger-limit-hit.
func TestPathTriggerLimit(t *testing.T) {
	p := pathUnit("y.path", unitfile.PathSpec{Kind: "PathExists", Path: "/y"})
	p.Path.TriggerLimitBurst = 3
	h := newHarness(t, memSource{}.add(p, oneshot("y.service")))
	effs := h.start("y.path")
	for i := 0; i < 3; i++ {
		effs = h.step(PathsChecked{Unit: "y.path", Good: true, Path: "/y"})
		h.wantState("y.path", "active/running")
		h.runOnce(effs, "y.service")
		h.wantState("y.path", "active/waiting")
		h.advance(100 * time.Millisecond)
	}
	effs = h.step(PathsChecked{Unit: "y.path", Good: true, Path: "/y"})
	h.wantState("y.path", "failed/failed")
	if st, _ := h.m.Status("y.path"); st.Result != "trigger-limit-hit" || len(spawnsOf(effs, "y.service")) != 0 {
		t.Fatalf("result %q\n%s", st.Result, dump(effs))
	}
	// After the interval, a restart of the path unit triggers again.
	h.advance(3 * time.Second)
	h.step(Request{Unit: "y.path", Kind: JobStart})
	effs = h.step(PathsChecked{Unit: "y.path", Good: true, Path: "/y"})
	if len(spawnsOf(effs, "y.service")) != 1 {
		t.Fatalf("no trigger after restart:\n%s", dump(effs))
	}
}

// The unit to trigger must be loaded; a failed watch fails the unit.
func TestPathRefusals(t *testing.T) {
	h := newHarness(t, memSource{}.add(pathUnit("a.path", unitfile.PathSpec{Kind: "PathChanged", Path: "/a"}),
		pathUnit("b.path", unitfile.PathSpec{Kind: "PathChanged", Path: "/b"}), oneshot("b.service")))
	h.start("a.path")
	h.wantState("a.path", "failed/failed")
	h.wantJob("a.path", ResultFailed)
	h.start("b.path")
	h.step(PathsChecked{Unit: "b.path", Err: errors.New("inotify: too many watches")})
	h.wantState("b.path", "failed/failed")
	if st, _ := h.m.Status("b.path"); st.Result != "resources" {
		t.Fatalf("result %q", st.Result)
	}
}

// Default and implicit dependencies (systemd.path(5)).
func TestPathDependencies(t *testing.T) {
	mnt := baseUnit("srv-data.mount")
	h := newHarness(t, memSource{}.add(pathUnit("d.path", unitfile.PathSpec{Kind: "DirectoryNotEmpty", Path: "/srv/data/in"}),
		oneshot("d.service"), target("paths.target"), target("sysinit.target"), target("shutdown.target"), mnt))
	d := h.m.units["d.path"]
	has := func(list []*unit, name string) bool { return inUnits(list, h.m.units[name]) }
	if !has(d.deps[depBefore], "paths.target") || !has(d.deps[depRequires], "sysinit.target") ||
		!has(d.deps[depBefore], "d.service") || !has(d.deps[depTriggers], "d.service") ||
		!has(d.deps[depRequires], "srv-data.mount") || !has(d.deps[depAfter], "srv-data.mount") ||
		!has(d.deps[depConflicts], "shutdown.target") {
		t.Fatalf("edges: after %v before %v requires %v", names(d.deps[depAfter]), names(d.deps[depBefore]), names(d.deps[depRequires]))
	}
}

// The triggered unit hitting its start limit fails the path unit too.
func TestPathFollowsUnitStartLimit(t *testing.T) {
	s := oneshot("z.service")
	s.Unit.StartLimitIntervalSec, s.Unit.StartLimitBurst = 10*time.Second, 2
	h := newHarness(t, memSource{}.add(pathUnit("z.path", unitfile.PathSpec{Kind: "PathExists", Path: "/z"}), s))
	h.start("z.path")
	for i := 0; i < 2; i++ {
		effs := h.step(PathsChecked{Unit: "z.path", Good: true, Path: "/z"})
		h.runOnce(effs, "z.service")
	}
	h.step(PathsChecked{Unit: "z.path", Good: true, Path: "/z"})
	h.wantState("z.service", "failed/failed")
	h.wantState("z.path", "failed/failed")
	if st, _ := h.m.Status("z.path"); st.Result != "unit-start-limit-hit" {
		t.Fatalf("result %q", st.Result)
	}
}
