package reactor

import (
	"bytes"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"gosd/logstore"
)

const (
	// readChunk bounds one read per ready pipe per turn, so one flooding
	// service cannot starve the rest of the loop.
	readChunk = 64 << 10
	// MaxLineLength bounds a line; a longer run without newline is cut and
	// logged in pieces, so memory stays bounded.
	MaxLineLength = 4096
)

// outputPipe is the read end of one spawned process's stdout/stderr pipe.
type outputPipe struct {
	unit    string
	pid     int
	fd      int
	partial []byte
	route   logRoute
}

// logRoute says where a pipe's lines go besides the log store: to
// journald (journal.go) while it takes them, else to gosd's log; Kmsg to
// the kernel's log (StandardOutput=kmsg), else to gosd's log; Console
// keeps them in gosd's log too (StandardOutput=journal+console).
type logRoute struct {
	Journal bool
	Kmsg    bool
	Console bool
	// SyslogLevel=, SyslogFacility=, SyslogLevelPrefix=, LogLevelMax= (-1:
	// none), LogRateLimitIntervalSec= and LogRateLimitBurst= (0: the log's).
	Level, Facility, MaxLevel int
	Prefix                    bool
	RateInterval              time.Duration
	RateBurst                 int
	Ident                     string // SYSLOG_IDENTIFIER
	Uid, Gid                  int    // of the process that writes (its credentials for journald)
}

// readOutput does one bounded read of a log pipe and logs the complete
// lines; at EOF it logs what is left and stops watching.
func (r *Reactor) readOutput(p *outputPipe) {
	r.stampNow()
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
	prio, text := p.route.Level, line // SyslogLevel=, info by default
	// SyslogLevelPrefix= (default yes): "<N>" at the start sets the level.
	if p.route.Prefix && len(text) >= 3 && text[0] == '<' && text[1] >= '0' && text[1] <= '7' && text[2] == '>' {
		prio, text = int(text[1]-'0'), text[3:]
	}
	if p.route.MaxLevel >= 0 && prio > p.route.MaxLevel {
		return // LogLevelMax=: dropped, as journald drops it
	}
	sent := p.route.Journal && r.journalUp() && r.journal.send(journalLine{
		unit: p.unit, ident: p.route.Ident, pid: p.pid, uid: p.route.Uid, gid: p.route.Gid, text: text}, p.route.Facility, prio)
	if !sent && !r.allowLog(p.unit, p.route.RateInterval, p.route.RateBurst) {
		return
	}
	toLog := !sent || p.route.Console
	if p.route.Kmsg && r.writeKmsg(p.route.Facility, prio, p.route.Ident, p.pid, text) {
		toLog = p.route.Console
	}
	if toLog {
		r.log.WriteString(p.unit)
		r.log.WriteByte('[')
		r.log.WriteString(strconv.Itoa(p.pid))
		r.log.WriteString("]: ")
		r.log.Write(line)
		r.log.WriteByte('\n')
	}
	r.store.Add(logstore.Entry{Realtime: r.stamp.rt, Monotonic: r.stamp.mono, Unit: p.unit, Pid: p.pid, Ident: p.route.Ident,
		Priority: prio, Facility: p.route.Facility, Message: string(text), Transport: logstore.TransportStdout, Forwarded: sent})
}
