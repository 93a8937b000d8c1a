// Package reactor owns gosd's single event loop: epoll on Linux, kqueue on
// FreeBSD and darwin, behind one small poller interface. One goroutine,
// locked to its thread, owns all state: it turns child exits (one wait4(-1)
// reaper, woken by SIGCHLD through signal.Notify and by pidfds or
// EVFILT_PROC), signals, service output pipes, the sd_notify socket,
// socket units' listening fds, timers (a heap; no tickers) and work handed
// in by other goroutines (Submit) into manager events, and performs the
// manager's effects (spawn through package exec, kill, timers, sockets,
// PID files, conditions, console and log lines). A panic anywhere in that
// path is logged with the unit and the loop goes on. Spawns leave the loop:
// the spawner thread (spawner.go) makes the unit's cgroup and starts the
// process, or hands a plain one to the fork thread (forkthread_linux.go),
// which forks from an fd table of its own so the child does not copy and
// close all of gosd's; results come back in order as Spawned.
//
// An effect carries what carrying it out needs (the [Socket] section to
// open, the conditions to check, the exec context to clean up); the
// reactor reads unit definitions itself only to re-apply settings after
// a daemon-reload or re-exec. A unit type's hooks live in their own files:
// paths.go watches path units' paths (pathinterest.go says what each kind
// watches; pathwatch_linux.go with inotify, pathwatch_freebsd.go with
// kqueue EVFILT_VNODE) and answers WatchPaths with PathsChecked; mounts.go
// and mountwatch.go probe mount points and follow the mount table for
// mount units, swapwatch.go /proc/swaps for swap units; automount*.go hold
// automount units' autofs mounts, read the kernel's requests from their
// pipes (AutomountRequest) and answer them (AutomountReply); devices*.go
// follow devices for device units (the uevent netlink socket, /sys and
// udev's database) and feed DevicesChanged; cgroups.go makes a slice's
// cgroup with its settings (RealizeSlice, and Spawn.Slices before a
// member's first process).
//
// cmd/gosd calls exec.RunHelperIfRequested first thing in main and, for
// the manager (not the gosdctl, systemctl or journalctl client),
// InstallSignals before its command line is parsed; then Run (or New and
// (*Reactor).Run).
package reactor
