package manager

import (
	"testing"

	"gosd/unitfile"
)

func sliceUnitDef(name string, tasksMax uint64) *unitfile.Unit {
	u := baseUnit(name)
	u.Slice = &unitfile.Slice{Resources: unitfile.ResourceControl{TasksMax: &tasksMax}}
	return u
}

// A member's Spawn carries the settings of every loaded slice above it,
// top first, so the reactor writes them before the member's first
// process; starting a slice asks for its cgroup with its settings.
func TestSliceSettingsTravelWithSpawn(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.Resources.Slice = "lim-web.slice"
	b := svc("b.service", "simple") // system.slice, which has no file here
	h := newHarness(t, memSource{}.add(a, b, sliceUnitDef("lim.slice", 50), sliceUnitDef("lim-web.slice", 5)))
	effs := h.start("a.service")
	sp := spawnsOf(effs, "a.service")
	if len(sp) != 1 || len(sp[0].Slices) != 2 || sp[0].Slices[0].Name != "lim.slice" ||
		sp[0].Slices[1].Name != "lim-web.slice" || *sp[0].Slices[1].Resources.TasksMax != 5 {
		t.Fatalf("a.service's spawn:\n%s", dump(effs))
	}
	if sp := spawnsOf(h.start("b.service"), "b.service"); len(sp) != 1 || sp[0].Slices != nil {
		t.Fatalf("b.service's spawn: %+v", sp)
	}

	// Slice= pulls the slice in with Requires= and After=, and a slice
	// its parent: both are realized before the member spawns.
	rs := find[RealizeSlice](effs)
	if len(rs) != 2 || rs[0].Unit != "lim.slice" || rs[1].Unit != "lim-web.slice" || len(rs[1].Slices) != 2 ||
		rs[1].Slices[1].Name != "lim-web.slice" {
		t.Fatalf("slices realized:\n%s", dump(effs))
	}
	realized := index(effs, func(e Effect) bool { r, ok := e.(RealizeSlice); return ok && r.Unit == "lim-web.slice" })
	spawned := index(effs, func(e Effect) bool { sp, ok := e.(Spawn); return ok && sp.Unit == "a.service" })
	if realized > spawned {
		t.Errorf("lim-web.slice realized after a.service spawned:\n%s", dump(effs))
	}
	h.wantState("lim.slice", "active/active")
	h.wantState("lim-web.slice", "active/active")
	// Stopping the slice stops its member first (Requires=, After=).
	h.step(Request{ID: 9, Unit: "lim-web.slice", Kind: JobStop})
	if st := h.state("a.service"); st == "active/running" {
		t.Errorf("a.service still %s after its slice's stop", st)
	}
}

// A daemon-reload hands the new resource settings of every unit with a
// cgroup and of every slice to the reactor (ApplyResources), which reads
// no unit definitions; a unit without a cgroup gets none.
func TestReloadAppliesResources(t *testing.T) {
	a, b := svc("a.service", "simple"), svc("b.service", "simple")
	h := newHarness(t, memSource{}.add(a, b, sliceUnitDef("lim.slice", 50)))
	h.step(CgroupsAvailable{})
	h.spawnAll(h.start("a.service"))
	h.step(CgroupCreated{Unit: "a.service", Path: "/system.slice/a.service"})
	nine := uint64(9)
	a2, b2 := svc("a.service", "simple"), svc("b.service", "simple")
	a2.Service.Resources.TasksMax = &nine
	effs := h.step(Reload{Units: memSource{}.add(a2, b2, sliceUnitDef("lim.slice", 7))})
	got := map[string]uint64{}
	for _, e := range find[ApplyResources](effs) {
		if e.Resources == nil || e.Resources.TasksMax == nil {
			t.Fatalf("ApplyResources without the new settings:\n%s", dump(effs))
		}
		got[e.Unit] = *e.Resources.TasksMax
	}
	if len(got) != 2 || got["a.service"] != 9 || got["lim.slice"] != 7 {
		t.Fatalf("ApplyResources %v, want a.service 9 and lim.slice 7:\n%s", got, dump(effs))
	}
	h.wantState("a.service", "active/running")
}

// -.slice, the root, has no parent to pull in.
func TestRootSliceHasNoParent(t *testing.T) {
	h := newHarness(t, memSource{}.add(sliceUnitDef("-.slice", 10)))
	effs := h.start("-.slice")
	h.wantState("-.slice", "active/active")
	if rs := find[RealizeSlice](effs); len(rs) != 1 || len(rs[0].Slices) != 0 {
		t.Errorf("-.slice realized with settings (the root is not gosd's to set):\n%s", dump(effs))
	}
	if !hasLog(effs, "resource settings of -.slice NOT applied") {
		t.Errorf("-.slice's settings dropped silently:\n%s", dump(effs))
	}
}
