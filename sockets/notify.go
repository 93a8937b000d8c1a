package sockets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// NotifyMaxSize is the largest sd_notify datagram accepted, systemd's
// limit (PIPE_BUF); longer ones arrive truncated and are rejected.
const NotifyMaxSize = 4096

// NotifyMaxFds is the most fds one datagram may carry (systemd's limit for
// FDSTORE=1); more truncate the control data and the message is rejected.
const NotifyMaxFds = 768

// ErrNoMessage is returned by Receive when no datagram is queued.
var ErrNoMessage = errors.New("no notify message queued")

// Message is one sd_notify datagram.
type Message struct {
	Pid, Uid, Gid int         // sender's credentials, from the kernel
	Fields        [][2]string // KEY, VALUE in order
	Fds           []int       // passed fds (close-on-exec); the receiver owns them
	Barrier       bool        // BARRIER=1: close Fds at once (CloseFds), nothing else to do
}

// CloseFds closes the fds a message carried. A BARRIER=1 sender
// (sd_notify_barrier(3), systemd-notify) blocks until its fd is closed.
func CloseFds(m Message) {
	for _, fd := range m.Fds {
		unix.Close(fd)
	}
}

// NotifySocket is the manager's NOTIFY_SOCKET: an AF_UNIX datagram socket,
// close-on-exec and non-blocking, receiving sender credentials.
type NotifySocket struct {
	fd   int
	path string
	buf  []byte
	oob  []byte
}

// FD is the socket to watch for readability.
func (n *NotifySocket) FD() int { return n.fd }

// Path is the NOTIFY_SOCKET value for services: a file path, or "@name"
// for an abstract socket (sd_notify(3)).
func (n *NotifySocket) Path() string { return n.path }

// Close closes the socket and removes its file (abstract ones have none).
func (n *NotifySocket) Close() error {
	err := unix.Close(n.fd)
	if n.path != "" && n.path[0] != '@' {
		if rerr := os.Remove(n.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
	}
	return err
}

// Receive reads one datagram. It returns ErrNoMessage when none is queued.
// A datagram is rejected with an error, every fd it carried closed and
// only the sender's credentials (as far as known) in the Message,
// when it is empty, truncated (longer than NotifyMaxSize, or more than
// NotifyMaxFds fds), has no or invalid sender credentials, or contains a
// NUL byte. See parseNotify for how lines are read.
func (n *NotifySocket) Receive() (Message, error) {
	for {
		m, err := n.receive()
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK) {
			return Message{}, ErrNoMessage
		}
		return m, err
	}
}

var (
	errTruncated = errors.New("notify message truncated (longer than 4096 bytes or too many fds), ignored")
	errNoCreds   = errors.New("notify message without sender credentials, ignored")
	errEmpty     = errors.New("empty notify message, ignored")
	errNUL       = errors.New("notify message contains a NUL byte, ignored")
)

// finish validates a received datagram; on error it closes the fds and
// returns only the sender's credentials (for the log line that names it).
func finish(m Message, data []byte, truncated, haveCreds bool) (Message, error) {
	var err error
	switch {
	case truncated:
		err = errTruncated
	case !haveCreds || m.Pid <= 0:
		err = errNoCreds
	default:
		m.Fields, err = parseNotify(data)
	}
	if err != nil {
		CloseFds(m)
		return Message{Pid: m.Pid, Uid: m.Uid, Gid: m.Gid}, err
	}
	for _, f := range m.Fields {
		if f == [2]string{"BARRIER", "1"} {
			m.Barrier = true
		}
	}
	return m, nil
}

// parseNotify splits a datagram into KEY=VALUE fields, per sd_notify(3):
// newline-separated assignments, the trailing newline optional. Every
// datagram is a whole message. Decisions where the man page is silent:
//   - empty datagram, or one with a NUL byte: the whole message is rejected
//     (systemd rejects NUL too);
//   - empty lines, lines without '=' or with an empty key: skipped (systemd
//     only looks for the keys it knows, so they have no effect there either);
//   - lines that are not valid UTF-8: skipped, so every field handed on is
//     printable text (systemd drops an invalid STATUS= likewise).
func parseNotify(data []byte) ([][2]string, error) {
	if len(data) == 0 {
		return nil, errEmpty
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, errNUL
	}
	var fields [][2]string
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		k, v, ok := bytes.Cut(line, []byte{'='})
		if !ok || len(k) == 0 || !utf8.Valid(line) {
			continue
		}
		fields = append(fields, [2]string{string(k), string(v)})
	}
	return fields, nil
}

// bindNotifyPath binds the notify socket to a file path: parent
// directories are created, a socket left by an earlier run is replaced,
// and the file gets mode 0666 so that services running as other users can
// send to it.
func bindNotifyPath(fd int, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return err
	}
	return os.Chmod(path, 0o666)
}

// NotifyFromFD takes over a notify socket inherited across an exec
// (daemon-reexec): fd is already bound to path and set up.
func NotifyFromFD(fd int, path string) *NotifySocket {
	n := &NotifySocket{fd: fd, path: path}
	n.buf = make([]byte, NotifyMaxSize)
	n.oob = make([]byte, notifyOOBSize)
	return n
}
