package unitfile

import (
	"strings"
	"testing"
)

func TestParseFstab(t *testing.T) {
	text := "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n" +
		"UUID=1234 / ext4 errors=remount-ro 0 1\n" +
		"\n" +
		"/dev/vdb   /srv/my\\040data/  xfs defaults,noatime 0 2\n" +
		"/dev/vdc none swap sw 0 0\n" +
		"tmpfs /scratch tmpfs noauto\n" +
		"broken line\n" +
		"  # an indented comment\n" +
		"//srv/share#1 /mnt//win cifs guest 0 0\n"
	got := ParseFstab(text)
	want := []FstabEntry{
		{What: "UUID=1234", Where: "/", Type: "ext4", Options: "errors=remount-ro", Line: 2},
		{What: "/dev/vdb", Where: "/srv/my data", Type: "xfs", Options: "defaults,noatime", Line: 4},
		{What: "/dev/vdc", Where: "none", Type: "swap", Options: "sw", Line: 5},
		{What: "tmpfs", Where: "/scratch", Type: "tmpfs", Options: "noauto", Line: 6},
		{What: "//srv/share#1", Where: "/mnt/win", Type: "cifs", Options: "guest", Line: 9},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFstabDiags(t *testing.T) {
	entries := ParseFstab("UUID=1 / ext4 defaults 0 1\n" +
		"/dev/vdb /srv xfs defaults 0 2\n" +
		"/dev/vdd /var/lib xfs defaults 0 2\n" +
		"/dev/vdc none swap sw 0 0\n" +
		"tmpfs /scratch tmpfs noauto\n")
	mounted := map[string]bool{"/": true, "/var/lib": true}
	diags := FstabDiags("/etc/fstab", entries, func(p string) bool { return mounted[p] })
	var lines []string
	for _, d := range diags {
		if d.Severity != Warning {
			t.Errorf("%s: want a warning", d)
		}
		lines = append(lines, d.String())
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"/etc/fstab:2: warning: /dev/vdb on /srv (xfs) is not mounted: gosd does not run mount units",
		"/etc/fstab:4: warning: swap /dev/vdc is not enabled",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if len(diags) != 2 {
		t.Errorf("want 2 diagnostics (root, a mounted entry and noauto say nothing), got:\n%s", got)
	}
}
