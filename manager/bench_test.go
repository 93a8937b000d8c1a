package manager

import (
	"fmt"
	"runtime"
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

// tablePoints is the mount table of a container with n mounts (one level
// under /var/lib/c, as container runtimes make them).
func tablePoints(n int) []MountPoint {
	out := []MountPoint{{Where: "/", What: "overlay", Type: "overlay", Options: "rw,relatime"}}
	for i := 0; i < n-1; i++ {
		out = append(out, MountPoint{Where: fmt.Sprintf("/var/lib/c/%05d/merged", i), What: "overlay", Type: "overlay",
			Options: "rw,relatime,lowerdir=/l,upperdir=/u,workdir=/w"})
	}
	return out
}

// BenchmarkListMountTable: list-units with a unit for each of 2000 mounts
// made from the mount table, beside the same number of services from
// unit files; bytes/mount is the heap one unit made from the table costs.
func BenchmarkListMountTable(b *testing.B) {
	const n = 2000
	b.Run("services", func(b *testing.B) {
		m := New(bigSource(n, false))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m.List()
		}
	})
	b.Run("mounts", func(b *testing.B) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := New(memSource{})
		m.Step(0, MountsChanged{Added: tablePoints(n)})
		runtime.GC()
		runtime.ReadMemStats(&after)
		if len(m.List()) != n {
			b.Fatalf("%d units listed, want %d", len(m.List()), n)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m.List()
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/mount")
		runtime.KeepAlive(m)
	})
}

// BenchmarkMountTableFeed: the first report of a mount table of 2000
// mounts, to a manager with 2000 services loaded (each new mount unit
// looks for the units that need its path).
func BenchmarkMountTableFeed(b *testing.B) {
	const n = 2000
	src := bigSource(n, false)
	points := tablePoints(n)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		m := New(src)
		b.StartTimer()
		m.Step(0, MountsChanged{Added: points})
	}
}
