package reactor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"gosd/manager"
	"gosd/unitfile"
)

// The kernel's autofs, protocol 5 (linux/auto_fs.h), as systemd drives it
// for automount units: a "direct" autofs mount on Where= whose requests
// (a process looked at Where, or an idle mount may be unmounted) are
// written by the kernel as packets into a pipe gosd gave it at mount
// time, and answered by ioctls on /dev/autofs naming the mount by its
// device number (it may be covered by the real mount by then). gosd's own
// process group passes through the mount without a request (pgrp=), and
// so do mount(8) and umount(8), kept in that group.

// autofsPoint is one automount unit's autofs mount.
type autofsPoint struct {
	unit, where string
	pipe        int    // read end of the request pipe, non-blocking
	dev         uint64 // st_dev of the autofs mount
	// expiring: an expire call runs (on its own thread). frozen: the pipe
	// is out of the poller while a re-exec is under way.
	expiring, frozen bool
}

// The /dev/autofs ioctls (linux/auto_dev-ioctl.h): _IOWR(0x93, nr,
// struct autofs_dev_ioctl), the struct being 24 bytes before its path.
const (
	autofsDevIoctlSize = 24
	autofsIoctlVersion = 0xc0189371
	autofsIoctlProto   = 0xc0189372
	autofsIoctlOpen    = 0xc0189374
	autofsIoctlReady   = 0xc0189376
	autofsIoctlFail    = 0xc0189377
	autofsIoctlTimeout = 0xc018937a
	autofsIoctlExpire  = 0xc018937c
)

// autofs packet types of protocol 5 for direct mounts.
const (
	autofsMissingDirect = 5
	autofsExpireDirect  = 6
)

// autofsPacketSize is sizeof(union autofs_v5_packet_union): 300 bytes,
// padded to 304 where a 64-bit field is 8-aligned.
const autofsPacketSize = 304

// devIoctl runs one /dev/autofs command: ioctlFD names the mount (-1 for
// VERSION and OPENMOUNT), arg fills the 8 bytes of parameters, path is
// appended for OPENMOUNT. It returns the struct as the kernel left it.
func devIoctl(dev int, req uintptr, ioctlFD int, arg [8]byte, path string) ([]byte, error) {
	buf := make([]byte, autofsDevIoctlSize, autofsDevIoctlSize+len(path)+1)
	if path != "" {
		buf = append(append(buf, path...), 0)
	}
	ne := binary.NativeEndian
	ne.PutUint32(buf[0:], 1) // AUTOFS_DEV_IOCTL_VERSION_MAJOR
	ne.PutUint32(buf[4:], 0)
	ne.PutUint32(buf[8:], uint32(len(buf)))
	ne.PutUint32(buf[12:], uint32(int32(ioctlFD)))
	copy(buf[16:24], arg[:])
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(dev), req, uintptr(unsafe.Pointer(&buf[0])))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return nil, errno
		}
		return buf, nil
	}
}

// autofsDev opens /dev/autofs once; the fd stays open (close-on-exec).
func (r *Reactor) autofsDev() (int, error) {
	if r.autofsDevFD >= 0 {
		return r.autofsDevFD, nil
	}
	fd, err := unix.Open("/dev/autofs", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if _, err := devIoctl(fd, autofsIoctlVersion, -1, [8]byte{}, ""); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("/dev/autofs: version: %w", err)
	}
	r.autofsDevFD = fd
	return fd, nil
}

// openMount opens the autofs mount of p by its device: an fd on its root
// that the command ioctls name, even when another mount covers it.
func (r *Reactor) openMount(p *autofsPoint) (int, error) {
	dev, err := r.autofsDev()
	if err != nil {
		return -1, err
	}
	var arg [8]byte
	binary.NativeEndian.PutUint32(arg[0:], uint32(p.dev))
	buf, err := devIoctl(dev, autofsIoctlOpen, -1, arg, p.where)
	if err != nil {
		return -1, fmt.Errorf("opening the autofs mount %s: %w", p.where, err)
	}
	return int(int32(binary.NativeEndian.Uint32(buf[12:]))), nil
}

// kernelHasAutofs: "autofs" is in /proc/filesystems.
func kernelHasAutofs() bool {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "autofs" {
			return true
		}
	}
	return false
}

// startAutomount carries out StartAutomount (systemd's
// automount_enter_waiting): the directory, the pipe, the mount, the
// protocol check and the idle timeout. On any failure nothing is left
// mounted or open.
func (r *Reactor) startAutomount(e manager.StartAutomount) manager.AutomountStarted {
	res := manager.AutomountStarted{Unit: e.Unit}
	r.stopAutomount(e.Unit) // a leftover would be shadowed
	if err := os.MkdirAll(e.Where, os.FileMode(e.DirectoryMode)); err != nil {
		res.Err = err
		return res
	}
	if isMountPoint(e.Where) {
		res.AlreadyMounted = true
		return res
	}
	if dirNotEmpty(e.Where) {
		r.logAt(e.Unit, unitfile.Pos{}, manager.LevelNotice,
			fmt.Sprintf("Directory %s to mount over is not empty, mounting anyway.", e.Where))
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		res.Err = err
		return res
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		res.Err = err
		return res
	}
	opts := "fd=" + strconv.Itoa(p[1])
	if pg := unix.Getpgrp(); pg > 0 {
		// PID1 that never left the kernel's group has 0; the kernel then
		// takes the caller's group itself.
		opts += ",pgrp=" + strconv.Itoa(pg)
	}
	opts += ",minproto=5,maxproto=5,direct"
	if e.ExtraOptions != "" {
		opts += "," + e.ExtraOptions
	}
	// The source is named as systemd names it, for tools that look for it.
	err := mountNoFollow("systemd-"+strconv.Itoa(os.Getpid()), e.Where, "autofs", opts)
	unix.Close(p[1])
	if err != nil {
		unix.Close(p[0])
		if errors.Is(err, unix.ENODEV) && !kernelHasAutofs() {
			res.Unsupported = true
			res.Err = errors.New("the kernel has no autofs file system (none in /proc/filesystems, and mounting one could not load its module)")
			return res
		}
		res.Err = fmt.Errorf("mounting autofs on %s: %w", e.Where, err)
		return res
	}
	pt := &autofsPoint{unit: e.Unit, where: e.Where, pipe: p[0]}
	fail := func(err error) manager.AutomountStarted {
		unix.Close(pt.pipe)
		unmountAll(e.Where)
		res.Err = err
		return res
	}
	var st unix.Stat_t
	if err := unix.Stat(e.Where, &st); err != nil {
		return fail(err)
	}
	pt.dev = st.Dev
	fd, err := r.openMount(pt)
	if err != nil {
		res = fail(err)
		if errors.Is(err, unix.ENOENT) && r.autofsDevFD < 0 {
			res.Unsupported = true // systemd needs /dev/autofs too
			res.Err = errors.New("no /dev/autofs, the autofs control device")
		}
		return res
	}
	defer unix.Close(fd)
	buf, err := devIoctl(r.autofsDevFD, autofsIoctlProto, fd, [8]byte{}, "")
	if err != nil {
		return fail(fmt.Errorf("autofs protocol version: %w", err))
	}
	if v := binary.NativeEndian.Uint32(buf[16:]); v < 5 {
		return fail(fmt.Errorf("autofs protocol %d, 5 needed", v))
	}
	var arg [8]byte
	secs := (e.TimeoutIdle + 999_999_999) / 1_000_000_000 // rounded up, as systemd
	binary.NativeEndian.PutUint64(arg[:], uint64(max(secs, 0)))
	if _, err := devIoctl(r.autofsDevFD, autofsIoctlTimeout, fd, arg, ""); err != nil {
		return fail(fmt.Errorf("setting the autofs timeout: %w", err))
	}
	if err := r.addSource(pt.pipe, &autofsSource{unit: e.Unit}); err != nil {
		return fail(err)
	}
	r.automounts[e.Unit] = pt
	return res
}

// mountNoFollow mounts on where without following a symbolic link there
// (where may lie below a directory others can write to): through an
// O_PATH fd of the directory itself.
func mountNoFollow(source, where, fstype, opts string) error {
	fd, err := unix.Open(where, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	target := "/proc/self/fd/" + strconv.Itoa(fd)
	if _, err := os.Stat(target); err != nil {
		target = where // no /proc
	}
	return unix.Mount(source, target, fstype, 0, opts)
}

// unmountAll detaches every mount on p, the top one first (systemd's
// repeat_unmount), at most 64.
func unmountAll(p string) {
	for range 64 {
		if err := unix.Unmount(p, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil {
			return
		}
	}
}

// stopAutomount carries out StopAutomount.
func (r *Reactor) stopAutomount(unit string) {
	pt := r.automounts[unit]
	if pt == nil {
		return
	}
	delete(r.automounts, unit)
	r.removeSource(pt.pipe)
	unix.Close(pt.pipe)
	unmountAll(pt.where)
}

// replyAutomount carries out AutomountReply. A mount torn down meanwhile
// has released its waiters already.
func (r *Reactor) replyAutomount(e manager.AutomountReply) {
	pt := r.automounts[e.Unit]
	if pt == nil {
		return
	}
	fd, err := r.openMount(pt)
	if err != nil {
		r.logf(e.Unit, "answering the kernel: %v", err)
		return
	}
	defer unix.Close(fd)
	for _, tok := range e.Tokens {
		var arg [8]byte
		binary.NativeEndian.PutUint32(arg[0:], tok)
		req := uintptr(autofsIoctlReady)
		if e.Err != 0 {
			req = autofsIoctlFail
			binary.NativeEndian.PutUint32(arg[4:], uint32(-int32(e.Err)))
		}
		if _, err := devIoctl(r.autofsDevFD, req, fd, arg, ""); err != nil && err != unix.ENXIO {
			r.logf(e.Unit, "answering autofs request %d: %v", tok, err)
		}
	}
}

// expireAutomount carries out ExpireAutomount: the kernel holds the call
// while it waits for the expire request to be answered, so it runs on a
// thread of its own, with a mount fd of its own; it repeats until the
// kernel finds nothing more to expire, as systemd's expire thread does.
func (r *Reactor) expireAutomount(e manager.ExpireAutomount) {
	pt := r.automounts[e.Unit]
	if pt == nil || pt.expiring {
		return
	}
	fd, err := r.openMount(pt)
	if err != nil {
		r.logf(e.Unit, "expiring: %v", err)
		return
	}
	pt.expiring = true
	dev := r.autofsDevFD
	go func() {
		var err error
		for err == nil {
			_, err = devIoctl(dev, autofsIoctlExpire, fd, [8]byte{}, "")
		}
		unix.Close(fd)
		r.Submit(func() {
			if err != unix.EAGAIN && err != unix.ENOENT && err != unix.EBADF {
				r.logf(e.Unit, "expiring %s: %v", e.Where, err)
			}
			if r.automounts[e.Unit] == pt {
				pt.expiring = false
			}
		})
	}()
}

// onAutofsPacket reads the kernel's requests of one automount point, a
// bounded number per turn, and feeds each. A short or foreign packet, or
// the pipe's end (the autofs mount went away behind gosd's back), fails
// the unit; the pipe then leaves the poller so it cannot spin.
func (r *Reactor) onAutofsPacket(unit string) {
	pt := r.automounts[unit]
	if pt == nil {
		return
	}
	var buf [autofsPacketSize]byte
	for range 16 {
		n, err := unix.Read(pt.pipe, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return
		}
		var ev manager.AutomountRequest
		switch {
		case err != nil:
			ev = manager.AutomountRequest{Unit: unit, Err: err}
		case n == 0:
			ev = manager.AutomountRequest{Unit: unit, Err: errors.New("the kernel closed the autofs pipe")}
		default:
			var known bool
			if ev, known = parseAutofsPacket(unit, buf[:n]); !known {
				// systemd logs it and goes on.
				r.logf(unit, "Received unknown automount request %d", int32(binary.NativeEndian.Uint32(buf[4:])))
				continue
			}
		}
		if ev.Err != nil {
			r.removeSource(pt.pipe)
			r.Feed(ev)
			return
		}
		if !ev.Expire {
			ev.Covered = covered(pt)
			if ev.PID > 0 {
				ev.Comm = processComm(int(ev.PID))
			}
		}
		r.Feed(ev)
	}
}

// parseAutofsPacket reads struct autofs_v5_packet: header (protocol,
// type), wait queue token, dev, ino, uid, gid, pid, tgid, len, name.
// known is false for a well-formed packet of another type; a malformed
// one comes back with Err.
func parseAutofsPacket(unit string, b []byte) (ev manager.AutomountRequest, known bool) {
	ev.Unit = unit
	if len(b) != 300 && len(b) != autofsPacketSize {
		ev.Err = fmt.Errorf("invalid read from the autofs pipe: %d bytes, not a packet", len(b))
		return ev, true
	}
	ne := binary.NativeEndian
	proto, typ := int32(ne.Uint32(b[0:])), int32(ne.Uint32(b[4:]))
	if proto != 5 {
		ev.Err = fmt.Errorf("autofs packet of protocol %d, 5 expected", proto)
		return ev, true
	}
	if l := ne.Uint32(b[40:]); l > 255 {
		ev.Err = fmt.Errorf("autofs packet with a name of %d bytes", l)
		return ev, true
	}
	ev.Token, ev.PID = ne.Uint32(b[8:]), ne.Uint32(b[32:])
	switch typ {
	case autofsMissingDirect:
	case autofsExpireDirect:
		ev.Expire = true
	default:
		return ev, false
	}
	return ev, true
}

// covered: Where is no longer the autofs directory (a mount is on it).
func covered(pt *autofsPoint) bool {
	var st unix.Stat_t
	if err := unix.Lstat(pt.where, &st); err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Dev != pt.dev
}

// processComm is /proc/PID/comm, "n/a" when gone.
func processComm(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return "n/a"
	}
	return strings.TrimSpace(string(b))
}

// ---- daemon-reexec (reexec.go) ----

// freezeAutomounts takes the request pipes out of the poller once a
// re-exec is accepted: the kernel's requests queue in them (the kernel
// holds their processes) for the new gosd, which reads them after it
// took the points over. A point whose pipe failed stays out.
func (r *Reactor) freezeAutomounts() {
	for _, pt := range r.automounts {
		if _, polled := r.sources[pt.pipe]; polled {
			r.removeSource(pt.pipe)
			pt.frozen = true
		}
	}
}

// thawAutomounts undoes freezeAutomounts when the re-exec failed: the
// requests that queued meanwhile are read now (the poller is
// level-triggered).
func (r *Reactor) thawAutomounts() {
	for unit, pt := range r.automounts {
		if !pt.frozen {
			continue
		}
		pt.frozen = false
		if err := r.addSource(pt.pipe, &autofsSource{unit: unit}); err != nil {
			r.logf(unit, "watching the autofs pipe again: %v", err)
		}
	}
}

// saveAutomounts lists the points to hand over, sorted by unit. A
// running expire call is not: execve ends its thread, and the kernel
// then gives up that expiry (an expire request it wrote stays in the
// pipe and is answered by the new gosd).
func (r *Reactor) saveAutomounts() []hoAutomount {
	var out []hoAutomount
	for unit, pt := range r.automounts {
		out = append(out, hoAutomount{Unit: unit, Where: pt.where, Pipe: pt.pipe, Dev: pt.dev})
	}
	slices.SortFunc(out, func(a, b hoAutomount) int { return strings.Compare(a.Unit, b.Unit) })
	return out
}

// adoptAutomount carries out AdoptAutomount: the handed-over point of
// the unit is checked (its autofs mount is still there, by device) and
// its pipe read again; without one the unit learns it has none.
func (r *Reactor) adoptAutomount(e manager.AdoptAutomount) {
	h, ok := r.handedPoints[e.Unit]
	if !ok {
		r.Feed(manager.AutomountRequest{Unit: e.Unit, Err: errors.New("the autofs mount point was not handed over the re-exec")})
		return
	}
	delete(r.handedPoints, e.Unit)
	pt := &autofsPoint{unit: e.Unit, where: h.Where, pipe: h.Pipe, dev: h.Dev}
	err := r.checkPoint(pt)
	if err == nil {
		if err = r.addSource(pt.pipe, &autofsSource{unit: e.Unit}); err != nil {
			unmountAll(pt.where)
		}
	}
	if err != nil {
		unix.Close(pt.pipe)
		r.Feed(manager.AutomountRequest{Unit: e.Unit, Err: fmt.Errorf("taking over the autofs point after the re-exec: %w", err)})
		return
	}
	r.automounts[e.Unit] = pt
}

// checkPoint: the autofs mount of pt is still on its path (perhaps
// covered by the mount it triggered).
func (r *Reactor) checkPoint(pt *autofsPoint) error {
	fd, err := r.openMount(pt)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// dropHandedPoints unmounts the handed-over points no unit adopted (the
// unit is gone or no longer set up): waiting processes are let go, and
// none waits on them later.
func (r *Reactor) dropHandedPoints() {
	for unit, h := range r.handedPoints {
		r.logf(unit, "daemon-reexec: no unit took over the automount point %s, unmounting it", h.Where)
		pt := &autofsPoint{unit: unit, where: h.Where, pipe: h.Pipe, dev: h.Dev}
		if r.checkPoint(pt) == nil {
			unmountAll(h.Where)
		}
		unix.Close(h.Pipe)
	}
	r.handedPoints = nil
}
