//go:build linux || freebsd

package control

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cloudwego/netpoll"
)

// outbox is one connection's queue of unsent bytes, shared by the control
// server and the D-Bus server. send never blocks (it is called on the
// reactor goroutine); a writer goroutine exists only while bytes are
// queued. A client whose queue outgrows max is dropped.
type outbox struct {
	conn netpoll.Connection
	max  int

	mu       sync.Mutex
	out      []byte
	writing  bool
	closed   bool
	closeEnd bool // close once the queue is written
}

// send queues b for the client.
func (o *outbox) send(b []byte) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	if len(o.out)+len(b) > o.max {
		o.closed = true
		o.out = nil
		o.mu.Unlock()
		go o.conn.Close() // netpoll's Close may take its locks: not on the reactor
		return
	}
	o.out = append(o.out, b...)
	start := !o.writing
	o.writing = true
	o.mu.Unlock()
	if start {
		go o.drain()
	}
}

func (o *outbox) drain() {
	for {
		o.mu.Lock()
		buf := o.out
		o.out = nil
		if len(buf) == 0 || o.closed {
			o.writing = false
			closeNow := o.closeEnd && !o.closed
			o.mu.Unlock()
			if closeNow {
				o.conn.Close()
			}
			return
		}
		o.mu.Unlock()
		// Write blocks until the kernel took every byte or the write
		// timeout passed; on error the client is gone or stuck: drop it.
		if _, err := o.conn.Write(buf); err != nil {
			o.mu.Lock()
			o.closed = true
			o.out = nil
			o.writing = false
			o.mu.Unlock()
			o.conn.Close()
			return
		}
	}
}

// closeWhenSent closes the connection once everything queued is written.
func (o *outbox) closeWhenSent() {
	o.mu.Lock()
	o.closeEnd = true
	idle := !o.writing
	o.mu.Unlock()
	if idle {
		o.conn.Close()
	}
}

// waitDrained waits, off the reactor, until less than half of the queue's
// limit is unsent (or the connection is gone): a long answer sent in parts
// then keeps pace with the client instead of overflowing the queue.
func (o *outbox) waitDrained() {
	for {
		o.mu.Lock()
		n, closed := len(o.out), o.closed
		o.mu.Unlock()
		if closed || n < o.max/2 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// gone is called when the connection closed: nothing more is sent.
func (o *outbox) gone() {
	o.mu.Lock()
	o.closed = true
	o.out = nil
	o.mu.Unlock()
}

var errShuttingDown = errors.New("control server is shutting down")

// onReactor runs fn on the reactor goroutine through b.Submit and waits
// until it has run, or until closed is closed (the server stops; the
// reactor may be gone). Waiting per request bounds each connection to one
// reactor task at a time. A panic in fn is turned into an error instead of
// killing gosd.
func onReactor(b Backend, closed <-chan struct{}, fn func()) error {
	done := make(chan struct{})
	var panicked any
	b.Submit(func() {
		defer close(done)
		defer func() { panicked = recover() }()
		fn()
	})
	select {
	case <-done:
		if panicked != nil {
			return fmt.Errorf("internal error: %v", panicked)
		}
		return nil
	case <-closed:
		return errShuttingDown
	}
}
