package manager

import (
	"reflect"
	"strings"

	"gosd/unitfile"
)

// Slice units (systemd.slice(5)): no processes; a slice is a cgroup that
// holds the cgroups of its members, with the resource settings of its
// [Slice] section. Starting one realizes its cgroup (RealizeSlice); a
// member's Spawn carries the settings of the slices above it
// (Spawn.Slices), so they are in place before its first process even when
// the slice unit was never started, as systemd realizes a unit's parent
// slices with the unit's own cgroup.
type sliceUnit struct{ baseType }

// sliceType registers slice units (unitTypes), with a file or without
// (unitfile loads every slice name, as systemd does).
var sliceType = typeEntry{
	has:  func(d *unitfile.Unit) bool { return d.LoadState == unitfile.Loaded && d.Slice != nil },
	make: func(*unit) unitVTable { return &sliceUnit{} },
}

// SliceSettings are one slice unit's resource settings, for its cgroup.
type SliceSettings struct {
	Name      string
	Resources *unitfile.ResourceControl
}

// RealizeSlice asks the reactor to make the cgroups of Slices (top first,
// the started slice last) and write their settings.
type RealizeSlice struct {
	Unit   string
	Slices []SliceSettings
}

func (RealizeSlice) isEffect() {}

func (*sliceUnit) activeOf(sub SubState) ActiveState { return plainActive(sub) }

// addDeps: systemd.slice(5) "Implicit Dependencies" and "Default
// Dependencies".
func (*sliceUnit) addDeps(m *Manager, u *unit, implicit func(string, ...dep)) {
	// a-b.slice is in a.slice, a.slice in -.slice, the root.
	if name, _ := strings.CutSuffix(u.name, ".slice"); strings.LastIndexByte(name, '-') > 0 {
		implicit(name[:strings.LastIndexByte(name, '-')]+".slice", depRequires, depAfter)
	} else if u.name != "-.slice" {
		implicit("-.slice", depRequires, depAfter)
	}
	if u.def.Unit.DefaultDependencies {
		implicit("shutdown.target", depConflicts, depBefore)
	}
}

// sliceOf is the slice a unit's cgroup is in.
func sliceOf(rc *unitfile.ResourceControl) string {
	if rc.Slice == "" {
		return "system.slice"
	}
	return rc.Slice
}

func (*sliceUnit) start(m *Manager, u *unit) {
	if u.name == "-.slice" && !reflect.DeepEqual(u.def.Slice.Resources, unitfile.ResourceControl{}) {
		// The root cgroup's limits belong to whoever made it (the kernel,
		// a container runtime, the host's manager): said, not dropped.
		m.logf(u, LevelWarning, "resource settings of -.slice NOT applied: it is gosd's root cgroup, whose settings belong to its parent")
	}
	m.emit(RealizeSlice{Unit: u.name, Slices: m.slicesAbove(u.name)})
	m.setState(u, SubActive)
}

func (*sliceUnit) stop(m *Manager, u *unit, restart bool) {
	delete(m.pendingChecks, u.name)
	m.setState(u, SubDead)
}

// slicesAbove lists the loaded slice units with settings that contain a
// unit placed in slice ("" is system.slice), top first: a-b.slice is in
// a.slice; slice itself is the last. -.slice is the root, not gosd's to
// set.
func (m *Manager) slicesAbove(slice string) []SliceSettings {
	if slice == "" {
		slice = "system.slice"
	}
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || name == "-" || name == "" {
		return nil
	}
	var out []SliceSettings
	parts := strings.Split(name, "-")
	for i := range parts {
		n := strings.Join(parts[:i+1], "-") + ".slice"
		if u := m.units[n]; u != nil && u.def != nil && u.def.Slice != nil && u.def.LoadState == unitfile.Loaded {
			out = append(out, SliceSettings{Name: n, Resources: &u.def.Slice.Resources})
		}
	}
	return out
}
