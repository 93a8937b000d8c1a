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
	"strconv"
	"sync"
	"time"

	"gosd/unitfile"
)

// SocketFromEnv is the socket a client uses: flag if set, else
// $GOSD_SOCKET, else DefaultSocket.
func SocketFromEnv(flag string) string {
	if flag != "" {
		return flag
	}
	if s := os.Getenv("GOSD_SOCKET"); s != "" {
		return s
	}
	return DefaultSocket
}

// DefaultSocket is where gosd listens unless told otherwise.
const DefaultSocket = unitfile.RunDir + "/gosd/control.sock"

// maxResponse bounds one answer line the client accepts (the status of
// thousands of units fits easily).
const maxResponse = 64 << 20

// Client speaks JSON-RPC to a gosd control socket. One call at a time;
// safe for use by one goroutine at a time (a mutex serialises callers).
type Client struct {
	// Timeout bounds a call from sending the request to its answer, or
	// between two messages of an answer sent in parts (0: none), except a job the caller waits for, which takes as long as
	// the job does (systemctl waits for jobs too), and the lines that
	// follow a Logs answer. A stuck gosd cannot hang a client for ever.
	Timeout time.Duration

	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	next int64
}

// DefaultTimeout is sd-bus's default method call timeout, which systemctl
// uses for everything but waiting for jobs.
const DefaultTimeout = 25 * time.Second

// TimeoutFromEnv is the call timeout of a client: $GOSD_TIMEOUT, else
// systemd's $SYSTEMD_BUS_TIMEOUT (a Go duration, or seconds), else
// DefaultTimeout.
func TimeoutFromEnv() time.Duration {
	for _, v := range []string{os.Getenv("GOSD_TIMEOUT"), os.Getenv("SYSTEMD_BUS_TIMEOUT")} {
		if v == "" {
			continue
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
			return time.Duration(n * float64(time.Second))
		}
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return DefaultTimeout
}

// Dial connects to the control socket at path. The client's Timeout is
// TimeoutFromEnv.
func Dial(path string) (*Client, error) {
	// DialUnix: a unix socket connects at once (or fails); DialTimeout
	// would also link Go's DNS resolver into PID1 for nothing.
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), Timeout: TimeoutFromEnv()}, nil
}

// ErrTimeout: gosd did not answer within the client's Timeout.
var ErrTimeout = errors.New("Connection timed out")

// waitsForJob says whether a call's answer comes only when jobs finish.
func waitsForJob(method string, params any) bool {
	if method != MethodJob {
		return false
	}
	switch p := params.(type) {
	case JobParams:
		return !p.NoBlock
	case *JobParams:
		return p != nil && !p.NoBlock
	}
	return true
}

// Close closes the connection (ending any log follow).
func (c *Client) Close() error { return c.conn.Close() }

// Call sends one request and decodes its result into result (may be nil).
// A JSON-RPC error comes back as *Error.
func (c *Client) Call(method string, params, result any) error {
	return c.Stream(method, params, func(raw json.RawMessage) error {
		if result == nil || len(raw) == 0 {
			return nil
		}
		if err := json.Unmarshal(raw, result); err != nil {
			return fmt.Errorf("bad result from server: %v", err)
		}
		return nil
	}, nil)
}

// ErrStreamDone, returned by Stream's onAnswer, ends the stream there
// without an error.
var ErrStreamDone = errors.New("stream done")

// Stream sends one request and hands its result to onAnswer. For requests
// answered with notifications too (Logs), onNotify (if not nil) gets each
// notification, before and after the result, until the connection ends,
// it returns false, or onAnswer returns ErrStreamDone.
func (c *Client) Stream(method string, params any, onAnswer func(result json.RawMessage) error, onNotify func(method string, params json.RawMessage) bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	id := strconv.FormatInt(c.next, 10)
	req := request{JSONRPC: "2.0", ID: json.RawMessage(id), Method: method}
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return err
		}
		req.Params = b
	}
	line, err := json.Marshal(req)
	if err != nil {
		return err
	}
	var deadline time.Time
	if c.Timeout > 0 {
		deadline = time.Now().Add(c.Timeout)
	}
	c.conn.SetDeadline(deadline)
	if _, err := c.conn.Write(append(line, '\n')); err != nil {
		return c.callError(err)
	}
	job := waitsForJob(method, params)
	if job {
		c.conn.SetReadDeadline(time.Time{})
	}
	answered := false
	for {
		msg, err := c.readLine()
		if err != nil {
			if answered {
				return nil // the server ended the follow
			}
			return c.callError(err)
		}
		if c.Timeout > 0 && !job && !answered {
			// gosd is making progress (a long history sent in parts):
			// the timeout counts from its last message.
			c.conn.SetReadDeadline(time.Now().Add(c.Timeout))
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
			Error  *Error          `json:"error"`
		}
		if err := json.Unmarshal(msg, &m); err != nil {
			return fmt.Errorf("bad answer from server: %v", err)
		}
		if m.Method != "" && len(m.ID) == 0 {
			if onNotify != nil && !onNotify(m.Method, m.Params) {
				return nil
			}
			continue
		}
		if string(m.ID) != id && string(m.ID) != "null" {
			continue // an answer to an earlier request nobody waits for
		}
		if m.Error != nil {
			return m.Error
		}
		if onAnswer != nil {
			if err := onAnswer(m.Result); err == ErrStreamDone {
				return nil
			} else if err != nil {
				return err
			}
		}
		if onNotify == nil {
			return nil
		}
		answered = true
		c.conn.SetReadDeadline(time.Time{}) // followed lines come when they come
	}
}

// callError turns a timeout into ErrTimeout; the connection is then in an
// unknown state and is closed.
func (c *Client) callError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.conn.Close()
		return fmt.Errorf("%w (no answer from gosd within %v)", ErrTimeout, c.Timeout)
	}
	return err
}

var errTooLong = errors.New("answer from server too long")

func (c *Client) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := c.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxResponse {
			return nil, errTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		return bytes.TrimSpace(buf), nil
	}
}

// maxCatFile bounds the text of one unit file that cat shows.
const maxCatFile = 1 << 20

// readLimited reads at most n bytes of a file.
func readLimited(name string, n int64) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, n))
	return string(b), err
}
