package unitfile

import (
	"reflect"
	"testing"
)

// DynamicUser=yes derives the user from the unit name and implies what
// systemd.exec(5) says it implies; the mount settings it implies are
// listed as not enforced while gosd does not apply them.
func TestDynamicUserImplies(t *testing.T) {
	u := buildText(t, "web@1.service", "[Service]\nExecStart=/bin/true\nDynamicUser=yes\nNoNewPrivileges=no\n")
	ec := u.Service.Exec
	if ec.User != "web" || ec.Group != "web" || !ec.NoNewPrivileges || !ec.RemoveIPC || !ec.RestrictSUIDSGID || !ec.IgnoreSIGPIPE {
		t.Errorf("got %+v", ec)
	}
	for _, e := range ec.Unenforced {
		if !execUnenforced[e.Key] || e.Pos.Line != 3 {
			t.Errorf("unenforced %+v", e)
		}
	}
	u = buildText(t, "a.service", "[Service]\nExecStart=/bin/true\nDynamicUser=yes\nUser=web\nGroup=www\nIgnoreSIGPIPE=no\n")
	if ec := u.Service.Exec; ec.User != "web" || ec.Group != "www" || ec.IgnoreSIGPIPE {
		t.Errorf("got %+v", ec)
	}
	if u := buildText(t, "b.service", "[Service]\nExecStart=/bin/true\nUser=web\n"); u.Service.Exec.NoNewPrivileges || u.Service.Exec.RemoveIPC {
		t.Errorf("without DynamicUser=: %+v", u.Service.Exec)
	}
}

func TestDynamicUserName(t *testing.T) {
	for unit, want := range map[string]string{
		"redis.service": "redis", "getty@tty1.service": "getty", "x-y_z.service": "x-y_z",
		"foo.bar.service": "_du", "9lives.service": "_du", "a-very-long-unit-name-beyond-31-chars.service": "_du",
	} {
		got := DynamicUserName(unit)
		if want == "_du" {
			if len(got) != 19 || got[:3] != "_du" || !ValidUserName(got) {
				t.Errorf("%s: %q, want a hashed _du name", unit, got)
			}
			continue
		}
		if got != want {
			t.Errorf("%s: %q, want %q", unit, got, want)
		}
	}
	if !reflect.DeepEqual(DynamicUserName("foo.bar.service"), DynamicUserName("foo.bar.socket")) {
		t.Error("the hash must depend on the prefix only")
	}
}
