package exec

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"gosd/unitfile"

	"golang.org/x/sys/unix"
)

// startOut starts spec with stdout and stderr on a pipe and returns the
// process, what it wrote and its wait status.
func startOut(t *testing.T, spec Spec) (Process, string, syscall.WaitStatus) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	spec.Conn, spec.Stdout, spec.Stderr = -1, int(w.Fd()), int(w.Fd())
	p, err := Start(spec)
	w.Close()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if p.PidFD >= 0 {
		defer syscall.Close(p.PidFD)
	}
	out, _ := io.ReadAll(r)
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(p.Pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	return p, string(out), ws
}

func needStub(t *testing.T) {
	t.Helper()
	if listenPIDCode == nil {
		t.Skip("no LISTEN_PID stub for this machine: the shell sets it (TestListenFDs)")
	}
	if listenPIDStub(4) == "" {
		t.Fatal("the kernel refused the LISTEN_PID stub")
	}
}

// The stub sets LISTEN_PID to the program's own pid and passes the rest of
// the environment as it was given: the unit's own LISTEN_PID gone, nothing
// added (the shell would have added PWD).
func TestListenPIDStubEnvironment(t *testing.T) {
	needStub(t)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	ec := ctx()
	ec.Environment = []string{"LISTEN_PID=1", "A=b"}
	p, out, ws := startOut(t, Spec{Unit: "s.service", Cmd: unitfile.ExecCommand{Path: "/usr/bin/env", Argv: []string{"env"}},
		Exec: ec, ListenFDs: []int{int(devnull.Fd())}, ListenNames: []string{"x"}})
	if ws.ExitStatus() != 0 {
		t.Fatalf("status %v: %s", ws, out)
	}
	var pids []string
	vars := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
		if k == "LISTEN_PID" {
			pids = append(pids, v)
		}
	}
	if len(pids) != 1 || pids[0] != strconv.Itoa(p.Pid) {
		t.Errorf("LISTEN_PID %q, pid %d", pids, p.Pid)
	}
	if vars["LISTEN_FDS"] != "1" || vars["LISTEN_FDNAMES"] != "x" || vars["A"] != "b" {
		t.Errorf("environment %q", out)
	}
	if _, ok := vars["PWD"]; ok {
		t.Errorf("PWD appeared (the shell's step, not the stub's?): %q", out)
	}
}

// The stub can give the program an argv[0] of its own (ExecStart=@), which
// the shell's "$@" cannot.
func TestListenPIDStubArgvZero(t *testing.T) {
	needStub(t)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	cmd := unitfile.ExecCommand{Path: "/bin/sh", ArgvZero: true, NoEnvExpand: true,
		Argv: []string{"renamed", "-c", `tr '\0' ' ' </proc/$$/cmdline; echo; echo "$LISTEN_PID $$"`}}
	_, out, ws := startOut(t, Spec{Cmd: cmd, Exec: ctx(), ListenFDs: []int{int(devnull.Fd())}, ListenNames: []string{"x"}})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if ws.ExitStatus() != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "renamed -c ") {
		t.Fatalf("status %v: %q", ws, out)
	}
	if f := strings.Fields(lines[1]); len(f) != 2 || f[0] != f[1] {
		t.Errorf("LISTEN_PID vs own pid: %q", lines[1])
	}
}

// More fds than fit below the stub's own: the shell sets LISTEN_PID, and
// the child still gets exactly its fds.
func TestListenPIDManyFDs(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	n := minStubFD + 4
	var fds []int
	var names []string
	for i := 0; i < n; i++ {
		fds = append(fds, int(devnull.Fd()))
		names = append(names, "x")
	}
	_, out, ws := startOut(t, Spec{Cmd: shell(`echo "$LISTEN_PID $$ $LISTEN_FDS $(ls /proc/$$/fd | wc -l)"`), Exec: ctx(),
		ListenFDs: fds, ListenNames: names})
	f := strings.Fields(out)
	// ls sees the fds plus its own directory fd.
	if ws.ExitStatus() != 0 || len(f) != 4 || f[0] != f[1] || f[2] != strconv.Itoa(n) || f[3] != strconv.Itoa(3+n+1) {
		t.Errorf("status %v: %q (want LISTEN_PID = pid, %d fds)", ws, out, n)
	}
}

// A kernel that will not execute the stub (an LSM, say): the shell starts
// the process instead and the stub is not tried again.
func TestListenPIDStubRefused(t *testing.T) {
	needStub(t)
	listenPID.mu.Lock()
	path, fd, disabled := listenPID.path, listenPID.fd, listenPID.disabled
	listenPID.mu.Unlock()
	defer func() {
		listenPID.mu.Lock()
		listenPID.path, listenPID.fd, listenPID.disabled = path, fd, disabled
		listenPID.mu.Unlock()
	}()
	// A file that exists but may not be executed, at a high fd.
	f, err := os.Create(filepath.Join(t.TempDir(), "noexec"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	high, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup2(high, minStubFD+100); err != nil {
		t.Fatal(err)
	}
	syscall.Close(high)
	defer syscall.Close(minStubFD + 100)
	syscall.CloseOnExec(minStubFD + 100)
	listenPID.mu.Lock()
	listenPID.path, listenPID.fd = "/proc/self/fd/"+strconv.Itoa(minStubFD+100), minStubFD+100
	listenPID.mu.Unlock()

	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	_, out, ws := startOut(t, Spec{Cmd: shell(`echo "$LISTEN_PID $$"`), Exec: ctx(), ListenFDs: []int{int(devnull.Fd())}, ListenNames: []string{"x"}})
	if f := strings.Fields(out); ws.ExitStatus() != 0 || len(f) != 2 || f[0] != f[1] {
		t.Errorf("status %v: %q", ws, out)
	}
	if listenPIDStub(4) != "" {
		t.Error("the refused stub is still used")
	}
}

// A program that is missing fails at Start, as on the direct path; one
// that exists but cannot be executed fails in the child with 203.
func TestListenPIDProgramFails(t *testing.T) {
	needStub(t)
	dir := t.TempDir()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	missing := filepath.Join(dir, "missing")
	_, err = Start(Spec{Cmd: unitfile.ExecCommand{Path: missing, Argv: []string{missing}}, Exec: ctx(), Conn: -1, Stdout: -1, Stderr: -1,
		ListenFDs: []int{int(devnull.Fd())}, ListenNames: []string{"x"}})
	var ee *ExitError
	if !errors.As(err, &ee) || !ee.Missing() {
		t.Errorf("missing program: %v", err)
	}
	notExec := filepath.Join(dir, "not-executable")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	_, out, ws := startOut(t, Spec{Cmd: unitfile.ExecCommand{Path: notExec, Argv: []string{notExec}}, Exec: ctx(),
		ListenFDs: []int{int(devnull.Fd())}, ListenNames: []string{"x"}})
	if ws.ExitStatus() != exitExec || out != listenPIDFailure {
		t.Errorf("status %v, output %q", ws, out)
	}
}

// The Go helper still runs when the child is given many fds, and fds with
// high numbers: Go's child moves fds over 0..n and, its error pipe first,
// from the highest fd it is given + 1 up before its execve. The helper was
// executed as /proc/self/fd/N of an fd gosd held, and failed with
// "permission denied" when the child's fds reached N (journald in the
// Debian boot: stdout on fd 76, the binary on fd 77).
func TestHelperManyFDs(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, n := range []int{8, 66} {
		var fds []int
		var names []string
		for i := 0; i < n; i++ {
			fds = append(fds, int(devnull.Fd()))
			names = append(names, "x")
		}
		_, out, ws := startOut(t, Spec{Cmd: shell(`echo "$LISTEN_PID $$ $LISTEN_FDS"`), Exec: ctx(), ForceHelper: true,
			ListenFDs: fds, ListenNames: names})
		if f := strings.Fields(out); ws.ExitStatus() != 0 || len(f) != 3 || f[0] != f[1] || f[2] != strconv.Itoa(n) {
			t.Errorf("%d fds: status %v: %q", n, ws, out)
		}
	}
	// One passed fd at each number below and around where an fd of gosd's
	// could be: Go's error pipe lands on that number + 1.
	for high := 4; high < 130; high++ {
		if err := syscall.Dup3(int(devnull.Fd()), high+200, syscall.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		fd, err := unix.FcntlInt(uintptr(high+200), unix.F_DUPFD_CLOEXEC, high)
		syscall.Close(high + 200)
		if err != nil {
			t.Fatal(err)
		}
		if fd != high {
			// Taken by the test process itself: nothing to learn here.
			syscall.Close(fd)
			continue
		}
		_, out, ws := startOut(t, Spec{Cmd: shell(`echo "$LISTEN_FDS"`), Exec: ctx(), ForceHelper: true,
			ListenFDs: []int{fd}, ListenNames: []string{"x"}})
		syscall.Close(fd)
		if ws.ExitStatus() != 0 || strings.TrimSpace(out) != "1" {
			t.Errorf("a passed fd at %d: status %v: %q", high, ws, out)
		}
	}
}

// The stub is executed by the child after it took the unit's user (and
// no_new_privs): /proc/self/fd of its own and a memfd anyone may execute.
// Were it refused, the shell would take over and turn the stub off for
// good: the environment (no PWD) and the stub still on say it was not.
func TestListenPIDStubAsUser(t *testing.T) {
	needStub(t)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, nnp := range []bool{false, true} {
		ec := ctx()
		ec.User, ec.NoNewPrivileges = "nobody", nnp
		p, out, ws := startOut(t, Spec{Unit: "u.service", Cmd: unitfile.ExecCommand{Path: "/usr/bin/env", Argv: []string{"env"}},
			Exec: ec, ListenFDs: []int{int(devnull.Fd())}, ListenNames: []string{"x"}})
		if ws.ExitStatus() != 0 || !strings.Contains(out, "LISTEN_PID="+strconv.Itoa(p.Pid)+"\n") ||
			!strings.Contains(out, "USER=nobody\n") || strings.Contains(out, "PWD=") {
			t.Errorf("NoNewPrivileges=%v: status %v: %q", nnp, ws, out)
		}
		if listenPIDStub(4) == "" {
			t.Fatalf("NoNewPrivileges=%v: the stub was turned off", nnp)
		}
	}
}

// A passed fd right below the stub's: Go's fork puts its error pipe on the
// next number, the stub's. The stub's second fd starts the process, and
// the stub stays on.
func TestListenPIDStubBelowGosdsFD(t *testing.T) {
	needStub(t)
	listenPIDStub(0)
	listenPID.mu.Lock()
	high, low := listenPID.fd, listenPID.low
	listenPID.mu.Unlock()
	if low < 0 || low >= high-1 {
		t.Fatalf("stub fds %d and %d: no second, lower one", high, low)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	// gosd's fd high-1 is the passed one, so the fork's pipe goes to high.
	if err := syscall.Dup3(int(devnull.Fd()), high-1, syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(high - 1)
	p, out, ws := startOut(t, Spec{Cmd: shell(`echo "$LISTEN_PID"`), Exec: ctx(), ListenFDs: []int{high - 1}, ListenNames: []string{"x"}})
	if ws.ExitStatus() != 0 || strings.TrimSpace(out) != strconv.Itoa(p.Pid) {
		t.Errorf("status %v: %q, want LISTEN_PID=%d", ws, out, p.Pid)
	}
	if listenPIDStub(4) == "" {
		t.Error("the stub was turned off")
	}
	if got := listenPIDStubFor([]uintptr{0, 1, 2, uintptr(high - 1)}); got != "/proc/self/fd/"+strconv.Itoa(low) {
		t.Errorf("stub for a child given fd %d: %q, want the lower fd %d", high-1, got, low)
	}
}
