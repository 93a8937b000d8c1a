package sockets

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

func TestAcceptInstanceNames(t *testing.T) {
	upath := filepath.Join(t.TempDir(), "acc.sock")
	s := newSocketUnit(
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "inet", Host: "127.0.0.1", Pos: pos(1)},
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "inet", Host: "::1", Pos: pos(2)},
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "inet", Pos: pos(3)}, // dual stack
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "unix", Path: upath, Pos: pos(4)},
	)
	s.Accept = true
	set := mustOpen(t, "t.socket", s)
	fds := set.FDs()

	// Nothing pending: EAGAIN, not a hang.
	if _, _, err := Accept(fds[0], 0); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("empty accept: %v", err)
	}
	cases := []struct {
		fd      int
		network string
		addr    string
		want    func(c net.Conn) string
	}{
		{fds[0], "tcp", "127.0.0.1:" + itoa(boundPort(t, fds[0])), func(c net.Conn) string {
			l, r := c.LocalAddr().(*net.TCPAddr), c.RemoteAddr().(*net.TCPAddr)
			return fmt.Sprintf("7-%s:%d-%s:%d", r.IP, r.Port, l.IP, l.Port)
		}},
		{fds[1], "tcp", "[::1]:" + itoa(boundPort(t, fds[1])), func(c net.Conn) string {
			l, r := c.LocalAddr().(*net.TCPAddr), c.RemoteAddr().(*net.TCPAddr)
			return fmt.Sprintf("7-%s:%d-%s:%d", r.IP, r.Port, l.IP, l.Port)
		}},
		// An IPv4 client on the dual-stack socket: both ends v4-mapped, so
		// systemd prints plain IPv4.
		{fds[2], "tcp4", "127.0.0.1:" + itoa(boundPort(t, fds[2])), func(c net.Conn) string {
			l := c.LocalAddr().(*net.TCPAddr)
			return fmt.Sprintf("7-127.0.0.1:%d-127.0.0.1:%d", boundPort(t, fds[2]), l.Port)
		}},
		{fds[3], "unix", upath, func(c net.Conn) string { return fmt.Sprintf("7-%d-%d", os.Getpid(), os.Getuid()) }},
	}
	for _, c := range cases {
		client, err := net.Dial(c.network, c.addr)
		if err != nil {
			t.Fatal(err)
		}
		waitReadable(t, c.fd)
		conn, inst, err := Accept(c.fd, 7)
		if err != nil {
			t.Fatalf("%s: %v", c.addr, err)
		}
		checkFdFlags(t, conn, false)
		if want := c.want(client); inst != want {
			t.Errorf("%s: instance %q, want %q", c.addr, inst, want)
		}
		// The conn is the real connection: bytes flow, blocking read.
		client.Write([]byte("x"))
		b := make([]byte, 1)
		if n, err := unix.Read(conn, b); n != 1 || err != nil || b[0] != 'x' {
			t.Errorf("read %d %v", n, err)
		}
		client.Close()
		unix.Close(conn)
	}
}
