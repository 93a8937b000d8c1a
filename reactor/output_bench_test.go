package reactor

import (
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"gosd/manager"
)

// BenchmarkOutputLines: one service writes b.N lines of 60 bytes as fast as
// it can; the reactor reads, logs and keeps them, without a rate limit.
// ns/op is wall time per line, the producer included; gosd-cpu-ns/line is
// the test process's own CPU (the reactor's, the producer excluded).
func BenchmarkOutputLines(b *testing.B) {
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(1, "out.service", fmt.Sprintf("yes 'a line of sixty bytes written by a busy service.......' | head -n %d", b.N))}
		case manager.Exited:
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "out.service", Kind: "x"}, At: now + 100*time.Millisecond}}
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	r, _ := New(Config{Manager: m, NotifySocket: "-", Target: "x", Log: io.Discard, CgroupRoot: "-", RateLimitInterval: -1})
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	r.Run()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "gosd-cpu-ns/line")
}
