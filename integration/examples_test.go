package integration

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// The README's run command: gosd boots examples/units to default.target;
// the notify service reports ready, the oneshot ran, the inetd-style echo
// socket answers, and everything stops cleanly.
func TestExampleUnits(t *testing.T) {
	units := pid1ExampleUnits(t)
	in := start(t, asSubreaper, units)
	in.waitOutput("Reached target default.target - gosd example system.", 20*time.Second)
	for _, want := range []string{"Started ready.service", "Finished prepare.service", "Listening on echo.socket", "hello from greeter.service"} {
		in.waitOutput(want, 10*time.Second)
	}
	if out := ctl(t, in, "is-active", "ready.service", "greeter.service", "prepare.service", "echo.socket"); strings.Count(out, "active") != 4 {
		t.Fatalf("is-active:\n%s", out)
	}
	if out := ctl(t, in, "status", "ready.service"); !strings.Contains(out, "Serving example requests") {
		t.Fatalf("status of the notify service:\n%s", out)
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:7777", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("ping through gosd\n"))
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != "ping through gosd\n" {
		t.Fatalf("echo answered %q, %v", got, err)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}
