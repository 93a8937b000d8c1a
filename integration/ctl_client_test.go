package integration

import (
	"bytes"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stuckServer is a gosd that never answers: it accepts connections and
// reads requests into nothing.
func stuckServer(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "stuck.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return sock
}

// runClient starts `gosd ctl` (as gosdctl would run) and returns its wait
// status, or fails the test if it is still running after limit.
func runClient(t *testing.T, env []string, limit time.Duration, during func(*exec.Cmd), args ...string) (syscall.WaitStatus, string) {
	t.Helper()
	cmd := exec.Command(gosdBin, append([]string{"ctl"}, args...)...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	if during != nil {
		during(cmd)
	}
	select {
	case <-done:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("gosd ctl %v still running after %v:\n%s", args, limit, out.String())
	}
	return cmd.ProcessState.Sys().(syscall.WaitStatus), out.String()
}

// TestCtlTimesOutOnStuckServer: against a gosd that never answers, a
// request that is not a job ends after --timeout (or $GOSD_TIMEOUT) with
// systemctl's "Connection timed out"; it used to wait for ever.
func TestCtlTimesOutOnStuckServer(t *testing.T) {
	sock := stuckServer(t)
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"--timeout", nil, []string{"--socket", sock, "--timeout", "500ms", "is-active", "foo"}},
		{"GOSD_TIMEOUT", []string{"GOSD_TIMEOUT=0.5"}, []string{"--socket", sock, "status", "foo"}},
		{"SYSTEMD_BUS_TIMEOUT", []string{"SYSTEMD_BUS_TIMEOUT=500ms"}, []string{"--socket", sock, "poweroff"}},
		{"--no-block job", nil, []string{"--socket", sock, "--timeout", "500ms", "--no-block", "start", "foo"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws, out := runClient(t, c.env, 20*time.Second, nil, c.args...)
			if ws.ExitStatus() == 0 || !strings.Contains(out, "Connection timed out") {
				t.Errorf("exit %d, output %q; want a failure saying Connection timed out", ws.ExitStatus(), out)
			}
		})
	}
}

// TestCtlInterruptible: Ctrl-C (SIGINT) and SIGTERM end a client waiting
// for a job, as they end systemctl; gosd's PID1 signal handling, which
// ignored them, is only installed for the manager.
func TestCtlInterruptible(t *testing.T) {
	sock := stuckServer(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ws, out := runClient(t, nil, 10*time.Second, func(cmd *exec.Cmd) {
				time.Sleep(300 * time.Millisecond)
				cmd.Process.Signal(sig)
			}, "--socket", sock, "start", "foo")
			if !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("client after %v: %v, output %q; want killed by the signal", sig, ws, out)
			}
		})
	}
}
