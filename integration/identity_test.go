package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A DynamicUser= service runs as a uid of 61184-65519, which gosd releases
// when the service stops; RefuseManualStart=/RefuseManualStop= refuse the
// user's jobs while the unit still starts as a dependency.
func TestDynamicUserAndRefuseManual(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		dir := t.TempDir()
		t.Setenv("GOSD_DYNAMIC_USER_DIR", dir)
		// The service says its uid on its stdout (the log): with the
		// implied PrivateTmp= and ProtectSystem=strict it can write
		// nowhere the test could read.
		in := start(t, m, map[string]string{
			"dyn.service": "[Service]\nDynamicUser=yes\nExecStart=/bin/sh -c 'echo dyn-uid=$$(id -u); " + loop + "'\n",
			"guarded.service": "[Unit]\nRefuseManualStart=yes\nRefuseManualStop=yes\n" +
				"[Service]\nExecStart=/bin/sh -c '" + loop + "'\n",
			"default.target": "[Unit]\nWants=guarded.service\n",
		})
		in.waitOutput("Reached target default.target", 15*time.Second)
		ctlWant(t, in, 0, "start", "dyn")
		in.waitOutput("dyn-uid=", 5*time.Second)
		match := regexp.MustCompile(`dyn-uid=(\d+)`).FindStringSubmatch(in.out.String())
		uid, _ := strconv.Atoi(match[1])
		if uid < 61184 || uid > 65519 {
			t.Fatalf("DynamicUser= service runs as uid %d", uid)
		}
		if data, err := os.ReadFile(dir + "/" + strconv.Itoa(uid)); err != nil || string(data) != "dyn" {
			t.Fatalf("allocation record: %q %v", data, err)
		}
		ctlWant(t, in, 0, "stop", "dyn")
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("uid %d not released after stop: %v", uid, ents)
		}

		in.waitState(t, "guarded.service", "active", 10*time.Second)
		pid := mainPID(t, in, "guarded")
		// MainPID is in gosd's PID namespace: look through its /proc.
		alive := func() bool {
			if !in.pid1 {
				return procAlive(pid)
			}
			_, err := os.Stat(fmt.Sprintf("/proc/%d/root/proc/%d/stat", in.gosdPid(), pid))
			return err == nil
		}
		if r := ctlRun(t, in, "stop", "guarded"); r.code == 0 || !alive() {
			t.Errorf("manual stop of RefuseManualStop=yes: %s, alive=%v", r, alive())
		}
		if r := ctlRun(t, in, "restart", "guarded"); r.code == 0 || mainPID(t, in, "guarded") != pid {
			t.Errorf("manual restart of RefuseManualStart=yes: %s", r)
		}
		in.waitOutput("may be requested by dependency only", 5*time.Second)
	})
}

// DevicePolicy=strict with one DeviceAllow= reaches the service through
// its cgroup's device program: /dev/zero opens, /dev/full does not.
func TestDevicePolicyUnit(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, map[string]string{
			"devs.service": "[Service]\nType=oneshot\nRemainAfterExit=yes\nDevicePolicy=strict\nDeviceAllow=/dev/zero r\n" +
				"ExecStart=/bin/sh -c 'for d in zero full; do head -c0 /dev/$d 2>&- && echo $d open || echo $d denied; done > @T@/devs'\n",
			"default.target": "[Unit]\nDescription=Default\n",
		})
		in.waitOutput("Reached target default.target", 15*time.Second)
		ctlWant(t, in, 0, "start", "devs")
		if got := in.read("devs"); got != "zero open\nfull denied\n" {
			t.Errorf("got %q\n%s", got, in.out.String())
		}
	})
}

// daemon-reload with a changed DeviceAllow= replaces a running service's
// device program: its next process (ExecReload=) sees the new rules.
func TestDevicePolicyReload(t *testing.T) {
	unit := func(dev string) string {
		return "[Service]\nDevicePolicy=strict\nDeviceAllow=/dev/" + dev + " r\nExecStart=/bin/sleep 1000\n" +
			"ExecReload=/bin/sh -c 'for d in zero full; do head -c0 /dev/$d 2>&- && echo $d open || echo $d denied; done > @T@/devs.tmp; mv @T@/devs.tmp @T@/devs'\n"
	}
	in := start(t, asPID1, map[string]string{"devreload.service": unit("zero"), "default.target": "[Unit]\nWants=devreload.service\n"})
	in.waitOutput("Reached target default.target", 15*time.Second)
	check := func(when, want string) {
		t.Helper()
		os.Remove(filepath.Join(in.dir, "devs"))
		ctlWant(t, in, 0, "reload", "devreload")
		if got := in.waitFile("devs", 10*time.Second); got != want {
			t.Errorf("%s: %q, want %q\n%s", when, got, want, in.out.String())
		}
	}
	check("before daemon-reload", "zero open\nfull denied\n")
	body := strings.ReplaceAll(unit("full"), "@T@", in.dir)
	if err := os.WriteFile(filepath.Join(in.dir, "units", "devreload.service"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ctlWant(t, in, 0, "daemon-reload")
	check("after daemon-reload", "zero denied\nfull open\n")
}

// IPAddressDeny=any keeps a service off even the loopback;
// IPAddressAllow=localhost lets it back there.
func TestIPAddressDenyUnit(t *testing.T) {
	needTools(t, "python3")
	both(t, func(t *testing.T, m mode) {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		probe := "ExecStart=/usr/bin/python3 -c 'import socket; s = socket.socket(); s.settimeout(1)\\ntry: s.connect((\"127.0.0.1\", " +
			strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + ")); print(\"ok\")\\nexcept OSError: print(\"denied\")'\n"
		in := start(t, m, map[string]string{
			"deny.service":   "[Service]\nType=oneshot\nIPAddressDeny=any\nStandardOutput=file:@T@/deny\n" + probe,
			"allow.service":  "[Service]\nType=oneshot\nIPAddressDeny=any\nIPAddressAllow=localhost\nStandardOutput=file:@T@/allow\n" + probe,
			"default.target": "[Unit]\nDescription=Default\n",
		})
		in.waitOutput("Reached target default.target", 15*time.Second)
		ctlWant(t, in, 0, "start", "deny", "allow")
		if d, a := in.read("deny"), in.read("allow"); d != "denied\n" || a != "ok\n" {
			t.Errorf("deny %q allow %q\n%s", d, a, in.out.String())
		}
	})
}

// As PID1, gosd serves its dynamic users to nss-systemd (varlink
// io.systemd.DynamicUser): inside the service `id -nu` names its user.
func TestDynamicUserName(t *testing.T) {
	if _, err := os.Stat("/lib/x86_64-linux-gnu/libnss_systemd.so.2"); err != nil {
		t.Skip("libnss-systemd is not installed")
	}
	if data, _ := os.ReadFile("/etc/nsswitch.conf"); !regexp.MustCompile(`(?m)^passwd:.*\bsystemd\b`).Match(data) {
		t.Skip("nsswitch.conf does not ask systemd for users")
	}
	out := t.TempDir()
	os.Chmod(out, 0o777)
	os.Chmod(filepath.Dir(out), 0o755)
	in := start(t, asPID1, map[string]string{
		"named.service": "[Service]\nType=oneshot\nDynamicUser=yes\nUser=gosdnamed\nStandardOutput=file:" + out + "/name\n" +
			"ExecStart=/bin/sh -c 'id -nu; id -ng'\n",
		"default.target": "[Unit]\nDescription=Default\n",
	})
	in.waitOutput("Reached target default.target", 15*time.Second)
	ctlWant(t, in, 0, "start", "named")
	if got, _ := os.ReadFile(out + "/name"); string(got) != "gosdnamed\ngosdnamed\n" {
		t.Errorf("id -nu, id -ng in the service: %q\n%s", got, in.out.String())
	}
}
