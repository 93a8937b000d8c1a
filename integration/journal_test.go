//go:build linux

package integration

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// journalEntry is one datagram of journald's native protocol as a
// journald would see it: the fields and the sender's credentials (the
// kernel checks them: only a privileged sender may name another pid).
type journalEntry struct {
	fields map[string]string
	cred   syscall.Ucred
}

// fakeJournald listens where systemd-journald's native socket would be and
// decodes what arrives (both field forms: KEY=value and the binary-safe
// KEY\n<le64 length><data>\n).
type fakeJournald struct {
	path    string
	mu      sync.Mutex
	entries []journalEntry
}

func startFakeJournald(t *testing.T, path string) *fakeJournald {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1); err != nil {
		t.Fatal(err)
	}
	j := &fakeJournald{path: path}
	t.Cleanup(func() { syscall.Close(fd) })
	go func() {
		buf := make([]byte, 64<<10)
		oob := make([]byte, 256)
		for {
			n, oobn, _, _, err := syscall.Recvmsg(fd, buf, oob, 0)
			if err != nil {
				return
			}
			e := journalEntry{fields: parseJournalFields(buf[:n])}
			if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, m := range msgs {
					if c, err := syscall.ParseUnixCredentials(&m); err == nil {
						e.cred = *c
					}
				}
			}
			j.mu.Lock()
			j.entries = append(j.entries, e)
			j.mu.Unlock()
		}
	}()
	return j
}

func parseJournalFields(b []byte) map[string]string {
	f := map[string]string{}
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			break
		}
		line := b[:nl]
		if eq := bytes.IndexByte(line, '='); eq >= 0 {
			f[string(line[:eq])] = string(line[eq+1:])
			b = b[nl+1:]
			continue
		}
		name := string(line)
		b = b[nl+1:]
		if len(b) < 8 {
			break
		}
		size := binary.LittleEndian.Uint64(b)
		b = b[8:]
		if uint64(len(b)) < size+1 {
			break
		}
		f[name] = string(b[:size])
		b = b[size+1:]
	}
	return f
}

// find returns the first entry whose MESSAGE is msg.
func (j *fakeJournald) find(msg string) (journalEntry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range j.entries {
		if e.fields["MESSAGE"] == msg {
			return e, true
		}
	}
	return journalEntry{}, false
}

func (j *fakeJournald) waitFor(t *testing.T, msg string) journalEntry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if e, ok := j.find(msg); ok {
			return e
		}
		time.Sleep(10 * time.Millisecond)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	t.Fatalf("journald never got %q; got %v", msg, j.entries)
	return journalEntry{}
}

// TestServiceOutputToJournal: with journald's socket configured, service
// output (StandardOutput=journal, the default) reaches journald one line
// per entry, attributed to the process that wrote it as systemd's stream
// connection would be (its pid, uid, gid: journald derives _SYSTEMD_UNIT
// from that process's cgroup), with SyslogLevelPrefix's "<N>" read, and
// SyslogIdentifier=; journal+console keeps the line in gosd's output too;
// lines written after the writer is gone name the unit instead; status
// still shows them; gosd's own messages go there too, naming the unit.
// Without journald, output stays in gosd's own log.
func TestServiceOutputToJournal(t *testing.T) {
	needRoot(t)
	sock := filepath.Join(t.TempDir(), "journal.sock")
	jd := startFakeJournald(t, sock)
	conf := filepath.Join(t.TempDir(), "gosd.toml")
	if err := os.WriteFile(conf, []byte("journal_socket = \""+sock+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	units := map[string]string{
		"default.target": "[Unit]\nWants=talk.service both.service nobody.service quick.service fail.service\n",
		"fail.service":   "[Service]\nExecStart=/bin/false\n",
		"talk.service":   "[Service]\nExecStart=/bin/sh -c 'echo \"talk pid $$$$\"; echo \"<3>talk trouble\"; exec sleep 1000'\n",
		"both.service": "[Service]\nStandardOutput=journal+console\nSyslogIdentifier=custom\n" +
			"ExecStart=/bin/sh -c 'echo both-lines; exec sleep 1000'\n",
		"nobody.service": "[Service]\nUser=nobody\nExecStart=/bin/sh -c 'echo \"nobody pid $$$$\"; exec sleep 1000'\n",
		"quick.service":  "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'sleep 0.2; echo quick-line'\n",
	}
	in := start(t, asSubreaper, units, "--config", conf)

	var pid int
	in.waitFor("talk's line in the journal", 10*time.Second, func() bool {
		jd.mu.Lock()
		defer jd.mu.Unlock()
		for _, e := range jd.entries {
			if s, ok := strings.CutPrefix(e.fields["MESSAGE"], "talk pid "); ok {
				pid, _ = strconv.Atoi(s)
				return true
			}
		}
		return false
	})
	e := jd.waitFor(t, "talk pid "+strconv.Itoa(pid))
	if int(e.cred.Pid) != pid || e.cred.Uid != 0 {
		t.Errorf("talk's line came with pid %d uid %d, want the service's pid %d uid 0", e.cred.Pid, e.cred.Uid, pid)
	}
	if e.fields["PRIORITY"] != "6" || e.fields["SYSLOG_IDENTIFIER"] != "sh" || e.fields["SYSLOG_FACILITY"] != "3" {
		t.Errorf("talk's fields: %v", e.fields)
	}
	e = jd.waitFor(t, "talk trouble")
	if e.fields["PRIORITY"] != "3" {
		t.Errorf("<3> prefix: PRIORITY=%q, want 3", e.fields["PRIORITY"])
	}
	e = jd.waitFor(t, "both-lines")
	if e.fields["SYSLOG_IDENTIFIER"] != "custom" {
		t.Errorf("SyslogIdentifier=: %v", e.fields)
	}
	in.waitOutput("both-lines", 10*time.Second) // journal+console: also in gosd's output

	in.waitFor("nobody's line", 10*time.Second, func() bool {
		jd.mu.Lock()
		defer jd.mu.Unlock()
		for _, e := range jd.entries {
			if strings.HasPrefix(e.fields["MESSAGE"], "nobody pid ") {
				want, _ := strconv.Atoi(strings.TrimPrefix(e.fields["MESSAGE"], "nobody pid "))
				if int(e.cred.Pid) != want || e.cred.Uid != 65534 {
					t.Errorf("nobody's line came with pid %d uid %d, want pid %d uid 65534", e.cred.Pid, e.cred.Uid, want)
				}
				return true
			}
		}
		return false
	})

	// The oneshot's shell may be reaped before its line is read: then the
	// line goes as gosd's and names the unit (journalctl -u matches UNIT=
	// from the service manager).
	e = jd.waitFor(t, "quick-line")
	if int(e.cred.Pid) == in.gosdPid() && e.fields["UNIT"] != "quick.service" {
		t.Errorf("quick's line sent as gosd without UNIT=: %v", e.fields)
	}
	if int(e.cred.Pid) != in.gosdPid() && e.fields["UNIT"] != "" {
		t.Errorf("quick's line sent as its writer but with UNIT=: %v", e.fields)
	}

	// gosd's own messages go to the journal as the service manager's, with
	// UNIT= (journalctl -u shows them beside the unit's output), and stay
	// off gosd's output below level err.
	in.waitFor("gosd's message about fail.service", 10*time.Second, func() bool {
		jd.mu.Lock()
		defer jd.mu.Unlock()
		for _, e := range jd.entries {
			if e.fields["UNIT"] == "fail.service" && strings.Contains(e.fields["MESSAGE"], "Failed with result 'exit-code'") {
				if e.fields["SYSLOG_IDENTIFIER"] != "gosd" || e.fields["PRIORITY"] != "4" || int(e.cred.Pid) != in.gosdPid() {
					t.Errorf("gosd's message: %v from pid %d", e.fields, e.cred.Pid)
				}
				return true
			}
		}
		return false
	})
	// The status lines are logged too, as systemd does.
	jd.waitFor(t, "Finished quick.service.")
	out := in.out.String()
	for _, s := range []string{"talk pid", "talk trouble", "nobody pid", "quick-line", "Failed with result 'exit-code'"} {
		if strings.Contains(out, s) {
			t.Errorf("%q went to gosd's own output too (only journal+console should):\n%s", s, out)
		}
	}
	if st := ctl(t, in, "status", "talk.service"); !strings.Contains(st, "talk trouble") {
		t.Errorf("status lost the unit's lines:\n%s", st)
	}
	in.stop(20 * time.Second)
}

// TestServiceOutputWithoutJournald: journald's socket is configured but
// nothing listens there (journald not started yet): output stays in gosd's
// own log, nothing is lost.
func TestServiceOutputWithoutJournald(t *testing.T) {
	needRoot(t)
	conf := filepath.Join(t.TempDir(), "gosd.toml")
	missing := filepath.Join(t.TempDir(), "no-journal.sock")
	if err := os.WriteFile(conf, []byte("journal_socket = \""+missing+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	units := map[string]string{
		"default.target": "[Unit]\nWants=talk.service\n",
		"talk.service":   "[Service]\nExecStart=/bin/sh -c 'echo fallback-line; exec sleep 1000'\n",
	}
	in := start(t, asSubreaper, units, "--config", conf)
	in.waitOutput("talk.service[", 10*time.Second)
	in.waitOutput("fallback-line", 10*time.Second)
	in.stop(20 * time.Second)
}
