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

	effs = h.start("lim-web.slice")
	rs := find[RealizeSlice](effs)
	if len(rs) != 1 || rs[0].Unit != "lim-web.slice" || len(rs[0].Slices) != 2 || rs[0].Slices[1].Name != "lim-web.slice" {
		t.Fatalf("slice start:\n%s", dump(effs))
	}
	h.wantState("lim-web.slice", "active/active")
	h.step(Request{ID: 9, Unit: "lim-web.slice", Kind: JobStop})
	h.wantState("lim-web.slice", "inactive/dead")
}
