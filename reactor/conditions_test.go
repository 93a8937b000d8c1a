package reactor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gosd/unitfile"
)

func TestConditions(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, []byte("x"), 0o755)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	link := filepath.Join(dir, "l")
	os.Symlink(file, link)
	c := func(kind, value string, neg, trig bool) unitfile.Condition {
		return unitfile.Condition{Kind: kind, Value: value, Negate: neg, Trigger: trig, Pos: unitfile.Pos{File: "u.service", Line: 3}}
	}
	cases := []struct {
		conds []unitfile.Condition
		ok    bool
	}{
		{[]unitfile.Condition{c("PathExists", file, false, false)}, true},
		{[]unitfile.Condition{c("PathExists", file, true, false)}, false},
		{[]unitfile.Condition{c("PathExists", dir+"/nope", true, false)}, true},
		{[]unitfile.Condition{c("PathExistsGlob", dir+"/f*", false, false)}, true},
		{[]unitfile.Condition{c("PathIsDirectory", dir, false, false), c("PathIsDirectory", file, true, false)}, true},
		{[]unitfile.Condition{c("PathIsSymbolicLink", link, false, false)}, true},
		{[]unitfile.Condition{c("PathIsSymbolicLink", file, false, false)}, false},
		{[]unitfile.Condition{c("PathIsMountPoint", "/proc", false, false)}, true},
		{[]unitfile.Condition{c("PathIsMountPoint", dir, false, false)}, false},
		{[]unitfile.Condition{c("PathIsReadWrite", dir, false, false)}, true},
		{[]unitfile.Condition{c("DirectoryNotEmpty", dir, false, false)}, true},
		{[]unitfile.Condition{c("FileNotEmpty", file, false, false), c("FileNotEmpty", empty, true, false)}, true},
		{[]unitfile.Condition{c("FileIsExecutable", file, false, false)}, true},
		{[]unitfile.Condition{c("FileIsExecutable", empty, false, false)}, false},
		{[]unitfile.Condition{c("User", "root", false, false), c("User", "0", false, false), c("Group", "root", false, false)}, true},
		{[]unitfile.Condition{c("User", "nobody", false, false)}, false},
		{[]unitfile.Condition{c("Architecture", unitfile.Architecture(), false, false), c("Architecture", "native", false, false)}, true},
		{[]unitfile.Condition{c("Environment", "PATH", false, false)}, true},
		{[]unitfile.Condition{c("Environment", "GOSD_NO_SUCH_VAR", false, false)}, false},
		// Triggering lines: one of them suffices; all failing fails.
		{[]unitfile.Condition{c("PathExists", dir+"/nope", false, true), c("PathExists", file, false, true)}, true},
		{[]unitfile.Condition{c("PathExists", dir+"/nope", false, true), c("PathExists", dir+"/nope2", false, true)}, false},
		// A failing non-triggering line fails regardless of triggers.
		{[]unitfile.Condition{c("PathExists", file, false, true), c("PathExists", dir+"/nope", false, false)}, false},
	}
	for i, tc := range cases {
		ok, failed, _ := evalConditions(tc.conds, "Condition")
		if ok != tc.ok {
			t.Errorf("case %d %+v: got %v (%s)", i, tc.conds, ok, failed)
		}
		if !ok && !strings.HasPrefix(failed, "u.service:3: Condition") {
			t.Errorf("case %d: failed line %q", i, failed)
		}
	}
	host, _ := os.Hostname()
	if ok, _, _ := evalConditions([]unitfile.Condition{c("Host", host, false, false)}, "Condition"); !ok {
		t.Error("Host= own hostname")
	}
	if ok, _, notes := evalConditions([]unitfile.Condition{c("ACPower", "true", false, false)}, "Condition"); !ok || len(notes) != 1 {
		t.Errorf("unknown kind: %v %q", ok, notes)
	}
}
