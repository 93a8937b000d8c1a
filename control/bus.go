//go:build linux || freebsd

package control

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gosd/internal/dbus"
)

// DefaultBusSocket is where systemd's manager serves its D-Bus API to
// peers that talk to PID1 directly, without a bus daemon.
const DefaultBusSocket = "/run/systemd/private"

// busReadTimeout drops a client that stops in the middle of a message or
// of the authentication (a connection that sends nothing costs no
// goroutine and is only bounded by the connection cap).
const busReadTimeout = 10 * time.Second

// BusServer serves the org.freedesktop.systemd1 D-Bus API on a
// peer-to-peer unix socket (bus_api.go has the objects). Like Server it
// reads each connection on a goroutine of its own, one message at a time
// and only while the client reads its replies, and its handlers reach the
// manager only through Backend.Submit.
type BusServer struct {
	b    Backend
	path string
	opts options
	ln   *net.UnixListener
	guid string

	conns   atomic.Int64
	clients atomic.Uint64 // numbers the unique names handed out by Hello
	jobs    atomic.Uint32 // numbers the jobs of StartUnit and its kin
	mu      sync.Mutex
	open    map[*busConn]struct{}
	closed  chan struct{}
	once    sync.Once

	toMonoOnce sync.Once
	toMono     time.Duration // backend clock + toMono = CLOCK_MONOTONIC
}

// ListenBus creates the socket at path (mode 0600 unless WithSocketMode
// says otherwise: systemd's private socket is root's alone) and serves
// it. Only uid 0 passes authentication. WithMaxLine bounds a message
// (default and at most dbus.MaxMessageSize).
func ListenBus(path string, b Backend, opt ...Option) (*BusServer, error) {
	o := options{
		maxLine: dbus.MaxMessageSize, maxQueue: DefaultMaxQueue, maxConns: DefaultMaxConns,
		writeTimeout: DefaultWriteTimeout, mode: 0o600, now: monotonicNow,
	}
	for _, f := range opt {
		f(&o)
	}
	if o.maxLine > dbus.MaxMessageSize {
		o.maxLine = dbus.MaxMessageSize
	}
	// The server GUID only has to be unique (D-Bus specification, "Server
	// GUIDs"), not secret: crypto/rand would block on the kernel's entropy
	// early in a boot (getrandom spins generating jitter entropy, about a
	// CPU-second under qemu TCG) and adds to the binary.
	var g [16]byte
	binary.LittleEndian.PutUint64(g[:8], uint64(time.Now().UnixNano()))
	binary.LittleEndian.PutUint64(g[8:], uint64(os.Getpid())<<32|uint64(monotonicNow()))
	// listenUnix replaces a stale socket file; a live one belongs to
	// another manager (a real systemd, another gosd) and is left alone.
	if probe, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"}); err == nil {
		probe.Close()
		return nil, fmt.Errorf("bus: %s is in use by another process", path)
	}
	ln, err := listenUnix(path, o.mode)
	if err != nil {
		return nil, err
	}
	s := &BusServer{b: b, path: path, opts: o, ln: ln, guid: hex.EncodeToString(g[:]),
		open: map[*busConn]struct{}{}, closed: make(chan struct{})}
	go acceptLoop(ln, s.admit, s.serve)
	return s, nil
}

// admit applies the connection cap (only root gets past authentication,
// so there is no per-user one).
func (s *BusServer) admit(peer) bool {
	if s.conns.Load() >= int64(s.opts.maxConns) {
		return false
	}
	s.conns.Add(1)
	return true
}

// Path is the socket's path.
func (s *BusServer) Path() string { return s.path }

// Close stops accepting, lets every connection write what is queued for it
// (up to flushWait), then drops them all and removes the socket.
func (s *BusServer) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.ln.Close()
		s.mu.Lock()
		boxes := make([]*outbox, 0, len(s.open))
		for c := range s.open {
			boxes = append(boxes, c.outbox)
		}
		s.mu.Unlock()
		flushAll(boxes, flushWait)
	})
	return nil
}

// busConn is one client connection.
type busConn struct {
	srv *BusServer
	uid int // SO_PEERCRED; -1 if unknown (refused)
	*outbox

	// Read on the reactor too (replies queued there, signals).
	authed atomic.Bool            // past SASL: binary messages may be sent
	name   atomic.Pointer[string] // the unique name Hello gave, nil before
	serial atomic.Uint32
}

// uniqueName is the name Hello gave the client, "" before Hello.
func (c *busConn) uniqueName() string {
	if p := c.name.Load(); p != nil {
		return *p
	}
	return ""
}

// serve authenticates a client, then reads and handles its messages one
// at a time until the connection ends. The authentication and each
// message once begun must arrive within busReadTimeout (a connection that
// sends nothing costs a parked goroutine and is bounded by the connection
// cap).
func (s *BusServer) serve(nc *net.UnixConn, p peer) {
	c := &busConn{srv: s, uid: p.uid, outbox: newOutbox(nc, s.opts.maxQueue, s.opts.writeTimeout)}
	s.mu.Lock()
	s.open[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		// What is queued still goes out (bounded by the write timeout).
		c.closeWhenSent()
		<-c.done
		s.conns.Add(-1)
		s.mu.Lock()
		delete(s.open, c)
		s.mu.Unlock()
	}()
	// This runs outside the reactor's guard: a panic here would take PID1
	// down. Drop the connection instead.
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "gosd: bus: request handler panicked: %v (connection dropped)\n", v)
		}
	}()
	select {
	case <-s.closed:
		return
	default:
	}
	in := bufio.NewReaderSize(nc, 4<<10)
	nc.SetReadDeadline(time.Now().Add(busReadTimeout))
	if _, err := dbus.ServerAuth(in, writerFunc(c.send), s.guid, c.uid,
		func(uid int) bool { return uid == 0 }, false); err != nil {
		c.drop("authentication: %v", err)
		return
	}
	c.authed.Store(true)
	for {
		if !c.waitRoom(readRoom) {
			return
		}
		nc.SetReadDeadline(time.Time{})
		if _, err := in.Peek(1); err != nil {
			// A hang-up, or the end of the client's sending: what
			// it was answered still goes out.
			return
		}
		nc.SetReadDeadline(time.Now().Add(busReadTimeout))
		m, err := dbus.ReadMessage(in, s.opts.maxLine)
		if err != nil {
			// A framing error leaves no way to find the next message,
			// and a malformed one marks a client we cannot trust to
			// follow the protocol: either way the connection ends, as
			// sd-bus and dbus-daemon end it.
			c.drop("%v", err)
			return
		}
		c.handle(m)
	}
}

// drop ends the connection after a protocol error (once what is queued,
// such as the authentication's REJECTED, is written); the reason is logged
// only when the client got past authentication (a refused or confused
// client is not news).
func (c *busConn) drop(format string, args ...any) {
	if c.authed.Load() {
		fmt.Fprintf(os.Stderr, "gosd: bus: dropping client uid %d: %s\n", c.uid, fmt.Sprintf(format, args...))
	}
	c.closeWhenSent()
}

type writerFunc func([]byte)

func (w writerFunc) Write(b []byte) (int, error) {
	w(append([]byte(nil), b...))
	return len(b), nil
}

// busError is a D-Bus error reply: its name and message.
type busError struct{ name, msg string }

func (e *busError) Error() string { return e.name + ": " + e.msg }

func busErrorf(name, format string, args ...any) *busError {
	return &busError{name: name, msg: fmt.Sprintf(format, args...)}
}

// D-Bus error names used in replies.
const (
	errFailed           = "org.freedesktop.DBus.Error.Failed"
	errUnknownMethod    = "org.freedesktop.DBus.Error.UnknownMethod"
	errUnknownObject    = "org.freedesktop.DBus.Error.UnknownObject"
	errUnknownInterface = "org.freedesktop.DBus.Error.UnknownInterface"
	errUnknownProperty  = "org.freedesktop.DBus.Error.UnknownProperty"
	errPropertyReadOnly = "org.freedesktop.DBus.Error.PropertyReadOnly"
	errInvalidArgs      = "org.freedesktop.DBus.Error.InvalidArgs"
	errNoSuchUnit       = "org.freedesktop.systemd1.NoSuchUnit"
	errNoUnitForPID     = "org.freedesktop.systemd1.NoUnitForPID"
)

// handle answers one message. Only method calls are served; anything
// else a client sends is ignored, as a bus would.
func (c *busConn) handle(m *dbus.Message) {
	if m.Type != dbus.TypeMethodCall {
		return
	}
	sig, body, err := c.call(m)
	if err != errReplied {
		c.reply(m, sig, body, err)
	}
}

// errReplied: the method sent its reply itself.
var errReplied = errors.New("replied")

// reply answers m with a return of sig and body, or with err (a
// *busError names the D-Bus error) — unless m asked for no reply.
func (c *busConn) reply(m *dbus.Message, sig string, body []any, err error) {
	if m.Flags&dbus.FlagNoReplyExpected != 0 {
		return
	}
	r := &dbus.Message{Type: dbus.TypeMethodReturn, ReplySerial: m.Serial,
		Destination: c.uniqueName(), Signature: dbus.Signature(sig), Body: body}
	if err != nil {
		var be *busError
		if !errors.As(err, &be) {
			be = &busError{name: errFailed, msg: err.Error()}
		}
		r = c.errorReply(m, be)
	}
	r.Serial = c.nextSerial()
	b, merr := r.Marshal()
	if merr != nil {
		// Our own values did not fit their signature (a unit's text
		// that is not UTF-8, say): answer with the error instead.
		fmt.Fprintf(os.Stderr, "gosd: bus: encoding the reply to %s.%s on %s: %v\n", m.Interface, m.Member, m.Path, merr)
		r = c.errorReply(m, &busError{name: errFailed, msg: "the reply could not be encoded"})
		r.Serial = c.nextSerial()
		if b, merr = r.Marshal(); merr != nil {
			return
		}
	}
	c.send(b)
}

// signal sends a signal to every authenticated connection, as systemd
// does on its direct connections ("send to all direct buses,
// unconditionally": systemctl waits for JobRemoved there without ever
// calling Subscribe). On the reactor: send only queues.
func (s *BusServer) signal(m *dbus.Message) {
	s.mu.Lock()
	var to []*busConn
	for c := range s.open {
		if c.authed.Load() {
			to = append(to, c)
		}
	}
	s.mu.Unlock()
	for _, c := range to {
		sm := *m
		sm.Serial = c.nextSerial()
		b, err := sm.Marshal()
		if err != nil {
			fmt.Fprintf(os.Stderr, "gosd: bus: encoding signal %s: %v\n", m.Member, err)
			continue
		}
		c.send(b)
	}
}

func (c *busConn) errorReply(m *dbus.Message, be *busError) *dbus.Message {
	return &dbus.Message{Type: dbus.TypeError, ReplySerial: m.Serial, Destination: c.uniqueName(),
		ErrorName: be.name, Signature: "s", Body: []any{be.msg}}
}

func (c *busConn) nextSerial() uint32 {
	for {
		if n := c.serial.Add(1); n != 0 {
			return n
		}
	}
}

// onReactor runs fn on the reactor and waits for it.
func (c *busConn) onReactor(fn func()) error { return onReactor(c.srv.b, c.srv.closed, fn) }
