package sockets

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// notifyRcvBuf is the notify socket's receive buffer: large, so that a
// burst of READY/STATUS messages from many services starting at once is
// not dropped while the reactor is busy.
const notifyRcvBuf = 8 << 20

// ListenNotify creates the notify socket at path: a file path (parent
// directories are created; a stale socket there is replaced) or "@name"
// for the abstract namespace. The file gets mode 0666 so that services
// running as other users can send to it.
func ListenNotify(path string) (*NotifySocket, error) {
	if path == "" || path == "@" {
		return nil, errors.New("notify socket: empty path")
	}
	fd, err := newSocket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	n := &NotifySocket{fd: fd, path: path}
	if err := n.setup(); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("notify socket %s: %w", path, err)
	}
	n.buf = make([]byte, NotifyMaxSize)
	n.oob = make([]byte, notifyOOBSize)
	return n, nil
}

func (n *NotifySocket) setup() error {
	if err := unix.SetsockoptInt(n.fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		return fmt.Errorf("SO_PASSCRED: %w", err)
	}
	if err := setBuffer(n.fd, unix.SO_RCVBUF, rcvBufForceOpt, notifyRcvBuf); err != nil {
		return fmt.Errorf("SO_RCVBUF: %w", err)
	}
	if n.path[0] == '@' {
		// x/sys maps a leading '@' to the abstract namespace.
		return unix.Bind(n.fd, &unix.SockaddrUnix{Name: n.path})
	}
	return bindNotifyPath(n.fd, n.path)
}

func (n *NotifySocket) receive() (Message, error) {
	nr, oobn, flags, _, err := unix.Recvmsg(n.fd, n.buf, n.oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
	if err != nil {
		return Message{}, err
	}
	var m Message
	haveCreds := false
	cmsgs, perr := unix.ParseSocketControlMessage(n.oob[:oobn])
	for _, c := range cmsgs {
		if c.Header.Level != unix.SOL_SOCKET {
			continue
		}
		switch c.Header.Type {
		case unix.SCM_RIGHTS:
			fds, _ := unix.ParseUnixRights(&c)
			m.Fds = append(m.Fds, fds...)
		case unix.SCM_CREDENTIALS:
			if cred, err := unix.ParseUnixCredentials(&c); err == nil {
				m.Pid, m.Uid, m.Gid = int(cred.Pid), int(cred.Uid), int(cred.Gid)
				haveCreds = true
			}
		}
	}
	truncated := flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || perr != nil
	return finish(m, n.buf[:nr], truncated, haveCreds)
}

var notifyOOBSize = unix.CmsgSpace(unix.SizeofUcred) + unix.CmsgSpace(4*NotifyMaxFds)
