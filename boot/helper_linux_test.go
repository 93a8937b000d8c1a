package boot

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests that need namespaces re-run this test binary as a child in new
// namespaces (TestMain dispatches on GOSD_BOOT_HELPER), so mounts, the
// hostname and the network never change on the host.
func TestMain(m *testing.M) {
	if name := os.Getenv("GOSD_BOOT_HELPER"); name != "" {
		os.Exit(runHelper(name))
	}
	os.Exit(m.Run())
}

var helpers = map[string]func(log Logf) error{}

func runHelper(name string) int {
	f := helpers[name]
	if f == nil {
		fmt.Fprintln(os.Stderr, "no helper", name)
		return 3
	}
	// In a new mount namespace, stop our mounts from propagating back to
	// the host (a shared / would carry them).
	if os.Getenv("GOSD_BOOT_NEWNS") != "" {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			fmt.Fprintln(os.Stderr, "make / private:", err)
			return 3
		}
	}
	log := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	if err := f(log); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	return 0
}

// inNamespaces runs helper name in a child with the given clone flags and
// returns its exit status and stderr (its log).
func inNamespaces(t *testing.T, name string, flags uintptr) (int, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (namespaces, mounts); CI runs it as root")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GOSD_BOOT_HELPER="+name)
	if flags&syscall.CLONE_NEWNS != 0 {
		cmd.Env = append(cmd.Env, "GOSD_BOOT_NEWNS=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// A helper may leave a child holding stderr (detach does): stop
	// reading once the helper itself has exited.
	cmd.WaitDelay = time.Second
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("helper %s hung; log:\n%s", name, stderr.String())
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// runInNS runs a helper that must succeed.
func runInNS(t *testing.T, name string, flags uintptr) string {
	t.Helper()
	code, log := inNamespaces(t, name, flags)
	if code != 0 {
		t.Fatalf("helper %s: exit %d; log:\n%s", name, code, log)
	}
	return log
}

// logRecorder collects log lines for helpers that check what was logged.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	r.lines = append(r.lines, line)
	fmt.Fprintln(os.Stderr, line)
}

func (r *logRecorder) count(substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range r.lines {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}
