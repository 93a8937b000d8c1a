package manager

import "testing"

// RefuseManualStart=/RefuseManualStop= refuse a user's job with systemd's
// message, and only a user's: the same unit starts and stops as a
// dependency.
func TestRefuseManualStartStop(t *testing.T) {
	guarded := svc("guarded.service", "simple")
	guarded.Unit.RefuseManualStart, guarded.Unit.RefuseManualStop = true, true
	h := newHarness(t, memSource{}.add(guarded, target("wants.target", "guarded.service")))

	for _, kind := range []JobKind{JobStart, JobRestart} {
		effs := h.step(Request{ID: 7, Unit: "guarded.service", Kind: kind, Mode: ModeReplace, Manual: true})
		jf := find[JobFinished](effs)
		if len(jf) != 1 || jf[0].ID != 7 || jf[0].Result != ResultInvalid ||
			jf[0].Error != "Operation refused, unit guarded.service may be requested by dependency only (it is configured to refuse manual start/stop)." {
			t.Fatalf("manual %s: %s", kind, dump(effs))
		}
		if len(find[Spawn](effs)) != 0 {
			t.Fatalf("manual %s spawned: %s", kind, dump(effs))
		}
	}
	h.spawnAll(h.start("wants.target"))
	h.wantState("guarded.service", "active/running")

	effs := h.step(Request{ID: 8, Unit: "guarded.service", Kind: JobStop, Mode: ModeReplace, Manual: true})
	if jf := find[JobFinished](effs); len(jf) != 1 || jf[0].Result != ResultInvalid || len(find[Kill](effs)) != 0 {
		t.Fatalf("manual stop: %s", dump(effs))
	}
	h.wantState("guarded.service", "active/running")
	// Not manual (boot, dependencies, the manager's own shutdown): done.
	if effs := h.step(Request{ID: 9, Unit: "guarded.service", Kind: JobStop, Mode: ModeReplace}); len(find[Kill](effs)) == 0 {
		t.Fatalf("stop as a dependency: %s", dump(effs))
	}
}

// A refused request's JobFinished names the unit as the console does
// (Description=, Type=oneshot), so the reactor needs no unit definition.
func TestRefusedJobCarriesDescription(t *testing.T) {
	a := oneshot("a.service")
	a.Unit.Description = "The Refused One"
	a.Unit.RefuseManualStart = true
	h := newHarness(t, memSource{}.add(a))
	fin := find[JobFinished](h.step(Request{ID: 3, Unit: "a.service", Kind: JobStart, Manual: true}))
	if len(fin) != 1 || fin[0].Error == "" || fin[0].Description != "The Refused One" || !fin[0].Oneshot {
		t.Fatalf("JobFinished %+v", fin)
	}
}
