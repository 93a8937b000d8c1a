package sockets

import "golang.org/x/sys/unix"

var keepIdleOpt = sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE}

func newSocket(domain, typ, proto int) (int, error) {
	return unix.Socket(domain, typ|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
}

// FreeBSD's IP_BINDANY covers both FreeBind= and Transparent=.
func freeBindOpt(domain int) sockopt {
	if domain == unix.AF_INET6 {
		return sockopt{unix.IPPROTO_IPV6, unix.IPV6_BINDANY}
	}
	return sockopt{unix.IPPROTO_IP, unix.IP_BINDANY}
}

func transparentOpt(domain int) sockopt { return freeBindOpt(domain) }
