//go:build linux || freebsd

package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Limits of the server; each can be changed with an Option.
const (
	DefaultMaxLine  = 1 << 20 // a request line longer than this closes the connection
	DefaultMaxQueue = 8 << 20 // unsent reply bytes beyond this drop the connection
	DefaultMaxConns = 4096    // connections beyond this are closed at accept
	// DefaultMaxConnsPerUser bounds one non-root user's connections, so
	// that nobody can take every slot and lock root's client out.
	DefaultMaxConnsPerUser = 64
	DefaultWriteTimeout    = 10 * time.Second
)

type options struct {
	maxLine, maxQueue, maxConns int
	writeTimeout                time.Duration
	mode                        os.FileMode
	now                         func() time.Duration
}

// Option changes a server limit.
type Option func(*options)

// WithMaxLine bounds the length of one request line.
func WithMaxLine(n int) Option { return func(o *options) { o.maxLine = n } }

// WithMaxQueue bounds the reply bytes queued for a client that does not read.
func WithMaxQueue(n int) Option { return func(o *options) { o.maxQueue = n } }

// WithMaxConns bounds the number of open connections.
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// WithWriteTimeout drops a client that accepts no reply bytes for this long.
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// WithSocketMode sets the socket file's mode (default 0666: every user may
// connect; what they may do is decided per request).
func WithSocketMode(m os.FileMode) Option { return func(o *options) { o.mode = m } }

// WithClock tells the server the reactor's monotonic clock, the one
// manager.UnitStatus times are measured on. It is called on the reactor
// goroutine. The default is CLOCK_MONOTONIC.
func WithClock(now func() time.Duration) Option { return func(o *options) { o.now = now } }

// Server serves the control socket. Each connection is read by a
// goroutine of its own, which hands requests to the reactor through
// Backend.Submit and reads the next request only once the answers queued
// for the client are (nearly) written: a client is held back by its own
// reading, and costs gosd at most one request line and about one answer.
type Server struct {
	b    Backend
	path string
	opts options
	ln   *net.UnixListener

	conns    atomic.Int64
	mu       sync.Mutex
	sessions map[*session]struct{}
	perUser  map[int]int // open sessions per peer uid (root not limited)
	closed   chan struct{}
	once     sync.Once
	freeing  atomic.Bool // a return of memory to the kernel is scheduled
	heavy    atomic.Bool // a client made the heap grow (a long line, a large queue)
}

// Listen creates the control socket at path (its directory too) and starts
// serving it. Call Close to stop.
func Listen(path string, b Backend, opt ...Option) (*Server, error) {
	o := options{
		maxLine: DefaultMaxLine, maxQueue: DefaultMaxQueue, maxConns: DefaultMaxConns,
		writeTimeout: DefaultWriteTimeout, mode: 0o666, now: monotonicNow,
	}
	for _, f := range opt {
		f(&o)
	}
	ln, err := listenUnix(path, o.mode)
	if err != nil {
		return nil, err
	}
	s := &Server{b: b, path: path, opts: o, ln: ln,
		sessions: map[*session]struct{}{}, perUser: map[int]int{}, closed: make(chan struct{})}
	go acceptLoop(ln, s.admit, s.serve)
	return s, nil
}

// admit applies the connection caps: every user together, and each
// unprivileged user alone (so that nobody can take every slot and lock
// root's client out). An admitted connection is counted at once.
func (s *Server) admit(p peer) bool {
	if s.conns.Load() >= int64(s.opts.maxConns) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.uid != 0 && s.perUser[p.uid] >= DefaultMaxConnsPerUser {
		return false
	}
	s.perUser[p.uid]++
	s.conns.Add(1)
	return true
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// flushWait bounds how long Close waits for answers still queued.
const flushWait = 2 * time.Second

// Close stops accepting, lets every connection write what is queued for
// it (up to flushWait: the answer to poweroff must reach its client before
// PID1 goes), then drops them all (cancelling log follows) and removes the
// socket file. Requests waiting for the reactor give up.
func (s *Server) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.ln.Close()
		s.mu.Lock()
		boxes := make([]*outbox, 0, len(s.sessions))
		for c := range s.sessions {
			boxes = append(boxes, c.outbox)
		}
		s.mu.Unlock()
		flushAll(boxes, flushWait)
	})
	return nil
}

func monotonicNow() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// session is one connection's state.
type session struct {
	srv *Server
	uid int // -1 if unknown: treated as unprivileged
	pid int

	*outbox

	// calls counts requests not answered yet; the connection is not
	// closed after the client's end of input while one is.
	callsMu sync.Mutex
	calls   int
	idle    sync.Cond

	// On the reactor goroutine only.
	follows []func()
	gone    bool
}

// readRoom is how much may be queued for a client before its next request
// is read.
const readRoom = 64 << 10

// lineTimeout bounds the time a client may take to finish a request line
// it started (an idle connection between requests has no limit).
const lineTimeout = 10 * time.Second

// serve reads and handles one connection's requests until it ends.
func (s *Server) serve(nc *net.UnixConn, p peer) {
	c := &session{srv: s, uid: p.uid, pid: p.pid, outbox: newOutbox(nc, s.opts.maxQueue, s.opts.writeTimeout)}
	c.idle.L = &c.callsMu
	s.mu.Lock()
	s.sessions[c] = struct{}{}
	s.mu.Unlock()
	defer s.forget(c)
	// This runs outside the reactor's guard: a panic here would take
	// PID1 down. Drop the connection instead.
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "gosd: control: request handler panicked: %v (connection dropped)\n", v)
		}
	}()
	select {
	case <-s.closed:
		return
	default:
	}
	r := bufio.NewReaderSize(nc, 4<<10)
	var line []byte
	for {
		if !c.waitRoom(readRoom) {
			return
		}
		// Wait for a request without a deadline, then give its line
		// lineTimeout to arrive whole.
		nc.SetReadDeadline(time.Time{})
		if _, err := r.Peek(1); err != nil {
			c.endOfInput(err)
			return
		}
		nc.SetReadDeadline(time.Now().Add(lineTimeout))
		line = line[:0]
		for {
			chunk, err := r.ReadSlice('\n')
			if len(line)+len(chunk) > s.opts.maxLine+1 {
				c.fatal(CodeInvalidRequest, fmt.Sprintf("request line longer than %d bytes", s.opts.maxLine))
				return
			}
			line = append(line, chunk...)
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				// A half line then silence or a hang-up: nothing to answer.
				c.close()
				return
			}
			break
		}
		c.handleLine(line[:len(line)-1])
		if cap(line) > 64<<10 {
			s.heavy.Store(true)
			line = nil // let a large buffer go
		}
	}
}

// endOfInput: the client sent all it will (a hang-up, or shutdown of its
// writing side). The answers it waits for are still sent: the connection
// closes once every request is answered and written (log follows end).
func (c *session) endOfInput(err error) {
	if !errors.Is(err, io.EOF) {
		c.close()
		return
	}
	c.waitAnswered()
}

// waitAnswered returns once every request read is answered, or the
// connection ended.
func (c *session) waitAnswered() {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-c.done:
			c.callsMu.Lock()
			c.idle.Broadcast()
			c.callsMu.Unlock()
		case <-stop:
		}
	}()
	c.callsMu.Lock()
	defer c.callsMu.Unlock()
	for c.calls > 0 && !c.isClosed() {
		c.idle.Wait()
	}
}

// answered is called once per request, with its answer.
func (c *session) answered() {
	c.callsMu.Lock()
	if c.calls > 0 {
		c.calls--
	}
	c.idle.Broadcast()
	c.callsMu.Unlock()
}

// forget removes a connection that ended (or is ending) from the server,
// once what is queued for it is written (or dropped with it).
func (s *Server) forget(c *session) {
	c.closeWhenSent()
	<-c.done
	c.callsMu.Lock()
	c.calls = 0
	c.idle.Broadcast()
	c.callsMu.Unlock()
	s.conns.Add(-1)
	s.mu.Lock()
	delete(s.sessions, c)
	if s.perUser[c.uid]--; s.perUser[c.uid] <= 0 {
		delete(s.perUser, c.uid)
	}
	if c.peakQueued() > heavyQueue {
		s.heavy.Store(true)
	}
	last := len(s.sessions) == 0
	s.mu.Unlock()
	select {
	case <-s.closed:
		// The reactor may be gone too; follows die with the server.
	default:
		s.b.Submit(func() {
			c.gone = true
			for _, cancel := range c.follows {
				cancel()
			}
			c.follows = nil
		})
	}
	if last && s.heavy.Swap(false) {
		s.returnMemory()
	}
}

// heavyQueue: a connection that had more answer bytes queued than this
// made the heap grow enough to hand back once clients are gone.
const heavyQueue = 1 << 20

// returnMemory gives the heap that clients made grow back to the kernel
// once they are all gone, rather than when Go's scavenger gets to it
// (minutes for a large heap): a burst of clients must not leave PID1
// holding their memory. Only after a long line or a large queue (not
// after every systemctl call), at most once per second.
func (s *Server) returnMemory() {
	if !s.freeing.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(time.Second, func() {
		debug.FreeOSMemory()
		s.freeing.Store(false)
	})
}

// fatal answers with an error (id null) and closes the connection once the
// answer is written; nothing more is read.
func (c *session) fatal(code int, msg string) {
	c.sendError(nil, &Error{Code: code, Message: msg})
	c.closeWhenSent()
}

func (c *session) handleLine(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if line[0] == '[' {
		c.sendError(nil, errorf(CodeInvalidRequest, "batch requests are not supported"))
		return
	}
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		c.sendError(nil, errorf(CodeParseError, "parse error: %v", err))
		return
	}
	id := req.ID
	if req.JSONRPC != "2.0" || req.Method == "" || !validID(id) {
		c.sendError(validIDOrNull(id), errorf(CodeInvalidRequest, `invalid request: need "jsonrpc":"2.0", a method and a string, number or null id`))
		return
	}
	m, ok := methods[req.Method]
	if !ok {
		c.sendError(id, errorf(CodeMethodNotFound, "no such method %q", req.Method))
		return
	}
	if m.access != anyone && c.uid != 0 {
		c.sendError(id, errorf(CodePermissionDenied, "permission denied: %s needs root (peer uid %d)", req.Method, c.uid))
		return
	}
	params := req.Params
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	c.callsMu.Lock()
	c.calls++
	c.callsMu.Unlock()
	m.run(&call{c: c, id: id, params: params})
}

// validID: JSON-RPC ids are strings, numbers or null (absent: a notification).
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return true
	}
	switch id[0] {
	case '"', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

func validIDOrNull(id json.RawMessage) json.RawMessage {
	if len(id) > 0 && validID(id) {
		return id
	}
	return nil
}

// reply and sendError queue a response; a request without id (a JSON-RPC
// notification) gets none unless it could not be parsed.
func (c *session) reply(id json.RawMessage, result any) {
	if len(id) == 0 {
		return
	}
	if result == nil {
		result = json.RawMessage("null") // a result member is required
	}
	b, err := json.Marshal(response{JSONRPC: "2.0", ID: id, Result: result})
	if err != nil {
		c.sendError(id, errorf(CodeInternalError, "encoding result: %v", err))
		return
	}
	c.send(append(b, '\n'))
}

func (c *session) sendError(id json.RawMessage, e *Error) {
	if id == nil {
		id = json.RawMessage("null")
	}
	b, err := json.Marshal(response{JSONRPC: "2.0", ID: id, Error: e})
	if err != nil {
		return
	}
	c.send(append(b, '\n'))
}

func (c *session) notify(method string, params any) {
	if c.isClosed() {
		return // dropped: its follows end in a later reactor turn; encode nothing meanwhile
	}
	b, err := json.Marshal(notification{JSONRPC: "2.0", Method: method, Params: params})
	if err != nil {
		return
	}
	c.send(append(b, '\n'))
}

// onReactor runs fn on the reactor goroutine and waits until it has run
// (see the package function).
func (c *session) onReactor(fn func()) error { return onReactor(c.srv.b, c.srv.closed, fn) }
