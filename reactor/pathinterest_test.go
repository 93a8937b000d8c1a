package reactor

import (
	"reflect"
	"testing"

	"gosd/unitfile"
)

// Each spec watches every directory above its path for the name that
// leads on, then the path itself with its kind's interest; only
// PathChanged=/PathModified= trigger on their own path's events.
func TestPathTargets(t *testing.T) {
	got := pathTargets(unitfile.PathSpec{Kind: "PathModified", Path: "/var/spool/x"})
	want := []pathTarget{
		{path: "/var/spool", name: "x", interest: parentInterest},
		{path: "/var", name: "spool", interest: parentInterest},
		{path: "/", name: "var", interest: parentInterest},
		{path: "/var/spool/x", own: true, interest: changedInterest | anyWrite, trigger: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PathModified:\n got %+v\nwant %+v", got, want)
	}
	got = pathTargets(unitfile.PathSpec{Kind: "PathExistsGlob", Path: "/run/q/*.job"})
	if len(got) != 4 || got[0].path != "/run/q" || got[0].name != "*.job" || got[3].trigger || got[3].interest != entryAdded|attribChange {
		t.Errorf("PathExistsGlob: %+v", got)
	}
	for kind, i := range kindInterest {
		last := pathTargets(unitfile.PathSpec{Kind: kind, Path: "/a"})[1]
		if last.interest != i || last.trigger != (kind == "PathChanged" || kind == "PathModified") {
			t.Errorf("%s: %+v", kind, last)
		}
		// Every kind notices its own path going away or changing mode:
		// either makes a check fail or pass.
		if i&attribChange == 0 {
			t.Errorf("%s does not watch attribute changes", kind)
		}
	}
}
