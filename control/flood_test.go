//go:build linux

package control

import (
	"io"
	"net"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"gosd/internal/dbus"
)

// slowBackend answers every request after a reactor-sized pause, so that a
// client writing at full speed outruns the handler.
type slowBackend struct{ *fakeBackend }

func (s slowBackend) Submit(fn func()) {
	s.fakeBackend.Submit(func() { time.Sleep(200 * time.Microsecond); fn() })
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// flood writes batch as fast as the socket takes it for up to 3 s and
// reports whether the server ended the connection and how much the heap
// grew meanwhile. netpoll reads sockets into its own buffers whatever the
// handler's pace, so without a bound on unread input this grew by ~1 GiB.
func flood(t *testing.T, conn net.Conn, batch []byte) (closed bool, grew uint64) {
	t.Helper()
	h0 := heapInUse()
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := conn.Write(batch); err != nil {
			closed = true
			break
		}
	}
	if h1 := heapInUse(); h1 > h0 {
		grew = h1 - h0
	}
	return closed, grew
}

func TestBusInputFloodIsBounded(t *testing.T) {
	fb := newFakeBackend()
	fb.add("foo.service", "active", nil)
	sock := filepath.Join(t.TempDir(), "private")
	srv, err := ListenBus(sock, slowBackend{fb})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := dialBus(t, sock)
	// Calls that want no reply: nothing ever fills the outbox.
	m := &dbus.Message{Type: dbus.TypeMethodCall, Flags: dbus.FlagNoReplyExpected, Serial: 1, Path: busManagerPath,
		Interface: ifaceManager, Member: "GetUnit", Signature: "s", Body: []any{"foo.service"}}
	one, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var batch []byte
	for i := 0; i < 4096; i++ {
		batch = append(batch, one...)
	}
	closed, grew := flood(t, c.conn, batch)
	t.Logf("connection closed by the server: %v; heap grew %d KiB", closed, grew>>10)
	if !closed {
		t.Errorf("a client flooding the bus socket was never dropped")
	}
	if grew > 64<<20 {
		t.Errorf("heap grew %d MiB under one flooding client", grew>>20)
	}
	// Others are still served.
	if v := dialBus(t, sock).get(busManagerPath, ifaceManager, "SystemState"); v.Sig != "s" {
		t.Errorf("SystemState after the flood: %v", v)
	}
}

func TestControlInputFloodIsBounded(t *testing.T) {
	fb := newFakeBackend()
	sock := filepath.Join(t.TempDir(), "ctl")
	srv, err := Listen(sock, slowBackend{fb})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go io.Copy(io.Discard, conn)
	// Notifications (no id) get no answer: nothing fills the outbox.
	line := []byte(`{"jsonrpc":"2.0","method":"unit_paths"}` + "\n")
	var batch []byte
	for i := 0; i < 4096; i++ {
		batch = append(batch, line...)
	}
	closed, grew := flood(t, conn, batch)
	t.Logf("connection closed by the server: %v; heap grew %d KiB", closed, grew>>10)
	if !closed {
		t.Errorf("a client flooding the control socket was never dropped")
	}
	if grew > 64<<20 {
		t.Errorf("heap grew %d MiB under one flooding client", grew>>20)
	}
}
