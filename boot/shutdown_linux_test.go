package boot

import (
	"fmt"
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

func init() {
	helpers["finalshutdown"] = helperFinalShutdown
	helpers["notpid1"] = helperNotPID1
	helpers["unmount"] = helperUnmount
	helpers["incontainer"] = func(Logf) error {
		if !InContainer() {
			return fmt.Errorf("InContainer false in a new PID namespace")
		}
		return nil
	}
}

func TestInContainer(t *testing.T) {
	// This test runs on a machine (CI's VM or a developer's host), not in
	// a container: the initial PID namespace.
	if InContainer() {
		t.Fatal("InContainer true in the initial PID namespace")
	}
	runInNS(t, "incontainer", syscall.CLONE_NEWPID)
}

// TestFinalShutdownInPIDNamespace runs FinalShutdown as the PID1 of a new
// PID namespace, with a plain child, a child that ignores SIGTERM and an
// orphan: all are killed and reaped, and it exits with the status given.
func TestFinalShutdownInPIDNamespace(t *testing.T) {
	start := time.Now()
	code, log := inNamespaces(t, "finalshutdown", syscall.CLONE_NEWPID|syscall.CLONE_NEWNS)
	elapsed := time.Since(start)
	t.Logf("log:\n%s", log)
	if code != 7 {
		t.Fatalf("exit %d, want 7 (the status given to FinalShutdown)", code)
	}
	for _, want := range []string{
		// Two sleeps and the orphan's shell, a zombie until PID1 reaps it.
		"SIGTERM to every process, reaped 3",
		// The sleep that ignores SIGTERM.
		"SIGKILL to every process, reaped 1",
		"exit 7",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if elapsed < termGrace || elapsed > termGrace+killGrace+10*time.Second {
		t.Errorf("took %v; want the SIGTERM grace (%v) and not much more", elapsed, termGrace)
	}
}

func helperFinalShutdown(_ Logf) error {
	if os.Getpid() != 1 {
		return fmt.Errorf("pid %d, want 1", os.Getpid())
	}
	dir, err := os.MkdirTemp("", "gosd-final-")
	if err != nil {
		return err
	}
	ready := filepath.Join(dir, "ready")
	for _, script := range []string{
		"exec sleep 100",
		// Ignores SIGTERM (and so does its exec'd sleep): needs SIGKILL.
		"trap '' TERM; touch " + ready + "; exec sleep 101",
		// An orphan: its shell exits at once; PID1 inherits the sleep.
		"sleep 102 &",
	} {
		// Nobody waits for these but FinalShutdown's reaper.
		if err := exec.Command("sh", "-c", script).Start(); err != nil {
			return err
		}
	}
	// Wait until the trap is set and all three sleeps run, so the counts
	// below are exact.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := os.Stat(ready)
		if err == nil && countProcs("sleep") == 3 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("children did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var rec logRecorder
	FinalShutdown(PowerOff, 7, rec.logf)
	return fmt.Errorf("FinalShutdown returned")
}

// countProcs counts processes named comm in our PID namespace; /proc is
// remounted for it, so only this namespace shows.
func countProcs(comm string) int {
	if mountedAt(readMountinfo(), "/proc") == nil || !procIsOurs() {
		unix.Mount("proc", "/proc", "proc", 0, "")
	}
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
		if strings.TrimSpace(string(b)) == comm {
			n++
		}
	}
	return n
}

func procIsOurs() bool {
	b, err := os.Readlink("/proc/self")
	return err == nil && b == "1"
}

func TestFinalShutdownNotPID1(t *testing.T) {
	code, log := inNamespaces(t, "notpid1", 0)
	if code != 5 {
		t.Fatalf("exit %d, want 5; log:\n%s", code, log)
	}
	// The helper's child must have survived: outside PID1 nothing is
	// killed (kill(-1) would have reached every process of the host).
	var pid int
	for _, l := range strings.Split(log, "\n") {
		if s, ok := strings.CutPrefix(l, "child pid "); ok {
			pid, _ = strconv.Atoi(s)
		}
	}
	if pid == 0 {
		t.Fatalf("no child pid in log:\n%s", log)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("child %d of a non-PID1 FinalShutdown: %v", pid, err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

func helperNotPID1(log Logf) error {
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		return err
	}
	log("child pid %d", cmd.Process.Pid)
	FinalShutdown(PowerOff, 5, log)
	return fmt.Errorf("FinalShutdown returned")
}

func TestUnmountAll(t *testing.T) {
	runInNS(t, "unmount", syscall.CLONE_NEWNS)
}

func helperUnmount(_ Logf) error {
	d, err := scratchRoot()
	if err != nil {
		return err
	}
	for _, m := range []struct{ point, fs string }{
		{"/a", "tmpfs"}, {"/a/b", "tmpfs"}, {"/c", "tmpfs"}, {"/p", "proc"},
	} {
		os.Mkdir(d+m.point, 0o755)
		if err := unix.Mount(m.fs, d+m.point, m.fs, 0, ""); err != nil {
			return err
		}
	}
	// Busy: an open file keeps /c from being unmounted, not from going
	// read-only (it is open for reading only); the last pass detaches it
	// (nothing is mounted under it), after the read-only remount.
	os.WriteFile(d+"/c/f", []byte("x"), 0o644)
	f, err := os.Open(d + "/c/f")
	if err != nil {
		return err
	}
	defer f.Close()

	var rec logRecorder
	unmountAll(d, rec.logf)
	mounts := readMountinfo()
	for _, p := range []string{"/a", "/a/b"} {
		if m := mountedAt(mounts, d+p); m != nil {
			return fmt.Errorf("%s still mounted: %+v", p, m)
		}
	}
	if m := mountedAt(mounts, d+"/c"); m != nil {
		return fmt.Errorf("busy /c: %+v, want detached", m)
	}
	log := strings.Join(rec.lines, "\n")
	ro := strings.Index(log, "remounted "+d+"/c read-only")
	det := strings.Index(log, "detached (lazily) "+d+"/c")
	if ro < 0 || det < ro {
		return fmt.Errorf("busy /c: read-only at %d, detached at %d, want both in that order:\n%s", ro, det, log)
	}
	for _, p := range []string{"/a/b", "/a"} {
		if !strings.Contains(log, "boot: unmounted "+d+p+"\n") {
			return fmt.Errorf("%s not unmounted by the first passes:\n%s", p, log)
		}
	}
	if m := mountedAt(mounts, d+"/p"); m == nil || m.FSType != "proc" {
		return fmt.Errorf("API filesystem /p: %+v, want left alone", m)
	}
	// d itself has /c and /p under it: busy, so read-only.
	if m := mountedAt(mounts, d); m == nil || !hasOption(m.Options, "ro") {
		return fmt.Errorf("top: %+v, want mounted read-only", m)
	}
	// Nothing outside d was touched.
	if m := mountedAt(mounts, "/"); m == nil || hasOption(m.Options, "ro") != rootWasRO {
		return fmt.Errorf("/ changed: %+v", m)
	}
	return nil
}

var rootWasRO = func() bool {
	m := mountedAt(readMountinfo(), "/")
	return m != nil && hasOption(m.Options, "ro")
}()

// /proc/swaps: the header is not a swap, names are unescaped.
func TestParseSwaps(t *testing.T) {
	text := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" +
		"/dev/vdb2                               partition\t1048572\t\t0\t\t-2\n" +
		"/swap\\040file                          file\t\t65532\t\t0\t\t-3\n"
	got := parseSwaps(text)
	if len(got) != 2 || got[0] != "/dev/vdb2" || got[1] != "/swap file" {
		t.Fatalf("parseSwaps: %q", got)
	}
}
