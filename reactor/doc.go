// Package reactor owns gosd's single event loop: epoll on Linux, kqueue on
// FreeBSD and darwin, behind one small poller interface. One goroutine,
// locked to its thread, owns all state: it turns child exits (one wait4(-1)
// reaper, woken by SIGCHLD through signal.Notify and by pidfds or
// EVFILT_PROC), signals, service output pipes, the sd_notify socket,
// socket units' listening fds, timers (a heap; no tickers) and work handed
// in by other goroutines (Submit) into manager events, and performs the
// manager's effects (spawn through package exec, kill, timers, sockets,
// PID files, conditions, console and log lines). A panic anywhere in that
// path is logged with the unit and the loop goes on.
//
// cmd/gosd calls exec.RunHelperIfRequested and InstallSignals first thing
// in main, then Run (or New and (*Reactor).Run).
package reactor
