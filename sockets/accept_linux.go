package sockets

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func accept(fd int) (int, error) {
	conn, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
	return conn, err
}

// peerCred reports the connecting process's pid and uid. The kernel
// reports pid 0 when the peer is in another pid namespace; systemd then
// uses "unknown" too (it gets ENODATA).
func peerCred(conn int) (pid, uid int, ok bool) {
	c, err := unix.GetsockoptUcred(conn, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil || c.Pid <= 0 {
		return 0, 0, false
	}
	return int(c.Pid), int(c.Uid), true
}

func vsockInstance(conn int, local unix.Sockaddr, nr uint64) (string, bool) {
	l, ok := local.(*unix.SockaddrVM)
	if !ok {
		return "", false
	}
	remote, err := unix.Getpeername(conn)
	r, ok := remote.(*unix.SockaddrVM)
	if err != nil || !ok {
		return "", false
	}
	return fmt.Sprintf("%d-%d:%d-%d:%d", nr, l.CID, l.Port, r.CID, r.Port), true
}
