package integration

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// freePort finds a TCP port on 127.0.0.1 that is free right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// buildTestdata builds a helper program from testdata/NAME.
func buildTestdata(t *testing.T, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", out, "./testdata/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	return out
}

// readLine connects and reads one line, retrying until deadline.
func readLine(t *testing.T, network, addr string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil {
				return strings.TrimSpace(line)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from %s %s: %v", network, addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// systemd-notify --ready: readiness gates units ordered after the notify
// service, the status text is kept, and systemd-notify's BARRIER=1 is
// answered (it exits 0 instead of timing out).
func TestSystemdNotifyReady(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=ready.service after.service\n",
			"ready.service": "[Service]\nType=notify\nNotifyAccess=all\n" +
				"ExecStart=/bin/sh -c 'sleep 0.5; echo notifying $(date +%%s%%N) > @T@/notify; systemd-notify --ready --status=\"warmed up\" && echo ok > @T@/notify-rc; exec sleep 1000'\n",
			"after.service": "[Unit]\nAfter=ready.service\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo after $(date +%%s%%N) > @T@/after'\n",
		})
		after := in.waitFile("after", 15*time.Second)
		notify := in.read("notify")
		var tn, ta int64
		fmt.Sscanf(notify, "notifying %d", &tn)
		fmt.Sscanf(after, "after %d", &ta)
		if tn == 0 || ta == 0 || ta < tn {
			t.Fatalf("after.service ran before ready.service was ready: notify=%q after=%q", notify, after)
		}
		if got := strings.TrimSpace(in.waitFile("notify-rc", 10*time.Second)); got != "ok" {
			t.Fatalf("systemd-notify did not succeed: %q", got)
		}
		out := ctl(t, in, "status", "ready.service")
		if !strings.Contains(out, "warmed up") || !strings.Contains(out, "active (running)") {
			t.Fatalf("status does not show the notify state:\n%s", out)
		}
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// A Go daemon using go-systemd's activation.Files/Listeners and
// daemon.SdNotify is started by the first connection to its sockets and
// sees both fds, with their names, and LISTEN_PID equal to its own pid.
func TestGoSystemdActivation(t *testing.T) {
	bin := buildTestdata(t, "activated")
	both(t, func(t *testing.T, m mode) {
		port := freePort(t)
		in := start(t, m, map[string]string{
			"default.target":        "[Unit]\nWants=activated.socket\n",
			"activated.socket":      fmt.Sprintf("[Socket]\nListenStream=127.0.0.1:%d\nFileDescriptorName=tcp\n", port),
			"activated-unix.socket": "[Socket]\nListenStream=@T@/activated.sock\nFileDescriptorName=unix\nService=activated.service\n",
			"activated.service": "[Unit]\nRequires=activated-unix.socket\nAfter=activated-unix.socket\n" +
				"[Service]\nType=notify\nExecStart=" + bin + "\n",
		})
		in.waitOutput("Reached target default.target", 10*time.Second)
		if strings.Contains(in.out.String(), "activated: ready") {
			t.Fatal("service started before any connection")
		}
		first := readLine(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		if !strings.HasPrefix(first, "tcp ") {
			t.Fatalf("tcp answer %q", first)
		}
		// Both sockets arrive, each with its FileDescriptorName (their order
		// among several socket units is not defined by systemd either).
		in.waitFor("both fds", 5*time.Second, func() bool {
			o := in.out.String()
			return strings.Contains(o, "activated: ready with tcp,unix") || strings.Contains(o, "activated: ready with unix,tcp")
		})
		second := readLine(t, "unix", filepath.Join(in.dir, "activated.sock"), 5*time.Second)
		if !strings.HasPrefix(second, "unix ") || strings.Fields(second)[1] != strings.Fields(first)[1] {
			t.Fatalf("unix answer %q (tcp %q): not the same activated process", second, first)
		}
		out := ctl(t, in, "status", "activated.service")
		if !strings.Contains(out, "serving tcp,unix") && !strings.Contains(out, "serving unix,tcp") {
			t.Fatalf("status:\n%s", out)
		}
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// A Python service checks the fd protocol the way libsystemd does:
// LISTEN_PID must equal its own pid and LISTEN_FDS count from fd 3.
func TestPythonListenPID(t *testing.T) {
	needPython(t)
	both(t, func(t *testing.T, m mode) {
		port := freePort(t)
		script := `import os, socket, sys
ok = os.environ.get("LISTEN_PID") == str(os.getpid()) and os.environ.get("LISTEN_FDS") == "1" and os.environ.get("LISTEN_FDNAMES") == "py.socket"
s = socket.socket(fileno=3)
c, _ = s.accept()
c.sendall(b"pid-ok\n" if ok else ("bad %r %r\n" % (os.environ.get("LISTEN_PID"), os.getpid())).encode())
c.close()
`
		if err := os.MkdirAll(filepath.Join(t.TempDir()), 0o755); err != nil {
			t.Fatal(err)
		}
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=py.socket\n",
			"py.socket":      fmt.Sprintf("[Socket]\nListenStream=127.0.0.1:%d\n", port),
			"py.service":     "[Service]\nExecStart=/usr/bin/env python3 @T@/units/check.py\n",
			"check.py":       script,
		})
		in.waitOutput("Reached target default.target", 10*time.Second)
		if got := readLine(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second); got != "pid-ok" {
			t.Fatalf("python service says %q", got)
		}
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// Accept=yes: 100 concurrent clients each get their own echo instance.
func TestAcceptYesEcho100(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		port := freePort(t)
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=echo.socket\n",
			"echo.socket":    fmt.Sprintf("[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\nMaxConnections=128\n", port),
			"echo@.service":  "[Service]\nExecStart=/bin/cat\nStandardInput=socket\n",
		})
		in.waitOutput("Reached target default.target", 10*time.Second)
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				msg := fmt.Sprintf("client %d says hello\n", i)
				if _, err := c.Write([]byte(msg)); err != nil {
					errs <- err
					return
				}
				got, err := bufio.NewReader(c).ReadString('\n')
				if err != nil || got != msg {
					errs <- fmt.Errorf("client %d got %q, %v", i, got, err)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if code := in.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// FDSTORE=1: fds a service stores are handed back at its next start with
// their FDNAME in LISTEN_FDNAMES.
func TestFDStoreSurvivesRestart(t *testing.T) {
	needPython(t)
	script := `import os, socket, sys
names = os.environ.get("LISTEN_FDNAMES", "")
with open(sys.argv[1], "a") as f:
    f.write("start fds=%s names=%s\n" % (os.environ.get("LISTEN_FDS", "0"), names))
if "mypipe" in names:
    os.read(3, 0)
    sys.exit(0)
r, w = os.pipe()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
s.connect(addr)
socket.send_fds(s, [b"FDSTORE=1\nFDNAME=mypipe"], [r])
s.send(b"READY=1")
sys.exit(1)
`
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=store.service\n",
			"store.service": "[Service]\nType=notify\nFileDescriptorStoreMax=4\nRestart=on-failure\nRestartSec=100ms\n" +
				"ExecStart=/usr/bin/env python3 @T@/units/store.py @T@/starts\n",
			"store.py": script,
		})
		in.waitFor("second start", 15*time.Second, func() bool { return len(lines(in.read("starts"))) >= 2 })
		got := lines(in.read("starts"))
		if got[0] != "start fds=0 names=" || got[1] != "start fds=1 names=mypipe" {
			t.Fatalf("starts: %q", got)
		}
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

// Hostile notify input is rejected and logged; the service still becomes
// ready and nothing else is disturbed.
func TestHostileNotify(t *testing.T) {
	needPython(t)
	script := `import os, socket
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(addr)
s.send(b"\xff\xfe garbage")
s.send(b"MAINPID=1")
s.send(b"X" * 3000 + b"=" + b"Y" * 3000)
r, w = os.pipe()
socket.send_fds(s, [b"FDSTORE=1"], [r, w])
for i in range(2000):
    s.send(b"STATUS=flood %d" % i)
s.send(b"READY=1\nSTATUS=survived")
import time
time.sleep(1000)
`
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target":  "[Unit]\nWants=hostile.service\n",
			"hostile.service": "[Service]\nType=notify\nExecStart=/usr/bin/env python3 @T@/units/hostile.py\n",
			"hostile.py":      script,
		})
		in.waitOutput("Reached target default.target", 15*time.Second)
		out := ctl(t, in, "status", "hostile.service")
		if !strings.Contains(out, "survived") || !strings.Contains(out, "active (running)") {
			t.Fatalf("status:\n%s", out)
		}
		if !strings.Contains(in.out.String(), "MAINPID") {
			t.Fatalf("the refused MAINPID=1 was not logged")
		}
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}

func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 is needed (CI installs it)")
	}
}

// ctl runs gosdctl against the instance and returns its output.
func ctl(t *testing.T, in *instance, args ...string) string {
	t.Helper()
	cmd := exec.Command(gosdBin, append([]string{"ctl", "--socket", filepath.Join(in.dir, "control.sock")}, args...)...)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// A socket-activated service that never accepts: its socket stays
// readable with connections queued, and gosd must neither spin on it (the
// listening fd is level-triggered) nor start the service again while it
// runs. The service is a pid file and a sleep; three clients connect and
// wait.
func TestSocketServiceNeverAccepts(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=never.socket\n",
			"never.socket":   "[Socket]\nListenStream=@T@/never.sock\n",
			"never.service":  "[Service]\nExecStart=/bin/sh -c 'echo $$$$ >>@T@/never.pids; exec sleep 1000'\n",
		})
		in.waitOutput("Reached target default.target", 10*time.Second)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for i := 0; i < 3; i++ {
			c, err := net.DialTimeout("unix", filepath.Join(in.dir, "never.sock"), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		pid := pidFile(t, in, "never.pids")
		in.waitFor("never.service active", 10*time.Second, func() bool {
			return strings.TrimSpace(ctl(t, in, "is-active", "never.service")) == "active"
		})
		cpu := func() time.Duration {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", in.gosdPid()))
			if err != nil {
				t.Fatal(err)
			}
			s := string(data)
			f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
			ut, _ := strconv.Atoi(f[11])
			st, _ := strconv.Atoi(f[12])
			return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
		}
		before := cpu()
		time.Sleep(time.Second)
		// An idle gosd uses nothing; a spinning loop took 400-810 ms of
		// this second when tried (the unwatch removed), on a loaded host.
		if used := cpu() - before; used > 150*time.Millisecond {
			t.Errorf("gosd used %v of CPU in 1 s with the connections queued: the loop spins", used)
		}
		// (The pid is in gosd's namespace as PID1: its state comes from gosd.)
		if pids := strings.Fields(in.read("never.pids")); len(pids) != 1 || pids[0] != strconv.Itoa(pid) {
			t.Errorf("service started %d times (pids %q)", len(pids), pids)
		}
		if st := strings.TrimSpace(ctl(t, in, "is-active", "never.service")); st != "active" {
			t.Errorf("never.service %q after the wait", st)
		}
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	})
}
