package reactor

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const nobody = 65534

// readPIDFile on what a hostile service can leave at its PIDFile= path
// (issue 18 items 2 and 3): it never blocks, never reads more than a
// line, and says whether the pid may be trusted.
func TestReadPIDFileHostile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (CI runs as root): files are made for another owner")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	mk := func(name, body string, uid int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := func(name, target string, uid int) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
		return p
	}
	userDir := filepath.Join(dir, "user")
	os.Mkdir(userDir, 0o755)
	os.Chown(userDir, nobody, nobody)

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	rootFile := mk("root.pid", "1234\n", 0)
	userFile := mk("user.pid", "1234\n", nobody)
	mk("user/in-user-dir.pid", "1234\n", nobody)
	mk("user/root-in-user-dir.pid", "1234\n", 0)
	cases := []struct {
		name    string
		path    string
		pid     int
		trusted bool
		err     string
	}{
		{"root's file", rootFile, 1234, true, ""},
		{"a user's file", userFile, 1234, false, ""},
		{"a user's file in a user's directory", filepath.Join(userDir, "in-user-dir.pid"), 1234, false, ""},
		{"root's file in a user's directory", filepath.Join(userDir, "root-in-user-dir.pid"), 1234, false, ""},
		{"root's link to root's file", link("rootlink", "root.pid", 0), 1234, true, ""},
		{"a user's link to root's file", link("userlink", rootFile, nobody), 1234, false, ""},
		{"a user's relative link to root's file", link("userrel", "root.pid", nobody), 1234, false, ""},
		{"a user's link in a user's directory to root's file", link("user/l", rootFile, nobody), 1234, false, ""},
		{"through a user's directory and ..", userDir + "/../root.pid", 1234, false, ""},
		{"a FIFO", fifo, 0, false, "not a regular file"},
		{"a link to a FIFO", link("fifolink", fifo, nobody), 0, false, "not a regular file"},
		{"a link to /dev/zero", link("zero", "/dev/zero", nobody), 0, false, "not a regular file"},
		{"a directory", dir, 0, false, "is a directory"},
		{"a link loop", link("loop", "loop", 0), 0, false, "too many levels"},
		{"a line too long", mk("long.pid", strings.Repeat("1", 100), 0), 0, false, "longer than"},
		{"a huge file with a pid first", mk("huge.pid", "77\n"+strings.Repeat("x", 1<<20), 0), 77, true, ""},
		{"garbage", mk("garbage.pid", "12ab\n", 0), 0, false, "no valid pid"},
		{"empty", mk("empty.pid", "", 0), 0, false, "no valid pid"},
		{"relative", "root.pid", 0, false, "not an absolute path"},
		{"missing", filepath.Join(dir, "nope"), 0, false, "no such file"},
		{"file as a directory", rootFile + "/x", 0, false, "not a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan struct{})
			var pid int
			var trusted bool
			var err error
			go func() {
				pid, trusted, err = readPIDFile(c.path)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("readPIDFile(%s) blocked", c.path)
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || pid != c.pid || trusted != c.trusted {
				t.Fatalf("pid %d trusted %v err %v, want %d %v", pid, trusted, err, c.pid, c.trusted)
			}
		})
	}
}
