package integration

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The org.freedesktop.systemd1 D-Bus API end to end: the real gosd, its
// private bus socket, and the real clients — dbus-send and busctl, and
// systemd-update-utmp, the program that made gosd need it.

// runAs runs a command as uid (0: the test's own) with a time limit.
func runAs(t *testing.T, uid int, name string, args ...string) ctlResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	done := make(chan struct{})
	var err error
	go func() { err = cmd.Run(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not finish", name, args)
	}
	r := ctlResult{out: o.String(), err: e.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return r
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (.ci/run installs it): %v", tool, err)
		}
	}
}

func TestPrivateBusClients(t *testing.T) {
	needTools(t, "dbus-send", "busctl")
	both(t, func(t *testing.T, m mode) {
		// A directory others may enter, for the non-root client below
		// (t.TempDir's are 0700).
		dir, err := os.MkdirTemp("", "gosd-bus-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		os.Chmod(dir, 0o755)
		sock := filepath.Join(dir, "private")
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nDescription=Default\nWants=svc.service\n",
			"svc.service": "[Unit]\nDescription=A service\n[Service]\n" +
				"ExecStart=/bin/sh -c 'echo $$$$ > @T@/pid; exec sleep 1000'\n",
			"later.service": "[Service]\nType=oneshot\nExecStart=/bin/touch @T@/later\n",
		}, "--private-bus-socket", sock)
		in.waitOutput("Reached target default.target", 10*time.Second)
		pid := strings.TrimSpace(in.waitFile("pid", 10*time.Second))
		addr := "--address=unix:path=" + sock
		peer := "--peer=unix:path=" + sock
		ok := func(r ctlResult, want string) {
			t.Helper()
			if r.code != 0 || !strings.Contains(r.out, want) {
				t.Errorf("want exit 0 and %q:\n%s", want, r)
			}
		}

		// What systemd-update-utmp reads, through libdbus and sd-bus.
		r := runAs(t, 0, "dbus-send", peer, "--print-reply", "--dest=org.freedesktop.systemd1",
			"/org/freedesktop/systemd1", "org.freedesktop.DBus.Properties.Get",
			"string:org.freedesktop.systemd1.Manager", "string:UserspaceTimestampMonotonic")
		if r.code != 0 || !regexp.MustCompile(`variant +uint64 [1-9][0-9]*`).MatchString(r.out) {
			t.Errorf("UserspaceTimestampMonotonic:\n%s", r)
		}
		ok(runAs(t, 0, "busctl", addr, "get-property", "org.freedesktop.systemd1",
			"/org/freedesktop/systemd1/unit/default_2etarget", "org.freedesktop.systemd1.Unit", "ActiveState"), `s "active"`)
		ok(runAs(t, 0, "busctl", addr, "get-property", "org.freedesktop.systemd1",
			"/org/freedesktop/systemd1/unit/svc_2eservice", "org.freedesktop.systemd1.Service", "MainPID"), "u "+pid)
		ok(runAs(t, 0, "busctl", addr, "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			"org.freedesktop.systemd1.Manager", "GetUnit", "s", "svc.service"), `o "/org/freedesktop/systemd1/unit/svc_2eservice"`)
		ok(runAs(t, 0, "busctl", addr, "get-property", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			"org.freedesktop.systemd1.Manager", "SystemState"), `s "running"`)
		ok(runAs(t, 0, "busctl", addr, "introspect", "org.freedesktop.systemd1", "/org/freedesktop/systemd1"),
			".UserspaceTimestampMonotonic")
		ok(runAs(t, 0, "busctl", addr, "introspect", "org.freedesktop.systemd1",
			"/org/freedesktop/systemd1/unit/svc_2eservice"), `"A service"`)
		r = runAs(t, 0, "busctl", addr, "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			"org.freedesktop.systemd1.Manager", "ListUnits")
		if r.code != 0 || !strings.Contains(r.out, `"svc.service" "A service" "loaded" "active" "running"`) {
			t.Errorf("ListUnits:\n%s", r)
		}
		// Errors by name.
		r = runAs(t, 0, "dbus-send", peer, "--print-reply", "--dest=org.freedesktop.systemd1",
			"/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.GetUnit", "string:nope.service")
		if r.code == 0 || !strings.Contains(r.err, "org.freedesktop.systemd1.NoSuchUnit") {
			t.Errorf("GetUnit of an unknown unit:\n%s", r)
		}
		r = runAs(t, 0, "busctl", addr, "get-property", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			"org.freedesktop.systemd1.Manager", "NoSuchProperty")
		if r.code == 0 {
			t.Errorf("an unknown property:\n%s", r)
		}

		// Jobs: StartUnit answers with the job's path; the unit runs.
		ok(runAs(t, 0, "busctl", addr, "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			"org.freedesktop.systemd1.Manager", "StartUnit", "ss", "later.service", "replace"), `o "/org/freedesktop/systemd1/job/`)
		in.waitFile("later", 10*time.Second)

		// Hostile clients lose their connection and nothing else.
		hostile(t, sock)
		ok(runAs(t, 0, "busctl", addr, "get-property", "org.freedesktop.systemd1",
			"/org/freedesktop/systemd1/unit/svc_2eservice", "org.freedesktop.systemd1.Unit", "ActiveState"), `s "active"`)

		// Root only: the socket is 0600, and with its mode opened up the
		// authentication still refuses another uid.
		if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("socket mode: %v %v", fi.Mode(), err)
		}
		os.Chmod(sock, 0o666)
		r = runAs(t, 65534, "dbus-send", peer, "--print-reply", "--dest=org.freedesktop.systemd1",
			"/org/freedesktop/systemd1", "org.freedesktop.DBus.Peer.Ping")
		// (libdbus, told REJECTED, gives up and reports NoReply.)
		if r.code == 0 || strings.Contains(r.err, "Permission denied") {
			t.Errorf("uid 65534 was served, or refused before authentication:\n%s", r)
		}
		ok(runAs(t, 0, "busctl", addr, "get-property", "org.freedesktop.systemd1",
			"/org/freedesktop/systemd1/unit/svc_2eservice", "org.freedesktop.systemd1.Unit", "SubState"), `s "running"`)

		if code := in.stop(20 * time.Second); code != 0 {
			t.Errorf("gosd exit %d", code)
		}
		if _, err := os.Stat(sock); !os.IsNotExist(err) {
			t.Errorf("socket left behind: %v", err)
		}
	})
}

// TestUpdateUtmpAgainstGosd runs Debian's systemd-update-utmp, which
// hard-codes /run/systemd/private, against gosd in a private mount
// namespace (tmpfs over /run and /var/log): `reboot` as a unit gosd
// starts, `runlevel` from outside once the target is reached. Both must
// succeed and leave their records in wtmp.
func TestUpdateUtmpAgainstGosd(t *testing.T) {
	needRoot(t)
	needTools(t, "unshare", "utmpdump")
	const updateUtmp = "/lib/systemd/systemd-update-utmp"
	if _, err := os.Stat(updateUtmp); err != nil {
		t.Fatalf("%s is needed (package systemd): %v", updateUtmp, err)
	}
	scratch := t.TempDir()
	units := writeUnits(t, scratch, map[string]string{
		"multi-user.target": "[Unit]\nDescription=Multi-User System\nWants=utmp.service\n",
		"utmp.service": "[Unit]\nDescription=Record System Boot in UTMP\n[Service]\nType=oneshot\nRemainAfterExit=yes\n" +
			"ExecStart=" + updateUtmp + " reboot\n",
	})
	script := fmt.Sprintf(`set -e
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/log
touch /run/utmp /var/log/wtmp
%[1]s --unit-path %[2]s --target multi-user.target --control-socket %[3]s/control.sock \
	--notify-socket %[3]s/notify.sock --private-bus-socket /run/systemd/private >%[3]s/gosd.log 2>&1 &
g=$!
i=0
until grep -q 'Reached target multi-user.target' %[3]s/gosd.log; do
	i=$((i+1)); [ $i -lt 200 ] || { echo 'gosd did not reach its target'; exit 1; }
	sleep 0.05
done
rc=0
%[4]s runlevel || rc=$?
echo "runlevel exit $rc"
utmpdump /var/log/wtmp >%[3]s/wtmp.txt
kill -TERM $g
wait $g || echo "gosd exit $?"
`, gosdBin, units, scratch, updateUtmp)
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script)
	out, err := cmd.CombinedOutput()
	log, _ := os.ReadFile(filepath.Join(scratch, "gosd.log"))
	wtmp, _ := os.ReadFile(filepath.Join(scratch, "wtmp.txt"))
	t.Logf("script:\n%s\ngosd:\n%s\nwtmp:\n%s", out, log, wtmp)
	if err != nil || !strings.Contains(string(out), "runlevel exit 0") || strings.Contains(string(out), "gosd exit") {
		t.Fatalf("script failed: %v", err)
	}
	if !strings.Contains(string(log), "Finished utmp.service") {
		t.Errorf("the reboot record's unit did not succeed under gosd")
	}
	// utmpdump: [type] [pid] ... [user] ...: a BOOT_TIME (2) "reboot"
	// record and a RUN_LVL (1) "runlevel" record for runlevel 3 ('3' =
	// 51 in the pid field).
	if !regexp.MustCompile(`(?m)^\[2\] \[00000\] \[~~  \] \[reboot  \]`).Match(wtmp) {
		t.Errorf("no boot record in wtmp")
	}
	if !regexp.MustCompile(`(?m)^\[1\] \[00051\] \[~~  \] \[runlevel\]`).Match(wtmp) {
		t.Errorf("no runlevel 3 record in wtmp")
	}
}

// hostile sends the server garbage before and after authentication and a
// message beyond the size limit; each connection must be closed by gosd.
func hostile(t *testing.T, sock string) {
	t.Helper()
	auth := "\x00AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n"
	oversized := make([]byte, 16)
	copy(oversized, "l\x01\x00\x01")
	binary.LittleEndian.PutUint32(oversized[4:], 100<<20) // body length
	binary.LittleEndian.PutUint32(oversized[8:], 1)       // serial
	for name, input := range map[string]string{
		"garbage before auth": "GET / HTTP/1.1\r\n\r\n",
		"garbage after auth":  auth + strings.Repeat("\xff", 100),
		"oversized message":   auth + string(oversized),
		"endless auth line":   "\x00AUTH " + strings.Repeat("A", 1<<16),
	} {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(input))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		// Closed with input unread, the connection may end in a reset.
		if _, err := io.ReadAll(conn); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: gosd did not close the connection: %v", name, err)
		}
		conn.Close()
	}
}
