package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gosd as the PID1 of a container (a PID namespace made by unshare): the
// repository's example units boot and stop in reverse order, nothing is
// left behind, and the ways a container's init is told to end all end in
// an exit status the runtime can read.

// pid1ExampleUnits loads examples/units (files and the .wants symlinks)
// in the harness's map form.
func pid1ExampleUnits(t *testing.T) map[string]string {
	t.Helper()
	units := map[string]string{}
	root := "../examples/units"
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			units[rel] = "->" + target
			return err
		}
		if fi.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		units[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return units
}

// pid1Edge is "A is ordered after B": B starts first and stops last.
type pid1Edge struct{ after, before string }

// pid1OrderGraph reads the ordering of the units in dir from `gosd verify
// --json` (explicit After=/Before=) and adds systemd's default
// dependencies that apply to them: a target is ordered after what it
// Wants=/Requires= (systemd.target(5)), a socket before sockets.target
// (systemd.socket(5)).
func pid1OrderGraph(t *testing.T, dir string) []pid1Edge {
	t.Helper()
	out, err := exec.Command(gosdBin, "verify", "--json", dir).Output()
	if err != nil {
		t.Fatalf("gosd verify --json %s: %v", dir, err)
	}
	var units []struct {
		Name string `json:"name"`
		Type string `json:"type"`
		Unit struct {
			After       []string `json:"after"`
			Before      []string `json:"before"`
			Wants       []string `json:"wants"`
			Requires    []string `json:"requires"`
			DefaultDeps bool     `json:"default_dependencies"`
		} `json:"unit"`
	}
	if err := json.Unmarshal(out, &units); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	var edges []pid1Edge
	for _, u := range units {
		for _, b := range u.Unit.After {
			edges = append(edges, pid1Edge{u.Name, b})
		}
		for _, a := range u.Unit.Before {
			edges = append(edges, pid1Edge{a, u.Name})
		}
		if u.Type == "target" && u.Unit.DefaultDeps {
			for _, w := range append(append([]string{}, u.Unit.Wants...), u.Unit.Requires...) {
				edges = append(edges, pid1Edge{u.Name, w})
			}
		}
		if u.Type == "socket" && u.Unit.DefaultDeps {
			edges = append(edges, pid1Edge{"sockets.target", u.Name})
		}
	}
	return edges
}

var (
	pid1StartedRe = regexp.MustCompile(`(?m)^\[  OK  \] (?:Started|Finished|Reached target|Listening on) (\S+)`)
	pid1StoppedRe = regexp.MustCompile(`(?m)^\[  OK  \] (?:Stopped target|Stopped|Closed) (\S+)`)
)

// pid1Positions maps each unit named by re's first group to the byte
// offset of its first match in console.
func pid1Positions(re *regexp.Regexp, console string) map[string]int {
	pos := map[string]int{}
	for _, m := range re.FindAllStringSubmatchIndex(console, -1) {
		name := console[m[2]:m[3]]
		if _, ok := pos[name]; !ok {
			pos[name] = m[0]
		}
	}
	return pos
}

// pid1Proc identifies a process across pid reuse: pid, start time, name.
type pid1Proc struct {
	pid   int
	start string
	comm  string
}

// pid1Stat returns the state letter and start time of pid ("" when gone).
func pid1Stat(pid int) (state, start, comm string) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", "", ""
	}
	s := string(data)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return "", "", ""
	}
	f := strings.Fields(s[j+1:])
	if len(f) < 20 {
		return "", "", ""
	}
	return f[0], f[19], s[i+1 : j] // field 3 is the state, field 22 the start time
}

// alive: the same process is still there and has not exited (a zombie
// has exited; only its reaping is pending).
func (p pid1Proc) alive() bool {
	state, start, _ := pid1Stat(p.pid)
	return state != "" && start == p.start && state != "Z"
}

// exists: the same process still has a /proc entry (zombie or not).
func (p pid1Proc) exists() bool {
	state, start, _ := pid1Stat(p.pid)
	return state != "" && start == p.start
}

// pid1Descendants lists every process below pid (host pids), found
// through /proc/<pid>/task/*/children recursively.
func pid1Descendants(pid int) []pid1Proc {
	var out []pid1Proc
	var walk func(int)
	walk = func(p int) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p))
		for _, task := range tasks {
			data, _ := os.ReadFile(task)
			for _, f := range strings.Fields(string(data)) {
				c, err := strconv.Atoi(f)
				if err != nil {
					continue
				}
				if state, start, comm := pid1Stat(c); state != "" {
					out = append(out, pid1Proc{c, start, comm})
				}
				walk(c)
			}
		}
	}
	walk(pid)
	return out
}

// pid1WatchLeftovers records every process of procs still running once
// gosd's output says every unit is stopped: the manager claimed a stop
// that had not happened. It samples until gosd exits. (The kernel kills
// what is left in the namespace when its init exits, and FinalShutdown
// kills the rest before that, so only a look between the two can see a
// unit's process the manager forgot.)
func pid1WatchLeftovers(in *instance, procs []pid1Proc) func() []pid1Proc {
	var mu sync.Mutex
	left := map[pid1Proc]bool{}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-in.done:
				return
			default:
			}
			// Output first, then the processes: a process seen running
			// here was running after the line was printed.
			if strings.Contains(in.out.String(), "All units stopped") {
				for _, p := range procs {
					if p.alive() {
						mu.Lock()
						left[p] = true
						mu.Unlock()
					}
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return func() []pid1Proc {
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		var out []pid1Proc
		for p := range left {
			out = append(out, p)
		}
		return out
	}
}

// TestPID1ExampleUnits: gosd as a container's init boots the example
// units to default.target, stops them on SIGTERM in the reverse of the
// After= graph, exits 0, and leaves no process behind.
func TestPID1ExampleUnits(t *testing.T) {
	begin := time.Now()
	in := start(t, asPID1, pid1ExampleUnits(t))
	in.waitOutput("Reached target default.target - gosd example system.", 30*time.Second)
	target := time.Since(begin)
	in.waitOutput("hello from greeter.service", 10*time.Second)
	if !strings.Contains(in.out.String(), "boot: mounted /run") {
		t.Error("no early boot as PID1 (boot: mounted /run missing)")
	}

	// Every process gosd runs, by host pid, before the stop: the services
	// (sh, sleep, perl) and gosd itself, which as PID1 calls itself
	// systemd (boot.Announce).
	gosd := in.gosdPid()
	procs := pid1Descendants(in.cmd.Process.Pid)
	comms := map[string]bool{}
	for _, p := range procs {
		comms[p.comm] = true
	}
	for _, want := range []string{"systemd", "sh", "perl"} {
		if !comms[want] {
			t.Fatalf("no %s process in the namespace before the stop: %+v", want, procs)
		}
	}
	// gosd itself rightly runs on after "All units stopped" (final
	// shutdown); watch only the units' processes.
	var unitProcs []pid1Proc
	for _, p := range procs {
		if p.pid != gosd {
			unitProcs = append(unitProcs, p)
		}
	}
	leftovers := pid1WatchLeftovers(in, unitProcs)

	stopAt := time.Now()
	if err := syscall.Kill(gosd, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := in.wait(30 * time.Second)
	stopTook := time.Since(stopAt)
	console := in.out.String()
	if code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}
	for _, want := range []string{"Shutting down (exit)", "All units stopped, shutdown complete", "boot: exit 0"} {
		if !strings.Contains(console, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// Order: for every edge "A after B" of units that ran, B started
	// before A and A stopped before B.
	started, stopped := pid1Positions(pid1StartedRe, console), pid1Positions(pid1StoppedRe, console)
	for _, u := range []string{"default.target", "sockets.target", "echo.socket", "prepare.service", "greeter.service", "ready.service"} {
		if _, ok := started[u]; !ok {
			t.Errorf("%s never started", u)
		}
		if _, ok := stopped[u]; !ok {
			t.Errorf("%s never stopped", u)
		}
	}
	checked := 0
	for _, e := range pid1OrderGraph(t, "../examples/units") {
		sa, ok1 := started[e.after]
		sb, ok2 := started[e.before]
		pa, ok3 := stopped[e.after]
		pb, ok4 := stopped[e.before]
		if !(ok1 && ok2 && ok3 && ok4) {
			continue
		}
		checked++
		if sb > sa {
			t.Errorf("%s is ordered after %s but started first", e.after, e.before)
		}
		if pa > pb {
			t.Errorf("%s is ordered after %s but %s stopped first", e.after, e.before, e.before)
		}
	}
	if checked < 6 {
		t.Errorf("only %d ordering edges between units that ran (want the 6 of the examples)", checked)
	}

	// Nothing left behind: no unit process ran on after the manager said
	// all were stopped, and none exists after gosd's exit.
	for _, p := range leftovers() {
		t.Errorf("%s (host pid %d) still running after \"All units stopped\"", p.comm, p.pid)
	}
	for _, p := range procs {
		if p.exists() {
			t.Errorf("%s (host pid %d) still exists after gosd exited", p.comm, p.pid)
		}
	}
	reaped := regexp.MustCompile(`boot: (SIGTERM to every process, reaped \d+|no processes left)`).FindString(console)
	t.Logf("boot to default.target %.0f ms; SIGTERM to exit %.0f ms; %d processes tracked; final kill: %s",
		target.Seconds()*1000, stopTook.Seconds()*1000, len(procs), reaped)
}

// pid1Ctl runs the client against in's control socket.
func pid1Ctl(t *testing.T, in *instance, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(gosdBin, append([]string{"ctl", "--socket", filepath.Join(in.dir, "control.sock")}, args...)...)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("gosd ctl %v did not finish", args)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("gosd ctl %v: %v", args, err)
	}
	return string(out), 0
}

// pid1SmallUnits: a target with a long-running service that reports its
// stop, for the ways a container's init is told to end.
func pid1SmallUnits() map[string]string {
	return map[string]string{
		"default.target": "[Unit]\nDescription=pid1 test\nWants=svc.service\nAfter=svc.service\n",
		"svc.service":    "[Service]\nExecStart=/bin/sh -c 'trap \"echo stopped >> @T@/svc; exit 0\" TERM; echo started >> @T@/svc; while :; do sleep 1; done'\n",
	}
}

// TestPID1CtlPoweroff: `gosd ctl poweroff` to a container's init stops
// the units and ends in exit status 0 (a container has no power to cut).
func TestPID1CtlPoweroff(t *testing.T) {
	for _, verb := range []string{"poweroff", "reboot", "halt"} {
		t.Run(verb, func(t *testing.T) {
			in := start(t, asPID1, pid1SmallUnits())
			in.waitOutput("Reached target default.target", 20*time.Second)
			in.waitFile("svc", 10*time.Second)
			out, code := pid1Ctl(t, in, verb)
			if code != 0 {
				t.Errorf("gosd ctl %s: exit %d\n%s", verb, code, out)
			}
			if st := in.wait(30 * time.Second); st != 0 {
				t.Fatalf("gosd exit status %d after ctl %s, want 0", st, verb)
			}
			console := in.out.String()
			for _, want := range []string{"Shutting down (" + verb + ")", "Stopped svc.service", "boot: exit 0"} {
				if !strings.Contains(console, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			if got := lines(in.read("svc")); strings.Join(got, " ") != "started stopped" {
				t.Errorf("service saw %v, want started, stopped (an orderly stop)", got)
			}
		})
	}
}

// TestPID1Signals: every signal a container's init acts on, as the
// reactor maps it (reactor.onSignal): each ends in an orderly stop of the
// units and exit status 0; SIGHUP reloads and SIGUSR1 is ignored, gosd
// running on.
func TestPID1Signals(t *testing.T) {
	const rtmin = 34                  // glibc's SIGRTMIN, as systemctl and kill -s SIGRTMIN+n use
	const sigpwr = syscall.Signal(30) // Linux's SIGPWR, named so the file compiles for FreeBSD
	cases := []struct {
		name   string
		sig    syscall.Signal
		action string // "" when gosd must keep running
	}{
		{"SIGTERM", syscall.SIGTERM, "exit"},
		{"SIGINT", syscall.SIGINT, "reboot"},
		{"SIGRTMIN+3", rtmin + 3, "halt"},
		{"SIGRTMIN+4", rtmin + 4, "poweroff"},
		{"SIGRTMIN+5", rtmin + 5, "reboot"},
		{"SIGRTMIN+6", rtmin + 6, "kexec"},
		{"SIGRTMIN+14", rtmin + 14, "poweroff"},
		{"SIGHUP", syscall.SIGHUP, ""},
		{"SIGUSR1", syscall.SIGUSR1, ""},
		{"SIGPWR", sigpwr, ""},
	}
	var mu sync.Mutex
	var table []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := start(t, asPID1, pid1SmallUnits())
			in.waitOutput("Reached target default.target", 20*time.Second)
			in.waitFile("svc", 10*time.Second)
			in.signal(c.sig)
			if c.action == "" {
				// Still running: the service is untouched and the control
				// socket answers; then an ordinary stop.
				time.Sleep(500 * time.Millisecond)
				select {
				case <-in.done:
					t.Fatalf("gosd exited (%v) on %s", in.exitErr, c.name)
				default:
				}
				if out, code := pid1Ctl(t, in, "is-active", "svc.service"); code != 0 || strings.TrimSpace(out) != "active" {
					t.Errorf("after %s: is-active svc.service: %q (exit %d)", c.name, out, code)
				}
				if st := in.stop(30 * time.Second); st != 0 {
					t.Errorf("exit status %d after SIGTERM", st)
				}
				if got := lines(in.read("svc")); strings.Join(got, " ") != "started stopped" {
					t.Errorf("service saw %v across %s", got, c.name)
				}
				mu.Lock()
				table = append(table, fmt.Sprintf("%s: keeps running", c.name))
				mu.Unlock()
				return
			}
			st := in.wait(30 * time.Second)
			console := in.out.String()
			if st != 0 {
				t.Errorf("exit status %d, want 0", st)
			}
			if !strings.Contains(console, "Shutting down ("+c.action+")") {
				t.Errorf("no \"Shutting down (%s)\" in the output", c.action)
			}
			if got := lines(in.read("svc")); strings.Join(got, " ") != "started stopped" {
				t.Errorf("service saw %v, want an orderly stop", got)
			}
			mu.Lock()
			table = append(table, fmt.Sprintf("%s: %s, exit %d", c.name, c.action, st))
			mu.Unlock()
		})
	}
	sort.Strings(table)
	t.Logf("container PID1 signal table:\n  %s", strings.Join(table, "\n  "))
}

// A boot target that cannot be started at all (here: it does not exist)
// falls back to emergency.target as systemd does; without one, a PID1
// powers off after saying why, and a container sees a non-zero status.
func TestPID1BootTargetMissing(t *testing.T) {
	in := start(t, asPID1, map[string]string{
		"emergency.target":  "[Unit]\nDescription=Emergency Mode\nWants=emergency.service\nAllowIsolate=yes\n",
		"emergency.service": "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo rescued > @T@/emergency'\n",
	}, "--target", "missing.target")
	in.waitFile("emergency", 10*time.Second)
	in.waitOutput("Falling back to emergency.target", time.Second)
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d after an orderly stop", code)
	}

	lone := start(t, asPID1, map[string]string{
		"other.service": "[Service]\nExecStart=/bin/sleep 1000\n",
	}, "--target", "missing.target")
	if code := lone.wait(20 * time.Second); code == 0 {
		t.Fatalf("gosd exited 0 although it could not boot anything")
	}
	lone.waitOutput("powering off", time.Second)
}

// Without emergency.target, a boot target that cannot be started falls
// back to rescue.target: the manager refuses the first fallback, and the
// next is asked for.
func TestPID1BootFallsBackToRescue(t *testing.T) {
	in := start(t, asPID1, map[string]string{
		"rescue.target":  "[Unit]\nDescription=Rescue Mode\nWants=rescue.service\nAllowIsolate=yes\n",
		"rescue.service": "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo rescued > @T@/rescue'\n",
	}, "--target", "missing.target")
	in.waitFile("rescue", 10*time.Second)
	in.waitOutput("Falling back to rescue.target", time.Second)
	if strings.Contains(in.out.String(), "Falling back to emergency.target") {
		t.Errorf("fell back to an emergency.target that does not exist:\n%s", in.out.String())
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d after an orderly stop", code)
	}
}

// TestPID1AnnouncesSystemd: as PID1, gosd tells programs that a
// systemd-compatible manager runs, as systemd does — checked with
// libsystemd's own sd_booted (systemd-notify --booted), systemd's own
// container detection (systemd-detect-virt reads /run/systemd/container in
// any process but PID1) and /proc/1/comm, which Ansible reads.
func TestPID1AnnouncesSystemd(t *testing.T) {
	needTools(t, "systemd-notify", "systemd-detect-virt")
	in := start(t, asPID1, map[string]string{
		"default.target": "[Unit]\nWants=probe.service\n",
		"probe.service": "[Service]\nType=oneshot\nExecStart=/bin/sh -c '" +
			"systemd-notify --booted; echo $? > @T@/booted; " +
			"systemd-detect-virt --container > @T@/virt; " +
			"cat /proc/1/comm > @T@/comm; " +
			"test -d /run/systemd/system && echo dir > @T@/dir'\n",
	})
	in.waitOutput("Reached target default.target", 20*time.Second)
	in.waitFile("comm", 10*time.Second)
	// systemd's names: podman and docker leave a file in the image; a
	// bare PID namespace is some other container.
	virt := "container-other"
	if _, err := os.Stat("/.dockerenv"); err == nil {
		virt = "docker"
	}
	if _, err := os.Stat("/run/.containerenv"); err == nil {
		virt = "podman"
	}
	for file, want := range map[string]string{"booted": "0", "virt": virt, "comm": "systemd", "dir": "dir"} {
		if got := strings.TrimSpace(in.read(file)); got != want {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
	// The name is PID1's alone: the command line still says gosd.
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", in.gosdPid()))
	if !strings.Contains(string(cmdline), "gosd") {
		t.Errorf("/proc/1/cmdline: %q", cmdline)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Errorf("gosd exit %d", code)
	}
}

// In a container gosd reads the kernel command line's options from its own
// arguments, as systemd(1) does: the container's /proc/cmdline is the
// host's. Options given to it choose the target and quieten the status
// lines; the host's words (this test host boots with quiet) do not.
func TestPID1ContainerOptions(t *testing.T) {
	units := map[string]string{
		"default.target": "[Unit]\nDescription=Default\n",
		"other.target":   "[Unit]\nDescription=Other\nWants=bad.service ok.service\n",
		"ok.service":     "[Service]\nType=oneshot\nExecStart=/bin/true\n",
		"bad.service":    "[Service]\nType=oneshot\nExecStart=/bin/false\n",
	}
	in := start(t, asPID1, units, "systemd.unit=other.target", "quiet")
	in.waitOutput("Failed to start bad.service", 20*time.Second)
	ctlWant(t, in, 0, "is-active", "other.target")
	if out := in.out.String(); strings.Contains(out, "Reached target") || strings.Contains(out, "Finished ok.service") {
		t.Errorf("quiet: only failures belong on the console:\n%s", out)
	}

	// Without options: every status line, whatever the host's command line.
	in = start(t, asPID1, units)
	in.waitOutput("Reached target default.target", 20*time.Second)
}
