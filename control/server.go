//go:build linux || freebsd

package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/netpoll"
	"golang.org/x/sys/unix"
)

func init() {
	// One poller is plenty below 20 cores (FINDINGS.md); netpoll reads
	// this only before its pollers start, hence init.
	netpoll.Configure(netpoll.Config{PollerNum: 1})
}

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

// Server serves the control socket. Its handlers run on netpoll's
// goroutines and reach the manager only through Backend.Submit.
type Server struct {
	b    Backend
	path string
	opts options
	ln   *unixListener
	loop netpoll.EventLoop

	conns    atomic.Int64
	mu       sync.Mutex
	sessions map[*session]struct{}
	perUser  map[int]int // open sessions per peer uid (root not limited)
	closed   chan struct{}
	served   chan error
	once     sync.Once
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
	// Start netpoll's poller now, so its fds exist and can be fixed before
	// anyone forks.
	netpoll.Initialize()
	if err := markPollerFdsCloexec(); err != nil {
		return nil, fmt.Errorf("control: marking netpoll fds close-on-exec: %w", err)
	}
	ln, err := listenUnix(path, o.mode)
	if err != nil {
		return nil, err
	}
	s := &Server{b: b, path: path, opts: o, ln: ln,
		sessions: map[*session]struct{}{}, perUser: map[int]int{}, closed: make(chan struct{}), served: make(chan error, 1)}
	ln.admit = func(fd int) bool {
		if s.conns.Load() >= int64(o.maxConns) {
			return false
		}
		// Refused here, before netpoll holds the connection. netpoll
		// accepts and prepares one connection at a time, so the count
		// is current when the next one is asked about.
		uid, _, err := peerUID(fd)
		if err != nil {
			uid = -1 // unknown: counted as one more unprivileged user
		}
		if uid == 0 {
			return true
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.perUser[uid] < DefaultMaxConnsPerUser
	}
	s.loop, err = netpoll.NewEventLoop(s.onRequest,
		netpoll.WithOnPrepare(s.onPrepare))
	if err != nil {
		ln.Close()
		return nil, err
	}
	go func() { s.served <- s.loop.Serve(ln) }()
	return s, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops accepting, drops every connection (cancelling log follows)
// and removes the socket file. Requests waiting for the reactor give up.
func (s *Server) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.mu.Lock()
		all := make([]netpoll.Connection, 0, len(s.sessions))
		for c := range s.sessions {
			all = append(all, c.conn)
		}
		s.mu.Unlock()
		shutdown(s.loop, s.ln, s.path, all)
	})
	return nil
}

// shutdown stops a netpoll server: no more accepts, the given connections
// dropped, the socket file removed (the control server and the bus server
// end the same way).
func shutdown(loop netpoll.EventLoop, ln *unixListener, path string, conns []netpoll.Connection) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	loop.Shutdown(ctx)
	ln.Close()
	for _, c := range conns {
		c.Close()
	}
	os.Remove(path)
}

func monotonicNow() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

type sessionKey struct{}

// session is one connection's state.
type session struct {
	srv  *Server
	conn netpoll.Connection
	uid  int // -1 if unknown: treated as unprivileged
	pid  int

	// partial holds bytes of a request line not yet ended; only the
	// request handler touches it (netpoll runs one at a time per conn).
	partial []byte
	dead    bool // a fatal input error: further input is discarded

	outbox

	// On the reactor goroutine only.
	follows []func()
	gone    bool
}

func (s *Server) onPrepare(conn netpoll.Connection) (ctx context.Context) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "gosd: control: connection setup panicked: %v (connection dropped)\n", v)
			conn.Close()
			ctx = context.Background()
		}
	}()
	c := &session{srv: s, conn: conn, uid: -1, outbox: outbox{conn: conn, max: s.opts.maxQueue}}
	if f, ok := conn.(interface{ Fd() int }); ok {
		if uid, pid, err := peerUID(f.Fd()); err == nil {
			c.uid, c.pid = uid, pid
		}
	}
	conn.SetWriteTimeout(s.opts.writeTimeout)
	s.mu.Lock()
	s.perUser[c.uid]++
	s.sessions[c] = struct{}{}
	s.mu.Unlock()
	s.conns.Add(1)
	conn.AddCloseCallback(func(netpoll.Connection) error {
		c.outbox.gone()
		s.conns.Add(-1)
		s.mu.Lock()
		delete(s.sessions, c)
		if s.perUser[c.uid]--; s.perUser[c.uid] <= 0 {
			delete(s.perUser, c.uid)
		}
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
		return nil
	})
	return context.WithValue(context.Background(), sessionKey{}, c)
}

// onRequest takes every readable byte (netpoll calls it again while any
// input is left unread), splits it into lines and handles each in order.
func (s *Server) onRequest(ctx context.Context, conn netpoll.Connection) (err error) {
	// This runs on netpoll's goroutines, outside the reactor's guard: a
	// panic here would take PID1 down. Drop the connection instead.
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "gosd: control: request handler panicked: %v (connection dropped)\n", v)
			conn.Close()
			err = fmt.Errorf("handler panic: %v", v)
		}
	}()
	c, _ := ctx.Value(sessionKey{}).(*session)
	r := conn.Reader()
	if c == nil || c.dead {
		r.Skip(r.Len())
		return r.Release()
	}
	// netpoll reads the socket into its own buffer whether or not the
	// handler keeps up (there is no back-pressure), so a client whose
	// unanswered requests pile up past a bound is dropped.
	if len(c.partial)+r.Len() > maxUnread(s.opts.maxLine) {
		c.fatal(CodeInvalidRequest, fmt.Sprintf("more than %d bytes of requests unanswered", maxUnread(s.opts.maxLine)))
		r.Skip(r.Len())
		return r.Release()
	}
	data, err := r.Next(r.Len())
	if err != nil {
		conn.Close()
		return err
	}
	c.partial = append(c.partial, data...)
	r.Release()
	for !c.dead {
		if len(c.partial)+r.Len() > maxUnread(s.opts.maxLine) {
			c.fatal(CodeInvalidRequest, fmt.Sprintf("more than %d bytes of requests unanswered", maxUnread(s.opts.maxLine)))
			break
		}
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 || i > s.opts.maxLine {
			if i > s.opts.maxLine || len(c.partial) > s.opts.maxLine {
				c.fatal(CodeInvalidRequest, fmt.Sprintf("request line longer than %d bytes", s.opts.maxLine))
			}
			break
		}
		line := c.partial[:i]
		c.partial = c.partial[i+1:]
		c.handleLine(line)
	}
	if len(c.partial) == 0 || c.dead {
		c.partial = nil // let a large buffer go
	}
	return nil
}

// maxUnread bounds the input a client may have waiting for the handler:
// two of its largest requests.
func maxUnread(maxLine int) int { return 2 * maxLine }

// fatal answers with an error (id null) and closes the connection once the
// answer is written.
func (c *session) fatal(code int, msg string) {
	c.dead = true
	c.partial = nil
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
	b, err := json.Marshal(response{JSONRPC: "2.0", ID: id, Result: json.RawMessage("null")})
	if result != nil {
		b, err = json.Marshal(response{JSONRPC: "2.0", ID: id, Result: result})
	}
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
	b, err := json.Marshal(notification{JSONRPC: "2.0", Method: method, Params: params})
	if err != nil {
		return
	}
	c.send(append(b, '\n'))
}

// onReactor runs fn on the reactor goroutine and waits until it has run
// (see the package function).
func (c *session) onReactor(fn func()) error { return onReactor(c.srv.b, c.srv.closed, fn) }
