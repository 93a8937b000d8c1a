package reactor

import "time"

// poller is the one small interface over epoll and kqueue. Interest is
// always "readable", level-triggered: a fd that still has data is reported
// again on the next turn, so one bounded read per turn loses nothing.
type poller interface {
	// add and del start and stop watching fd for readability (hang-up and
	// error count as readable).
	add(fd int) error
	del(fd int) error
	// addPri watches fd for EPOLLPRI (cgroup.events, memory.events);
	// Linux only, an error elsewhere. del removes it.
	addPri(fd int) error
	// watchProcess asks for a wake-up when pid exits, where the platform
	// needs it (kqueue EVFILT_PROC); on Linux the pidfd is added instead.
	watchProcess(pid int)
	// wait blocks until something is ready or timeout passes (timeout < 0:
	// forever) and appends the ready fds to ready.
	wait(timeout time.Duration, ready []int) (r []int, woken, childExited bool, err error)
	// wake makes a wait in progress (or the next one) return; safe from any
	// goroutine.
	wake()
	close()
}
