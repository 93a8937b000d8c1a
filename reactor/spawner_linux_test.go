package reactor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gosd/cgroups"
	"gosd/exec"
	"gosd/manager"
)

// Spawns run on the spawner thread while the loop goes on; children that
// exit at once (true) are reaped by the loop before their Spawned can be
// fed. The manager must still see, for every process, Spawned before its
// Exited, and a unit's CgroupEmpty only after the Spawned of its process:
// 200 units started in one step, each with its own cgroup.
func TestSpawnedBeforeExitAndEmpty(t *testing.T) {
	const n = 200
	root := fmt.Sprintf("gosd-spawner-test-%d", os.Getpid())
	removeCgroupRootAfter(t, root)
	spawnedAt := map[int]int{} // pid -> event index of its Spawned
	unitSpawned := map[string]bool{}
	var problems []string
	emptied := map[string]bool{}
	exits, step := 0, 0
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		step++
		switch e := ev.(type) {
		case manager.Request:
			var effs []manager.Effect
			for i := range n {
				effs = append(effs, spawn(uint64(i+1), fmt.Sprintf("s%03d.service", i), "exec true"))
			}
			return effs
		case manager.Spawned:
			if e.Err != nil {
				problems = append(problems, fmt.Sprintf("spawn %d: %v", e.ID, e.Err))
				exits++
			}
			spawnedAt[e.Pid] = step
			unitSpawned[fmt.Sprintf("s%03d.service", e.ID-1)] = true
		case manager.Exited:
			if _, ok := spawnedAt[e.Pid]; !ok {
				problems = append(problems, fmt.Sprintf("Exited %d before its Spawned", e.Pid))
			}
			exits++
		case manager.CgroupEmpty:
			if !unitSpawned[e.Unit] {
				problems = append(problems, "CgroupEmpty of "+e.Unit+" before its Spawned")
			}
			emptied[e.Unit] = true
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		if _, ok := ev.(manager.Exited); ok && exits == n {
			// The last cgroup.events may come a little later.
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Kind: "end"}, At: now + 500*time.Millisecond}}
		}
		return nil
	})
	var log syncBuffer
	r := newReactor(t, Config{Manager: m, Subreaper: true, CgroupRoot: root, Log: &log})
	runWithin(t, r, 60*time.Second)
	if !strings.Contains(log.String(), "cgroups: using cgroup v2") {
		t.Fatalf("cgroups not in use: %s", log.String())
	}
	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %s", len(problems), strings.Join(problems[:min(5, len(problems))], "; "))
	}
	if len(spawnedAt) != n || exits != n || len(emptied) != n {
		t.Fatalf("spawned %d, exited %d, emptied %d; want %d each", len(spawnedAt), exits, len(emptied), n)
	}
}

// A unit that goes inactive has its emptied cgroup removed on the spawner
// thread; starting it again at once either takes the group back (the
// rmdir had not run) or makes a new one (it had): 100 restarts in a row,
// each started the moment the last went inactive, all succeed in the
// unit's cgroup, and nothing is left after Run.
func TestRestartWhileCgroupIsRemoved(t *testing.T) {
	const n = 100
	root := fmt.Sprintf("gosd-spawner-rm-test-%d", os.Getpid())
	removeCgroupRootAfter(t, root)
	var problems []string
	starts := 0
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			starts++
			return []manager.Effect{spawn(uint64(starts), "again.service", "grep -q again.service /proc/self/cgroup")}
		case manager.Spawned:
			if e.Err != nil {
				problems = append(problems, fmt.Sprintf("start %d: %v", e.ID, e.Err))
			}
		case manager.Exited:
			if e.Status.Code != 0 {
				problems = append(problems, fmt.Sprintf("exit %d: not in its cgroup", e.Status.Code))
			}
			effs := []manager.Effect{manager.UnitChanged{Unit: "again.service", Active: "inactive"}}
			if starts == n {
				return append(effs, manager.Exit{})
			}
			starts++
			return append(effs, spawn(uint64(starts), "again.service", "grep -q again.service /proc/self/cgroup"))
		}
		return nil
	})
	var log syncBuffer
	r := newReactor(t, Config{Manager: m, Subreaper: true, CgroupRoot: root, Log: &log})
	runWithin(t, r, 60*time.Second)
	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %s\n%s", len(problems), strings.Join(problems[:min(5, len(problems))], "; "), log.String())
	}
	if starts != n {
		t.Fatalf("%d starts, want %d", starts, n)
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	_, rel, _ := strings.Cut(strings.TrimSpace(string(own)), "::")
	for _, base := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(base + rel + "/" + root); err == nil {
			t.Fatalf("%s%s/%s is left after Run", base, rel, root)
		}
	}
}

// The manager finishes a Type=simple start job in the step that asks for
// the fork; the job's end (console line, systemctl start's answer, the
// boot target) is announced only once the process exists: each of 50
// JobFinished effects, emitted beside its Spawn, is performed when that
// spawn is no longer in flight (exec.Start has returned).
func TestJobFinishedAfterItsSpawn(t *testing.T) {
	const n = 50
	var r *Reactor
	var early []string
	finished := 0
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch ev.(type) {
		case manager.Request:
			var effs []manager.Effect
			for i := range n {
				unit := fmt.Sprintf("s%02d.service", i)
				effs = append(effs, spawn(uint64(i+1), unit, "exec true"),
					manager.JobFinished{ID: uint64(i + 1), Unit: unit, Kind: manager.JobStart, Result: "done"})
			}
			return effs
		case manager.Shutdown:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	observe := func(e manager.Effect) {
		if jf, ok := e.(manager.JobFinished); ok {
			finished++
			if r.spawning[jf.Unit] > 0 {
				early = append(early, jf.Unit)
			}
			if finished == n {
				r.Feed(manager.Shutdown{})
			}
		}
	}
	r = newReactor(t, Config{Manager: m, Subreaper: true, Observe: observe, Log: &syncBuffer{}})
	runWithin(t, r, 30*time.Second)
	if len(early) > 0 || finished != n {
		t.Fatalf("%d of %d jobs announced while their spawn was in flight: %v", len(early), finished, early)
	}
}

// A service started on the spawner can notify before its Spawned is fed;
// the manager must hear READY=1 after the Spawned (it accepts it only from
// the main pid it knows): 100 services that notify at once.
func TestNotifyAfterItsSpawned(t *testing.T) {
	const n = 100
	sock := filepath.Join(t.TempDir(), "notify")
	spawned := map[int]bool{}
	var problems []string
	ready, exits, sent := 0, 0, 0
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			var effs []manager.Effect
			for i := range n {
				s := spawn(uint64(i+1), fmt.Sprintf("n%03d.service", i), "systemd-notify --ready")
				s.Notify = true
				effs = append(effs, s)
			}
			return effs
		case manager.Spawned:
			spawned[e.Pid] = true
		case manager.Notify:
			for _, f := range e.Fields {
				if f == [2]string{"READY", "1"} {
					ready++
					if !spawned[e.Pid] {
						problems = append(problems, fmt.Sprintf("READY=1 from %d (unit %q, me %d, %d spawned) before its Spawned", e.Pid, e.Unit, os.Getpid(), len(spawned)))
					}
				}
			}
		case manager.Exited:
			if !spawned[e.Pid] {
				break // a process of theirs the subreaper got
			}
			if e.Status.Exited && e.Status.Code == 0 {
				sent++ // systemd-notify sent it (it fails on a full socket queue)
			}
			if exits++; exits == n {
				// Datagrams read in the same turn as the last exit are
				// dispatched after it: let them in before ending.
				return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Kind: "end"}, At: now + 300*time.Millisecond}}
			}
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	runWithin(t, newReactor(t, Config{Manager: m, NotifySocket: sock, Subreaper: true, Log: &syncBuffer{}}), 60*time.Second)
	if len(problems) > 0 || ready != sent || sent < n/2 {
		t.Fatalf("%d READY=1 received, %d sent, of %d; %d problems: %v", ready, sent, n, len(problems), problems[:min(3, len(problems))])
	}
}

// A unit's emptied cgroup whose removal waits behind a slow spawn on the
// spawner thread is not watched meanwhile: the kernel signals its
// cgroup.events once more after the loop's last read (its notifications
// are rate-limited and come from a work queue), and a level-triggered
// epoll would report that file on every turn until the rmdir ran: a
// loop spinning on a core. Here a oneshot's group is queued for removal
// behind a spawn held for 400 ms; the process's CPU time over that
// window stays well under the window (a spin takes all of it).
func TestNoSpinWhileRemovalWaits(t *testing.T) {
	root := fmt.Sprintf("gosd-spawner-spin-test-%d", os.Getpid())
	removeCgroupRootAfter(t, root)
	release := holdSpawnsOf(t, "slow.service")
	var r *Reactor
	watched := make(chan bool, 1)
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(1, "once.service", "exec true")}
		case manager.Exited:
			if e.Status.Code != 0 || e.Status.Signal != 0 {
				t.Errorf("exit %+v", e.Status)
			}
			if r.spawning["slow.service"] == 0 && r.cgUnits["slow.service"] == nil && r.inFlight == 0 {
				// The slow spawn first, then the group's removal behind it.
				return []manager.Effect{spawn(2, "slow.service", "exec true"),
					manager.UnitChanged{Unit: "once.service", Active: "inactive"},
					manager.SetTimer{ID: manager.TimerID{Kind: "look"}, At: now + 50*time.Millisecond}}
			}
			return []manager.Effect{manager.Exit{}}
		case manager.TimerFired:
			c := r.cgUnits["once.service"]
			watched <- c != nil && c.removal != nil && r.sources[c.eventsFD] != nil
		}
		return nil
	})
	r = newReactor(t, Config{Manager: m, Subreaper: true, CgroupRoot: root, Log: &syncBuffer{}})
	done := make(chan int, 1)
	go func() { done <- r.Run() }()
	var stillWatched bool
	select {
	case stillWatched = <-watched:
	case <-time.After(30 * time.Second):
		close(release)
		t.Fatal("no look at the queued removal")
	}
	before := cpuTime()
	time.Sleep(400 * time.Millisecond)
	used := cpuTime() - before
	close(release)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("reactor did not exit")
	}
	if stillWatched {
		t.Errorf("the events file of a cgroup queued for removal is still watched")
	}
	if used > 200*time.Millisecond {
		t.Errorf("%v of CPU in 400 ms while the removal waited: the loop spins", used)
	}
}

// cpuTime is the process's user and system time so far.
// holdSpawnsOf makes the spawner wait, in unit's every start, until the
// returned channel is closed (or receives).
func holdSpawnsOf(t *testing.T, unit string) chan struct{} {
	release := make(chan struct{})
	startProcess = func(spec exec.Spec) (exec.Process, error) {
		if spec.Unit == unit {
			<-release
		}
		return exec.Start(spec)
	}
	t.Cleanup(func() { startProcess = exec.Start })
	return release
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// removeCgroupRootAfter removes the test's cgroup root, with whatever a
// failed or cut-short run left in it (a script that never stops its units
// leaves their groups), once the test is over.
func removeCgroupRootAfter(t *testing.T, root string) {
	t.Cleanup(func() {
		if h, err := cgroups.DetectAt(root); err == nil {
			if _, err := cgroups.RemoveTree(h.Root(), 5*time.Second); err != nil {
				t.Logf("removing the test's cgroups: %v", err)
			}
		}
	})
}

// The spawner's thread sleeps on a wake-up fd of its own; the fd is gone
// once Run returns, whether the thread ever ran a spawn or not (a test, and
// a re-executing gosd, make many reactors).
func TestSpawnerWakeClosedAfterRun(t *testing.T) {
	for _, spawns := range []bool{false, true} {
		m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
			switch ev.(type) {
			case manager.Request:
				if spawns {
					return []manager.Effect{spawn(1, "w.service", "exec true")}
				}
				return []manager.Effect{manager.Exit{}}
			case manager.Exited:
				return []manager.Effect{manager.Exit{}}
			}
			return nil
		})
		r := newReactor(t, Config{Manager: m, Subreaper: true, CgroupRoot: "-"})
		fd := r.spawner.wake.fd
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			t.Fatalf("spawns=%v: wake-up fd %d not open before Run: %v", spawns, fd, err)
		}
		runWithin(t, r, 20*time.Second)
		// The thread closes it as it ends, just after Run returns.
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if err == unix.EBADF {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("spawns=%v: wake-up fd %d still open after Run", spawns, fd)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// A removal whose rmdir is refused (a process came into the emptied
// group before the spawner got to it) keeps the group and watches it
// again: the spawner closed the group's fds before its rmdir, so the loop
// opens them anew. Here a process is moved into a oneshot's group while
// its removal waits behind a held spawn; the group's emptiness when that
// process exits is still seen (CgroupEmpty), which only its events file
// can tell.
func TestRemovalRefusedWatchesAgain(t *testing.T) {
	root := fmt.Sprintf("gosd-spawner-busy-test-%d", os.Getpid())
	removeCgroupRootAfter(t, root)
	release := holdSpawnsOf(t, "slow.service")
	var r *Reactor
	intruder, emptied := 0, false
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(1, "once.service", "exec true")}
		case manager.Exited:
			if intruder == 0 && r.cgUnits["slow.service"] == nil && r.inFlight == 0 {
				return []manager.Effect{spawn(2, "slow.service", "exec true"),
					manager.UnitChanged{Unit: "once.service", Active: "inactive"},
					manager.SetTimer{ID: manager.TimerID{Kind: "intrude"}, At: now + 50*time.Millisecond}}
			}
		case manager.TimerFired:
			if e.ID.Kind == "end" {
				return []manager.Effect{manager.Exit{}}
			}
			c := r.cgUnits["once.service"]
			if c == nil || c.removal == nil {
				t.Error("once.service's group is not queued for removal")
				close(release)
				return []manager.Effect{manager.Exit{}}
			}
			pid, err := syscall.ForkExec("/bin/sleep", []string{"sleep", "0.5"}, &syscall.ProcAttr{})
			if err != nil {
				t.Fatal(err)
			}
			intruder = pid
			if err := os.WriteFile(c.g.Path()+"/cgroup.procs", []byte(strconv.Itoa(pid)), 0); err != nil {
				t.Error(err)
			}
			close(release) // the spawn, then the rmdir, which fails
		case manager.CgroupEmpty:
			if e.Unit == "once.service" && intruder != 0 && !emptied {
				emptied = true
				// A moment for the loop to reap the intruder: no zombie
				// is left to the next test.
				return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Kind: "end"}, At: now + 300*time.Millisecond}}
			}
		}
		return nil
	})
	var log syncBuffer
	r = newReactor(t, Config{Manager: m, Subreaper: true, CgroupRoot: root, Log: &log})
	runWithin(t, r, 30*time.Second)
	if !emptied {
		t.Fatalf("no CgroupEmpty after the intruder left\n%s", log.String())
	}
}
