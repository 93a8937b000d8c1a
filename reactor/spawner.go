package reactor

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"gosd/exec"
	"gosd/manager"
)

// Spawns run off the loop. exec.Start forks and waits until the child has
// exec'd (or failed to); with a helper, a sandbox or a slow disk that is
// milliseconds in which the loop could not read a notify datagram, reap a
// child or start the next unit. The loop prepares everything a spawn needs
// from its own state (cgroup, log pipes, fds), hands the start to the
// spawner thread and goes on; the spawner's result comes back through the
// wake-up and is fed to the manager as Spawned, which it has always been:
// an event. The manager stays the one owner of state and never learns the
// difference.
//
// What the loop must hold back while a spawn is in flight, because its
// pid is not known yet: the exit of a child it reaps before the Spawned
// (an Exited the manager would not recognise), and a CgroupEmpty of the
// unit (the cgroup may be empty for the instant before the fork). Both are
// fed right after the Spawned.

// spawnJob is one Spawn effect on its way through the spawner.
type spawnJob struct {
	remove        *unitCgroup // not a spawn: this emptied cgroup's rmdir (removeCgroup)
	seq           uint64      // of a spawn, in the order handed off
	mkCgroup      *cgroupMake // the unit's cgroup, made here before the spawn
	removal       *cgroupRemoval
	s             manager.Spawn
	spec          exec.Spec
	owned         []int // the job's copies of the fds the child gets, closed when done
	readFD, errFD int   // read ends of the log pipes (-1: none), watched once started
	errRoute      logRoute
	p             exec.Process
	err           error
	panicked      any
	stack         []byte
	direct        bool // exec.Direct: may be forked on the fork thread
	prepared      bool // prepare ran
	forked        bool // forked on the fork thread: its pidfd is not the loop's
	bigTable      bool // gosd has forkThreadFDs fds or more open
}

// forkThreadFDs is how many open fds make a plain spawn worth the hand-off
// to the fork thread (15-50 us for a lone spawn, one more thread wake-up):
// the child then no longer copies and closes them all (about 90 ns each,
// 23 us at 256). Below, a lone spawn (a chain's, a socket's service) is
// forked by the spawner itself, as before; a backlog keeps going to the
// fork thread once it has started there.
const forkThreadFDs = 256

// spawner is one locked OS thread that starts processes in order. One is
// enough: the fork is serialised in the kernel and Go's runtime
// (ForkLock) anyway; what it takes off the loop is the wait for the
// child's exec. Locked, because a child's parent-death signal is tied to
// the thread that forked it, and this thread never exits.
type spawner struct {
	mu      sync.Mutex
	jobs    []*spawnJob
	wake    spawnWake // signalled: jobs are queued, or stop
	stopped bool      // stop: the loop ended
	once    sync.Once
	done    chan *spawnJob // results, for the loop (wake-up follows each)
	// fork starts the plain spawns with a small fd table
	// (forkthread_linux.go); nil: the spawner forks them itself.
	fork *forkThread
}

// wakeEvery is how many spawns of a backlog the loop hears about at once.
const wakeEvery = 16

func newSpawner() (*spawner, error) {
	w, err := newSpawnWake()
	if err != nil {
		return nil, err
	}
	return &spawner{wake: w, done: make(chan *spawnJob, 1024)}, nil
}

// start starts the spawner's thread, if it is not running yet. Run does
// it before its first turn, so that the first spawn (a socket's service,
// say) does not wait for the thread to be made.
func (sp *spawner) start(r *Reactor) {
	sp.once.Do(func() { go sp.run(r) })
}

// submit queues j and never waits.
func (sp *spawner) submit(r *Reactor, j *spawnJob) {
	sp.submitAll(r, []*spawnJob{j})
}

// submitAll queues jobs, in order, with one wake-up.
func (sp *spawner) submitAll(r *Reactor, jobs []*spawnJob) {
	sp.start(r)
	sp.mu.Lock()
	if sp.stopped {
		sp.mu.Unlock()
		panic("reactor: spawn after the loop ended")
	}
	sp.jobs = append(sp.jobs, jobs...)
	sp.mu.Unlock()
	sp.wake.signal()
}

// stop ends the spawner's thread once Run is over (finishSpawns took
// every result): a test makes many reactors.
func (sp *spawner) stop() {
	started := true
	sp.once.Do(func() { started = false }) // never started: nothing to end
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.stopped {
		return
	}
	sp.stopped = true
	if started {
		sp.wake.signal() // run closes it when it ends
	} else {
		sp.wake.close()
	}
}

func (sp *spawner) run(r *Reactor) {
	runtime.LockOSThread() // never unlocked: see spawner
	// Here, not on the loop: its start (a thread, its fd table
	// emptied) is off the loop's way to its first turn. At the start,
	// not with the first spawn that needs it: its two eventfds are then
	// part of gosd's idle fd count (the soak test holds gosd to it).
	sp.fork = startForkThread(r, sp)
	defer sp.wake.close()
	if sp.fork != nil {
		defer sp.fork.stop() // after the last job handed to it
	}
	for {
		sp.wake.wait()
		for {
			sp.mu.Lock()
			jobs := sp.jobs
			sp.jobs = nil
			sp.mu.Unlock()
			if len(jobs) == 0 {
				break
			}
			for i, j := range jobs {
				if sp.fork != nil && j.direct && j.remove == nil && (j.bigTable || sp.fork.busy()) && j.prepare() {
					// Its cgroup is made: the fork thread starts it and
					// reports it (and wakes the loop) in order.
					sp.fork.submit(j)
					continue
				}
				if sp.fork != nil {
					// What was handed to the fork thread comes first.
					sp.fork.drain()
				}
				j.start()
				sp.done <- j
				// A backlog (a boot's first batch) is reported every
				// wakeEvery spawns and at its end, not after each: a
				// wake-up is a loop turn with its flushes, and one per
				// spawn cost gosd half again its CPU to the target at
				// 1000 units. A lone spawn (a chain, a socket's
				// service) is reported at once.
				if i == len(jobs)-1 || (i+1)%wakeEvery == 0 {
					r.poll.wake()
				}
			}
		}
		sp.mu.Lock()
		stopped := sp.stopped
		sp.mu.Unlock()
		if stopped {
			return
		}
	}
}

// prepare makes the job's cgroup when it needs one, on the spawner
// thread; false: it could not (or panicked), and the job is done.
func (j *spawnJob) prepare() (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			j.panicked, j.stack, ok = v, debug.Stack(), false
		}
	}()
	if j.prepared {
		return j.panicked == nil && (j.mkCgroup == nil || j.mkCgroup.err == nil)
	}
	j.prepared = true
	if mk := j.mkCgroup; mk != nil {
		if mk.make(); mk.err != nil {
			return false
		}
		j.spec.CgroupFD = mk.c.dirFD // the cgroup's own fd: not the job's to close
	}
	return true
}

// start runs on the spawner thread; a panic becomes the job's failure.
func (j *spawnJob) start() {
	defer func() {
		if v := recover(); v != nil {
			j.panicked, j.stack = v, debug.Stack()
		}
	}()
	if c := j.remove; c != nil {
		rm := j.removal // not c.removal: the loop's to change
		rm.mu.Lock()
		defer rm.mu.Unlock()
		if !rm.cancelled {
			for _, fd := range []int{rm.dirFD, rm.eventsFD, rm.memFD} {
				if fd >= 0 {
					syscall.Close(fd)
				}
			}
			rm.dirFD, rm.eventsFD, rm.memFD = -1, -1, -1
			rm.err, rm.done = c.g.Remove(), true
		}
		return
	}
	if !j.prepare() {
		return
	}
	j.p, j.err = startProcess(j.spec)
}

// cancelRemoval takes back a cgroup whose rmdir is queued (a spawn wants
// it again); false: too late, the rmdir ran and the group is gone. The
// loop waits here for one rmdir at most.
func (r *Reactor) cancelRemoval(c *unitCgroup) bool {
	rm := c.removal
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.done && rm.err == nil {
		return false
	}
	if !rm.done {
		// Not run: its fds come back untouched.
		c.dirFD, c.eventsFD, c.memFD = rm.dirFD, rm.eventsFD, rm.memFD
		rm.dirFD, rm.eventsFD, rm.memFD = -1, -1, -1
	} else if !r.reopenCgroupFDs(c) {
		return false // the caller makes it anew
	}
	rm.cancelled = true
	c.removal = nil // removed() will find it taken back
	r.watchCgroup(c)
	return true
}

// removed is the end of removeCgroup on the loop.
func (r *Reactor) removed(c *unitCgroup, rm *cgroupRemoval) {
	r.removals--
	if c.removal != rm || r.cgUnits[c.unit] != c {
		return // taken back, or replaced by cgroupFor (which closed it)
	}
	c.removal = nil
	if rm.err != nil {
		// A process came back meanwhile: keep the group, watch it again
		// (a change since the last read shows at once).
		if r.reopenCgroupFDs(c) {
			r.watchCgroup(c)
		}
		return
	}
	r.closeCgroup(c)
}

// handOff gives the start of a prepared spawn to the spawner. The job
// gets its own copies of the fds the child is to have, so the loop may
// close its own (the Spawn's connection, the pipes' write ends, a socket
// unit's fds, the cgroup's) whenever it likes. false: the copies could not
// be made; the manager has its failed Spawned.
func (r *Reactor) handOff(j *spawnJob) bool {
	dup := func(fd int) (int, error) {
		if fd < 0 {
			return fd, nil
		}
		n, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
		if err == nil {
			j.owned = append(j.owned, n)
		}
		return n, err
	}
	var err error
	spec := &j.spec
	spec.ListenFDs = append([]int(nil), spec.ListenFDs...)
	for i := range spec.ListenFDs {
		if err == nil {
			spec.ListenFDs[i], err = dup(spec.ListenFDs[i])
		}
	}
	if err == nil && spec.Conn >= 0 {
		spec.Conn, err = dup(spec.Conn)
	}
	if err == nil {
		same := spec.Stderr == spec.Stdout
		if spec.Stdout, err = dup(spec.Stdout); err == nil {
			if same {
				spec.Stderr = spec.Stdout
			} else {
				spec.Stderr, err = dup(spec.Stderr)
			}
		}
	}
	if err == nil && spec.CgroupFD > 0 {
		spec.CgroupFD, err = dup(spec.CgroupFD)
	}
	if err != nil {
		closeFDs(j.owned)
		r.Feed(manager.Spawned{ID: j.s.ID, Err: fmt.Errorf("passing fds to the child: %w", err)})
		return false
	}
	if r.spawning == nil {
		r.spawning = map[string]int{}
	}
	j.direct = exec.Direct(j.spec)
	for _, fd := range j.owned {
		// A dup takes the lowest free number: at least that many fds
		// are open.
		j.bigTable = j.bigTable || fd >= forkThreadFDs
	}
	r.spawning[j.s.Unit]++
	if c := r.cgUnits[j.s.Unit]; c != nil {
		c.emptyTurn = 0 // to be populated: read it again (populated)
	}
	r.inFlight++
	r.spawnSeq++
	j.seq = r.spawnSeq
	r.spawner.submit(r, j)
	return true
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

// drainSpawns takes the spawner's results without waiting.
func (r *Reactor) drainSpawns() {
	for r.inFlight+r.removals > 0 {
		select {
		case j := <-r.spawner.done:
			r.jobDone(j)
		default:
			return
		}
	}
}

// finishSpawns waits for every spawn and removal in flight (before gosd
// exits or re-executes: each process must be known, each fd closed).
func (r *Reactor) finishSpawns() {
	for r.inFlight+r.removals > 0 {
		r.jobDone(<-r.spawner.done)
	}
}

func (r *Reactor) jobDone(j *spawnJob) {
	if j.remove != nil {
		r.guard(j.remove.unit, "removing the cgroup", func() { r.removed(j.remove, j.removal) })
		return
	}
	r.spawnDone(j)
}

// spawnDone is the rest of a Spawn effect, on the loop: the process is
// registered and watched, the manager hears Spawned, then what was held
// back for it.
func (r *Reactor) spawnDone(j *spawnJob) {
	s := j.s
	r.inFlight--
	r.spawnsDone = j.seq
	defer r.releaseDeferred() // after the Spawned below
	if r.spawning[s.Unit]--; r.spawning[s.Unit] <= 0 {
		delete(r.spawning, s.Unit)
	}
	closeFDs(j.owned)
	started := false
	defer func() {
		if !started {
			closeFDs([]int{j.readFD, j.errFD})
		}
		r.releaseHeld(s.Unit)
	}()
	if mk := j.mkCgroup; mk != nil && mk.c != nil {
		r.madeCgroup(mk)
	} else if mk != nil && mk.err != nil {
		r.logAt(s.Unit, s.Cmd.Pos, manager.LevelError, "cannot create the unit's cgroup: "+mk.err.Error())
		r.Feed(manager.Spawned{ID: s.ID, Err: fmt.Errorf("cgroup: %w", mk.err)})
		return
	}
	if j.panicked != nil {
		r.logf(s.Unit, "panic in effect %T: %v\n%s", s, j.panicked, j.stack)
		r.Feed(manager.Spawned{ID: s.ID, Err: errors.New("internal error while spawning (see log)")})
		return
	}
	p, err := j.p, j.err
	if err != nil {
		sp := manager.Spawned{ID: s.ID, Err: err}
		// The manager logs the failure (or, for a missing program behind
		// "-", systemd's "missing, skipping"), with the command's line.
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			sp.Status, sp.Missing = ee.Status, ee.Missing()
		}
		r.Feed(sp)
		return
	}
	started = true
	if c := r.cgUnits[s.Unit]; c != nil {
		// An empty read between the hand-off and the fork is stale now
		// that the process runs: releaseHeld must read the group again.
		c.emptyTurn = 0
	}
	// What came from this pid before its Spawned (held, in order).
	var held []manager.Event
	early := false
	kept := r.early[:0]
	for _, ev := range r.early {
		if heldPid(ev) != p.Pid {
			kept = append(kept, ev)
			continue
		}
		held = append(held, ev)
		if _, ok := ev.(manager.Exited); ok {
			early = true
		}
	}
	r.early = kept
	if early {
		// Reaped already: nothing to watch.
		if p.PidFD >= 0 {
			syscall.Close(p.PidFD)
		}
	} else {
		if j.forked && p.PidFD < 0 {
			// The fork thread's pidfd was its own (forkthread_linux.go).
			p.PidFD = ownPidFD(p.Pid)
		}
		pr := &proc{unit: s.Unit, pidfd: p.PidFD}
		r.procs[p.Pid] = pr
		if registerPidFD(r.poll, p.PidFD, p.Pid) {
			r.sources[p.PidFD] = &procSource{pid: p.Pid}
		} else if p.PidFD >= 0 {
			syscall.Close(p.PidFD)
			pr.pidfd = -1
		}
	}
	if r.groups[s.Unit] == nil {
		r.groups[s.Unit] = map[int]bool{}
	}
	if p.Pgid != syscall.Getpgrp() {
		// A process kept in gosd's own group (mount(8)) does not make
		// that group the unit's.
		r.groups[s.Unit][p.Pgid] = true
	}
	ident := syslogIdentifier(s.Cmd.Path, s.Exec)
	for _, w := range []struct {
		fd    int
		route logRoute
	}{{j.readFD, logRouteOf(s.Exec)}, {j.errFD, j.errRoute}} {
		if w.fd < 0 {
			continue
		}
		w.route.Ident, w.route.Uid, w.route.Gid = ident, p.Uid, p.Gid
		if err := r.addSource(w.fd, &outputPipe{unit: s.Unit, pid: p.Pid, fd: w.fd, route: w.route}); err != nil {
			r.logf(s.Unit, "cannot watch output: %v", err)
			syscall.Close(w.fd)
		}
	}
	r.Feed(manager.Spawned{ID: s.ID, Pid: p.Pid})
	for _, ev := range held {
		r.Feed(ev)
	}
	if early {
		r.checkEmpty(s.Unit)
	}
}

// heldPid is the pid an event held by holdExit or holdNotify is about.
func heldPid(ev manager.Event) int {
	switch e := ev.(type) {
	case manager.Exited:
		return e.Pid
	case manager.Notify:
		return e.Pid
	}
	return 0
}

// A job's end (JobFinished: "Started X", "Reached target", the answer
// to systemctl start) is announced once every spawn handed off before it
// has started: the manager counts a Type=simple service as started when
// it asks for the fork (systemd.service(5): "as soon as the process is
// forked", which in systemd is done by then), and neither the console
// nor a waiting client may hear it before the process exists.
type pendingEffect struct {
	e   manager.Effect
	seq uint64 // the last spawn handed off before it
}

// afterSpawns defers e when it is a JobFinished and a spawn is in flight
// (or an earlier one waits: they keep their order). true: deferred.
func (r *Reactor) afterSpawns(e manager.Effect) bool {
	if _, ok := e.(manager.JobFinished); !ok || (r.inFlight == 0 && len(r.deferred) == 0) {
		return false
	}
	r.deferred = append(r.deferred, pendingEffect{e: e, seq: r.spawnSeq})
	return true
}

// releaseDeferred performs the deferred effects whose spawns are done
// (the spawner finishes them in order).
func (r *Reactor) releaseDeferred() {
	for len(r.deferred) > 0 && (r.deferred[0].seq <= r.spawnsDone || r.inFlight == 0) {
		e := r.deferred[0].e
		r.deferred = r.deferred[1:]
		r.performNow(e)
	}
	if len(r.deferred) == 0 {
		r.deferred = nil
	}
}

// holdExit keeps the exit of a child the loop does not know while spawns
// are in flight: it may be one of theirs. true: held.
func (r *Reactor) holdExit(ev manager.Exited) bool {
	if r.inFlight == 0 {
		return false
	}
	r.early = append(r.early, ev)
	return true
}

// holdNotify keeps a notification (READY=1 ...) from a pid the loop does
// not know while spawns are in flight: a service started on the spawner
// can exec and notify before its Spawned is fed, and the manager would
// refuse it as from a stranger (NotifyAccess=main). true: held.
func (r *Reactor) holdNotify(ev manager.Notify) bool {
	if r.inFlight == 0 || r.procs[ev.Pid] != nil {
		return false
	}
	r.early = append(r.early, ev)
	return true
}

// feedEmpty feeds CgroupEmpty, or holds it while the unit has a spawn in
// flight: the Spawned must come first (spawnDone feeds it at once, so an
// emptiness seen after that is in order).
func (r *Reactor) feedEmpty(unit string) {
	if r.spawning[unit] == 0 {
		r.Feed(manager.CgroupEmpty{Unit: unit})
		return
	}
	if r.heldEmpty == nil {
		r.heldEmpty = map[string]bool{}
	}
	r.heldEmpty[unit] = true
}

// releaseHeld feeds what was held back once nothing is in flight for it:
// the unit's emptiness (read again), and with no spawn in flight at all
// the exits of children that were no spawn's (adopted orphans).
func (r *Reactor) releaseHeld(unit string) {
	if r.heldEmpty[unit] && r.spawning[unit] == 0 {
		delete(r.heldEmpty, unit)
		r.checkEmpty(unit)
	}
	if r.inFlight == 0 && len(r.early) > 0 {
		for _, ev := range r.early { // in the order they came
			r.Feed(ev)
		}
		r.early = nil
	}
}
