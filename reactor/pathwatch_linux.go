package reactor

import (
	"encoding/binary"
	"errors"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// pathWatcher is one path unit's inotify instance (inotify(7)). It lives
// as long as the unit watches: a fresh check adds the watches again to it
// (masks add up, a watch that exists stays), so no event queued in between
// is ever dropped.
type pathWatcher struct {
	fd int
	// primary maps the watch of a PathChanged=/PathModified= spec's own
	// path to the spec: an event there triggers.
	primary map[int32]int
	// own: watches of a spec's own path (any event there matters);
	// parents: for a watch of a directory above a path, the names in it
	// that lead to a watched path (a glob's last part is a pattern): an
	// event about another name in that directory is not looked at.
	own     map[int32]bool
	parents map[int32][]string
	buf     []byte
}

// inotifyMask is the inotify events that tell of what interest names.
func inotifyMask(interest pathInterest) uint32 {
	var m uint32
	for _, f := range []struct {
		bit  pathInterest
		mask uint32
	}{
		{entryAdded, unix.IN_CREATE | unix.IN_MOVED_TO},
		{entryRemoved, unix.IN_DELETE | unix.IN_MOVED_FROM},
		{pathGone, unix.IN_DELETE_SELF | unix.IN_MOVE_SELF},
		{attribChange, unix.IN_ATTRIB},
		{closedWrite, unix.IN_CLOSE_WRITE},
		{anyWrite, unix.IN_MODIFY},
	} {
		if interest&f.bit != 0 {
			m |= f.mask
		}
	}
	return m
}

func newPathWatcher() (*pathWatcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return &pathWatcher{fd: fd, primary: map[int32]int{}, own: map[int32]bool{}, parents: map[int32][]string{},
		buf: make([]byte, 16<<10)}, nil
}

// watch adds spec i: its path and every directory above it
// (pathTargets).
func (w *pathWatcher) watch(i int, s unitfile.PathSpec) {
	for _, t := range pathTargets(s) {
		wd, err := unix.InotifyAddWatch(w.fd, t.path, inotifyMask(t.interest)|unix.IN_MASK_ADD)
		if err != nil {
			continue
		}
		switch {
		case !t.own:
			if !containsString(w.parents[int32(wd)], t.name) {
				w.parents[int32(wd)] = append(w.parents[int32(wd)], t.name)
			}
		case t.trigger:
			w.own[int32(wd)] = true
			w.primary[int32(wd)] = i
		default:
			w.own[int32(wd)] = true
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// read takes the pending events (one read). It returns the spec an event
// on a primary watch belongs to (-1: none), and whether something else
// that matters happened, after which the paths are watched and checked
// again.
func (w *pathWatcher) read() (spec int, recheck bool, err error) {
	spec = -1
	n, err := unix.Read(w.fd, w.buf)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return -1, false, nil
		}
		return -1, false, err
	}
	for off := 0; off+unix.SizeofInotifyEvent <= n; {
		wd := int32(binary.NativeEndian.Uint32(w.buf[off:]))
		mask := binary.NativeEndian.Uint32(w.buf[off+4:])
		nameLen := int(binary.NativeEndian.Uint32(w.buf[off+12:]))
		name := ""
		if nameLen > 0 && off+unix.SizeofInotifyEvent+nameLen <= n {
			name = strings.TrimRight(string(w.buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+nameLen]), "\x00")
		}
		off += unix.SizeofInotifyEvent + nameLen
		if i, ok := w.primary[wd]; ok && spec < 0 {
			spec = i
		}
		switch {
		case mask&(unix.IN_Q_OVERFLOW|unix.IN_IGNORED) != 0, name == "":
			recheck = true
		case w.own[wd]:
			// A hidden or backup file in a watched directory changes
			// no check (DirectoryNotEmpty= ignores them): a user who
			// can write there cannot make gosd read the directory
			// again for each one.
			recheck = recheck || !hiddenOrBackup(name)
		case w.leadsTo(wd, name):
			recheck = true
		}
	}
	return spec, recheck, nil
}

// leadsTo: name in the directory watched by wd is on the way to a
// watched path.
func (w *pathWatcher) leadsTo(wd int32, name string) bool {
	for _, want := range w.parents[wd] {
		if want == name {
			return true
		}
		if ok, _ := path.Match(want, name); ok {
			return true
		}
	}
	return false
}

func (w *pathWatcher) close() { unix.Close(w.fd) }
