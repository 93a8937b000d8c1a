package reactor

import (
	"path"

	"gosd/unitfile"
)

// What a path unit's watch cares about, in words each platform's watcher
// turns into its own flags (inotify masks in pathwatch_linux.go, kqueue
// EVFILT_VNODE notes in pathwatch_freebsd.go), so both watch the same
// things for the same specs (systemd's path.c flags_table).
type pathInterest uint8

const (
	entryAdded   pathInterest = 1 << iota // a directory gained an entry (created, moved in)
	entryRemoved                          // a directory lost one (deleted, moved away)
	pathGone                              // the path itself deleted or moved
	attribChange                          // permissions, owner, link count
	closedWrite                           // closed after being opened for writing
	anyWrite                              // every write
)

// kindInterest is what each kind watches on its own path; parentInterest
// what each directory above it is watched for: what can make the path
// appear or go.
var kindInterest = map[string]pathInterest{
	"PathExists":        pathGone | attribChange,
	"PathExistsGlob":    entryAdded | attribChange,
	"PathChanged":       changedInterest,
	"PathModified":      changedInterest | anyWrite,
	"DirectoryNotEmpty": pathGone | attribChange | entryAdded,
}

const (
	changedInterest = pathGone | attribChange | closedWrite | entryAdded | entryRemoved
	parentInterest  = pathGone | attribChange | entryAdded | entryRemoved
)

// pathTarget is one path a spec makes its unit watch.
type pathTarget struct {
	path string
	own  bool // the spec's own path; else a directory above it
	// name: for a directory above, the name in it that leads on to the
	// spec's path (a glob pattern for PathExistsGlob's last part).
	name     string
	interest pathInterest
	// trigger: an event on it starts the unit at once, without a fresh
	// check (PathChanged=, PathModified=).
	trigger bool
}

// pathTargets lists what spec s watches: each directory above its path,
// nearest first, then the path itself. A path that does not exist (yet)
// is only watched through its directories.
func pathTargets(s unitfile.PathSpec) []pathTarget {
	var out []pathTarget
	for p := s.Path; p != "/"; p = path.Dir(p) {
		out = append(out, pathTarget{path: path.Dir(p), name: path.Base(p), interest: parentInterest})
	}
	return append(out, pathTarget{path: s.Path, own: true, interest: kindInterest[s.Kind],
		trigger: s.Kind == "PathChanged" || s.Kind == "PathModified"})
}
