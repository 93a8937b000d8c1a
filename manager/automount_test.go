package manager

import (
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"gosd/unitfile"
)

func automountUnit(name, where string, idle time.Duration) *unitfile.Unit {
	u := baseUnit(name)
	u.Automount = &unitfile.Automount{Where: where, DirectoryMode: 0o755, TimeoutIdle: idle}
	return u
}

// replies are the AutomountReply effects among effs, by token.
func replies(effs []Effect) map[uint32]syscall.Errno {
	out := map[uint32]syscall.Errno{}
	for _, r := range find[AutomountReply](effs) {
		for _, tok := range r.Tokens {
			out[tok] = r.Err
		}
	}
	return out
}

// mountIt carries a mount unit's start through probe and mount(8).
func (h *harness) mountIt(effs []Effect, unit string) []Effect {
	h.t.Helper()
	if len(find[ProbeMount](effs)) != 1 {
		h.t.Fatalf("no mount of %s:\n%s", unit, dump(effs))
	}
	_, pid := h.controlArgv(h.step(MountProbed{Unit: unit}), unit)
	return h.step(Exited{Pid: pid, Status: exited(0)})
}

// The life of an automount point: set up (waiting), a process looks at it
// (running, the mount unit started, the process let go once mounted),
// idle expiry (the mount stopped, the kernel answered once it is gone),
// and a stop that unmounts the point.
func TestAutomountTriggersAndExpires(t *testing.T) {
	am := automountUnit("srv-data.automount", "/srv/data", 30*time.Second)
	mnt := mountUnit("srv-data.mount", "tmpfs", "/srv/data", "tmpfs", "")
	h := newHarness(t, memSource{}.add(am, mnt, target("local-fs.target"), target("umount.target"), target("local-fs-pre.target")))
	a, m := h.m.units["srv-data.automount"], h.m.units["srv-data.mount"]
	if !inUnits(a.deps[depBefore], m) || !inUnits(a.deps[depTriggers], m) ||
		!inUnits(a.deps[depBefore], h.m.units["local-fs.target"]) || !inUnits(a.deps[depConflicts], h.m.units["umount.target"]) ||
		!inUnits(a.deps[depAfter], h.m.units["local-fs-pre.target"]) {
		t.Fatalf("deps: before %v, triggers %v", names(a.deps[depBefore]), names(a.deps[depTriggers]))
	}
	effs := h.start("srv-data.automount")
	st := find[StartAutomount](effs)
	if len(st) != 1 || st[0].Where != "/srv/data" || st[0].TimeoutIdle != 30*time.Second || st[0].DirectoryMode != 0o755 {
		t.Fatalf("start:\n%s", dump(effs))
	}
	h.step(AutomountStarted{Unit: "srv-data.automount"})
	h.wantState("srv-data.automount", "active/waiting")
	h.wantJob("srv-data.automount", ResultDone)

	// A process looks: the mount unit starts; the kernel's request waits
	// for it.
	effs = h.step(AutomountRequest{Unit: "srv-data.automount", Token: 7, PID: 321, Comm: "ls"})
	h.wantState("srv-data.automount", "active/running")
	if !hasLog(effs, "Got automount request for /srv/data, triggered by 321 (ls)") {
		t.Errorf("no request line:\n%s", dump(effs))
	}
	if len(replies(effs)) != 0 {
		t.Fatalf("answered before the mount:\n%s", dump(effs))
	}
	// A second process while mount(8) runs waits as well.
	h.step(AutomountRequest{Unit: "srv-data.automount", Token: 8})
	effs = h.mountIt(effs, "srv-data.mount")
	h.wantState("srv-data.mount", "active/mounted")
	if r := replies(effs); len(r) != 2 || r[7] != 0 || r[8] != 0 {
		t.Fatalf("replies %v:\n%s", r, dump(effs))
	}
	// Idle expiry every third of TimeoutIdleSec=.
	var timer []SetTimer
	for _, s := range find[SetTimer](effs) {
		if s.ID.Kind == "expire" {
			timer = append(timer, s)
		}
	}
	if len(timer) != 1 || timer[0].At != h.now+10*time.Second {
		t.Fatalf("expire timer %v", timer)
	}
	h.advance(10 * time.Second)
	effs = h.step(TimerFired{ID: timer[0].ID})
	if e := find[ExpireAutomount](effs); len(e) != 1 || e[0].Where != "/srv/data" {
		t.Fatalf("expire:\n%s", dump(effs))
	}
	// The kernel offers the idle mount: the mount unit stops, the answer
	// waits for umount(8).
	effs = h.step(AutomountRequest{Unit: "srv-data.automount", Expire: true, Token: 9})
	h.wantState("srv-data.mount", "deactivating/unmounting")
	_, pid := h.controlArgv(effs, "srv-data.mount")
	if len(replies(effs)) != 0 {
		t.Fatalf("expire answered early:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: pid, Status: exited(0)})
	if r := replies(effs); len(r) != 1 || r[9] != 0 {
		t.Fatalf("expire replies %v:\n%s", r, dump(effs))
	}
	h.wantState("srv-data.automount", "active/waiting")
	h.wantState("srv-data.mount", "inactive/dead")

	// Stop: the point is unmounted.
	effs = h.step(Request{Unit: "srv-data.automount", Kind: JobStop})
	if len(find[StopAutomount](effs)) != 1 {
		t.Fatalf("stop:\n%s", dump(effs))
	}
	h.wantState("srv-data.automount", "inactive/dead")
}

// A mount that fails lets the waiting process go with ENODEV, and the
// point waits again; a stop with requests pending fails them with
// EHOSTDOWN before the point goes.
func TestAutomountMountFailsAndStopReleases(t *testing.T) {
	h := newHarness(t, memSource{}.add(automountUnit("x.automount", "/x", 0), mountUnit("x.mount", "/dev/vdz", "/x", "ext4", "")))
	h.start("x.automount")
	h.step(AutomountStarted{Unit: "x.automount"})
	effs := h.step(AutomountRequest{Unit: "x.automount", Token: 1, PID: 5})
	_, pid := h.controlArgv(h.step(MountProbed{Unit: "x.mount"}), "x.mount")
	_ = effs
	effs = h.step(Exited{Pid: pid, Status: exited(32)})
	h.wantState("x.mount", "failed/failed")
	if r := replies(effs); len(r) != 1 || r[1] != syscall.ENODEV {
		t.Fatalf("replies %v:\n%s", r, dump(effs))
	}
	h.wantState("x.automount", "active/waiting")
	if len(find[SetTimer](effs)) != 0 {
		t.Errorf("expire timer without TimeoutIdleSec=:\n%s", dump(effs))
	}

	// Pending requests at stop.
	h.step(AutomountRequest{Unit: "x.automount", Token: 2})
	effs = h.step(Request{Unit: "x.automount", Kind: JobStop})
	stop := index(effs, func(e Effect) bool { _, ok := e.(StopAutomount); return ok })
	reply := index(effs, func(e Effect) bool { _, ok := e.(AutomountReply); return ok })
	if r := replies(effs); r[2] != syscall.EHOSTDOWN || stop < 0 || reply > stop {
		t.Fatalf("stop with a pending request:\n%s", dump(effs))
	}
	h.wantState("x.automount", "inactive/dead")
}

// Starts that cannot set up: no autofs in the kernel (job "unsupported",
// unit inactive, as systemd), a mount point already there (job failed,
// unit inactive), a setup error (failed, resources), a mount unit that
// does not exist (refused).
func TestAutomountStartRefusals(t *testing.T) {
	h := newHarness(t, memSource{}.add(
		automountUnit("a.automount", "/a", 0), mountUnit("a.mount", "tmpfs", "/a", "tmpfs", ""),
		automountUnit("b.automount", "/b", 0), mountUnit("b.mount", "tmpfs", "/b", "tmpfs", ""),
		automountUnit("c.automount", "/c", 0), mountUnit("c.mount", "tmpfs", "/c", "tmpfs", ""),
		automountUnit("d.automount", "/d", 0)))

	h.start("a.automount")
	effs := h.step(AutomountStarted{Unit: "a.automount", Unsupported: true, Err: syscall.ENODEV})
	h.wantJob("a.automount", ResultUnsupported)
	h.wantState("a.automount", "inactive/dead")
	if !hasLog(effs, "Starting of a.automount unsupported") {
		t.Errorf("no reason logged:\n%s", dump(effs))
	}

	h.start("b.automount")
	effs = h.step(AutomountStarted{Unit: "b.automount", AlreadyMounted: true})
	h.wantJob("b.automount", ResultFailed)
	h.wantState("b.automount", "inactive/dead")
	if !hasLog(effs, "Path /b is already a mount point, refusing start.") {
		t.Errorf("no refusal logged:\n%s", dump(effs))
	}

	h.start("c.automount")
	h.step(AutomountStarted{Unit: "c.automount", Err: syscall.EPERM})
	h.wantState("c.automount", "failed/failed")
	if u := h.m.units["c.automount"]; u.result != "resources" {
		t.Errorf("result %q", u.result)
	}

	effs = h.start("d.automount")
	if len(find[StartAutomount](effs)) != 0 || !hasLog(effs, "Refusing to start, unit d.mount to trigger not loaded.") {
		t.Fatalf("d:\n%s", dump(effs))
	}
	h.wantJob("d.automount", ResultFailed)
}

// What the kernel or a late event can hand in must not move a unit that
// is not waiting for it: requests and setup answers for a stopped unit,
// for a unit of another type or none, a failed pipe (the unit fails, its
// point goes), and a request while the mount is already there (answered
// at once).
func TestAutomountHostileEvents(t *testing.T) {
	svcU := svc("s.service", "simple")
	h := newHarness(t, memSource{}.add(automountUnit("x.automount", "/x", 0), mountUnit("x.mount", "tmpfs", "/x", "tmpfs", ""), svcU))
	for _, ev := range []Event{
		AutomountRequest{Unit: "x.automount", Token: 1},
		AutomountRequest{Unit: "s.service", Token: 1},
		AutomountRequest{Unit: "nope.automount", Token: 1, Err: syscall.EIO},
		AutomountStarted{Unit: "x.automount"},
		AutomountStarted{Unit: "s.service"},
	} {
		if effs := h.step(ev); len(find[AutomountReply](effs))+len(find[StopAutomount](effs))+len(find[UnitChanged](effs)) != 0 {
			t.Fatalf("%+v moved something:\n%s", ev, dump(effs))
		}
	}
	h.wantState("x.automount", "inactive/dead")

	// The stop came before the setup's answer: the answer is ignored.
	h.start("x.automount")
	h.step(Request{Unit: "x.automount", Kind: JobStop})
	h.step(AutomountStarted{Unit: "x.automount"})
	h.wantState("x.automount", "inactive/dead")

	h.start("x.automount")
	h.step(AutomountStarted{Unit: "x.automount"})
	effs := h.step(AutomountRequest{Unit: "x.automount", Token: 3, Covered: true})
	if r := replies(effs); len(r) != 1 || r[3] != 0 || len(find[ProbeMount](effs)) != 0 {
		t.Fatalf("covered request:\n%s", dump(effs))
	}
	effs = h.step(AutomountRequest{Unit: "x.automount", Err: syscall.EIO})
	h.wantState("x.automount", "failed/failed")
	if len(find[StopAutomount](effs)) != 1 || !hasLog(effs, "Invalid read from pipe") {
		t.Fatalf("pipe error:\n%s", dump(effs))
	}
	// Nothing more reaches a failed unit.
	if effs := h.step(AutomountRequest{Unit: "x.automount", Token: 4}); len(find[AutomountReply](effs))+len(find[StopAutomount](effs)) != 0 {
		t.Fatalf("request after the failure:\n%s", dump(effs))
	}
}

// reexec saves h's manager, sends the state through JSON as daemon-reexec
// does, and restores it into a fresh manager of src: the harness drives
// that one from then on. It returns Restore's effects.
func (h *harness) reexec(src memSource) []Effect {
	h.t.Helper()
	saved, err := h.m.Save()
	if err != nil {
		h.t.Fatalf("Save: %v", err)
	}
	data, err := json.Marshal(saved)
	if err != nil {
		h.t.Fatal(err)
	}
	var back Saved
	if err := json.Unmarshal(data, &back); err != nil {
		h.t.Fatal(err)
	}
	h.m = New(src)
	effs, _ := h.m.Restore(h.now, back)
	return effs
}

// An automount point survives daemon-reexec: a waiting point is adopted
// (the reactor takes its pipe over) and mounts on the next request; a
// running one keeps its idle expiry (the timer re-armed) and expires as
// before. Save refuses only while the point is being set up.
func TestAutomountSurvivesReexec(t *testing.T) {
	src := memSource{}.add(automountUnit("srv-data.automount", "/srv/data", 30*time.Second),
		mountUnit("srv-data.mount", "tmpfs", "/srv/data", "tmpfs", ""),
		target("local-fs.target"), target("umount.target"), target("local-fs-pre.target"))
	h := newHarness(t, src)
	h.start("srv-data.automount")
	if _, err := h.m.Save(); err == nil {
		t.Fatal("Save while the point is set up")
	}
	h.step(AutomountStarted{Unit: "srv-data.automount"})
	h.wantState("srv-data.automount", "active/waiting")

	effs := h.reexec(src)
	if a := find[AdoptAutomount](effs); len(a) != 1 || a[0].Unit != "srv-data.automount" || a[0].Where != "/srv/data" {
		t.Fatalf("Restore of a waiting point:\n%s", dump(effs))
	}
	h.wantState("srv-data.automount", "active/waiting")
	// A request the new gosd reads mounts the file system.
	effs = h.step(AutomountRequest{Unit: "srv-data.automount", Token: 7, PID: 321, Comm: "ls"})
	h.wantState("srv-data.automount", "active/running")
	effs = h.mountIt(effs, "srv-data.mount")
	if r := replies(effs); len(r) != 1 || r[7] != 0 {
		t.Fatalf("replies after the re-exec %v:\n%s", r, dump(effs))
	}

	// Running, with the expiry checks armed: they are armed again.
	effs = h.reexec(src)
	h.wantState("srv-data.automount", "active/running")
	h.wantState("srv-data.mount", "active/mounted")
	var timer []SetTimer
	for _, s := range find[SetTimer](effs) {
		if s.ID.Kind == "expire" {
			timer = append(timer, s)
		}
	}
	if len(find[AdoptAutomount](effs)) != 1 || len(timer) != 1 || timer[0].At != h.now+10*time.Second {
		t.Fatalf("Restore of a running point:\n%s", dump(effs))
	}
	h.advance(10 * time.Second)
	if e := find[ExpireAutomount](h.step(TimerFired{ID: timer[0].ID})); len(e) != 1 || e[0].Where != "/srv/data" {
		t.Fatal("no expiry after the re-exec")
	}
	effs = h.step(AutomountRequest{Unit: "srv-data.automount", Expire: true, Token: 9})
	_, pid := h.controlArgv(effs, "srv-data.mount")
	if r := replies(h.step(Exited{Pid: pid, Status: exited(0)})); len(r) != 1 || r[9] != 0 {
		t.Fatalf("expire replies %v", r)
	}
	h.wantState("srv-data.automount", "active/waiting")
	h.wantState("srv-data.mount", "inactive/dead")

	// Its file gone before the re-exec: the point is still adopted and a
	// stop unmounts it.
	gone := memSource{}.add(mountUnit("srv-data.mount", "tmpfs", "/srv/data", "tmpfs", ""),
		target("local-fs.target"), target("umount.target"), target("local-fs-pre.target"))
	effs = h.reexec(gone)
	if a := find[AdoptAutomount](effs); len(a) != 1 || a[0].Where != "/srv/data" {
		t.Fatalf("Restore without the unit's file:\n%s", dump(effs))
	}
	effs = h.step(Request{ID: 2, Unit: "srv-data.automount", Kind: JobStop})
	if s := find[StopAutomount](effs); len(s) != 1 || s[0].Where != "/srv/data" {
		t.Fatalf("stop without the unit's file:\n%s", dump(effs))
	}
	h.wantState("srv-data.automount", "inactive/dead")
	// Stopped, there is no point to adopt.
	if effs := h.reexec(src); len(find[AdoptAutomount](effs)) != 0 {
		t.Fatalf("Restore of a stopped point:\n%s", dump(effs))
	}
}

// Requests the manager had not answered yet go over with the point and
// are answered by the new manager.
func TestAutomountReexecKeepsTokens(t *testing.T) {
	src := memSource{}.add(automountUnit("x.automount", "/x", 0), mountUnit("x.mount", "/dev/vdz", "/x", "ext4", ""))
	h := newHarness(t, src)
	h.start("x.automount")
	h.step(AutomountStarted{Unit: "x.automount"})
	r := h.m.units["x.automount"].impl.(*automountRun)
	// Planted: a settled manager has none (answering them ends a job),
	// but what it holds must not be lost.
	r.tokens, r.expireTokens = []uint32{4, 5}, []uint32{6}
	h.reexec(src)
	effs := h.step(Request{ID: 2, Unit: "x.automount", Kind: JobStop})
	if r := replies(effs); len(r) != 3 || r[4] != syscall.EHOSTDOWN || r[5] != syscall.EHOSTDOWN || r[6] != syscall.EHOSTDOWN {
		t.Fatalf("replies %v:\n%s", r, dump(effs))
	}
}
