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
