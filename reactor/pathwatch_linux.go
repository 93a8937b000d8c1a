package reactor

import (
	"encoding/binary"
	"errors"
	"path"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// pathWatcher is one path unit's inotify instance (inotify(7)).
type pathWatcher struct {
	fd int
	// primary maps the watch of a PathChanged=/PathModified= spec's own
	// path to the spec: an event there triggers.
	primary map[int32]int
	buf     []byte
}

// pathEvents is what each kind watches on its own path (systemd's
// path.c flags_table); parentEvents is what each directory above it is
// watched for: what can make the path appear.
var pathEvents = map[string]uint32{
	"PathExists":        unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB,
	"PathExistsGlob":    unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_ATTRIB,
	"PathChanged":       changedEvents,
	"PathModified":      changedEvents | unix.IN_MODIFY,
	"DirectoryNotEmpty": unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB | unix.IN_CREATE | unix.IN_MOVED_TO,
}

const (
	changedEvents = unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE |
		unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO
	parentEvents = unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB | unix.IN_CREATE | unix.IN_MOVED_TO
)

func newPathWatcher() (*pathWatcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return &pathWatcher{fd: fd, primary: map[int32]int{}, buf: make([]byte, 16<<10)}, nil
}

// watch adds spec i: its path and every directory above it. A path that
// does not exist (yet) is only watched through its directories; masks of
// one instance add up (IN_MASK_ADD), as several specs may share a
// directory.
func (w *pathWatcher) watch(i int, s unitfile.PathSpec) {
	for d := path.Dir(s.Path); ; d = path.Dir(d) {
		unix.InotifyAddWatch(w.fd, d, parentEvents|unix.IN_MASK_ADD)
		if d == "/" {
			break
		}
	}
	wd, err := unix.InotifyAddWatch(w.fd, s.Path, pathEvents[s.Kind]|unix.IN_MASK_ADD)
	if err == nil && (s.Kind == "PathChanged" || s.Kind == "PathModified") {
		w.primary[int32(wd)] = i
	}
}

// read takes the pending events (one read) and returns the spec an event
// on a primary watch belongs to, or -1 when the paths must be checked
// again.
func (w *pathWatcher) read() (int, error) {
	n, err := unix.Read(w.fd, w.buf)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return -1, nil
		}
		return -1, err
	}
	found := -1
	for off := 0; off+unix.SizeofInotifyEvent <= n; {
		wd := int32(binary.NativeEndian.Uint32(w.buf[off:]))
		nameLen := int(binary.NativeEndian.Uint32(w.buf[off+12:]))
		if i, ok := w.primary[wd]; ok && found < 0 {
			found = i
		}
		off += unix.SizeofInotifyEvent + nameLen
	}
	return found, nil
}

func (w *pathWatcher) close() { unix.Close(w.fd) }
