//go:build linux || freebsd

package control

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// outbox is one connection's queue of unsent bytes, shared by the control
// server and the D-Bus server. send never blocks (it is called on the
// reactor goroutine); a writer goroutine exists only while bytes are
// queued. A client whose queue outgrows max, or that takes no byte for the
// write timeout, is dropped. The connection's reader waits for room
// (waitRoom) before it reads the next request: a client that does not read
// its answers is not read either, so its requests stay in the kernel's
// socket buffers and then in the client, not in gosd's memory.
type outbox struct {
	conn    net.Conn
	max     int
	timeout time.Duration

	mu       sync.Mutex
	room     sync.Cond // broadcast when the queue shrinks or the connection ends
	out      []byte
	inflight int // bytes taken by the writer and not yet written
	peak     int // the most bytes ever queued
	writing  bool
	closeEnd bool // close once the queue is written
	closed   bool
	done     chan struct{} // closed with the connection
}

func newOutbox(conn net.Conn, max int, timeout time.Duration) *outbox {
	o := &outbox{conn: conn, max: max, timeout: timeout, done: make(chan struct{})}
	o.room.L = &o.mu
	return o
}

// writeChunk bounds one write, so that the write timeout means "no
// progress for that long" rather than "the whole queue within it".
const writeChunk = 64 << 10

// send queues b for the client.
func (o *outbox) send(b []byte) {
	o.mu.Lock()
	if o.closed || o.closeEnd {
		o.mu.Unlock()
		return
	}
	if len(o.out)+o.inflight+len(b) > o.max {
		first := o.markClosed()
		o.mu.Unlock()
		if first {
			// Close may wait for the reader and writer to let go of
			// the fd: not on the reactor.
			go o.release()
		}
		return
	}
	o.out = append(o.out, b...)
	o.peak = max(o.peak, len(o.out)+o.inflight)
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
		o.inflight = len(buf)
		if len(buf) == 0 || o.closed {
			o.writing = false
			closeNow := o.closeEnd && !o.closed
			o.room.Broadcast()
			o.mu.Unlock()
			if closeNow {
				o.close()
			}
			return
		}
		o.mu.Unlock()
		for len(buf) > 0 {
			n := min(len(buf), writeChunk)
			o.conn.SetWriteDeadline(time.Now().Add(o.timeout))
			if _, err := o.conn.Write(buf[:n]); err != nil {
				// The client is gone, or stuck past the timeout.
				o.close()
				o.mu.Lock()
				o.writing = false
				o.inflight = 0
				o.mu.Unlock()
				return
			}
			buf = buf[n:]
			o.mu.Lock()
			o.inflight = len(buf)
			o.room.Broadcast()
			o.mu.Unlock()
		}
	}
}

// peakQueued is the most bytes ever queued for the connection.
func (o *outbox) peakQueued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.peak
}

func (o *outbox) isClosed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

// waitRoom blocks until at most low bytes are queued; false if the
// connection ended (or is ending) meanwhile.
func (o *outbox) waitRoom(low int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.closed && !o.closeEnd && len(o.out)+o.inflight > low {
		o.room.Wait()
	}
	return !o.closed && !o.closeEnd
}

// closeWhenSent closes the connection once everything queued is written;
// nothing sent after it is queued.
func (o *outbox) closeWhenSent() {
	o.mu.Lock()
	o.closeEnd = true
	idle := !o.writing
	o.room.Broadcast()
	o.mu.Unlock()
	if idle {
		o.close()
	}
}

// waitDrained waits, off the reactor, until less than half of the queue's
// limit is unsent (or the connection is gone): a long answer sent in parts
// then keeps pace with the client instead of overflowing the queue.
func (o *outbox) waitDrained() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.closed && len(o.out)+o.inflight >= o.max/2 {
		o.room.Wait()
	}
}

// close ends the connection now, dropping whatever is queued. Safe to call
// more than once and from any goroutine but the reactor's.
func (o *outbox) close() {
	o.mu.Lock()
	first := o.markClosed()
	o.mu.Unlock()
	if first {
		o.release()
	}
}

// markClosed drops the queue and says whether the connection was open
// (o.mu held): later sends return at once.
func (o *outbox) markClosed() bool {
	if o.closed {
		return false
	}
	o.closed = true
	o.out = nil
	o.room.Broadcast()
	return true
}

// release closes the socket of a connection markClosed ended.
func (o *outbox) release() {
	o.conn.Close()
	close(o.done)
}

var errShuttingDown = errors.New("control server is shutting down")

// flushAll is how both servers end: every connection closes once its queue
// is written (the answer to a poweroff or daemon-reexec included), and
// whatever is still queued after wait is dropped.
func flushAll(boxes []*outbox, wait time.Duration) {
	for _, o := range boxes {
		o.closeWhenSent()
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for _, o := range boxes {
		select {
		case <-o.done:
		case <-deadline.C:
			for _, o := range boxes {
				o.close()
			}
			return
		}
	}
}

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
		select {
		case <-done: // it ran after all: its outcome, not the shutdown
			if panicked != nil {
				return fmt.Errorf("internal error: %v", panicked)
			}
			return nil
		default:
			return errShuttingDown
		}
	}
}
