package manager

import (
	"fmt"
	"testing"
	"time"
)

func bigSource(n int, chain bool) memSource {
	src := memSource{}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("s%05d.service", i)
		u := svc(names[i], "simple")
		if chain && i > 0 {
			u.Unit.After = []string{names[i-1]}
		}
		src.add(u)
	}
	src.add(target("big.target", names...), target("sysinit.target"), target("basic.target"))
	return src
}

// bootAll boots big.target, answering every Spawn, and returns the number
// of Step calls.
func bootAll(tb testing.TB, m *Manager) int {
	steps := 1
	queue := m.Step(0, Request{ID: 1, Unit: "big.target", Kind: JobStart})
	pid := 100
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if sp, ok := e.(Spawn); ok {
			pid++
			steps++
			queue = append(queue, m.Step(0, Spawned{ID: sp.ID, Pid: pid})...)
		}
	}
	if s, _ := m.Status("big.target"); s.Active != "active" {
		tb.Fatalf("big.target is %s", s.Active)
	}
	return steps
}

func benchBoot(b *testing.B, chain bool) {
	const n = 10000
	src := bigSource(n, chain)
	b.ReportAllocs()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		m := New(src)
		b.StartTimer()
		t0 := time.Now()
		bootAll(b, m)
		total += time.Since(t0)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/n, "ns/unit")
}

func BenchmarkStep10000Units(b *testing.B) {
	b.Run("flat", func(b *testing.B) { benchBoot(b, false) })
	b.Run("chain", func(b *testing.B) { benchBoot(b, true) })
}

func TestBigBootChainAndFlat(t *testing.T) {
	for _, chain := range []bool{false, true} {
		m := New(bigSource(2000, chain))
		bootAll(t, m)
		for _, s := range m.List() {
			if (s.Name == "big.target" || unitType(s.Name) == "service") && s.Active != "active" {
				t.Fatalf("chain=%v: %s is %s", chain, s.Name, s.Active)
			}
		}
	}
}
