package unitfile

import "testing"

func TestParseListen(t *testing.T) {
	pos := Pos{"x.socket", 4}
	cases := []struct {
		kind ListenKind
		in   string
		want Listen
	}{
		{ListenStream, "/run/foo.sock", Listen{Family: "unix", Path: "/run/foo.sock"}},
		{ListenStream, "@foo/bar", Listen{Family: "unix", Path: "foo/bar", Abstract: true}},
		{ListenStream, "1234", Listen{Family: "inet", Port: 1234}},
		{ListenStream, "1.2.3.4:80", Listen{Family: "inet", Host: "1.2.3.4", Port: 80}},
		{ListenDatagram, "0.0.0.0:53", Listen{Family: "inet", Host: "0.0.0.0", Port: 53}},
		{ListenStream, "[::1]:80", Listen{Family: "inet", Host: "::1", Port: 80}},
		{ListenStream, "[fe80::1%eth0]:80", Listen{Family: "inet", Host: "fe80::1%eth0", Port: 80}},
		{ListenStream, "vsock:2:1234", Listen{Family: "vsock", CID: 2, Port: 1234}},
		{ListenStream, "vsock::1234", Listen{Family: "vsock", CID: VsockCIDAny, Port: 1234}},
		{ListenSequentialPacket, "/run/seq", Listen{Family: "unix", Path: "/run/seq"}},
		{ListenNetlink, "kobject-uevent 1", Listen{Family: "netlink", Path: "kobject-uevent", Group: 1}},
		{ListenNetlink, "audit", Listen{Family: "netlink", Path: "audit"}},
		{ListenFIFO, "/run/initctl", Listen{Path: "/run/initctl"}},
		{ListenSpecial, "/proc/kmsg", Listen{Path: "/proc/kmsg"}},
		{ListenMessageQueue, "/myqueue", Listen{Path: "/myqueue"}},
		{ListenUSBFunction, "/run/ffs", Listen{Path: "/run/ffs"}},
	}
	for _, c := range cases {
		c.want.Kind, c.want.Address, c.want.Pos = c.kind, c.in, pos
		got, err := ParseListen(c.kind, c.in, pos)
		if err != nil || got != c.want {
			t.Errorf("ParseListen(%s, %q) = %+v, %v; want %+v", c.kind, c.in, got, err, c.want)
		}
	}
	bad := []struct {
		kind ListenKind
		in   string
	}{
		{ListenStream, ""}, {ListenStream, "0"}, {ListenStream, "65536"}, {ListenStream, "relative/path"},
		{ListenStream, "::1:80"}, {ListenStream, "[1.2.3.4]:80"}, {ListenStream, "host.example:80"},
		{ListenStream, "1.2.3.4"}, {ListenStream, "1.2.3.4:x"}, {ListenStream, "@"},
		{ListenStream, "vsock:1234"}, {ListenStream, "vsock:x:1"}, {ListenSequentialPacket, "80"},
		{ListenNetlink, "nosuchfamily"}, {ListenNetlink, "route x"}, {ListenFIFO, "fifo"},
		{ListenMessageQueue, "/a/b"}, {ListenKind("Bogus"), "/x"},
	}
	for _, c := range bad {
		if got, err := ParseListen(c.kind, c.in, pos); err == nil {
			t.Errorf("ParseListen(%s, %q) = %+v, want error", c.kind, c.in, got)
		}
	}
}
