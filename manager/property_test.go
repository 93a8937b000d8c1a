package manager

import (
	"fmt"
	"math/rand"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/unitfile"
)

// sim plays the reactor for random scripts: it answers Spawn, Kill and
// SetTimer effects with the events a real system would produce.
type sim struct {
	t       testing.TB
	m       *Manager
	rnd     *rand.Rand
	now     time.Duration
	queue   []Event
	timers  map[TimerID]time.Duration
	pid     int
	procs   map[int]string // pid -> unit
	log     strings.Builder
	fail    map[string]int // unit -> exit code of its main process
	check   func(Effect)
	effects int
}

func newSim(t testing.TB, src UnitSource, seed int64) *sim {
	return &sim{t: t, m: New(src), rnd: rand.New(rand.NewSource(seed)), timers: map[TimerID]time.Duration{},
		procs: map[int]string{}, fail: map[string]int{}, pid: 1000}
}

func (s *sim) feed(ev Event) {
	out := s.m.Step(s.now, ev)
	for _, e := range out {
		s.effects++
		fmt.Fprintf(&s.log, "%T%+v\n", e, e)
		if s.check != nil {
			s.check(e)
		}
		switch x := e.(type) {
		case Spawn:
			if s.rnd.Intn(40) == 0 {
				s.queue = append(s.queue, Spawned{ID: x.ID, Err: fmt.Errorf("exec failed")})
				continue
			}
			s.pid++
			s.procs[s.pid] = x.Unit
			s.queue = append(s.queue, Spawned{ID: x.ID, Pid: s.pid})
			u := s.m.units[x.Unit]
			typ := ""
			if u != nil && u.def.Service != nil {
				typ = u.def.Service.Type
			}
			switch {
			case x.Role == "control" || typ == "oneshot" || typ == "forking":
				s.queue = append(s.queue, Exited{Pid: s.pid, Status: exited(s.fail[x.Unit])})
			case typ == "notify":
				if s.fail[x.Unit] != 0 {
					s.queue = append(s.queue, Exited{Pid: s.pid, Status: exited(s.fail[x.Unit])})
				} else {
					s.queue = append(s.queue, Notify{Pid: s.pid, Fields: [][2]string{{"READY", "1"}}})
				}
			default:
				if s.fail[x.Unit] != 0 && s.rnd.Intn(2) == 0 {
					s.queue = append(s.queue, Exited{Pid: s.pid, Status: exited(s.fail[x.Unit])})
				}
			}
		case Kill:
			// deterministic: kill every process of the unit, lowest pid first
			var pids []int
			for pid, unit := range s.procs {
				if unit == x.Unit && (x.Group || pid == x.Pid) {
					pids = append(pids, pid)
				}
			}
			sortInts(pids)
			for _, p := range pids {
				s.queue = append(s.queue, Exited{Pid: p, Status: killed(x.Signal)})
			}
		case SetTimer:
			s.timers[x.ID] = x.At
		case CancelTimer:
			delete(s.timers, x.ID)
		case OpenSockets:
			s.queue = append(s.queue, SocketsOpened{Unit: x.Unit})
		case CheckConditions:
			s.queue = append(s.queue, ConditionsChecked{Unit: x.Unit, Met: s.rnd.Intn(3) != 0, AssertOK: true})
		}
	}
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// run feeds queued events, then the earliest timer, until quiet.
func (s *sim) run(limit int) {
	for n := 0; n < limit; n++ {
		if !s.next() {
			return
		}
	}
	s.t.Fatalf("no quiescence after %d events", limit)
}

// next feeds the first queued event, else the earliest timer; false when
// there is neither.
func (s *sim) next() bool {
	for len(s.queue) > 0 {
		ev := s.queue[0]
		s.queue = s.queue[1:]
		if x, ok := ev.(Exited); ok {
			if _, live := s.procs[x.Pid]; !live {
				continue // already reaped
			}
			delete(s.procs, x.Pid)
		}
		s.feed(ev)
		return true
	}
	var first TimerID
	var at time.Duration = -1
	for id, t := range s.timers {
		if at < 0 || t < at || (t == at && id.Unit+id.Kind < first.Unit+first.Kind) {
			first, at = id, t
		}
	}
	if at < 0 {
		return false
	}
	delete(s.timers, first)
	if at > s.now {
		s.now = at
	}
	s.feed(TimerFired{ID: first})
	return true
}

func randomGraph(rnd *rand.Rand, n int) (memSource, []*unitfile.Unit) {
	src := memSource{}
	var us []*unitfile.Unit
	types := []string{"simple", "oneshot", "notify", "exec", "forking"}
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("u%02d.service", i)
		u := svc(name, types[rnd.Intn(len(types))])
		if u.Service.Type == "oneshot" && rnd.Intn(2) == 0 {
			u.Service.RemainAfterExit = true
		}
		if rnd.Intn(5) == 0 {
			u.Unit.Conditions = []unitfile.Condition{{Kind: "PathExists", Value: "/x"}}
		}
		if rnd.Intn(6) == 0 {
			u.Service.ExecStartPre = []unitfile.ExecCommand{cmd("/bin/pre")}
		}
		// edges only to lower indices keep the ordering graph acyclic
		for j := 0; j < i; j++ {
			if rnd.Intn(n/3+1) != 0 {
				continue
			}
			dep := names[j]
			switch rnd.Intn(3) {
			case 0:
				u.Unit.Wants = append(u.Unit.Wants, dep)
			case 1:
				u.Unit.Requires = append(u.Unit.Requires, dep)
			}
			if rnd.Intn(4) != 0 {
				u.Unit.After = append(u.Unit.After, dep)
			}
		}
		names = append(names, name)
		us = append(us, u)
		src.add(u)
	}
	src.add(target("t.target", names...))
	return src, us
}

func TestPropertyRandomGraphs(t *testing.T) {
	seen := map[JobResult]int{}
	for seed := int64(1); seed <= 60; seed++ {
		rnd := rand.New(rand.NewSource(seed))
		src, us := randomGraph(rnd, 25)
		fails := map[string]int{}
		for _, u := range us {
			if rnd.Intn(5) == 0 {
				fails[u.Name] = 1 + rnd.Intn(3)
			}
		}
		logs := [2]string{}
		for round := 0; round < 2; round++ {
			s := newSim(t, src, seed)
			s.fail = fails
			lastStart := map[string]JobResult{}
			s.check = func(e Effect) {
				switch x := e.(type) {
				case Spawn:
					// Nothing starts before what it is After= has finished
					// its job.
					u := s.m.units[x.Unit]
					if x.Role != "main" && u.sub.String() != "start-pre" && u.sub.String() != "condition" {
						return
					}
					for _, d := range u.deps[depAfter] {
						if d.job != nil && d.job.kind != JobStop {
							t.Fatalf("seed %d: %s spawned while %s (After=) has job %s", seed, x.Unit, d.name, d.job.kind)
						}
					}
				case JobFinished:
					if x.Kind != JobStart {
						return
					}
					lastStart[x.Unit] = x.Result
					seen[x.Result]++
					u := s.m.units[x.Unit]
					if x.Result != ResultDone {
						return
					}
					// Requires= + After=: a done start means the required
					// unit's start did not fail.
					for _, d := range u.deps[depRequires] {
						if !inUnits(u.deps[depAfter], d) {
							continue
						}
						if r, ok := lastStart[d.name]; ok && r != ResultDone {
							t.Fatalf("seed %d: %s started although required %s ended %s", seed, x.Unit, d.name, r)
						}
					}
				}
			}
			s.feed(Request{ID: 1, Unit: "t.target", Kind: JobStart})
			s.run(100000)
			for _, u := range s.m.loadOrder {
				if u.job != nil {
					t.Fatalf("seed %d: %s still has job %s", seed, u.name, u.job.kind)
				}
			}
			if _, ok := lastStart["t.target"]; !ok {
				t.Fatalf("seed %d: target job never finished", seed)
			}
			// And an orderly shutdown ends in Exit.
			s.feed(Shutdown{Action: "exit"})
			s.run(100000)
			if !strings.Contains(s.log.String(), "manager.Exit{") {
				t.Fatalf("seed %d: no Exit after shutdown", seed)
			}
			logs[round] = s.log.String()
		}
		if logs[0] != logs[1] {
			t.Fatalf("seed %d: same script gave different effects", seed)
		}
	}
	// The scripts must exercise success, failure and dependency failure.
	if seen[ResultDone] == 0 || seen[ResultFailed] == 0 || seen[ResultDependency] == 0 {
		t.Fatalf("random scripts too tame: %v", seen)
	}
	t.Logf("start job results: %v", seen)
}

func inUnits(list []*unit, x *unit) bool {
	for _, u := range list {
		if u == x {
			return true
		}
	}
	return false
}

// Garbage in never panics.
func TestNoPanicOnOddEvents(t *testing.T) {
	src, _ := randomGraph(rand.New(rand.NewSource(7)), 10)
	s := sock("x.socket", false)
	src.add(s, svc("x.service", "notify"))
	m := New(src)
	rnd := rand.New(rand.NewSource(3))
	names := append(src.Names(), "nope.service", "")
	kinds := []JobKind{JobStart, JobStop, JobRestart, JobTryRestart, JobReload, JobReloadOrRestart, JobVerifyActive, "bogus"}
	modes := []JobMode{ModeReplace, ModeFail, ModeIsolate, ModeIgnoreDependencies, ModeIgnoreRequirements}
	for i := 0; i < 20000; i++ {
		name := names[rnd.Intn(len(names))]
		var ev Event
		switch rnd.Intn(12) {
		case 0:
			ev = Request{ID: uint64(i), Unit: name, Kind: kinds[rnd.Intn(len(kinds))], Mode: modes[rnd.Intn(len(modes))]}
		case 1:
			ev = Spawned{ID: uint64(rnd.Intn(200)), Pid: rnd.Intn(50)}
		case 2:
			ev = Exited{Pid: rnd.Intn(50), Status: WaitStatus{Exited: rnd.Intn(2) == 0, Code: rnd.Intn(3), Signal: 15}}
		case 3:
			ev = TimerFired{ID: TimerID{Unit: name, Kind: []string{"state", "restart", "watchdog", "runtime", "x"}[rnd.Intn(5)]}}
		case 4:
			ev = PIDFileRead{Unit: name, Pid: rnd.Intn(50)}
		case 5:
			ev = Notify{Pid: rnd.Intn(50), Unit: name, Fields: [][2]string{{"READY", "1"}, {"MAINPID", fmt.Sprint(rnd.Intn(50))}, {"WATCHDOG", "trigger"}, {"STOPPING", "1"}}[rnd.Intn(4):], Fds: []int{3}}
		case 6:
			ev = SocketsOpened{Unit: name}
		case 7:
			ev = SocketReady{Unit: name}
		case 8:
			ev = Connection{Unit: name, FD: 9, Instance: fmt.Sprint(i)}
		case 9:
			ev = ConditionsChecked{Unit: name, Met: rnd.Intn(2) == 0, AssertOK: rnd.Intn(2) == 0}
		case 10:
			if rnd.Intn(50) == 0 {
				ev = Reload{Units: src}
			} else {
				ev = Exited{Pid: rnd.Intn(50), Status: killed(int(syscall.SIGKILL))}
			}
		case 11:
			if rnd.Intn(200) == 0 {
				ev = Shutdown{Action: "exit"}
			} else {
				ev = nil
			}
		}
		m.Step(time.Duration(i)*time.Millisecond, ev)
	}
}
