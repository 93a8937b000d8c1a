//go:build linux || freebsd

package control

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// unixListener is the netpoll.Listener handed to Serve. netpoll's own
// listener accepts without SOCK_CLOEXEC, so every accepted control
// connection would leak into every service gosd spawns; this one uses
// accept4(SOCK_CLOEXEC|SOCK_NONBLOCK).
type unixListener struct {
	mu     sync.Mutex
	fd     int
	addr   *net.UnixAddr
	closed bool
	// admit is asked before a connection is handed to netpoll; false
	// closes it at once (the connection cap).
	admit func(fd int) bool
}

// listenUnix creates the socket file (replacing a stale one), with mode
// applied by chmod so the umask does not matter.
func listenUnix(path string, mode os.FileMode) (*unixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "bind", Path: path, Err: err}
	}
	if err := os.Chmod(path, mode); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.Listen(fd, 4096); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("listen", err)
	}
	return &unixListener{fd: fd, addr: &net.UnixAddr{Name: path, Net: "unix"}}, nil
}

var errListenerClosed = errors.New("use of closed listener")

// Accept follows netpoll's convention: (nil, nil) means "nothing to accept
// now" (EAGAIN), and an error mentioning "closed" ends the serve loop.
func (l *unixListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	fd, closed := l.fd, l.closed
	l.mu.Unlock()
	if closed {
		return nil, errListenerClosed
	}
	for {
		nfd, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK)
		switch {
		case err == unix.EINTR || err == unix.ECONNABORTED:
			continue
		case err == unix.EAGAIN || err == unix.EWOULDBLOCK:
			return nil, nil
		case err != nil:
			if err == unix.EBADF || err == unix.EINVAL {
				return nil, errListenerClosed
			}
			return nil, err
		}
		if l.admit != nil && !l.admit(nfd) {
			unix.Close(nfd)
			continue
		}
		return &acceptedConn{fd: nfd, local: l.addr}, nil
	}
}

func (l *unixListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return unix.Close(l.fd)
}

func (l *unixListener) Addr() net.Addr { return l.addr }
func (l *unixListener) Fd() int        { return l.fd }

// acceptedConn carries an accepted fd to netpoll, which only takes Fd and
// the addresses from it and does all I/O itself; the other net.Conn
// methods exist to satisfy the interface.
type acceptedConn struct {
	fd    int
	local net.Addr
}

func (c *acceptedConn) Fd() int                          { return c.fd }
func (c *acceptedConn) Read(b []byte) (int, error)       { return unix.Read(c.fd, b) }
func (c *acceptedConn) Write(b []byte) (int, error)      { return unix.Write(c.fd, b) }
func (c *acceptedConn) Close() error                     { return unix.Close(c.fd) }
func (c *acceptedConn) LocalAddr() net.Addr              { return c.local }
func (c *acceptedConn) RemoteAddr() net.Addr             { return &net.UnixAddr{Net: "unix"} }
func (c *acceptedConn) SetDeadline(time.Time) error      { return nil }
func (c *acceptedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *acceptedConn) SetWriteDeadline(time.Time) error { return nil }
