package sockets

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// notifyRcvBuf is asked for the notify socket's receive buffer; FreeBSD
// caps it at kern.ipc.maxsockbuf, and a refusal keeps the default.
const notifyRcvBuf = 2 << 20

// ListenNotify creates the notify socket at a file path (FreeBSD has no
// abstract namespace). The sender's pid arrives with every datagram as
// SCM_CREDS2 (LOCAL_CREDS_PERSISTENT, FreeBSD 13 and later); before 13
// only from senders that attach an SCM_CREDS message themselves, and a
// datagram without credentials is rejected as on Linux.
func ListenNotify(path string) (*NotifySocket, error) {
	if path == "" || path[0] == '@' {
		return nil, errors.New("notify socket: a file path is needed (no abstract sockets on FreeBSD)")
	}
	fd, err := newSocket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	n := &NotifySocket{fd: fd, path: path}
	// ENOPROTOOPT before FreeBSD 13: then only SCM_CREDS senders count.
	unix.SetsockoptInt(fd, bsdSOLLocal, bsdLocalCredsPersistent, 1)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, notifyRcvBuf)
	if err := bindNotifyPath(fd, path); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("notify socket %s: %w", path, err)
	}
	n.buf = make([]byte, NotifyMaxSize)
	n.oob = make([]byte, notifyOOBSize)
	return n, nil
}

func (n *NotifySocket) receive() (Message, error) {
	nr, oobn, flags, _, err := unix.Recvmsg(n.fd, n.buf, n.oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
	if err != nil {
		return Message{}, err
	}
	cmsgs, perr := unix.ParseSocketControlMessage(n.oob[:oobn])
	fds, cred, haveCreds := bsdControl(cmsgs)
	m := Message{Pid: cred.pid, Uid: cred.uid, Gid: cred.gid, Fds: fds}
	truncated := flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || perr != nil
	return finish(m, n.buf[:nr], truncated, haveCreds)
}

var notifyOOBSize = bsdNotifyOOBSize
