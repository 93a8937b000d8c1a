//go:build freebsd || darwin

package sockets

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// Abstract unix sockets are a Linux feature.
const abstractSupported = false

var (
	passCredOpt    = sockopt{} // LOCAL_CREDS differs in semantics; not mapped
	passSecOpt     = sockopt{}
	priorityOpt    = sockopt{}
	markOpt        = sockopt{}
	rcvBufForceOpt = sockopt{}
	sndBufForceOpt = sockopt{}
)

func socketError(domain int, err error) error { return fmt.Errorf("socket: %w", err) }

func packetInfoOpt(domain int) sockopt {
	switch domain {
	case unix.AF_INET:
		return sockopt{unix.IPPROTO_IP, unix.IP_RECVDSTADDR}
	case unix.AF_INET6:
		return sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO}
	}
	return sockopt{}
}

func bindToDevice(fd int, dev string) error { return errUnsupported }

func setPipeSize(fd int, n uint64) error { return errUnsupported }

func vsockAddress(l *unitfile.Listen) (int, int, unix.Sockaddr, error) {
	return 0, 0, nil, fmt.Errorf("AF_VSOCK is %w", errUnsupported)
}

func netlinkAddress(l *unitfile.Listen) (int, int, unix.Sockaddr, error) {
	return 0, 0, nil, fmt.Errorf("netlink is %w", errUnsupported)
}

func openMessageQueue(set *Set, l *unitfile.Listen, s *unitfile.Socket, uid, gid int) (int, error) {
	return -1, errors.New("POSIX message queues (ListenMessageQueue=) are not supported on " + runtime.GOOS)
}

func mqUnlink(path string) error { return errUnsupported }
