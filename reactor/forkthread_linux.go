package reactor

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"gosd/exec"
)

// The fork thread starts the spawner's plain processes (exec.Direct) from
// a locked OS thread with an fd table of its own. A child is forked with a
// copy of its parent thread's fd table, and its exec closes every entry:
// gosd keeps four fds per running unit (log pipe, pidfd, the cgroup's
// directory and cgroup.events), so at 1000 units each spawn copied and
// closed about 4000 of them — about 90 ns each (measured with pipes,
// pidfds, O_PATH and cgroup.events fds alike), 30 us of the spawner's
// clone3 and 0.2-0.3 ms of each child's CPU before its program ran. This
// thread's table holds only what it needs: stdio, the Go runtime's poller
// fds, a pidfd of gosd itself, and per spawn a copy of the fds the child
// is to get (pidfd_getfd from gosd's table), closed once the child runs.
//
// The spawner keeps everything else (cgroup creation, removals, the
// helper and sandbox paths, which use other threads); it hands plain
// spawns here in order and waits for this thread to finish them before
// it does anything else itself, so spawns and removals keep their order.
// The child's pidfd is in this thread's table: it is closed here, and the
// loop opens its own (spawnDone).
type forkThread struct {
	mu      sync.Mutex
	queue   []*spawnJob
	pending int  // handed over and not reported yet
	waiting bool // the spawner sleeps on idle until pending is 0
	stopped bool
	// wake wakes this thread (jobs, or stop) and idle the spawner, each
	// sleeping in read(2) on an eventfd of its own: a channel receive on
	// a locked goroutine takes the Go scheduler two thread wake-ups
	// (spawnwake_linux.go), and a chain's every spawn would pay them.
	// Both are in gosd's table and, copied, in this thread's.
	wake, idle spawnWake
	self       int // pidfd of gosd, in this thread's table
	forked     atomic.Int64
}

// startForkThread starts the thread, on the spawner's; nil when it cannot
// have a table of its own here (pidfd_getfd is Linux 5.6), and the
// spawner forks itself. The loop logs why.
func startForkThread(r *Reactor, sp *spawner) *forkThread {
	if os.Getenv(noForkThreadEnv) != "" {
		return nil
	}
	// exec keeps /dev/null open for every child's stdin: opened here,
	// in gosd's table, the thread's copy has them at the same numbers.
	if err := exec.OpenNullFDs(); err != nil {
		r.Submit(func() { r.logf("", "spawning from the spawner's thread: %v", err) })
		return nil
	}
	ft := &forkThread{}
	var err error
	if ft.wake, err = newSpawnWake(); err == nil {
		if ft.idle, err = newSpawnWake(); err != nil {
			ft.wake.close()
		}
	}
	if err != nil {
		r.Submit(func() { r.logf("", "spawning from the spawner's thread: eventfd: %v", err) })
		return nil
	}
	ready := make(chan error, 1)
	go ft.run(r, sp, ready, nil)
	if err := <-ready; err != nil {
		ft.wake.close()
		ft.idle.close()
		r.Submit(func() { r.logf("", "spawning from the spawner's thread: %v", err) })
		return nil
	}
	return ft
}

// noForkThreadEnv, when set, keeps every spawn on the spawner thread (A/B
// measurements, diagnosis).
const noForkThreadEnv = "GOSD_NO_FORK_THREAD"

func (ft *forkThread) run(r *Reactor, sp *spawner, ready chan<- error, locked chan<- struct{}) {
	runtime.LockOSThread() // never unlocked: the thread ends with its table
	if unix.Gettid() == unix.Getpid() {
		// The main thread: its table is the process's (what /proc/PID
		// and pidfd_getfd see), and it cannot end. Another thread takes
		// the job; this one is given back once that one is locked, so
		// it cannot be the one that takes it.
		got := make(chan struct{})
		go ft.run(r, sp, ready, got)
		<-got
		runtime.UnlockOSThread()
		return
	}
	if locked != nil {
		close(locked)
	}
	if err := ft.setup(); err != nil {
		ready <- err
		return // the locked thread ends, and its table with it
	}
	ready <- nil
	n := 0
	for {
		ft.wake.wait()
		for {
			ft.mu.Lock()
			jobs, stopped := ft.queue, ft.stopped
			ft.queue = nil
			ft.mu.Unlock()
			if len(jobs) == 0 {
				if stopped {
					syscall.Close(ft.self)
					ft.idle.signal() // stop waits for this
					return
				}
				break
			}
			for i, j := range jobs {
				j.forkHere(ft.self)
				ft.forked.Add(1)
				sp.done <- j
				// As the spawner does: a backlog is reported every
				// wakeEvery spawns and at its end.
				if n++; i == len(jobs)-1 || n%wakeEvery == 0 {
					r.poll.wake()
				}
				ft.mu.Lock()
				ft.pending--
				signal := ft.pending == 0 && ft.waiting
				if signal {
					ft.waiting = false
				}
				ft.mu.Unlock()
				if signal {
					ft.idle.signal()
				}
			}
		}
	}
}

// setup gives this thread its own fd table and empties it of what it
// does not need.
func (ft *forkThread) setup() (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	// The Go runtime's poller must exist before the table is copied: a
	// garbage collection this thread happens to run polls it, by fd.
	rp, wp, err := os.Pipe()
	if err != nil {
		return err
	}
	rp.Close()
	wp.Close()
	if err := unix.Unshare(unix.CLONE_FILES); err != nil {
		return fmt.Errorf("unshare(CLONE_FILES): %w", err)
	}
	// From here this thread's fds are its own. Keep stdio, the
	// runtime's (an epoll and an eventfd; the loop's own of those kinds
	// are kept too, harmlessly) and exec's /dev/null; drop the rest, so
	// that a socket or file gosd closes later is not held open here.
	ents, err := os.ReadDir("/proc/thread-self/fd")
	if err != nil {
		return err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		switch link, _ := os.Readlink("/proc/thread-self/fd/" + e.Name()); link {
		case "anon_inode:[eventpoll]", "anon_inode:[eventfd]", "/dev/null":
			continue // the runtime's poller, exec's shared /dev/null
		}
		syscall.Close(fd)
	}
	if ft.self, err = unix.PidfdOpen(os.Getpid(), 0); err != nil {
		return fmt.Errorf("pidfd_open: %w", err)
	}
	// pidfd_getfd works (Linux 5.6) and may take gosd's fds: tried on
	// an fd gosd surely has (its stdin may be closed when not PID1).
	fd, err := unix.PidfdGetfd(ft.self, ft.wake.fd, 0)
	if err != nil {
		syscall.Close(ft.self)
		return fmt.Errorf("pidfd_getfd: %w", err)
	}
	syscall.Close(fd)
	return nil
}

// forkHere starts j's process on the fork thread: the fds the child gets
// are copied into this thread's table for the fork and closed after it.
func (j *spawnJob) forkHere(self int) {
	var local []int
	defer func() {
		closeFDs(local)
		if v := recover(); v != nil {
			j.panicked, j.stack = v, debug.Stack()
		}
	}()
	spec := j.spec
	copied := map[int]int{}
	get := func(fd *int) error {
		if *fd < 0 {
			return nil
		}
		if n, ok := copied[*fd]; ok {
			*fd = n
			return nil
		}
		n, err := unix.PidfdGetfd(self, *fd, 0)
		if err != nil {
			return fmt.Errorf("passing fd %d to the child: %w", *fd, err)
		}
		local = append(local, n)
		copied[*fd] = n
		*fd = n
		return nil
	}
	j.forked = true
	if err := errors.Join(get(&spec.Stdout), get(&spec.Stderr)); err != nil {
		j.err = err
		return
	}
	if spec.CgroupFD > 0 {
		if err := get(&spec.CgroupFD); err != nil {
			j.err = err
			return
		}
	}
	j.p, j.err = startProcess(spec)
	if j.err == nil && j.p.PidFD >= 0 {
		// This thread's; the loop opens its own.
		syscall.Close(j.p.PidFD)
		j.p.PidFD = -1
	}
}

// submit hands j to the fork thread (the spawner's thread only).
func (ft *forkThread) submit(j *spawnJob) {
	ft.mu.Lock()
	ft.queue = append(ft.queue, j)
	ft.pending++
	ft.mu.Unlock()
	ft.wake.signal()
}

// busy says the fork thread has jobs not reported yet.
func (ft *forkThread) busy() bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.pending > 0
}

// drain waits until the fork thread has reported every job handed to it
// (the spawner's thread only).
func (ft *forkThread) drain() {
	ft.mu.Lock()
	if ft.pending == 0 {
		ft.mu.Unlock()
		return
	}
	ft.waiting = true
	ft.mu.Unlock()
	ft.idle.wait()
}

// stop ends the thread once every job is done and closes gosd's copies
// of its eventfds (the spawner's thread only, after its last job).
func (ft *forkThread) stop() {
	ft.drain()
	ft.mu.Lock()
	ft.stopped = true
	ft.mu.Unlock()
	ft.wake.signal()
	ft.idle.wait() // the thread has left its loop
	ft.wake.close()
	ft.idle.close()
}

// ownPidFD opens the loop's pidfd of a process the fork thread started;
// -1 when it cannot.
func ownPidFD(pid int) int { return openPidFD(pid) }
