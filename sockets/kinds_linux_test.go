package sockets

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

func TestFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d", "fifo")
	s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenFIFO, Path: path, Pos: pos(1)})
	s.SocketMode, s.PipeSize = 0o640, 1<<20
	set := mustOpen(t, "t.socket", s)
	fd := set.FDs()[0]
	checkFdFlags(t, fd, true)
	var st unix.Stat_t
	unix.Stat(path, &st)
	if st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Mode&0o777 != 0o640 {
		t.Errorf("mode %o", st.Mode)
	}
	if sz, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err != nil || sz != 1<<20 {
		t.Errorf("pipe size %d %v", sz, err)
	}
	if err := os.WriteFile(path, []byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	if n, err := unix.Read(fd, b); err != nil || string(b[:n]) != "hello" {
		t.Errorf("read %q %v", b[:n], err)
	}
	set.Close(true)
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("FIFO not removed with RemoveOnStop")
	}
}

func TestSpecial(t *testing.T) {
	s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenSpecial, Path: "/proc/self/status", Pos: pos(1)})
	set := mustOpen(t, "t.socket", s)
	checkFdFlags(t, set.FDs()[0], true)
	if fl, _ := unix.FcntlInt(uintptr(set.FDs()[0]), unix.F_GETFL, 0); fl&unix.O_ACCMODE != unix.O_RDONLY {
		t.Error("not read-only")
	}
	s2 := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenSpecial, Path: "/dev/null", Pos: pos(2)})
	s2.Writable = true
	set2 := mustOpen(t, "t.socket", s2)
	if fl, _ := unix.FcntlInt(uintptr(set2.FDs()[0]), unix.F_GETFL, 0); fl&unix.O_ACCMODE != unix.O_RDWR {
		t.Error("Writable= not read-write")
	}
	// A directory is neither a device nor a regular file.
	s3 := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenSpecial, Path: t.TempDir(), Pos: pos(3)})
	if _, err := Open("t.socket", s3); err == nil {
		t.Error("directory accepted")
	}
}

func TestNetlinkUevent(t *testing.T) {
	s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenNetlink, Family: "netlink", Path: "kobject-uevent", Group: 1, Pos: pos(1)})
	set := mustOpen(t, "t.socket", s)
	fd := set.FDs()[0]
	checkFdFlags(t, fd, true)
	if getInt(t, fd, unix.SOL_SOCKET, unix.SO_PROTOCOL) != unix.NETLINK_KOBJECT_UEVENT {
		t.Error("wrong protocol")
	}
	sa, err := unix.Getsockname(fd)
	if nl, ok := sa.(*unix.SockaddrNetlink); err != nil || !ok || nl.Groups != 1 {
		t.Errorf("sockname %+v %v", sa, err)
	}
	bad := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenNetlink, Family: "netlink", Path: "nonsense", Pos: pos(2)})
	if _, err := Open("t.socket", bad); err == nil {
		t.Error("unknown family accepted")
	}
}

func TestMessageQueue(t *testing.T) {
	name := "/gosd-test-" + itoa(os.Getpid())
	s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenMessageQueue, Path: name, Pos: pos(1)})
	s.SocketMode, s.MessageQueueMaxMessages, s.MessageQueueMessageSize = 0o600, 5, 128
	set, err := Open("t.socket", s)
	if err != nil {
		t.Fatal(err)
	}
	checkFdFlags(t, set.FDs()[0], true)
	// The queue's attributes are visible in the mqueue filesystem when
	// mounted; otherwise check with fstat that it is our mode.
	var st unix.Stat_t
	if err := unix.Fstat(set.FDs()[0], &st); err != nil || st.Mode&0o777 != 0o600 {
		t.Errorf("mode %o %v", st.Mode, err)
	}
	if err := set.Close(true); err != nil {
		t.Fatal(err)
	}
	if err := mqUnlink(name); !errors.Is(err, unix.ENOENT) {
		t.Errorf("queue not removed: %v", err)
	}
	if _, err := Open("t.socket", newSocketUnit(unitfile.Listen{Kind: unitfile.ListenMessageQueue, Path: "noslash", Pos: pos(2)})); err == nil {
		t.Error("name without / accepted")
	}
}
