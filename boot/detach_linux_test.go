package boot

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() { helpers["detach"] = helperDetach }

// helperDetach runs DetachForJail's mechanism with Linux's child subreaper
// standing in for procctl(PROC_REAP_ACQUIRE).
func helperDetach(_ Logf) error {
	dir := os.Getenv("GOSD_DETACH_DIR")
	isChild, notify, err := detach(func() error {
		return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	})
	if err != nil {
		return err
	}
	if !isChild {
		return fmt.Errorf("parent returned from detach")
	}
	var reaper int32
	unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&reaper)), 0, 0, 0)
	if _, ok := os.LookupEnv(detachEnv); ok {
		return fmt.Errorf("%s left in the environment", detachEnv)
	}
	sid, _ := unix.Getsid(0)
	pipe, _ := os.Readlink("/proc/self/fd/3") // the notify pipe, until notify
	os.WriteFile(filepath.Join(dir, "child"), []byte(fmt.Sprintf("%d %d %v %s", os.Getpid(), reaper, sid == os.Getpid(), pipe)), 0o644)
	if os.Getenv("GOSD_DETACH_FAIL") != "" {
		os.Exit(9) // dies before reaching its target
	}
	time.Sleep(300 * time.Millisecond) // the parent must wait for this
	os.WriteFile(filepath.Join(dir, "notifying"), nil, 0o644)
	notify()
	notify() // a second call is harmless
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, "stop")); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func TestDetach(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOSD_DETACH_DIR", dir)
	defer os.WriteFile(filepath.Join(dir, "stop"), nil, 0o644)
	code, log := inNamespaces(t, "detach", 0)
	if code != 0 {
		t.Fatalf("parent exit %d; log:\n%s", code, log)
	}
	// The parent exited only after the child said so.
	if _, err := os.Stat(filepath.Join(dir, "notifying")); err != nil {
		t.Fatal("parent exited before the child notified")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "child"))
	f := strings.Fields(string(b))
	if len(f) != 4 || !strings.HasPrefix(f[3], "pipe:") {
		t.Fatalf("child report %q", b)
	}
	pid, _ := strconv.Atoi(f[0])
	if f[1] != "1" {
		t.Error("child is not a subreaper")
	}
	if f[2] != "true" {
		t.Error("child is not a session leader")
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("child %d gone after the parent exited: %v", pid, err)
	}
	// The notify pipe is closed in the child once it notified.
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); l == f[3] {
			t.Errorf("child still holds the notify pipe as fd %s", fd.Name())
		}
	}
}

func TestDetachChildDies(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOSD_DETACH_DIR", dir)
	t.Setenv("GOSD_DETACH_FAIL", "1")
	code, log := inNamespaces(t, "detach", 0)
	if code != 1 {
		t.Fatalf("parent exit %d, want 1 when the child dies first; log:\n%s", code, log)
	}
	if !strings.Contains(log, "before reaching its target") {
		t.Errorf("log:\n%s", log)
	}
}
