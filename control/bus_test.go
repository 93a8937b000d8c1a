//go:build linux

package control

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/internal/dbus"
	"gosd/manager"
	"gosd/unitfile"
)

func TestBusEscape(t *testing.T) {
	for name, want := range map[string]string{
		"multi-user.target":  "multi_2duser_2etarget",
		"graphical.target":   "graphical_2etarget",
		"getty@tty1.service": "getty_40tty1_2eservice",
		"1x.service":         "_31x_2eservice",
		"":                   "_",
	} {
		if got := busEscape(name); got != want {
			t.Errorf("busEscape(%q) = %q, want %q", name, got, want)
		}
		if back, ok := busUnescape(want); !ok || back != name {
			t.Errorf("busUnescape(%q) = %q, %v", want, back, ok)
		}
	}
	for _, bad := range []string{"a_2", "a_", "a_zz", "x_4"} {
		if _, ok := busUnescape(bad); ok {
			t.Errorf("busUnescape(%q) accepted", bad)
		}
	}
}

// busClient is a raw peer-to-peer D-Bus client, as sd-bus speaks it.
type busClient struct {
	t      *testing.T
	conn   net.Conn
	r      *bufio.Reader
	serial uint32
}

// dialBus connects and authenticates the way sd-bus does: everything up
// to BEGIN in one write, without waiting for answers.
func dialBus(t *testing.T, path string) *busClient {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	c := &busClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	io.WriteString(conn, "\x00AUTH EXTERNAL\r\nDATA\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n")
	for _, want := range []string{"DATA", "OK ", "ERROR"} {
		line, err := c.r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, want) {
			t.Fatalf("auth: got %q (%v), want %s...", line, err, want)
		}
	}
	return c
}

func (c *busClient) send(m *dbus.Message) {
	c.t.Helper()
	c.serial++
	m.Serial = c.serial
	b, err := m.Marshal()
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *busClient) read() *dbus.Message {
	c.t.Helper()
	m, err := dbus.ReadMessage(c.r, dbus.MaxMessageSize)
	if err != nil {
		c.t.Fatalf("reading a reply: %v", err)
	}
	return m
}

// call sends a method call and returns its reply (or error reply).
func (c *busClient) call(path, iface, member, sig string, body ...any) *dbus.Message {
	c.t.Helper()
	c.send(&dbus.Message{Type: dbus.TypeMethodCall, Path: dbus.ObjectPath(path), Interface: iface,
		Member: member, Destination: "org.freedesktop.systemd1", Signature: dbus.Signature(sig), Body: body})
	r := c.read()
	if r.ReplySerial != c.serial {
		c.t.Fatalf("reply to serial %d, want %d", r.ReplySerial, c.serial)
	}
	return r
}

// get reads one property and fails the test on an error reply.
func (c *busClient) get(path, iface, prop string) dbus.Variant {
	c.t.Helper()
	r := c.call(path, ifaceProperties, "Get", "ss", iface, prop)
	if r.Type != dbus.TypeMethodReturn || r.Signature != "v" {
		c.t.Fatalf("Get %s %s: %s %v", path, prop, r.ErrorName, r.Body)
	}
	return r.Body[0].(dbus.Variant)
}

func wantError(t *testing.T, r *dbus.Message, name string) {
	t.Helper()
	if r.Type != dbus.TypeError || r.ErrorName != name {
		t.Errorf("got type %d %q %v, want error %s", r.Type, r.ErrorName, r.Body, name)
	}
}

func newBusFixture(t *testing.T) (*fakeBackend, string) {
	t.Helper()
	b := newFakeBackend()
	sock := filepath.Join(t.TempDir(), "private")
	srv, err := ListenBus(sock, b, WithClock(monotonicNow))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		if n := b.misuse.Load(); n != 0 {
			t.Errorf("%d Backend calls happened off the reactor goroutine", n)
		}
	})
	b.add("multi-user.target", "active", nil)
	b.add("foo.service", "active", &unitfile.Unit{FragmentPath: "/etc/foo.service",
		Service: &unitfile.Service{Type: "notify"}})
	b.add("bad.service", "failed", nil)
	b.do(func() {
		b.units["foo.service"].MainPID = 4242
		b.units["foo.service"].ActiveEnter = time.Second
		b.boot = BootTimes{Target: "multi-user.target", StartMonotonic: 3 * time.Second, Finish: 2 * time.Second}
	})
	return b, sock
}

func TestBusProperties(t *testing.T) {
	_, sock := newBusFixture(t)
	c := dialBus(t, sock)

	if v := c.get(busManagerPath, ifaceManager, "UserspaceTimestampMonotonic"); v.Sig != "t" || v.Value != uint64(3e6) {
		t.Errorf("UserspaceTimestampMonotonic = %v", v)
	}
	if v := c.get(busManagerPath, ifaceManager, "SystemState"); v.Value != "degraded" {
		t.Errorf("SystemState = %v, want degraded (bad.service failed)", v)
	}
	if v := c.get(busManagerPath, ifaceManager, "NFailedUnits"); v.Value != uint32(1) {
		t.Errorf("NFailedUnits = %v", v)
	}
	if v := c.get(busManagerPath+"/unit/multi_2duser_2etarget", ifaceUnit, "ActiveState"); v.Value != "active" {
		t.Errorf("ActiveState = %v", v)
	}
	// A unit gosd does not know reads as systemd shows an unloadable one.
	if v := c.get(busManagerPath+"/unit/graphical_2etarget", ifaceUnit, "ActiveState"); v.Value != "inactive" {
		t.Errorf("graphical.target ActiveState = %v", v)
	}
	foo := string(unitPath("foo.service"))
	if v := c.get(foo, ifaceService, "MainPID"); v.Sig != "u" || v.Value != uint32(4242) {
		t.Errorf("MainPID = %v", v)
	}
	if v := c.get(foo, ifaceService, "Type"); v.Value != "notify" {
		t.Errorf("Type = %v", v)
	}
	// ActiveEnterTimestamp: the backend's clock is CLOCK_MONOTONIC here.
	if v := c.get(foo, ifaceUnit, "ActiveEnterTimestampMonotonic"); v.Value != uint64(1e6) {
		t.Errorf("ActiveEnterTimestampMonotonic = %v", v)
	}
	r := c.call(foo, ifaceProperties, "GetAll", "s", ifaceService)
	if r.Signature != "a{sv}" || len(r.Body[0].([]any)) != len(typeIfaces[ifaceService].props) {
		t.Errorf("GetAll Service: %s %v", r.Signature, r.Body)
	}
	// An interface-less GetAll returns every interface's properties.
	r = c.call(foo, ifaceProperties, "GetAll", "s", "")
	if n := len(r.Body[0].([]any)); n != len(unitIface.props)+len(typeIfaces[ifaceService].props) {
		t.Errorf("GetAll all: %d properties", n)
	}
	// A target has no Service interface.
	wantError(t, c.call(busManagerPath+"/unit/multi_2duser_2etarget", ifaceProperties, "Get", "ss", ifaceService, "MainPID"), errUnknownInterface)
}

func TestBusMethodsAndErrors(t *testing.T) {
	_, sock := newBusFixture(t)
	c := dialBus(t, sock)

	r := c.call("/org/freedesktop/DBus", ifaceDBus, "Hello", "")
	if r.Type != dbus.TypeMethodReturn || !strings.HasPrefix(r.Body[0].(string), ":1.") {
		t.Fatalf("Hello: %v", r.Body)
	}
	if r := c.call(busManagerPath, ifacePeer, "Ping", ""); r.Type != dbus.TypeMethodReturn {
		t.Errorf("Ping: %s", r.ErrorName)
	}
	r = c.call(busManagerPath, ifaceManager, "GetUnit", "s", "foo.service")
	if r.Type != dbus.TypeMethodReturn || r.Body[0] != dbus.ObjectPath(busUnitPrefix+"foo_2eservice") {
		t.Errorf("GetUnit: %v %v", r.ErrorName, r.Body)
	}
	wantError(t, c.call(busManagerPath, ifaceManager, "GetUnit", "s", "nope.service"), errNoSuchUnit)
	if r := c.call(busManagerPath, ifaceManager, "LoadUnit", "s", "nope.service"); r.Type != dbus.TypeMethodReturn {
		t.Errorf("LoadUnit of an unknown unit: %s", r.ErrorName)
	}
	wantError(t, c.call(busManagerPath, ifaceManager, "GetUnit", "s", "../x"), errInvalidArgs)
	r = c.call(busManagerPath, ifaceManager, "GetUnitByPID", "u", uint32(4242))
	if r.Type != dbus.TypeMethodReturn || r.Body[0] != unitPath("foo.service") {
		t.Errorf("GetUnitByPID: %v %v", r.ErrorName, r.Body)
	}
	wantError(t, c.call(busManagerPath, ifaceManager, "GetUnitByPID", "u", uint32(1)), errNoUnitForPID)
	r = c.call(busManagerPath, ifaceManager, "ListUnits", "")
	if r.Signature != "a(ssssssouso)" || len(r.Body[0].([]any)) != 3 {
		t.Errorf("ListUnits: %s %v", r.Signature, r.Body)
	}
	r = c.call(busManagerPath, ifaceIntrospectable, "Introspect", "")
	if s, _ := r.Body[0].(string); !strings.Contains(s, `<interface name="org.freedesktop.systemd1.Manager">`) ||
		!strings.Contains(s, `<node name="unit"/>`) {
		t.Errorf("Introspect: %v", r.Body)
	}

	wantError(t, c.call("/org/freedesktop/nope", ifacePeer, "Ping", ""), errUnknownObject)
	wantError(t, c.call(busManagerPath+"/unit/_zz", ifacePeer, "Ping", ""), errUnknownObject)
	wantError(t, c.call(busManagerPath, "org.example.Nope", "Ping", ""), errUnknownInterface)
	wantError(t, c.call(busManagerPath, ifaceManager, "KExec", ""), errUnknownMethod)
	wantError(t, c.call(busManagerPath, ifaceProperties, "Get", "ss", ifaceManager, "Nope"), errUnknownProperty)
	wantError(t, c.call(busManagerPath, ifaceProperties, "Get", "s", ifaceManager), errInvalidArgs)
	wantError(t, c.call(busManagerPath, ifaceProperties, "Set", "ssv", ifaceManager, "Version", dbus.MakeVariant("x")), errPropertyReadOnly)

	// No reply when none is expected; the next call is still answered.
	c.send(&dbus.Message{Type: dbus.TypeMethodCall, Flags: dbus.FlagNoReplyExpected, Path: busManagerPath,
		Interface: ifacePeer, Member: "Ping"})
	if r := c.call(busManagerPath, ifacePeer, "Ping", ""); r.ReplySerial != c.serial {
		t.Errorf("after a no-reply call: reply to %d", r.ReplySerial)
	}
}

// TestBusHostileInput: a client that breaks the protocol loses its
// connection and nothing else; the server keeps serving.
func TestBusHostileInput(t *testing.T) {
	b, sock := newBusFixture(t)
	closed := func(name string, conn net.Conn) {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		// Closed with input unread, the connection may end in a reset.
		if _, err := io.ReadAll(conn); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: connection not closed: %v", name, err)
		}
	}
	raw := func(s string) net.Conn {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		io.WriteString(conn, s)
		return conn
	}
	// Garbage instead of the nul byte, and garbage lines in the handshake.
	closed("no nul", raw("GET / HTTP/1.0\r\n\r\n"))
	closed("BEGIN before auth", raw("\x00BEGIN\r\n"))
	closed("endless line", raw("\x00"+strings.Repeat("A", 10000)))
	closed("wrong uid", raw("\x00AUTH EXTERNAL "+fmt.Sprintf("%x", "12345")+"\r\nBEGIN\r\n"))

	after := func(name string, msg []byte) {
		c := dialBus(t, sock)
		c.conn.Write(msg)
		closed(name, c.conn)
	}
	after("garbage after BEGIN", []byte(strings.Repeat("\xff", 64)))
	// A header announcing a body beyond the limit.
	big := make([]byte, 16)
	copy(big, "l\x01\x00\x01")
	binary.LittleEndian.PutUint32(big[4:], 64<<20)
	binary.LittleEndian.PutUint32(big[8:], 1)
	after("oversized", big)
	// A body that does not match its signature: a "u" claimed, a string sent.
	good := &dbus.Message{Type: dbus.TypeMethodCall, Serial: 1, Path: busManagerPath, Interface: ifacePeer,
		Member: "Ping", Signature: "s", Body: []any{"0123456789abcdef0123456789abcdef"}}
	m, err := good.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(m), "\x01s\x00")
	if i < 0 {
		t.Fatal("signature field not found")
	}
	m[i+1] = 'u'
	m[len(m)-33] = 0xff // and a length that no longer fits
	after("bad signature", m)
	// A message cut short: dropped after the read timeout at the latest,
	// without holding anything else up.
	c := dialBus(t, sock)
	c.conn.Write(m[:20])

	// Others are still served, and the manager's state is untouched.
	ok := dialBus(t, sock)
	if v := ok.get(busManagerPath+"/unit/foo_2eservice", ifaceUnit, "ActiveState"); v.Value != "active" {
		t.Errorf("after hostile clients: %v", v)
	}
	b.do(func() {
		if len(b.jobs) != 0 || b.power != "" || b.reloads != 0 {
			t.Errorf("hostile input changed state: jobs %v power %q reloads %d", b.jobs, b.power, b.reloads)
		}
	})
}

func TestBusJobs(t *testing.T) {
	b, sock := newBusFixture(t)
	c := dialBus(t, sock)
	if r := c.call(busManagerPath, ifaceManager, "Subscribe", ""); r.Type != dbus.TypeMethodReturn {
		t.Fatalf("Subscribe: %s", r.ErrorName)
	}
	b.do(func() { b.results["bad.service"] = manager.ResultFailed })
	for _, k := range []struct{ method, unit, result, job string }{
		{"StopUnit", "foo.service", "done", "stop foo.service replace"},
		{"StartUnit", "bad.service", "failed", "start bad.service fail"},
	} {
		mode := strings.Fields(k.job)[2]
		r := c.call(busManagerPath, ifaceManager, k.method, "ss", k.unit, mode)
		if r.Type != dbus.TypeMethodReturn || !strings.HasPrefix(string(r.Body[0].(dbus.ObjectPath)), busManagerPath+"/job/") {
			t.Fatalf("%s: %s %v", k.method, r.ErrorName, r.Body)
		}
		sig := c.read()
		if sig.Type != dbus.TypeSignal || sig.Member != "JobRemoved" || sig.Body[1] != r.Body[0] ||
			sig.Body[2] != k.unit || sig.Body[3] != k.result {
			t.Errorf("%s: signal %s %v, want JobRemoved of %v with %s", k.method, sig.Member, sig.Body, r.Body[0], k.result)
		}
	}
	b.do(func() {
		if strings.Join(b.jobs, ",") != "stop foo.service replace,start bad.service fail" {
			t.Errorf("jobs: %v", b.jobs)
		}
		if b.units["foo.service"].Active != "inactive" {
			t.Errorf("foo.service not stopped")
		}
	})
	wantError(t, c.call(busManagerPath, ifaceManager, "StartUnit", "ss", "nope.service", "replace"), errNoSuchUnit)
	wantError(t, c.call(busManagerPath, ifaceManager, "StartUnit", "ss", "foo.service", "bogus"), errInvalidArgs)
	wantError(t, c.call(busManagerPath, ifaceManager, "StartUnit", "s", "foo.service"), errInvalidArgs)
}

// The unit-file methods take unit names, never paths.
func TestBusUnitFileMethodsRefusePaths(t *testing.T) {
	_, sock := newBusFixture(t)
	c := dialBus(t, sock)
	wantError(t, c.call(busManagerPath, ifaceManager, "GetUnitFileState", "s", "../../etc/passwd"), errInvalidArgs)
	wantError(t, c.call(busManagerPath, ifaceManager, "SetDefaultTarget", "sb", "../x.target", false), errInvalidArgs)
	wantError(t, c.call(busManagerPath, ifaceManager, "EnableUnitFiles", "asbb", []string{"a/../../b.service"}, false, false), errInvalidArgs)
	wantError(t, c.call(busManagerPath, ifaceManager, "KillUnit", "ssi", "x", "all", int32(15)), errInvalidArgs)
}
