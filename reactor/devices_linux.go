package reactor

import (
	"errors"
	"strconv"

	"golang.org/x/sys/unix"

	"gosd/internal/uevent"
	"gosd/manager"
)

// The uevent socket: NETLINK_KOBJECT_UEVENT bound to both groups, the
// kernel's (1) and udev's (2); which one counts is decided per message,
// since udev may start after gosd (the Debian boot starts it): while
// /run/udev/control exists only udev's messages count (they come after
// its rules and database), otherwise only the kernel's. Non-blocking,
// close-on-exec, a bounded receive buffer; a burst larger than it is
// noticed (ENOBUFS) and answered by reading everything again.

// ueventSource marks the uevent socket in r.sources.
type ueventSource struct{}

// ueventRcvBuf bounds what the kernel queues for gosd between two turns:
// a few thousand uevents, a coldplug trigger of a large machine.
const ueventRcvBuf = 4 << 20

// ueventBurst bounds the datagrams read per turn, so that a flood cannot
// keep the reactor from its other fds.
const ueventBurst = 256

// openUeventSocket opens and binds the socket.
func openUeventSocket(groups uint32) (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return -1, err
	}
	// FORCE needs CAP_NET_ADMIN; without it the plain size, capped by
	// net.core.rmem_max, is what there is.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, ueventRcvBuf) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, ueventRcvBuf)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// startDeviceWatch opens the uevent socket and reads the devices present
// (the coldplug) on a goroutine of its own, at the start of Run: reading
// /sys is the longest single step of gosd's start (measured 0.85 ms of
// its CPU to the target at 10 units, on the loop), and the loop has
// other start-up work to do meanwhile on the other core. openDeviceWatch
// feeds the result where the loop read it before, so the manager sees
// the same events in the same order. The socket is open before the read
// starts, so a device that comes meanwhile is in one or the other.
func (r *Reactor) startDeviceWatch() {
	r.devFS = hostDeviceFS
	r.devReported = map[string]bool{}
	fd, err := openUeventSocket(uevent.GroupKernel | uevent.GroupUdev)
	if err != nil {
		r.logf("", "cannot follow devices (uevent socket): %v; device units know only what is there now", err)
	} else if err := r.addSource(fd, ueventSource{}); err != nil {
		unix.Close(fd)
		r.logf("", "cannot follow devices: %v", err)
	} else {
		r.ueventFD = fd
	}
	scan := make(chan coldplugResult, 1)
	r.coldplugScan = scan
	fs := r.devFS
	go func() {
		// Not under the reactor's guard: a panic here would end PID1.
		defer func() {
			if v := recover(); v != nil {
				scan <- coldplugResult{panicked: v}
			}
		}()
		scan <- coldplugResult{devs: fs.coldplug()}
	}()
}

// openDeviceWatch reports the devices startDeviceWatch read.
func (r *Reactor) openDeviceWatch() {
	if r.coldplugScan == nil {
		r.startDeviceWatch()
	}
	res := <-r.coldplugScan
	r.coldplugScan = nil
	if res.panicked != nil {
		r.logf("", "panic reading the devices present: %v; reading them again", res.panicked)
		r.feedColdplug()
		return
	}
	r.feedDevices(res.devs)
}

func (r *Reactor) closeDeviceWatch() { r.closeSource(&r.ueventFD) }

// feedColdplug reports every device present, a full report.
func (r *Reactor) feedColdplug() { r.feedDevices(r.devFS.coldplug()) }

// feedDevices reports devs as every device present.
func (r *Reactor) feedDevices(devs []manager.Device) {
	r.devReported = map[string]bool{}
	for _, d := range devs {
		r.devReported[d.SysPath] = true
	}
	r.Feed(manager.DevicesChanged{Coldplug: true, Devices: devs})
}

// readUevents reads what the socket holds, up to ueventBurst datagrams.
func (r *Reactor) readUevents() {
	if r.ueventBuf == nil {
		// udev's messages are at most 8 KiB (libudev's monitor buffer),
		// the kernel's 2 KiB; a longer one is cut and dropped.
		r.ueventBuf = make([]byte, 16<<10)
	}
	buf := r.ueventBuf
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	var ev manager.DevicesChanged
	for i := 0; i < ueventBurst; i++ {
		n, oobn, flags, from, err := unix.Recvmsg(r.ueventFD, buf, oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ENOBUFS) {
			// uevents were dropped: what is there now is known only by
			// reading it all again.
			r.logf("", "device events overflowed the socket buffer; reading every device again")
			r.feedPending(&ev)
			r.feedColdplug()
			continue
		}
		if err != nil {
			break // EAGAIN: all read
		}
		if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			continue
		}
		m, ok := acceptUevent(buf[:n], oob[:oobn], from)
		if !ok {
			continue
		}
		if !m.Udev && r.devFS.udevRunning() {
			r.leaveKernelGroup()
			continue
		}
		r.devFS.uevent(m, r.devReported, &ev)
	}
	r.feedPending(&ev)
}

// leaveKernelGroup stops the kernel's own uevents once udev serves the
// system: then only udev's count, as for systemd, which listens to udev's
// alone, and udev-trigger's flood of a few thousand is not received twice.
func (r *Reactor) leaveKernelGroup() {
	if r.ueventKernelLeft {
		return
	}
	r.ueventKernelLeft = true
	if err := unix.SetsockoptInt(r.ueventFD, unix.SOL_NETLINK, unix.NETLINK_DROP_MEMBERSHIP, ueventKernelGroupNumber); err != nil {
		r.logf("", "uevent socket: leaving the kernel's group: %v", err)
	}
}

// ueventKernelGroupNumber is the kernel's group (uevent.GroupKernel, a
// mask) as the number NETLINK_DROP_MEMBERSHIP takes.
const ueventKernelGroupNumber = 1

func (r *Reactor) feedPending(ev *manager.DevicesChanged) {
	if len(ev.Devices) > 0 {
		r.Feed(*ev)
	}
	*ev = manager.DevicesChanged{}
}

// acceptUevent checks a datagram's sender as libudev does and parses it:
// credentials must say uid 0; a kernel message (group 1) must come from
// the kernel (netlink port 0); a udev message (group 2) carries udev's
// header. Anything else is dropped.
func acceptUevent(b, oob []byte, from unix.Sockaddr) (uevent.Message, bool) {
	nl, ok := from.(*unix.SockaddrNetlink)
	if !ok {
		return uevent.Message{}, false
	}
	if !rootSender(oob) {
		return uevent.Message{}, false
	}
	m, err := uevent.Parse(b)
	if err != nil {
		return uevent.Message{}, false
	}
	switch {
	case m.Udev && nl.Groups&uevent.GroupUdev != 0:
	case !m.Udev && nl.Groups&uevent.GroupKernel != 0 && nl.Pid == 0:
	default:
		return uevent.Message{}, false
	}
	return m, true
}

// rootSender: the datagram's SCM_CREDENTIALS say uid 0.
func rootSender(oob []byte) bool {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return false
	}
	for i := range msgs {
		if c, err := unix.ParseUnixCredentials(&msgs[i]); err == nil {
			return c.Uid == 0
		}
	}
	return false
}

// linkIsDevice: udev's link l is still the node of device major:minor (or
// cannot be checked, as systemd keeps it then).
func (fs deviceFS) linkIsDevice(l, major, minor string) bool {
	var st unix.Stat_t
	if unix.Stat(l, &st) != nil {
		return true
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK && st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return false
	}
	return strconv.FormatUint(uint64(unix.Major(st.Rdev)), 10) == major && strconv.FormatUint(uint64(unix.Minor(st.Rdev)), 10) == minor
}
