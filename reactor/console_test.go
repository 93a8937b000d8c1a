package reactor

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
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
