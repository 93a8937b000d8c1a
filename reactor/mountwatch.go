package reactor

import (
	"errors"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"gosd/internal/mountinfo"
	"gosd/manager"
)

// The mount table, followed for mount units (manager/mount.go): on Linux
// /proc/self/mountinfo signals POLLPRI after every change, and reading it
// through the same fd takes the signal back. Each change is fed as the
// mount points that came and went; the first report, at start, lists
// everything mounted. Without it (no /proc, not Linux) mount units know
// only what their own mount(8) and umount(8) say.

// mountinfoSource marks the mountinfo fd in r.sources.
type mountinfoSource struct{}

func (r *Reactor) openMountWatch() {
	fd, err := unix.Open("/proc/self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	if err := r.poll.addPri(fd); err != nil {
		unix.Close(fd)
		return
	}
	r.sources[fd] = mountinfoSource{}
	r.mountFD = fd
	r.mountPoints = map[string]bool{}
	r.onMountsChanged()
}

func (r *Reactor) closeMountWatch() { r.closeSource(&r.mountFD) }

// Mount-table reads are rate-limited as systemd limits them (5 a
// second): a program that mounts and unmounts in a loop (a user's FUSE
// mounts) must not keep PID1 parsing a table of thousands of lines. The
// kernel reports a change once per poll, so a change that comes over the
// limit is read when the second ends (mountReadTimer), and none is lost.
const (
	mountReadBurst  = 5
	mountReadWindow = time.Second
)

// mountReadTimer is the reactor's own deadline for a deferred read; it
// never reaches the manager (fireTimers).
var mountReadTimer = manager.TimerID{Kind: "gosd-mount-table"}

// onMountsEvent is a change signalled on the mountinfo fd: read now, or
// when the rate limit's window ends.
func (r *Reactor) onMountsEvent() {
	now := r.Now()
	if now-r.mountReadStart >= mountReadWindow {
		r.mountReadStart, r.mountReads = now, 0
	}
	if r.mountReads >= mountReadBurst {
		if !r.mountReadDeferred {
			r.mountReadDeferred = true
			r.timers.set(mountReadTimer, r.mountReadStart+mountReadWindow)
		}
		return
	}
	r.mountReads++
	r.onMountsChanged()
}

// onMountReadTimer reads a change deferred by the rate limit.
func (r *Reactor) onMountReadTimer() {
	r.mountReadDeferred = false
	r.mountReadStart, r.mountReads = r.Now(), 1
	if r.mountFD >= 0 {
		r.onMountsChanged()
	}
}

// onMountsChanged reads the table through the watched fd and feeds what
// changed.
func (r *Reactor) onMountsChanged() {
	text, err := readAllAt(r.mountFD)
	if err != nil {
		r.logf("", "reading the mount table: %v", err)
		return
	}
	// The topmost mount of each point (the table is in mount order).
	now := map[string]mountinfo.Mount{}
	for _, m := range mountinfo.Parse(text) {
		if m.FSType == "autofs" {
			// An automount point is not a mount unit's file system
			// (systemd leaves autofs mounts out too).
			continue
		}
		now[m.Point] = m
	}
	var ev manager.MountsChanged
	for p, m := range now {
		if !r.mountPoints[p] {
			ev.Added = append(ev.Added, manager.MountPoint{Where: p, What: m.Source, Type: m.FSType,
				Options: mountOptionsOf(m)})
		}
	}
	for p := range r.mountPoints {
		if _, ok := now[p]; !ok {
			ev.Removed = append(ev.Removed, p)
		}
	}
	if len(ev.Added)+len(ev.Removed) == 0 {
		return
	}
	for _, a := range ev.Added {
		r.mountPoints[a.Where] = true
	}
	for _, p := range ev.Removed {
		delete(r.mountPoints, p)
	}
	// Parents before children: a unit's implicit Requires= on the
	// mount above it needs that unit to exist.
	slices.SortFunc(ev.Added, func(a, b manager.MountPoint) int { return strings.Compare(a.Where, b.Where) })
	slices.Sort(ev.Removed)
	r.Feed(ev)
}

// mountOptionsOf is a mount's options as systemd shows them (Options=):
// the per-mount ones, then those of the superblock that are not the same.
func mountOptionsOf(m mountinfo.Mount) string {
	opts := strings.Split(m.Options, ",")
	for _, o := range strings.Split(m.SuperOptions, ",") {
		if o != "" && !slices.Contains(opts, o) {
			opts = append(opts, o)
		}
	}
	return strings.Join(opts, ",")
}

// readAllAt reads a whole file from offset 0 with pread (the mount table
// may change size between reads; a read from 0 always gives a whole one).
func readAllAt(fd int) (string, error) {
	buf := make([]byte, 0, 16<<10)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := unix.Pread(fd, buf[len(buf):cap(buf)], int64(len(buf)))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return "", err
		}
		if n == 0 {
			return string(buf), nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) > 64<<20 {
			return "", errors.New("mount table larger than 64 MiB")
		}
	}
}
