package manager

import (
	"slices"
	"testing"
	"time"

	"gosd/unitfile"
)

func swapUnit(name, what string) *unitfile.Unit {
	u := baseUnit(name)
	u.Swap = &unitfile.Swap{What: what, TimeoutSec: 90 * time.Second}
	return u
}

// A swap unit probes, runs swapon (with its priority and options), and
// swapoff to stop; one in use already is active at once; a failing swapon
// fails the unit; swap.target and umount.target order it.
func TestSwapOnAndOff(t *testing.T) {
	sw := swapUnit("swapfile.swap", "/swapfile")
	prio := 7
	sw.Swap.Priority, sw.Swap.Options = &prio, "discard"
	h := newHarness(t, memSource{}.add(sw, swapUnit("dev-vdz.swap", "/dev/vdz"), swapUnit("dev-vdy.swap", "/dev/vdy"),
		target("swap.target"), target("umount.target")))
	s := h.m.units["swapfile.swap"]
	if !inUnits(s.deps[depBefore], h.m.units["swap.target"]) || !inUnits(s.deps[depConflicts], h.m.units["umount.target"]) {
		t.Fatalf("deps: before %v", names(s.deps[depBefore]))
	}
	effs := h.start("swapfile.swap")
	if p := find[ProbeSwap](effs); len(p) != 1 || p[0].What != "/swapfile" {
		t.Fatalf("probe:\n%s", dump(effs))
	}
	h.wantState("swapfile.swap", "activating/activating")
	argv, pid := h.controlArgv(h.step(SwapProbed{Unit: "swapfile.swap"}), "swapfile.swap")
	if want := []string{"swapon", "-p", "7", "-o", "discard", "/swapfile"}; !slices.Equal(argv, want) {
		t.Fatalf("swapon argv %q", argv)
	}
	h.step(Exited{Pid: pid, Status: exited(0)})
	h.wantState("swapfile.swap", "active/active")
	argv, pid = h.controlArgv(h.step(Request{Unit: "swapfile.swap", Kind: JobStop}), "swapfile.swap")
	if want := []string{"swapoff", "/swapfile"}; !slices.Equal(argv, want) {
		t.Fatalf("swapoff argv %q", argv)
	}
	h.wantState("swapfile.swap", "deactivating/deactivating")
	h.step(Exited{Pid: pid, Status: exited(0)})
	h.wantState("swapfile.swap", "inactive/dead")

	h.start("dev-vdz.swap")
	if effs := h.step(SwapProbed{Unit: "dev-vdz.swap", Active: true}); len(find[Spawn](effs)) != 0 {
		t.Fatalf("swapon run for an active swap:\n%s", dump(effs))
	}
	h.wantState("dev-vdz.swap", "active/active")

	h.start("dev-vdy.swap")
	_, pid = h.controlArgv(h.step(SwapProbed{Unit: "dev-vdy.swap"}), "dev-vdy.swap")
	h.step(Exited{Pid: pid, Status: exited(255)})
	h.wantState("dev-vdy.swap", "failed/failed")
}

// /proc/swaps is followed: a swap unit whose swap someone turns on is
// active, off is dead; a swap without a unit file gets a loaded unit made
// from the table (Requires= the mount its file is on), which goes when
// the swap goes, and which gosd's shutdown leaves on.
func TestSwapFollowsSwapTable(t *testing.T) {
	h := newHarness(t, memSource{}.add(swapUnit("dev-vdz.swap", "/dev/vdz"), mountUnit("data.mount", "/dev/vdb", "/data", "ext4", ""),
		target("swap.target")))
	h.step(MountsChanged{Added: points("/", "/data")})
	h.step(SwapsChanged{Added: []SwapDevice{{What: "/dev/vdz", Type: "partition", Priority: -2},
		{What: "/data/swap file", Type: "file", Priority: 5}, {What: "/dev/vdy", Type: "partition"}}})
	h.wantState("dev-vdz.swap", "active/active")
	name := `data-swap\x20file.swap`
	h.wantState(name, "active/active")
	st, _ := h.m.Status(name)
	if st.LoadState != "loaded" || st.Description != "/data/swap file" {
		t.Fatalf("%s: %+v", name, st)
	}
	u := h.m.units[name]
	if !inUnits(u.deps[depRequires], h.m.units["data.mount"]) || !inUnits(u.deps[depBefore], h.m.units["swap.target"]) {
		t.Fatalf("%s: requires %v before %v", name, names(u.deps[depRequires]), names(u.deps[depBefore]))
	}
	if d := h.m.TableUnit(name); d == nil || d.Unit.SourcePath != "/proc/swaps" || *d.Swap.Priority != 5 {
		t.Fatalf("table unit %+v", d)
	}
	// The shutdown leaves dev-vdy.swap on; the swap file goes off because
	// the mount it is on is unmounted (a stop of data.mount stops what
	// requires it first), as under systemd.
	effs := h.step(Shutdown{Action: "exit"})
	off := false
	for _, sp := range find[Spawn](effs) {
		if sp.Unit == "dev-vdy.swap" || sp.Unit == "data.mount" {
			t.Fatalf("shutdown ran %q for %s first:\n%s", sp.Cmd.Argv, sp.Unit, dump(effs))
		}
		if sp.Unit == name && sp.Cmd.Argv[0] == "swapoff" {
			off = true
		}
	}
	if !off {
		t.Fatalf("the swap file on /data was not turned off:\n%s", dump(effs))
	}
	h.step(SwapsChanged{Removed: []string{"/dev/vdy"}})
	if _, ok := h.m.Status("dev-vdy.swap"); ok {
		t.Fatal("dev-vdy.swap still loaded after swapoff")
	}
}

// A swap unit with a file turned off by someone else is dead.
func TestSwapTurnedOffByOthers(t *testing.T) {
	h := newHarness(t, memSource{}.add(swapUnit("dev-vdz.swap", "/dev/vdz")))
	h.step(SwapsChanged{Added: []SwapDevice{{What: "/dev/vdz", Type: "partition"}}})
	h.wantState("dev-vdz.swap", "active/active")
	h.step(SwapsChanged{Removed: []string{"/dev/vdz"}})
	h.wantState("dev-vdz.swap", "inactive/dead")
	if _, ok := h.m.Status("dev-vdz.swap"); !ok {
		t.Fatal("a swap unit with a file was unloaded")
	}
}
