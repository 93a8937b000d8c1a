package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gosd's own log when no journald runs: gosd as PID1 of a PID namespace,
// in a private mount namespace whose /dev and /run are fresh tmpfs (the
// host's /dev/log and /run/systemd are never touched), serving /dev/log
// and journald's native socket itself.

// privateDevRun is the wrapper that gives gosd a /dev with only the device
// nodes services need (bound from the host's, /dev/kmsg among them) and an
// empty /run, in the mount namespace unshare made.
func privateDevRun(scratch string) []string {
	script := `set -e
hostdev=` + scratch + `/hostdev
mkdir -p "$hostdev"
mount --bind /dev "$hostdev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom tty kmsg; do
	touch /dev/$n
	mount --bind "$hostdev/$n" /dev/$n
done
umount -l "$hostdev"
mount -t tmpfs -o mode=755 tmpfs /run
exec "$@"`
	return []string{"sh", "-c", script, "sh"}
}

// kmsgHas reads the kernel's log (every record, non-blocking) for s.
func kmsgHas(t *testing.T, s string) bool {
	f, err := os.OpenFile("/dev/kmsg", os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("/dev/kmsg: %v", err)
	}
	defer f.Close()
	buf := make([]byte, 8192)
	for {
		n, err := f.Read(buf)
		if err != nil {
			if err == syscall.EPIPE || strings.Contains(err.Error(), "broken pipe") {
				continue // a record was overwritten while reading
			}
			return false
		}
		if bytes.Contains(buf[:n], []byte(s)) {
			return true
		}
	}
}

// TestLogsWithoutJournald: a service writes to stdout, calls syslog(3)
// (logger(1), both RFC forms, and glibc's syslog(3) from python), sends
// journald's native protocol (logger --journald) and a second one writes
// with StandardOutput=kmsg: every line is found by `gosdctl logs -u UNIT`
// with its timestamps, priority and pid, the kmsg line is in the kernel's
// log too, and the persistent log on disk has them all after gosd ended.
func TestLogsWithoutJournald(t *testing.T) {
	needRoot(t)
	for _, tool := range []string{"logger", "python3", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed", tool)
		}
	}
	hostDevLog, hostErr := os.Lstat("/dev/log")
	token := fmt.Sprintf("tok%d", time.Now().UnixNano())
	logDir := filepath.Join(t.TempDir(), "gosd-log")
	conf := filepath.Join(t.TempDir(), "gosd.toml")
	os.WriteFile(conf, []byte("[log]\nstorage = \"persistent\"\ndirectory = \""+logDir+"\"\n"), 0o644)
	units := map[string]string{
		"default.target": "[Unit]\nWants=talker.service kmsger.service logger.service\n",
		// A daemon: it stays up after logging, as daemons do (a sender
		// that exits before gosd reads its datagram cannot be traced to
		// its unit, by gosd as by journald).
		"talker.service": "[Service]\nExecStart=/usr/bin/python3 @T@/units/talk.py\n",
		"talk.py": `import os, socket, syslog, sys, time
print("stdout line ` + token + `", flush=True)
syslog.openlog("pysys", syslog.LOG_PID)
syslog.syslog(syslog.LOG_ERR, "libc syslog line ` + token + `")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"<28>1 2026-12-07T18:00:00Z host talker5424 %d - - rfc5424 line ` + token + `" % os.getpid(), "/dev/log")
s.sendto(b"MESSAGE=native line ` + token + `\nPRIORITY=5\nSYSLOG_IDENTIFIER=nat\n", "/run/systemd/journal/socket")
open("@T@/talked", "w").close()
time.sleep(3600)
`,
		// logger(1) from a script: its line is kept whatever its unit.
		"logger.service": "[Service]\nType=oneshot\nExecStart=/usr/bin/logger -t talker \"logger line " + token + "\"\n",
		"kmsger.service": "[Service]\nType=oneshot\nRemainAfterExit=yes\nStandardOutput=kmsg\nSyslogIdentifier=kmsger\nExecStart=/bin/echo \"kmsg line " + token + "\"\n",
	}
	in := startWrapped(t, asPID1, units, privateDevRun(t.TempDir()), "--config", conf)
	in.waitFile("talked", 30*time.Second)
	want := map[string]struct {
		unit, ident, prio string
	}{
		"stdout line":      {"talker.service", "python3", "6"},
		"rfc5424 line":     {"talker.service", "talker5424", "4"},
		"libc syslog line": {"talker.service", "pysys", "3"},
		"native line":      {"talker.service", "nat", "5"},
		"kmsg line":        {"kmsger.service", "kmsger", "6"},
	}
	var got []logEntry
	var last ctlResult
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last logs -o json: %s", last)
		}
	})
	in.waitFor("every line in gosd's log", 20*time.Second, func() bool {
		r := ctlRun(t, in, "logs", "-u", "talker", "-u", "kmsger.service", "-n", "100", "-o", "json")
		last = r
		got = parseJSONLines(t, r.out)
		n := 0
		for _, e := range got {
			if strings.HasSuffix(e["MESSAGE"], token) {
				n++
			}
		}
		return n == len(want)
	})
	pid1 := in.gosdPid()
	for _, e := range got {
		if !strings.HasSuffix(e["MESSAGE"], " "+token) {
			continue
		}
		w, ok := want[strings.TrimSuffix(e["MESSAGE"], " "+token)]
		if !ok {
			t.Errorf("unexpected entry %v", e)
			continue
		}
		if e["_SYSTEMD_UNIT"] != w.unit || e["SYSLOG_IDENTIFIER"] != w.ident || e["PRIORITY"] != w.prio {
			t.Errorf("entry %q: unit %q ident %q priority %q, want %+v", e["MESSAGE"], e["_SYSTEMD_UNIT"], e["SYSLOG_IDENTIFIER"], e["PRIORITY"], w)
		}
		rt, mono := e["__REALTIME_TIMESTAMP"], e["__MONOTONIC_TIMESTAMP"]
		var rtv, monov int64
		fmt.Sscan(rt, &rtv)
		fmt.Sscan(mono, &monov)
		if d := time.Since(time.UnixMicro(rtv)); d < 0 || d > 5*time.Minute || monov <= 0 {
			t.Errorf("entry %q: realtime %s (%v ago), monotonic %s", e["MESSAGE"], rt, d, mono)
		}
		if e["_PID"] == "" || e["_PID"] == "0" || e["_PID"] == fmt.Sprint(pid1) {
			t.Errorf("entry %q: _PID %q", e["MESSAGE"], e["_PID"])
		}
	}
	// logger(1)'s line, whichever unit it could be traced to.
	all := ctlRun(t, in, "logs", "-o", "short-iso", "-n", "1000")
	if !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\S+ \S+ talker\[\d+\]: logger line ` + token + `$`).MatchString(all.out) {
		t.Errorf("logger's line is not in the log:\n%s", all.out)
	}
	// The short-iso form carries the time; -p err keeps the one error.
	iso := ctlRun(t, in, "logs", "-u", "talker", "-o", "short-iso", "-n", "100")
	for line := range want {
		if line == "kmsg line" || line == "logger line" {
			continue
		}
		found := false
		for _, l := range lines(iso.out) {
			if strings.HasSuffix(l, line+" "+token) {
				found = true
				if !isoStamp.MatchString(l) {
					t.Errorf("short-iso line without its time: %q", l)
				}
			}
		}
		if !found {
			t.Errorf("short-iso output lacks %q:\n%s", line, iso.out)
		}
	}
	errs := ctlRun(t, in, "logs", "-u", "talker", "-p", "err", "-o", "cat")
	if strings.TrimSpace(errs.out) != "libc syslog line "+token {
		t.Errorf("logs -p err: %q", errs.out)
	}
	if !kmsgHas(t, "kmsger[") || !kmsgHas(t, "kmsg line "+token) {
		t.Error("the StandardOutput=kmsg line is not in the kernel's log")
	}
	if code := in.stop(30 * time.Second); code != 0 {
		t.Fatalf("gosd exited %d", code)
	}
	// The host's /dev/log is as it was.
	if now, err := os.Lstat("/dev/log"); (err == nil) != (hostErr == nil) || (err == nil && !os.SameFile(now, hostDevLog)) {
		t.Errorf("the host's /dev/log changed: %v %v", err, hostErr)
	}
	// gosd is gone: the persistent log still has every line, read by the
	// gosd binary named journalctl.
	jc := filepath.Join(t.TempDir(), "journalctl")
	if err := os.Symlink(gosdBin, jc); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(jc, "-D", logDir, "-u", "talker", "-u", "kmsger", "-o", "short-iso", "--no-pager").CombinedOutput()
	if err != nil {
		t.Fatalf("journalctl -D: %v\n%s", err, out)
	}
	for line := range want {
		if !strings.Contains(string(out), line+" "+token) {
			t.Errorf("persistent log lacks %q:\n%s", line, out)
		}
	}
}

var isoStamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} `)

// logEntry is one line of -o json.
type logEntry map[string]string

func parseJSONLines(t *testing.T, out string) []logEntry {
	t.Helper()
	var es []logEntry
	for _, l := range lines(out) {
		var e logEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("-o json line %q: %v", l, err)
		}
		es = append(es, e)
	}
	return es
}

// vmHWM is a process's peak resident set in KiB.
func vmHWM(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// floodPy sends datagrams to /dev/log as fast as it can for a few seconds
// (blocking when gosd's queue is full: the flooder waits, never gosd), then
// says how many it sent.
const floodPy = `import socket, time, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
n, end = 0, time.time() + 3
pad = b"x" * 200
while time.time() < end:
    s.sendto(b"<14>flood[1]: line %d " % n + pad, "/dev/log")
    n += 1
open("@T@/flooded", "w").write(str(n))
time.sleep(3600)
`

// TestLogFloodIsBounded: a unit floods /dev/log. With the rate limit off,
// gosd's memory stays bounded (the store keeps its cap, older entries go)
// and gosd answers the control API all along; with a limit, only the
// burst per interval is kept and the rest is counted in journald's
// "Suppressed N messages" line.
func TestLogFloodIsBounded(t *testing.T) {
	needRoot(t)
	for _, c := range []struct {
		name, conf string
		limited    bool
	}{
		{"store-cap", "[log]\nstorage = \"volatile\"\nmemory_max = \"1M\"\nrate_limit_interval = \"0\"\n", false},
		{"rate-limit", "[log]\nstorage = \"volatile\"\nrate_limit_interval = \"1s\"\nrate_limit_burst = 500\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "gosd.toml")
			os.WriteFile(conf, []byte(c.conf), 0o644)
			units := map[string]string{
				"default.target": "[Unit]\nWants=flood.service\n",
				"flood.service":  "[Service]\nExecStart=/usr/bin/python3 @T@/units/flood.py\n",
				"flood.py":       floodPy,
			}
			in := startWrapped(t, asPID1, units, privateDevRun(t.TempDir()), "--config", conf)
			pid := in.gosdPid()
			in.waitState(t, "flood", "active", 10*time.Second)
			// gosd answers while the flood goes on.
			for i := 0; i < 5; i++ {
				ctlWant(t, in, 0, "is-active", "flood")
				time.Sleep(300 * time.Millisecond)
			}
			sent := in.waitFile("flooded", 30*time.Second)
			got := ctlRun(t, in, "logs", "-u", "flood", "-o", "cat", "-n", "0").out
			kept := strings.Count(got, "\n")
			hwm := vmHWM(t, pid)
			t.Logf("%s: %s datagrams sent in 3 s, %d lines kept for the unit, gosd's peak RSS %d KiB", c.name, sent, kept, hwm)
			if hwm > 64<<10 {
				t.Errorf("gosd's peak RSS %d KiB under the flood", hwm)
			}
			if c.limited {
				// 3 s of flood: at most four intervals' bursts.
				if lines := strings.Count("\n"+got, "\nline "); lines > 4*500 || lines < 500 {
					t.Errorf("%d flood lines kept with a burst of 500 per second", lines)
				}
				if !regexp.MustCompile(`Suppressed \d+ messages from flood\.service`).MatchString(got) {
					t.Errorf("no \"Suppressed N messages\" line:\n%.2000s", got)
				}
			} else if len(got) > 1<<20 {
				t.Errorf("%d bytes of the unit's log kept, cap 1M", len(got))
			}
			ctlWant(t, in, 0, "is-active", "flood")
		})
	}
}

// TestLogSocketHandedToSocketUnit: gosd serves /dev/log until a socket
// unit that listens there starts (a syslog daemon's, not enabled at boot:
// an enabled one keeps the path from the start); gosd then gives the path
// up, the unit's service gets the messages, and once the unit stops gosd
// serves the path again.
func TestLogSocketHandedToSocketUnit(t *testing.T) {
	needRoot(t)
	units := map[string]string{
		"default.target": "[Unit]\n",
		"say@.service":   "[Service]\nType=oneshot\nExecStart=/bin/sh -c '{ echo %i; sleep 1; } | /usr/bin/logger -t say'\n",
		"mylog.socket":   "[Socket]\nListenDatagram=/dev/log\n",
		"mylog.service":  "[Service]\nExecStart=/usr/bin/python3 -c 'import socket, sys\\ns = socket.socket(fileno=3)\\nwhile True:\\n    d = s.recv(4096)\\n    open(\"@T@/mylog\", \"a\").write(d.decode() + \"\\\\n\")'\n",
	}
	in := startWrapped(t, asPID1, units, privateDevRun(t.TempDir()), "--config", "/dev/null")
	in.waitOutput("Reached target default.target", 10*time.Second)
	said := func(word string) bool {
		out := ctlRun(t, in, "logs", "-o", "json", "-n", "0").out
		return strings.Contains(out, `"SYSLOG_IDENTIFIER":"say","_PID"`) && strings.Contains(out, `"MESSAGE":"`+word+`"`)
	}
	ctlWant(t, in, 0, "start", "say@before")
	in.waitFor("gosd's log to have 'before'", 10*time.Second, func() bool { return said("before") })

	ctlWant(t, in, 0, "start", "mylog.socket")
	in.waitOutput("mylog.socket provides /dev/log: gosd no longer serves it", 5*time.Second)
	ctlWant(t, in, 0, "start", "say@during")
	if got := in.waitFile("mylog", 10*time.Second); !strings.Contains(got, "say: during") {
		in.waitFor("the syslog unit to get 'during'", 10*time.Second, func() bool { return strings.Contains(in.read("mylog"), "say: during") })
	}
	if said("during") {
		t.Error("gosd kept serving /dev/log after the socket unit took it")
	}

	ctlWant(t, in, 0, "stop", "mylog.socket", "mylog.service")
	ctlWant(t, in, 0, "start", "say@after")
	in.waitFor("gosd's log to have 'after' once the unit let /dev/log go", 10*time.Second, func() bool { return said("after") })
	if strings.Contains(in.read("mylog"), "after") {
		t.Error("the stopped syslog unit still got messages")
	}

	// daemon-reexec: the socket goes over by its fd, the kept entries too.
	ctlWant(t, in, 0, "daemon-reexec")
	in.waitOutput("Reexecuted: ", 10*time.Second)
	ctlWant(t, in, 0, "start", "say@again")
	in.waitFor("gosd's log to have 'again' after daemon-reexec", 10*time.Second, func() bool { return said("again") })
	if !said("before") || !said("after") {
		t.Error("entries kept before daemon-reexec are gone")
	}
	if strings.Contains(in.out.String(), "Not serving /dev/log") {
		t.Errorf("the new gosd could not serve /dev/log:\n%s", in.out.String())
	}
}
