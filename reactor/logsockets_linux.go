package reactor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"gosd/logstore"
	"gosd/manager"
	"gosd/unitfile"
)

// The log sockets gosd serves when no systemd-journald does: /dev/log
// (syslog(3), logger(1): RFC 3164 and RFC 5424 datagrams) and journald's
// native socket (sd_journal_print(3)). Each datagram carries its sender's
// credentials (SO_PASSCRED), and the pid names the unit: a process gosd
// spawned, else the unit's cgroup, else the nearest spawned ancestor.
//
// Who owns the path: cmd/gosd names a path here only when no socket unit
// that provides it (SocketProvides) is enabled, so a system with
// systemd-journald's units never sees gosd on its paths. When such a unit
// is started anyway (a static or disabled one, or one enabled after
// boot), OpenSockets finds gosd on its path: gosd reads what is queued,
// closes its socket and removes the path before the unit binds it
// (releaseLogSockets), and takes the path back when the unit closes its
// sockets (retakeLogSockets). A path another process serves (a live
// socket answers) is left alone.

const (
	logKindSyslog = "syslog"
	logKindNative = "native"
	// logSocketRcvBuf is the receive buffer asked for each log socket
	// (journald asks 8 MiB); a full buffer makes senders' datagrams fail
	// or wait, never gosd.
	logSocketRcvBuf = 1 << 20
	// logDatagramsPerTurn bounds one socket's share of a loop turn.
	logDatagramsPerTurn = 64
)

// logSocket is one path gosd serves in journald's place.
type logSocket struct {
	kind   string // logKindSyslog or logKindNative
	path   string
	fd     int    // -1: not held
	holder string // the socket unit the path was released to, "" none
	ino    uint64 // of the socket file gosd bound (to remove only its own)
}

func (r *Reactor) logSocket(path string) *logSocket {
	for _, ls := range r.logSocks {
		if ls.path == path {
			return ls
		}
	}
	return nil
}

// openLogSockets serves Config.SyslogSocket and NativeSocket, unless a
// daemon-reexec handed them over already.
func (r *Reactor) openLogSockets() {
	for _, c := range []struct{ kind, path string }{{logKindSyslog, r.cfg.SyslogSocket}, {logKindNative, r.cfg.NativeSocket}} {
		if c.path == "" || r.logSocket(c.path) != nil {
			continue
		}
		ls := &logSocket{kind: c.kind, path: c.path, fd: -1}
		r.logSocks = append(r.logSocks, ls)
		r.takeLogSocket(ls)
	}
}

func (r *Reactor) takeLogSocket(ls *logSocket) {
	fd, ino, err := listenLogSocket(ls.path)
	if err != nil {
		r.logAt("", unitfile.Pos{}, manager.LevelWarning, fmt.Sprintf("Not serving %s: %v", ls.path, err))
		return
	}
	if err := r.addSource(fd, ls); err != nil {
		unix.Close(fd)
		r.logAt("", unitfile.Pos{}, manager.LevelWarning, fmt.Sprintf("Not serving %s: %v", ls.path, err))
		return
	}
	ls.fd, ls.ino = fd, ino
}

// listenLogSocket binds a datagram socket at path, world-writable as
// journald's are, with SO_PASSCRED.
func listenLogSocket(path string) (int, uint64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return -1, 0, err
	}
	if st, err := os.Lstat(path); err == nil {
		switch {
		case st.Mode()&os.ModeSocket != 0, st.Mode()&os.ModeSymlink != 0:
			if liveSocket(path) {
				return -1, 0, errors.New("another process serves it")
			}
			// A socket left behind, or a link to nothing that answers
			// (Debian's /dev/log -> /run/systemd/journal/dev-log).
			if err := os.Remove(path); err != nil {
				return -1, 0, err
			}
		default:
			return -1, 0, fmt.Errorf("%s exists and is not a socket", path)
		}
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return -1, 0, err
	}
	fail := func(err error) (int, uint64, error) {
		unix.Close(fd)
		return -1, 0, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fail(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		os.Remove(path)
		return fail(err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		os.Remove(path)
		return fail(fmt.Errorf("SO_PASSCRED: %w", err))
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, logSocketRcvBuf) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, logSocketRcvBuf)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		os.Remove(path)
		return fail(err)
	}
	return fd, st.Ino, nil
}

// liveSocket: a datagram socket at path (or behind the link) accepts a
// connection, so some process reads it.
func liveSocket(path string) bool {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Connect(fd, &unix.SockaddrUnix{Name: path}) == nil
}

// dropLogSocket stops serving ls: what is queued is read first, the path
// is removed if it is still gosd's socket.
func (r *Reactor) dropLogSocket(ls *logSocket, drain bool) {
	if ls.fd < 0 {
		return
	}
	if drain {
		for i := 0; i < 64 && r.readLogSocket(ls); i++ {
		}
	}
	r.removeSource(ls.fd)
	unix.Close(ls.fd)
	ls.fd = -1
	var st unix.Stat_t
	if unix.Lstat(ls.path, &st) == nil && st.Ino == ls.ino {
		os.Remove(ls.path)
	}
}

func (r *Reactor) closeLogSockets() {
	for _, ls := range r.logSocks {
		r.dropLogSocket(ls, false)
	}
}

// releaseLogSockets hands the paths socket unit unit provides to it, right
// before it opens its sockets (OpenSockets).
func (r *Reactor) releaseLogSockets(unit string, s *unitfile.Socket) {
	for _, ls := range r.logSocks {
		if ls.fd < 0 || !SocketProvides(s, ls.path) {
			continue
		}
		r.dropLogSocket(ls, true)
		ls.holder = unit
		r.logAt(unit, unitfile.Pos{}, manager.LevelInfo, fmt.Sprintf("%s provides %s: gosd no longer serves it", unit, ls.path))
	}
}

// retakeLogSockets serves again the paths released to unit once it closed
// its sockets.
func (r *Reactor) retakeLogSockets(unit string) {
	for _, ls := range r.logSocks {
		if ls.holder == unit && ls.fd < 0 {
			ls.holder = ""
			r.takeLogSocket(ls)
		}
	}
}

// adoptLogSocket takes a log socket over from the gosd that re-executed
// into this one.
func (r *Reactor) adoptLogSocket(h hoLogSocket) {
	ls := &logSocket{kind: h.Kind, path: h.Path, fd: -1, holder: h.Holder}
	r.logSocks = append(r.logSocks, ls)
	if h.FD < 0 {
		return
	}
	unix.CloseOnExec(h.FD)
	var st unix.Stat_t
	if err := unix.Fstat(h.FD, &st); err == nil {
		ls.ino = st.Ino
	}
	if err := unix.Stat(h.Path, &st); err == nil {
		ls.ino = st.Ino // the path's inode: the one dropLogSocket compares
	}
	if err := r.addSource(h.FD, ls); err != nil {
		unix.Close(h.FD)
		r.logf("", "log socket %s: %v", h.Path, err)
		return
	}
	ls.fd = h.FD
}

// readLogSocket takes a bounded number of datagrams; false when the
// socket had nothing more.
func (r *Reactor) readLogSocket(ls *logSocket) bool {
	if r.oobBuf == nil {
		r.oobBuf = make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4*16))
	}
	var units map[int]string // pid -> unit for this call's datagrams
	for i := 0; i < logDatagramsPerTurn; i++ {
		n, oobn, flags, _, err := unix.Recvmsg(ls.fd, r.readBuf, r.oobBuf, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if err != unix.EAGAIN {
				r.logf("", "log socket %s: %v", ls.path, err)
			}
			return false
		}
		r.stampNow()
		pid, hadFds := 0, false
		if cmsgs, err := unix.ParseSocketControlMessage(r.oobBuf[:oobn]); err == nil {
			for i := range cmsgs {
				if cred, err := unix.ParseUnixCredentials(&cmsgs[i]); err == nil {
					pid = int(cred.Pid)
				} else if fds, err := unix.ParseUnixRights(&cmsgs[i]); err == nil {
					hadFds = true
					for _, fd := range fds {
						unix.Close(fd)
					}
				}
			}
		}
		if units == nil {
			units = map[int]string{}
		}
		unit, ok := units[pid]
		if !ok {
			unit = r.unitOfPid(pid)
			units[pid] = unit
		}
		r.logDatagram(ls, r.readBuf[:n], flags&unix.MSG_TRUNC != 0, hadFds, pid, unit)
	}
	return true
}

func (r *Reactor) logDatagram(ls *logSocket, data []byte, truncated, hadFds bool, pid int, unit string) {
	limits := r.logLimitsFor(unit)
	maxLevel := limits.MaxLevel
	if !r.allowLog(unit, limits.Interval, limits.Burst) {
		return
	}
	var m logstore.Message
	transport := logstore.TransportSyslog
	if ls.kind == logKindNative {
		transport = logstore.TransportJournal
		var err error
		switch {
		case hadFds:
			err = errors.New("messages passed in a memfd are not supported")
		case truncated:
			err = fmt.Errorf("message longer than %d bytes", len(data))
		default:
			m, err = logstore.ParseNative(data)
		}
		if err != nil {
			if !r.warned["native-log"] {
				r.warned["native-log"] = true
				r.logAt(unit, unitfile.Pos{}, manager.LevelWarning,
					fmt.Sprintf("%s: dropped a message from pid %d: %v (said once)", ls.path, pid, err))
			}
			return
		}
	} else {
		m = logstore.ParseSyslog(data)
	}
	if maxLevel >= 0 && m.Priority > maxLevel {
		return // LogLevelMax= of the sender's unit
	}
	if pid <= 0 {
		pid = m.Pid
	}
	r.store.Add(logstore.Entry{Realtime: r.stamp.rt, Monotonic: r.stamp.mono, Unit: unit, Pid: pid, Ident: m.Ident, Priority: m.Priority, Facility: m.Facility,
		Message: m.Text, Transport: transport})
}

// unitOfPid names the unit a process belongs to: one gosd spawned, else
// its cgroup's unit, else (process groups) the unit of its nearest
// ancestor gosd spawned. "" when none.
func (r *Reactor) unitOfPid(pid int) string {
	if pid <= 0 {
		return ""
	}
	if p := r.procs[pid]; p != nil {
		return p.unit
	}
	if r.cg != nil {
		unit, _ := r.cg.UnitOf(pid)
		return unit
	}
	for i := 0; i < 32 && pid > 1; i++ {
		pid = parentPid(pid)
		if p := r.procs[pid]; p != nil {
			return p.unit
		}
	}
	return ""
}

// parentPid reads the parent from /proc/PID/stat (0 when gone): the field
// after the ")" closing the command name, which may hold anything.
func parentPid(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
