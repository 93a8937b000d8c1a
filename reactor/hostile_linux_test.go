package reactor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gosd/logstore"
	"gosd/manager"
)

// 20,000 rejected notify datagrams (issue 18, item 8) give at most one
// window's burst of lines and one count of the rest, not 20,000 lines.
func TestNotifyFloodIsRateLimited(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	const flood = 20000
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		if n, ok := ev.(manager.Notify); ok && len(n.Fields) > 0 && n.Fields[0][0] == "READY" {
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	var log syncBuffer
	r := newReactor(t, Config{Manager: m, NotifySocket: sock, Log: &log})
	go func() {
		for i := 0; i < 500; i++ { // until the socket exists
			if _, err := os.Stat(sock); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer unix.Close(fd)
		to := &unix.SockaddrUnix{Name: sock}
		for i := 0; i < flood; i++ {
			if err := unix.Sendto(fd, []byte("A=1\x00garbage"), 0, to); err != nil {
				t.Errorf("datagram %d: %v", i, err)
				return
			}
		}
		unix.Sendto(fd, []byte("READY=1"), 0, to)
	}()
	runWithin(t, r, 60*time.Second)
	out := log.String()
	logged := strings.Count(out, "rejected")
	want := fmt.Sprintf("Suppressed %d messages from gosd", flood-messageRateBurst)
	if logged != messageRateBurst || !strings.Contains(out, want) {
		t.Fatalf("%d rejection lines (want %d) and no %q; log is %d bytes", logged, messageRateBurst, want, len(out))
	}
}

// A service writing 30,000 lines to gosd's log: journald's per-service
// limit lets 10,000 through, the rest is counted.
func TestServiceOutputIsRateLimited(t *testing.T) {
	var mainPid int
	var r *Reactor
	poll := manager.SetTimer{ID: manager.TimerID{Unit: "chatty.service", Kind: "poll"}}
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(1, "chatty.service", "seq 1 30000")}
		case manager.Spawned:
			mainPid = e.Pid
		case manager.Exited, manager.TimerFired:
			// Every line read (the output pipe is closed at EOF) before
			// the end.
			reading := false
			for _, src := range r.sources {
				if p, ok := src.(*outputPipe); ok && p.unit == "chatty.service" {
					reading = true
				}
			}
			if !reading {
				return []manager.Effect{manager.Exit{}}
			}
			poll.At = now + 10*time.Millisecond
			return []manager.Effect{poll}
		}
		return nil
	})
	var log syncBuffer
	r = newReactor(t, Config{Manager: m, Log: &log})
	runWithin(t, r, 60*time.Second)
	out := log.String()
	lines := strings.Count(out, "chatty.service[")
	want := "Suppressed 20000 messages from chatty.service"
	if lines != logstore.DefaultRateLimitBurst || !strings.Contains(out, want) {
		t.Fatalf("%d output lines (want %d), suppressed line %q present: %v", lines, logstore.DefaultRateLimitBurst, want, strings.Contains(out, want))
	}
	if !strings.Contains(out, "chatty.service["+fmt.Sprint(mainPid)+"]: 10000\n") || strings.Contains(out, "]: 10001\n") {
		t.Fatalf("not the first 10,000 lines")
	}
}

// gosd's log is a pipe nobody reads (a console that takes nothing, issue
// 18 item 7): a service writing 8 MB of output still runs to its end, the
// loop reading nearly all of it while the console pipe is full, and the lines the console could not take are
// counted once someone reads again.
func TestBlockedConsoleDoesNotStallTheLoop(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	rd, wr := os.NewFile(uintptr(p[0]), "console-r"), os.NewFile(uintptr(p[1]), "console-w")
	defer rd.Close()
	defer wr.Close()
	var mainPid, checks int
	var consoleFull bool
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			// 8,009 lines of up to 1000 bytes: under the output rate limit's
			// 10,000 lines, over the log queue's 1 MiB.
			return []manager.Effect{spawn(1, "chatty.service",
				`head -c 8000000 /dev/zero | tr '\0' x | fold -w 999`)}
		case manager.Spawned:
			mainPid = e.Pid
		case manager.Exited:
			if e.Pid == mainPid {
				return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Kind: "full"}, At: now}}
			}
		case manager.TimerFired:
			// The console is written beside the loop: it may fill the
			// pipe a moment after the service ended.
			n, _ := unix.IoctlGetInt(p[0], unix.TIOCINQ)
			checks++
			// Full as a writer of ~1 KB lines sees it: how much of the
			// 64 KiB a pipe takes depends on how the writes fell into its
			// 16 pages (46 KB measured); the count of dropped lines below
			// proves the rest.
			if consoleFull = n >= 32<<10; consoleFull || checks == 500 {
				return []manager.Effect{manager.Exit{}}
			}
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Kind: "full"}, At: now + 10*time.Millisecond}}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Log: wr})
	runWithin(t, r, 60*time.Second)
	if !consoleFull {
		n, _ := unix.IoctlGetInt(p[0], unix.TIOCINQ)
		t.Fatalf("the console pipe was not full when the service ended: nothing was proven (%d bytes in it)", n)
	}
	// Now read: the queued lines come out, then the count of the rest.
	var got bytes.Buffer
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(20 * time.Second)
	for !bytes.Contains(got.Bytes(), []byte("log lines suppressed")) && time.Now().Before(deadline) {
		rd.SetReadDeadline(time.Now().Add(time.Second))
		n, _ := rd.Read(buf)
		got.Write(buf[:n])
	}
	s := got.String()
	lines := strings.Count(s, "chatty.service[")
	if !strings.Contains(s, "log lines suppressed (the console did not take them fast enough)") || lines == 0 || lines >= 8009 {
		t.Fatalf("console got %d bytes, %d service lines, suppressed line: %v", len(s), lines, strings.Contains(s, "suppressed"))
	}
	var dropped int
	fmt.Sscanf(s[strings.Index(s, "gosd: ")+len("gosd: "):], "%d", &dropped)
	// 8,000,000 bytes in lines of 999: 8009 lines (the last one shorter);
	// at the service's exit up to a pipe's worth (65 lines) may be unread.
	if total := lines + dropped; total > 8009 || total < 8009-66 {
		t.Errorf("%d lines written + %d dropped, want 8009 less at most 66", lines, dropped)
	}
	t.Logf("console took %d lines while blocked and after, %d dropped and counted", lines, dropped)
}

// A flood of one message (a thousand of the manager's, differing only in
// a pid) is cut at the burst; another message about the same unit (here:
// none) still gets through, as systemd limits each call site on its own.
func TestMessageFloodSilencesOnlyItsKind(t *testing.T) {
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		if _, ok := ev.(manager.Request); !ok {
			return nil
		}
		var effs []manager.Effect
		for i := 0; i < 1000; i++ {
			effs = append(effs, manager.Log{Level: manager.LevelWarning, Msg: fmt.Sprintf("notification from pid %d ignored", 1000+i)})
		}
		return append(effs, manager.Log{Level: manager.LevelNotice, Msg: "Shutting down (exit)"}, manager.Exit{})
	})
	var log syncBuffer
	runWithin(t, newReactor(t, Config{Manager: m, Log: &log}), 20*time.Second)
	out := log.String()
	if n := strings.Count(out, "ignored\n"); n != messageRateBurst {
		t.Errorf("%d lines of the flooding message, want %d", n, messageRateBurst)
	}
	for _, want := range []string{"Shutting down (exit)", fmt.Sprintf("Suppressed %d messages from gosd", 1000-messageRateBurst)} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}
