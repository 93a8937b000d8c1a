//go:build !linux && !freebsd

package reactor

import (
	"errors"

	"gosd/unitfile"
)

// pathWatcher: path units need inotify (Linux) or kqueue's EVFILT_VNODE
// as wired in for FreeBSD; elsewhere (darwin) a path unit fails to start
// with result resources and this error in its log, rather than seeming to
// watch.
type pathWatcher struct{ fd int }

var errNoPathWatch = errors.New("path units are not supported on this platform yet (gosd watches paths with inotify on Linux, kqueue on FreeBSD)")

func newPathWatcher() (*pathWatcher, error)         { return nil, errNoPathWatch }
func (w *pathWatcher) watch(int, unitfile.PathSpec) {}
func (w *pathWatcher) read() (int, bool, error)     { return -1, false, errNoPathWatch }
func (w *pathWatcher) close()                       {}
