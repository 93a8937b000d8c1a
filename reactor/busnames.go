package reactor

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gosd/internal/dbus"
	"gosd/manager"
	"gosd/unitfile"
)

// The system-bus client that follows Type=dbus services' names
// (manager.WatchBusName): it tells the manager who owns each name
// (manager.BusNameOwner) when it starts watching it and whenever the bus
// says the owner changed (NameOwnerChanged).
//
// The connection lives on goroutines of its own, so a slow or hostile bus
// never blocks the reactor: one dials, authenticates (SASL EXTERNAL), says
// Hello and then reads; one writes what the reactor queues. Results come
// back through Submit. Connecting is lazy (the first watched name) and is
// tried again, without any timer, when a unit waiting for its name changes
// state or when dbus.service (or the unit aliased to it) becomes active; a
// lost connection is forgotten and re-made on the same triggers.

// DefaultSystemBus is the system bus address without $DBUS_SYSTEM_BUS_ADDRESS.
const DefaultSystemBus = "unix:path=" + unitfile.RunDir + "/dbus/system_bus_socket"

// busSetupTimeout bounds connect, authentication and Hello: a bus that
// accepts but never answers must not leave gosd "connecting" for ever.
const busSetupTimeout = 10 * time.Second

// busQueue is how many messages may wait for the writer; a bus that does
// not read them is dropped.
const busQueue = 256

const (
	busDaemon = "org.freedesktop.DBus"
	busPath   = "/org/freedesktop/DBus"
)

type busClient struct {
	names   map[string]string // watched name -> unit
	conn    *busConn          // nil: not connected
	dialing bool
}

// busConn is one connection. The reactor owns out (only it sends and
// closes); pending is shared with the reader.
type busConn struct {
	c      net.Conn
	br     *bufio.Reader
	addr   string
	out    chan []byte
	serial atomic.Uint32
	mu     sync.Mutex
	// pending maps a GetNameOwner call's serial to its name.
	pending map[uint32]string
	closed  bool // reactor side
}

func (r *Reactor) watchBusName(unit, name string) {
	if r.bus == nil {
		r.bus = &busClient{names: map[string]string{}}
	}
	b := r.bus
	b.names[name] = unit
	if b.conn != nil {
		r.busWatch(b.conn, name)
		return
	}
	r.busConnect()
}

func (r *Reactor) unwatchBusName(unit, name string) {
	b := r.bus
	if b == nil || b.names[name] != unit {
		return
	}
	delete(b.names, name)
	if b.conn != nil {
		r.busSend(b.conn, &dbus.Message{Type: dbus.TypeMethodCall, Flags: dbus.FlagNoReplyExpected,
			Path: busPath, Interface: busDaemon, Member: "RemoveMatch", Destination: busDaemon,
			Signature: "s", Body: []any{ownerMatch(name)}}, "")
	}
}

// busTrigger is called on every unit state change: the moments worth
// another connection attempt (no timer polls for the bus).
func (r *Reactor) busTrigger(e manager.UnitChanged) {
	b := r.bus
	if b == nil || b.conn != nil || b.dialing || len(b.names) == 0 {
		return
	}
	waiting := false
	for _, u := range b.names {
		if u == e.Unit {
			waiting = true
			break
		}
	}
	if waiting || (e.Active == "active" && e.BusDaemon) {
		r.busConnect()
	}
}

func busAddress() string {
	if a := os.Getenv("DBUS_SYSTEM_BUS_ADDRESS"); a != "" {
		return a
	}
	return DefaultSystemBus
}

func (r *Reactor) busConnect() {
	b := r.bus
	if b == nil || b.conn != nil || b.dialing || len(b.names) == 0 {
		return
	}
	b.dialing = true
	addr := busAddress()
	go func() {
		var c *busConn
		defer r.busRecover(addr, &c)
		c, err := dialBus(addr)
		r.Submit(func() { r.busDialed(c, addr, err) })
		if err == nil {
			go func() {
				defer r.busRecover(addr, &c)
				c.writeLoop()
			}()
			c.readLoop(r)
		}
	}()
}

// busRecover keeps a panic on a bus goroutine from killing gosd (PID1):
// it is logged and the connection, if any, dropped.
func (r *Reactor) busRecover(addr string, c **busConn) {
	if v := recover(); v != nil {
		stack, conn := debug.Stack(), *c
		r.Submit(func() {
			r.logf("", "panic in the system bus client (%s): %v\n%s", addr, v, stack)
			if conn != nil {
				r.busLost(conn, fmt.Errorf("internal error"))
			} else if r.bus != nil {
				r.bus.dialing = false
			}
		})
	}
}

func (r *Reactor) busDialed(c *busConn, addr string, err error) {
	b := r.bus
	b.dialing = false
	if err != nil {
		r.logAt("", unitfile.Pos{}, manager.LevelWarning, fmt.Sprintf(
			"Cannot reach the system bus at %s: %v; %s wait for their bus names (tried again when they change state or dbus.service starts).",
			addr, err, strings.Join(r.busWaiters(), ", ")))
		return
	}
	b.conn = c
	r.logAt("", unitfile.Pos{}, manager.LevelInfo, "Connected to the system bus at "+addr+" to follow the bus names of "+strings.Join(r.busWaiters(), ", ")+".")
	names := make([]string, 0, len(b.names))
	for n := range b.names {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.busWatch(c, n)
	}
}

func (r *Reactor) busWaiters() []string {
	var units []string
	for _, u := range r.bus.names {
		units = append(units, u)
	}
	sort.Strings(units)
	return units
}

// busLost forgets a connection (read or write failed, or the bus did not
// keep up); watched names stay and are asked for again on reconnect.
func (r *Reactor) busLost(c *busConn, err error) {
	if !c.closed {
		c.closed = true
		c.c.Close()
		close(c.out)
	}
	if r.bus == nil || r.bus.conn != c {
		return
	}
	r.bus.conn = nil
	r.logAt("", unitfile.Pos{}, manager.LevelWarning, fmt.Sprintf(
		"Lost the system bus connection (%s): %v; reconnecting when a unit waiting for its bus name changes state or dbus.service starts.", c.addr, err))
}

func (r *Reactor) busOwner(c *busConn, name, owner string) {
	if r.bus == nil || r.bus.conn != c {
		return
	}
	if _, ok := r.bus.names[name]; ok {
		r.Feed(manager.BusNameOwner{Name: name, Owner: owner})
	}
}

// ownerMatch is the match rule for name's NameOwnerChanged signals only.
func ownerMatch(name string) string {
	return "type='signal',sender='" + busDaemon + "',path='" + busPath + "',interface='" + busDaemon +
		"',member='NameOwnerChanged',arg0='" + name + "'"
}

// busWatch subscribes to name's owner changes, then asks for its current
// owner: the bus handles both in order, so no change falls in between.
func (r *Reactor) busWatch(c *busConn, name string) {
	call := func(member string, arg string) *dbus.Message {
		return &dbus.Message{Type: dbus.TypeMethodCall, Path: busPath, Interface: busDaemon,
			Member: member, Destination: busDaemon, Signature: "s", Body: []any{arg}}
	}
	r.busSend(c, call("AddMatch", ownerMatch(name)), "")
	r.busSend(c, call("GetNameOwner", name), name)
}

// busSend queues m on c; pendingName, when set, is the name whose owner
// the reply carries.
func (r *Reactor) busSend(c *busConn, m *dbus.Message, pendingName string) {
	if c.closed {
		return
	}
	m.Serial = c.serial.Add(1)
	buf, err := m.Marshal()
	if err != nil {
		r.logf(r.bus.names[pendingName], "system bus: cannot encode %s: %v", m.Member, err)
		return
	}
	if pendingName != "" {
		c.mu.Lock()
		c.pending[m.Serial] = pendingName
		c.mu.Unlock()
	}
	select {
	case c.out <- buf:
	default:
		r.busLost(c, fmt.Errorf("the bus does not read its messages (%d queued)", busQueue))
	}
}

// dialBus connects, authenticates and says Hello, within busSetupTimeout.
func dialBus(addr string) (*busConn, error) {
	path, err := dbus.ParseAddress(addr)
	if err != nil {
		return nil, err
	}
	// Go's net package opens every socket close-on-exec.
	nc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	c := &busConn{c: nc, br: bufio.NewReaderSize(nc, 4096), addr: addr,
		out: make(chan []byte, busQueue), pending: map[uint32]string{}}
	fail := func(err error) (*busConn, error) {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(busSetupTimeout))
	if err := dbus.ClientAuth(c.br, nc, os.Getuid()); err != nil {
		return fail(fmt.Errorf("authentication: %w", err))
	}
	hello := &dbus.Message{Type: dbus.TypeMethodCall, Serial: c.serial.Add(1), Path: busPath,
		Interface: busDaemon, Member: "Hello", Destination: busDaemon}
	buf, err := hello.Marshal()
	if err != nil {
		return fail(err)
	}
	if _, err := nc.Write(buf); err != nil {
		return fail(err)
	}
	for {
		m, err := dbus.ReadMessage(c.br, dbus.MaxMessageSize)
		if err != nil {
			return fail(fmt.Errorf("Hello: %w", err))
		}
		if m.ReplySerial != hello.Serial || (m.Type != dbus.TypeMethodReturn && m.Type != dbus.TypeError) {
			continue // NameAcquired and the like
		}
		if m.Type == dbus.TypeError {
			return fail(fmt.Errorf("Hello refused: %s", m.ErrorName))
		}
		break
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *busConn) writeLoop() {
	for buf := range c.out {
		if _, err := c.c.Write(buf); err != nil {
			c.c.Close() // the reader sees it and reports the loss
			for range c.out {
			}
			return
		}
	}
}

// readLoop hands every owner report to the reactor until the connection
// fails. The bus relays what any of its clients sends, and any user may
// send a signal to gosd's connection: a message too large for gosd to
// read is skipped whole, one it cannot decode is dropped, and only a read
// error or a broken stream (bad byte order or version) ends the
// connection.
func (c *busConn) readLoop(r *Reactor) {
	lost := func(err error) { r.Submit(func() { r.busLost(c, err) }) }
	for {
		hdr, err := c.br.Peek(16)
		if err != nil {
			lost(err)
			return
		}
		n, err := dbus.MessageLength(hdr, dbus.SpecMaxMessageSize)
		if err != nil {
			lost(err)
			return
		}
		if n > dbus.MaxMessageSize {
			if _, err := c.br.Discard(n); err != nil {
				lost(err)
				return
			}
			continue
		}
		m, err := dbus.ReadMessage(c.br, dbus.MaxMessageSize)
		if errors.Is(err, dbus.ErrMalformed) {
			continue
		}
		if err != nil {
			lost(err)
			return
		}
		c.handle(r, m)
	}
}

func (c *busConn) takePending(serial uint32) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := c.pending[serial]
	delete(c.pending, serial)
	return name
}

func (c *busConn) handle(r *Reactor, m *dbus.Message) {
	switch m.Type {
	case dbus.TypeSignal:
		if m.Sender != busDaemon || m.Interface != busDaemon || m.Member != "NameOwnerChanged" || len(m.Body) != 3 {
			return
		}
		name, ok1 := m.Body[0].(string)
		owner, ok2 := m.Body[2].(string)
		if ok1 && ok2 {
			r.Submit(func() { r.busOwner(c, name, owner) })
		}
	case dbus.TypeMethodReturn:
		name := c.takePending(m.ReplySerial)
		if name == "" {
			return // AddMatch's answer
		}
		owner, ok := "", len(m.Body) == 1
		if ok {
			owner, ok = m.Body[0].(string)
		}
		if !ok || owner == "" {
			r.Submit(func() {
				r.logf(r.bus.names[name], "system bus: bad answer to GetNameOwner(%s): signature %q", name, m.Signature)
			})
			return
		}
		r.Submit(func() { r.busOwner(c, name, owner) })
	case dbus.TypeError:
		name := c.takePending(m.ReplySerial)
		if name != "" && m.ErrorName == "org.freedesktop.DBus.Error.NameHasNoOwner" {
			r.Submit(func() { r.busOwner(c, name, "") })
			return
		}
		msg := ""
		if len(m.Body) > 0 {
			msg, _ = m.Body[0].(string)
		}
		r.Submit(func() {
			unit := ""
			if r.bus != nil {
				unit = r.bus.names[name]
			}
			r.logf(unit, "system bus (%s): call %d failed: %s: %s", c.addr, m.ReplySerial, m.ErrorName, msg)
		})
	}
}
