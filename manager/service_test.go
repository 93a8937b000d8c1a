package manager

import (
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/unitfile"
)

func envOf(sp Spawn, key string) (string, bool) {
	for _, kv := range sp.Env {
		if strings.HasPrefix(kv, key+"=") {
			return kv[len(key)+1:], true
		}
	}
	return "", false
}

func TestOneshotSequenceRemainAfterExit(t *testing.T) {
	a := svc("a.service", "oneshot")
	a.Service.ExecStart = []unitfile.ExecCommand{cmd("/bin/one"), cmd("/bin/two")}
	a.Service.RemainAfterExit = true
	h := newHarness(t, memSource{}.add(a))
	effs := h.start("a.service")
	sp := spawnsOf(effs, "a.service")
	if len(sp) != 1 || sp[0].Cmd.Path != "/bin/one" || sp[0].Role != "main" {
		t.Fatalf("first spawn:\n%s", dump(effs))
	}
	pids, _ := h.spawnAll(effs)
	effs = h.step(Exited{Pid: pids["a.service/main"], Status: exited(0)})
	sp = spawnsOf(effs, "a.service")
	if len(sp) != 1 || sp[0].Cmd.Path != "/bin/two" {
		t.Fatalf("second spawn:\n%s", dump(effs))
	}
	h.wantState("a.service", "activating/start")
	pids, _ = h.spawnAll(effs)
	h.step(Exited{Pid: pids["a.service/main"], Status: exited(0)})
	h.wantState("a.service", "active/exited")
	h.wantJob("a.service", ResultDone)
	// Stopping an exited oneshot needs no signals.
	effs = h.step(Request{ID: 3, Unit: "a.service", Kind: JobStop})
	h.wantState("a.service", "inactive/dead")
	if k := find[Kill](effs); len(k) != 1 || k[0].Pid != 0 || !k[0].Group {
		t.Fatalf("want one cgroup-only kill for leftovers:\n%s", dump(effs))
	}
}

func TestExecCondition(t *testing.T) {
	for _, tc := range []struct {
		status WaitStatus
		state  string
		job    JobResult
		result string
	}{
		// systemd's results: exec-condition for a skip (not failed),
		// the failure's own for 255 or a signal.
		{exited(1), "inactive/dead", ResultDone, "exec-condition"},
		{exited(254), "inactive/dead", ResultDone, "exec-condition"},
		{exited(255), "failed/failed", ResultFailed, "exit-code"},
		{killed(int(syscall.SIGSEGV)), "failed/failed", ResultFailed, "signal"},
		{exited(0), "active/running", ResultDone, "success"},
	} {
		a := svc("a.service", "simple")
		a.Service.ExecCondition = []unitfile.ExecCommand{cmd("/bin/cond")}
		h := newHarness(t, memSource{}.add(a))
		effs := h.start("a.service")
		h.wantState("a.service", "activating/condition")
		pids, _ := h.spawnAll(effs)
		effs = h.step(Exited{Pid: pids["a.service/control"], Status: tc.status})
		h.spawnAll(effs)
		h.wantState("a.service", tc.state)
		h.wantJob("a.service", tc.job)
		if st, _ := h.m.Status("a.service"); st.Result != tc.result {
			t.Errorf("%+v: Result=%s, want %s", tc.status, st.Result, tc.result)
		}
		if tc.state == "inactive/dead" && !hasLog(h.all, "skipped because of an unmet condition check") {
			t.Fatal("no skip log")
		}
	}
}

func TestPrePostStopCommandsAndEnv(t *testing.T) {
	a := svc("a.service", "simple")
	ign := cmd("/bin/pre1")
	ign.IgnoreFailure = true
	a.Service.ExecStartPre = []unitfile.ExecCommand{ign, cmd("/bin/pre2")}
	a.Service.ExecStartPost = []unitfile.ExecCommand{cmd("/bin/post")}
	a.Service.ExecStop = []unitfile.ExecCommand{cmd("/bin/stop")}
	a.Service.ExecStopPost = []unitfile.ExecCommand{cmd("/bin/stoppost")}
	h := newHarness(t, memSource{}.add(a))
	run := func(effs []Effect, want string, st WaitStatus) []Effect {
		t.Helper()
		sp := spawnsOf(effs, "a.service")
		if len(sp) == 0 || sp[len(sp)-1].Cmd.Path != want {
			t.Fatalf("want spawn of %s:\n%s", want, dump(effs))
		}
		pids, more := h.spawnAll(effs)
		if sp[len(sp)-1].Role == "main" {
			return more
		}
		return append(more, h.step(Exited{Pid: pids["a.service/control"], Status: st})...)
	}
	effs := h.start("a.service")
	h.wantState("a.service", "activating/start-pre")
	effs = run(effs, "/bin/pre1", exited(1)) // "-": ignored
	effs = run(effs, "/bin/pre2", exited(0))
	sp := spawnsOf(effs, "a.service")
	if len(sp) != 2 || sp[0].Cmd.Path != "/bin/a" || sp[1].Cmd.Path != "/bin/post" {
		t.Fatalf("main then post:\n%s", dump(effs))
	}
	pids, _ := h.spawnAll(effs)
	h.wantState("a.service", "activating/start-post")
	h.step(Exited{Pid: pids["a.service/control"], Status: exited(0)})
	h.wantState("a.service", "active/running")
	main := pids["a.service/main"]
	effs = h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
	sp = spawnsOf(effs, "a.service")
	if len(sp) != 1 || sp[0].Cmd.Path != "/bin/stop" {
		t.Fatalf("ExecStop:\n%s", dump(effs))
	}
	if v, _ := envOf(sp[0], "MAINPID"); v != itoa(main) {
		t.Fatalf("MAINPID=%q want %d", v, main)
	}
	if v, _ := envOf(sp[0], "INVOCATION_ID"); len(v) != 32 {
		t.Fatalf("INVOCATION_ID=%q", v)
	}
	pids, _ = h.spawnAll(effs)
	effs = h.step(Exited{Pid: pids["a.service/control"], Status: exited(0)})
	if k := find[Kill](effs); len(k) != 1 || k[0].Pid != main || k[0].Signal != sigTERM() {
		t.Fatalf("SIGTERM after ExecStop:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: main, Status: exited(2)})
	sp = spawnsOf(effs, "a.service")
	if len(sp) != 1 || sp[0].Cmd.Path != "/bin/stoppost" {
		t.Fatalf("ExecStopPost:\n%s", dump(effs))
	}
	for k, want := range map[string]string{"SERVICE_RESULT": "exit-code", "EXIT_CODE": "exited", "EXIT_STATUS": "2"} {
		if v, _ := envOf(sp[0], k); v != want {
			t.Fatalf("%s=%q want %q (%v)", k, v, want, sp[0].Env)
		}
	}
	pids, _ = h.spawnAll(effs)
	h.step(Exited{Pid: pids["a.service/control"], Status: exited(0)})
	h.wantState("a.service", "failed/failed")
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestStartPreFailureRunsStopPost(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.ExecStartPre = []unitfile.ExecCommand{cmd("/bin/pre")}
	a.Service.ExecStopPost = []unitfile.ExecCommand{cmd("/bin/cleanup")}
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	effs := h.step(Exited{Pid: pids["a.service/control"], Status: exited(1)})
	sp := spawnsOf(effs, "a.service")
	if len(sp) != 1 || sp[0].Cmd.Path != "/bin/cleanup" {
		t.Fatalf("ExecStopPost after failed pre:\n%s", dump(effs))
	}
	if v, _ := envOf(sp[0], "SERVICE_RESULT"); v != "exit-code" {
		t.Fatalf("SERVICE_RESULT=%q", v)
	}
	pids, _ = h.spawnAll(effs)
	h.step(Exited{Pid: pids["a.service/control"], Status: exited(0)})
	h.wantState("a.service", "failed/failed")
	h.wantJob("a.service", ResultFailed)
}

func TestKillModes(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		hup    bool
		wantTm []Kill // at stop
		wantKl []Kill // at timeout
	}{
		{"control-group", true, []Kill{{Group: true, Signal: sigTERM()}, {Group: true, Signal: int(syscall.SIGHUP)}}, []Kill{{Group: true, Signal: sigKILL()}}},
		{"mixed", false, []Kill{{Signal: sigTERM()}}, []Kill{{Group: true, Signal: sigKILL()}}},
		{"process", false, []Kill{{Signal: sigTERM()}}, []Kill{{Signal: sigKILL()}}},
		{"none", false, nil, nil},
	} {
		a := svc("a.service", "simple")
		a.Service.Kill.KillMode = tc.mode
		a.Service.Kill.SendSIGHUP = tc.hup
		h := newHarness(t, memSource{}.add(a))
		pids, _ := h.spawnAll(h.start("a.service"))
		main := pids["a.service/main"]
		norm := func(ks []Kill) []Kill {
			for i := range ks {
				ks[i].Unit, ks[i].Pid = "", 0
			}
			return ks
		}
		effs := h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop})
		if got := norm(find[Kill](effs)); !equalKills(got, tc.wantTm) {
			t.Fatalf("%s: stop kills %+v want %+v", tc.mode, got, tc.wantTm)
		}
		if tc.mode == "none" {
			h.wantState("a.service", "inactive/dead")
			continue
		}
		h.advance(90 * time.Second)
		effs = h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "state"}})
		if got := norm(find[Kill](effs)); !equalKills(got, tc.wantKl) {
			t.Fatalf("%s: timeout kills %+v want %+v", tc.mode, got, tc.wantKl)
		}
		h.step(Exited{Pid: main, Status: killed(sigKILL())})
		h.wantState("a.service", "failed/failed")
	}
}

func equalKills(a, b []Kill) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRestartTable(t *testing.T) {
	causes := []struct {
		name   string
		result string
		st     WaitStatus
	}{
		{"clean", "success", exited(0)},
		{"unclean-code", "exit-code", exited(1)},
		{"unclean-signal", "signal", killed(int(syscall.SIGSEGV))},
		{"timeout", "timeout", WaitStatus{}},
		{"watchdog", "watchdog", WaitStatus{}},
	}
	// systemd.service(5) table 2, columns in causes order.
	table := map[string][5]bool{
		"no":          {false, false, false, false, false},
		"always":      {true, true, true, true, true},
		"on-success":  {true, false, false, false, false},
		"on-failure":  {false, true, true, true, true},
		"on-abnormal": {false, false, true, true, true},
		"on-abort":    {false, false, true, false, false},
		"on-watchdog": {false, false, false, false, true},
	}
	for setting, row := range table {
		for i, c := range causes {
			u := &unit{def: svc("a.service", "simple"), svc: &serviceRun{}}
			u.def.Service.Restart = setting
			u.result = c.result
			u.svc.mainExited = c.result != "timeout" && c.result != "watchdog"
			u.svc.mainStatus = c.st
			m := &Manager{}
			if got := m.shouldRestart(u); got != row[i] {
				t.Errorf("Restart=%s on %s: %v want %v", setting, c.name, got, row[i])
			}
		}
	}
	// RestartPreventExitStatus= and RestartForceExitStatus= win.
	u := &unit{def: svc("a.service", "simple"), svc: &serviceRun{mainExited: true, mainStatus: exited(3)}, result: "exit-code"}
	u.def.Service.Restart = "always"
	u.def.Service.RestartPreventExitStatus.Codes = []int{3}
	if (&Manager{}).shouldRestart(u) {
		t.Error("RestartPreventExitStatus ignored")
	}
	u.def.Service.Restart = "no"
	u.def.Service.RestartPreventExitStatus.Codes = nil
	u.def.Service.RestartForceExitStatus.Codes = []int{3}
	if !(&Manager{}).shouldRestart(u) {
		t.Error("RestartForceExitStatus ignored")
	}
}

func TestSuccessExitStatusAndCleanSignals(t *testing.T) {
	d := svc("a.service", "simple").Service
	d.SuccessExitStatus.Codes = []int{42}
	for _, tc := range []struct {
		st   WaitStatus
		want string
	}{
		{exited(0), "success"}, {exited(42), "success"}, {exited(1), "exit-code"},
		{killed(int(syscall.SIGTERM)), "success"}, {killed(int(syscall.SIGHUP)), "success"},
		{killed(int(syscall.SIGINT)), "success"}, {killed(int(syscall.SIGPIPE)), "success"},
		{killed(int(syscall.SIGKILL)), "signal"}, {WaitStatus{Signal: int(syscall.SIGSEGV), CoreDump: true}, "core-dump"},
	} {
		if got := mainResult(d, tc.st); got != tc.want {
			t.Errorf("%+v: %s want %s", tc.st, got, tc.want)
		}
	}
}

func TestStartLimitHit(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.Restart = "always"
	a.Unit.StartLimitBurst = 2
	a.Unit.StartLimitAction = "reboot"
	h := newHarness(t, memSource{}.add(a))
	effs := h.start("a.service")
	for i := 0; i < 3; i++ {
		pids, _ := h.spawnAll(effs)
		h.step(Exited{Pid: pids["a.service/main"], Status: exited(1)})
		h.advance(100 * time.Millisecond)
		effs = h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "restart"}})
	}
	h.wantState("a.service", "failed/failed")
	if s, _ := h.m.Status("a.service"); s.Result != "start-limit-hit" {
		t.Fatalf("result %q", s.Result)
	}
	if a := find[Action](h.all); len(a) != 1 || a[0].Action != "reboot" {
		t.Fatalf("StartLimitAction: %+v", a)
	}
}

func TestConditionsRoundTrip(t *testing.T) {
	a := svc("a.service", "simple")
	a.Unit.Conditions = []unitfile.Condition{{Kind: "PathExists", Value: "/nope"}}
	b := svc("b.service", "simple")
	b.Unit.Asserts = []unitfile.Condition{{Kind: "PathExists", Value: "/nope"}}
	c := svc("c.service", "simple")
	h := newHarness(t, memSource{}.add(a, b, c))
	effs := h.start("c.service")
	if len(find[CheckConditions](effs)) != 0 {
		t.Fatal("unit without conditions round-tripped")
	}
	effs = h.start("a.service")
	if cc := find[CheckConditions](effs); len(cc) != 1 || len(find[Spawn](effs)) != 0 {
		t.Fatalf("want CheckConditions only:\n%s", dump(effs))
	}
	effs = h.step(ConditionsChecked{Unit: "a.service", Met: false, AssertOK: true, Failed: "ConditionPathExists=/nope"})
	h.wantState("a.service", "inactive/dead")
	h.wantJob("a.service", ResultDone)
	if !hasLog(h.all, "was skipped because of an unmet condition check") {
		t.Fatal("no skip log")
	}
	if f := find[JobFinished](effs); len(f) != 1 || !f[0].Skipped {
		t.Fatalf("a skipped start must say so (no console line):\n%s", dump(effs))
	}
	h.start("b.service")
	effs = h.step(ConditionsChecked{Unit: "b.service", Met: true, AssertOK: false, Failed: "AssertPathExists=/nope"})
	h.wantJob("b.service", ResultAssert)
	if f := find[JobFinished](effs); len(f) != 1 || f[0].Skipped {
		t.Fatalf("a failed assert is not a skip:\n%s", dump(effs))
	}
	h.wantState("b.service", "inactive/dead")
	// Met: the start goes on.
	h.start("a.service")
	effs = h.step(ConditionsChecked{Unit: "a.service", Met: true, AssertOK: true})
	if len(spawnsOf(effs, "a.service")) != 1 {
		t.Fatalf("not started after met conditions:\n%s", dump(effs))
	}
}

func TestNotifyProtocol(t *testing.T) {
	a := svc("a.service", "notify")
	a.Service.WatchdogSec = 5 * time.Second
	a.Service.FileDescriptorStoreMax = 1
	h := newHarness(t, memSource{}.add(a))
	effs := h.start("a.service")
	if sp := spawnsOf(effs, "a.service"); !sp[0].Notify {
		t.Fatal("Notify not requested")
	}
	pids, _ := h.spawnAll(effs)
	main := pids["a.service/main"]
	// A stranger is refused (NotifyAccess=main) and its fds closed.
	effs = h.step(Notify{Pid: 999, Unit: "a.service", Fields: [][2]string{{"READY", "1"}}, Fds: []int{7}})
	h.wantState("a.service", "activating/start")
	if c := find[CloseFD](effs); len(c) != 1 || c[0].FD != 7 {
		t.Fatalf("stranger fd not closed:\n%s", dump(effs))
	}
	// EXTEND_TIMEOUT_USEC moves the start deadline.
	effs = h.step(Notify{Pid: main, Fields: [][2]string{{"EXTEND_TIMEOUT_USEC", "200000000"}}})
	if st := find[SetTimer](effs); len(st) != 1 || st[0].At != h.now+200*time.Second {
		t.Fatalf("extend:\n%s", dump(effs))
	}
	effs = h.step(Notify{Pid: main, Fields: [][2]string{{"READY", "1"}}})
	h.wantState("a.service", "active/running")
	// FDSTORE=1 keeps up to FileDescriptorStoreMax; BARRIER=1 closes at once.
	effs = h.step(Notify{Pid: main, Fields: [][2]string{{"FDSTORE", "1"}}, Fds: []int{10, 11}})
	if c := find[CloseFD](effs); len(c) != 1 || c[0].FD != 11 {
		t.Fatalf("fdstore:\n%s", dump(effs))
	}
	effs = h.step(Notify{Pid: main, Fields: [][2]string{{"BARRIER", "1"}}, Fds: []int{12}})
	if c := find[CloseFD](effs); len(c) != 1 || c[0].FD != 12 {
		t.Fatalf("barrier:\n%s", dump(effs))
	}
	// WATCHDOG=1 re-arms; a missed ping kills with SIGABRT, result watchdog.
	h.advance(4 * time.Second)
	effs = h.step(Notify{Pid: main, Fields: [][2]string{{"WATCHDOG", "1"}}})
	if st := find[SetTimer](effs); len(st) != 1 || st[0].ID.Kind != "watchdog" || st[0].At != h.now+5*time.Second {
		t.Fatalf("watchdog re-arm:\n%s", dump(effs))
	}
	h.advance(5 * time.Second)
	effs = h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "watchdog"}})
	if k := find[Kill](effs); len(k) != 1 || k[0].Signal != int(syscall.SIGABRT) {
		t.Fatalf("watchdog kill:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: main, Status: WaitStatus{Signal: int(syscall.SIGABRT), CoreDump: true}})
	h.wantState("a.service", "failed/failed")
	if s, _ := h.m.Status("a.service"); s.Result != "watchdog" {
		t.Fatalf("result %q", s.Result)
	}
	// The stored fd is closed when the service is gone.
	if c := find[CloseFD](effs); len(c) != 1 || c[0].FD != 10 {
		t.Fatalf("fd store not closed:\n%s", dump(effs))
	}
}

func TestNotifyExitBeforeReadyIsProtocol(t *testing.T) {
	a := svc("a.service", "notify")
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.step(Exited{Pid: pids["a.service/main"], Status: exited(0)})
	h.wantState("a.service", "failed/failed")
	if s, _ := h.m.Status("a.service"); s.Result != "protocol" {
		t.Fatalf("result %q", s.Result)
	}
	h.wantJob("a.service", ResultFailed)
}

func TestNotifyReloadAndStopping(t *testing.T) {
	a := svc("a.service", "notify-reload")
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	main := pids["a.service/main"]
	h.step(Notify{Pid: main, Fields: [][2]string{{"READY", "1"}}})
	effs := h.step(Request{ID: 5, Unit: "a.service", Kind: JobReload})
	if k := find[Kill](effs); len(k) != 1 || k[0].Signal != int(syscall.SIGHUP) || k[0].Pid != main {
		t.Fatalf("reload signal:\n%s", dump(effs))
	}
	h.wantState("a.service", "reloading/reload")
	h.step(Notify{Pid: main, Fields: [][2]string{{"RELOADING", "1"}}})
	effs = h.step(Notify{Pid: main, Fields: [][2]string{{"READY", "1"}}})
	h.wantState("a.service", "active/running")
	if r, _ := jobResult(effs, "a.service"); r != ResultDone {
		t.Fatalf("reload job:\n%s", dump(effs))
	}
	h.step(Notify{Pid: main, Fields: [][2]string{{"STOPPING", "1"}}})
	h.wantState("a.service", "deactivating/stop-sigterm")
	h.step(Exited{Pid: main, Status: exited(0)})
	h.wantState("a.service", "inactive/dead")
}

// ReloadSignal= (systemd.service(5), Type=notify-reload) replaces SIGHUP.
func TestNotifyReloadSignal(t *testing.T) {
	a := svc("a.service", "notify-reload")
	a.Service.ReloadSignal = int(syscall.SIGUSR2)
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	main := pids["a.service/main"]
	h.step(Notify{Pid: main, Fields: [][2]string{{"READY", "1"}}})
	effs := h.step(Request{ID: 5, Unit: "a.service", Kind: JobReload})
	if k := find[Kill](effs); len(k) != 1 || k[0].Signal != int(syscall.SIGUSR2) || k[0].Pid != main {
		t.Fatalf("reload signal:\n%s", dump(effs))
	}
}

func TestExecAndForking(t *testing.T) {
	e := svc("e.service", "exec")
	f := svc("f.service", "forking")
	f.Service.PIDFile = "/run/f.pid"
	g := svc("g.service", "forking")
	h := newHarness(t, memSource{}.add(e, f, g))
	effs := h.start("e.service")
	h.wantState("e.service", "activating/start")
	h.spawnAll(effs)
	h.wantState("e.service", "active/running")

	pids, _ := h.spawnAll(h.start("f.service"))
	effs = h.step(Exited{Pid: pids["f.service/main"], Status: exited(0)})
	if r := find[ReadPIDFile](effs); len(r) != 1 || r[0].Path != "/run/f.pid" {
		t.Fatalf("no ReadPIDFile:\n%s", dump(effs))
	}
	h.wantState("f.service", "activating/start")
	h.step(PIDFileRead{Unit: "f.service", Pid: 4242, Owner: PidOwner{Pid: 4242, Unit: "f.service"}})
	h.wantState("f.service", "active/running")
	if s, _ := h.m.Status("f.service"); s.MainPID != 4242 {
		t.Fatalf("MainPID %d", s.MainPID)
	}
	h.step(Exited{Pid: 4242, Status: exited(0)})
	h.wantState("f.service", "inactive/dead")

	// Without PIDFile=: running with no main pid; stop signals the cgroup.
	pids, _ = h.spawnAll(h.start("g.service"))
	h.step(Exited{Pid: pids["g.service/main"], Status: exited(0)})
	h.wantState("g.service", "active/running")
	effs = h.step(Request{ID: 9, Unit: "g.service", Kind: JobStop})
	if k := find[Kill](effs); len(k) != 1 || !k[0].Group || k[0].Pid != 0 {
		t.Fatalf("cgroup kill:\n%s", dump(effs))
	}
	h.wantState("g.service", "inactive/dead")
}

func TestStartTimeoutAndInfinity(t *testing.T) {
	a := svc("a.service", "notify")
	h := newHarness(t, memSource{}.add(a))
	effs := h.start("a.service")
	if st := find[SetTimer](effs); len(st) != 1 || st[0].At != 90*time.Second {
		t.Fatalf("start timer:\n%s", dump(effs))
	}
	pids, _ := h.spawnAll(effs)
	h.advance(90 * time.Second)
	effs = h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "state"}})
	if k := find[Kill](effs); len(k) != 1 || k[0].Signal != sigTERM() {
		t.Fatalf("terminate:\n%s", dump(effs))
	}
	h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	h.wantState("a.service", "failed/failed")
	h.wantJob("a.service", ResultFailed)
	if s, _ := h.m.Status("a.service"); s.Result != "timeout" {
		t.Fatalf("result %q", s.Result)
	}

	b := svc("b.service", "notify")
	b.Service.TimeoutStartSec = unitfile.Infinity
	h = newHarness(t, memSource{}.add(b))
	if st := find[SetTimer](h.start("b.service")); len(st) != 0 {
		t.Fatalf("infinity armed a timer: %+v", st)
	}
}

func TestRuntimeMaxSec(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.RuntimeMaxSec = 3 * time.Second
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.advance(3 * time.Second)
	h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "runtime"}})
	h.step(Exited{Pid: pids["a.service/main"], Status: killed(sigTERM())})
	h.wantState("a.service", "failed/failed")
	if s, _ := h.m.Status("a.service"); s.Result != "timeout" {
		t.Fatalf("result %q", s.Result)
	}
}

func TestFailureAndSuccessAction(t *testing.T) {
	a := svc("a.service", "oneshot")
	a.Unit.SuccessAction = "exit"
	a.Unit.SuccessActionExitStatus = 3
	b := svc("b.service", "simple")
	b.Unit.FailureAction = "poweroff"
	h := newHarness(t, memSource{}.add(a, b))
	pids, _ := h.spawnAll(h.start("a.service"))
	h.step(Exited{Pid: pids["a.service/main"], Status: exited(0)})
	pids, _ = h.spawnAll(h.start("b.service"))
	h.step(Exited{Pid: pids["b.service/main"], Status: exited(9)})
	acts := find[Action](h.all)
	if len(acts) != 2 || acts[0] != (Action{Unit: "a.service", Action: "exit", ExitCode: 3}) || acts[1].Action != "poweroff" {
		t.Fatalf("actions %+v", acts)
	}
	effs := h.step(Shutdown{Action: "exit"})
	if ex := find[Exit](effs); len(ex) != 1 || ex[0].Code != 3 {
		t.Fatalf("exit code from SuccessActionExitStatus:\n%s", dump(effs))
	}
}

func TestSpawnErrorAndStalePids(t *testing.T) {
	a := svc("a.service", "simple")
	h := newHarness(t, memSource{}.add(a))
	effs := h.start("a.service")
	sp := spawnsOf(effs, "a.service")
	h.step(Spawned{ID: sp[0].ID, Err: syscall.ENOENT})
	h.wantState("a.service", "failed/failed")
	// duplicates and unknowns are ignored
	h.step(Spawned{ID: sp[0].ID, Pid: 5})
	h.step(Exited{Pid: 5, Status: exited(0)})
	h.step(TimerFired{ID: TimerID{Unit: "gone.service", Kind: "state"}})
	h.wantState("a.service", "failed/failed")
}

// A stop that arrives before the pid does: the pid is signalled on arrival.
func TestStopBeforeSpawned(t *testing.T) {
	a := svc("a.service", "notify")
	h := newHarness(t, memSource{}.add(a))
	effs := h.start("a.service")
	sp := spawnsOf(effs, "a.service")
	h.step(Shutdown{Action: "exit"})
	h.wantState("a.service", "deactivating/stop-sigterm")
	effs = h.step(Spawned{ID: sp[0].ID, Pid: 77})
	if k := find[Kill](effs); len(k) != 1 || k[0].Pid != 77 || k[0].Signal != sigTERM() {
		t.Fatalf("late pid not signalled:\n%s", dump(effs))
	}
	effs = h.step(Exited{Pid: 77, Status: killed(sigTERM())})
	if len(find[Exit](effs)) != 1 {
		t.Fatalf("no exit:\n%s", dump(effs))
	}
}

func TestRestartKillSignalAndStartFailureMode(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.Kill.RestartKillSignal = int(syscall.SIGUSR1)
	h := newHarness(t, memSource{}.add(a))
	h.spawnAll(h.start("a.service"))
	effs := h.step(Request{ID: 2, Unit: "a.service", Kind: JobRestart})
	if k := find[Kill](effs); len(k) != 1 || k[0].Signal != int(syscall.SIGUSR1) {
		t.Fatalf("RestartKillSignal:\n%s", dump(effs))
	}

	for mode, sig := range map[string]int{"abort": int(syscall.SIGABRT), "kill": sigKILL(), "terminate": sigTERM()} {
		b := svc("b.service", "notify")
		b.Service.TimeoutStartFailureMode = mode
		h := newHarness(t, memSource{}.add(b))
		h.spawnAll(h.start("b.service"))
		h.advance(90 * time.Second)
		effs := h.step(TimerFired{ID: TimerID{Unit: "b.service", Kind: "state"}})
		if k := find[Kill](effs); len(k) != 1 || k[0].Signal != sig {
			t.Fatalf("TimeoutStartFailureMode=%s:\n%s", mode, dump(effs))
		}
	}
}

func TestNotifyAccess(t *testing.T) {
	for _, tc := range []struct {
		typ, access string
		explicit    bool
		want        string
	}{
		{"notify", "none", false, "main"}, {"notify", "none", true, "none"}, {"notify", "all", true, "all"},
		{"simple", "none", false, "none"}, {"simple", "", false, "none"}, {"notify", "", false, "main"},
	} {
		u := svc("a.service", tc.typ)
		u.Service.NotifyAccess = tc.access
		if tc.explicit {
			u.Entries = []unitfile.Entry{{Section: "Service", Key: "NotifyAccess", Value: tc.access, Pos: unitfile.Pos{File: "a.service", Line: 3}}}
		}
		if got := notifyAccess(u); got != tc.want {
			t.Errorf("%+v: %s", tc, got)
		}
	}
	// NotifyAccess=exec accepts the control process too.
	a := svc("a.service", "notify")
	a.Service.NotifyAccess = "exec"
	a.Service.ExecStartPost = []unitfile.ExecCommand{cmd("/bin/post")}
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	effs := h.step(Notify{Pid: pids["a.service/main"], Fields: [][2]string{{"READY", "1"}}})
	cp, _ := h.spawnAll(effs)
	h.step(Notify{Pid: cp["a.service/control"], Fields: [][2]string{{"STATUS", "from control"}}})
	if s, _ := h.m.Status("a.service"); s.StatusText != "from control" {
		t.Fatalf("status %q", s.StatusText)
	}
}

// SetMinLevel drops messages below it at the source (none reaches the
// effects), and keeps the rest.
func TestSetMinLevel(t *testing.T) {
	a := svc("a.service", "simple")
	h := newHarness(t, memSource{}.add(a))
	h.m.SetMinLevel(LevelInfo)
	effs := h.step(Exited{Pid: 4242, Status: exited(0)}) // "reaped unknown process": debug
	if l := find[Log](effs); len(l) != 0 {
		t.Fatalf("debug message emitted below the minimum level:\n%s", dump(effs))
	}
	h.m.SetMinLevel(LevelDebug)
	if l := find[Log](h.step(Exited{Pid: 4243, Status: exited(0)})); len(l) != 1 {
		t.Fatalf("debug message missing at level debug: %v", l)
	}
}

// A failed spawn counts with the failed step's status (217/USER here), as
// systemd.exec(5) numbers them: ExecStopPost= sees it in EXIT_STATUS.
func TestSpawnErrorStatus(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.ExecStopPost = []unitfile.ExecCommand{{Path: "/bin/true", Argv: []string{"/bin/true"}}}
	h := newHarness(t, memSource{}.add(a))
	sp := spawnsOf(h.start("a.service"), "a.service")
	effs := h.step(Spawned{ID: sp[0].ID, Err: syscall.EPERM, Status: 217})
	post := spawnsOf(effs, "a.service")
	if len(post) != 1 || !slices.Contains(post[0].Env, "EXIT_STATUS=217") {
		t.Fatalf("ExecStopPost after a failed spawn:\n%s", dump(effs))
	}
}

// The status a container's gosd exits with (systemd.unit(5)
// FailureActionExitStatus=): a FailureAction=exit without a status
// propagates the main process's exit status, 255 for a signal; the
// explicit setting wins; StartLimitAction=exit propagates nothing; and
// SetExitCode (systemctl exit N) is what Exit reports until an action
// replaces it.
func TestExitActionStatus(t *testing.T) {
	for _, c := range []struct {
		name    string
		setting int
		status  WaitStatus
		want    int
	}{
		{"main exit status", -1, exited(3), 3},
		{"killed by a signal", -1, killed(sigKILL()), 255},
		{"FailureActionExitStatus=", 7, exited(3), 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := svc("a.service", "simple")
			a.Unit.FailureAction = "exit"
			a.Unit.FailureActionExitStatus = c.setting
			h := newHarness(t, memSource{}.add(a))
			h.step(SetExitCode{Code: 42})
			pids, _ := h.spawnAll(h.start("a.service"))
			effs := h.step(Exited{Pid: pids["a.service/main"], Status: c.status})
			if acts := find[Action](effs); len(acts) != 1 || acts[0].ExitCode != c.want {
				t.Fatalf("actions %+v, want exit code %d", acts, c.want)
			}
			effs = h.step(Shutdown{Action: "exit"})
			if ex := find[Exit](effs); len(ex) != 1 || ex[0].Code != c.want {
				t.Fatalf("want exit code %d:\n%s", c.want, dump(effs))
			}
		})
	}
	t.Run("systemctl exit N", func(t *testing.T) {
		a := svc("a.service", "simple")
		a.Unit.StartLimitAction = "exit"
		a.Unit.StartLimitBurst = 1
		a.Service.Restart = "always"
		h := newHarness(t, memSource{}.add(a))
		h.step(SetExitCode{Code: 300}) // out of range: ignored
		h.step(SetExitCode{Code: 9})
		pids, _ := h.spawnAll(h.start("a.service"))
		h.step(Exited{Pid: pids["a.service/main"], Status: exited(4)})
		effs := h.step(TimerFired{ID: TimerID{Unit: "a.service", Kind: "restart"}})
		if acts := find[Action](effs); len(acts) != 1 || acts[0].Action != "exit" {
			t.Fatalf("no StartLimitAction:\n%s", dump(effs))
		}
		effs = h.step(Shutdown{Action: "exit"})
		if ex := find[Exit](effs); len(ex) != 1 || ex[0].Code != 9 {
			t.Fatalf("want exit code 9 (StartLimitAction propagates nothing):\n%s", dump(effs))
		}
	})
}

// ExecMain keeps the last main process after it ended (systemd's
// ExecMainPID, ExecMainStart/ExitTimestamp, ExecMainCode/Status): what
// `systemctl status` prints as "Main PID: N (code=exited, status=3)".
func TestExecMainKeptAfterExit(t *testing.T) {
	a := svc("a.service", "simple")
	h := newHarness(t, memSource{}.add(a))
	h.advance(time.Second)
	pids, _ := h.spawnAll(h.start("a.service"))
	pid := pids["a.service/main"]
	st, _ := h.m.Status("a.service")
	if st.ExecMain.PID != pid || st.ExecMain.Start != time.Second || st.ExecMain.Exited {
		t.Fatalf("running: %+v", st.ExecMain)
	}
	h.advance(2 * time.Second)
	h.step(Exited{Pid: pid, Status: exited(3)})
	st, _ = h.m.Status("a.service")
	want := ExecMainStatus{PID: pid, Start: time.Second, Exit: 3 * time.Second, Exited: true, Status: exited(3)}
	if st.MainPID != 0 || st.ExecMain != want {
		t.Fatalf("after exit: main %d, %+v; want %+v", st.MainPID, st.ExecMain, want)
	}
}

// ExecRuns keep each control command's last run (systemd's exec status
// of ExecStartPre= and the others): what `systemctl status` prints as
// "Process: PID ExecStartPre=... (code=exited, status=2)".
func TestExecRunsOfControlCommands(t *testing.T) {
	a := svc("a.service", "simple")
	a.Service.ExecStartPre = []unitfile.ExecCommand{cmd("/bin/ok"), cmd("/bin/fails")}
	h := newHarness(t, memSource{}.add(a))
	pids, _ := h.spawnAll(h.start("a.service"))
	first := pids["a.service/control"]
	h.advance(time.Second)
	pids, _ = h.spawnAll(h.step(Exited{Pid: first, Status: exited(0)}))
	second := pids["a.service/control"]
	h.advance(time.Second)
	h.step(Exited{Pid: second, Status: exited(2)})
	h.wantState("a.service", "failed/failed")
	st, _ := h.m.Status("a.service")
	want := []ExecRun{
		{Setting: "ExecStartPre", Index: 0, PID: first, Start: 0, Exit: time.Second, Exited: true, Status: exited(0)},
		{Setting: "ExecStartPre", Index: 1, PID: second, Start: time.Second, Exit: 2 * time.Second, Exited: true, Status: exited(2)},
	}
	if len(st.ExecRuns) != 2 || st.ExecRuns[0] != want[0] || st.ExecRuns[1] != want[1] {
		t.Fatalf("ExecRuns %+v\nwant %+v", st.ExecRuns, want)
	}
	// A new start forgets them.
	h.step(Request{ID: 2, Unit: "a.service", Kind: JobStart, Mode: ModeReplace})
	if st, _ := h.m.Status("a.service"); len(st.ExecRuns) != 0 {
		t.Fatalf("after a new start: %+v", st.ExecRuns)
	}
}

// RootDirectoryStartOnly=yes: RootDirectory= applies to ExecStart= only;
// the other commands run in the host's root (systemd.service(5)).
func TestRootDirectoryStartOnly(t *testing.T) {
	for _, only := range []bool{false, true} {
		a := svc("a.service", "simple")
		a.Service.Exec.RootDirectory = "/srv/root"
		a.Service.RootDirectoryStartOnly = only
		a.Service.ExecStartPre = []unitfile.ExecCommand{cmd("/bin/pre")}
		h := newHarness(t, memSource{}.add(a))
		effs := h.start("a.service")
		pre := spawnsOf(effs, "a.service")
		if len(pre) != 1 || pre[0].Role != "control" {
			t.Fatalf("ExecStartPre=:\n%s", dump(effs))
		}
		want := "/srv/root"
		if only {
			want = ""
		}
		if pre[0].Exec.RootDirectory != want {
			t.Errorf("RootDirectoryStartOnly=%v: ExecStartPre= root %q, want %q", only, pre[0].Exec.RootDirectory, want)
		}
		h.step(Spawned{ID: pre[0].ID, Pid: 50})
		main := spawnsOf(h.step(Exited{Pid: 50, Status: exited(0)}), "a.service")
		if len(main) != 1 || main[0].Role != "main" || main[0].Exec.RootDirectory != "/srv/root" {
			t.Fatalf("ExecStart= after pre: %+v", main)
		}
		if a.Service.Exec.RootDirectory != "/srv/root" {
			t.Errorf("the unit's definition changed: %q", a.Service.Exec.RootDirectory)
		}
	}
}
