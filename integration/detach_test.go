package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startDetached runs `gosd --detach` with its output in a file, not a
// pipe: the supervisor keeps the parent's stdout, and os/exec's Wait would
// wait for the pipe's other end (jail(8)'s exec.consolelog is a file too).
func startDetached(t *testing.T, units map[string]string) (*instance, func() string) {
	t.Helper()
	needRoot(t)
	scratch := t.TempDir()
	unitDir := writeUnits(t, scratch, units)
	logf, err := os.Create(filepath.Join(scratch, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(gosdBin, "--detach", "--unit-path", unitDir,
		"--control-socket", filepath.Join(scratch, "control.sock"),
		"--notify-socket", filepath.Join(scratch, "notify.sock"), "--private-bus-socket", "-")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, cmd: cmd, out: &lockedBuffer{}, dir: scratch, done: make(chan struct{})}
	go func() {
		in.exitErr = cmd.Wait()
		close(in.done)
	}()
	t.Cleanup(func() {
		select {
		case <-in.done:
		default:
			cmd.Process.Kill()
			<-in.done
		}
	})
	console := func() string {
		b, _ := os.ReadFile(logf.Name())
		return string(b)
	}
	return in, console
}

// TestDetach: `gosd --detach` (a FreeBSD jail's default, for jail(8)'s
// exec.start) returns 0 only once its target is reached, while the
// supervising child, in a session of its own, runs on and answers; if the
// supervisor dies before its target, the command says so with status 1.
// On Linux the child is a child subreaper where a jail's takes procctl's
// reaper; the rest is the same code.
func TestDetach(t *testing.T) {
	t.Run("target reached", func(t *testing.T) {
		in, console := startDetached(t, map[string]string{
			"default.target": "[Unit]\nWants=svc.service slow.service\nAfter=slow.service\n",
			"svc.service": "[Service]\nExecStart=/bin/sh -c 'env > @T@/env; echo $PPID > @T@/supervisor; " +
				"trap \"echo stopped >> @T@/svc; exit 0\" TERM; echo started >> @T@/svc; while :; do sleep 1; done'\n",
			// The parent must wait for this one: the target is after it.
			"slow.service": "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'sleep 0.5; touch @T@/slow'\n",
		})
		supervisor := 0
		t.Cleanup(func() {
			if supervisor > 0 {
				syscall.Kill(supervisor, syscall.SIGKILL)
			}
		})
		st := in.wait(30 * time.Second)
		if b, err := os.ReadFile(filepath.Join(in.dir, "supervisor")); err == nil {
			supervisor, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if st != 0 {
			t.Fatalf("gosd --detach exited %d, want 0:\n%s", st, console())
		}
		if _, err := os.Stat(filepath.Join(in.dir, "slow")); err != nil {
			t.Fatalf("gosd --detach returned before its target was reached: %v", err)
		}
		if supervisor <= 0 || supervisor == in.cmd.Process.Pid {
			t.Fatalf("supervisor pid %d (the command was %d)", supervisor, in.cmd.Process.Pid)
		}
		if sid, err := unix.Getsid(supervisor); err != nil || sid != supervisor {
			t.Errorf("supervisor %d: session %d (%v), want its own", supervisor, sid, err)
		}
		// The detach variable stays with the supervisor (boot's TestDetach
		// checks that the pipe is closed once the parent was told).
		if env := in.read("env"); strings.Contains(env, "GOSD_DETACH") || !strings.Contains(env, "PATH=") {
			t.Errorf("service environment %q", env)
		}
		if out, code := pid1Ctl(t, in, "is-active", "svc.service"); code != 0 {
			t.Errorf("is-active svc.service: %d %q", code, out)
		}
		if out, code := pid1Ctl(t, in, "exit"); code != 0 {
			t.Fatalf("exit: %d %q", code, out)
		}
		deadline := time.Now().Add(30 * time.Second)
		for syscall.Kill(supervisor, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if syscall.Kill(supervisor, 0) == nil {
			t.Fatalf("supervisor %d still running after exit", supervisor)
		}
		if got := lines(in.read("svc")); strings.Join(got, " ") != "started stopped" {
			t.Errorf("service saw %v, want an orderly stop", got)
		}
	})
	t.Run("supervisor dies first", func(t *testing.T) {
		in, console := startDetached(t, map[string]string{
			"default.target": "[Unit]\nWants=killer.service\nAfter=killer.service\n",
			"killer.service": "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'kill -9 $PPID'\n",
		})
		if st := in.wait(30 * time.Second); st != 1 {
			t.Fatalf("gosd --detach exited %d after its supervisor died, want 1", st)
		}
		if !strings.Contains(console(), "supervisor exited before reaching its target") {
			t.Errorf("no word of why:\n%s", console())
		}
	})
}
