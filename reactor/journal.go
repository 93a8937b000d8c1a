package reactor

import (
	"encoding/binary"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"gosd/manager"
	"gosd/unitfile"
)

// journal forwards service output to systemd-journald's native protocol
// socket (systemd.exec(5) StandardOutput=journal, the default; the
// protocol is "Native Journal Protocol" in systemd's documentation).
//
// systemd connects a service's stdout to journald's stream socket from
// inside the child, so journald sees the service's own pid and derives the
// unit from its cgroup. gosd cannot run code in the child without the
// costly helper, so it keeps reading the log pipe and sends each line as
// one datagram carrying SCM_CREDENTIALS of the process that wrote it (root
// may name another pid): journald attributes it exactly as a stream line
// (_PID, _UID, _COMM, _SYSTEMD_UNIT from that process's cgroup). A line
// read after that process was reaped goes with gosd's own credentials and
// UNIT=, which `journalctl -u` matches as the service manager's messages
// about that unit; gosd's own messages go the same way (sendManager).
type journal struct {
	fd   int
	addr *unix.SockaddrUnix
	buf  []byte
}

func (j *journal) close() {
	if j != nil && j.fd >= 0 {
		unix.Close(j.fd)
		j.fd = -1
	}
}

// journalLine is one line of service output and who wrote it.
type journalLine struct {
	unit, ident   string
	pid, uid, gid int
	text          []byte
}

// send hands one line to journald. False: journald did not take it (not
// listening yet, or its queue is full); the caller logs the line itself,
// so nothing is lost.
func (j *journal) send(l journalLine, facility, prio int) bool {
	text := l.text
	msg := j.fields(l, facility, prio, text, false)
	oob := credentials(l.pid, l.uid, l.gid)
	err := unix.Sendmsg(j.fd, msg, oob, j.addr, 0)
	if err == unix.ESRCH || err == unix.EPERM || err == unix.EINVAL {
		// The writer is gone (reaped), or gosd may not speak for it:
		// send as gosd, naming the unit.
		err = unix.Sendmsg(j.fd, j.fields(l, facility, prio, text, true), nil, j.addr, 0)
	}
	return err == nil
}

// levelPriority is a manager level as a syslog priority.
func levelPriority(level manager.Level) int {
	switch level {
	case manager.LevelDebug:
		return 7
	case manager.LevelNotice:
		return 5
	case manager.LevelWarning:
		return 4
	case manager.LevelError:
		return 3
	}
	return 6
}

// sendManager hands one of gosd's own messages to journald, as the
// service manager's (SYSLOG_IDENTIFIER=gosd, UNIT= the unit it is about).
func (j *journal) sendManager(unit string, level manager.Level, line string) bool {
	prio := levelPriority(level)
	l := journalLine{unit: unit, ident: "gosd", text: []byte(line)}
	return unix.Sendmsg(j.fd, j.fields(l, 3, prio, l.text, unit != ""), nil, j.addr, 0) == nil
}

// fields renders the datagram. MESSAGE uses the protocol's binary-safe
// form (name, newline, 64-bit little-endian length, data, newline): a
// service may write any bytes.
func (j *journal) fields(l journalLine, facility, prio int, text []byte, asManager bool) []byte {
	b := j.buf[:0]
	b = append(b, "PRIORITY="...)
	b = strconv.AppendInt(b, int64(prio), 10)
	b = append(b, "\nSYSLOG_FACILITY="...)
	b = strconv.AppendInt(b, int64(facility), 10)
	b = append(b, "\nSYSLOG_IDENTIFIER="...)
	b = append(b, l.ident...)
	b = append(b, '\n')
	if asManager {
		b = append(b, "UNIT="...)
		b = append(b, l.unit...)
		b = append(b, '\n')
	}
	b = append(b, "MESSAGE\n"...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(text)))
	b = append(b, text...)
	b = append(b, '\n')
	j.buf = b
	return b
}

// syslogIdentifier is SyslogIdentifier=, else the executed program's name
// (systemd.exec(5)).
func syslogIdentifier(path string, ec *unitfile.ExecContext) string {
	if ec != nil && ec.SyslogIdentifier != "" {
		return ec.SyslogIdentifier
	}
	return filepath.Base(path)
}
