package integration

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Ordering: a oneshot chain a → b → c runs strictly in order (each starts
// after the previous one finished), and d, ordered after nothing, runs
// without waiting for the chain.
func TestOrderingAndOneshotChain(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		stamp := func(name, after string) string {
			u := "[Unit]\nDescription=step " + name + "\n"
			if after != "" {
				u += "After=" + after + "\n"
			}
			return u + "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo " + name + " start $(date +%%s%%N) >> @T@/log; sleep 0.2; echo " + name + " end $(date +%%s%%N) >> @T@/log'\n"
		}
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nDescription=Test target\nWants=a.service b.service c.service d.service\n",
			"a.service":      stamp("a", ""),
			"b.service":      stamp("b", "a.service"),
			"c.service":      stamp("c", "b.service"),
			"d.service":      "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo d start $(date +%%s%%N) >> @T@/log'\n",
		})
		in.waitOutput("Reached target default.target", 20*time.Second)
		times := map[string]int64{}
		for _, l := range lines(in.read("log")) {
			f := strings.Fields(l)
			if len(f) != 3 {
				t.Fatalf("bad log line %q", l)
			}
			v, _ := strconv.ParseInt(f[2], 10, 64)
			times[f[0]+" "+f[1]] = v
		}
		for _, k := range []string{"a start", "a end", "b start", "b end", "c start", "c end", "d start"} {
			if times[k] == 0 {
				t.Fatalf("missing %q in log %v", k, times)
			}
		}
		if !(times["a end"] <= times["b start"] && times["b end"] <= times["c start"]) {
			t.Fatalf("chain ran out of order: %v", times)
		}
		if times["d start"] >= times["b start"] {
			t.Fatalf("d waited for the chain although it is ordered after nothing: %v", times)
		}
		// The target is reached only after the chain finished (a target is
		// After= what it Wants=).
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// A service that keeps failing is restarted until its start limit is hit,
// then left failed; nothing else is disturbed.
func TestRestartWithLimits(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=flaky.service steady.service\n",
			"flaky.service": "[Unit]\nStartLimitIntervalSec=30s\nStartLimitBurst=3\n" +
				"[Service]\nExecStart=/bin/sh -c 'echo run >> @T@/runs; exit 3'\nRestart=always\nRestartSec=50ms\n",
			"steady.service": "[Service]\nExecStart=/bin/sh -c 'echo up > @T@/steady; exec sleep 1000'\n",
		})
		in.waitFile("steady", 10*time.Second)
		in.waitFor("three runs", 10*time.Second, func() bool { return len(lines(in.read("runs"))) >= 3 })
		time.Sleep(1500 * time.Millisecond) // 30 more restart intervals
		if n := len(lines(in.read("runs"))); n != 3 {
			t.Fatalf("flaky ran %d times, want 3 (StartLimitBurst=3)", n)
		}
		in.waitOutput("flaky.service", time.Second)
		if !strings.Contains(in.out.String(), "start-limit-hit") {
			t.Fatalf("no start-limit-hit reported")
		}
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// OnFailure= starts the handler when a unit fails.
func TestOnFailure(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target":  "[Unit]\nWants=broken.service\n",
			"broken.service":  "[Unit]\nOnFailure=handler.service\n[Service]\nExecStart=/bin/false\n",
			"handler.service": "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo handled > @T@/handled'\n",
		})
		if got := strings.TrimSpace(in.waitFile("handled", 10*time.Second)); got != "handled" {
			t.Fatalf("handler wrote %q", got)
		}
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// Units stop in reverse order: y (After=x) stops before x.
func TestStopOrder(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		svc := func(name, after string) string {
			u := "[Unit]\n"
			if after != "" {
				u += "After=" + after + "\n"
			}
			return u + "[Service]\nExecStart=/bin/sh -c 'echo " + name + " > @T@/up-" + name + "; exec sleep 1000'\n" +
				"ExecStop=/bin/sh -c 'echo stop " + name + " >> @T@/stops; kill $MAINPID'\n"
		}
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=x.service y.service z.service\n",
			"x.service":      svc("x", ""),
			"y.service":      svc("y", "x.service"),
			"z.service":      svc("z", "y.service"),
		})
		in.waitFile("up-z", 10*time.Second)
		in.waitOutput("Reached target default.target", 10*time.Second)
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
		if got := strings.Join(lines(in.read("stops")), ","); got != "stop z,stop y,stop x" {
			t.Fatalf("stop order %q, want z,y,x", got)
		}
	})
}

// A double-forking service leaves an orphan; gosd (PID1 or subreaper)
// adopts and reaps it: no zombie is left behind.
func TestOrphanReaped(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=forker.service\n",
			"forker.service": "[Service]\nType=forking\n" +
				"ExecStart=/bin/sh -c '(sleep 0.3; echo $$ > @T@/orphan-done) & (sleep 1000 & echo $! > @T@/daemon.pid) ; exit 0'\n" +
				"PIDFile=@T@/daemon.pid\n",
		})
		in.waitFile("orphan-done", 10*time.Second)
		pid := in.gosdPid()
		in.waitFor("no zombies", 5*time.Second, func() bool { return len(zombiesOf(pid)) == 0 })
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// A service that ignores SIGTERM is killed with SIGKILL after TimeoutStopSec.
func TestStopTimeoutEscalates(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=stubborn.service\n",
			"stubborn.service": "[Service]\nExecStart=/bin/sh -c 'trap \"\" TERM; echo $$$$ > @T@/stubborn.pid; while :; do sleep 0.1; done'\n" +
				"TimeoutStopSec=1s\n",
		})
		hostPid := 0
		in.waitFile("stubborn.pid", 10*time.Second)
		// The pid file holds the namespace pid; find the host pid by scanning for the script.
		if !in.pid1 {
			hostPid, _ = strconv.Atoi(strings.TrimSpace(in.read("stubborn.pid")))
		}
		began := time.Now()
		if code := in.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
		if took := time.Since(began); took < 900*time.Millisecond {
			t.Fatalf("gosd exited after %v, before TimeoutStopSec=1s elapsed: SIGTERM was not ignored?", took)
		}
		if hostPid > 0 {
			if err := syscall.Kill(hostPid, 0); err == nil {
				t.Fatalf("stubborn service %d still alive", hostPid)
			}
		}
		if !strings.Contains(in.out.String(), "KILL") {
			t.Fatalf("no SIGKILL escalation reported")
		}
	})
}

// A service that cannot even start fails alone; its neighbours come up and
// the target is reached.
func TestCrashAtStartNextToHealthy(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target":  "[Unit]\nDescription=Mixed\nWants=crash.service healthy.service\n",
			"crash.service":   "[Unit]\nDescription=Crashes\n[Service]\nExecStart=/nonexistent/binary\n",
			"healthy.service": "[Service]\nExecStart=/bin/sh -c 'echo ok > @T@/healthy; exec sleep 1000'\n",
		})
		in.waitFile("healthy", 10*time.Second)
		in.waitOutput("Reached target default.target", 10*time.Second)
		in.waitOutput("crash.service: warning: Failed with result 'exit-code'", 5*time.Second)
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// A service gets exactly stdin, stdout and stderr: no fd of gosd leaks.
func TestServiceSeesOnlyItsFds(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=fds.service\n",
			// The shell lists its own fds; its output goes to a file by
			// StandardOutput=, so the shell itself opens nothing.
			"fds.service": "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'ls /proc/$$$$/fd'\nStandardOutput=file:@T@/fds\n",
		})
		in.waitOutput("Reached target default.target", 10*time.Second)
		got := strings.Join(lines(in.read("fds")), " ")
		if got != "0 1 2" {
			t.Fatalf("service saw fds %q, want \"0 1 2\"", got)
		}
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

var _ = os.Getpid

// FailureAction=exit with FailureActionExitStatus=: a failing unit stops
// everything in order and gosd exits with that status (systemd.unit(5)).
func TestFailureActionExit(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=fatal.service bystander.service\n",
			"fatal.service": "[Unit]\nFailureAction=exit\nFailureActionExitStatus=3\n" +
				"[Service]\nType=oneshot\nExecStart=/bin/sh -c 'sleep 0.3; exit 7'\n",
			"bystander.service": "[Service]\nExecStart=/bin/sh -c 'echo up > @T@/up; exec sleep 1000'\n" +
				"ExecStop=/bin/sh -c 'echo stopped > @T@/stopped; kill $MAINPID'\n",
		})
		in.waitFile("up", 10*time.Second)
		if code := in.wait(20 * time.Second); code != 3 {
			t.Fatalf("exit status %d, want 3 (FailureActionExitStatus=)", code)
		}
		if got := strings.TrimSpace(in.read("stopped")); got != "stopped" {
			t.Fatalf("the other service was not stopped in order before exit: %q", got)
		}
	})
}
