package boot

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// Bounds of the final kill: the manager has already stopped every unit with
// its own timeouts, so whatever is left here is a straggler.
const (
	termGrace = 5 * time.Second // after SIGTERM, before SIGKILL
	killGrace = 2 * time.Second // after SIGKILL, before giving up on reaping
	syncLimit = 10 * time.Second
)

// FinalShutdown ends gosd once the manager has stopped every unit and the
// reactor, the one reaper, has stopped: so from here on this may reap.
//
// As PID1 it sends SIGTERM (and SIGCONT, so stopped processes see it) to
// every process left, reaps for up to termGrace, sends SIGKILL, reaps for up
// to killGrace, syncs, and then, as systemd-shutdown, remounts read-only
// and unmounts every file system in reverse mount order and turns every
// swap off, in passes while they make progress, detaching lazily only in
// a last pass (unmountAll; / ends read-only), and calls reboot(2) with
// the action. In a container (InContainer) and when
// gosd is not PID1 at all it exits with status instead: reboot(2) would not
// reach a machine, and the caller's status (0 after an orderly shutdown) is
// what the runtime reports. Outside PID1 nothing is killed: kill(-1) would
// reach every process of the user. For the init of a machine, Exit means
// PowerOff: an init that exits panics the kernel.
//
// Every wait is bounded, and a syscall that may block forever (sync on a
// dead NFS server, umount) runs on its own goroutine with a deadline.
// FinalShutdown never returns.
func FinalShutdown(action Action, status int, log Logf) {
	defer func() {
		// Never panic out of PID1: the kernel would panic with us.
		if r := recover(); r != nil {
			log.printf("boot: final shutdown: %v", r)
			if os.Getpid() == 1 && !InContainer() {
				rebootSyscall(action)
			}
			os.Exit(status)
		}
	}()
	pid1 := os.Getpid() == 1
	container := InContainer()
	if pid1 {
		killAll(log)
	}
	log.printf("boot: syncing")
	if !bounded(syncLimit, func() { syscall.Sync() }) {
		log.printf("boot: sync still running after %v, going on", syncLimit)
	}
	if action == "kexec" {
		// gosd loads no kexec kernel; systemd then reboots too.
		action = Reboot
	}
	if pid1 && !container && action == Exit {
		// The init of a machine cannot just exit: the kernel would panic.
		action = PowerOff
	}
	if !pid1 || container {
		log.printf("boot: exit %d", status)
		os.Exit(status)
	}
	unmountAll("/", log)
	bounded(syncLimit, func() { syscall.Sync() })
	log.printf("boot: %s", action)
	// reboot(2) does not wait for what services and gosd wrote to the
	// console to leave the UART: the last lines (a serial console is all a
	// microVM's user sees) would be lost. Wait, bounded, for it to drain.
	bounded(time.Second, drainConsole)
	err := rebootSyscall(action)
	log.printf("boot: %s: %v", action, err)
	// reboot(2) returned, so it failed; halting is the least surprising
	// state left. If even that fails, exiting panics the kernel, which
	// with panic=N on the command line reboots.
	if action != Halt {
		err = rebootSyscall(Halt)
		log.printf("boot: halt: %v", err)
	}
	os.Exit(status)
}

// killAll is the last kill: every process but us.
func killAll(log Logf) {
	for _, step := range []struct {
		sig   syscall.Signal
		name  string
		grace time.Duration
	}{{syscall.SIGTERM, "SIGTERM", termGrace}, {syscall.SIGKILL, "SIGKILL", killGrace}} {
		err := syscall.Kill(-1, step.sig)
		if errors.Is(err, syscall.ESRCH) {
			// Nobody is left to signal; reap what is already dead.
			reapUntil(time.Now())
			log.printf("boot: no processes left")
			return
		}
		if err != nil {
			log.printf("boot: kill(-1, %s): %v", step.name, err)
		}
		if step.sig == syscall.SIGTERM {
			syscall.Kill(-1, syscall.SIGCONT)
		}
		n, all := reapUntil(time.Now().Add(step.grace))
		log.printf("boot: %s to every process, reaped %d", step.name, n)
		if all {
			return
		}
	}
	log.printf("boot: processes left after SIGKILL (uninterruptible sleep?), going on")
}

// reapUntil reaps children until there are none (true) or the deadline.
// It polls every 10 ms: at this point nothing else runs, the reactor's
// SIGCHLD wake-up is gone, and a short poll is simpler than a new one.
func reapUntil(deadline time.Time) (n int, all bool) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		switch {
		case pid > 0:
			n++
			continue
		case errors.Is(err, syscall.ECHILD):
			return n, true
		case errors.Is(err, syscall.EINTR):
			continue
		}
		if !time.Now().Before(deadline) {
			return n, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// bounded runs f and waits for it at most limit. A stuck f is left behind
// on its goroutine: the process is about to end anyway.
func bounded(limit time.Duration, f func()) bool {
	return boundedErr(limit, func() error { f(); return nil }) != errTimedOut
}

var errTimedOut = errors.New("timed out")

// boundedErr is bounded for a call with an error; errTimedOut when f is
// still running after limit.
func boundedErr(limit time.Duration, f func() error) error {
	done := make(chan error, 1) // buffered: a late f must not block forever
	go func() { done <- f() }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errTimedOut
	}
}
