package sockets

import (
	"testing"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// newSocketUnit returns a Socket with the defaults the unit parser fills in.
func newSocketUnit(listen ...unitfile.Listen) *unitfile.Socket {
	return &unitfile.Socket{
		Listen:        listen,
		SocketMode:    0o666,
		DirectoryMode: 0o755,
		Mark:          -1,
		IPTOS:         -1,
		IPTTL:         -1,
		Priority:      -1,
	}
}

func mustOpen(t *testing.T, unit string, s *unitfile.Socket) *Set {
	t.Helper()
	set, err := Open(unit, s)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { set.Close(true) })
	return set
}

func getInt(t *testing.T, fd, level, opt int) int {
	t.Helper()
	v, err := unix.GetsockoptInt(fd, level, opt)
	if err != nil {
		t.Fatalf("getsockopt(%d,%d): %v", level, opt, err)
	}
	return v
}

// checkFdFlags asserts close-on-exec, and non-blocking as wanted.
func checkFdFlags(t *testing.T, fd int, nonblock bool) {
	t.Helper()
	fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fdfl&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd %d is not close-on-exec", fd)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := fl&unix.O_NONBLOCK != 0; got != nonblock {
		t.Errorf("fd %d O_NONBLOCK = %v, want %v", fd, got, nonblock)
	}
}

func pos(line int) unitfile.Pos {
	return unitfile.Pos{File: "/etc/systemd/system/t.socket", Line: line}
}
