package reactor

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gosd/exec"
	"gosd/logstore"
	"gosd/manager"
	"gosd/unitfile"
)

// unitLines is what a unit's processes wrote to their log pipes, as
// "[pid] line", oldest first: the log store's stdout entries of the unit.
func unitLines(r *Reactor, unit string) []string {
	var out []string
	for _, e := range r.Store().Query(logstore.Filter{Units: []string{unit}}, 0) {
		if e.Transport == logstore.TransportStdout {
			out = append(out, "["+strconv.Itoa(e.Pid)+"] "+e.Message)
		}
	}
	return out
}

func TestMain(m *testing.M) {
	exec.RunHelperIfRequested()
	InstallSignals()
	os.Exit(m.Run())
}

// script is a fake manager: a function of the events.
type script func(now time.Duration, ev manager.Event) []manager.Effect

func (s script) Step(now time.Duration, ev manager.Event) []manager.Effect { return s(now, ev) }

// units is a fixed UnitSource.
type units map[string]*unitfile.Unit

func (u units) Get(name string) *unitfile.Unit {
	if x := u[name]; x != nil {
		return x
	}
	return &unitfile.Unit{Name: name, LoadState: unitfile.NotFound}
}
func (u units) Names() []string { return nil }

// syncBuffer is a log writer safe to read while the reactor writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func shell(script string) unitfile.ExecCommand {
	return unitfile.ExecCommand{Path: "/bin/sh", Argv: []string{"/bin/sh", "-c", script}, NoEnvExpand: true}
}

func spawn(id uint64, unit, sh string) manager.Spawn {
	return manager.Spawn{ID: id, Unit: unit, Role: "main", Cmd: shell(sh), Exec: &unitfile.ExecContext{UMask: 0o022}, Conn: -1}
}

func newReactor(t *testing.T, cfg Config) *Reactor {
	t.Helper()
	if cfg.NotifySocket == "" {
		cfg.NotifySocket = "-"
	}
	if cfg.Target == "" {
		cfg.Target = "test.target"
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runWithin runs r and fails the test if it has not exited after d (a
// hang guard, not a speed assertion).
func runWithin(t *testing.T, r *Reactor, d time.Duration) int {
	t.Helper()
	done := make(chan int, 1)
	go func() { done <- r.Run() }()
	select {
	case code := <-done:
		return code
	case <-time.After(d):
		t.Fatal("reactor did not exit")
		return -1
	}
}

func TestSpawnCapturesOutputAndReaps(t *testing.T) {
	var log syncBuffer
	var pid int
	var spawned, exited []manager.Event
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(1, "out.service", "echo hello; printf 'world'; echo err >&2; exit 3")}
		case manager.Spawned:
			spawned = append(spawned, e)
			pid = e.Pid
		case manager.Exited:
			exited = append(exited, e)
			if e.Pid == pid {
				return []manager.Effect{manager.Exit{Code: e.Status.Code}}
			}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Log: &log})
	if code := runWithin(t, r, 10*time.Second); code != 3 {
		t.Fatalf("exit code %d, want the service's 3", code)
	}
	if len(spawned) != 1 || spawned[0].(manager.Spawned).Err != nil || spawned[0].(manager.Spawned).ID != 1 {
		t.Fatalf("spawned %+v", spawned)
	}
	// The pipe may still hold data when the exit is seen: what arrived
	// before it is in the log and the store.
	want := fmt.Sprintf("out.service[%d]: hello\n", pid)
	if !strings.Contains(log.String(), want) {
		t.Errorf("log %q lacks %q", log.String(), want)
	}
	lines := unitLines(r, "out.service")
	if len(lines) == 0 || lines[0] != fmt.Sprintf("[%d] hello", pid) {
		t.Errorf("ring %q", lines)
	}
}

func TestOutputOfExitedServiceIsDrained(t *testing.T) {
	var log syncBuffer
	var pid int
	exitSeen := false
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(1, "drain.service", "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; printf tail")}
		case manager.Spawned:
			pid = e.Pid
		case manager.Exited:
			exitSeen = true
			// Leave time for the pipe to be drained, then exit.
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "drain.service", Kind: "x"}, At: now + 200*time.Millisecond}}
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Log: &log})
	runWithin(t, r, 10*time.Second)
	if !exitSeen {
		t.Fatal("no exit")
	}
	out := log.String()
	if n := strings.Count(out, fmt.Sprintf("drain.service[%d]: line ", pid)); n != 2000 {
		t.Errorf("%d lines logged, want 2000", n)
	}
	if !strings.HasSuffix(out, fmt.Sprintf("drain.service[%d]: tail\n", pid)) {
		t.Errorf("partial last line not logged at EOF: %q", out[max(0, len(out)-80):])
	}
	lines := unitLines(r, "drain.service")
	lines = lines[max(0, len(lines)-10):]
	if len(lines) != 10 || lines[9] != fmt.Sprintf("[%d] tail", pid) || lines[8] != fmt.Sprintf("[%d] line 1999", pid) {
		t.Errorf("ring %q", lines)
	}
}

func TestLongLinesAreBounded(t *testing.T) {
	var log syncBuffer
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch ev.(type) {
		case manager.Request:
			// 100000 bytes without a newline.
			return []manager.Effect{spawn(1, "long.service", "head -c 100000 /dev/zero | tr '\\0' x")}
		case manager.Exited:
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Kind: "x"}, At: now + 200*time.Millisecond}}
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Log: &log})
	runWithin(t, r, 10*time.Second)
	total := 0
	for _, l := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		if strings.HasPrefix(l, "cgroups: ") {
			continue // gosd's own start-up line about its mode
		}
		_, line, _ := strings.Cut(l, ": ")
		if len(line) > MaxLineLength {
			t.Fatalf("line of %d bytes", len(line))
		}
		total += len(line)
	}
	if total != 100000 {
		t.Errorf("logged %d bytes, want 100000", total)
	}
}

func TestTimers(t *testing.T) {
	var fired []string
	id := func(k string) manager.TimerID { return manager.TimerID{Unit: "t", Kind: k} }
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{
				manager.SetTimer{ID: id("late"), At: now + 60*time.Millisecond},
				manager.SetTimer{ID: id("early"), At: now + 20*time.Millisecond},
				manager.SetTimer{ID: id("cancelled"), At: now + 10*time.Millisecond},
				manager.CancelTimer{ID: id("cancelled")},
				manager.SetTimer{ID: id("rearmed"), At: now + 5*time.Millisecond},
				manager.SetTimer{ID: id("rearmed"), At: now + 40*time.Millisecond},
			}
		case manager.TimerFired:
			fired = append(fired, fmt.Sprintf("%s@%v", e.ID.Kind, now >= 0))
			if e.ID.Kind == "late" {
				return []manager.Effect{manager.Exit{}}
			}
		}
		return nil
	})
	start := time.Now()
	runWithin(t, newReactor(t, Config{Manager: m}), 10*time.Second)
	if got := strings.Join(fired, " "); got != "early@true rearmed@true late@true" {
		t.Errorf("fired %q", got)
	}
	if time.Since(start) < 60*time.Millisecond {
		t.Errorf("a timer fired before its deadline")
	}
}

func TestReapsOrphansOfDoubleForkingService(t *testing.T) {
	exitedPids := map[int]bool{}
	var mainPid int
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			// The background sleep is orphaned when sh exits; as subreaper we adopt it.
			return []manager.Effect{spawn(1, "fork.service", "sleep 0.3 & echo $! ; exit 0")}
		case manager.Spawned:
			mainPid = e.Pid
		case manager.Exited:
			exitedPids[e.Pid] = true
			if len(exitedPids) == 2 {
				return []manager.Effect{manager.Exit{}}
			}
		}
		return nil
	})
	var log syncBuffer
	r := newReactor(t, Config{Manager: m, Subreaper: true, Log: &log})
	runWithin(t, r, 10*time.Second)
	if !exitedPids[mainPid] || len(exitedPids) != 2 {
		t.Fatalf("exited %v (main %d)", exitedPids, mainPid)
	}
	var orphan int
	fmt.Sscan(strings.TrimPrefix(unitLines(r, "fork.service")[0], fmt.Sprintf("[%d] ", mainPid)), &orphan)
	if !exitedPids[orphan] {
		t.Errorf("orphan %d not reported; exited %v", orphan, exitedPids)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", orphan)); !os.IsNotExist(err) {
		t.Errorf("orphan %d still exists (zombie?): %v", orphan, err)
	}
}

func TestKillGroupReachesEveryProcess(t *testing.T) {
	exited := 0
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(1, "grp.service", "sleep 100 & sleep 100 & echo started; wait")}
		case manager.Spawned:
			if e.Err != nil {
				t.Error(e.Err)
			}
			// Let sh start its children first.
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "grp.service", Kind: "kill"}, At: now + 100*time.Millisecond}}
		case manager.TimerFired:
			return []manager.Effect{manager.Kill{Unit: "grp.service", Group: true, Signal: int(syscall.SIGKILL)}}
		case manager.Exited:
			exited++
			if exited == 3 {
				return []manager.Effect{manager.Exit{}}
			}
		}
		return nil
	})
	runWithin(t, newReactor(t, Config{Manager: m, Subreaper: true}), 10*time.Second)
	if exited != 3 {
		t.Errorf("%d exits, want 3", exited)
	}
}

type bomb struct{}

func (bomb) Get(name string) *unitfile.Unit { panic("boom in " + name) }
func (bomb) Names() []string                { return nil }

func TestPanicsAreRecovered(t *testing.T) {
	var log syncBuffer
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			// OpenSockets asks the UnitSource, which panics: an effect panic.
			return []manager.Effect{manager.OpenSockets{Unit: "bad.socket"},
				manager.SetTimer{ID: manager.TimerID{Kind: "a"}, At: now}}
		case manager.SocketsOpened:
			t.Errorf("SocketsOpened after a panic: %+v", e)
		case manager.TimerFired:
			panic("boom in Step") // a manager panic
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Log: &log, Units: bomb{}})
	go func() {
		time.Sleep(100 * time.Millisecond)
		r.Submit(func() { panic("boom in submitted work") })
		r.Submit(func() { r.performUnguarded(manager.Exit{Code: 5}) })
	}()
	if code := runWithin(t, r, 10*time.Second); code != 5 {
		t.Errorf("code %d", code)
	}
	for _, want := range []string{
		"panic in effect manager.OpenSockets: boom in bad.socket",
		"panic in manager step on manager.TimerFired: boom in Step",
		"panic in submitted work: boom in submitted work"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestSpawnPanicFeedsSpawnedError(t *testing.T) {
	var log syncBuffer
	var got *manager.Spawned
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(7, "p.service", "true")}
		case manager.Spawned:
			got = &e
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Log: &log})
	startProcess = func(exec.Spec) (exec.Process, error) { panic("boom in exec") }
	defer func() { startProcess = exec.Start }()
	runWithin(t, r, 10*time.Second)
	if !strings.Contains(log.String(), "p.service: error: panic in effect manager.Spawn: boom in exec") {
		t.Errorf("log %q", log.String())
	}
	if got == nil || got.ID != 7 || got.Err == nil {
		t.Fatalf("Spawned %+v", got)
	}
}

func TestSIGTERMRequestsShutdown(t *testing.T) {
	var log syncBuffer
	var got []string
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		case manager.Shutdown:
			got = append(got, e.Action)
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Kind: "stop"}, At: now + 100*time.Millisecond}}
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{Code: 0, Action: "exit"}}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Log: &log})
	if code := runWithin(t, r, 10*time.Second); code != 0 || r.ExitAction() != "exit" {
		t.Errorf("code %d action %q", code, r.ExitAction())
	}
	if len(got) != 1 || got[0] != "exit" {
		t.Errorf("shutdowns %q", got)
	}
}

func socketUnit(name, path string, accept bool) *unitfile.Unit {
	return &unitfile.Unit{Name: name, Type: "socket", LoadState: unitfile.Loaded,
		Unit: unitfile.UnitSection{Description: "Test Socket"},
		Socket: &unitfile.Socket{Accept: accept, Listen: []unitfile.Listen{{Kind: unitfile.ListenStream, Family: "unix", Address: path, Path: path}},
			Backlog: 16, SocketMode: 0o666, DirectoryMode: 0o755, Mark: -1, IPTOS: -1, IPTTL: -1, Priority: -1, MaxConnections: 64, FileDescriptorName: "echo"}}
}

func TestSocketActivationPassesFDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	u := units{"echo.socket": socketUnit("echo.socket", path, false)}
	var log, console syncBuffer
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{manager.OpenSockets{Unit: "echo.socket"}}
		case manager.SocketsOpened:
			if e.Err != nil {
				t.Errorf("open: %v", e.Err)
				return []manager.Effect{manager.Exit{Code: 1}}
			}
			go func() {
				c, err := net.Dial("unix", path)
				if err == nil {
					c.Write([]byte("ping\n"))
					defer c.Close()
					time.Sleep(2 * time.Second)
				}
			}()
			return []manager.Effect{manager.WatchSocket{Unit: "echo.socket", Watch: true},
				manager.JobFinished{Unit: "echo.socket", Kind: manager.JobStart, Result: manager.ResultDone}}
		case manager.SocketReady:
			// ls without a pipeline: a pipeline's pipe is briefly open in
			// the shell itself and would race into the listing.
			s := spawn(2, "echo.service", `echo "$LISTEN_PID $$ $LISTEN_FDS $LISTEN_FDNAMES"; ls /proc/$$/fd`)
			s.Sockets = []string{"echo.socket"}
			return []manager.Effect{s}
		case manager.Exited:
			return []manager.Effect{manager.CloseSockets{Unit: "echo.socket"},
				manager.SetTimer{ID: manager.TimerID{Kind: "x"}, At: now + 100*time.Millisecond}}
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Log: &log, Console: &console, Units: u})
	runWithin(t, r, 10*time.Second)
	lines := unitLines(r, "echo.service")
	if len(lines) < 2 {
		t.Fatalf("lines %q log %s", lines, log.String())
	}
	_, first, _ := strings.Cut(lines[0], "] ")
	f := strings.Fields(first)
	if len(f) != 4 || f[0] != f[1] || f[2] != "1" || f[3] != "echo" {
		t.Errorf("LISTEN_* %q", first)
	}
	var fds []string
	for _, l := range lines[1:] {
		_, fd, _ := strings.Cut(l, "] ")
		fds = append(fds, fd)
	}
	if got := strings.Join(fds, " "); got != "0 1 2 3" {
		t.Errorf("fds %q", got)
	}
	if console.String() != "[  OK  ] Listening on echo.socket - Test Socket.\n" {
		t.Errorf("console %q", console.String())
	}
}

func TestAcceptYesConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.sock")
	u := units{"a.socket": socketUnit("a.socket", path, true)}
	reply := make(chan string, 1)
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{manager.OpenSockets{Unit: "a.socket"}}
		case manager.SocketsOpened:
			go func() {
				c, err := net.Dial("unix", path)
				if err != nil {
					reply <- err.Error()
					return
				}
				defer c.Close()
				var buf [64]byte
				n, _ := c.Read(buf[:])
				reply <- string(buf[:n])
			}()
			return []manager.Effect{manager.WatchSocket{Unit: "a.socket", Watch: true}}
		case manager.Connection:
			s := spawn(3, "a@"+e.Instance+".service", `read line; echo "got $line"`)
			s.Conn = e.FD
			s.Exec.StandardInput = unitfile.Stdio{Kind: "socket"}
			s.Exec.StandardOutput = unitfile.Stdio{Kind: "socket"}
			s.Cmd = shell(`echo hello-from-instance`)
			return []manager.Effect{s}
		case manager.Exited:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	runWithin(t, newReactor(t, Config{Manager: m, Units: u}), 10*time.Second)
	if got := <-reply; got != "hello-from-instance\n" {
		t.Errorf("client got %q", got)
	}
}

func TestNotifyReady(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	var notes []manager.Notify
	var mainPid int
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			s := spawn(1, "n.service", `systemd-notify --ready --status="up and running"`)
			s.Notify = true
			return []manager.Effect{s}
		case manager.Spawned:
			mainPid = e.Pid
		case manager.Notify:
			notes = append(notes, e)
		case manager.Exited:
			if e.Pid == mainPid {
				return []manager.Effect{manager.Exit{Code: e.Status.Code}}
			}
		}
		return nil
	})
	var log syncBuffer
	code := runWithin(t, newReactor(t, Config{Manager: m, NotifySocket: sock, Log: &log}), 20*time.Second)
	if code != 0 {
		t.Errorf("systemd-notify exited %d (barrier not answered?): %s", code, log.String())
	}
	found := false
	for _, n := range notes {
		for _, f := range n.Fields {
			if f == [2]string{"READY", "1"} {
				found = true
				if n.Pid != mainPid || n.Unit != "n.service" {
					t.Errorf("READY=1 from pid %d unit %q, want %d", n.Pid, n.Unit, mainPid)
				}
			}
		}
	}
	if !found {
		t.Errorf("no READY=1 in %+v", notes)
	}
}

func TestConsoleLines(t *testing.T) {
	cases := []struct {
		e    manager.Effect
		want string
	}{
		{manager.JobStarted{Unit: "foo.service", Kind: manager.JobStart}, "         Starting foo.service - Foo...."},
		// Unmet conditions: systemd prints nothing.
		{manager.JobFinished{Unit: "foo.service", Kind: manager.JobStart, Result: manager.ResultDone, Skipped: true}, ""},
		{manager.JobFinished{Unit: "foo.service", Kind: manager.JobStart, Result: manager.ResultDone}, "[  OK  ] Started foo.service - Foo.."},
		{manager.JobFinished{Unit: "foo.service", Kind: manager.JobStart, Result: manager.ResultFailed}, "[FAILED] Failed to start foo.service - Foo.."},
		{manager.JobFinished{Unit: "foo.service", Kind: manager.JobStart, Result: manager.ResultDependency}, "[DEPEND] Dependency failed for foo.service - Foo.."},
		{manager.JobFinished{Unit: "default.target", Kind: manager.JobStart, Result: manager.ResultDone}, "[  OK  ] Reached target default.target - Foo.."},
		{manager.JobFinished{Unit: "foo.service", Kind: manager.JobStop, Result: manager.ResultDone}, "[  OK  ] Stopped foo.service - Foo.."},
		{manager.JobStarted{Unit: "default.target", Kind: manager.JobStart}, ""},
	}
	for _, c := range cases {
		if got := ConsoleLine(c.e, "Foo.", false); got != c.want {
			t.Errorf("%+v: got %q want %q", c.e, got, c.want)
		}
	}
	if got := ConsoleLine(manager.JobFinished{Unit: "x.service", Kind: manager.JobStart, Result: manager.ResultDone}, "", false); got != "[  OK  ] Started x.service." {
		t.Errorf("no description: %q", got)
	}
}

func BenchmarkSpawnExitReap(b *testing.B) {
	n := 0
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch ev.(type) {
		case manager.Request, manager.Exited:
			if n == b.N {
				return []manager.Effect{manager.Exit{}}
			}
			n++
			s := manager.Spawn{ID: uint64(n), Unit: "b.service", Cmd: unitfile.ExecCommand{Path: "/bin/true", Argv: []string{"true"}},
				Exec: &unitfile.ExecContext{UMask: 0o022, StandardOutput: unitfile.Stdio{Kind: "null"}}, Conn: -1}
			return []manager.Effect{s}
		}
		return nil
	})
	r, _ := New(Config{Manager: m, NotifySocket: "-", Target: "x"})
	b.ResetTimer()
	r.Run()
}

// Orphans that exit together are all reaped, though a SIGCHLD's sweep
// reaps sweepBatch of them per turn: the sweep goes on in the next turns.
func TestManyOrphansReaped(t *testing.T) {
	const orphans = 5*sweepBatch + 3
	exits, mainPid, mainGone := 0, 0, false
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			// Each sleep's parent subshell exits at once: the sleeps are
			// orphans, adopted by the subreaper, and end together.
			return []manager.Effect{spawn(1, "orphans.service",
				fmt.Sprintf("for i in $(seq %d); do (sleep 0.3 &); done", orphans))}
		case manager.Spawned:
			mainPid = e.Pid
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "orphans.service", Kind: "block"}, At: now + 150*time.Millisecond}}
		case manager.TimerFired:
			// Hold the loop while every orphan exits: their SIGCHLDs
			// come as one sweep, which must go on past its batch.
			time.Sleep(400 * time.Millisecond)
		case manager.Exited:
			if e.Pid == mainPid {
				mainGone = true
			} else {
				exits++
			}
			if mainGone && exits == orphans {
				return []manager.Effect{manager.Exit{}}
			}
		}
		return nil
	})
	runWithin(t, newReactor(t, Config{Manager: m, Subreaper: true}), 10*time.Second)
	if exits != orphans {
		t.Errorf("%d orphans reaped, want %d", exits, orphans)
	}
}

// AfterBoot runs once, on the loop, after the boot job has ended; with no
// boot job, at the start.
func TestAfterBoot(t *testing.T) {
	var finished bool
	calls := 0
	var r *Reactor
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		req, ok := ev.(manager.Request)
		if !ok {
			return nil
		}
		switch req.ID {
		case BootJobID:
			finished = true
			return []manager.Effect{manager.JobFinished{ID: BootJobID, Unit: req.Unit, Kind: manager.JobStart, Result: manager.ResultDone}}
		case 2:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	r = newReactor(t, Config{Manager: m, Log: io.Discard, AfterBoot: func() {
		calls++
		if !finished {
			t.Error("AfterBoot ran before the boot job ended")
		}
		// Another turn of the loop, then the exit: a second call would
		// show on the way.
		r.Submit(func() { r.Feed(manager.Request{ID: 3, Unit: "more", Kind: manager.JobStart}) })
		r.Submit(func() { r.Feed(manager.Request{ID: 2, Unit: "exit", Kind: manager.JobStart}) })
	}})
	runWithin(t, r, 10*time.Second)
	if calls != 1 {
		t.Errorf("AfterBoot ran %d times, want 1", calls)
	}

	calls = 0
	exit := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		if req, ok := ev.(manager.Request); ok && req.ID == 2 {
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	r2, err := New(Config{Manager: exit, NotifySocket: "-", Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	r2.cfg.AfterBoot = func() {
		calls++
		r2.Submit(func() { r2.Feed(manager.Request{ID: 2, Unit: "exit", Kind: manager.JobStart}) })
	}
	runWithin(t, r2, 10*time.Second)
	if calls != 1 {
		t.Errorf("no boot job: AfterBoot ran %d times, want 1", calls)
	}
}
