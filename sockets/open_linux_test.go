package sockets

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

func boundPort(t *testing.T, fd int) int {
	t.Helper()
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port
	case *unix.SockaddrInet6:
		return a.Port
	}
	t.Fatalf("not inet: %T", sa)
	return 0
}

func TestOpenInetKinds(t *testing.T) {
	s := newSocketUnit(
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "inet", Host: "127.0.0.1", Address: "127.0.0.1:0", Pos: pos(1)},
		unitfile.Listen{Kind: unitfile.ListenDatagram, Family: "inet", Host: "127.0.0.1", Address: "127.0.0.1:0", Pos: pos(2)},
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "inet", Host: "::1", Address: "[::1]:0", Pos: pos(3)},
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "inet", Address: "0", Pos: pos(4)},
	)
	s.FileDescriptorName = "web"
	set := mustOpen(t, "t.socket", s)
	fds := set.FDs()
	if len(fds) != 4 || len(set.Names()) != 4 || set.Names()[3] != "web" {
		t.Fatalf("fds %v names %v", fds, set.Names())
	}
	wantTypes := []int{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_STREAM, unix.SOCK_STREAM}
	wantDomains := []int{unix.AF_INET, unix.AF_INET, unix.AF_INET6, unix.AF_INET6}
	for i, fd := range fds {
		checkFdFlags(t, fd, true)
		if got := getInt(t, fd, unix.SOL_SOCKET, unix.SO_TYPE); got != wantTypes[i] {
			t.Errorf("fd %d type %d want %d", i, got, wantTypes[i])
		}
		if got := getInt(t, fd, unix.SOL_SOCKET, unix.SO_DOMAIN); got != wantDomains[i] {
			t.Errorf("fd %d domain %d want %d", i, got, wantDomains[i])
		}
		if getInt(t, fd, unix.SOL_SOCKET, unix.SO_REUSEADDR) != 1 {
			t.Errorf("fd %d without SO_REUSEADDR", i)
		}
	}
	if getInt(t, fds[0], unix.SOL_SOCKET, unix.SO_ACCEPTCONN) != 1 {
		t.Error("stream socket not listening")
	}
	// Real clients reach every stream socket.
	for _, c := range []string{"127.0.0.1", "[::1]"} {
		i := map[string]int{"127.0.0.1": 0, "[::1]": 2}[c]
		conn, err := net.Dial("tcp", c+":"+itoa(boundPort(t, fds[i])))
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	// Port-only is dual stack: an IPv4 client reaches the [::] socket.
	conn, err := net.Dial("tcp4", "127.0.0.1:"+itoa(boundPort(t, fds[3])))
	if err != nil {
		t.Fatalf("dual stack: %v", err)
	}
	conn.Close()
	// And a datagram arrives on the UDP one.
	u, err := net.Dial("udp", "127.0.0.1:"+itoa(boundPort(t, fds[1])))
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("hi"))
	u.Close()
	buf := make([]byte, 8)
	waitReadable(t, fds[1])
	if n, _, err := unix.Recvfrom(fds[1], buf, 0); err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("recv %q %v", buf[:n], err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func waitReadable(t *testing.T, fd int) {
	t.Helper()
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(p, 5000); err != nil || n != 1 {
		t.Fatalf("fd %d not readable: %v", fd, err)
	}
}

func TestBindIPv6Only(t *testing.T) {
	for _, mode := range []string{"both", "ipv6-only"} {
		s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenStream, Family: "inet", Address: "0", Pos: pos(1)})
		s.BindIPv6Only = mode
		set := mustOpen(t, "t.socket", s)
		fd := set.FDs()[0]
		want := map[string]int{"both": 0, "ipv6-only": 1}[mode]
		if got := getInt(t, fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); got != want {
			t.Errorf("%s: IPV6_V6ONLY=%d", mode, got)
		}
		_, err := net.DialTimeout("tcp4", "127.0.0.1:"+itoa(boundPort(t, fd)), time.Second)
		if (err == nil) != (mode == "both") {
			t.Errorf("%s: IPv4 connect err=%v", mode, err)
		}
		set.Close(false)
	}
}

func TestInetOptions(t *testing.T) {
	s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenStream, Family: "inet", Host: "127.0.0.1", Address: "127.0.0.1:0", Pos: pos(7)})
	s.Backlog = 17
	s.ReusePort, s.KeepAlive, s.NoDelay, s.FreeBind, s.Transparent, s.Broadcast = true, true, true, true, true, true
	s.KeepAliveTimeSec, s.KeepAliveIntervalSec, s.KeepAliveProbes = 600*time.Second, 30*time.Second, 4
	s.PassPacketInfo = true
	s.ReceiveBuffer, s.SendBuffer = 1<<20, 1<<19
	// Priority= is checked on a unix socket: IP_TOS, set after it as in
	// systemd, rewrites the priority of an IP socket.
	s.Mark, s.IPTOS, s.IPTTL = 42, 0x10, 33
	s.BindToDevice = "lo"
	set := mustOpen(t, "t.socket", s)
	fd := set.FDs()[0]
	checks := []struct {
		name       string
		level, opt int
		want       int
	}{
		{"SO_REUSEPORT", unix.SOL_SOCKET, unix.SO_REUSEPORT, 1},
		{"SO_KEEPALIVE", unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{"TCP_KEEPIDLE", unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 600},
		{"TCP_KEEPINTVL", unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 30},
		{"TCP_KEEPCNT", unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 4},
		{"TCP_NODELAY", unix.IPPROTO_TCP, unix.TCP_NODELAY, 1},
		{"IP_FREEBIND", unix.IPPROTO_IP, unix.IP_FREEBIND, 1},
		{"IP_TRANSPARENT", unix.IPPROTO_IP, unix.IP_TRANSPARENT, 1},
		{"SO_BROADCAST", unix.SOL_SOCKET, unix.SO_BROADCAST, 1},
		{"IP_PKTINFO", unix.IPPROTO_IP, unix.IP_PKTINFO, 1},
		{"SO_RCVBUF", unix.SOL_SOCKET, unix.SO_RCVBUF, 2 << 20}, // the kernel doubles it
		{"SO_SNDBUF", unix.SOL_SOCKET, unix.SO_SNDBUF, 2 << 19},
		{"SO_MARK", unix.SOL_SOCKET, unix.SO_MARK, 42},
		{"IP_TOS", unix.IPPROTO_IP, unix.IP_TOS, 0x10},
		{"IP_TTL", unix.IPPROTO_IP, unix.IP_TTL, 33},
	}
	for _, c := range checks {
		if got := getInt(t, fd, c.level, c.opt); got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}
	dev, err := unix.GetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE)
	if err != nil || dev != "lo" {
		t.Errorf("SO_BINDTODEVICE = %q %v", dev, err)
	}
	if w := set.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
}

func TestIPv6TTLAndWarnings(t *testing.T) {
	s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenStream, Family: "unix", Path: filepath.Join(t.TempDir(), "s"), Pos: pos(9)})
	s.NoDelay = true // meaningless on AF_UNIX: a warning, as in systemd, not a failure
	set := mustOpen(t, "t.socket", s)
	if w := set.Warnings(); len(w) != 1 || !strings.Contains(w[0], "t.socket:9: NoDelay=") {
		t.Errorf("warnings %q", w)
	}
	s6 := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenDatagram, Family: "inet", Host: "::1", Pos: pos(1)})
	s6.IPTTL = 12
	set6 := mustOpen(t, "t.socket", s6)
	if got := getInt(t, set6.FDs()[0], unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS); got != 12 {
		t.Errorf("IPV6_UNICAST_HOPS = %d", got)
	}
}

func TestUnixPathSocket(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "s.sock")
	// A stale socket file from an earlier run is replaced.
	os.MkdirAll(dir, 0o755)
	old, _ := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err := unix.Bind(old, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	unix.Close(old)
	os.Remove(dir)
	s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenSequentialPacket, Family: "unix", Path: path, Pos: pos(3)})
	s.SocketMode, s.DirectoryMode = 0o620, 0o711
	s.SocketUser, s.SocketGroup = "nobody", "4242"
	s.PassCredentials, s.Priority = true, 5
	s.Symlinks = []string{filepath.Join(t.TempDir(), "l", "link.sock")}
	set, err := Open("t.socket", s)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK || st.Mode&0o7777 != 0o620 {
		t.Errorf("mode %o", st.Mode)
	}
	if st.Uid != 65534 || st.Gid != 4242 {
		t.Errorf("owner %d:%d", st.Uid, st.Gid)
	}
	fd := set.FDs()[0]
	if getInt(t, fd, unix.SOL_SOCKET, unix.SO_TYPE) != unix.SOCK_SEQPACKET {
		t.Error("not seqpacket")
	}
	if getInt(t, fd, unix.SOL_SOCKET, unix.SO_PRIORITY) != 5 {
		t.Error("Priority= not applied")
	}
	if getInt(t, fd, unix.SOL_SOCKET, unix.SO_PASSCRED) != 1 {
		t.Error("PassCredentials= not applied")
	}
	if target, err := os.Readlink(s.Symlinks[0]); err != nil || target != path {
		t.Errorf("symlink -> %q %v", target, err)
	}
	c, err := net.Dial("unixpacket", s.Symlinks[0])
	if err != nil {
		t.Fatalf("connect through symlink: %v", err)
	}
	c.Close()
	// RemoveOnStop=no keeps the file; yes removes it and the symlink.
	set.Close(false)
	if _, err := os.Lstat(path); err != nil {
		t.Error("socket file removed without RemoveOnStop")
	}
	set2 := mustOpen(t, "t.socket", s)
	set2.Close(true)
	for _, p := range []string{path, s.Symlinks[0]} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
}

func TestUnixPathRefusesToReplaceRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	os.WriteFile(path, []byte("precious"), 0o644)
	s := newSocketUnit(
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "inet", Host: "127.0.0.1", Pos: pos(1)},
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "unix", Path: path, Address: path, Pos: pos(2)},
	)
	before := countFds(t)
	_, err := Open("t.socket", s)
	if err == nil || !strings.Contains(err.Error(), "t.socket:2: ListenStream="+path) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Error("regular file replaced")
	}
	if after := countFds(t); after != before {
		t.Errorf("fds leaked: %d -> %d", before, after)
	}
}

func countFds(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestAbstractSocket(t *testing.T) {
	name := "gosd-test-" + itoa(os.Getpid())
	s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenStream, Family: "unix", Path: name, Abstract: true, Pos: pos(1)})
	set := mustOpen(t, "t.socket", s)
	c, err := net.Dial("unix", "@"+name)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	checkFdFlags(t, set.FDs()[0], true)
}

func TestVsock(t *testing.T) {
	s := newSocketUnit(unitfile.Listen{Kind: unitfile.ListenStream, Family: "vsock", CID: unix.VMADDR_CID_ANY, Port: 5123, Pos: pos(4)})
	set, err := Open("t.socket", s)
	if _, statErr := os.Stat("/dev/vsock"); statErr != nil {
		// No vsock here: the error must say so and name the line.
		if err == nil || !strings.Contains(err.Error(), "t.socket:4") {
			t.Fatalf("err = %v", err)
		}
		if errors.Is(err, syscall.EAFNOSUPPORT) && !strings.Contains(err.Error(), "AF_VSOCK") {
			t.Fatalf("unclear error: %v", err)
		}
		t.Logf("no vsock: %v", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close(false)
	if getInt(t, set.FDs()[0], unix.SOL_SOCKET, unix.SO_DOMAIN) != unix.AF_VSOCK {
		t.Error("not vsock")
	}
}
