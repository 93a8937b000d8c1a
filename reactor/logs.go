package reactor

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"gosd/logstore"
	"gosd/manager"
	"gosd/unitfile"
)

// The reactor's side of the log store (package logstore): every line a
// unit writes to its log pipe (output.go), every datagram on the log
// sockets gosd serves in journald's place (logsockets_linux.go) and every
// message of gosd's own (logAt, console) becomes one entry. The store is
// bounded; the persistent writer runs on its own goroutine and only gets a
// wake-up from here; the rate limit drops a flooding unit's lines before
// they cost anything more. While journald takes a line, journald limits
// and keeps it, and the store holds it only in memory (for status).

// Store is the log store (safe from any goroutine).
func (r *Reactor) Store() *logstore.Store { return r.store }

// LogDir is the persistent log's directory, "" when there is none.
func (r *Reactor) LogDir() string {
	if r.cfg.Persist == nil {
		return ""
	}
	if r.cfg.Persist.Dir == "" {
		return logstore.DefaultDir
	}
	return r.cfg.Persist.Dir
}

func limiterOf(cfg Config) logstore.Limiter {
	l := logstore.Limiter{Interval: cfg.RateLimitInterval, Burst: cfg.RateLimitBurst}
	if l.Interval == 0 {
		l.Interval = logstore.DefaultRateLimitInterval
	}
	if l.Burst == 0 {
		l.Burst = logstore.DefaultRateLimitBurst
	}
	return l
}

func (r *Reactor) startPersist() {
	if r.cfg.Persist == nil || r.persist != nil {
		return
	}
	r.store.DeferWakes() // woken once per loop turn (flush)
	r.persist = r.store.Persist(*r.cfg.Persist, func(msg string) {
		// On the writer's goroutine: the message goes through the loop.
		r.Submit(func() { r.logAt("", unitfile.Pos{}, manager.LevelWarning, msg) })
	})
}

// closeLogs ends what Run started for the log: the sockets are closed
// (their paths removed, as journald's go with it) and the persistent log
// is written out and synced, before a PID1 unmounts and powers off.
func (r *Reactor) closeLogs() {
	r.closeLogSockets()
	r.closeKmsgReader()
	if r.persist != nil {
		r.persist.Close()
		r.persist = nil
	}
	if r.kmsgFD >= 0 {
		syscall.Close(r.kmsgFD)
		r.kmsgFD = -1
	}
}

// logStamp is the time of what one read brought in: one clock reading for
// every line of it (journald stamps at reception too), not one per line.
type logStamp struct{ rt, mono int64 }

func (r *Reactor) stampNow() { r.stamp.rt, r.stamp.mono = logstore.Now() }

// journalUp says whether lines may be offered to systemd-journald: a
// journal socket is configured and it is not gosd's own.
func (r *Reactor) journalUp() bool {
	if r.journal == nil {
		return false
	}
	for _, ls := range r.logSocks {
		if ls.fd >= 0 && ls.path == r.journal.addr.Name {
			return false
		}
	}
	return true
}

// allowLog applies the per-unit rate limit (interval and burst: the unit's
// LogRateLimitIntervalSec= and LogRateLimitBurst=, 0 for the log's) to
// what gosd keeps itself; a
// unit over its burst loses the rest of the interval's lines, and the
// count is said once the next interval begins (journald's message).
func (r *Reactor) allowLog(unit string, interval time.Duration, burst int) bool {
	ok, suppressed := r.limiter.AllowWith(unit, time.Duration(r.stamp.mono)*time.Microsecond, interval, burst)
	if suppressed > 0 {
		who := unit
		if who == "" {
			who = "processes outside any unit"
		}
		r.logAt(unit, unitfile.Pos{}, manager.LevelWarning, fmt.Sprintf("Suppressed %d messages from %s", suppressed, who))
	}
	return ok
}

// writeKmsg writes one line to the kernel's log as journald forwards it
// (ForwardToKMsg=): "<PRI>IDENT[PID]: MESSAGE", the facility made LOG_USER
// so nothing passes for the kernel's. False: there is no /dev/kmsg (a
// container) and the caller keeps the line in gosd's log instead.
func (r *Reactor) writeKmsg(facility, prio int, ident string, pid int, text []byte) bool {
	if r.kmsgGone || r.cfg.Kmsg == "-" {
		return false
	}
	if r.kmsgFD < 0 {
		path := r.cfg.Kmsg
		if path == "" {
			path = "/dev/kmsg"
		}
		// O_NONBLOCK: a write to /dev/kmsg never waits for a reader; the
		// kernel drops what its own rate limit refuses.
		fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CLOEXEC|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
		if err != nil {
			r.kmsgGone = true
			r.logAt("", unitfile.Pos{}, manager.LevelNotice,
				fmt.Sprintf("%s: %v; StandardOutput=kmsg output goes to gosd's log", path, err))
			return false
		}
		r.kmsgFD = fd
	}
	b := r.kmsgBuf[:0]
	b = append(b, '<')
	if facility == 0 {
		facility = 1 // LOG_KERN is the kernel's own: LOG_USER, as journald does
	}
	b = strconv.AppendInt(b, int64(facility<<3|prio), 10)
	b = append(b, '>')
	b = append(b, ident...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, "]: "...)
	b = append(b, text...)
	b = append(b, '\n')
	r.kmsgBuf = b
	syscall.Write(r.kmsgFD, b) // a refused line is the kernel's to drop
	return true
}

// SocketProvides says whether a socket unit serves path itself: it listens
// there (a unix socket of any kind) or makes it a symlink to its socket
// (Symlinks=, as systemd-journald-dev-log.socket does for /dev/log).
func SocketProvides(s *unitfile.Socket, path string) bool {
	if s == nil || path == "" {
		return false
	}
	for _, l := range s.Listen {
		if l.Family == "unix" && !l.Abstract && l.Path == path {
			return true
		}
	}
	for _, p := range s.Symlinks {
		if p == path {
			return true
		}
	}
	return false
}

// ownPid is gosd's pid as its own messages carry it.
var ownPid = os.Getpid()
