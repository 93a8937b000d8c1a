package reactor

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/manager"
	"gosd/unitfile"
)

// A plain spawn goes through the fork thread, whose fd table holds only
// stdio and what the child is given: the child sees exactly its three
// standard fds however many gosd holds, and the loop has a pidfd of its
// own for it (its exit is noticed, its kill works).
func TestForkThreadStartsPlainSpawns(t *testing.T) {
	manyFDs(t)
	var log syncBuffer
	var pid int
	var r *Reactor
	var pidfd int
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{plain(spawn(1, "fds.service", "ls /proc/self/fd; exec sleep 100"))}
		case manager.Spawned:
			if e.Err != nil {
				t.Errorf("spawn: %v", e.Err)
				return []manager.Effect{manager.Exit{}}
			}
			pid = e.Pid
			if pr := r.procs[pid]; pr != nil {
				pidfd = pr.pidfd
			}
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "fds.service", Kind: "k"}, At: now + 300*time.Millisecond}}
		case manager.TimerFired:
			return []manager.Effect{manager.Kill{Unit: "fds.service", Pid: pid, Signal: int(syscall.SIGTERM)}}
		case manager.Exited:
			if e.Pid == pid {
				if e.Status.Signal != int(syscall.SIGTERM) {
					t.Errorf("exit %+v, want SIGTERM", e.Status)
				}
				return []manager.Effect{manager.Exit{}}
			}
		}
		return nil
	})
	r = newReactor(t, Config{Manager: m, Subreaper: true, Log: &log})
	runWithin(t, r, 10*time.Second)
	if r.spawner.fork == nil {
		t.Fatalf("no fork thread: %s", log.String())
	}
	if n := r.spawner.fork.forked.Load(); n != 1 {
		t.Errorf("%d spawns on the fork thread, want 1", n)
	}
	if pidfd < 0 {
		t.Errorf("the loop has no pidfd of the process")
	}
	var fds []string
	for _, l := range strings.Split(log.String(), "\n") {
		if f, ok := strings.CutPrefix(l, "fds.service["); ok {
			if _, v, ok := strings.Cut(f, "]: "); ok {
				fds = append(fds, v)
			}
		}
	}
	// ls's own directory fd is the fourth.
	if got := strings.Join(fds, " "); got != "0 1 2 3" {
		t.Errorf("the child's fds: %q, want 0 1 2 (and ls's 3)\n%s", got, log.String())
	}
}

// The fork thread's table is a copy of gosd's taken when it starts:
// what was open then is dropped from the copy, so a socket gosd closes
// later is closed for good (a copy would keep it listening).
func TestForkThreadHoldsNoClosedSocket(t *testing.T) {
	manyFDs(t) // so that the first spawn starts the fork thread
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false) // the path stays: a dial tells whether anything listens
	var log syncBuffer
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{plain(spawn(1, "a.service", "true"))}
		case manager.Spawned:
			if e.Err != nil {
				t.Errorf("spawn: %v", e.Err)
				return []manager.Effect{manager.Exit{}}
			}
			if e.ID == 1 {
				// The fork thread runs: close the socket now.
				l.Close()
				return []manager.Effect{plain(spawn(2, "b.service", "true"))}
			}
		case manager.Exited:
			if e.Status.Code != 0 {
				t.Errorf("exit %+v", e.Status)
			}
		case manager.CgroupEmpty:
			if e.Unit == "b.service" {
				return []manager.Effect{manager.Exit{}}
			}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Subreaper: true, Log: &log})
	runWithin(t, r, 10*time.Second)
	if r.spawner.fork == nil {
		t.Fatalf("no fork thread: %s", log.String())
	}
	c, err := net.Dial("unix", path)
	if err == nil {
		c.Close()
		t.Fatal("the closed socket still accepts connections: the fork thread holds it")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial: %v", err)
	}
}

// GOSD_NO_FORK_THREAD keeps every spawn on the spawner thread.
func TestNoForkThread(t *testing.T) {
	t.Setenv(noForkThreadEnv, "1")
	var log syncBuffer
	pid := 0
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(1, "a.service", "exit 7")}
		case manager.Spawned:
			pid = e.Pid
		case manager.Exited:
			if e.Pid != pid {
				return nil
			}
			if e.Status.Code != 7 {
				t.Errorf("exit %+v", e.Status)
			}
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Subreaper: true, Log: &log})
	runWithin(t, r, 10*time.Second)
	if r.spawner.fork != nil {
		t.Fatal("a fork thread despite " + noForkThreadEnv)
	}
}

// manyFDs opens more fds than forkThreadFDs in gosd's table (as 1000
// units make), so that plain spawns go to the fork thread.
func manyFDs(t *testing.T) {
	for i := 0; i < forkThreadFDs; i++ {
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
	}
}

// plain gives s systemd's default process settings, which a plain spawn
// (exec.Direct) has.
func plain(s manager.Spawn) manager.Spawn {
	s.Exec = &unitfile.ExecContext{UMask: 0o022, ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}
	return s
}
