package reactor

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// A hostile or broken bus makes dialBus fail with an error, never panic.
func TestDialBusHostile(t *testing.T) {
	for name, answer := range map[string]string{
		"rejects":       "REJECTED EXTERNAL\r\n",
		"garbage line":  strings.Repeat("x", 8000) + "\r\n",
		"bad message":   "OK 0123456789abcdef0123456789abcdef\r\n" + "Xgarbage-garbage-garbage",
		"huge message":  "OK 0123456789abcdef0123456789abcdef\r\n" + "l\x02\x00\x01\xff\xff\xff\x7f\x01\x00\x00\x00\xff\xff\xff\x7f",
		"hangs up":      "OK 0123456789abcdef0123456789abcdef\r\n",
		"short message": "OK 0123456789abcdef0123456789abcdef\r\n" + "l\x02\x00\x01\x04\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00",
	} {
		path := filepath.Join(t.TempDir(), "bus")
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(c)
			r.ReadString('\n') // AUTH
			c.Write([]byte(answer))
			r.ReadString('\n') // BEGIN
			c.Close()
		}()
		c, err := dialBus("unix:path=" + path)
		l.Close()
		if err == nil {
			c.c.Close()
			t.Errorf("%s: dialBus succeeded", name)
		}
	}
	if _, err := dialBus("tcp:host=localhost,port=1"); err == nil {
		t.Error("a tcp address was accepted")
	}
}
