package unitfile

import (
	"strings"
	"testing"
	"time"
)

// [Automount] as systemd-analyze verify reads it (systemd.automount(5)):
// Where= from the name when missing, refused when it does not match, for
// the root, or when ExtraOptions= names an option gosd sets itself.
func TestAutomountSection(t *testing.T) {
	parse := func(name, text string) *Unit {
		t.Helper()
		entries, diags := Parse("/etc/systemd/system/"+name, []byte(text))
		if len(diags) != 0 {
			t.Fatalf("parse: %v", diags)
		}
		return Build(name, entries, BuildInfo{FragmentPath: "/etc/systemd/system/" + name})
	}
	u := parse("srv-data.automount", "[Automount]\nExtraOptions=strictexpire\nDirectoryMode=0700\nTimeoutIdleSec=5min 20s\n")
	if u.LoadState != Loaded || len(u.Diags) != 0 {
		t.Fatalf("load %v: %v", u.LoadState, u.Diags)
	}
	a := u.Automount
	if a.Where != "/srv/data" || a.ExtraOptions != "strictexpire" || a.DirectoryMode != 0o700 || a.TimeoutIdle != 320*time.Second {
		t.Fatalf("automount %+v", a)
	}
	for _, c := range []struct{ name, text, msg string }{
		{"srv-data.automount", "[Automount]\nWhere=/srv/other\n", "Where= setting doesn't match unit name"},
		{"-.automount", "[Automount]\nWhere=/\n", "Cannot have an automount unit for the root directory"},
		{"srv.automount", "[Automount]\nExtraOptions=ro,fd=3\n", "reserved option fd"},
		{"srv.automount", "[Automount]\nExtraOptions=pgrp=1\n", "reserved option pgrp"},
	} {
		u := parse(c.name, c.text)
		if u.LoadState != BadSetting || len(u.Diags) == 0 || !strings.Contains(u.Diags[0].Msg, c.msg) {
			t.Errorf("%s %q: load %v, diags %v; want %q", c.name, c.text, u.LoadState, u.Diags, c.msg)
		}
	}
	// A key of another type's section warns and changes nothing.
	u = parse("srv.automount", "[Automount]\nWhat=/dev/vdb\n")
	if u.LoadState != Loaded || len(u.Diags) != 1 || u.Diags[0].Severity != Warning {
		t.Fatalf("unknown key: %v %v", u.LoadState, u.Diags)
	}
}
