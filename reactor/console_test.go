package reactor

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gosd/manager"
)

// gatedWriter takes nothing until open is closed: a console whose reader
// (a pipe's, a serial line's) did not get the CPU yet.
type gatedWriter struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

// The progress lines of a 1000-unit boot, produced in one loop turn (a
// flat tree starts every unit in one dispatch) while the console's writer
// has not run yet, all reach the console: the bench reads "Reached target"
// from there, and an operator the unit that hung. Measured before: with a
// 64 KiB queue, lines from the 577th unit on were dropped, the target's
// line with them.
func TestConsoleQueueHoldsABootsProgress(t *testing.T) {
	g := &gatedWriter{open: make(chan struct{})}
	c := newConsoleWriter(g, consoleQueueBytes)
	for i := range 1000 {
		c.WriteString(fmt.Sprintf("         Starting b%04d.service - bench b%04d.service...\n", i, i))
		c.WriteString(fmt.Sprintf("[  OK  ] Started b%04d.service - bench b%04d.service.\n", i, i))
	}
	c.WriteString("[  OK  ] Reached target default.target - Benchmark target.\n")
	c.flush()
	close(g.open)
	if !c.drain(10 * time.Second) {
		t.Fatal("not drained")
	}
	g.mu.Lock()
	out := g.buf.String()
	g.mu.Unlock()
	if n := strings.Count(out, "\n"); n != 2001 || strings.Contains(out, "suppressed") || !strings.HasSuffix(out, "Reached target default.target - Benchmark target.\n") {
		t.Fatalf("%d lines reached the console (want 2001); suppressed: %v", n, strings.Contains(out, "suppressed"))
	}
}

// Automount units' job lines are systemd's (automount.c's status
// messages): no line when the job begins.
func TestConsoleAutomountLines(t *testing.T) {
	for _, c := range []struct {
		e    manager.Effect
		want string
	}{
		{manager.JobStarted{Unit: "data.automount", Kind: manager.JobStart}, ""},
		{manager.JobFinished{Unit: "data.automount", Kind: manager.JobStart, Result: manager.ResultDone}, MarkOK + " Set up automount data.automount - D."},
		{manager.JobFinished{Unit: "data.automount", Kind: manager.JobStart, Result: manager.ResultFailed}, MarkFailed + " Failed to set up automount data.automount - D."},
		{manager.JobFinished{Unit: "data.automount", Kind: manager.JobStop, Result: manager.ResultDone}, MarkOK + " Unset automount data.automount - D."},
	} {
		if got := ConsoleLine(c.e, "D", false); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e, got, c.want)
		}
	}
}
