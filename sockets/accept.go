package sockets

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Accept accepts one connection on an Accept=yes listening fd and returns
// it with the service instance name systemd 252 forms for it
// (instance_from_socket in systemd's socket.c; systemd.socket(5) only says
// an instance is spawned per connection). nr is the socket unit's
// connection counter, owned by the caller: systemd uses 0 for the first
// connection and counts up. Formats:
//
//	AF_INET:                 "<nr>-<local ip>:<local port>-<remote ip>:<remote port>"
//	AF_INET6, both v4-mapped: the same with the plain IPv4 addresses
//	AF_INET6:                "<nr>-<local ip6>:<port>-<remote ip6>:<port>" (no brackets, no zone)
//	AF_UNIX:                 "<nr>-<peer pid>-<peer uid>", or "<nr>-unknown" without peer credentials
//	AF_VSOCK:                "<nr>-<local cid>:<port>-<remote cid>:<port>"
//
// The returned fd is close-on-exec and blocking: it becomes a child's
// stdin/stdout (StandardInput=socket), where inetd-style programs expect
// blocking I/O, and O_NONBLOCK would be shared with them through the open
// file description. With nothing to accept it returns EAGAIN.
func Accept(listenFD int, nr uint64) (conn int, instance string, err error) {
	conn, err = accept(listenFD)
	if err != nil {
		return -1, "", err
	}
	instance, err = instanceName(conn, nr)
	if err != nil {
		unix.Close(conn)
		return -1, "", err
	}
	return conn, instance, nil
}

func instanceName(conn int, nr uint64) (string, error) {
	local, err := unix.Getsockname(conn)
	if err != nil {
		return "", fmt.Errorf("getsockname: %w", err)
	}
	switch l := local.(type) {
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
		remote, err := unix.Getpeername(conn)
		if err != nil {
			return "", fmt.Errorf("getpeername: %w", err)
		}
		la, lp := inetAddr(l)
		ra, rp := inetAddr(remote)
		if la.Is4In6() && ra.Is4In6() {
			la, ra = la.Unmap(), ra.Unmap()
		}
		return fmt.Sprintf("%d-%s:%d-%s:%d", nr, la, lp, ra, rp), nil
	case *unix.SockaddrUnix:
		pid, uid, ok := peerCred(conn)
		if !ok {
			return fmt.Sprintf("%d-unknown", nr), nil
		}
		return fmt.Sprintf("%d-%d-%d", nr, pid, uid), nil
	}
	if s, ok := vsockInstance(conn, local, nr); ok {
		return s, nil
	}
	return "", fmt.Errorf("accept: unexpected address family %T", local)
}

// inetAddr returns the address without zone, as inet_ntop prints it.
func inetAddr(sa unix.Sockaddr) (netip.Addr, int) {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(a.Addr), a.Port
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(a.Addr), a.Port
	}
	return netip.Addr{}, 0
}
