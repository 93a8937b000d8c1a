package unitfile

import (
	"strings"
	"testing"
	"time"
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
	diags := FstabDiags("/etc/fstab", entries, nil)
	// Mount entries become mount units now (FstabMounts): only the swap
	// entry, which gosd does not enable, is named.
	if len(diags) != 1 || diags[0].Severity != Warning ||
		!strings.Contains(diags[0].String(), "/etc/fstab:4: warning: swap /dev/vdc is not enabled") {
		t.Fatalf("diags: %v", diags)
	}
}

// systemd-fstab-generator's mount units: what, where, type, options, the
// x-systemd.* dependencies, the target that pulls each in (nofail: Wants=,
// noauto: none, network: remote-fs.target); root, /usr and swap skipped.
func TestFstabMounts(t *testing.T) {
	entries := ParseFstab("UUID=1 / ext4 defaults 0 1\n" +
		"/dev/vdb /srv/my\\040data xfs defaults,x-systemd.requires=cryptsetup.target,x-systemd.mount-timeout=5s 0 2\n" +
		"/dev/vdc none swap sw 0 0\n" +
		"/dev/vdd /opt ext4 nofail 0 2\n" +
		"tmpfs /scratch tmpfs noauto\n" +
		"srv:/export /mnt/nfs nfs _netdev,x-systemd.requires=/srv 0 0\n" +
		"/dev/vde /usr ext4 defaults 0 2\n")
	got := FstabMounts("/etc/fstab", entries)
	byName := map[string]FstabMount{}
	var names []string
	for _, m := range got {
		byName[m.Name] = m
		names = append(names, m.Name)
	}
	want := []string{"srv-my\\x20data.mount", "opt.mount", "scratch.mount", "mnt-nfs.mount"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("units %q, want %q", names, want)
	}
	u := Build("srv-my\\x20data.mount", byName["srv-my\\x20data.mount"].Entries, BuildInfo{})
	if len(u.Diags) != 0 || u.LoadState != Loaded || u.Mount.What != "/dev/vdb" || u.Mount.Where != "/srv/my data" ||
		u.Mount.Type != "xfs" || u.Mount.TimeoutSec != 5*time.Second ||
		strings.Join(u.Unit.Requires, " ") != "cryptsetup.target" || strings.Join(u.Unit.After, " ") != "cryptsetup.target" ||
		u.Unit.SourcePath != "/etc/fstab" {
		t.Fatalf("srv mount: %+v %+v %v", u.Mount, u.Unit, u.Diags)
	}
	if m := byName["srv-my\\x20data.mount"]; m.WantedBy != "local-fs.target" || m.Wants || m.Entries[0].Pos.Line != 2 {
		t.Fatalf("srv pulled in by %q wants=%v pos %v", m.WantedBy, m.Wants, m.Entries[0].Pos)
	}
	if m := byName["opt.mount"]; m.WantedBy != "local-fs.target" || !m.Wants {
		t.Fatalf("nofail: %+v", m)
	}
	if m := byName["scratch.mount"]; m.WantedBy != "" {
		t.Fatalf("noauto: %+v", m)
	}
	n := Build("mnt-nfs.mount", byName["mnt-nfs.mount"].Entries, BuildInfo{})
	if m := byName["mnt-nfs.mount"]; m.WantedBy != "remote-fs.target" || strings.Join(n.Unit.RequiresMountsFor, " ") != "/srv" {
		t.Fatalf("nfs: %+v %+v", m, n.Unit)
	}
}
