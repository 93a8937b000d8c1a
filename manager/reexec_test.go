package manager

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// Save refuses while a job runs; a saved state survives JSON and a fresh
// manager, and the restored manager supervises the old main process.
func TestSaveRestore(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.Restart = "always"
	a.Service.WatchdogSec = 5 * time.Second
	src := memSource{}.add(a, svc("b.service", "notify"))
	h := newHarness(t, src)
	effs := h.start("a.service")
	if _, err := h.m.Save(); err == nil {
		t.Fatalf("Save during a start job: %v", err)
	}
	pids, _ := h.spawnAll(effs)
	h.wantState("a.service", "active/running")
	h.advance(time.Second)
	saved, err := h.m.Save()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	var back Saved
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	before, _ := h.m.Status("a.service")

	m2 := New(src)
	effs, n := m2.Restore(h.now, back)
	if n != 1 {
		t.Fatalf("restored %d units, want 1 (b never ran)", n)
	}
	if len(find[SetTimer](effs)) != 1 || find[SetTimer](effs)[0].ID.Kind != "watchdog" {
		t.Fatalf("want the watchdog re-armed fresh, got %s", dump(effs))
	}
	after, _ := m2.Status("a.service")
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("status changed:\n%+v\n%+v", before, after)
	}
	// The old main process exits: the new manager restarts it (Restart=always).
	out := m2.Step(h.now, Exited{Pid: pids["a.service/main"], Status: exited(1)})
	if st, _ := m2.Status("a.service"); st.Sub != "auto-restart" {
		t.Fatalf("after the old main pid exited: %s/%s\n%s", st.Active, st.Sub, dump(out))
	}
	if len(find[SetTimer](out)) == 0 {
		t.Fatalf("no restart timer: %s", dump(out))
	}
}

// Restore hands the reactor the settings of every running unit whose
// cgroup it takes over (ApplyResources), so it re-opens that cgroup in
// the unit's slice without reading unit definitions; not for a unit that
// is not running.
func TestRestoreHandsOverCgroupSettings(t *testing.T) {
	a, b := svc("a.service", "simple"), svc("b.service", "simple")
	a.Service.Resources.Slice = "x.slice"
	src := memSource{}.add(a, b)
	h := newHarness(t, src)
	h.step(CgroupsAvailable{})
	h.spawnAll(h.start("a.service"))
	h.step(CgroupCreated{Unit: "a.service", Path: "/x.slice/a.service"})
	pids, _ := h.spawnAll(h.start("b.service"))
	h.step(CgroupCreated{Unit: "b.service", Path: "/system.slice/b.service"})
	h.step(Request{ID: 5, Unit: "b.service", Kind: JobStop})
	h.step(Exited{Pid: pids["b.service/main"], Status: killed(sigTERM())})
	h.step(CgroupEmpty{Unit: "b.service"})
	h.wantState("b.service", "inactive/dead")
	saved, err := h.m.Save()
	if err != nil {
		t.Fatal(err)
	}
	m2 := New(src)
	effs, _ := m2.Restore(h.now, saved)
	ar := find[ApplyResources](effs)
	if len(ar) != 1 || ar[0].Unit != "a.service" || ar[0].Resources == nil || ar[0].Resources.Slice != "x.slice" {
		t.Fatalf("ApplyResources after Restore:\n%s", dump(effs))
	}
}
