package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"

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
	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	next int64
}

// Dial connects to the control socket at path.
func Dial(path string) (*Client, error) {
	// DialUnix: a unix socket connects at once (or fails); DialTimeout
	// would also link Go's DNS resolver into PID1 for nothing.
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}, nil
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
	if _, err := c.conn.Write(append(line, '\n')); err != nil {
		return err
	}
	answered := false
	for {
		msg, err := c.readLine()
		if err != nil {
			if answered {
				return nil // the server ended the follow
			}
			return err
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
	}
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
