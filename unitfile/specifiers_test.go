package unitfile

import (
	"os"
	"strings"
	"testing"
)

func testSpecifiers() Specifiers {
	return Specifiers{
		Arch: "x86-64", ImageVersion: "1.2", BootID: "b00b", BuildID: "bld", CacheDir: "/var/cache",
		CredentialsBase: "/run/credentials", ConfigDir: "/etc", Group: "root", GID: "0", Home: "/root",
		Hostname: "host.example.com", LogDir: "/var/log", MachineID: "m1d", ImageID: "img", OSID: "debian",
		PrettyHostname: "Pretty Host", Shell: "/bin/sh", StateDir: "/var/lib", RuntimeDir: "/run",
		TempDir: "/tmp", User: "root", UID: "0", KernelRelease: "6.1.0", VarTempDir: "/var/tmp",
		VersionID: "12", VariantID: "server",
	}
}

func TestExpand(t *testing.T) {
	s := testSpecifiers()
	frag := "/etc/systemd/system/foo-bar@.service"
	tests := []struct{ unit, in, want string }{
		{"foo.service", "plain", "plain"},
		{"foo.service", "%a %A %b %B %C %E %g %G %h %H", "x86-64 1.2 b00b bld /var/cache /etc root 0 /root host.example.com"},
		{"foo.service", "%l %L %m %M %o %q %s %S %t %T", "host /var/log m1d img debian Pretty Host /bin/sh /var/lib /run /tmp"},
		{"foo.service", "%u %U %v %V %w %W %%", "root 0 6.1.0 /var/tmp 12 server %"},
		{"foo.service", "%d", "/run/credentials/foo.service"},
		{"foo.service", "%n %N %p %P %i %I", "foo.service foo foo foo  "},
		{"foo-bar@a\\x2db-c.service", "%n|%N|%p|%P|%i|%I", "foo-bar@a\\x2db-c.service|foo-bar@a\\x2db-c|foo-bar|foo/bar|a\\x2db-c|a-b/c"},
		{"foo-bar@dev-sda1.service", "%f", "/dev/sda1"},
		{"dev-sda1.device", "%f", "/dev/sda1"},
		{"-.mount", "%f", "/"},
		{"foo-bar-baz.service", "%j %J", "baz baz"},
		{"foo-bar-b\\x2dz@i.service", "%j|%J", "b\\x2dz|b-z"},
		{"foo.service", "%j %J", "foo foo"},
		{"foo@i.service", "%y %Y", frag + " /etc/systemd/system"},
		{"foo.service", "100%", "100%"},
		{"foo.service", "%%i", "%i"},
		{"foo@.service", "[%i]", "[]"},
	}
	for _, tc := range tests {
		got, err := s.Expand(tc.in, tc.unit, frag)
		if err != nil || got != tc.want {
			t.Errorf("Expand(%q, %q) = %q, %v; want %q", tc.in, tc.unit, got, err, tc.want)
		}
	}
	for _, bad := range []string{"%x", "%Z", "a %R b", "%é"} {
		if got, err := s.Expand(bad, "foo.service", frag); err == nil {
			t.Errorf("Expand(%q) = %q, want error for unknown specifier", bad, got)
		}
	}
	if got, err := s.Expand("%I", "foo@a\\x4.service", ""); err == nil {
		t.Errorf("Expand(%%I) of a bad escape = %q, want error", got)
	}
}

func TestSystemSpecifiers(t *testing.T) {
	s := SystemSpecifiers()
	host, _ := os.Hostname()
	if s.Hostname != host {
		t.Errorf("Hostname %q, want %q", s.Hostname, host)
	}
	if id, err := os.ReadFile("/etc/machine-id"); err == nil && s.MachineID != strings.TrimSpace(string(id)) {
		t.Errorf("MachineID %q", s.MachineID)
	}
	if len(s.BootID) != 32 || strings.Contains(s.BootID, "-") {
		t.Errorf("BootID %q is not 32 hex digits", s.BootID)
	}
	if s.KernelRelease == "" || s.Arch == "" {
		t.Errorf("kernel release %q, arch %q", s.KernelRelease, s.Arch)
	}
	rootShell := passwdShell("0")
	if rootShell == "" {
		rootShell = "/bin/sh"
	}
	if os.Getuid() == 0 && (s.User != "root" || s.Home != "/root" || s.UID != "0" || s.Shell != rootShell) {
		t.Errorf("root manager: %+v", s)
	}
	if osr, err := os.ReadFile("/etc/os-release"); err == nil && !strings.Contains(string(osr), "ID="+s.OSID) {
		t.Errorf("OSID %q not in os-release", s.OSID)
	}
	if s.RuntimeDir != "/run" || s.StateDir != "/var/lib" || s.CacheDir != "/var/cache" || s.LogDir != "/var/log" ||
		s.ConfigDir != "/etc" || s.TempDir != "/tmp" || s.VarTempDir != "/var/tmp" {
		t.Errorf("system dirs: %+v", s)
	}
}
