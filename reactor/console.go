package reactor

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"gosd/manager"
	"gosd/unitfile"
)

// Console status marks, as systemd prints them.
const (
	MarkOK      = "[  OK  ]"
	MarkFailed  = "[FAILED]"
	MarkDepend  = "[DEPEND]"
	MarkTime    = "[ TIME ]"
	MarkNone    = "        "
	markIndent  = " "
	unitTypeSep = "."
)

// ConsoleLine renders a job effect as systemd's console progress line, or
// "" when systemd prints nothing for it. desc is the unit's Description=;
// oneshot says the unit is a Type=oneshot service (systemd says "Finished"
// when its start job succeeds).
func ConsoleLine(e manager.Effect, desc string, oneshot bool) string {
	switch e := e.(type) {
	case manager.JobStarted:
		if unitType(e.Unit) == "device" {
			if e.Kind == manager.JobStart {
				return MarkNone + markIndent + "Expecting device " + named(e.Unit, desc) + "..."
			}
			return ""
		}
		if unitType(e.Unit) == "mount" {
			switch e.Kind {
			case manager.JobStart:
				return MarkNone + markIndent + "Mounting " + named(e.Unit, desc) + "..."
			case manager.JobStop:
				return MarkNone + markIndent + "Unmounting " + named(e.Unit, desc) + "..."
			}
			return ""
		}
		if unitType(e.Unit) == "swap" {
			switch e.Kind {
			case manager.JobStart:
				return MarkNone + markIndent + "Activating swap " + named(e.Unit, desc) + "..."
			case manager.JobStop:
				return MarkNone + markIndent + "Deactivating swap " + named(e.Unit, desc) + "..."
			}
			return ""
		}
		if unitType(e.Unit) != "service" {
			return ""
		}
		switch e.Kind {
		case manager.JobStart:
			return MarkNone + markIndent + "Starting " + named(e.Unit, desc) + "..."
		case manager.JobStop:
			return MarkNone + markIndent + "Stopping " + named(e.Unit, desc) + "..."
		case manager.JobReload:
			return MarkNone + markIndent + "Reloading " + named(e.Unit, desc) + "..."
		}
	case manager.JobFinished:
		if e.Skipped {
			return "" // unmet conditions: systemd prints nothing
		}
		return finishedLine(e, desc, oneshot)
	}
	return ""
}

func finishedLine(e manager.JobFinished, desc string, oneshot bool) string {
	typ := unitType(e.Unit)
	n := named(e.Unit, desc)
	if typ == "device" {
		// systemd's device unit messages: only its start jobs have any.
		switch {
		case e.Kind != manager.JobStart:
			return ""
		case e.Result == manager.ResultDone:
			return MarkOK + " Found device " + n + "."
		case e.Result == manager.ResultTimeout:
			return MarkTime + " Timed out waiting for device " + n + "."
		}
	}
	switch e.Kind {
	case manager.JobStart, manager.JobRestart, manager.JobVerifyActive:
		switch e.Result {
		case manager.ResultDone:
			switch typ {
			case "target":
				return MarkOK + " Reached target " + n + "."
			case "socket":
				return MarkOK + " Listening on " + n + "."
			case "mount":
				return MarkOK + " Mounted " + n + "."
			case "swap":
				return MarkOK + " Activated swap " + n + "."
			case "automount":
				return MarkOK + " Set up automount " + n + "."
			case "slice":
				return MarkOK + " Created slice " + n + "."
			}
			if oneshot {
				return MarkOK + " Finished " + n + "."
			}
			return MarkOK + " Started " + n + "."
		case manager.ResultFailed:
			switch typ {
			case "mount":
				return MarkFailed + " Failed to mount " + n + "."
			case "automount":
				return MarkFailed + " Failed to set up automount " + n + "."
			}
			return MarkFailed + " Failed to start " + n + "."
		case manager.ResultDependency:
			return MarkDepend + " Dependency failed for " + n + "."
		case manager.ResultTimeout:
			return MarkTime + " Timed out starting " + n + "."
		case manager.ResultAssert:
			return MarkFailed + " Assertion failed for " + n + "."
		}
	case manager.JobStop:
		switch e.Result {
		case manager.ResultDone:
			switch typ {
			case "target":
				return MarkOK + " Stopped target " + n + "."
			case "socket":
				return MarkOK + " Closed " + n + "."
			case "mount":
				return MarkOK + " Unmounted " + n + "."
			case "swap":
				return MarkOK + " Deactivated swap " + n + "."
			case "automount":
				return MarkOK + " Unset automount " + n + "."
			case "slice":
				return MarkOK + " Removed slice " + n + "."
			}
			return MarkOK + " Stopped " + n + "."
		case manager.ResultFailed:
			switch typ {
			case "mount":
				return MarkFailed + " Failed unmounting " + n + "."
			case "automount":
				return MarkFailed + " Failed to unset automount " + n + "."
			}
			return MarkFailed + " Stopped " + n + "."
		case manager.ResultTimeout:
			return MarkTime + " Timed out stopping " + n + "."
		}
	case manager.JobReload:
		switch e.Result {
		case manager.ResultDone:
			return MarkOK + " Reloaded " + n + "."
		case manager.ResultFailed:
			return MarkFailed + " Reload failed for " + n + "."
		}
	}
	return ""
}

// named is "foo.service - Description" (systemd 252's form), or just the
// unit name without a description.
func named(unit, desc string) string {
	if desc == "" || desc == unit {
		return unit
	}
	return unit + " - " + desc
}

func unitType(unit string) string {
	if i := strings.LastIndex(unit, unitTypeSep); i >= 0 {
		return unit[i+1:]
	}
	return ""
}

// LevelName is the word used for a log level in gosd's log.
func LevelName(l manager.Level) string {
	switch l {
	case manager.LevelDebug:
		return "debug"
	case manager.LevelInfo:
		return "info"
	case manager.LevelNotice:
		return "notice"
	case manager.LevelWarning:
		return "warning"
	}
	return "error"
}

// LogLine renders a message for gosd's log: "unit: file:line: message"
// (unit and position omitted when not known), with the level for warnings
// and errors.
func LogLine(unit string, pos unitfile.Pos, level manager.Level, msg string) string {
	var b strings.Builder
	if unit != "" {
		b.WriteString(unit)
		b.WriteString(": ")
	}
	if pos.File != "" {
		b.WriteString(pos.String())
		b.WriteString(": ")
	}
	if level >= manager.LevelWarning {
		b.WriteString(LevelName(level))
		b.WriteString(": ")
	}
	b.WriteString(msg)
	return b.String()
}

// consoleWriter is how the loop writes gosd's log and console: it never
// blocks on them. A console is often a serial line (115200 baud is about
// 11 KB/s) or a pipe someone stopped reading; writing to it from the loop
// stalled PID1 for as long as the write took (issue 18, item 7). Lines go
// into a bounded queue that one goroutine writes out; when the queue is
// full, lines are dropped and counted, and the count is written where they
// would have been ("N log lines suppressed").
//
// The loop builds a line with WriteString/WriteByte/Write; each completed
// line is queued whole or dropped whole.
type consoleWriter struct {
	w    io.Writer
	max  int    // bytes the queue may hold
	line []byte // the line being built (loop goroutine only)

	mu      sync.Mutex
	queue   []byte // lines waiting for the writer
	dropped int    // lines dropped since the writer last took the queue
	busy    bool   // the writer is writing a batch
	started bool
	closed  bool
	wake    chan struct{} // capacity 1: there is something to write
	idle    chan struct{} // capacity 1: the writer finished a batch
}

// Queue bounds: the log carries service output, the console only progress
// lines, but a boot's worth of them: a flat tree of 1000 units prints its
// 2000 lines (about 110 KiB) in one loop turn, before the writer can run on
// a busy machine, and a 64 KiB queue dropped the last 800, "Reached target"
// among them (measured with go run ./bench, N=1000).
const (
	logQueueBytes     = 1 << 20
	consoleQueueBytes = 1 << 20
	// wakeAt: a queue this full wakes the writer at once rather than at
	// the end of the loop turn.
	wakeAt = 64 << 10
)

func newConsoleWriter(w io.Writer, max int) *consoleWriter {
	return &consoleWriter{w: w, max: max, wake: make(chan struct{}, 1), idle: make(chan struct{}, 1)}
}

func (c *consoleWriter) WriteString(s string) {
	c.line = append(c.line, s...)
	c.commit()
}

func (c *consoleWriter) Write(p []byte) {
	c.line = append(c.line, p...)
	c.commit()
}

func (c *consoleWriter) WriteByte(b byte) error {
	c.line = append(c.line, b)
	c.commit()
	return nil
}

// commit queues the line being built once it ends in a newline.
func (c *consoleWriter) commit() {
	n := len(c.line)
	if n == 0 || c.line[n-1] != '\n' {
		return
	}
	c.mu.Lock()
	if len(c.queue) > 0 && len(c.queue)+n > c.max {
		// (A line longer than the whole queue still goes when the queue
		// is empty: a goroutine dump is one message.)
		c.dropped += bytes.Count(c.line, []byte{'\n'})
	} else {
		c.queue = append(c.queue, c.line...)
	}
	full := len(c.queue) >= wakeAt
	c.mu.Unlock()
	if cap(c.line) > 4*MaxLineLength {
		c.line = nil // one long message: do not keep its buffer
	} else {
		c.line = c.line[:0]
	}
	if full {
		c.flush()
	}
}

// flush wakes the writer (the loop calls it once per turn); it never waits.
func (c *consoleWriter) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || (len(c.queue) == 0 && c.dropped == 0 && c.started) {
		return // nothing new: no writer wake-up (a turn per spawn is common)
	}
	if !c.started {
		c.started = true
		go c.run()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine: it takes the whole queue at once, writes
// it (blocking as long as the console takes), then says how many lines
// were dropped meanwhile.
func (c *consoleWriter) run() {
	var batch []byte
	for range c.wake {
		for {
			c.mu.Lock()
			batch, c.queue = c.queue, batch[:0]
			dropped := c.dropped
			c.dropped = 0
			c.busy = len(batch) > 0 || dropped > 0
			c.mu.Unlock()
			if !c.busy {
				break
			}
			if dropped > 0 {
				batch = fmt.Appendf(batch, "gosd: %d log lines suppressed (the console did not take them fast enough)\n", dropped)
			}
			c.w.Write(batch) // an error drops the batch: a broken log must not stop anything
			if cap(batch) > wakeAt {
				batch = nil // a boot's or a flood's buffer is not kept for idle times
			}
		}
		c.mu.Lock()
		c.busy = false
		c.mu.Unlock()
		select {
		case c.idle <- struct{}{}:
		default:
		}
	}
}

// drain waits until everything queued is written, at most timeout (a
// console that takes nothing must not keep gosd from stopping or
// re-executing); it says whether all was written.
func (c *consoleWriter) drain(timeout time.Duration) bool {
	c.flush()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		done := len(c.queue) == 0 && c.dropped == 0 && !c.busy
		c.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-c.idle:
		case <-deadline.C:
			return false
		}
	}
}

// close drains (bounded) and ends the writer goroutine.
func (c *consoleWriter) close(timeout time.Duration) {
	c.drain(timeout)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		if c.started {
			close(c.wake)
		}
	}
}
