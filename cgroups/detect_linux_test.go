package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary run detectHelper instead of the tests:
// Detect moves its caller, and the mount-namespace cases change mounts,
// so they run in a child process, never in the test process itself.
const helperEnv = "GOSD_CGROUPS_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		fmt.Println(detectHelper(mode))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// detectHelper prepares the process's mounts for mode, runs Detect and
// describes the result in one line.
func detectHelper(mode string) string {
	if mode != "detect" {
		// This process is in a mount namespace of its own (CLONE_NEWNS);
		// keep its mount changes from propagating back to the host.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return "setup " + err.Error()
		}
		mountinfo, _ := os.ReadFile("/proc/self/mountinfo")
		for _, m := range cgroup2Mounts(string(mountinfo)) {
			var err error
			switch mode {
			case "readonly":
				err = unix.Mount("", m.point, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "")
			case "unmounted":
				err = unix.Unmount(m.point, unix.MNT_DETACH)
			}
			if err != nil {
				return "setup " + err.Error()
			}
		}
	}
	h, err := Detect()
	if err != nil {
		return fmt.Sprintf("err unavailable=%v %v", errors.Is(err, ErrUnavailable), err)
	}
	b, _ := os.ReadFile("/proc/self/cgroup")
	own, _ := v2Path(string(b))
	unit, _ := h.UnitOf(os.Getpid())
	return fmt.Sprintf("ok %s %s %s", h.Root(), own, unit)
}

// runHelper runs the test binary as detectHelper in g and returns its line.
func runHelper(t *testing.T, g *Group, mode string, cloneflags uintptr) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fd, err := g.OpenFD()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := syscall.ForkExec(self, []string{self}, &syscall.ProcAttr{
		Env:   []string{helperEnv + "=" + mode},
		Files: []uintptr{0, w.Fd(), 2},
		Sys:   &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd, Cloneflags: cloneflags},
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 4096)
	n, _ := r.Read(out)
	if ws := reap(t, pid); ws.ExitStatus() != 0 {
		t.Fatalf("helper %s: %v: %s", mode, ws, out[:n])
	}
	return strings.TrimSpace(string(out[:n]))
}

func TestDetectMovesSupervisorIntoInitScope(t *testing.T) {
	h := testHierarchy(t)
	sup, err := h.Create("supervisor.service", "")
	if err != nil {
		t.Fatal(err)
	}
	got := runHelper(t, sup, "detect", 0)
	rel := h.rootRel + "/system.slice/supervisor.service"
	if want := fmt.Sprintf("ok %s %s/init.scope init.scope", sup.Path(), rel); got != want {
		t.Fatalf("helper said\n%s\nwant\n%s", got, want)
	}
}

// A gosd that is already in init.scope (re-exec'd) keeps it and the root.
func TestDetectAgainInInitScope(t *testing.T) {
	h := testHierarchy(t)
	scope, err := h.Create("init.scope", "-.slice")
	if err != nil {
		t.Fatal(err)
	}
	got := runHelper(t, scope, "detect", 0)
	if want := fmt.Sprintf("ok %s %s/init.scope init.scope", h.Root(), h.rootRel); got != want {
		t.Fatalf("helper said\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(scope.Path() + "/init.scope"); err == nil {
		t.Fatal("Detect nested init.scope in init.scope")
	}
}

func TestDetectUnavailable(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("helper.service", "")
	if err != nil {
		t.Fatal(err)
	}
	for mode, reason := range map[string]string{
		"readonly":  "read-only",
		"unmounted": "no cgroup2 mount",
	} {
		got := runHelper(t, g, mode, syscall.CLONE_NEWNS)
		t.Logf("%s: %s", mode, got)
		if !strings.HasPrefix(got, "err unavailable=true ") || !strings.Contains(got, reason) {
			t.Errorf("%s: helper said %q, want ErrUnavailable mentioning %q", mode, got, reason)
		}
	}
}
