package dbus

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"unix:path=/run/dbus/system_bus_socket", "/run/dbus/system_bus_socket"},
		{"unix:abstract=/tmp/dbus-x,guid=0123", "@/tmp/dbus-x"},
		{"tcp:host=h,port=1;unix:path=/a%20b", "/a b"},
		{"unix:guid=1,path=/p", "/p"},
	} {
		got, err := ParseAddress(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseAddress(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "tcp:host=h", "unix:path=/a%2", "unix:path=/a%zz", "unix:tmpdir=/tmp"} {
		if got, err := ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) = %q, want an error", bad, got)
		}
	}
}

// The client handshake against gosd's own server side, then a refusal.
func TestClientAuth(t *testing.T) {
	for _, tc := range []struct {
		uid, peer int
		ok        bool
	}{{0, 0, true}, {1000, 1000, true}, {1000, 0, false}} {
		c, s := net.Pipe()
		done := make(chan error, 1)
		go func() {
			_, err := ServerAuth(bufio.NewReader(s), s, "0123456789abcdef0123456789abcdef", tc.peer, func(int) bool { return true }, false)
			s.Close()
			done <- err
		}()
		err := ClientAuth(bufio.NewReader(c), c, tc.uid)
		c.Close()
		serr := <-done
		if tc.ok && (err != nil || serr != nil) {
			t.Errorf("uid %d: client %v, server %v", tc.uid, err, serr)
		}
		if !tc.ok && !errors.Is(err, ErrAuth) {
			t.Errorf("uid %d claimed as peer %d: client error %v, want ErrAuth", tc.uid, tc.peer, err)
		}
	}
	// A server that answers garbage: an error, no panic.
	c, s := net.Pipe()
	go func() {
		r := bufio.NewReader(s)
		r.ReadString('\n')
		s.Write([]byte(strings.Repeat("x", 5000) + "\r\n"))
		s.Close()
	}()
	if err := ClientAuth(bufio.NewReader(c), c, 0); err == nil {
		t.Error("garbage answer accepted")
	}
	c.Close()
}
