package unitfile

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// VsockCIDAny is VMADDR_CID_ANY, the CID used when a vsock address omits it.
const VsockCIDAny = ^uint32(0)

// netlinkFamilies are the names ListenNetlink= accepts (systemd.socket(5)
// refers to netlink(7); these are systemd's names for them).
var netlinkFamilies = map[string]bool{
	"route": true, "inet-diag": true, "sock-diag": true, "selinux": true, "iscsi": true,
	"audit": true, "fib-lookup": true, "connector": true, "netfilter": true, "ip6-fw": true,
	"dnrtmsg": true, "kobject-uevent": true, "generic": true, "scsitransport": true,
	"ecryptfs": true, "rdma": true, "crypto": true, "firewall": true, "nflog": true,
	"xfrm": true, "usersock": true,
}

// ParseListen parses one Listen*= value as systemd.socket(5) describes:
//
//   - Stream, Datagram, SequentialPacket: "/path" (unix), "@name"
//     (abstract unix), "PORT" alone (any address, dual stack subject to
//     BindIPv6Only=), "1.2.3.4:PORT", "[::1]:PORT", "[fe80::1%eth0]:PORT",
//     "vsock:CID:PORT" or "vsock::PORT" (any CID). SequentialPacket is
//     unix only.
//   - Netlink: "FAMILY [GROUP]", e.g. "kobject-uevent 1".
//   - FIFO, Special, MessageQueue, USBFunction: an absolute path.
func ParseListen(kind ListenKind, value string, pos Pos) (Listen, error) {
	l := Listen{Kind: kind, Address: value, Pos: pos}
	v := strings.TrimSpace(value)
	if v == "" {
		return Listen{}, fmt.Errorf("empty Listen%s= address", kind)
	}
	switch kind {
	case ListenFIFO, ListenSpecial, ListenMessageQueue, ListenUSBFunction:
		if !strings.HasPrefix(v, "/") {
			return Listen{}, fmt.Errorf("Listen%s= path is not absolute: %s", kind, v)
		}
		if kind == ListenMessageQueue && strings.Count(v, "/") != 1 {
			return Listen{}, fmt.Errorf("invalid message queue name %q: it must be /NAME", v)
		}
		l.Path = v
		return l, nil
	case ListenNetlink:
		fields := strings.Fields(v)
		if len(fields) > 2 {
			return Listen{}, fmt.Errorf("invalid netlink address %q", v)
		}
		if _, err := strconv.Atoi(fields[0]); err != nil && !netlinkFamilies[fields[0]] {
			return Listen{}, fmt.Errorf("unknown netlink family %q", fields[0])
		}
		l.Family, l.Path = "netlink", fields[0]
		if len(fields) == 2 {
			g, err := strconv.Atoi(fields[1])
			if err != nil || g < 0 {
				return Listen{}, fmt.Errorf("invalid netlink group %q", fields[1])
			}
			l.Group = g
		}
		return l, nil
	case ListenStream, ListenDatagram, ListenSequentialPacket:
	default:
		return Listen{}, fmt.Errorf("unknown listen kind %q", kind)
	}

	switch {
	case strings.HasPrefix(v, "/"):
		l.Family, l.Path = "unix", v
	case strings.HasPrefix(v, "@"):
		if len(v) == 1 {
			return Listen{}, fmt.Errorf("empty abstract socket name")
		}
		l.Family, l.Path, l.Abstract = "unix", v[1:], true
	case strings.HasPrefix(v, "vsock:"):
		cid, port, ok := strings.Cut(v[len("vsock:"):], ":")
		if !ok {
			return Listen{}, fmt.Errorf("invalid vsock address %q: want vsock:CID:PORT", v)
		}
		l.Family, l.CID = "vsock", VsockCIDAny
		if cid != "" {
			n, err := strconv.ParseUint(cid, 10, 32)
			if err != nil {
				return Listen{}, fmt.Errorf("invalid vsock CID %q", cid)
			}
			l.CID = uint32(n)
		}
		p, err := strconv.ParseUint(port, 10, 32)
		if err != nil {
			return Listen{}, fmt.Errorf("invalid vsock port %q", port)
		}
		l.Port = int(p)
	default:
		l.Family = "inet"
		host, port := "", v
		if i := strings.LastIndexByte(v, ':'); i >= 0 {
			host, port = v[:i], v[i+1:]
			if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
				host = host[1 : len(host)-1]
				if _, err := netip.ParseAddr(host); err != nil || !strings.Contains(host, ":") {
					return Listen{}, fmt.Errorf("invalid IPv6 address %q", host)
				}
			} else if a, err := netip.ParseAddr(host); err != nil || !a.Is4() {
				return Listen{}, fmt.Errorf("invalid address %q (IPv6 needs [brackets])", v)
			}
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return Listen{}, fmt.Errorf("invalid port %q in %q", port, v)
		}
		l.Host, l.Port = host, p
	}
	if kind == ListenSequentialPacket && l.Family != "unix" {
		return Listen{}, fmt.Errorf("ListenSequentialPacket= is only for AF_UNIX sockets: %s", v)
	}
	return l, nil
}
