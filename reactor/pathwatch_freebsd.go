package reactor

import (
	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// pathWatcher is one path unit's kqueue (kqueue(2), EVFILT_VNODE). Its fd
// is in the reactor's poller as inotify's is on Linux: a kqueue with
// pending events is readable. EVFILT_VNODE follows an open file, not a
// name, so each watched path is opened (read-only, never blocking;
// directories and regular files only: opening a device or a FIFO could
// have effects). Every check is preceded by watch, which opens anew a
// path that names another file now (replaced by a rename, or deleted and
// made again), as the directory above it reported. kqueue names no entry:
// any change in a watched directory makes a fresh check.
type pathWatcher struct {
	fd     int
	byPath map[string]*vnodeWatch
	byFD   map[int]*vnodeWatch
}

// vnodeWatch is one open file and the notes asked of it.
type vnodeWatch struct {
	fd       int
	path     string
	dev, ino uint64
	notes    uint32
	trigger  int // the PathChanged=/PathModified= spec whose own path it is; -1: none
}

func newPathWatcher() (*pathWatcher, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(kq)
	return &pathWatcher{fd: kq, byPath: map[string]*vnodeWatch{}, byFD: map[int]*vnodeWatch{}}, nil
}

// vnodeNotes are the EVFILT_VNODE notes that tell of what interest names.
// A directory's entries changing is NOTE_WRITE on it; a file closed after
// writing (PathChanged=) is NOTE_CLOSE_WRITE, as inotify's IN_CLOSE_WRITE.
func vnodeNotes(interest pathInterest, dir bool) uint32 {
	var n uint32
	if interest&(entryAdded|entryRemoved) != 0 && dir {
		n |= unix.NOTE_WRITE
	}
	if interest&pathGone != 0 {
		n |= unix.NOTE_DELETE | unix.NOTE_RENAME | unix.NOTE_REVOKE
	}
	if interest&attribChange != 0 {
		n |= unix.NOTE_ATTRIB | unix.NOTE_LINK
	}
	if interest&closedWrite != 0 && !dir {
		n |= unix.NOTE_CLOSE_WRITE
	}
	if interest&anyWrite != 0 {
		n |= unix.NOTE_WRITE | unix.NOTE_EXTEND
	}
	return n
}

// watch adds spec i: its path and every directory above it
// (pathTargets). A path that does not exist (yet) is only watched through
// its directories.
func (w *pathWatcher) watch(i int, s unitfile.PathSpec) {
	for _, t := range pathTargets(s) {
		trigger := -1
		if t.trigger {
			trigger = i
		}
		w.add(t.path, t.interest, trigger)
	}
}

// add watches p for interest, reopening it when p names another file
// than the one watched.
func (w *pathWatcher) add(p string, interest pathInterest, trigger int) {
	var st unix.Stat_t
	old := w.byPath[p]
	if err := unix.Stat(p, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR && st.Mode&unix.S_IFMT != unix.S_IFREG {
		if old != nil {
			w.drop(old) // gone, or no longer a file gosd opens
		}
		return
	}
	if old != nil && (old.dev != uint64(st.Dev) || old.ino != uint64(st.Ino)) {
		w.drop(old) // replaced: the old file's events say nothing of p
		old = nil
	}
	vw := old
	if vw == nil {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		var fst unix.Stat_t
		if unix.Fstat(fd, &fst) != nil {
			unix.Close(fd)
			return
		}
		vw = &vnodeWatch{fd: fd, path: p, dev: uint64(fst.Dev), ino: uint64(fst.Ino), trigger: -1}
		w.byPath[p], w.byFD[fd] = vw, vw
	}
	if vw.trigger < 0 {
		vw.trigger = trigger
	}
	notes := vw.notes | vnodeNotes(interest, st.Mode&unix.S_IFMT == unix.S_IFDIR)
	if notes == vw.notes && old != nil {
		return // armed already: watches add up, as inotify's IN_MASK_ADD
	}
	var ev unix.Kevent_t
	unix.SetKevent(&ev, vw.fd, unix.EVFILT_VNODE, unix.EV_ADD|unix.EV_CLEAR)
	ev.Fflags = notes
	if _, err := unix.Kevent(w.fd, []unix.Kevent_t{ev}, nil, nil); err != nil {
		w.drop(vw)
		return
	}
	vw.notes = notes
}

// drop stops watching one file (closing it removes its kevent).
func (w *pathWatcher) drop(vw *vnodeWatch) {
	unix.Close(vw.fd)
	delete(w.byFD, vw.fd)
	delete(w.byPath, vw.path)
}

// read takes the pending events (one bounded kevent; more stay pending
// and keep the kqueue readable). It returns the spec an event on a
// trigger path belongs to (-1: none), and whether anything happened, after
// which the paths are watched and checked again.
func (w *pathWatcher) read() (spec int, recheck bool, err error) {
	spec = -1
	var evs [64]unix.Kevent_t
	n, err := unix.Kevent(w.fd, nil, evs[:], &unix.Timespec{})
	if err != nil {
		if err == unix.EINTR {
			return -1, false, nil
		}
		return -1, false, err
	}
	for _, ev := range evs[:n] {
		vw := w.byFD[int(ev.Ident)]
		if vw == nil {
			continue // dropped meanwhile
		}
		if vw.trigger >= 0 && spec < 0 {
			spec = vw.trigger
		}
		recheck = true
	}
	return spec, recheck, nil
}

func (w *pathWatcher) close() {
	for _, vw := range w.byFD {
		unix.Close(vw.fd)
	}
	unix.Close(w.fd)
}
