package sockets

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

const abstractSupported = true

var (
	keepIdleOpt    = sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE}
	passCredOpt    = sockopt{unix.SOL_SOCKET, unix.SO_PASSCRED}
	passSecOpt     = sockopt{unix.SOL_SOCKET, unix.SO_PASSSEC}
	priorityOpt    = sockopt{unix.SOL_SOCKET, unix.SO_PRIORITY}
	markOpt        = sockopt{unix.SOL_SOCKET, unix.SO_MARK}
	rcvBufForceOpt = sockopt{unix.SOL_SOCKET, unix.SO_RCVBUFFORCE}
	sndBufForceOpt = sockopt{unix.SOL_SOCKET, unix.SO_SNDBUFFORCE}
)

// newSocket creates a close-on-exec, non-blocking socket atomically.
func newSocket(domain, typ, proto int) (int, error) {
	return unix.Socket(domain, typ|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
}

func socketError(domain int, err error) error {
	if domain == unix.AF_VSOCK && errors.Is(err, unix.EAFNOSUPPORT) {
		return fmt.Errorf("socket: the kernel has no AF_VSOCK support (vsock module not loaded, no /dev/vsock): %w", err)
	}
	return fmt.Errorf("socket: %w", err)
}

func freeBindOpt(domain int) sockopt {
	if domain == unix.AF_INET6 {
		return sockopt{unix.IPPROTO_IPV6, unix.IPV6_FREEBIND}
	}
	return sockopt{unix.IPPROTO_IP, unix.IP_FREEBIND}
}

func transparentOpt(domain int) sockopt {
	if domain == unix.AF_INET6 {
		return sockopt{unix.IPPROTO_IPV6, unix.IPV6_TRANSPARENT}
	}
	return sockopt{unix.IPPROTO_IP, unix.IP_TRANSPARENT}
}

func packetInfoOpt(domain int) sockopt {
	switch domain {
	case unix.AF_INET:
		return sockopt{unix.IPPROTO_IP, unix.IP_PKTINFO}
	case unix.AF_INET6:
		return sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO}
	case unix.AF_NETLINK:
		return sockopt{unix.SOL_NETLINK, unix.NETLINK_PKTINFO}
	}
	return sockopt{}
}

func bindToDevice(fd int, dev string) error { return unix.BindToDevice(fd, dev) }

func setPipeSize(fd int, n uint64) error {
	if n > 1<<31-1 {
		return unix.EINVAL
	}
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, int(n))
	return err
}

// vsockAddress: ListenStream=vsock:CID:PORT; CID defaults to VMADDR_CID_ANY
// in the parser.
func vsockAddress(l *unitfile.Listen) (int, int, unix.Sockaddr, error) {
	if l.Port < 0 || l.Port > 1<<32-1 {
		return 0, 0, nil, fmt.Errorf("vsock port %d out of range", l.Port)
	}
	return unix.AF_VSOCK, 0, &unix.SockaddrVM{CID: l.CID, Port: uint32(l.Port)}, nil
}

// netlinkFamilies maps ListenNetlink= family names to NETLINK_* protocol
// numbers (linux/netlink.h), with the names systemd uses.
var netlinkFamilies = map[string]int{
	"route":          unix.NETLINK_ROUTE,
	"usersock":       unix.NETLINK_USERSOCK,
	"firewall":       unix.NETLINK_FIREWALL,
	"inet-diag":      unix.NETLINK_INET_DIAG,
	"sock-diag":      unix.NETLINK_SOCK_DIAG,
	"nflog":          unix.NETLINK_NFLOG,
	"xfrm":           unix.NETLINK_XFRM,
	"selinux":        unix.NETLINK_SELINUX,
	"iscsi":          unix.NETLINK_ISCSI,
	"audit":          unix.NETLINK_AUDIT,
	"fib-lookup":     unix.NETLINK_FIB_LOOKUP,
	"connector":      unix.NETLINK_CONNECTOR,
	"netfilter":      unix.NETLINK_NETFILTER,
	"ip6-fw":         unix.NETLINK_IP6_FW,
	"dnrtmsg":        unix.NETLINK_DNRTMSG,
	"kobject-uevent": unix.NETLINK_KOBJECT_UEVENT,
	"generic":        unix.NETLINK_GENERIC,
	"scsitransport":  unix.NETLINK_SCSITRANSPORT,
	"ecryptfs":       unix.NETLINK_ECRYPTFS,
	"rdma":           unix.NETLINK_RDMA,
	"crypto":         unix.NETLINK_CRYPTO,
	"smc":            unix.NETLINK_SMC,
}

// netlinkAddress: ListenNetlink=FAMILY GROUP; FAMILY is a name from the
// table or a protocol number, GROUP the multicast group mask (nl_groups).
func netlinkAddress(l *unitfile.Listen) (int, int, unix.Sockaddr, error) {
	proto, ok := netlinkFamilies[l.Path]
	if !ok {
		n, err := strconv.Atoi(l.Path)
		if err != nil || n < 0 || n > 31 {
			return 0, 0, nil, fmt.Errorf("unknown netlink family %q", l.Path)
		}
		proto = n
	}
	if l.Group < 0 || l.Group > 1<<32-1 {
		return 0, 0, nil, fmt.Errorf("netlink group %d out of range", l.Group)
	}
	return unix.AF_NETLINK, proto, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: uint32(l.Group)}, nil
}

// mqAttr is struct mq_attr (all C longs, which is Go's int on Linux).
type mqAttr struct {
	Flags, MaxMsg, MsgSize, CurMsgs int
	reserved                        [4]int
}

// mqName strips the leading '/' that mq_overview(7) requires in the name;
// the syscall takes the name without it (glibc strips it too).
func mqName(path string) (string, error) {
	if !strings.HasPrefix(path, "/") || len(path) < 2 || strings.Contains(path[1:], "/") {
		return "", fmt.Errorf("message queue name %q must be one '/' followed by a name", path)
	}
	return path[1:], nil
}

// openMessageQueue creates (or opens) a POSIX message queue read-only and
// non-blocking, with MessageQueueMaxMessages=/MessageQueueMessageSize= when
// both are set, as systemd does.
func openMessageQueue(set *Set, l *unitfile.Listen, s *unitfile.Socket, uid, gid int) (int, error) {
	name, err := mqName(l.Path)
	if err != nil {
		return -1, err
	}
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return -1, err
	}
	var attr *mqAttr
	if s.MessageQueueMaxMessages > 0 && s.MessageQueueMessageSize > 0 {
		attr = &mqAttr{Flags: unix.O_NONBLOCK, MaxMsg: int(s.MessageQueueMaxMessages), MsgSize: int(s.MessageQueueMessageSize)}
	}
	r, _, errno := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(p)),
		uintptr(unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_CREAT),
		uintptr(s.SocketMode&0o777), uintptr(unsafe.Pointer(attr)), 0, 0)
	if errno != 0 {
		return -1, fmt.Errorf("mq_open: %w", errno)
	}
	fd := int(r)
	set.mqueues = append(set.mqueues, l.Path)
	// mq_open(3) applied the umask; SocketMode= is meant exactly.
	err = unix.Fchmod(fd, s.SocketMode&0o777)
	if err == nil && (uid >= 0 || gid >= 0) {
		err = unix.Fchown(fd, uid, gid)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func mqUnlink(path string) error {
	name, err := mqName(path)
	if err != nil {
		return err
	}
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_MQ_UNLINK, uintptr(unsafe.Pointer(p)), 0, 0); errno != 0 {
		return errno
	}
	return nil
}
