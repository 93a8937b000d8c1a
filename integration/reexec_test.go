package integration

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemon-reexec end to end: gosd replaces itself with the binary on disk
// (replaced meanwhile, so the new inode must be what runs) and keeps every
// service, its pids, its output pipe, the notify socket's status, a socket
// unit's idle listening socket and a oneshot's RemainAfterExit state.
func TestDaemonReexec(t *testing.T) {
	// beat: the service proves it is alive; say: a line it prints to its
	// log pipe on request.
	loop := "while :; do touch @T@/simple.beat; if [ -f @T@/say ]; then cat @T@/say; rm -f @T@/say; fi; sleep 0.05; done"
	units := map[string]string{
		"default.target": "[Unit]\nWants=simple.service notify.service idle.socket once.service\n",
		"simple.service": "[Service]\nExecStart=/bin/sh -c '" + loop + "'\n",
		"notify.service": "[Service]\nType=notify\nNotifyAccess=all\n" +
			"ExecStart=/bin/sh -c 'systemd-notify --ready --status=\"serving before reexec\"; exec sleep 1000'\n",
		"idle.socket":  "[Socket]\nListenStream=@T@/idle.sock\n",
		"idle.service": "[Service]\nExecStart=/bin/sh -c 'echo $LISTEN_FDS > @T@/activated; exec sleep 1000'\n",
		"once.service": "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
		"slow.service": "[Service]\nExecStartPre=/bin/sleep 1.5\nExecStart=/bin/sleep 1000\n",
	}
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, units)
		want := map[string]string{
			"simple.service": "active running", "notify.service": "active running",
			"idle.socket": "active listening", "once.service": "active exited",
		}
		state := func(u string) string {
			r := ctlRun(t, in, "show", "-p", "ActiveState", "-p", "SubState", "--value", u)
			return strings.Join(strings.Fields(r.out), " ")
		}
		for u, w := range want {
			in.waitFor(u+" "+w, 15*time.Second, func() bool { return state(u) == w })
		}
		gosd := in.gosdPid()
		simplePID, notifyPID := mainPID(t, in, "simple.service"), mainPID(t, in, "notify.service")
		if got := showValue(t, in, "notify.service", "StatusText"); got != "serving before reexec" {
			t.Fatalf("StatusText before: %q", got)
		}

		// Refused while a job runs (and a control process with it):
		// nothing changes, the old gosd goes on.
		ctlWant(t, in, 0, "start", "--no-block", "slow.service")
		r := ctlRun(t, in, "daemon-reexec")
		if r.code == 0 || !strings.Contains(r.err, "job") {
			t.Fatalf("daemon-reexec during a job: want a refusal naming the job, got %s", r)
		}
		in.waitFor("slow.service active", 15*time.Second, func() bool { return state("slow.service") == "active running" })
		if strings.Contains(in.out.String(), "Reexecut") {
			t.Fatalf("a refused daemon-reexec re-executed:\n%s", in.out.String())
		}

		// An upgraded binary: a new inode at the same path.
		tmp := gosdBin + ".new"
		copyFile(t, gosdBin, tmp)
		if err := os.Rename(tmp, gosdBin); err != nil {
			t.Fatal(err)
		}
		var newBin syscall.Stat_t
		if err := syscall.Stat(gosdBin, &newBin); err != nil {
			t.Fatal(err)
		}

		ctlWant(t, in, 0, "daemon-reexec")
		in.waitOutput("Reexecuted: ", 10*time.Second)
		if strings.Count(in.out.String(), "Reexecuted: ") != 1 {
			t.Fatalf("want one Reexecuted line:\n%s", in.out.String())
		}
		if n := strings.Count(in.out.String(), "Reached target") + strings.Count(in.out.String(), "Started simple.service"); n > 2 {
			t.Fatalf("the boot target was started again:\n%s", in.out.String())
		}
		if got := in.gosdPid(); got != gosd {
			t.Fatalf("gosd pid %d -> %d", gosd, got)
		}
		var exe syscall.Stat_t
		if err := syscall.Stat(fmt.Sprintf("/proc/%d/exe", gosd), &exe); err != nil {
			t.Fatal(err)
		}
		if exe.Ino != newBin.Ino || exe.Dev != newBin.Dev {
			t.Fatalf("gosd runs inode %d, the binary on disk is %d", exe.Ino, newBin.Ino)
		}
		for u, w := range want {
			if got := state(u); got != w {
				t.Fatalf("%s after re-exec: %q, want %q", u, got, w)
			}
		}
		if got := state("slow.service"); got != "active running" {
			t.Fatalf("slow.service after re-exec: %q", got)
		}
		if p := mainPID(t, in, "simple.service"); p != simplePID {
			t.Fatalf("simple.service MainPID %d -> %d", simplePID, p)
		}
		if p := mainPID(t, in, "notify.service"); p != notifyPID {
			t.Fatalf("notify.service MainPID %d -> %d", notifyPID, p)
		}
		if got := showValue(t, in, "notify.service", "StatusText"); got != "serving before reexec" {
			t.Fatalf("StatusText after: %q", got)
		}
		st := ctlRun(t, in, "status", "notify.service")
		if !strings.Contains(st.out, "Status: \"serving before reexec\"") || !strings.Contains(st.out, "active (running)") {
			t.Fatalf("status after re-exec:\n%s", st)
		}

		// The output pipe is still read, by the new gosd.
		if err := os.WriteFile(filepath.Join(in.dir, "say"), []byte("said after reexec\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		in.waitOutput(fmt.Sprintf("simple.service[%d]: said after reexec", simplePID), 10*time.Second)

		// The idle listening socket still activates its service.
		c, err := net.Dial("unix", filepath.Join(in.dir, "idle.sock"))
		if err != nil {
			t.Fatalf("connect to the socket unit after re-exec: %v", err)
		}
		c.Close()
		if got := strings.TrimSpace(in.waitFile("activated", 10*time.Second)); got != "1" {
			t.Fatalf("activated service got LISTEN_FDS=%q", got)
		}
		in.waitFor("idle.service active", 10*time.Second, func() bool { return state("idle.service") == "active running" })

		// The new gosd supervises the old processes: a stop kills them.
		ctlWant(t, in, 0, "stop", "simple.service")
		if got := state("simple.service"); got != "inactive dead" {
			t.Fatalf("simple.service after stop: %q", got)
		}
		beat := filepath.Join(in.dir, "simple.beat")
		os.Remove(beat)
		time.Sleep(400 * time.Millisecond)
		if _, err := os.Stat(beat); err == nil {
			t.Fatal("simple.service still runs after it was stopped")
		}

		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d after SIGTERM\n%s", code, in.out.String())
		}
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// An Accept=yes socket unit still accepts after daemon-reexec: the new gosd
// learns from the handover that its listening socket hands out connections.
func TestDaemonReexecKeepsAcceptYes(t *testing.T) {
	units := map[string]string{
		"default.target": "[Unit]\nWants=acc.socket\n",
		"acc.socket":     "[Socket]\nListenStream=@T@/acc.sock\nAccept=yes\n",
		"acc@.service":   "[Service]\nExecStart=/bin/echo instance-answer\nStandardInput=socket\nStandardOutput=socket\n",
	}
	in := start(t, asSubreaper, units)
	state := func(u string) string {
		r := ctlRun(t, in, "show", "-p", "ActiveState", "-p", "SubState", "--value", u)
		return strings.Join(strings.Fields(r.out), " ")
	}
	in.waitFor("acc.socket listening", 15*time.Second, func() bool { return state("acc.socket") == "active listening" })
	ask := func(when string) {
		t.Helper()
		c, err := net.Dial("unix", filepath.Join(in.dir, "acc.sock"))
		if err != nil {
			t.Fatalf("connect %s: %v", when, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(c)
		if string(got) != "instance-answer\n" {
			t.Fatalf("%s: the connection got %q (%v), want an instance's answer", when, got, err)
		}
	}
	ask("before daemon-reexec")
	ctlWant(t, in, 0, "daemon-reexec")
	in.waitOutput("Reexecuted: ", 10*time.Second)
	ask("after daemon-reexec")
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM\n%s", code, in.out.String())
	}
}

// daemon-reexec keeps a running unit's sandbox: ExecReload= after it sees
// the /tmp and the network namespace ExecStart= made, and stopping the
// unit afterwards still removes its private /tmp from the host.
func TestDaemonReexecKeepsSandbox(t *testing.T) {
	units := map[string]string{
		"default.target": "[Unit]\nWants=reexec-sandbox.service\n",
		"reexec-sandbox.service": "[Service]\nPrivateTmp=yes\nPrivateNetwork=yes\nBindPaths=@T@\n" +
			"ExecStart=/bin/sh -c 'echo kept > /tmp/mark; readlink /proc/self/ns/net > @T@/start.tmp && mv @T@/start.tmp @T@/start.ns; exec sleep 1000'\n" +
			"ExecReload=/bin/sh -c 'readlink /proc/self/ns/net > @T@/reload.tmp; mv @T@/reload.tmp @T@/reload.ns; cat /tmp/mark > @T@/reload.tmp; mv @T@/reload.tmp @T@/reload.out'\n",
	}
	glob := "/tmp/systemd-private-reexec-sandbox.service-*"
	before, _ := filepath.Glob(glob) // left by a killed run
	in := start(t, asPID1, units)
	startNS := strings.TrimSpace(in.waitFile("start.ns", 15*time.Second))
	all, _ := filepath.Glob(glob)
	var privs []string
	for _, p := range all {
		if !slices.Contains(before, p) {
			privs = append(privs, p)
		}
	}
	if len(privs) != 1 {
		t.Fatalf("private /tmp on the host: %v", privs)
	}
	ctlWant(t, in, 0, "daemon-reexec")
	in.waitOutput("Reexecuted: ", 10*time.Second)
	ctlWant(t, in, 0, "reload", "reexec-sandbox.service")
	if got := strings.TrimSpace(in.waitFile("reload.out", 10*time.Second)); got != "kept" {
		t.Errorf("ExecReload= after daemon-reexec reads /tmp/mark: %q, want kept", got)
	}
	if got := strings.TrimSpace(in.waitFile("reload.ns", 10*time.Second)); got != startNS {
		t.Errorf("ExecReload= after daemon-reexec in network namespace %q, ExecStart= in %q", got, startNS)
	}
	ctlWant(t, in, 0, "stop", "reexec-sandbox.service")
	if _, err := os.Stat(privs[0]); err == nil {
		t.Errorf("private /tmp %s left on the host after the unit stopped", privs[0])
	}
}

// daemon-reexec takes over a unit's cgroup where it is, in its slice (the
// manager hands its settings over), so a stop still reaches a process the
// service left in the background.
func TestDaemonReexecKeepsSliceCgroup(t *testing.T) {
	units := map[string]string{
		"default.target": "[Unit]\nWants=bg.service\n",
		"rx.slice":       "[Slice]\nTasksMax=50\n",
		"bg.service":     "[Service]\nSlice=rx.slice\nExecStart=/bin/sh -c 'sleep 1000 & echo $! > @T@/child.pid; exec sleep 1000'\n",
	}
	in := start(t, asSubreaper, units)
	in.waitState(t, "bg.service", "active", 15*time.Second)
	child, err := strconv.Atoi(strings.TrimSpace(in.waitFile("child.pid", 10*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	cgroupOf := func() string {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", child))
		return string(b)
	}
	before := cgroupOf()
	if !strings.Contains(before, "/rx.slice/bg.service") {
		t.Fatalf("the background child's cgroup: %q", before)
	}
	ctlWant(t, in, 0, "daemon-reexec")
	in.waitOutput("Reexecuted: ", 10*time.Second)
	if got := showValue(t, in, "bg.service", "ControlGroup"); !strings.HasSuffix(got, "/rx.slice/bg.service") {
		t.Errorf("ControlGroup after daemon-reexec: %q", got)
	}
	ctlWant(t, in, 0, "stop", "bg.service")
	in.waitFor("the background child killed by the stop", 10*time.Second, func() bool {
		return syscall.Kill(child, 0) != nil
	})
	if strings.Contains(in.out.String(), "re-opening the unit's cgroup") {
		t.Errorf("a cgroup was not re-opened:\n%s", in.out.String())
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM\n%s", code, in.out.String())
	}
}
