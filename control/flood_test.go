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

// flood writes batch as fast as the socket takes it for 3 s and reports
// how many bytes the server took and how much the heap grew meanwhile.
// With netpoll, which read sockets into its own buffers whatever the
// handler's pace, this grew by ~1 GiB; now the server reads a request only
// after handling the one before, and the rest waits in the kernel.
func flood(t *testing.T, conn net.Conn, batch []byte) (sent int64, grew uint64) {
	t.Helper()
	h0 := heapInUse()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		conn.SetWriteDeadline(deadline)
		n, err := conn.Write(batch)
		sent += int64(n)
		if err != nil {
			break
		}
	}
	if h1 := heapInUse(); h1 > h0 {
		grew = h1 - h0
	}
	return sent, grew
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
	sent, grew := flood(t, c.conn, batch)
	t.Logf("the server took %d KiB in 3 s; heap grew %d KiB", sent>>10, grew>>10)
	if grew > 16<<20 {
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
	sent, grew := flood(t, conn, batch)
	t.Logf("the server took %d KiB in 3 s; heap grew %d KiB", sent>>10, grew>>10)
	if grew > 16<<20 {
		t.Errorf("heap grew %d MiB under one flooding client", grew>>20)
	}
	// Others are still served.
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Call(MethodUnitPaths, nil, nil); err != nil {
		t.Errorf("another client beside the flood: %v", err)
	}
}
