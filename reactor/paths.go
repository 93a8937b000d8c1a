package reactor

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"gosd/manager"
	"gosd/unitfile"
)

// Path units' watches (the reactor's hooks of manager/path.go). Each
// watched path unit gets its own notification fd (an inotify instance on
// Linux; pathwatch_*.go) in the poller: watches of one unit never change
// another's. Like systemd's path.c, every check is preceded by setting
// the watches again, before the paths are looked at, so nothing that
// happens in between is missed: the watched path itself with the events
// its kind cares for, and each directory above it for what makes the
// path appear (created, moved in, permissions changed). Events about
// other names in those directories (/tmp is busy) are not looked at.

// pathWatch is one path unit's watch.
type pathWatch struct {
	unit  string
	specs []unitfile.PathSpec
	w     *pathWatcher // the platform's notification fd and its watches
}

// pathSource marks a path unit's notification fd in r.sources.
type pathSource struct{ unit string }

// watchPaths carries out WatchPaths: directories made when asked, fresh
// watches, and the check, answered at once.
func (r *Reactor) watchPaths(e manager.WatchPaths) manager.PathsChecked {
	if e.MakeDirectory {
		for _, s := range e.Specs {
			if s.Kind == "PathExists" || s.Kind == "PathExistsGlob" {
				continue // systemd.path(5): "ignored for PathExists="
			}
			if err := os.MkdirAll(s.Path, os.FileMode(e.DirectoryMode)); err != nil {
				r.logAt(e.Unit, s.Pos, manager.LevelWarning, "MakeDirectory=: "+err.Error())
			}
		}
	}
	pw := r.paths[e.Unit]
	if pw == nil {
		pw = &pathWatch{unit: e.Unit}
		r.paths[e.Unit] = pw
	}
	pw.specs = e.Specs
	if err := r.rewatch(pw); err != nil {
		r.unwatchPaths(e.Unit)
		return manager.PathsChecked{Unit: e.Unit, Err: err}
	}
	good, path := r.checkPaths(e.Unit, e.Specs, e.Initial, e.FromTrigger)
	return manager.PathsChecked{Unit: e.Unit, Good: good, Path: path}
}

// rewatch sets the unit's watches again (what exists now is watched; a
// watch that exists stays, so no event is lost in between).
func (r *Reactor) rewatch(pw *pathWatch) error {
	if pw.w == nil {
		w, err := newPathWatcher()
		if err != nil {
			return err
		}
		if err := r.addSource(w.fd, &pathSource{unit: pw.unit}); err != nil {
			w.close()
			return err
		}
		pw.w = w
	}
	for i, s := range pw.specs {
		pw.w.watch(i, s)
	}
	return nil
}

// unwatchPaths carries out UnwatchPaths.
func (r *Reactor) unwatchPaths(unit string) {
	pw := r.paths[unit]
	if pw == nil {
		return
	}
	if pw.w != nil {
		r.removeSource(pw.w.fd)
		pw.w.close()
	}
	delete(r.paths, unit)
}

// onPathEvent reads what happened to a path unit's paths (one bounded
// read per turn): an event on the path of a PathChanged=/PathModified=
// spec triggers at once; anything else makes a fresh watch and check, as
// systemd's path_dispatch_io does. Only a good check is reported.
func (r *Reactor) onPathEvent(unit string) {
	pw := r.paths[unit]
	if pw == nil || pw.w == nil {
		return
	}
	spec, recheck, err := pw.w.read()
	if err != nil {
		r.logf(unit, "reading path events: %v", err)
	}
	if spec >= 0 && spec < len(pw.specs) {
		r.Feed(manager.PathsChecked{Unit: unit, Good: true, Path: pw.specs[spec].Path})
		return
	}
	if !recheck {
		return // about other names in a watched directory
	}
	if err := r.rewatch(pw); err != nil {
		r.unwatchPaths(unit)
		r.Feed(manager.PathsChecked{Unit: unit, Err: err})
		return
	}
	if good, path := r.checkPaths(unit, pw.specs, false, false); good {
		r.Feed(manager.PathsChecked{Unit: unit, Good: true, Path: path})
	}
}

// checkPaths is systemd's path_check_good: the first spec that calls for
// a trigger. A PathChanged=/PathModified= spec does so when its path came
// or went since the last check, except on a first check or one after the
// triggered unit went down; its last state is kept per unit and path.
func (r *Reactor) checkPaths(unit string, specs []unitfile.PathSpec, initial, fromTrigger bool) (bool, string) {
	for _, s := range specs {
		good := false
		switch s.Kind {
		case "PathExists":
			good = exists(s.Path)
		case "PathExistsGlob":
			m, _ := filepath.Glob(s.Path)
			good = len(m) > 0
		case "DirectoryNotEmpty":
			good = dirNotEmpty(s.Path)
		case "PathChanged", "PathModified":
			key := unit + "\x00" + s.Path
			now := exists(s.Path)
			good = !initial && !fromTrigger && now != r.pathExisted[key]
			r.pathExisted[key] = now
		}
		if good {
			return true, s.Path
		}
	}
	return false, ""
}

// exists is access(F_OK): symbolic links are followed.
func exists(p string) bool { return unix.Access(p, unix.F_OK) == nil }

// dirNotEmpty: p is a directory with an entry that is neither hidden nor
// a backup file (systemd's dir_is_empty(ignore_hidden_or_backup)). It is
// opened as a directory only, never blocking (a FIFO there fails).
func dirNotEmpty(p string) bool {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	for {
		names, err := f.Readdirnames(64)
		for _, n := range names {
			if !hiddenOrBackup(n) {
				return true
			}
		}
		if err != nil || len(names) == 0 {
			return false
		}
	}
}

// hiddenOrBackup is systemd's hidden_or_backup_file.
func hiddenOrBackup(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return true
	}
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return false
	}
	switch name[i+1:] {
	case "rpmnew", "rpmsave", "rpmorig", "dpkg-old", "dpkg-new", "dpkg-tmp", "dpkg-dist", "dpkg-bak",
		"dpkg-backup", "dpkg-remove", "ucf-new", "ucf-old", "ucf-dist", "swp", "bak", "old", "new":
		return true
	}
	return false
}
