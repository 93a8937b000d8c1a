package reactor

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The kqueue notes of each kind's own path and of the directories above
// it: what inotify watches on Linux (TestInotifyMasksMatchSystemd), in
// EVFILT_VNODE's words. The path rig tests (paths_watch_test.go) run the
// watcher on real files.
func TestVnodeNotes(t *testing.T) {
	gone := uint32(unix.NOTE_DELETE | unix.NOTE_RENAME | unix.NOTE_REVOKE)
	attrib := uint32(unix.NOTE_ATTRIB | unix.NOTE_LINK)
	for _, c := range []struct {
		kind string
		dir  bool
		want uint32
	}{
		{"PathExists", false, gone | attrib},
		{"PathExistsGlob", true, unix.NOTE_WRITE | attrib},
		{"PathChanged", false, gone | attrib | unix.NOTE_CLOSE_WRITE},
		{"PathChanged", true, gone | attrib | unix.NOTE_WRITE},
		{"PathModified", false, gone | attrib | unix.NOTE_CLOSE_WRITE | unix.NOTE_WRITE | unix.NOTE_EXTEND},
		{"DirectoryNotEmpty", true, gone | attrib | unix.NOTE_WRITE},
	} {
		if got := vnodeNotes(kindInterest[c.kind], c.dir); got != c.want {
			t.Errorf("%s (dir %v): %#x, want %#x", c.kind, c.dir, got, c.want)
		}
	}
	if got := vnodeNotes(parentInterest, true); got != gone|attrib|unix.NOTE_WRITE {
		t.Errorf("directories above: %#x", got)
	}
}
