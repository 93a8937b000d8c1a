package reactor

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The inotify masks of each kind, as systemd's path.c flags_table has
// them (and as gosd watched before the interests were shared with kqueue).
func TestInotifyMasksMatchSystemd(t *testing.T) {
	changed := uint32(unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE |
		unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO)
	want := map[string]uint32{
		"PathExists":        unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB,
		"PathExistsGlob":    unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_ATTRIB,
		"PathChanged":       changed,
		"PathModified":      changed | unix.IN_MODIFY,
		"DirectoryNotEmpty": unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB | unix.IN_CREATE | unix.IN_MOVED_TO,
	}
	for kind, m := range want {
		if got := inotifyMask(kindInterest[kind]); got != m {
			t.Errorf("%s: mask %#x, want %#x", kind, got, m)
		}
	}
	parent := uint32(unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB | unix.IN_CREATE | unix.IN_MOVED_TO |
		unix.IN_DELETE | unix.IN_MOVED_FROM)
	if got := inotifyMask(parentInterest); got != parent {
		t.Errorf("directories above: %#x, want %#x", got, parent)
	}
}
