package sockets

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// sockopt is one integer socket option (level, name). A zero sockopt means
// the platform has no such option.
type sockopt struct{ level, name int }

func (o sockopt) supported() bool { return o != sockopt{} }

// errUnsupported is wrapped by every "not supported on <os>" error.
var errUnsupported = errors.New("not supported on " + runtime.GOOS)

func setOpt(fd int, o sockopt, v int) error {
	if !o.supported() {
		return errUnsupported
	}
	return unix.SetsockoptInt(fd, o.level, o.name, v)
}

// applyOptions sets the options systemd applies after listen(2)
// (socket_apply_socket_options). systemd only logs their failures, so they
// come back as warnings and never fail the unit.
//
// Priority=, Mark=, IPTOS= and IPTTL= are applied when > 0: their unset
// value is -1, and 0 is the kernel's default for the first three (and
// invalid for IPTTL), so a zero value needs no call.
func applyOptions(fd, domain int, s *unitfile.Socket) []string {
	var warnings []string
	set := func(setting string, o sockopt, v int) {
		if err := setOpt(fd, o, v); err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: %v", setting, err))
		}
	}
	secs := func(d time.Duration) int { return int(min(d/time.Second, math.MaxInt32)) }
	if s.KeepAlive {
		set("KeepAlive=", sockopt{unix.SOL_SOCKET, unix.SO_KEEPALIVE}, 1)
	}
	if s.KeepAliveTimeSec > 0 {
		set("KeepAliveTimeSec=", keepIdleOpt, secs(s.KeepAliveTimeSec))
	}
	if s.KeepAliveIntervalSec > 0 {
		set("KeepAliveIntervalSec=", sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL}, secs(s.KeepAliveIntervalSec))
	}
	if s.KeepAliveProbes > 0 {
		set("KeepAliveProbes=", sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPCNT}, s.KeepAliveProbes)
	}
	if s.NoDelay {
		set("NoDelay=", sockopt{unix.IPPROTO_TCP, unix.TCP_NODELAY}, 1)
	}
	if s.Broadcast {
		set("Broadcast=", sockopt{unix.SOL_SOCKET, unix.SO_BROADCAST}, 1)
	}
	if s.PassCredentials {
		set("PassCredentials=", passCredOpt, 1)
	}
	if s.PassSecurity {
		set("PassSecurity=", passSecOpt, 1)
	}
	if s.PassPacketInfo {
		set("PassPacketInfo=", packetInfoOpt(domain), 1)
	}
	if s.Priority > 0 {
		set("Priority=", priorityOpt, s.Priority)
	}
	if s.ReceiveBuffer > 0 {
		if err := setBuffer(fd, unix.SO_RCVBUF, rcvBufForceOpt, s.ReceiveBuffer); err != nil {
			warnings = append(warnings, fmt.Sprintf("ReceiveBuffer=: %v", err))
		}
	}
	if s.SendBuffer > 0 {
		if err := setBuffer(fd, unix.SO_SNDBUF, sndBufForceOpt, s.SendBuffer); err != nil {
			warnings = append(warnings, fmt.Sprintf("SendBuffer=: %v", err))
		}
	}
	if s.Mark > 0 {
		set("Mark=", markOpt, s.Mark)
	}
	if s.IPTOS > 0 {
		set("IPTOS=", sockopt{unix.IPPROTO_IP, unix.IP_TOS}, s.IPTOS)
	}
	if s.IPTTL > 0 {
		o := sockopt{unix.IPPROTO_IP, unix.IP_TTL}
		if domain == unix.AF_INET6 {
			o = sockopt{unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS}
		}
		set("IPTTL=", o, s.IPTTL)
	}
	return warnings
}

// setBuffer sets SO_RCVBUF/SO_SNDBUF. The privileged "force" variant is
// tried first: Linux SO_RCVBUFFORCE/SO_SNDBUFFORCE ignore the
// rmem_max/wmem_max caps, as systemd does when it runs as root.
func setBuffer(fd, plain int, force sockopt, n uint64) error {
	v := int(min(n, math.MaxInt32))
	if force.supported() && unix.SetsockoptInt(fd, force.level, force.name, v) == nil {
		return nil
	}
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, plain, v)
}
