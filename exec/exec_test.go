package exec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/unitfile"
)

func TestMain(m *testing.M) {
	RunHelperIfRequested()
	os.Exit(m.Run())
}

func shell(script string) unitfile.ExecCommand {
	// ":" prefix: no $VAR expansion by gosd, the shell sees the script as written.
	return unitfile.ExecCommand{Path: "/bin/sh", Argv: []string{"/bin/sh", "-c", script}, NoEnvExpand: true}
}

// run starts spec with stdout and stderr on a pipe, waits for the process
// and returns what it wrote and its wait status.
func run(t *testing.T, spec Spec) (string, syscall.WaitStatus) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	spec.Stdout, spec.Stderr = int(w.Fd()), int(w.Fd())
	if spec.Conn == 0 {
		spec.Conn = -1
	}
	p, err := Start(spec)
	w.Close()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if p.Pgid != p.Pid {
		t.Errorf("pgid %d != pid %d", p.Pgid, p.Pid)
	}
	if p.PidFD >= 0 {
		defer syscall.Close(p.PidFD)
	}
	out, _ := io.ReadAll(r)
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(p.Pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	return string(out), ws
}

// ctx is a unit's default process environment (umask 022, SIGPIPE ignored).
func ctx() *unitfile.ExecContext {
	return &unitfile.ExecContext{UMask: 0o022, ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}
}

// sleeper starts spec's process (which must end in exec'ing sleep), waits
// until sleep runs (after any in-child step: helper or shell) and returns
// its open fds ("0 1 2") and environment; the process is killed at cleanup.
// Looking from outside avoids a shell's own transient fds (pipes of a
// pipeline, saved fds of a redirection) racing into the listing.
func sleeper(t *testing.T, spec Spec) (fds string, env []string) {
	t.Helper()
	spec.Conn, spec.Stdout, spec.Stderr = -1, -1, -1
	p, err := Start(spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(p.Pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(p.Pid, &ws, 0, nil)
		if p.PidFD >= 0 {
			syscall.Close(p.PidFD)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The exe link changes early in execve, the environment a little
		// later: wait for both.
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.Pid))
		environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.Pid))
		if strings.HasSuffix(exe, "/sleep") && len(environ) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never exec'd sleep", p.Pid)
		}
		time.Sleep(time.Millisecond)
	}
	// execve closes close-on-exec fds after the exe link changes, and sleep
	// itself opens and closes locale files as it starts: let it settle in
	// its nanosleep before looking.
	time.Sleep(50 * time.Millisecond)
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid))
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	for _, e := range ents {
		n, _ := strconv.Atoi(e.Name())
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var parts []string
	for _, n := range nums {
		parts = append(parts, strconv.Itoa(n))
	}
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.Pid))
	return strings.Join(parts, " "), strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

func sleepCmd() unitfile.ExecCommand {
	return unitfile.ExecCommand{Path: "/bin/sleep", Argv: []string{"/bin/sleep", "100"}}
}

func TestOnlyStdioAndPassedFDs(t *testing.T) {
	for _, helper := range []bool{false, true} {
		if fds, _ := sleeper(t, Spec{Unit: "t.service", Cmd: sleepCmd(), Exec: ctx(), ForceHelper: helper}); fds != "0 1 2" {
			t.Errorf("helper=%v: fds %q", helper, fds)
		}
	}
	// A leaked (non-CLOEXEC) fd of ours must not reach a helper-started child.
	leak, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(leak)
	if fds, _ := sleeper(t, Spec{Cmd: sleepCmd(), Exec: ctx(), ForceHelper: true}); fds != "0 1 2" {
		t.Errorf("leaked fd reached the child: %q", fds)
	}
}

func TestListenFDs(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// Both in-child paths: the shell step (only LISTEN_PID needed) and the
	// Go helper. LISTEN_PID must be the pid that finally runs the program.
	for _, helper := range []bool{false, true} {
		p := Spec{Cmd: sleepCmd(), Exec: ctx(), ForceHelper: helper,
			ListenFDs: []int{int(r.Fd()), int(w.Fd())}, ListenNames: []string{"a", "b"}}
		fds, env := sleeper(t, p)
		if fds != "0 1 2 3 4" {
			t.Errorf("helper=%v: fds %q", helper, fds)
		}
		vars := map[string]string{}
		for _, kv := range env {
			if k, v, ok := strings.Cut(kv, "="); ok {
				vars[k] = v
			}
		}
		if vars["LISTEN_FDS"] != "2" || vars["LISTEN_FDNAMES"] != "a:b" || vars["LISTEN_PID"] == "" {
			t.Errorf("helper=%v: LISTEN_* = %q %q %q", helper, vars["LISTEN_PID"], vars["LISTEN_FDS"], vars["LISTEN_FDNAMES"])
		}
	}
	// LISTEN_PID equals the program's own pid, seen from inside; also
	// through the shell step on a prepared thread (NoNewPrivileges=).
	nnp := ctx()
	nnp.NoNewPrivileges = true
	for _, ec := range []*unitfile.ExecContext{ctx(), nnp} {
		out, ws := run(t, Spec{Cmd: shell(`echo "$LISTEN_PID $$ $(grep NoNewPrivs /proc/$$/status | cut -f2)"`), Exec: ec,
			ListenFDs: []int{int(r.Fd())}, ListenNames: []string{"a"}})
		f := strings.Fields(out)
		want := "0"
		if ec.NoNewPrivileges {
			want = "1"
		}
		if ws.ExitStatus() != 0 || len(f) != 3 || f[0] != f[1] || f[2] != want {
			t.Errorf("LISTEN_PID vs own pid, NoNewPrivs (want %s): %q", want, out)
		}
	}
}

func TestEnvironmentOrder(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("B=file\n"), 0o644)
	t.Setenv("GOSD_PASS", "passed")
	ec := ctx()
	ec.Environment = []string{"A=env", "B=env", "PATH=/custom", "GONE=x", "MAINPID=unit"}
	ec.EnvironmentFiles = []unitfile.EnvFile{{Path: envFile}, {Path: filepath.Join(dir, "missing"), Optional: true}}
	ec.PassEnvironment = []string{"GOSD_PASS", "GOSD_NOT_SET"}
	ec.UnsetEnvironment = []string{"GONE"}
	out, ws := run(t, Spec{Cmd: unitfile.ExecCommand{Path: "/usr/bin/env", Argv: []string{"env"}}, Exec: ec,
		Env: []string{"MAINPID=42"}, NotifySocket: "/run/n"})
	if ws.ExitStatus() != 0 {
		t.Fatalf("status %v: %s", ws, out)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"PATH=/custom", "GOSD_PASS=passed", "A=env", "B=env", "MAINPID=42", "NOTIFY_SOCKET=/run/n"}
	// B comes from the file (after Environment=) once ParseEnvironmentFile is real.
	if kv, _ := unitfile.ParseEnvironmentFile([]byte("B=file\n")); len(kv) == 1 {
		want[3] = "B=file"
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("env\n got %q\nwant %q", got, want)
	}

	ec.EnvironmentFiles = []unitfile.EnvFile{{Path: filepath.Join(dir, "missing")}}
	if _, err := Start(Spec{Cmd: shell("true"), Exec: ec, Conn: -1, Stdout: -1, Stderr: -1}); err == nil {
		t.Error("a missing EnvironmentFile= without '-' must fail the start")
	}
}

// An EnvironmentFile= someone replaced with a FIFO or a link to /dev/zero
// fails the start at once (issue 18, item 12): the spawn runs on the
// reactor thread, where a blocking open or an unbounded read stalls or
// kills PID1. The '-' prefix does not hide it (the file exists).
func TestEnvironmentFilePlanted(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, zero} {
		ec := ctx()
		ec.EnvironmentFiles = []unitfile.EnvFile{{Path: path, Optional: true}}
		done := make(chan error, 1)
		go func() {
			p, err := Start(Spec{Cmd: shell("true"), Exec: ec, Conn: -1, Stdout: -1, Stderr: -1})
			if err == nil {
				var ws syscall.WaitStatus
				syscall.Wait4(p.Pid, &ws, 0, nil)
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("EnvironmentFile=%s: %v, want a start failure naming a non-regular file", filepath.Base(path), err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("EnvironmentFile=%s: the spawn hangs", filepath.Base(path))
		}
	}
}

func TestUserNobody(t *testing.T) {
	for _, helper := range []bool{false, true} {
		ec := ctx()
		ec.User = "nobody"
		out, ws := run(t, Spec{Cmd: shell(`echo $(id -u) $(id -g) $USER $HOME`), Exec: ec, ForceHelper: helper})
		f := strings.Fields(out)
		if ws.ExitStatus() != 0 || len(f) < 3 || f[0] != "65534" || f[2] != "nobody" {
			t.Errorf("helper=%v: %q %v", helper, out, ws)
		}
	}
}

func TestLimitsUmaskNiceOOM(t *testing.T) {
	nice, oom := 7, 300
	ec := ctx()
	ec.UMask = 0o027
	ec.Nice = &nice
	ec.OOMScoreAdjust = &oom
	ec.Limits = map[string]unitfile.Rlimit{"NOFILE": {Soft: 123, Hard: 456}}
	ec.NoNewPrivileges = true
	ec.CapabilityBoundingSet = []string{"CAP_NET_BIND_SERVICE"}
	out, ws := run(t, Spec{Cmd: shell(`umask; ulimit -n; ulimit -Hn; cut -d' ' -f19 /proc/$$/stat; cat /proc/$$/oom_score_adj; grep -E 'NoNewPrivs|CapBnd' /proc/$$/status | tr -s '\t' ' '`), Exec: ec})
	want := "0027\n123\n456\n7\n300\nCapBnd: 0000000000000400\nNoNewPrivs: 1\n"
	if ws.ExitStatus() != 0 || out != want {
		t.Errorf("got %q (status %v), want %q", out, ws, want)
	}
}

// The same settings without resource limits take the thread path
// (spawnOnThread, no Go helper): the child gets each of them, and gosd
// itself (this test process) keeps its own umask, nice, oom_score_adj,
// bounding set and no_new_privs. With the helper forced, the same output.
func TestUmaskNiceOOMCapsOnThread(t *testing.T) {
	self := func() string {
		b, _ := os.ReadFile("/proc/self/status")
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "CapBnd") || strings.HasPrefix(l, "NoNewPrivs") {
				keep = append(keep, l)
			}
		}
		oom, _ := os.ReadFile("/proc/self/oom_score_adj")
		m := syscall.Umask(0o022)
		syscall.Umask(m)
		nice, _ := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
		return fmt.Sprintf("%s %s umask=%o prio=%d", strings.Join(keep, " "), strings.TrimSpace(string(oom)), m, nice)
	}
	before := self()
	nice, oom := 7, 300
	ec := ctx()
	ec.UMask = 0o027
	ec.Nice = &nice
	ec.OOMScoreAdjust = &oom
	ec.NoNewPrivileges = true
	ec.CapabilityBoundingSet = []string{"CAP_NET_BIND_SERVICE"}
	if !needsThread(ec) || needsHelper(Spec{Exec: ec}, ec, true) != !threadSpawn {
		t.Fatalf("these settings should take the thread path")
	}
	want := "0027\n7\n300\nCapBnd: 0000000000000400\nNoNewPrivs: 1\n"
	for _, helper := range []bool{false, true} {
		for i := 0; i < 3; i++ {
			out, ws := run(t, Spec{Cmd: shell(`umask; cut -d' ' -f19 /proc/$$/stat; cat /proc/$$/oom_score_adj; grep -E 'NoNewPrivs|CapBnd' /proc/$$/status | tr -s '\t' ' '`),
				Exec: ec, ForceHelper: helper})
			if ws.ExitStatus() != 0 || out != want {
				t.Errorf("helper=%v: got %q (status %v), want %q", helper, out, ws, want)
			}
		}
	}
	if after := self(); after != before {
		t.Errorf("the spawning process changed: before %q, after %q", before, after)
	}
}

func TestDirectoriesAndWorkingDirectory(t *testing.T) {
	base := t.TempDir()
	old := DirectoryRoots
	DirectoryRoots.Runtime, DirectoryRoots.State = filepath.Join(base, "run"), filepath.Join(base, "lib")
	defer func() { DirectoryRoots = old }()
	ec := ctx()
	ec.RuntimeDirectory = []string{"foo", "foo/bar"}
	ec.RuntimeDirectoryMode = 0o2750
	ec.StateDirectory = []string{"st"}
	ec.WorkingDirectory = "~"
	ec.User = "nobody"
	// nobody's home (/nonexistent) is missing: the start fails with CHDIR.
	if _, err := Start(Spec{Cmd: shell("true"), Exec: ec, Conn: -1, Stdout: -1, Stderr: -1}); err == nil || err.(*ExitError).Status != exitChdir {
		t.Errorf("WorkingDirectory=~ of nobody: %v", err)
	}
	ec.WorkingDirectory = "~"
	ec.User = "root"
	out, ws := run(t, Spec{Cmd: shell(`echo $RUNTIME_DIRECTORY $STATE_DIRECTORY; pwd`), Exec: ec})
	rd := filepath.Join(base, "run", "foo")
	want := rd + ":" + rd + "/bar " + filepath.Join(base, "lib", "st") + "\n/root\n"
	if ws.ExitStatus() != 0 || out != want {
		t.Errorf("out %q status %v, want %q", out, ws, want)
	}
	ec.User = "nobody"
	ec.WorkingDirectory = "/"
	run(t, Spec{Cmd: shell("true"), Exec: ec})
	st, err := os.Stat(rd)
	if err != nil || st.Sys().(*syscall.Stat_t).Mode&0o7777 != 0o2750 || st.Sys().(*syscall.Stat_t).Uid != 65534 {
		t.Errorf("runtime dir %v %v", st, err)
	}
	if err := CleanupDirectories(ec, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rd); !os.IsNotExist(err) {
		t.Errorf("RuntimeDirectory not removed: %v", err)
	}
	ec.WorkingDirectory = "/nonexistent-gosd"
	ec.WorkingDirectoryOptional = true
	out, ws = run(t, Spec{Cmd: shell(`pwd`), Exec: ec})
	if out != "/\n" {
		t.Errorf("optional missing WorkingDirectory: %q %v", out, ws)
	}
	ec.WorkingDirectoryOptional = false
	if _, err := Start(Spec{Cmd: shell("true"), Exec: ec, Conn: -1, Stdout: -1, Stderr: -1}); err == nil {
		t.Error("a missing WorkingDirectory= without '-' must fail")
	}
}

func TestStdioFileAndPathSearch(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "out")
	ec := ctx()
	ec.StandardOutput = unitfile.Stdio{Kind: "append", Path: file}
	ec.StandardInput = unitfile.Stdio{Kind: "data"}
	ec.StandardInputData = []byte("hello\n")
	for i := 0; i < 2; i++ {
		_, ws := run(t, Spec{Cmd: unitfile.ExecCommand{Path: "cat", Argv: []string{"cat"}}, Exec: ec})
		if ws.ExitStatus() != 0 {
			t.Fatal(ws)
		}
	}
	if data, _ := os.ReadFile(file); string(data) != "hello\nhello\n" {
		t.Errorf("append: %q", data)
	}
	if _, err := Start(Spec{Cmd: unitfile.ExecCommand{Path: "no-such-gosd-cmd", Argv: []string{"x"}}, Conn: -1, Stdout: -1, Stderr: -1}); err == nil {
		t.Error("unknown bare command must fail")
	}
}

func TestSignalGroup(t *testing.T) {
	p, err := Start(Spec{Cmd: shell("sleep 100 & sleep 100; true"), Exec: ctx(), Conn: -1, Stdout: -1, Stderr: -1})
	if err != nil {
		t.Fatal(err)
	}
	// Give sh time to fork its children, then kill the whole group.
	for i := 0; i < 200; i++ {
		if data, _ := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/task/" + strconv.Itoa(p.Pid) + "/children"); len(strings.Fields(string(data))) == 2 {
			break
		}
		syscall.Select(0, nil, nil, nil, &syscall.Timeval{Usec: 5000})
	}
	if err := SignalGroup(p.Pgid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var ws syscall.WaitStatus
	syscall.Wait4(p.Pid, &ws, 0, nil)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("status %v", ws)
	}
	// The killed sleeps are reparented and reaped by init; wait for that.
	for i := 0; i < 400 && syscall.Kill(-p.Pgid, 0) != syscall.ESRCH; i++ {
		syscall.Select(0, nil, nil, nil, &syscall.Timeval{Usec: 5000})
	}
	if err := syscall.Kill(-p.Pgid, 0); err != syscall.ESRCH {
		t.Errorf("group still alive: %v", err)
	}
	if p.PidFD >= 0 {
		syscall.Close(p.PidFD)
	}
}

func benchSpawn(b *testing.B, helper bool) { benchSpawnWith(b, ctx(), helper) }

func benchSpawnWith(b *testing.B, ec *unitfile.ExecContext, helper bool) {
	benchSpawnUnit(b, "", ec, helper)
}

func benchSpawnUnit(b *testing.B, unit string, ec *unitfile.ExecContext, helper bool) {
	useBenchHelper(b)
	for i := 0; i < b.N; i++ {
		p, err := Start(Spec{Unit: unit, Cmd: unitfile.ExecCommand{Path: "/bin/true", Argv: []string{"true"}}, Exec: ec, Conn: -1, Stdout: -1, Stderr: -1, ForceHelper: helper})
		if err != nil {
			b.Fatal(err)
		}
		var ws syscall.WaitStatus
		syscall.Wait4(p.Pid, &ws, 0, nil)
		if p.PidFD >= 0 {
			syscall.Close(p.PidFD)
		}
		if ws.ExitStatus() != 0 {
			b.Fatalf("the child failed: %v", ws)
		}
	}
}

func BenchmarkSpawnDirect(b *testing.B) { benchSpawn(b, false) }
func BenchmarkSpawnHelper(b *testing.B) { benchSpawn(b, true) }

// BenchmarkSpawnService is a plain service: its private session keyring
// (KeyringMode='s default) is made on a thread of its own.
func BenchmarkSpawnService(b *testing.B) { benchSpawnUnit(b, "bench.service", ctx(), false) }

// hardened is what Debian's daemons commonly ask for (udevd, dbus,
// e2scrub_reap): no resource limits, so the thread path serves it.
func hardened() *unitfile.ExecContext {
	oom := 100 // raising needs no CAP_SYS_RESOURCE (this sandbox's root lacks it)
	ec := ctx()
	ec.NoNewPrivileges = true
	ec.OOMScoreAdjust = &oom
	ec.CapabilityBoundingSet = []string{"CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"}
	return ec
}

func BenchmarkSpawnHardenedThread(b *testing.B) { benchSpawnWith(b, hardened(), false) }
func BenchmarkSpawnHardenedHelper(b *testing.B) { benchSpawnWith(b, hardened(), true) }
func BenchmarkSpawnRaw(b *testing.B) {
	for i := 0; i < b.N; i++ {
		pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{Sys: &syscall.SysProcAttr{Setsid: true}})
		if err != nil {
			b.Fatal(err)
		}
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	}
}

// BenchmarkSpawnListenPIDShell is the socket-activation path: one passed fd,
// LISTEN_PID set in the child by /bin/sh before it execs the program.
func BenchmarkSpawnListenPIDShell(b *testing.B) {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Close(fd)
	for i := 0; i < b.N; i++ {
		p, err := Start(Spec{Cmd: unitfile.ExecCommand{Path: "/bin/true", Argv: []string{"/bin/true"}}, Exec: ctx(),
			Conn: -1, Stdout: -1, Stderr: -1, ListenFDs: []int{fd}, ListenNames: []string{"x"}})
		if err != nil {
			b.Fatal(err)
		}
		var ws syscall.WaitStatus
		syscall.Wait4(p.Pid, &ws, 0, nil)
		if p.PidFD >= 0 {
			syscall.Close(p.PidFD)
		}
	}
}

// A program that does not exist fails the exec step as "missing" (the
// manager skips it behind the "-" prefix); one that exists but cannot
// run does not.
func TestMissingProgram(t *testing.T) {
	dir := t.TempDir()
	notExec := dir + "/not-executable"
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	for path, missing := range map[string]bool{dir + "/nope": true, notExec: false} {
		_, err := Start(Spec{Cmd: unitfile.ExecCommand{Path: path, Argv: []string{path}}, Exec: ctx(), Conn: -1, Stdout: -1, Stderr: -1})
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Status != exitExec || ee.Missing() != missing {
			t.Errorf("%s: err %v, want status 203 with Missing()=%v", path, err, missing)
		}
	}
}

// StandardInput=file: and StandardOutput=file: naming a FIFO (a path in
// /tmp anyone could have made one) never hang the spawn: gosd opens them
// on the reactor thread. A FIFO to write to without a reader fails the
// start; one to read from opens, and the service sees end of file.
func TestStdioFileFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	within := func(what string, fn func()) {
		done := make(chan struct{})
		go func() { fn(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: the spawn hangs", what)
		}
	}
	within("StandardInput=file:FIFO", func() {
		ec := ctx()
		ec.StandardInput = unitfile.Stdio{Kind: "file", Path: fifo}
		out, ws := run(t, Spec{Cmd: shell("cat; echo read-to-eof"), Exec: ec})
		if ws.ExitStatus() != 0 || out != "read-to-eof\n" {
			t.Errorf("StandardInput=file:FIFO: status %v, output %q", ws, out)
		}
	})
	within("StandardOutput=file:FIFO", func() {
		ec := ctx()
		ec.StandardOutput = unitfile.Stdio{Kind: "file", Path: fifo}
		_, err := Start(Spec{Cmd: shell("true"), Exec: ec, Conn: -1, Stdout: -1, Stderr: -1})
		if err == nil || !strings.Contains(err.Error(), "a FIFO nobody reads") {
			t.Errorf("StandardOutput=file:FIFO without a reader: %v, want a start failure", err)
		}
	})
}

// useBenchHelper makes $GOSD_BENCH_HELPER (a gosd binary, e.g. the release
// build) the helper instead of this test binary, whose start-up differs:
// go test -bench SpawnRedis with it measures what gosd's spawns cost.
func useBenchHelper(b *testing.B) {
	path := os.Getenv("GOSD_BENCH_HELPER")
	if path == "" {
		return
	}
	old := helperPathForTest(path)
	b.Cleanup(func() { helperPathForTest(old) })
}

func helperPathForTest(path string) (old string) {
	helper.mu.Lock()
	defer helper.mu.Unlock()
	old, helper.path = helper.path, path
	return old
}

// The helper's own GODEBUG (helperGODEBUG) never reaches the program; a
// GODEBUG of the unit's does.
func TestHelperGODEBUGNotPassed(t *testing.T) {
	envCmd := unitfile.ExecCommand{Path: "/usr/bin/env", Argv: []string{"env"}}
	out, ws := run(t, Spec{Cmd: envCmd, Exec: ctx(), ForceHelper: true})
	if ws.ExitStatus() != 0 || strings.Contains(out, "GODEBUG") {
		t.Errorf("no GODEBUG of the unit's: status %v, environment:\n%s", ws, out)
	}
	ec := ctx()
	ec.Environment = []string{"GODEBUG=gctrace=0"}
	out, ws = run(t, Spec{Cmd: envCmd, Exec: ec, ForceHelper: true})
	if ws.ExitStatus() != 0 || !strings.Contains(out, "GODEBUG=gctrace=0\n") || strings.Contains(out, helperGODEBUG) {
		t.Errorf("GODEBUG=gctrace=0 of the unit's: status %v, environment:\n%s", ws, out)
	}
}
