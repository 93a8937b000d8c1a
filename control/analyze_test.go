//go:build linux

package control

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"gosd/unitfile"
)

func TestFmtSpanAndBytes(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 750 * time.Microsecond: "750us", 233 * time.Millisecond: "233ms",
		1500 * time.Millisecond: "1.5s", 2 * time.Second: "2s", 62345 * time.Millisecond: "1min 2.345s",
		time.Hour + 5*time.Millisecond: "1h 5ms",
	} {
		if got := fmtSpan(d); got != want {
			t.Errorf("fmtSpan(%v) = %q, want %q", d, got, want)
		}
	}
	for v, want := range map[uint64]string{512: "512B", 1536: "1.5K", 3 << 20: "3.0M", 5<<30 + 1<<29: "5.5G"} {
		if got := fmtBytes(v); got != want {
			t.Errorf("fmtBytes(%d) = %q, want %q", v, got, want)
		}
	}
}

// A boot of known shape on the fake backend: default.target wants a, b, c
// (b after a, c after b by Before= on b's side) and q in parallel.
func TestAnalyzeVerbs(t *testing.T) {
	f := newFixture(t)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	f.b.add("a.service", "active", nil)
	f.b.add("b.service", "active", &unitfile.Unit{Unit: unitfile.UnitSection{After: []string{"a.service"}, Before: []string{"c.service"}}})
	f.b.add("c.service", "active", nil)
	f.b.add("q.service", "active", nil)
	f.b.add("default.target", "active", &unitfile.Unit{Unit: unitfile.UnitSection{DefaultDependencies: true,
		Wants: []string{"a.service", "b.service", "c.service", "q.service"}}})
	f.b.do(func() {
		// gosd started 10ms before the reactor's clock began.
		f.b.boot = BootTimes{Target: "default.target", Start: -ms(10), StartMonotonic: 2 * time.Second, Finish: ms(620)}
		set := func(n string, from, to int) {
			f.b.units[n].InactiveExit, f.b.units[n].ActiveEnter = ms(from), ms(to)
		}
		set("a.service", 5, 305)
		set("b.service", 305, 505)
		set("c.service", 505, 610)
		set("q.service", 5, 6)
		set("default.target", 610, 610)
		for _, n := range []string{"foo.service", "web.socket"} {
			f.b.units[n].InactiveExit, f.b.units[n].ActiveEnter = 0, 0
		}
	})
	out := f.expect(0, "", "analyze", "blame")
	want := "300ms a.service\n200ms b.service\n105ms c.service\n  1ms q.service\n"
	if out != want {
		t.Errorf("blame:\n%s\nwant:\n%s", out, want)
	}
	out = f.expect(0, "", "analyze", "critical-chain")
	want = "default.target @620ms\n└─c.service @620ms +105ms\n  └─b.service @515ms +200ms\n    └─a.service @315ms +300ms\n"
	if !strings.HasSuffix(out, "\n\n"+want) {
		t.Errorf("critical-chain:\n%s\nwant:\n%s", out, want)
	}
	f.expect(0, "Startup finished in 630ms (gosd) = 630ms\ndefault.target reached after 620ms in gosd.\n", "analyze")
	f.b.do(func() { f.b.boot.Kernel = true })
	f.expect(0, "Startup finished in 2s (kernel) + 630ms (gosd) = 2.63s\n", "analyze", "time")
	out = f.expect(0, "<svg", "analyze", "plot")
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("plot: %v\n%s", err, out)
		}
	}
	for _, n := range []string{"a.service (300ms)", "c.service (105ms)", "q.service (1ms)", "default.target"} {
		if !strings.Contains(out, n) {
			t.Errorf("plot lacks %q", n)
		}
	}
	// Not finished yet: systemd-analyze's refusal.
	f.b.do(func() { f.b.boot.Finish = 0 })
	f.expect(1, "Bootup is not yet finished", "analyze", "blame")
}

func TestStatusCgroup(t *testing.T) {
	f := newFixture(t)
	f.b.do(func() {
		f.b.cgroups["foo.service"] = CgroupStats{Path: "/system.slice/foo.service", Pids: []int{os.Getpid(), 1},
			TasksCurrent: 7, MemoryCurrent: 3 << 20, HaveMemory: true}
	})
	out := f.expect(0, "      Tasks: 7\n     Memory: 3.0M\n     CGroup: /system.slice/foo.service\n             ├─", "status", "foo")
	if strings.Contains(out, "CPU:") || !strings.Contains(out, "└─") || !strings.Contains(out, "Main PID: ") {
		t.Errorf("status:\n%s", out)
	}
	out = f.expect(0, "ControlGroup=/system.slice/foo.service\nMemoryCurrent=3145728\nCPUUsageNSec=[not set]\nTasksCurrent=7\n",
		"show", "-p", "ControlGroup,MemoryCurrent,CPUUsageNSec,TasksCurrent", "foo")
	f.expect(0, "TasksCurrent=[not set]", "show", "bar")
}

// status of several units shows each its own last lines, read in one pass
// off the loop.
func TestStatusLogsOfSeveralUnits(t *testing.T) {
	f := newFixture(t)
	f.b.do(func() {
		for i := 0; i < 3; i++ {
			f.b.emit("foo.service", fmt.Sprintf("foo line %d", i))
			f.b.emit("bar.service", fmt.Sprintf("bar line %d", i))
			f.b.emit("other.service", fmt.Sprintf("other line %d", i))
		}
	})
	out := f.expect(3, "foo line 2", "status", "-n", "2", "foo", "bar") // 3: bar is inactive
	for _, want := range []string{"foo line 1", "bar line 1", "bar line 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"foo line 0", "bar line 0", "other line"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("status has %q:\n%s", unwanted, out)
		}
	}
	// foo's lines come under foo, bar's under bar.
	if i, j := strings.Index(out, "foo line 2"), strings.Index(out, "bar line 1"); i < 0 || j < i {
		t.Errorf("lines out of place:\n%s", out)
	}
}
