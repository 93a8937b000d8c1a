//go:build linux || freebsd

package control

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// listenUnix creates the socket file (replacing a stale one), with mode
// applied by chmod so the umask does not matter. Go's net package opens
// and accepts every socket close-on-exec and non-blocking, and closing
// the listener removes the file.
func listenUnix(path string, mode os.FileMode) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// peer is who is at the other end of an accepted connection.
type peer struct {
	uid, pid int // uid -1 if unknown (treated as unprivileged)
}

// peerOf reads the peer's credentials, taken by the kernel at connect time.
func peerOf(nc *net.UnixConn) peer {
	p := peer{uid: -1}
	raw, err := nc.SyscallConn()
	if err != nil {
		return p
	}
	raw.Control(func(fd uintptr) {
		if uid, pid, err := peerUID(int(fd)); err == nil {
			p.uid, p.pid = uid, pid
		}
	})
	return p
}

// acceptLoop accepts until ln is closed. admit (called on this goroutine,
// one connection at a time, so counts it keeps are current) refuses a
// connection by returning false; serve runs on a goroutine of its own per
// admitted connection. Each connection costs one parked goroutine and a
// small read buffer while idle.
func acceptLoop(ln *net.UnixListener, admit func(peer) bool, serve func(*net.UnixConn, peer)) {
	for {
		nc, err := ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of fds or memory: wait instead of spinning.
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) {
				time.Sleep(50 * time.Millisecond)
			}
			continue
		}
		p := peerOf(nc)
		if !admit(p) {
			nc.Close()
			continue
		}
		go serve(nc, p)
	}
}
