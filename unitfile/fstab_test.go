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
		"tmpfs /scratch tmpfs noauto\n" +
		"swapfile none swap sw 0 0\n")
	diags := FstabDiags("/etc/fstab", entries, nil)
	// Mount and swap entries become units now (FstabMounts): only a swap
	// entry whose device has no name is named.
	if len(diags) != 1 || diags[0].Severity != Warning ||
		!strings.Contains(diags[0].String(), "/etc/fstab:6: warning: swap swapfile is not enabled") {
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
		"/dev/vde /usr ext4 defaults 0 2\n" +
		"proc /proc proc defaults 0 0\n" + // API file systems: not fstab's (mount_point_is_api)
		"tmpfs /dev/shm tmpfs defaults 0 0\n")
	got := FstabMounts("/etc/fstab", entries)
	byName := map[string]FstabMount{}
	var names []string
	for _, m := range got {
		byName[m.Name] = m
		names = append(names, m.Name)
	}
	want := []string{"srv-my\\x20data.mount", "dev-vdc.swap", "opt.mount", "scratch.mount", "mnt-nfs.mount"}
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
	sw := Build("dev-vdc.swap", byName["dev-vdc.swap"].Entries, BuildInfo{})
	if m := byName["dev-vdc.swap"]; m.WantedBy != "swap.target" || m.Wants || len(sw.Diags) != 0 || sw.Swap.What != "/dev/vdc" {
		t.Fatalf("swap: %+v %+v %v", m, sw.Swap, sw.Diags)
	}
	n := Build("mnt-nfs.mount", byName["mnt-nfs.mount"].Entries, BuildInfo{})
	if m := byName["mnt-nfs.mount"]; m.WantedBy != "remote-fs.target" || strings.Join(n.Unit.RequiresMountsFor, " ") != "/srv" {
		t.Fatalf("nfs: %+v %+v", m, n.Unit)
	}
}

// A swap entry by UUID= is named by its udev node; pri= is Priority=,
// nofail pulls it in with Wants=.
func TestFstabSwapByUUID(t *testing.T) {
	got := FstabMounts("/etc/fstab", ParseFstab("UUID=ab-cd none swap sw,pri=5,nofail,discard 0 0\n"))
	if len(got) != 1 || got[0].Name != `dev-disk-by\x2duuid-ab\x2dcd.swap` || !got[0].Wants || got[0].WantedBy != "swap.target" {
		t.Fatalf("got %+v", got)
	}
	u := Build(got[0].Name, got[0].Entries, BuildInfo{})
	if len(u.Diags) != 0 || u.Swap.What != "/dev/disk/by-uuid/ab-cd" || u.Swap.Priority == nil || *u.Swap.Priority != 5 ||
		u.Swap.Options != "discard" {
		t.Fatalf("swap %+v %v", u.Swap, u.Diags)
	}
}

// x-systemd.automount: the target pulls in NAME.automount (noauto or not;
// nofail makes it Wants=), the mount unit is left to be triggered, and
// x-systemd.idle-timeout= is the automount's TimeoutIdleSec=.
func TestFstabAutomount(t *testing.T) {
	entries := ParseFstab("/dev/vdb /data ext4 x-systemd.automount,x-systemd.idle-timeout=1min,noauto 0 2\n" +
		"srv:/x /mnt/x nfs x-systemd.automount,nofail 0 0\n")
	got := FstabMounts("/etc/fstab", entries)
	var names []string
	byName := map[string]FstabMount{}
	for _, m := range got {
		names = append(names, m.Name)
		byName[m.Name] = m
	}
	if strings.Join(names, " ") != "data.mount data.automount mnt-x.mount mnt-x.automount" {
		t.Fatalf("units %q", names)
	}
	if m := byName["data.mount"]; m.WantedBy != "" {
		t.Errorf("data.mount pulled in by %s; only its automount should be", m.WantedBy)
	}
	a := byName["data.automount"]
	if a.WantedBy != "local-fs.target" || a.Wants {
		t.Errorf("data.automount: wanted by %q (wants %v), want Requires= from local-fs.target", a.WantedBy, a.Wants)
	}
	if a := byName["mnt-x.automount"]; a.WantedBy != "remote-fs.target" || !a.Wants {
		t.Errorf("mnt-x.automount: wanted by %q (wants %v), want Wants= from remote-fs.target", a.WantedBy, a.Wants)
	}
	u := Build("data.automount", a.Entries, BuildInfo{})
	if len(u.Diags) != 0 || u.LoadState != Loaded || u.Automount.Where != "/data" ||
		u.Automount.TimeoutIdle != time.Minute || u.Automount.DirectoryMode != 0o755 || u.Unit.SourcePath != "/etc/fstab" {
		t.Fatalf("data.automount: %+v %v", u.Automount, u.Diags)
	}
	m := Build("data.mount", byName["data.mount"].Entries, BuildInfo{})
	if len(m.Diags) != 0 || m.Mount.What != "/dev/vdb" || m.Mount.Where != "/data" {
		t.Fatalf("data.mount: %+v %v", m.Mount, m.Diags)
	}
}

// A mount entry by UUID= mounts the udev node, as the generator writes
// What= (so its unit waits for that device).
func TestFstabMountByUUID(t *testing.T) {
	got := FstabMounts("/etc/fstab", ParseFstab("UUID=ab-cd /data ext4 nofail 0 2\n"))
	if len(got) != 1 || got[0].Name != "data.mount" {
		t.Fatalf("got %+v", got)
	}
	if u := Build("data.mount", got[0].Entries, BuildInfo{}); u.Mount.What != "/dev/disk/by-uuid/ab-cd" {
		t.Fatalf("What=%q", u.Mount.What)
	}
}

// x-systemd.device-timeout= is the device unit's JobRunningTimeoutSec=,
// for a device named by UUID= too; an entry that names no device has none.
func TestFstabDeviceTimeouts(t *testing.T) {
	got := FstabDeviceTimeouts("/etc/fstab", ParseFstab("UUID=ab-cd /data ext4 nofail,x-systemd.device-timeout=1s 0 2\n"+
		"tmpfs /t tmpfs x-systemd.device-timeout=5s\n/dev/vdc none swap x-systemd.device-timeout=2min\n"))
	if len(got) != 2 || got[0].Device != `dev-disk-by\x2duuid-ab\x2dcd.device` || got[0].Entry.Value != "1s" ||
		got[0].Entry.Key != "JobRunningTimeoutSec" || got[0].Entry.Pos.Line != 1 ||
		got[1].Device != "dev-vdc.device" || got[1].Entry.Value != "2min" {
		t.Fatalf("got %+v", got)
	}
}
