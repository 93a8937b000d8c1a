package reactor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gosd/logstore"
	"gosd/manager"
	"gosd/unitfile"
)

// TestLoggingSettingsApplied: SyslogLevel=, SyslogFacility=,
// SyslogLevelPrefix=, LogLevelMax= and LogRateLimitBurst= shape what a
// unit's output leaves in the log store (systemd.exec(5)).
func TestLoggingSettingsApplied(t *testing.T) {
	lvl := func(n int) *int { return &n }
	no := false
	cases := map[string]*unitfile.ExecContext{
		"defaults.service": {UMask: 0o022},
		"shaped.service": {UMask: 0o022, SyslogLevel: lvl(4), SyslogFacility: lvl(19), LogLevelMax: lvl(5),
			LogRateLimitIntervalSec: time.Hour, LogRateLimitBurst: 3},
		"noprefix.service": {UMask: 0o022, SyslogLevelPrefix: &no},
	}
	sh := `echo plain; echo "<7>debug line"; echo "<3>error line"; echo "<5>notice line"; echo more1; echo more2`
	next := uint64(0)
	left := len(cases)
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch ev.(type) {
		case manager.Request:
			var effects []manager.Effect
			for unit, ec := range cases {
				next++
				effects = append(effects, manager.Spawn{ID: next, Unit: unit, Role: "main", Cmd: shell(sh), Exec: ec, Conn: -1})
			}
			return effects
		case manager.Exited:
			if left--; left == 0 {
				return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "x", Kind: "x"}, At: now + 200*time.Millisecond}}
			}
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	var log syncBuffer
	r := newReactor(t, Config{Manager: m, Log: &log})
	runWithin(t, r, 10*time.Second)
	got := func(unit string) string {
		var b strings.Builder
		for _, e := range r.Store().Query(logstore.Filter{Units: []string{unit}}, 0) {
			if e.Transport != logstore.TransportStdout {
				continue
			}
			b.WriteString(strings.Join([]string{strconv.Itoa(e.Priority), strconv.Itoa(e.Facility), e.Message}, "/") + ";")
		}
		return b.String()
	}
	for unit, want := range map[string]string{
		"defaults.service": "6/3/plain;7/3/debug line;3/3/error line;5/3/notice line;6/3/more1;6/3/more2;",
		// warning by default, local3; debug dropped by LogLevelMax=notice;
		// three lines kept of the burst, the rest suppressed.
		"shaped.service":   "4/19/plain;3/19/error line;5/19/notice line;",
		"noprefix.service": "6/3/plain;6/3/<7>debug line;6/3/<3>error line;6/3/<5>notice line;6/3/more1;6/3/more2;",
	} {
		if g := got(unit); g != want {
			t.Errorf("%s kept %q, want %q", unit, g, want)
		}
	}
	if !strings.Contains(log.String(), "Suppressed 2 messages from shaped.service") {
		t.Errorf("the two lines over LogRateLimitBurst=3 were not counted:\n%s", log.String())
	}
}

// TestStderrToKmsgApart: StandardOutput=journal with StandardError=kmsg
// gives stderr a pipe of its own, so only stderr's lines reach the kernel's
// log (a file standing in for /dev/kmsg), each as journald forwards it;
// both are kept in the store.
func TestStderrToKmsgApart(t *testing.T) {
	kmsg := filepath.Join(t.TempDir(), "kmsg")
	if err := os.WriteFile(kmsg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ec := &unitfile.ExecContext{UMask: 0o022, StandardOutput: unitfile.Stdio{Kind: "journal"}, StandardError: unitfile.Stdio{Kind: "kmsg"}}
	var pid int
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{manager.Spawn{ID: 1, Unit: "two.service", Role: "main", Cmd: shell("echo to stdout; echo to stderr >&2; echo '<3>bad' >&2"), Exec: ec, Conn: -1}}
		case manager.Spawned:
			pid = e.Pid
		case manager.Exited:
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "x", Kind: "x"}, At: now + 200*time.Millisecond}}
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	var log syncBuffer
	r := newReactor(t, Config{Manager: m, Log: &log, Kmsg: kmsg})
	runWithin(t, r, 10*time.Second)
	b, _ := os.ReadFile(kmsg)
	// LOG_DAEMON (SyslogFacility= default) with the level, as journald
	// forwards a stream line.
	want := fmt.Sprintf("<30>sh[%d]: to stderr\n<27>sh[%d]: bad\n", pid, pid)
	if string(b) != want {
		t.Errorf("kmsg got %q, want %q", b, want)
	}
	if !strings.Contains(log.String(), "two.service["+strconv.Itoa(pid)+"]: to stdout") || strings.Contains(log.String(), "to stderr") {
		t.Errorf("gosd's log (stdout's place without journald): %q", log.String())
	}
	if n := len(r.Store().Query(logstore.Filter{Units: []string{"two.service"}}, 0)); n < 3 {
		t.Errorf("%d entries kept, want the three lines", n)
	}
}

// TestLogDatagramsFollowTheSpawn: what a unit's processes send to the log
// sockets is shaped by LogLevelMax= and LogRateLimitBurst= as its Spawn
// carried them (the reactor reads no unit definitions: there are none
// here).
func TestLogDatagramsFollowTheSpawn(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	lvl := func(n int) *int { return &n }
	cases := map[string]*unitfile.ExecContext{
		"plain.service":  {UMask: 0o022},
		"shaped.service": {UMask: 0o022, LogLevelMax: lvl(5), LogRateLimitIntervalSec: time.Hour, LogRateLimitBurst: 3},
	}
	// The sender stays alive until its datagrams are read: a process that
	// is gone cannot be placed in its unit.
	py := `import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for m in (b"<15>t: debug line", b"<11>t: error line", b"<13>t: notice line", b"<14>t: more1", b"<14>t: more2"):
    s.sendto(m, sys.argv[1])
time.sleep(1)
`
	next := uint64(0)
	left := len(cases)
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch ev.(type) {
		case manager.Request:
			var effects []manager.Effect
			for unit, ec := range cases {
				next++
				cmd := unitfile.ExecCommand{Path: "/usr/bin/env", Argv: []string{"/usr/bin/env", "python3", "-c", py, sock}, NoEnvExpand: true}
				effects = append(effects, manager.Spawn{ID: next, Unit: unit, Role: "main", Cmd: cmd, Exec: ec, Conn: -1})
			}
			return effects
		case manager.Exited:
			if left--; left == 0 {
				return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "x", Kind: "x"}, At: now + 100*time.Millisecond}}
			}
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	var log syncBuffer
	r := newReactor(t, Config{Manager: m, Log: &log, SyslogSocket: sock})
	runWithin(t, r, 20*time.Second)
	got := func(unit string) string {
		var b strings.Builder
		for _, e := range r.Store().Query(logstore.Filter{Units: []string{unit}}, 0) {
			if e.Transport == logstore.TransportSyslog {
				b.WriteString(strconv.Itoa(e.Priority) + "/" + e.Message + ";")
			}
		}
		return b.String()
	}
	for unit, want := range map[string]string{
		"plain.service": "7/debug line;3/error line;5/notice line;6/more1;6/more2;",
		// three pass the burst, of which debug is over LogLevelMax=notice.
		"shaped.service": "3/error line;5/notice line;",
	} {
		if g := got(unit); g != want {
			t.Errorf("%s kept %q, want %q\n%s", unit, g, want, log.String())
		}
	}
	if !strings.Contains(log.String(), "Suppressed 2 messages from shaped.service") {
		t.Errorf("the two datagrams over LogRateLimitBurst=3 were not counted:\n%s", log.String())
	}
}
