package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gosd/control"
)

// The control API end to end: the real gosd, its real control socket, the
// real client binary (`gosd ctl`), real processes.

// ctlResult is one run of the client binary.
type ctlResult struct {
	out, err string
	code     int
}

func (r ctlResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// ctlAs runs `gosd ctl --socket S args...` as uid (0: the test's own).
func ctlAs(t *testing.T, in *instance, uid int, args ...string) ctlResult {
	t.Helper()
	cmd := exec.Command(gosdBin, append([]string{"ctl", "--socket", filepath.Join(in.dir, "control.sock")}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	done := make(chan struct{})
	var err error
	go func() { err = cmd.Run(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("gosd ctl %v did not finish", args)
	}
	r := ctlResult{out: o.String(), err: e.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("gosd ctl %v: %v", args, err)
	}
	return r
}

func ctlRun(t *testing.T, in *instance, args ...string) ctlResult {
	t.Helper()
	return ctlAs(t, in, 0, args...)
}

// ctlOK runs the client and fails the test unless it exits with want.
func ctlWant(t *testing.T, in *instance, want int, args ...string) ctlResult {
	t.Helper()
	r := ctlRun(t, in, args...)
	if r.code != want {
		t.Fatalf("gosd ctl %s: want exit %d, got %s", strings.Join(args, " "), want, r)
	}
	return r
}

// showValue is `show -p PROP --value UNIT`.
func showValue(t *testing.T, in *instance, unit, prop string) string {
	t.Helper()
	return strings.TrimSpace(ctlWant(t, in, 0, "show", "-p", prop, "--value", unit).out)
}

func mainPID(t *testing.T, in *instance, unit string) int {
	t.Helper()
	pid, err := strconv.Atoi(showValue(t, in, unit, "MainPID"))
	if err != nil {
		t.Fatalf("MainPID of %s: %v", unit, err)
	}
	return pid
}

func procAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}

// waitActive polls is-active until the unit reaches state.
func (in *instance) waitState(t *testing.T, unit, state string, timeout time.Duration) {
	t.Helper()
	var last string
	in.waitFor(unit+" "+state, timeout, func() bool {
		last = strings.TrimSpace(ctlRun(t, in, "is-active", unit).out)
		return last == state
	})
}

// loop is a long-running shell service body that keeps its shell as the
// main process (so traps run) and wakes often enough for them to fire.
const loop = `while :; do sleep 0.1; done`

func controlUnits() map[string]string {
	return map[string]string{
		"default.target": "[Unit]\nDescription=Default\nWants=web.service worker.service setup.service echo.socket broken.service reloader.service chatty.service\n",
		"web.service": "[Unit]\nDescription=Web server\n[Service]\n" +
			"ExecStart=/bin/sh -c 'trap \"echo usr1 >> @T@/usr1\" USR1; echo web up $$$$; " + loop + "'\n" +
			"[Install]\nWantedBy=default.target\n",
		"worker.service": "[Unit]\nDescription=Worker\n[Service]\nExecStart=/bin/sh -c 'echo run >> @T@/worker-runs; " + loop + "'\n" +
			"[Install]\nWantedBy=multi-user.target\n",
		"setup.service": "[Unit]\nDescription=One-time setup\n[Service]\nType=oneshot\nRemainAfterExit=yes\n" +
			"ExecStart=/bin/sh -c 'echo setup >> @T@/setup'\n",
		"echo.socket":  "[Unit]\nDescription=Echo socket\n[Socket]\nListenStream=@T@/echo.sock\n",
		"echo.service": "[Unit]\nDescription=Echo\n[Service]\nExecStart=/bin/cat\n",
		"broken.service": "[Unit]\nDescription=Always fails\n[Service]\nType=oneshot\n" +
			"ExecStart=/bin/sh -c 'echo about to fail; exit 3'\n",
		"reloader.service": "[Unit]\nDescription=Reloadable\n[Service]\n" +
			"ExecStart=/bin/sh -c '" + loop + "'\nExecReload=/bin/sh -c 'echo reloaded >> @T@/reloaded'\n",
		"chatty.service": "[Unit]\nDescription=Says what it is told\n[Service]\n" +
			"ExecStart=/bin/sh -c 'echo chatty line 1; echo chatty line 2; echo chatty line 3; " +
			"while :; do if [ -f @T@/say ]; then cat @T@/say; rm -f @T@/say; fi; sleep 0.05; done'\n",
		"slow.service": "[Unit]\nDescription=Slow to start\n[Service]\nExecStartPre=/bin/sleep 2\n" +
			"ExecStart=/bin/sh -c '" + loop + "'\n",
		"notifying.service": "[Unit]\nDescription=Has a status\n[Service]\nType=notify\nNotifyAccess=all\n" +
			"ExecStart=/bin/sh -c 'systemd-notify --ready --status=\"serving 42\"; " + loop + "'\n",
		"changing.service":  "[Unit]\nDescription=Old text\n[Service]\nExecStart=/bin/sh -c 'echo old >> @T@/changing; " + loop + "'\n",
		"rescue.target":     "[Unit]\nDescription=Rescue\nAllowIsolate=yes\nWants=web.service\n",
		"multi-user.target": "[Unit]\nDescription=Multi-user\n",
		"installable.service": "[Unit]\nDescription=Installable\n[Service]\nExecStart=/bin/sh -c '" + loop + "'\n" +
			"[Install]\nWantedBy=default.target\nAlias=inst-alias.service\n",
	}
}

func bootControl(t *testing.T, m mode) *instance {
	t.Helper()
	in := start(t, m, controlUnits())
	in.waitOutput("Reached target default.target", 15*time.Second)
	in.waitFile("setup", 5*time.Second)
	in.waitState(t, "broken.service", "failed", 10*time.Second)
	in.waitState(t, "web.service", "active", 10*time.Second)
	return in
}

// Read-only verbs: listing, status layout, show, cat, dependencies, and
// systemctl's exit codes for them.
func TestControlReadVerbs(t *testing.T) {
	in := bootControl(t, asSubreaper)

	t.Run("list-units", func(t *testing.T) {
		out := ctlWant(t, in, 0, "list-units").out
		for _, want := range []string{"web.service", "worker.service", "setup.service", "echo.socket", "broken.service", "default.target", "loaded units listed"} {
			if !strings.Contains(out, want) {
				t.Errorf("list-units lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "slow.service") {
			t.Errorf("list-units without --all shows inactive slow.service:\n%s", out)
		}
		if !regexp.MustCompile(`(?m)^● broken\.service +loaded +failed +failed`).MatchString(out) {
			t.Errorf("broken.service not shown as failed with a mark:\n%s", out)
		}
		if !regexp.MustCompile(`(?m)^  web\.service +loaded +active +running +Web server$`).MatchString(out) {
			t.Errorf("web.service row wrong:\n%s", out)
		}
		all := ctlWant(t, in, 0, "list-units", "--all").out
		if !strings.Contains(all, "slow.service") {
			t.Errorf("list-units --all lacks slow.service:\n%s", all)
		}
		typ := ctlWant(t, in, 0, "list-units", "--all", "--type=socket", "--no-legend").out
		if got := lines(typ); len(got) != 1 || !strings.Contains(got[0], "echo.socket") || !strings.Contains(got[0], "listening") {
			t.Errorf("--type=socket: %q", got)
		}
		st := ctlWant(t, in, 0, "list-units", "--state=failed", "--no-legend").out
		if got := lines(st); len(got) != 1 || !strings.Contains(got[0], "broken.service") {
			t.Errorf("--state=failed: %q", got)
		}
		pat := ctlWant(t, in, 0, "list-units", "--no-legend", "w*").out
		if got := lines(pat); len(got) != 2 {
			t.Errorf("pattern w*: %q", got)
		}
	})

	t.Run("list-unit-files", func(t *testing.T) {
		out := ctlWant(t, in, 0, "list-unit-files", "--no-legend").out
		for _, re := range []string{`(?m)^web\.service +disabled +enabled$`, `(?m)^setup\.service +static +-$`, `(?m)^echo\.socket +static +-$`, `(?m)^default\.target +static +-$`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("list-unit-files lacks %s:\n%s", re, out)
			}
		}
		typ := ctlWant(t, in, 0, "list-unit-files", "--no-legend", "--type=target").out
		if got := lines(typ); len(got) != 3 {
			t.Errorf("--type=target: %q", got)
		}
	})

	t.Run("list-sockets", func(t *testing.T) {
		out := ctlWant(t, in, 0, "list-sockets").out
		if !regexp.MustCompile(regexp.QuoteMeta(filepath.Join(in.dir, "echo.sock")) + ` +echo\.socket +echo\.service`).MatchString(out) {
			t.Errorf("list-sockets:\n%s", out)
		}
		if !strings.Contains(out, "1 sockets listed.") {
			t.Errorf("list-sockets footer:\n%s", out)
		}
	})

	t.Run("list-dependencies", func(t *testing.T) {
		out := ctlWant(t, in, 0, "list-dependencies").out
		l := strings.Split(strings.TrimSpace(out), "\n")
		if l[0] != "default.target" || len(l) != 8 {
			t.Fatalf("list-dependencies:\n%s", out)
		}
		if !strings.Contains(out, "● web.service") || !strings.Contains(out, "○ broken.service") || !strings.Contains(out, "└─● worker.service") {
			t.Errorf("list-dependencies:\n%s", out)
		}
		rev := ctlWant(t, in, 0, "list-dependencies", "--reverse", "web.service").out
		if got := lines(rev); len(got) != 3 || got[0] != "web.service" || !strings.Contains(rev, "default.target") || !strings.Contains(rev, "rescue.target") {
			t.Errorf("list-dependencies --reverse web.service:\n%s", rev)
		}
	})

	t.Run("status", func(t *testing.T) {
		pid := mainPID(t, in, "web")
		r := ctlWant(t, in, 0, "status", "web")
		out := r.out
		for _, re := range []string{
			`(?m)^● web\.service - Web server$`,
			`(?m)^     Loaded: loaded \(` + regexp.QuoteMeta(filepath.Join(in.dir, "units", "web.service")) + `; disabled; preset: enabled\)$`,
			`(?m)^     Active: active \(running\) since \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+; (\d+m?s ago|now)$`,
			fmt.Sprintf(`(?m)^   Main PID: %d \(sh\)$`, pid),
			// The log as journalctl prints it (gosd's log store).
			fmt.Sprintf(`(?m)^\w{3} \d\d \d\d:\d\d:\d\d \S+ sh\[%d\]: web up %d$`, pid, pid),
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("status web lacks %s:\n%s", re, out)
			}
		}
		// The Type=notify status text.
		in.waitState(t, "notifying", "inactive", time.Second)
		ctlWant(t, in, 0, "start", "notifying")
		out = ctlWant(t, in, 0, "status", "notifying").out
		if !strings.Contains(out, `     Status: "serving 42"`) {
			t.Errorf("status notifying lacks the status text:\n%s", out)
		}
		// Failed: exit 3, Result shown, its log lines.
		r = ctlWant(t, in, 3, "status", "broken")
		if !regexp.MustCompile(`(?m)^× broken\.service - Always fails$`).MatchString(r.out) ||
			!strings.Contains(r.out, "     Active: failed (Result: exit-code) since") ||
			!strings.Contains(r.out, "about to fail") {
			t.Errorf("status broken:\n%s", r)
		}
		// Inactive: 3; unknown: 4 with a message.
		ctlWant(t, in, 3, "status", "slow")
		r = ctlWant(t, in, 4, "status", "nosuch")
		if !strings.Contains(r.err, "Unit nosuch.service could not be found.") {
			t.Errorf("status nosuch:\n%s", r)
		}
		// Oneshot with RemainAfterExit: active (exited).
		if out := ctlWant(t, in, 0, "status", "setup").out; !strings.Contains(out, "Active: active (exited) since") {
			t.Errorf("status setup:\n%s", out)
		}
		// -n limits the log lines.
		// (The log follows the last blank line: the CGroup lines above it
		// show the command line, which names all three lines.)
		out = ctlWant(t, in, 0, "status", "-n", "2", "chatty").out
		if log := out[strings.LastIndex(out, "\n\n")+1:]; !strings.Contains(log, "chatty line 3") || !strings.Contains(log, "chatty line 2") || strings.Contains(log, "chatty line 1") {
			t.Errorf("status -n 2 chatty:\n%s", out)
		}
		// Several units: the worst code.
		ctlWant(t, in, 4, "status", "web", "slow", "nosuch")
		ctlWant(t, in, 3, "status", "web", "slow")
	})

	t.Run("show", func(t *testing.T) {
		out := ctlWant(t, in, 0, "show", "web").out
		for _, want := range []string{"Id=web.service\n", "ActiveState=active\n", "SubState=running\n", "Description=Web server\n", "FragmentPath=" + filepath.Join(in.dir, "units", "web.service") + "\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("show web lacks %q:\n%s", want, out)
			}
		}
		out = ctlWant(t, in, 0, "show", "-p", "ActiveState,SubState", "broken").out
		if out != "ActiveState=failed\nSubState=failed\n" {
			t.Errorf("show -p: %q", out)
		}
		out = ctlWant(t, in, 0, "show", "-p", "ActiveState", "--value", "setup").out
		if out != "active\n" {
			t.Errorf("show --value: %q", out)
		}
		out = ctlWant(t, in, 0, "show", "-p", "LoadState", "--value", "nosuch").out
		if out != "not-found\n" {
			t.Errorf("show nosuch: %q", out)
		}
	})

	t.Run("cat", func(t *testing.T) {
		out := ctlWant(t, in, 0, "cat", "web").out
		want := "# " + filepath.Join(in.dir, "units", "web.service") + "\n" + strings.ReplaceAll(controlUnits()["web.service"], "@T@", in.dir)
		if out != want {
			t.Errorf("cat web: got\n%s\nwant\n%s", out, want)
		}
		r := ctlWant(t, in, 1, "cat", "nosuch")
		if !strings.Contains(r.err, "No files found for nosuch.service") {
			t.Errorf("cat nosuch: %s", r)
		}
	})

	t.Run("is-active/is-failed", func(t *testing.T) {
		if r := ctlWant(t, in, 0, "is-active", "web"); r.out != "active\n" {
			t.Errorf("is-active web: %s", r)
		}
		if r := ctlWant(t, in, 3, "is-active", "broken"); r.out != "failed\n" {
			t.Errorf("is-active broken: %s", r)
		}
		ctlWant(t, in, 3, "is-active", "slow")
		if r := ctlWant(t, in, 3, "is-active", "nosuch"); r.out != "inactive\n" {
			t.Errorf("is-active nosuch: %s", r)
		}
		ctlWant(t, in, 0, "is-active", "slow", "web")
		if r := ctlWant(t, in, 0, "is-active", "-q", "web"); r.out != "" {
			t.Errorf("is-active -q printed %q", r.out)
		}
		if r := ctlWant(t, in, 0, "is-failed", "broken"); r.out != "failed\n" {
			t.Errorf("is-failed broken: %s", r)
		}
		ctlWant(t, in, 1, "is-failed", "web")
		ctlWant(t, in, 1, "is-failed", "nosuch")
	})

	t.Run("unknown unit jobs", func(t *testing.T) {
		// systemctl(1): 5 for a job on a unit not loaded, 1 for kill.
		for verb, code := range map[string]int{"start": 5, "stop": 5, "restart": 5, "kill": 1} {
			r := ctlRun(t, in, verb, "nosuch")
			if r.code != code || !strings.Contains(r.err, "nosuch.service") {
				t.Errorf("%s nosuch: want exit %d naming the unit, got %s", verb, code, r)
			}
		}
	})

	// Nothing above changed anything.
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("gosd exit status %d", code)
	}
}

// Jobs change real processes: stop kills the pid, restart gives a new one,
// kill delivers the signal, reload runs ExecReload, isolate stops what the
// target does not want, reset-failed clears the failed state.
func TestControlJobVerbs(t *testing.T) {
	in := bootControl(t, asSubreaper)

	t.Run("stop/start", func(t *testing.T) {
		pid := mainPID(t, in, "web")
		if !procAlive(pid) {
			t.Fatalf("web's MainPID %d is not running", pid)
		}
		ctlWant(t, in, 0, "stop", "web")
		if procAlive(pid) {
			t.Fatalf("stop returned but pid %d still runs", pid)
		}
		if s := showValue(t, in, "web", "ActiveState"); s != "inactive" {
			t.Fatalf("after stop: %s", s)
		}
		ctlWant(t, in, 3, "is-active", "web")
		ctlWant(t, in, 0, "start", "web")
		pid2 := mainPID(t, in, "web")
		if pid2 == pid || !procAlive(pid2) {
			t.Fatalf("start: MainPID %d (was %d)", pid2, pid)
		}
		// Starting what runs is a no-op that succeeds.
		ctlWant(t, in, 0, "start", "web")
		if p := mainPID(t, in, "web"); p != pid2 {
			t.Fatalf("start of a running unit changed MainPID %d → %d", pid2, p)
		}
	})

	t.Run("restart/try-restart", func(t *testing.T) {
		pid := mainPID(t, in, "worker")
		ctlWant(t, in, 0, "restart", "worker")
		pid2 := mainPID(t, in, "worker")
		if pid2 == pid || procAlive(pid) || !procAlive(pid2) {
			t.Fatalf("restart: old %d alive=%v, new %d alive=%v", pid, procAlive(pid), pid2, procAlive(pid2))
		}
		// Type=simple is started once forked: its first line may come a
		// moment after restart returns.
		in.waitFor("the restarted worker's line", 5*time.Second, func() bool { return len(lines(in.read("worker-runs"))) >= 2 })
		if n := len(lines(in.read("worker-runs"))); n != 2 {
			t.Fatalf("worker ran %d times, want 2", n)
		}
		ctlWant(t, in, 0, "try-restart", "worker")
		if pid3 := mainPID(t, in, "worker"); pid3 == pid2 {
			t.Fatalf("try-restart of a running unit kept MainPID %d", pid3)
		}
		// try-restart of a stopped unit does nothing.
		ctlWant(t, in, 0, "try-restart", "slow")
		if s := showValue(t, in, "slow", "ActiveState"); s != "inactive" {
			t.Fatalf("try-restart started slow.service: %s", s)
		}
	})

	t.Run("reload", func(t *testing.T) {
		pid := mainPID(t, in, "reloader")
		ctlWant(t, in, 0, "reload", "reloader")
		if got := lines(in.read("reloaded")); len(got) != 1 {
			t.Fatalf("ExecReload ran %d times", len(got))
		}
		if p := mainPID(t, in, "reloader"); p != pid {
			t.Fatalf("reload changed MainPID %d → %d", pid, p)
		}
		ctlWant(t, in, 0, "reload-or-restart", "reloader")
		if got := lines(in.read("reloaded")); len(got) != 2 {
			t.Fatalf("reload-or-restart: ExecReload ran %d times", len(got))
		}
		if p := mainPID(t, in, "reloader"); p != pid {
			t.Fatalf("reload-or-restart of a reloadable unit changed MainPID %d → %d", pid, p)
		}
		// Without ExecReload: reload fails, reload-or-restart restarts.
		if r := ctlRun(t, in, "reload", "worker"); r.code != 1 {
			t.Fatalf("reload of a unit without ExecReload: %s", r)
		}
		wpid := mainPID(t, in, "worker")
		ctlWant(t, in, 0, "reload-or-restart", "worker")
		if p := mainPID(t, in, "worker"); p == wpid {
			t.Fatalf("reload-or-restart without ExecReload did not restart")
		}
	})

	t.Run("kill", func(t *testing.T) {
		pid := mainPID(t, in, "web")
		ctlWant(t, in, 0, "kill", "--signal=USR1", "--kill-whom=main", "web")
		in.waitFile("usr1", 5*time.Second)
		if !procAlive(pid) {
			t.Fatalf("USR1 with a trap killed the shell")
		}
		ctlWant(t, in, 0, "kill", "-s", "SIGUSR1", "web")
		in.waitFor("second USR1", 5*time.Second, func() bool { return len(lines(in.read("usr1"))) == 2 })
		ctlWant(t, in, 0, "kill", "-s", "10", "web")
		in.waitFor("third USR1", 5*time.Second, func() bool { return len(lines(in.read("usr1"))) == 3 })
		if r := ctlRun(t, in, "kill", "-s", "NOPE", "web"); r.code != 1 || !strings.Contains(r.err, "NOPE") {
			t.Fatalf("kill -s NOPE: %s", r)
		}
		// The default SIGTERM kills it; gosd notices.
		ctlWant(t, in, 0, "kill", "web")
		in.waitFor("web to die", 5*time.Second, func() bool { return !procAlive(pid) })
		in.waitFor("web not active", 5*time.Second, func() bool { return showValue(t, in, "web", "ActiveState") != "active" })
		// Killing a stopped unit is an error.
		if r := ctlRun(t, in, "kill", "slow"); r.code != 1 {
			t.Fatalf("kill of a stopped unit: %s", r)
		}
		ctlWant(t, in, 0, "start", "web")
	})

	t.Run("failed job", func(t *testing.T) {
		r := ctlRun(t, in, "restart", "broken")
		if r.code != 1 || !strings.Contains(r.err, "Job for broken.service failed") {
			t.Fatalf("restart broken: %s", r)
		}
		ctlWant(t, in, 0, "is-failed", "broken")
		ctlWant(t, in, 0, "reset-failed", "broken")
		if s := showValue(t, in, "broken", "ActiveState"); s != "inactive" {
			t.Fatalf("after reset-failed: %s", s)
		}
		ctlWant(t, in, 1, "is-failed", "broken")
		ctlRun(t, in, "start", "broken")
		ctlWant(t, in, 0, "is-failed", "broken")
		ctlWant(t, in, 0, "reset-failed") // all units
		ctlWant(t, in, 1, "is-failed", "broken")
	})

	t.Run("no-block", func(t *testing.T) {
		t0 := time.Now()
		r := ctlWant(t, in, 0, "start", "--no-block", "slow")
		if d := time.Since(t0); d > time.Second {
			t.Fatalf("start --no-block took %v", d)
		}
		_ = r
		if s := showValue(t, in, "slow", "ActiveState"); s != "activating" {
			t.Fatalf("right after start --no-block: %s", s)
		}
		in.waitState(t, "slow", "active", 10*time.Second)
		ctlWant(t, in, 0, "stop", "slow")
		t0 = time.Now()
		ctlWant(t, in, 0, "start", "slow")
		if d := time.Since(t0); d < 1900*time.Millisecond {
			t.Fatalf("start returned after %v, before ExecStartPre (2s) finished", d)
		}
		if s := showValue(t, in, "slow", "ActiveState"); s != "active" {
			t.Fatalf("after a waiting start: %s", s)
		}
	})

	t.Run("isolate", func(t *testing.T) {
		worker := mainPID(t, in, "worker")
		web := mainPID(t, in, "web")
		ctlWant(t, in, 0, "isolate", "rescue")
		// The answer comes when rescue.target's own job is done (as
		// systemctl waits for the anchor job); the stop jobs of the same
		// transaction, not ordered against it, may still run.
		in.waitFor("isolate to stop worker", 10*time.Second, func() bool { return !procAlive(worker) })
		in.waitState(t, "worker", "inactive", 10*time.Second)
		in.waitState(t, "slow", "inactive", 10*time.Second)
		if p := mainPID(t, in, "web"); p != web || !procAlive(web) {
			t.Fatalf("isolate touched web.service, which rescue.target wants: %d → %d", web, p)
		}
		ctlWant(t, in, 0, "is-active", "rescue.target")
		ctlWant(t, in, 3, "is-active", "default.target")
		// A target without AllowIsolate= is refused.
		if r := ctlRun(t, in, "isolate", "multi-user"); r.code == 0 {
			t.Fatalf("isolate of a target without AllowIsolate succeeded: %s", r)
		}
	})

	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("gosd exit status %d", code)
	}
}

// enable/disable/reenable/mask/unmask/is-enabled on the manager's own
// search path (no --unit-path: the client asks gosd for it), the links on
// disk, and the daemon-reload that follows; daemon-reload after a unit file
// changed; logs.
func TestControlUnitFilesReloadLogs(t *testing.T) {
	// A lower-priority directory, like /usr/lib/systemd/system under /etc.
	lib := t.TempDir()
	os.Chmod(lib, 0o755)
	for name, body := range map[string]string{
		"installable.service": "[Unit]\nDescription=Installable\n[Service]\nExecStart=/bin/sh -c '" + loop + "'\n" +
			"[Install]\nWantedBy=default.target\nAlias=inst-alias.service\n",
		"maskme.service": "[Unit]\nDescription=Mask me\n[Service]\nExecStart=/bin/sh -c '" + loop + "'\n",
	} {
		if err := os.WriteFile(filepath.Join(lib, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	units := controlUnits()
	delete(units, "installable.service")
	in := start(t, asSubreaper, units, "--unit-path", lib)
	in.waitOutput("Reached target default.target", 15*time.Second)
	in.waitState(t, "web", "active", 10*time.Second)
	unitDir := filepath.Join(in.dir, "units")
	link := func(p string) string {
		target, err := os.Readlink(filepath.Join(unitDir, p))
		if err != nil {
			return ""
		}
		return target
	}

	t.Run("enable/disable/reenable", func(t *testing.T) {
		if r := ctlWant(t, in, 1, "is-enabled", "installable"); r.out != "disabled\n" {
			t.Fatalf("is-enabled before: %s", r)
		}
		r := ctlWant(t, in, 0, "enable", "installable")
		want := filepath.Join(lib, "installable.service")
		if got := link("default.target.wants/installable.service"); got != want {
			t.Fatalf("wants link → %q, want %q\n%s", got, want, r)
		}
		if got := link("inst-alias.service"); got != want {
			t.Fatalf("alias link → %q, want %q", got, want)
		}
		if !strings.Contains(r.err, "Created symlink "+filepath.Join(unitDir, "default.target.wants/installable.service")+" → "+want) {
			t.Errorf("enable did not report the link:\n%s", r)
		}
		if r := ctlWant(t, in, 0, "is-enabled", "installable"); r.out != "enabled\n" {
			t.Fatalf("is-enabled after enable: %s", r)
		}
		// enable reloaded gosd: default.target now wants the unit.
		if out := ctlWant(t, in, 0, "list-dependencies").out; !strings.Contains(out, "installable.service") {
			t.Fatalf("after enable, default.target does not want installable.service:\n%s", out)
		}
		if out := ctlWant(t, in, 0, "list-unit-files", "--no-legend", "inst*").out; !regexp.MustCompile(`(?m)^installable\.service +enabled +(enabled|disabled)$`).MatchString(out) {
			t.Errorf("list-unit-files after enable:\n%s", out)
		}
		if out := ctlWant(t, in, 3, "status", "installable").out; !strings.Contains(out, "; enabled; preset: enabled)") {
			t.Errorf("status after enable:\n%s", out)
		}
		r = ctlWant(t, in, 0, "reenable", "installable")
		if link("default.target.wants/installable.service") != want || !strings.Contains(r.err, "Removed") || !strings.Contains(r.err, "Created symlink") {
			t.Fatalf("reenable:\n%s", r)
		}
		r = ctlWant(t, in, 0, "disable", "installable")
		if link("default.target.wants/installable.service") != "" || link("inst-alias.service") != "" {
			t.Fatalf("disable left links:\n%s", r)
		}
		ctlWant(t, in, 1, "is-enabled", "installable")
		if r := ctlWant(t, in, 0, "is-enabled", "setup"); r.out != "static\n" {
			t.Errorf("is-enabled setup: %s", r)
		}
		ctlWant(t, in, 1, "is-enabled", "nosuch") // systemctl 252: 1, on stderr
		if r := ctlRun(t, in, "enable", "nosuch"); r.code == 0 {
			t.Errorf("enable nosuch: %s", r)
		}
		// --now starts and stops.
		ctlWant(t, in, 0, "enable", "--now", "installable")
		ctlWant(t, in, 0, "is-active", "installable")
		pid := mainPID(t, in, "installable")
		ctlWant(t, in, 0, "disable", "--now", "installable")
		ctlWant(t, in, 3, "is-active", "installable")
		if procAlive(pid) {
			t.Fatalf("disable --now left pid %d running", pid)
		}
	})

	t.Run("mask/unmask", func(t *testing.T) {
		ctlWant(t, in, 0, "mask", "maskme")
		if got := link("maskme.service"); got != "/dev/null" {
			t.Fatalf("mask link → %q", got)
		}
		if r := ctlWant(t, in, 1, "is-enabled", "maskme"); r.out != "masked\n" {
			t.Fatalf("is-enabled masked: %s", r)
		}
		if s := showValue(t, in, "maskme", "LoadState"); s != "masked" {
			t.Fatalf("LoadState of a masked unit after the reload: %q", s)
		}
		if r := ctlRun(t, in, "start", "maskme"); r.code == 0 {
			t.Fatalf("a masked unit started: %s", r)
		}
		ctlWant(t, in, 3, "is-active", "maskme")
		// A unit whose file is in the link directory cannot be masked.
		if r := ctlRun(t, in, "mask", "web"); r.code == 0 || link("web.service") != "" {
			t.Fatalf("mask over a unit file: %s", r)
		}
		ctlWant(t, in, 0, "unmask", "maskme")
		if _, err := os.Lstat(filepath.Join(unitDir, "maskme.service")); !os.IsNotExist(err) {
			t.Fatalf("unmask left the link: %v", err)
		}
		ctlWant(t, in, 0, "start", "maskme")
		ctlWant(t, in, 0, "is-active", "maskme")
	})

	t.Run("daemon-reload", func(t *testing.T) {
		web := mainPID(t, in, "web")
		ctlWant(t, in, 0, "start", "changing")
		old := mainPID(t, in, "changing")
		body := strings.ReplaceAll(units["changing.service"], "old", "new")
		body = strings.ReplaceAll(body, "Old text", "New text")
		body = strings.ReplaceAll(body, "@T@", in.dir)
		if err := os.WriteFile(filepath.Join(unitDir, "changing.service"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		ctlWant(t, in, 0, "daemon-reload")
		if p := mainPID(t, in, "web"); p != web || !procAlive(web) {
			t.Fatalf("daemon-reload disturbed web: %d → %d", web, p)
		}
		if p := mainPID(t, in, "changing"); p != old || !procAlive(old) {
			t.Fatalf("daemon-reload restarted changing: %d → %d", old, p)
		}
		if d := showValue(t, in, "changing", "Description"); d != "New text" {
			t.Fatalf("Description after daemon-reload: %q", d)
		}
		if out := ctlWant(t, in, 0, "cat", "changing").out; !strings.Contains(out, "echo new") {
			t.Fatalf("cat after daemon-reload:\n%s", out)
		}
		ctlWant(t, in, 0, "restart", "changing")
		in.waitFor("the new ExecStart", 5*time.Second, func() bool {
			return strings.Join(lines(in.read("changing")), ",") == "old,new"
		})
	})

	t.Run("logs", func(t *testing.T) {
		r := ctlWant(t, in, 0, "logs", "-u", "chatty", "-n", "2")
		if got := lines(r.out); len(got) != 2 || !strings.HasSuffix(got[0], "chatty line 2") || !strings.HasSuffix(got[1], "chatty line 3") {
			t.Fatalf("logs -u chatty -n 2: %s", r)
		}
		// -n 0: all, the unit's output and gosd's messages about it, as
		// journalctl -u shows them.
		unitLog := lines(ctlWant(t, in, 0, "logs", "-u", "chatty", "-n", "0", "-o", "cat").out)
		if strings.Join(unitLog, ",") != "Starting chatty.service - Says what it is told...,Started chatty.service - Says what it is told.,chatty line 1,chatty line 2,chatty line 3" {
			t.Fatalf("logs -n 0 (all): %q", unitLog)
		}
		all := ctlWant(t, in, 0, "logs", "-n", "1000", "-o", "json").out
		if !strings.Contains(all, `"_SYSTEMD_UNIT":"chatty.service"`) || !strings.Contains(all, `"_SYSTEMD_UNIT":"web.service"`) {
			t.Fatalf("logs of every unit do not name the units:\n%s", all)
		}

		// -f: the snapshot, then a line the service writes after the
		// follow started.
		cmd := exec.Command(gosdBin, "ctl", "--socket", filepath.Join(in.dir, "control.sock"), "logs", "-f", "-u", "chatty", "-n", "1")
		pr, pw, _ := os.Pipe()
		cmd.Stdout = pw
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		defer cmd.Process.Kill()
		got := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				got <- sc.Text()
			}
			close(got)
		}()
		next := func() string {
			select {
			case l := <-got:
				return l
			case <-time.After(10 * time.Second):
				t.Fatal("logs -f printed nothing")
				return ""
			}
		}
		if l := next(); !strings.HasSuffix(l, "chatty line 3") {
			t.Fatalf("logs -f first line %q", l)
		}
		os.WriteFile(filepath.Join(in.dir, "say.tmp"), []byte("said after follow\n"), 0o644)
		os.Rename(filepath.Join(in.dir, "say.tmp"), filepath.Join(in.dir, "say"))
		if l := next(); !strings.HasSuffix(l, "said after follow") {
			t.Fatalf("logs -f streamed %q", l)
		}
		cmd.Process.Kill()
		cmd.Wait()
	})

	t.Run("poweroff", func(t *testing.T) {
		pids := []int{mainPID(t, in, "web"), mainPID(t, in, "chatty")}
		r := ctlRun(t, in, "poweroff")
		if r.code != 0 {
			t.Fatalf("poweroff: %s", r)
		}
		if code := in.wait(20 * time.Second); code != 0 {
			t.Fatalf("gosd exited %d after poweroff", code)
		}
		for _, p := range pids {
			if procAlive(p) {
				t.Errorf("pid %d survived poweroff", p)
			}
		}
		if _, err := os.Stat(filepath.Join(in.dir, "control.sock")); !os.IsNotExist(err) {
			t.Errorf("control socket left behind: %v", err)
		}
	})
}

// poweroff as PID1 of a PID namespace (a container): gosd stops everything
// and exits 0.
func TestControlPoweroffPID1(t *testing.T) {
	in := start(t, asPID1, controlUnits())
	in.waitOutput("Reached target default.target", 15*time.Second)
	in.waitState(t, "web", "active", 10*time.Second)
	ctlWant(t, in, 0, "poweroff")
	if code := in.wait(20 * time.Second); code != 0 {
		t.Fatalf("gosd exited %d after poweroff", code)
	}
	if !strings.Contains(in.out.String(), "Stopped web.service") {
		t.Fatalf("web.service was not stopped in order:\n%s", in.out.String())
	}
}

// A real unprivileged user (uid 65534) on the 0666 socket: the read verbs
// answer, the verbs that change state or reveal logs are refused with exit
// 4 and a clear message, and nothing changes.
func TestControlPermissions(t *testing.T) {
	in := bootControl(t, asSubreaper)
	// nobody must reach the binary and the socket.
	for _, d := range []string{filepath.Dir(gosdBin), in.dir, filepath.Dir(in.dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const nobody = 65534
	web := mainPID(t, in, "web")

	for _, args := range [][]string{
		{"list-units", "--all"}, {"list-sockets"}, {"list-unit-files"}, {"list-dependencies"},
		{"list-dependencies", "--reverse", "web"}, {"show", "web"}, {"cat", "web"}, {"is-active", "web"},
		{"is-enabled", "setup"},
	} {
		r := ctlAs(t, in, nobody, args...)
		if r.code != 0 || r.out == "" {
			t.Errorf("as nobody, %v: %s", args, r)
		}
	}
	// status works and shows no log lines.
	r := ctlAs(t, in, nobody, "status", "web")
	if r.code != 0 || !strings.Contains(r.out, "Active: active (running)") || strings.Contains(r.out, "web up") {
		t.Errorf("status as nobody: %s", r)
	}
	if r := ctlAs(t, in, nobody, "status", "broken"); r.code != 3 {
		t.Errorf("status broken as nobody: %s", r)
	}

	for _, args := range [][]string{
		{"stop", "web"}, {"start", "slow"}, {"restart", "web"}, {"kill", "web"}, {"kill", "-s", "KILL", "web"},
		{"reload", "reloader"}, {"reset-failed"}, {"isolate", "rescue"}, {"daemon-reload"},
		{"logs", "-u", "web"}, {"logs", "-f"}, {"poweroff"}, {"reboot"},
	} {
		r := ctlAs(t, in, nobody, args...)
		if r.code != 4 || !strings.Contains(r.err, "permission denied") || !strings.Contains(r.err, "needs root") {
			t.Errorf("as nobody, %v: want exit 4 and a permission message, got %s", args, r)
		}
	}
	// Nothing changed.
	if p := mainPID(t, in, "web"); p != web || !procAlive(web) {
		t.Fatalf("web changed under refused requests: %d → %d", web, p)
	}
	ctlWant(t, in, 3, "is-active", "slow")
	ctlWant(t, in, 0, "is-failed", "broken")
	if got := in.read("reloaded"); got != "" {
		t.Fatalf("a refused reload ran ExecReload: %q", got)
	}
	if in.read("usr1") != "" {
		t.Fatal("a refused kill reached web")
	}
	select {
	case <-in.done:
		t.Fatal("a refused poweroff stopped gosd")
	default:
	}
	// The unit-file verbs work on the files themselves: nobody cannot
	// write the unit directory, so enable fails without touching it.
	if r := ctlAs(t, in, nobody, "enable", "web"); r.code == 0 {
		t.Errorf("enable as nobody: %s", r)
	}
	if _, err := os.Lstat(filepath.Join(in.dir, "units", "default.target.wants")); !os.IsNotExist(err) {
		t.Errorf("enable as nobody made links: %v", err)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("gosd exit status %d", code)
	}
}

// fdCount is the number of open fds of pid.
func fdCount(t *testing.T, pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// 1,000 connections sending garbage: gosd keeps answering well-formed
// requests, the services keep running, and no fd is left behind.
func TestControlGarbageFlood(t *testing.T) {
	in := bootControl(t, asSubreaper)
	sock := filepath.Join(in.dir, "control.sock")
	web := mainPID(t, in, "web")
	fds := fdCount(t, in.gosdPid())

	huge := bytes.Repeat([]byte("x"), 1<<20+10)
	garbage := [][]byte{
		[]byte("hello\n"),
		{0, 1, 2, 3, 0xff, 0xfe, '\n'},
		[]byte("[1,2,3]\n"),
		[]byte(`{"jsonrpc":"2.0","id":1,"method":"Job","params":{"units":["web"],"kind":"stop"}` + "\n"), // unterminated object
		[]byte(`{"jsonrpc":"2.0","id":{},"method":"Status"}` + "\n"),
		[]byte(`{"jsonrpc":"2.0","id":1,"method":"Status","params":{"units":42}}` + "\n"),
		[]byte(`{"jsonrpc":"2.0","id":1,"method":"Nope"}` + "\n"),
		[]byte(`{"jsonrpc":"2.0","id":1,"method":"Kill","params":{"units":["web"],"signal":-9}}` + "\n"),
		[]byte(`{"jsonrpc":"2.0","id":1,"method":"Status","params":{"units":["web"]` + "\n"),
		[]byte(`{"jsonrpc":"1.0","method":"Power","params":{"action":"poweroff"}}` + "\n"),
		[]byte("{\"jsonrpc\":\"2.0\",\"id\":1,\"meth"), // no newline, then close
		huge,
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	sem := make(chan struct{}, 64)
	var mu sync.Mutex
	var held []net.Conn // some clients never read and stay connected
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("unix", sock, 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write(garbage[i%len(garbage)])
			switch i % 3 {
			case 0: // read the error answer
				line, _ := bufio.NewReader(c).ReadString('\n')
				if i%len(garbage) != 10 && !strings.Contains(line, `"error"`) {
					errs <- fmt.Errorf("garbage %d answered %q", i%len(garbage), line)
				}
				c.Close()
			case 1:
				c.Close()
			case 2:
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// A well-formed request on a fresh connection, while the held ones
	// are still open.
	cl, err := control.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	var details []control.UnitDetail
	if err := cl.Call(control.MethodStatus, control.StatusParams{Units: []string{"web"}}, &details); err != nil {
		t.Fatal(err)
	}
	if len(details) != 1 || details[0].Info.ActiveState != "active" || details[0].Info.MainPID != web {
		t.Fatalf("status after the flood: %+v", details)
	}
	cl.Close()
	if r := ctlWant(t, in, 0, "status", "web"); !strings.Contains(r.out, fmt.Sprintf("Main PID: %d", web)) {
		t.Fatalf("status after the flood:\n%s", r)
	}
	for _, u := range []string{"web", "worker", "reloader", "chatty"} {
		ctlWant(t, in, 0, "is-active", u)
	}
	if !procAlive(web) {
		t.Fatal("web died during the flood")
	}
	for _, c := range held {
		c.Close()
	}
	// Every connection's fd is released.
	pid := in.gosdPid()
	in.waitFor("fds back to the baseline", 10*time.Second, func() bool { return fdCount(t, pid) <= fds })
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("gosd exit status %d", code)
	}
}

// Status round trips per second against the real gosd: the JSON-RPC call
// from an in-process client (control.Client), one connection, one call at
// a time; then 4 connections in parallel.
func TestControlStatusThroughput(t *testing.T) {
	in := bootControl(t, asSubreaper)
	sock := filepath.Join(in.dir, "control.sock")
	params := control.StatusParams{Units: []string{"web.service"}}
	check := func(d []control.UnitDetail) {
		if len(d) != 1 || d[0].Info.ActiveState != "active" {
			t.Errorf("bad answer %+v", d)
		}
	}
	serial := testing.Benchmark(func(b *testing.B) {
		cl, err := control.Dial(sock)
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var d []control.UnitDetail
			if err := cl.Call(control.MethodStatus, params, &d); err != nil {
				b.Fatal(err)
			}
			if i == 0 {
				check(d)
			}
		}
	})
	parallel := testing.Benchmark(func(b *testing.B) {
		b.SetParallelism(1) // GOMAXPROCS goroutines, one connection each
		b.RunParallel(func(pb *testing.PB) {
			cl, err := control.Dial(sock)
			if err != nil {
				b.Error(err)
				return
			}
			defer cl.Close()
			for pb.Next() {
				var d []control.UnitDetail
				if err := cl.Call(control.MethodStatus, params, &d); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	// The floor: the smallest request that still goes through the reactor.
	minimal := testing.Benchmark(func(b *testing.B) {
		cl, err := control.Dial(sock)
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		for i := 0; i < b.N; i++ {
			if err := cl.Call(control.MethodUnitPaths, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	if serial.N == 0 || parallel.N == 0 || minimal.N == 0 {
		t.Fatal("benchmark did not run")
	}
	rate := func(r testing.BenchmarkResult) float64 { return float64(r.N) / r.T.Seconds() }
	t.Logf("status round trips, 1 connection: %.0f/s (%v per call, %d allocs/op in the client)", rate(serial), time.Duration(serial.NsPerOp()), serial.AllocsPerOp())
	t.Logf("UnitPaths round trips (the floor), 1 connection: %.0f/s", rate(minimal))
	t.Logf("status round trips, %d connections: %.0f/s", runtime.GOMAXPROCS(0), rate(parallel))
	// A floor far below what a unix socket round trip costs: it catches a
	// server that serialises on timers or sleeps, not a slow machine.
	if rate(serial) < 200 {
		t.Errorf("only %.0f status round trips/s", rate(serial))
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("gosd exit status %d", code)
	}
}
