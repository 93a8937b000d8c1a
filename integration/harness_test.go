package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gosdBin is the static binary under test, built once by TestMain.
var gosdBin string

func TestMain(m *testing.M) {
	if runtime.GOOS != "linux" {
		fmt.Println("integration tests need Linux")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "gosd-it-")
	if err != nil {
		panic(err)
	}
	gosdBin = filepath.Join(dir, "gosd")
	build := exec.Command("go", "build", "-o", gosdBin, "../cmd/gosd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Println("building gosd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needRoot fails (not skips) without root: CI runs as root, and a skipped
// integration test would hide that nothing was proven.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("integration tests need root (CI runs them as root)")
	}
}

// lockedBuffer collects gosd's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is one running gosd.
type instance struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     *lockedBuffer
	dir     string // scratch directory shared with the units (as $T)
	pid1    bool
	done    chan struct{}
	exitErr error
}

// Mode selects how gosd runs.
type mode int

const (
	asPID1      mode = iota // PID 1 of a new PID namespace
	asSubreaper             // a plain process (PR_SET_CHILD_SUBREAPER)
)

func (m mode) String() string {
	if m == asPID1 {
		return "pid1"
	}
	return "subreaper"
}

// writeUnits creates a unit directory; "@T@" in unit text is replaced by the
// scratch directory so units can leave evidence there.
func writeUnits(t *testing.T, scratch string, units map[string]string) string {
	t.Helper()
	dir := filepath.Join(scratch, "units")
	for name, body := range units {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(body, "->") { // symlink
			if err := os.Symlink(strings.TrimPrefix(body, "->"), p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		body = strings.ReplaceAll(body, "@T@", scratch)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// start runs gosd on units in the given mode.
func start(t *testing.T, m mode, units map[string]string, extra ...string) *instance {
	t.Helper()
	return startWrapped(t, m, units, nil, extra...)
}

// startWrapped is start with gosd run through wrapper (argv words before
// gosd's own; in PID1 mode inside the new namespaces, so a wrapper such as
// sh -c '...; exec "$@"' sh can prepare the private mount namespace).
func startWrapped(t *testing.T, m mode, units map[string]string, wrapper []string, extra ...string) *instance {
	t.Helper()
	needRoot(t)
	scratch := t.TempDir()
	unitDir := writeUnits(t, scratch, units)
	args := []string{
		"--unit-path", unitDir,
		"--control-socket", filepath.Join(scratch, "control.sock"),
		"--notify-socket", filepath.Join(scratch, "notify.sock"),
	}
	// As PID1 gosd would serve /run/systemd/private, which tests running
	// side by side (and the host) share: only a test that asks gets one.
	if !hasFlag(extra, "--private-bus-socket") {
		args = append(args, "--private-bus-socket", "-")
	}
	// As PID1 gosd serves /dev/log and journald's socket (docs/logging.md);
	// the host's /dev and /run are shared with a PID1 test that does not
	// bring its own (startWrapped with privateDevRun): there it must not.
	if m == asPID1 && wrapper == nil && !hasFlag(extra, "--config") {
		conf := filepath.Join(scratch, "gosd.toml")
		if err := os.WriteFile(conf, []byte("[log]\nlisten = \"no\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", conf)
	}
	args = append(args, extra...)
	var cmd *exec.Cmd
	if m == asPID1 {
		argv := append(append([]string{"-p", "-f", "--mount-proc"}, wrapper...), gosdBin)
		cmd = exec.Command("unshare", append(argv, args...)...)
	} else {
		argv := append(append([]string{}, wrapper...), gosdBin)
		cmd = exec.Command(argv[0], append(argv[1:], args...)...)
	}
	return launch(t, cmd, scratch, m == asPID1)
}

// launch runs cmd (gosd, or a wrapper that ends in gosd) as an instance
// whose output the test collects; at cleanup what is left of it is killed.
// cmd's SysProcAttr, if any, is kept (with Setpgid).
func launch(t *testing.T, cmd *exec.Cmd, scratch string, pid1 bool) *instance {
	t.Helper()
	return launchTo(t, cmd, scratch, pid1, nil)
}

// launchTo is launch with gosd's stdout and stderr going to console (nil:
// collected in the instance's buffer).
func launchTo(t *testing.T, cmd *exec.Cmd, scratch string, pid1 bool, console *os.File) *instance {
	t.Helper()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if console != nil {
		cmd.Stdout, cmd.Stderr = console, console
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// Its own process group: the cleanup kills whatever is left of it.
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, cmd: cmd, out: out, dir: scratch, pid1: pid1, done: make(chan struct{})}
	go func() {
		in.exitErr = cmd.Wait()
		close(in.done)
	}()
	t.Cleanup(func() {
		select {
		case <-in.done:
		default:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-in.done
		}
		if t.Failed() {
			t.Logf("gosd output:\n%s", out.String())
		}
	})
	return in
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// gosdPid is gosd's pid as seen from the test (the child of unshare in PID1 mode).
func (in *instance) gosdPid() int {
	in.t.Helper()
	if !in.pid1 {
		return in.cmd.Process.Pid
	}
	var pid int
	in.waitFor("gosd pid in namespace", 10*time.Second, func() bool {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", in.cmd.Process.Pid, in.cmd.Process.Pid))
		if err != nil {
			return false
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			return false
		}
		pid, _ = strconv.Atoi(f[0])
		return pid > 0
	})
	return pid
}

// signal sends sig to gosd itself.
func (in *instance) signal(sig syscall.Signal) {
	in.t.Helper()
	if err := syscall.Kill(in.gosdPid(), sig); err != nil {
		in.t.Fatalf("signal gosd: %v", err)
	}
}

// waitFor polls cond until it holds or the timeout passes.
func (in *instance) waitFor(what string, timeout time.Duration, cond func() bool) {
	in.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-in.done:
			if cond() {
				return
			}
			in.t.Fatalf("gosd exited (%v) while waiting for %s", in.exitErr, what)
		default:
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOutput waits until gosd's output contains s.
func (in *instance) waitOutput(s string, timeout time.Duration) {
	in.t.Helper()
	in.waitFor(fmt.Sprintf("output %q", s), timeout, func() bool { return strings.Contains(in.out.String(), s) })
}

// waitFile waits until the scratch file exists and returns its contents.
func (in *instance) waitFile(name string, timeout time.Duration) string {
	in.t.Helper()
	p := filepath.Join(in.dir, name)
	in.waitFor("file "+name, timeout, func() bool { _, err := os.Stat(p); return err == nil })
	return in.read(name)
}

func (in *instance) read(name string) string {
	data, _ := os.ReadFile(filepath.Join(in.dir, name))
	return string(data)
}

// stop sends SIGTERM and waits for gosd to exit; it returns the exit status.
func (in *instance) stop(timeout time.Duration) int {
	in.t.Helper()
	in.signal(syscall.SIGTERM)
	return in.wait(timeout)
}

// wait waits for gosd to exit by itself.
func (in *instance) wait(timeout time.Duration) int {
	in.t.Helper()
	select {
	case <-in.done:
	case <-time.After(timeout):
		in.t.Fatalf("gosd did not exit within %v", timeout)
	}
	if in.exitErr == nil {
		return 0
	}
	if ee, ok := in.exitErr.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	in.t.Fatalf("wait: %v", in.exitErr)
	return -1
}

// lines splits a file written by units into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// zombiesOf lists zombie children of pid.
func zombiesOf(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if f[0] == "Z" && ppid == pid {
			out = append(out, p)
		}
	}
	return out
}

// both runs a test body as PID1 and as a subreaper.
func both(t *testing.T, body func(t *testing.T, m mode)) {
	for _, m := range []mode{asPID1, asSubreaper} {
		m := m
		t.Run(m.String(), func(t *testing.T) { body(t, m) })
	}
}
