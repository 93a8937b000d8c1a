package manager

import (
	"testing"

	"gosd/unitfile"
)

// startRunning starts a simple service with cgroups on and returns its
// harness and main pid.
func startCgroupUnit(t *testing.T, mode string, cgroups bool) (*harness, int) {
	t.Helper()
	a := svc("a.service", "simple")
	a.Service.Kill.KillMode = mode
	a.Service.ExecStopPost = []unitfile.ExecCommand{cmd("/bin/stoppost")}
	h := newHarness(t, memSource{}.add(a))
	if cgroups {
		h.step(CgroupsAvailable{})
		h.step(CgroupCreated{Unit: "a.service", Path: "/system.slice/a.service"})
	}
	pids, _ := h.spawnAll(h.start("a.service"))
	h.wantState("a.service", "active/running")
	return h, pids["a.service/main"]
}

func TestCgroupStopWaitsForEmptyBeforeStopPost(t *testing.T) {
	h, main := startCgroupUnit(t, "control-group", true)
	if s, _ := h.m.Status("a.service"); s.ControlGroup != "/system.slice/a.service" {
		t.Fatalf("ControlGroup %q", s.ControlGroup)
	}
	effs := h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	if k := find[Kill](effs); len(k) != 1 || !k[0].Group || k[0].Signal != sigTERM() {
		t.Fatalf("group SIGTERM:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: main, Status: killed(sigTERM())})
	if len(spawnsOf(effs, "a.service")) != 0 {
		t.Fatalf("ExecStopPost ran while the cgroup is populated:\n%s", dump(effs))
	}
	h.wantState("a.service", "deactivating/stop-sigterm")
	effs = h.step(CgroupEmpty{Unit: "a.service"})
	if sp := spawnsOf(effs, "a.service"); len(sp) != 1 || sp[0].Cmd.Path != "/bin/stoppost" {
		t.Fatalf("ExecStopPost after CgroupEmpty:\n%s", dump(effs))
	}
}

// "populated 0" may come before the SIGCHLD of the last process.
func TestCgroupEmptyBeforeExited(t *testing.T) {
	h, main := startCgroupUnit(t, "control-group", true)
	h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	if effs := h.step(CgroupEmpty{Unit: "a.service"}); len(spawnsOf(effs, "a.service")) != 0 {
		t.Fatalf("ExecStopPost before the main process was reaped:\n%s", dump(effs))
	}
	effs := h.step(Exited{Pid: main, Status: killed(sigTERM())})
	if sp := spawnsOf(effs, "a.service"); len(sp) != 1 || sp[0].Cmd.Path != "/bin/stoppost" {
		t.Fatalf("ExecStopPost:\n%s", dump(effs))
	}
}

// Leftovers that ignore SIGTERM get SIGKILL to the whole group at the
// stop timeout, although the main pid is gone (Kill Pid 0, Group).
func TestCgroupLeftoversKilledAtTimeout(t *testing.T) {
	h, main := startCgroupUnit(t, "control-group", true)
	h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	h.step(Exited{Pid: main, Status: killed(sigTERM())})
	h.advance(91 * 1e9)
	effs := h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "state"}})
	k := find[Kill](effs)
	if len(k) != 1 || !k[0].Group || k[0].Pid != 0 || k[0].Signal != sigKILL() {
		t.Fatalf("group SIGKILL:\n%s", dump(effs))
	}
	h.wantState("a.service", "deactivating/stop-sigkill")
	effs = h.step(CgroupEmpty{Unit: "a.service"})
	if sp := spawnsOf(effs, "a.service"); len(sp) != 1 || sp[0].Cmd.Path != "/bin/stoppost" {
		t.Fatalf("ExecStopPost:\n%s", dump(effs))
	}
}

// systemd.kill(5) mixed: SIGTERM to the main process only, then SIGKILL
// to the rest of the group.
func TestCgroupMixed(t *testing.T) {
	h, main := startCgroupUnit(t, "mixed", true)
	effs := h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	if k := find[Kill](effs); len(k) != 1 || k[0].Group || k[0].Pid != main || k[0].Signal != sigTERM() {
		t.Fatalf("SIGTERM to main only:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: main, Status: killed(sigTERM())})
	if k := find[Kill](effs); len(k) != 1 || !k[0].Group || k[0].Signal != sigKILL() {
		t.Fatalf("SIGKILL to the group after main exited:\n%s", dump(effs))
	}
	if len(spawnsOf(effs, "a.service")) != 0 {
		t.Fatalf("ExecStopPost before the group is empty:\n%s", dump(effs))
	}
	effs = h.step(CgroupEmpty{Unit: "a.service"})
	if sp := spawnsOf(effs, "a.service"); len(sp) != 1 || sp[0].Cmd.Path != "/bin/stoppost" {
		t.Fatalf("ExecStopPost:\n%s", dump(effs))
	}
}

// KillMode=process: the main process only, and nothing waits for the
// cgroup; leftovers stay.
func TestCgroupProcessModeDoesNotWait(t *testing.T) {
	h, main := startCgroupUnit(t, "process", true)
	effs := h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	if k := find[Kill](effs); len(k) != 1 || k[0].Group || k[0].Pid != main {
		t.Fatalf("SIGTERM to main only:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: main, Status: killed(sigTERM())})
	if sp := spawnsOf(effs, "a.service"); len(sp) != 1 || sp[0].Cmd.Path != "/bin/stoppost" {
		t.Fatalf("ExecStopPost at once:\n%s", dump(effs))
	}
	if k := find[Kill](effs); len(k) != 0 {
		t.Fatalf("no kill of leftovers:\n%s", dump(effs))
	}
}

// Without CgroupsAvailable the manager never waits for CgroupEmpty.
func TestNoCgroupsDoesNotWait(t *testing.T) {
	h, main := startCgroupUnit(t, "control-group", false)
	h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	effs := h.step(Exited{Pid: main, Status: killed(sigTERM())})
	if sp := spawnsOf(effs, "a.service"); len(sp) != 1 || sp[0].Cmd.Path != "/bin/stoppost" {
		t.Fatalf("ExecStopPost at once:\n%s", dump(effs))
	}
}

// Leftovers after the main process exited on its own are killed (group,
// Pid 0) and waited for.
func TestCgroupLeftoversAfterMainExit(t *testing.T) {
	h, main := startCgroupUnit(t, "control-group", true)
	effs := h.step(Exited{Pid: main, Status: exited(0)})
	k := find[Kill](effs)
	if len(k) != 1 || !k[0].Group || k[0].Pid != 0 || k[0].Signal != sigTERM() {
		t.Fatalf("group SIGTERM to leftovers:\n%s", dump(effs))
	}
	h.wantState("a.service", "deactivating/stop-sigterm")
	h.step(CgroupEmpty{Unit: "a.service"})
	h.wantState("a.service", "deactivating/stop-post")
}

func TestOOMKilled(t *testing.T) {
	h, main := startCgroupUnit(t, "control-group", true)
	effs := h.step(OOMKilled{Unit: "a.service"})
	if k := find[Kill](effs); len(k) != 1 || !k[0].Group {
		t.Fatalf("OOMPolicy=stop stops the unit:\n%s", dump(effs))
	}
	h.step(Exited{Pid: main, Status: killed(sigKILL())})
	pids, _ := h.spawnAll(h.step(CgroupEmpty{Unit: "a.service"}))
	h.step(Exited{Pid: pids["a.service/control"], Status: exited(0)})
	h.wantState("a.service", "deactivating/final-sigterm") // ExecStopPost was in the cgroup too
	h.step(CgroupEmpty{Unit: "a.service"})
	h.wantState("a.service", "failed/failed")
	if s, _ := h.m.Status("a.service"); s.Result != "oom-kill" {
		t.Fatalf("result %q", s.Result)
	}
}

func TestOOMContinue(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.OOMPolicy = "continue"
	h := newHarness(t, memSource{}.add(a))
	h.step(CgroupsAvailable{})
	h.spawnAll(h.start("a.service"))
	if effs := h.step(OOMKilled{Unit: "a.service"}); len(find[Kill](effs)) != 0 {
		t.Fatalf("continue kills nothing:\n%s", dump(effs))
	}
	h.wantState("a.service", "active/running")
}
