package manager

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gosd/unitfile"
)

func mountUnit(name, what, where, fstype, options string) *unitfile.Unit {
	u := baseUnit(name)
	u.Mount = &unitfile.Mount{What: what, Where: where, Type: fstype, Options: options, DirectoryMode: 0o755,
		TimeoutSec: 90 * time.Second}
	return u
}

// controlArgv answers the one control Spawn of unit and returns its argv.
func (h *harness) controlArgv(effs []Effect, unit string) ([]string, int) {
	h.t.Helper()
	for _, sp := range find[Spawn](effs) {
		if sp.Unit == unit && sp.Role == "control" {
			h.step(Spawned{ID: sp.ID, Pid: 4242})
			return sp.Cmd.Argv, 4242
		}
	}
	h.t.Fatalf("no control process of %s:\n%s", unit, dump(effs))
	return nil, 0
}

// A mount unit probes, runs mount(8) with systemd's command line (fstab's
// own options left out), is mounted on success, and runs umount(8) to stop.
func TestMountMountsAndUnmounts(t *testing.T) {
	mnt := mountUnit("srv-data.mount", "tmpfs", "/srv/data", "tmpfs", "size=1m,nofail,x-systemd.requires=a.service,mode=0700")
	mnt.Mount.LazyUnmount = true
	h := newHarness(t, memSource{}.add(mnt))
	effs := h.start("srv-data.mount")
	if p := find[ProbeMount](effs); len(p) != 1 || p[0].Where != "/srv/data" || p[0].DirectoryMode != 0o755 {
		t.Fatalf("probe:\n%s", dump(effs))
	}
	h.wantState("srv-data.mount", "activating/mounting")
	effs = h.step(MountProbed{Unit: "srv-data.mount"})
	argv, pid := h.controlArgv(effs, "srv-data.mount")
	if want := []string{"mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", "/srv/data"}; !slices.Equal(argv, want) {
		t.Fatalf("mount argv %q, want %q", argv, want)
	}
	h.step(Exited{Pid: pid, Status: exited(0)})
	h.wantState("srv-data.mount", "active/mounted")
	h.wantJob("srv-data.mount", ResultDone)
	effs = h.step(Request{Unit: "srv-data.mount", Kind: JobStop})
	h.wantState("srv-data.mount", "deactivating/unmounting")
	argv, pid = h.controlArgv(effs, "srv-data.mount")
	if want := []string{"umount", "-c", "-l", "/srv/data"}; !slices.Equal(argv, want) {
		t.Fatalf("umount argv %q, want %q", argv, want)
	}
	h.step(Exited{Pid: pid, Status: exited(0)})
	h.wantState("srv-data.mount", "inactive/dead")
}

// A mount point that is mounted already (by anyone) is taken as is; a
// failing mount(8) fails the unit and what requires it.
func TestMountAlreadyMountedAndFailure(t *testing.T) {
	a := mountUnit("a.mount", "tmpfs", "/a", "tmpfs", "")
	b := mountUnit("b.mount", "/dev/vdz", "/b", "ext4", "")
	user := oneshot("user.service")
	user.Unit.Requires, user.Unit.After = []string{"b.mount"}, []string{"b.mount"}
	h := newHarness(t, memSource{}.add(a, b, user))
	h.start("a.mount")
	effs := h.step(MountProbed{Unit: "a.mount", Mounted: true})
	if len(find[Spawn](effs)) != 0 {
		t.Fatalf("mounted again:\n%s", dump(effs))
	}
	h.wantState("a.mount", "active/mounted")

	h.start("user.service")
	_, pid := h.controlArgv(h.step(MountProbed{Unit: "b.mount"}), "b.mount")
	h.step(Exited{Pid: pid, Status: exited(32)})
	h.wantState("b.mount", "failed/failed")
	h.wantJob("user.service", ResultDependency)
}

// Dependencies: mounts above, the device, local-fs or remote-fs, nofail,
// umount.target; RequiresMountsFor= of another unit.
func TestMountDependencies(t *testing.T) {
	targets := []*unitfile.Unit{target("local-fs.target"), target("local-fs-pre.target"), target("remote-fs.target"),
		target("remote-fs-pre.target"), target("network-online.target"), target("umount.target")}
	srv := mountUnit("srv.mount", "/dev/vdb", "/srv", "ext4", "")
	data := mountUnit("srv-data.mount", "server:/export", "/srv/data", "nfs", "")
	opt := mountUnit("opt.mount", "/dev/vdc", "/opt", "ext4", "nofail")
	svc := oneshot("db.service")
	svc.Unit.RequiresMountsFor = []string{"/srv/data/db"}
	dev := baseUnit("dev-vdb.device")
	h := newHarness(t, memSource{}.add(append(targets, srv, data, opt, svc, dev)...))
	u := func(n string) *unit { return h.m.units[n] }
	has := func(list []*unit, n string) bool { return inUnits(list, u(n)) }
	s := u("srv.mount")
	if !has(s.deps[depBindsTo], "dev-vdb.device") || !has(s.deps[depAfter], "dev-vdb.device") ||
		!has(s.deps[depBefore], "local-fs.target") || !has(s.deps[depAfter], "local-fs-pre.target") ||
		!has(s.deps[depConflicts], "umount.target") || !has(s.deps[depBefore], "umount.target") {
		t.Fatalf("srv.mount: after %v before %v", names(s.deps[depAfter]), names(s.deps[depBefore]))
	}
	d := u("srv-data.mount")
	if !has(d.deps[depRequires], "srv.mount") || !has(d.deps[depAfter], "srv.mount") ||
		!has(d.deps[depBefore], "remote-fs.target") || has(d.deps[depBefore], "local-fs.target") ||
		!has(d.deps[depWants], "network-online.target") || !has(d.deps[depAfter], "network-online.target") {
		t.Fatalf("srv-data.mount: after %v before %v", names(d.deps[depAfter]), names(d.deps[depBefore]))
	}
	if o := u("opt.mount"); has(o.deps[depBefore], "local-fs.target") {
		t.Fatal("nofail mount is Before=local-fs.target")
	}
	db := u("db.service")
	if !has(db.deps[depRequires], "srv-data.mount") || !has(db.deps[depAfter], "srv.mount") {
		t.Fatalf("RequiresMountsFor=: requires %v", names(db.deps[depRequires]))
	}
}

// A stuck mount(8) is killed after TimeoutSec= and the unit fails.
func TestMountTimeout(t *testing.T) {
	m := mountUnit("m.mount", "server:/x", "/m", "nfs", "")
	m.Mount.TimeoutSec = 5 * time.Second
	h := newHarness(t, memSource{}.add(m))
	h.start("m.mount")
	_, pid := h.controlArgv(h.step(MountProbed{Unit: "m.mount"}), "m.mount")
	h.advance(5 * time.Second)
	effs := h.step(TimerFired{ID: TimerID{Unit: "m.mount", Kind: "state"}})
	if k := find[Kill](effs); len(k) != 1 || k[0].Pid != pid {
		t.Fatalf("kill:\n%s", dump(effs))
	}
	h.wantState("m.mount", "failed/failed")
	if st, _ := h.m.Status("m.mount"); st.Result != "timeout" {
		t.Fatalf("result %q", st.Result)
	}
}

// The root file system's unit is never unmounted by a stop (shutdown).
func TestMountRootIsNotUnmounted(t *testing.T) {
	h := newHarness(t, memSource{}.add(mountUnit("-.mount", "/dev/vda1", "/", "ext4", "")))
	h.start("-.mount")
	h.step(MountProbed{Unit: "-.mount", Mounted: true})
	h.wantState("-.mount", "active/mounted")
	effs := h.step(Request{Unit: "-.mount", Kind: JobStop})
	if len(find[Spawn](effs)) != 0 {
		t.Fatalf("umount / run:\n%s", dump(effs))
	}
	h.wantState("-.mount", "inactive/dead")
}

// The mount table is followed: a mount made by someone else makes the
// unit mounted, an unmount behind gosd's back makes it dead (and stops
// what is bound to it); gosd's own mount(8) in progress is not disturbed.
func TestMountFollowsMountTable(t *testing.T) {
	user := oneshot("user.service")
	user.Service.RemainAfterExit = true
	user.Unit.BindsTo, user.Unit.After = []string{"srv.mount"}, []string{"srv.mount"}
	h := newHarness(t, memSource{}.add(mountUnit("srv.mount", "tmpfs", "/srv", "tmpfs", ""),
		mountUnit("opt.mount", "tmpfs", "/opt", "tmpfs", ""), user))
	h.step(MountsChanged{Added: points("/", "/sys/kernel/debug", "/srv")})
	h.wantState("srv.mount", "active/mounted")
	h.wantState("opt.mount", "inactive/dead")
	h.wantState("-.mount", "active/mounted") // made from the table
	effs := h.start("user.service")
	h.runOnce(effs, "user.service")
	h.wantState("user.service", "active/exited")
	h.step(MountsChanged{Removed: []string{"/srv"}})
	h.wantState("srv.mount", "inactive/dead")
	h.wantState("user.service", "inactive/dead")

	h.start("opt.mount")
	effs = h.step(MountProbed{Unit: "opt.mount"})
	_, pid := h.controlArgv(effs, "opt.mount")
	h.step(MountsChanged{Added: points("/opt")}) // mount(8) did it; its exit decides
	h.wantState("opt.mount", "activating/mounting")
	h.step(Exited{Pid: pid, Status: exited(0)})
	h.wantState("opt.mount", "active/mounted")
}

// points are mount points of tmpfs file systems, as the reactor reports
// them.
func points(where ...string) []MountPoint {
	var out []MountPoint
	for _, w := range where {
		out = append(out, MountPoint{Where: w, What: "tmpfs", Type: "tmpfs", Options: "rw,nosuid"})
	}
	return out
}

// Every mount point of the table without a unit file gets a loaded,
// mounted unit, as under systemd: described by its path ("Root Mount"
// for /), listed, with the implicit dependencies systemd gives it (the
// mount above, the device by Requires= not BindsTo=, local-fs.target and
// umount.target unless it is the OS itself or an API file system). An
// unmount by someone else makes it go; a mount point too long for a unit
// name is named in a warning, not skipped silently.
func TestMountUnitsFromTable(t *testing.T) {
	targets := []*unitfile.Unit{target("local-fs.target"), target("local-fs-pre.target"), target("umount.target"),
		target("swap.target")}
	dev := baseUnit("dev-vdb.device")
	h := newHarness(t, memSource{}.add(append(targets, dev)...))
	long := "/" + strings.Repeat("x", 300)
	effs := h.step(MountsChanged{Added: []MountPoint{
		{Where: "/", What: "/dev/vda", Type: "ext4", Options: "rw,relatime"},
		{Where: "/proc", What: "proc", Type: "proc", Options: "rw,nosuid"},
		{Where: "/srv", What: "/dev/vdb", Type: "ext4", Options: "rw"},
		{Where: "/srv/cache", What: "tmpfs", Type: "tmpfs", Options: "rw"},
		{Where: "/sys", What: "sysfs", Type: "sysfs", Options: "rw"},
		{Where: "/sys/fs/cgroup/unified", What: "cgroup2", Type: "cgroup2", Options: "rw"},
		{Where: "/sys/kernel/debug", What: "debugfs", Type: "debugfs", Options: "rw"},
		{Where: long, What: "tmpfs", Type: "tmpfs"},
	}})
	warned := false
	for _, l := range find[Log](effs) {
		if l.Level == LevelWarning && strings.Contains(l.Msg, long) {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no warning for the mount point without a unit name:\n%s", dump(effs))
	}
	// The API file systems get none, as under systemd
	// (mount_point_is_api): nothing may depend on them.
	for _, n := range []string{"proc.mount", "sys.mount", "sys-fs-cgroup-unified.mount"} {
		if _, ok := h.m.Status(n); ok {
			t.Errorf("%s was made from the table", n)
		}
	}
	for _, n := range []string{"-.mount", "sys-kernel-debug.mount", "srv.mount", "srv-cache.mount"} {
		h.wantState(n, "active/mounted")
		st, _ := h.m.Status(n)
		if st.LoadState != "loaded" {
			t.Fatalf("%s is %s", n, st.LoadState)
		}
	}
	if st, _ := h.m.Status("-.mount"); st.Description != "Root Mount" {
		t.Fatalf("-.mount described as %q", st.Description)
	}
	if st, _ := h.m.Status("srv-cache.mount"); st.Description != "/srv/cache" {
		t.Fatalf("srv-cache.mount described as %q", st.Description)
	}
	listed := 0
	for _, st := range h.m.List() {
		if strings.HasSuffix(st.Name, ".mount") {
			listed++
		}
	}
	if listed != 4 {
		t.Fatalf("%d mount units listed, want 4", listed)
	}
	u := func(n string) *unit { return h.m.units[n] }
	has := func(list []*unit, n string) bool { return inUnits(list, u(n)) }
	srv, cache := u("srv.mount"), u("srv-cache.mount")
	if !has(srv.deps[depRequires], "dev-vdb.device") || has(srv.deps[depBindsTo], "dev-vdb.device") ||
		!has(srv.deps[depAfter], "dev-vdb.device") || !has(srv.deps[depRequires], "-.mount") ||
		!has(srv.deps[depBefore], "local-fs.target") || !has(srv.deps[depConflicts], "umount.target") {
		t.Fatalf("srv.mount: requires %v after %v before %v", names(srv.deps[depRequires]), names(srv.deps[depAfter]),
			names(srv.deps[depBefore]))
	}
	if !has(cache.deps[depRequires], "srv.mount") || !has(cache.deps[depAfter], "srv.mount") ||
		!has(cache.deps[depAfter], "swap.target") {
		t.Fatalf("srv-cache.mount: requires %v after %v", names(cache.deps[depRequires]), names(cache.deps[depAfter]))
	}
	for _, n := range []string{"-.mount", "sys-kernel-debug.mount"} {
		if x := u(n); has(x.deps[depBefore], "local-fs.target") || has(x.deps[depConflicts], "umount.target") {
			t.Fatalf("%s has default dependencies: before %v", n, names(x.deps[depBefore]))
		}
	}

	// Unmounted by someone else: dead, and gone.
	h.step(MountsChanged{Removed: []string{"/srv/cache"}})
	if _, ok := h.m.Status("srv-cache.mount"); ok {
		t.Fatal("srv-cache.mount is still loaded after its unmount")
	}
	if has(srv.deps[depRequiredBy], "srv-cache.mount") {
		t.Fatal("an edge to the forgotten unit is left")
	}
	// Mounted again: back.
	h.step(MountsChanged{Added: points("/srv/cache")})
	h.wantState("srv-cache.mount", "active/mounted")

	// A unit named by another before its mount appeared is loaded then.
	h.step(Request{Unit: "later.mount", Kind: JobStart})
	h.wantState("later.mount", "inactive/dead")
	h.step(MountsChanged{Added: points("/later")})
	h.wantState("later.mount", "active/mounted")
	if st, _ := h.m.Status("later.mount"); st.LoadState != "loaded" {
		t.Fatalf("later.mount is %s", st.LoadState)
	}
}

// gosd's shutdown leaves the units made from the table mounted (boot's
// final shutdown unmounts, as PID1) and completes without them; a unit
// with a file is unmounted by umount(8).
func TestMountShutdownLeavesTableMounts(t *testing.T) {
	h := newHarness(t, memSource{}.add(mountUnit("srv.mount", "tmpfs", "/srv", "tmpfs", "")))
	h.step(MountsChanged{Added: points("/", "/sys/kernel/debug", "/srv")})
	h.wantState("srv.mount", "active/mounted")
	effs := h.step(Shutdown{Action: "exit"})
	argv, pid := h.controlArgv(effs, "srv.mount")
	if argv[0] != "umount" {
		t.Fatalf("stop of srv.mount ran %q", argv)
	}
	for _, sp := range find[Spawn](effs) {
		if sp.Unit != "srv.mount" {
			t.Fatalf("shutdown spawned for %s:\n%s", sp.Unit, dump(effs))
		}
	}
	effs = h.step(Exited{Pid: pid, Status: exited(0)})
	if len(find[Exit](effs)) != 1 {
		t.Fatalf("shutdown did not complete:\n%s", dump(effs))
	}
	h.wantState("-.mount", "active/mounted")
	h.wantState("sys-kernel-debug.mount", "active/mounted")
}

// A daemon-reload keeps the units made from the table loaded.
func TestMountTableUnitsSurviveReload(t *testing.T) {
	h := newHarness(t, memSource{})
	h.step(MountsChanged{Added: points("/", "/run/user/0")})
	h.step(Reload{Units: memSource{}})
	h.wantState("run-user-0.mount", "active/mounted")
	if st, _ := h.m.Status("run-user-0.mount"); st.LoadState != "loaded" {
		t.Fatalf("run-user-0.mount is %s after a reload", st.LoadState)
	}
}

// A unit made from the table gives the units loaded before it that need
// its path (RequiresMountsFor=, a mount unit below it, a swap file on it)
// Requires= and After= on it, as systemd does when a mount unit appears;
// a job waiting on one of them then waits for it too.
func TestMountFromTableGetsDependents(t *testing.T) {
	db := oneshot("db.service")
	db.Unit.RequiresMountsFor = []string{"/srv/db/data"}
	other := oneshot("other.service")
	other.Unit.RequiresMountsFor = []string{"/srvx"}
	h := newHarness(t, memSource{}.add(db, other, mountUnit("srv-db-sub.mount", "tmpfs", "/srv/db/sub", "tmpfs", ""),
		swapUnit("srv-swap.swap", "/srv/swap")))
	h.step(MountsChanged{Added: points("/", "/srv")})
	u := func(n string) *unit { return h.m.units[n] }
	srv := u("srv.mount")
	for _, n := range []string{"db.service", "srv-db-sub.mount", "srv-swap.swap"} {
		if !inUnits(u(n).deps[depRequires], srv) || !inUnits(u(n).deps[depAfter], srv) {
			t.Errorf("%s: requires %v after %v", n, names(u(n).deps[depRequires]), names(u(n).deps[depAfter]))
		}
		if !inUnits(u(n).deps[depRequires], u("-.mount")) {
			t.Errorf("%s does not require -.mount", n)
		}
	}
	if inUnits(u("other.service").deps[depRequires], srv) {
		t.Error("/srvx is not under /srv")
	}
	// Unmounted: the unit goes, and with it the edges.
	h.step(MountsChanged{Removed: []string{"/srv"}})
	if inUnits(u("db.service").deps[depRequires], srv) {
		t.Error("db.service still requires the forgotten srv.mount")
	}
}
