package integration

import (
	"bytes"
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

// Attacks on gosd as PID1 that issue 18 found held or broke; each test
// here failed before its fix.

// inode is the inode number of path (0 when it does not exist).
func inode(path string) uint64 {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil {
		return 0
	}
	return st.Ino
}

const staleUnits = "[Service]\nExecStart=/bin/sh -c 'echo $$$$ > @T@/victim.pid; cat /proc/self/cgroup > @T@/victim.cg; exec sleep 1000'\n"

// A gosd that dies uncleanly (SIGKILL) leaves its private cgroup tree with
// the services that survived it; the next gosd started beside it kills
// them and removes the tree (issue 18, item 13), since the owner's pid is
// not running.
func TestCgroupStaleTreeRemoved(t *testing.T) {
	first := start(t, asSubreaper, map[string]string{"default.target": "[Unit]\nWants=stale.service\n", "stale.service": staleUnits})
	var victim int
	cleanupCgroups(t, first, &victim)
	victim = pidFile(t, first, "victim.pid")
	unitDir := procCgroupDir(t, victim)
	tree := filepath.Dir(filepath.Dir(unitDir))
	if !strings.HasPrefix(filepath.Base(tree), "gosd-") {
		t.Fatalf("service in %s, not in a private gosd tree", unitDir)
	}
	first.cmd.Process.Kill() // gosd alone (its own process group is not signalled)
	first.wait(10 * time.Second)
	if !alive(victim) {
		t.Fatalf("the service died with gosd: nothing is left behind to test")
	}
	if _, err := os.Stat(unitDir); err != nil {
		t.Fatalf("the dead gosd's tree is gone already: %v", err)
	}

	second := start(t, asSubreaper, map[string]string{"default.target": "[Unit]\nWants=stale.service\n", "stale.service": staleUnits})
	var victim2 int
	cleanupCgroups(t, second, &victim2)
	victim2 = pidFile(t, second, "victim.pid")
	second.waitOutput("cgroups: removed "+tree+", left by a gosd that is gone (1 processes killed)", 10*time.Second)
	second.waitFor("the old service killed", 10*time.Second, func() bool { return !alive(victim) })
	if _, err := os.Stat(tree); !os.IsNotExist(err) {
		t.Fatalf("stale tree %s still there (%v)", tree, err)
	}
	if d := procCgroupDir(t, victim2); d == unitDir || !strings.HasSuffix(d, "/system.slice/stale.service") {
		t.Fatalf("new service in %s (old tree %s)", d, tree)
	}
	if code := second.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

// As PID1 of a PID namespace gosd's tree is gosd-<ns>-1, and a namespace
// made after one died may get the same inode number, so a later gosd has
// the same name as a dead one. Here the tree is planted with a process in
// the unit's cgroup before gosd starts (a shell as pid 1 of the new
// namespace makes it, then execs gosd): gosd must kill that process and
// make its own unit cgroups, never adopt the planted ones (issue 18,
// item 13).
func TestCgroupStaleTreeNotAdoptedPID1(t *testing.T) {
	needRoot(t)
	mnt := cgroup2Mount(t)
	scratch := t.TempDir()
	unitDir := writeUnits(t, scratch, map[string]string{"default.target": "[Unit]\nWants=stale.service\n", "stale.service": staleUnits})
	script := `ns=$(readlink /proc/self/ns/pid | tr -dc 0-9)
tree=` + mnt + `/gosd-$ns-1
d=$tree/system.slice/stale.service
mkdir -p $d || exit 1
sleep 1000 &
echo $! > $d/cgroup.procs || exit 1
echo $tree > ` + scratch + `/planted.tree
stat -c %i $d > ` + scratch + `/planted.ino
exec "$@"`
	args := []string{"-p", "-f", "--mount-proc", "/bin/sh", "-c", script, "sh", gosdBin,
		"--unit-path", unitDir, "--control-socket", filepath.Join(scratch, "control.sock"),
		"--notify-socket", filepath.Join(scratch, "notify.sock"), "--private-bus-socket", "-"}
	in := launch(t, exec.Command("unshare", args...), scratch, true)
	tree := strings.TrimSpace(in.waitFile("planted.tree", 10*time.Second))
	t.Cleanup(func() { removeCgroupTree(tree) })
	planted, _ := strconv.ParseUint(strings.TrimSpace(in.waitFile("planted.ino", 10*time.Second)), 10, 64)
	var cg string
	for _, l := range strings.Split(waitCgroupFile(in, "victim.cg"), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			cg = filepath.Join(mnt, p)
		}
	}
	if filepath.Dir(filepath.Dir(cg)) != tree {
		t.Fatalf("service in %s, not below the tree of gosd's own name %s", cg, tree)
	}
	in.waitOutput("cgroups: removed "+tree+", left by a gosd that is gone (1 processes killed)", 10*time.Second)
	if inode(cg) == planted {
		t.Fatalf("gosd adopted the planted unit cgroup %s", cg)
	}
	procs, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
	if n := len(strings.Fields(string(procs))); n != 1 {
		t.Fatalf("%d processes in the unit's cgroup, want only the service's own: %s", n, procs)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

// waitCgroupFile waits for a copy of /proc/self/cgroup a unit writes to be
// complete (the file exists before cat has written it).
func waitCgroupFile(in *instance, name string) string {
	in.t.Helper()
	in.waitFor(name+" written", 10*time.Second, func() bool { return strings.Contains(in.read(name), "0::") })
	return in.read(name)
}

// gosd as PID1 with a console that takes nothing (its stdout and stderr a
// pipe nobody reads) and a service writing without pause: once the pipe
// is full, the control socket still answers and the other services run
// (issue 18, item 7: each 64 KiB of output was written to the console
// from the loop, which then stopped for as long as the console took).
// Once the console is read again, the dropped lines are counted there.
func TestBlockedConsoleLoopAnswers(t *testing.T) {
	needRoot(t)
	scratch := t.TempDir()
	unitDir := writeUnits(t, scratch, map[string]string{
		"default.target": "[Unit]\nWants=chatty.service ticker.service\n",
		"chatty.service": "[Service]\nExecStart=/usr/bin/yes chatty-" + strings.Repeat("x", 3000) + "\n",
		"ticker.service": "[Service]\nExecStart=/bin/sh -c 'while :; do date +%%s%%N >> @T@/ticks; sleep 0.1; done'\n",
	})
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	cmd := exec.Command("unshare", "-p", "-f", "--mount-proc", gosdBin, "--unit-path", unitDir,
		"--control-socket", filepath.Join(scratch, "control.sock"),
		"--notify-socket", filepath.Join(scratch, "notify.sock"), "--private-bus-socket", "-")
	in := launchTo(t, cmd, scratch, true, wr)
	wr.Close() // gosd holds the only write end
	in.waitFor("the console pipe full", 30*time.Second, func() bool {
		n, err := unix.IoctlGetInt(int(rd.Fd()), ioctlInQueue)
		return err == nil && n >= 48<<10
	})
	// The console is blocked now: gosd's writer is stuck in write(2).
	for i := 0; i < 3; i++ {
		if r := ctlRun(t, in, "is-active", "chatty.service"); r.code != 0 || strings.TrimSpace(r.out) != "active" {
			t.Fatalf("is-active chatty.service while the console is blocked: %s", r)
		}
		if r := ctlRun(t, in, "restart", "ticker.service"); r.code != 0 {
			t.Fatalf("restart ticker.service while the console is blocked: %s", r)
		}
	}
	ticks := len(lines(in.read("ticks")))
	in.waitFor("ticker still running", 10*time.Second, func() bool { return len(lines(in.read("ticks"))) > ticks+3 })
	if n, _ := unix.IoctlGetInt(int(rd.Fd()), ioctlInQueue); n < 48<<10 {
		t.Fatalf("the console was drained meanwhile (%d bytes in the pipe): nothing was proven", n)
	}
	// Read the console again: the count of what it missed shows up.
	var console bytes.Buffer
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(30 * time.Second)
	for !bytes.Contains(console.Bytes(), []byte("log lines suppressed")) && time.Now().Before(deadline) {
		rd.SetReadDeadline(time.Now().Add(time.Second))
		n, _ := rd.Read(buf)
		console.Write(buf[:n])
		if console.Len() > 64<<20 {
			console.Reset() // keep the tail only
		}
	}
	if !bytes.Contains(console.Bytes(), []byte("log lines suppressed")) {
		t.Fatalf("no count of suppressed lines on the console")
	}
	// Blocked again (chatty still writes): the orderly stop and the final
	// shutdown's lines must not wait for the console for ever.
	in.waitFor("the console pipe full again", 30*time.Second, func() bool {
		n, err := unix.IoctlGetInt(int(rd.Fd()), ioctlInQueue)
		return err == nil && n >= 48<<10
	})
	stopping := time.Now()
	if code := in.stop(60 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	t.Logf("SIGTERM to exit with the console blocked: %v", time.Since(stopping).Round(time.Millisecond))
}

// Root in the container sends pid 1 each signal whose default action is a
// core dump (issue 18, item 9: Go's runtime made gosd exit on each, which
// ends a container and panics a VM's kernel): gosd logs it and runs on,
// its service untouched; SIGQUIT dumps the goroutines into the log.
func TestPID1CrashSignals(t *testing.T) {
	in := start(t, asPID1, pid1SmallUnits())
	in.waitOutput("Reached target default.target", 20*time.Second)
	in.waitFile("svc", 10*time.Second)
	sigs := []syscall.Signal{syscall.SIGQUIT, syscall.SIGILL, syscall.SIGTRAP, syscall.SIGABRT, syscall.SIGBUS,
		syscall.SIGFPE, syscall.SIGSEGV, sigSTKFLT, syscall.SIGSYS}
	for _, sig := range sigs {
		in.signal(sig)
		if sig == syscall.SIGQUIT {
			in.waitOutput("SIGQUIT received: gosd's goroutines follow", 10*time.Second)
		} else {
			in.waitOutput(sig.String()+" received from another process", 10*time.Second)
		}
		if r := ctlRun(t, in, "is-active", "svc.service"); r.code != 0 || strings.TrimSpace(r.out) != "active" {
			t.Fatalf("after %v: is-active svc.service: %s", sig, r)
		}
	}
	if !strings.Contains(in.out.String(), "goroutine ") {
		t.Errorf("SIGQUIT wrote no goroutine stacks")
	}
	if code := in.stop(30 * time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM", code)
	}
	if got := lines(in.read("svc")); strings.Join(got, " ") != "started stopped" {
		t.Errorf("service saw %v, want one start and an orderly stop", got)
	}
}
