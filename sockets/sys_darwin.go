package sockets

import (
	"syscall"

	"golang.org/x/sys/unix"
)

var keepIdleOpt = sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPALIVE}

// newSocket: darwin has no SOCK_CLOEXEC; holding ForkLock keeps a
// concurrent fork from inheriting the fd before FD_CLOEXEC is set.
func newSocket(domain, typ, proto int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(domain, typ, proto)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func freeBindOpt(domain int) sockopt    { return sockopt{} }
func transparentOpt(domain int) sockopt { return sockopt{} }
