package manager

import (
	"math/rand"
	"strings"
	"time"

	"testing"

	"gosd/unitfile"
)

// masked is what the loader gives for a unit file linked to /dev/null.
func masked(name string) *unitfile.Unit {
	return &unitfile.Unit{Name: name, Type: unitType(name), LoadState: unitfile.Masked}
}

// Issue 17: a running service is masked, daemon-reload runs, then stop.
// The stop must kill the service's processes and end with a result, and a
// shutdown after it must complete.
func TestStopAfterMaskAndReload(t *testing.T) {
	for _, gone := range []string{"masked", "removed"} {
		t.Run(gone, func(t *testing.T) {
			a := svc("a.service", "simple")
			a.Service.ExecStop = []unitfile.ExecCommand{cmd("/bin/a-stop")}
			h := newHarness(t, memSource{}.add(a))
			pids, _ := h.spawnAll(h.start("a.service"))
			h.wantState("a.service", "active/running")
			src := memSource{}
			if gone == "masked" {
				src.add(masked("a.service"))
			}
			h.step(Reload{Units: src})
			h.wantState("a.service", "active/running")
			if st, _ := h.m.Status("a.service"); st.LoadState == string(unitfile.Loaded) || st.MainPID != pids["a.service/main"] {
				t.Fatalf("after reload: load state %s, main pid %d", st.LoadState, st.MainPID)
			}
			h.all = nil
			effs := h.step(Request{ID: 7, Unit: "a.service", Kind: JobStop})
			// Nothing of the gone definition runs (no ExecStop=); the
			// processes get the stop signal.
			if sp := find[Spawn](effs); len(sp) != 0 {
				t.Fatalf("a gone unit spawned %+v", sp)
			}
			k := find[Kill](effs)
			if len(k) == 0 || k[0].Signal != sigTERM() {
				t.Fatalf("no SIGTERM for the gone unit:\n%s", dump(effs))
			}
			h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
			h.wantJob("a.service", ResultDone)
			h.wantState("a.service", "inactive/dead")
			// A start is refused now; a shutdown completes.
			effs = h.start("a.service")
			if r, _ := jobResult(effs, "a.service"); r != ResultFailed {
				t.Fatalf("start of a %s unit: %v", gone, dump(effs))
			}
			effs = h.step(Shutdown{Action: "exit"})
			if len(find[Exit](effs)) != 1 {
				t.Fatalf("no Exit after shutdown:\n%s", dump(effs))
			}
		})
	}
}

// goneGraph is randomGraph with stop commands, restarts, a socket unit
// and its service, and a timer: every kind of runtime a reload can take
// the file of.
func goneGraph(rnd *rand.Rand) memSource {
	src, us := randomGraph(rnd, 14)
	for _, u := range us {
		if rnd.Intn(3) == 0 {
			u.Service.ExecStop = []unitfile.ExecCommand{cmd("/bin/stop")}
		}
		if rnd.Intn(4) == 0 {
			u.Service.ExecStopPost = []unitfile.ExecCommand{cmd("/bin/stop-post")}
		}
		if rnd.Intn(3) == 0 {
			u.Service.Restart = "on-failure"
		}
		if rnd.Intn(4) == 0 {
			u.Service.ExecReload = []unitfile.ExecCommand{cmd("/bin/reload")}
		}
	}
	sk := sock("s.socket", false)
	sk.Socket.ExecStartPre = []unitfile.ExecCommand{cmd("/bin/sock-pre")}
	sk.Socket.ExecStopPost = []unitfile.ExecCommand{cmd("/bin/sock-post")}
	src.add(sk, svc("s.service", "notify"))
	src.add(timerUnit("tm.timer", mono("OnActiveSec", time.Second)), oneshot("tm.service"))
	src["t.target"].Unit.Wants = append(src["t.target"].Unit.Wants, "s.socket", "tm.timer")
	return src
}

// Property (issue 17): whatever point of their jobs units are masked,
// removed, brought back and reloaded at, every job ends with a result, the
// manager never panics, and a final stop of everything completes.
func TestPropertyUnitsGoneMidJob(t *testing.T) {
	kinds := []JobKind{JobStart, JobStop, JobRestart, JobReload, JobTryRestart, JobReloadOrRestart}
	results := map[JobResult]int{}
	goneStops := 0
	for seed := int64(1); seed <= 60; seed++ {
		rnd := rand.New(rand.NewSource(seed))
		orig := goneGraph(rnd)
		names := orig.Names()
		cur := memSource{}
		for n, u := range orig {
			cur[n] = u
		}
		s := newSim(t, orig, seed)
		s.feed(ClockSet{Realtime: wall})
		fails := map[string]int{}
		for _, n := range names {
			if rnd.Intn(6) == 0 {
				fails[n] = 1
			}
		}
		s.fail = fails
		asked := map[uint64]bool{}
		s.check = func(e Effect) {
			switch x := e.(type) {
			case Log:
				if strings.Contains(x.Msg, "internal error") {
					t.Fatalf("seed %d: %s\n%s", seed, x.Msg, s.log.String())
				}
			case JobFinished:
				if x.ID != 0 {
					delete(asked, x.ID)
				}
				results[x.Result]++
				if x.Kind == JobStop && x.Result == ResultDone {
					if u := s.m.units[x.Unit]; u != nil && !loaded(u) {
						goneStops++
					}
				}
			case Spawn:
				// Nothing of a unit that is not loaded starts.
				if u := s.m.units[x.Unit]; u != nil && !loaded(u) {
					t.Fatalf("seed %d: %s spawned %s while %s", seed, x.Unit, x.Cmd.Path, u.def.LoadState)
				}
			}
		}
		id := uint64(10)
		s.feed(Request{ID: 1, Unit: "t.target", Kind: JobStart})
		asked[1] = true
		for n := 0; n < 3000; n++ {
			switch r := rnd.Intn(10); {
			case r == 0:
				// Mask, remove or bring back one unit, then daemon-reload.
				name := names[rnd.Intn(len(names))]
				switch rnd.Intn(3) {
				case 0:
					cur[name] = masked(name)
				case 1:
					delete(cur, name)
				default:
					cur[name] = orig[name]
				}
				next := memSource{}
				for k, v := range cur {
					next[k] = v
				}
				s.feed(Reload{Units: next})
			case r == 1:
				id++
				asked[id] = true
				s.feed(Request{ID: id, Unit: names[rnd.Intn(len(names))], Kind: kinds[rnd.Intn(len(kinds))]})
			case r == 2 && rnd.Intn(4) == 0:
				s.feed(SocketReady{Unit: "s.socket"})
			default:
				if !s.next() && rnd.Intn(3) == 0 {
					s.now += time.Second
				}
			}
		}
		s.run(100000)
		for _, u := range s.m.loadOrder {
			if u.job != nil {
				t.Fatalf("seed %d: %s still has job %s after quiescence\n%s", seed, u.name, u.job.kind, s.log.String())
			}
		}
		if len(asked) != 0 {
			t.Fatalf("seed %d: requests never answered: %v", seed, asked)
		}
		s.feed(Shutdown{Action: "exit"})
		s.run(100000)
		if !strings.Contains(s.log.String(), "manager.Exit{") {
			t.Fatalf("seed %d: no Exit after the final stop of everything\n%s", seed, s.log.String())
		}
		if s.m.jobs != 0 || s.m.busyUnits != 0 {
			t.Fatalf("seed %d: after exit %d jobs, %d busy units", seed, s.m.jobs, s.m.busyUnits)
		}
	}
	if goneStops == 0 || results[ResultFailed] == 0 {
		t.Fatalf("scripts too tame: %d stops of gone units, results %v", goneStops, results)
	}
	t.Logf("job results %v; %d stops of units whose file was gone", results, goneStops)
}

// A panic inside Step (a bug: here the control sequence of a stopping
// unit is corrupted) must not leave the job it hit installed: the stop job
// ends failed, the unit is forced down, and a shutdown still completes.
func TestPanicEndsTheJob(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.ExecStop = []unitfile.ExecCommand{cmd("/bin/a-stop")}
	b := svc("b.service", "simple")
	h := newHarness(t, memSource{}.add(a, b))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.spawnAll(h.start("b.service"))
	ctl, _ := h.spawnAll(h.step(Request{ID: 9, Unit: "a.service", Kind: JobStop}))
	if ctl["a.service/control"] == 0 {
		t.Fatalf("no ExecStop= spawned:\n%s", dump(h.all))
	}
	h.m.units["a.service"].svc.cmds = nil // the bug
	h.all = nil
	effs := h.step(Exited{Pid: ctl["a.service/control"], Status: exited(0)})
	if !hasLog(effs, "internal error (panic)") {
		t.Fatalf("the panic was not logged:\n%s", dump(effs))
	}
	h.wantJob("a.service", ResultFailed)
	h.wantState("a.service", "failed/failed")
	if k := find[Kill](effs); len(k) != 1 || k[0].Signal != sigKILL() || !k[0].Group || k[0].Pid != pids["a.service/main"] {
		t.Fatalf("unit not forced down: %+v", k)
	}
	if h.m.jobs != 0 {
		t.Fatalf("%d jobs left", h.m.jobs)
	}
	// The same bug during a shutdown: every unit still ends, Exit comes.
	h.spawnAll(h.start("a.service"))
	h.wantState("a.service", "active/running")
	h.all = nil
	ctl, _ = h.spawnAll(h.step(Shutdown{Action: "poweroff"}))
	h.m.units["a.service"].svc.cmds = nil
	h.step(Exited{Pid: ctl["a.service/control"], Status: exited(0)})
	for _, k := range find[Kill](h.all) {
		if k.Unit == "b.service" {
			h.step(Exited{Pid: k.Pid, Status: killed(k.Signal)})
			break
		}
	}
	if len(find[Exit](h.all)) != 1 {
		t.Fatalf("shutdown did not complete after a panic:\n%s", dump(h.all))
	}
}

// panicSource is a UnitSource with a bug: Get panics for one name.
type panicSource struct {
	memSource
	bad string
}

func (p panicSource) Get(name string) *unitfile.Unit {
	if name == p.bad {
		panic("loader bug")
	}
	return p.memSource.Get(name)
}

// A request that panics before any job exists is still answered.
func TestPanicAnswersTheRequest(t *testing.T) {
	m := New(panicSource{memSource: memSource{}.add(svc("a.service", "simple")), bad: "boom.service"})
	effs := m.Step(0, Request{ID: 5, Unit: "boom.service", Kind: JobStart})
	f := find[JobFinished](effs)
	if len(f) != 1 || f[0].ID != 5 || f[0].Result != ResultFailed || f[0].Error == "" {
		t.Fatalf("request not answered:\n%s", dump(effs))
	}
	// The manager goes on working.
	effs = m.Step(0, Request{ID: 6, Unit: "a.service", Kind: JobStart})
	if len(find[Spawn](effs)) != 1 {
		t.Fatalf("manager stuck after a panic:\n%s", dump(effs))
	}
}

// daemon-reexec after a running service's file was masked: the new
// manager, which never saw the file, still knows the main process and
// stops it (systemd's defaults: SIGTERM to the cgroup).
func TestReexecKeepsMaskedRunningService(t *testing.T) {
	h := newHarness(t, memSource{}.add(svc("a.service", "simple")))
	pids, _ := h.spawnAll(h.start("a.service"))
	src := memSource{}.add(masked("a.service"))
	h.step(Reload{Units: src})
	saved, err := h.m.Save()
	if err != nil {
		t.Fatalf("daemon-reexec refused: %v", err)
	}
	m2 := New(src)
	m2.Restore(h.now, saved)
	st, _ := m2.Status("a.service")
	if st.Active != "active" || st.MainPID != pids["a.service/main"] || st.LoadState != string(unitfile.Masked) {
		t.Fatalf("restored: %+v", st)
	}
	h2 := &harness{t: t, m: m2, now: h.now}
	effs := h2.step(Request{ID: 3, Unit: "a.service", Kind: JobStop})
	if k := find[Kill](effs); len(k) == 0 || k[0].Pid != pids["a.service/main"] || k[0].Signal != sigTERM() {
		t.Fatalf("stop after re-exec does not signal the old main process:\n%s", dump(effs))
	}
	h2.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	h2.wantJob("a.service", ResultDone)
	h2.wantState("a.service", "inactive/dead")
}
