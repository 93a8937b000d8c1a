package reactor

import (
	"bytes"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	// readChunk bounds one read per ready pipe per turn, so one flooding
	// service cannot starve the rest of the loop.
	readChunk = 64 << 10
	// MaxLineLength bounds a line; a longer run without newline is cut and
	// logged in pieces, so memory stays bounded.
	MaxLineLength = 4096
	// DefaultRingLines is how many recent lines are kept per unit.
	DefaultRingLines = 200
)

// outputPipe is the read end of one spawned process's stdout/stderr pipe.
type outputPipe struct {
	unit    string
	pid     int
	fd      int
	partial []byte
	route   logRoute
}

// logRoute says where a pipe's lines go besides the unit's ring: to
// journald (journal.go) while it takes them, else to gosd's log; Console
// keeps them in gosd's log too (StandardOutput=journal+console).
type logRoute struct {
	Journal  bool
	Console  bool
	Ident    string // SYSLOG_IDENTIFIER
	Uid, Gid int    // of the process that writes (its credentials for journald)
}

// ring keeps the last lines a unit wrote.
type ring struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func (r *ring) add(line string) {
	r.mu.Lock()
	if len(r.lines) == 0 {
		r.mu.Unlock()
		return
	}
	r.lines[r.next] = line
	r.next++
	if r.next == len(r.lines) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

func (r *ring) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]string(nil), r.lines[:r.next]...)
	}
	return append(append([]string(nil), r.lines[r.next:]...), r.lines[:r.next]...)
}

// Lines returns the last lines a unit's processes wrote to their log pipes
// (as "unit[pid]: line" without the unit prefix: "[pid] line"), oldest
// first. Safe from any goroutine.
func (r *Reactor) Lines(unit string) []string {
	r.ringsMu.Lock()
	rg := r.rings[unit]
	r.ringsMu.Unlock()
	if rg == nil {
		return nil
	}
	return rg.snapshot()
}

func (r *Reactor) ringFor(unit string) *ring {
	r.ringsMu.Lock()
	defer r.ringsMu.Unlock()
	rg := r.rings[unit]
	if rg == nil {
		rg = &ring{lines: make([]string, r.cfg.RingLines)}
		r.rings[unit] = rg
	}
	return rg
}

// readOutput does one bounded read of a log pipe and logs the complete
// lines; at EOF it logs what is left and stops watching.
func (r *Reactor) readOutput(p *outputPipe) {
	n, err := unix.Read(p.fd, r.readBuf)
	if err == unix.EAGAIN || err == unix.EINTR {
		return
	}
	if n <= 0 {
		if len(p.partial) > 0 {
			r.emitLine(p, p.partial)
			p.partial = nil
		}
		r.removeSource(p.fd)
		unix.Close(p.fd)
		return
	}
	data := r.readBuf[:n]
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			room := MaxLineLength - len(p.partial)
			if len(data) < room {
				p.partial = append(p.partial, data...)
				return
			}
			p.partial = append(p.partial, data[:room]...)
			r.emitLine(p, p.partial)
			p.partial = p.partial[:0]
			data = data[room:]
			continue
		}
		line := data[:i]
		data = data[i+1:]
		if len(p.partial) > 0 {
			line = append(p.partial, line...)
			p.partial = p.partial[:0]
		}
		for len(line) > MaxLineLength {
			r.emitLine(p, line[:MaxLineLength])
			line = line[MaxLineLength:]
		}
		r.emitLine(p, line)
	}
}

func (r *Reactor) emitLine(p *outputPipe, line []byte) {
	sent := p.route.Journal && r.journal != nil && r.journal.send(journalLine{
		unit: p.unit, ident: p.route.Ident, pid: p.pid, uid: p.route.Uid, gid: p.route.Gid, text: line})
	if !sent || p.route.Console {
		r.log.WriteString(p.unit)
		r.log.WriteByte('[')
		r.log.WriteString(strconv.Itoa(p.pid))
		r.log.WriteString("]: ")
		r.log.Write(line)
		r.log.WriteByte('\n')
	}
	text := "[" + strconv.Itoa(p.pid) + "] " + string(line)
	r.ringFor(p.unit).add(text)
	if len(r.followers) > 0 {
		r.notifyFollowers(p.unit, text)
	}
}
