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
