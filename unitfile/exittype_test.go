package unitfile

import "testing"

// ExitType=cgroup is accepted as systemd accepts it, but the manager ends
// a service with its main process: verify must name it (a setting gosd
// takes and does not apply); ExitType=main is what gosd does.
func TestExitTypeCgroupUnenforced(t *testing.T) {
	u := buildText(t, "x.service", "[Service]\nExitType=cgroup\nExecStart=/bin/true\n")
	if u.LoadState != Loaded || len(u.Unit.Unenforced) != 1 || u.Unit.Unenforced[0].Key != "ExitType" || u.Unit.Unenforced[0].Pos.Line != 2 {
		t.Fatalf("load %s, unenforced %+v: %s", u.LoadState, u.Unit.Unenforced, diagsText(u))
	}
	u = buildText(t, "x.service", "[Service]\nExitType=main\nExecStart=/bin/true\n")
	if len(u.Unit.Unenforced) != 0 {
		t.Fatalf("ExitType=main named as unenforced: %+v", u.Unit.Unenforced)
	}
}
