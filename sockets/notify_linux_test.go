package sockets

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

func listenNotify(t *testing.T) *NotifySocket {
	t.Helper()
	n, err := ListenNotify(filepath.Join(t.TempDir(), "run", "notify"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func receive(t *testing.T, n *NotifySocket) (Message, error) {
	t.Helper()
	waitReadable(t, n.FD())
	return n.Receive()
}

// send sends one datagram with optional fds from a fresh client socket.
func send(t *testing.T, n *NotifySocket, data []byte, fds ...int) {
	t.Helper()
	c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(c)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(c, data, oob, &unix.SockaddrUnix{Name: n.Path()}, 0); err != nil {
		t.Fatal(err)
	}
}

func TestNotifySocketSetup(t *testing.T) {
	n := listenNotify(t)
	checkFdFlags(t, n.FD(), true)
	if getInt(t, n.FD(), unix.SOL_SOCKET, unix.SO_PASSCRED) != 1 {
		t.Error("no SO_PASSCRED")
	}
	if got := getInt(t, n.FD(), unix.SOL_SOCKET, unix.SO_RCVBUF); got < notifyRcvBuf {
		t.Errorf("SO_RCVBUF %d", got)
	}
	fi, err := os.Stat(n.Path())
	if err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("mode %v %v", fi.Mode(), err)
	}
	if _, err := n.Receive(); !errors.Is(err, ErrNoMessage) {
		t.Errorf("idle Receive: %v", err)
	}
	// Abstract socket.
	a, err := ListenNotify("@gosd-notify-test-" + itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	t.Setenv("NOTIFY_SOCKET", a.Path())
	if ok, err := daemon.SdNotify(false, "READY=1"); !ok || err != nil {
		t.Fatalf("SdNotify to abstract: %v %v", ok, err)
	}
	if m, err := receive(t, a); err != nil || m.Fields[0] != [2]string{"READY", "1"} {
		t.Errorf("%+v %v", m, err)
	}
}

func TestNotifyGoSystemd(t *testing.T) {
	n := listenNotify(t)
	t.Setenv("NOTIFY_SOCKET", n.Path())
	ok, err := daemon.SdNotify(false, "READY=1\nSTATUS=serving")
	if !ok || err != nil {
		t.Fatalf("SdNotify: %v %v", ok, err)
	}
	m, err := receive(t, n)
	if err != nil {
		t.Fatal(err)
	}
	if m.Pid != os.Getpid() || m.Uid != os.Getuid() || m.Gid != os.Getgid() {
		t.Errorf("creds %d %d %d", m.Pid, m.Uid, m.Gid)
	}
	want := [][2]string{{"READY", "1"}, {"STATUS", "serving"}}
	if !slices.Equal(m.Fields, want) || m.Barrier || len(m.Fds) != 0 {
		t.Errorf("%+v", m)
	}
}

// TestNotifySystemdNotify runs the reference client: READY=1 and STATUS
// arrive with credentials, then BARRIER=1 with one fd that must be closed
// for systemd-notify to exit 0 (it would wait 5 s and exit 1 otherwise).
func TestNotifySystemdNotify(t *testing.T) {
	bin, err := exec.LookPath("systemd-notify")
	if err != nil {
		t.Fatalf("reference client missing: %v", err)
	}
	n := listenNotify(t)
	cmd := exec.Command(bin, "--ready", "--status=x")
	cmd.Env = []string{"NOTIFY_SOCKET=" + n.Path()}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var got []Message
	for len(got) < 2 {
		m, err := receive(t, n)
		if err != nil {
			t.Fatal(err)
		}
		if m.Barrier {
			if len(m.Fds) != 1 {
				t.Errorf("barrier with %d fds", len(m.Fds))
			}
			checkFdFlags(t, m.Fds[0], false)
			CloseFds(m)
		}
		got = append(got, m)
	}
	if err := <-done; err != nil {
		t.Fatalf("systemd-notify: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("systemd-notify took %v: barrier fd not closed in time", d)
	}
	first := got[0]
	// systemd-notify sends with its parent's pid: ours.
	if first.Pid != os.Getpid() || first.Uid != 0 {
		t.Errorf("creds pid %d uid %d", first.Pid, first.Uid)
	}
	if !slices.Contains(first.Fields, [2]string{"READY", "1"}) || !slices.Contains(first.Fields, [2]string{"STATUS", "x"}) {
		t.Errorf("fields %q", first.Fields)
	}
	if !got[1].Barrier {
		t.Errorf("second message %+v", got[1])
	}
}

func TestNotifyHostile(t *testing.T) {
	n := listenNotify(t)
	cases := []struct {
		name string
		data []byte
		fds  int
		err  bool
		want [][2]string
	}{
		{"empty", nil, 0, true, nil},
		{"empty with fds", nil, 3, true, nil},
		{"oversized", []byte(strings.Repeat("A=", 3000)), 2, true, nil},
		{"nul", []byte("READY=1\x00\nX=1"), 1, true, nil},
		{"garbage", []byte{0xff, 0xfe, '\n', 'a', '=', 'b', '\n', '=', 'x', '\n', 'n', 'o', 'e', 'q'}, 0, false, [][2]string{{"a", "b"}}},
		{"no equals only", []byte("READY\n\n\n"), 0, false, nil},
		{"trailing newline", []byte("READY=1\nSTATUS=a=b\n"), 0, false, [][2]string{{"READY", "1"}, {"STATUS", "a=b"}}},
		{"exactly max", append([]byte("K="), make([]byte, NotifyMaxSize-2)...), 0, true, nil}, // zeros: NUL
		{"many fds", []byte("FDSTORE=1"), 250, false, [][2]string{{"FDSTORE", "1"}}},
	}
	devnull, _ := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	defer unix.Close(devnull)
	before := countFds(t)
	for _, c := range cases {
		fds := make([]int, c.fds)
		for i := range fds {
			fds[i] = devnull
		}
		send(t, n, c.data, fds...)
		m, err := receive(t, n)
		if (err != nil) != c.err {
			t.Errorf("%s: err %v", c.name, err)
		}
		if err != nil && (m.Pid != os.Getpid() || len(m.Fds) != 0 || m.Fields != nil) {
			t.Errorf("%s: rejected as %+v, want only the sender's pid %d", c.name, m, os.Getpid())
		}
		if err == nil {
			if !slices.Equal(m.Fields, c.want) || len(m.Fds) != c.fds {
				t.Errorf("%s: fields %q, %d fds", c.name, m.Fields, len(m.Fds))
			}
			for _, fd := range m.Fds {
				checkFdFlags(t, fd, false)
			}
			CloseFds(m)
		}
	}
	if after := countFds(t); after != before {
		t.Errorf("fd leak: %d -> %d", before, after)
	}
}

// A control buffer too small for the fds sent gives MSG_CTRUNC: rejected,
// and the fds that did arrive are closed.
func TestNotifyControlTruncated(t *testing.T) {
	n := listenNotify(t)
	n.oob = make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4*2))
	before := countFds(t)
	devnull, _ := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	send(t, n, []byte("FDSTORE=1"), devnull, devnull, devnull, devnull, devnull)
	unix.Close(devnull)
	if _, err := receive(t, n); !errors.Is(err, errTruncated) {
		t.Errorf("err %v", err)
	}
	if after := countFds(t); after != before {
		t.Errorf("fd leak: %d -> %d", before, after)
	}
}
