package unitfile

import (
	"reflect"
	"slices"
	"strings"
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

// ProtectClock=yes drops the clock capabilities from the bounding set and
// names the device rule it implies as not enforced.
func TestProtectClockImplies(t *testing.T) {
	u := buildText(t, "c.service", "[Service]\nExecStart=/bin/true\nProtectClock=yes\n")
	if got := u.Service.Exec.CapabilityBoundingSet; len(got) != len(Capabilities)-2 || slices.Contains(got, "CAP_SYS_TIME") || slices.Contains(got, "CAP_WAKE_ALARM") {
		t.Errorf("bounding set %v", got)
	}
	u = buildText(t, "c.service", "[Service]\nExecStart=/bin/true\nCapabilityBoundingSet=CAP_SYS_TIME CAP_NET_ADMIN\nProtectClock=yes\n")
	if got := u.Service.Exec.CapabilityBoundingSet; !reflect.DeepEqual(got, []string{"CAP_NET_ADMIN"}) {
		t.Errorf("bounding set %v", got)
	}
	if got := u.Service.Resources.DeviceAllow; !reflect.DeepEqual(got, []DeviceRule{{"char-rtc", "r"}}) {
		t.Errorf("implied DeviceAllow= %v", got)
	}
}

// SystemCallFilter=, RestrictAddressFamilies= and RestrictNamespaces=
// merge their assignments as systemd does.
func TestSeccompSettingsMerge(t *testing.T) {
	u := buildText(t, "s.service", "[Service]\nExecStart=/bin/true\nSystemCallFilter=~@clock\nSystemCallFilter=clock_settime\n"+
		"RestrictAddressFamilies=AF_UNIX AF_INET\nRestrictAddressFamilies=~AF_INET\nRestrictAddressFamilies=AF_BOGUS\n"+
		"RestrictNamespaces=mnt pid\nRestrictNamespaces=~mnt usr\nRestrictNamespaces=uts\n"+
		"SystemCallErrorNumber=EPERM\nSystemCallArchitectures=native x86\n")
	ec := u.Service.Exec
	if f := ec.SystemCallFilter; f == nil || f.AllowList || f.Calls["clock_adjtime"] != -1 {
		t.Errorf("filter %+v", f)
	} else if _, ok := f.Calls["clock_settime"]; ok {
		t.Error("clock_settime was allowed back and must be gone from the deny list")
	}
	if !ec.AddressFamiliesAllowList || !reflect.DeepEqual(ec.RestrictAddressFamilies, []string{"AF_UNIX"}) {
		t.Errorf("families %v allow=%v", ec.RestrictAddressFamilies, ec.AddressFamiliesAllowList)
	}
	// "~mnt usr" is refused whole for the unknown "usr" (systemd), so pid
	// and mnt stay, and uts joins.
	if ec.RestrictNamespaces == nil || *ec.RestrictNamespaces != 0x20000000|0x00020000|0x04000000 {
		t.Errorf("namespaces %#x", *ec.RestrictNamespaces)
	}
	if ec.SystemCallErrorNumber != 1 || !reflect.DeepEqual(ec.SystemCallArchitectures, []string{"native", "x86"}) {
		t.Errorf("errno %d archs %v", ec.SystemCallErrorNumber, ec.SystemCallArchitectures)
	}
	var warned int
	for _, d := range u.Diags {
		if strings.Contains(d.String(), "AF_BOGUS") || strings.Contains(d.String(), "usr") {
			warned++
		}
	}
	if warned != 2 {
		t.Errorf("diags %v", u.Diags)
	}
}

// Specifiers in command lines are resolved per word after unquoting
// (exec-specifier.service): "%i" of a non-instance leaves an empty word,
// a value with spaces stays one word, and the path may come from one.
func TestExecSpecifiersPerWord(t *testing.T) {
	u := buildText(t, "a b.service", "[Service]\nExecStart=test %i = \"\" %N\nExecStartPost=/%N/x 'q %i'\n")
	if got := u.Service.ExecStart[0].Argv; !reflect.DeepEqual(got, []string{"test", "", "=", "", "a b"}) {
		t.Errorf("argv %q", got)
	}
	if c := u.Service.ExecStartPost; len(c) != 1 || c[0].Path != "/a b/x" || c[0].Argv[1] != "q " {
		t.Errorf("%+v %s", c, diagsText(u))
	}
}

func TestCredentialKeys(t *testing.T) {
	u := buildText(t, "c.service", "[Service]\nExecStart=/bin/true\nLoadCredential=a:/etc/a\nLoadCredential=b\n"+
		"SetCredential=c:x\\ny\nLoadCredentialEncrypted=d:/e\nLoadCredential=../x:/y\nSetCredential=\n")
	got := u.Service.Exec.Credentials
	want := []Credential{{ID: "a", Path: "/etc/a"}, {ID: "b", Path: "b"}, {ID: "d", Path: "/e", Encrypted: true}}
	if !reflect.DeepEqual(got, want) || len(u.Diags) != 1 {
		t.Errorf("got %+v, diags %s", got, diagsText(u))
	}
	u = buildText(t, "c.service", "[Service]\nExecStart=/bin/true\nSetCredential=c:x\\ny\n")
	if got := u.Service.Exec.Credentials; len(got) != 1 || string(got[0].Value) != "x\ny" || !got[0].Set {
		t.Errorf("got %+v", got)
	}
}
