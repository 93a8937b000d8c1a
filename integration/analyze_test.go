package integration

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// `gosd ctl analyze` and the cgroup lines of `status`, end to end: the real
// gosd boots a unit tree whose critical chain is known, and the client's
// answers are checked against it.

func analyzeUnits() map[string]string {
	oneshot := func(desc, after, secs string) string {
		u := "[Unit]\nDescription=" + desc + "\n"
		if after != "" {
			u += "After=" + after + "\n"
		}
		return u + "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sleep " + secs + "\n"
	}
	return map[string]string{
		"default.target":  "[Unit]\nDescription=Default\nWants=chain-a.service chain-b.service chain-c.service quick.service\n",
		"chain-a.service": oneshot("first link", "", "0.3"),
		"chain-b.service": oneshot("second link", "chain-a.service", "0.2"),
		"chain-c.service": oneshot("third link", "chain-b.service", "0.1"),
		"quick.service":   "[Unit]\nDescription=Quick\n[Service]\nExecStart=/bin/sh -c 'sleep 1000 & " + loop + "'\n",
	}
}

// spanRe parses fmtSpan's output back ("1.5s", "233ms", "750us", "0").
var spanRe = regexp.MustCompile(`^(?:(\d+)min )?(?:(\d+(?:\.\d+)?)s|(\d+)ms|(\d+)us|0)$`)

func parseSpan(t *testing.T, s string) time.Duration {
	t.Helper()
	m := spanRe.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("not a time span: %q", s)
	}
	var d time.Duration
	if m[1] != "" {
		n, _ := strconv.Atoi(m[1])
		d += time.Duration(n) * time.Minute
	}
	switch {
	case m[2] != "":
		f, _ := strconv.ParseFloat(m[2], 64)
		d += time.Duration(f * float64(time.Second))
	case m[3] != "":
		n, _ := strconv.Atoi(m[3])
		d += time.Duration(n) * time.Millisecond
	case m[4] != "":
		n, _ := strconv.Atoi(m[4])
		d += time.Duration(n) * time.Microsecond
	}
	return d
}

// rawLines splits output into its non-empty lines, keeping indentation.
func rawLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func near(got, want, slack time.Duration) bool { return got >= want && got <= want+slack }

func TestAnalyze(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, analyzeUnits())
		in.waitOutput("Reached target default.target", 15*time.Second)

		// blame: the chain's links longest first, each about its sleep.
		r := ctlWant(t, in, 0, "analyze", "blame")
		var order []string
		took := map[string]time.Duration{}
		for _, l := range lines(r.out) {
			f := strings.Fields(l)
			if len(f) < 2 {
				t.Fatalf("blame line %q", l)
			}
			name := f[len(f)-1]
			order = append(order, name)
			took[name] = parseSpan(t, strings.Join(f[:len(f)-1], " "))
		}
		want := []string{"chain-a.service", "chain-b.service", "chain-c.service"}
		if len(order) < 3 || strings.Join(order[:3], " ") != strings.Join(want, " ") {
			t.Fatalf("blame order %v, want %v first:\n%s", order, want, r.out)
		}
		for i, sleep := range []time.Duration{300, 200, 100} {
			if d := took[want[i]]; !near(d, sleep*time.Millisecond, 250*time.Millisecond) {
				t.Errorf("blame: %s took %v, want about %dms", want[i], d, sleep)
			}
		}
		// Columns are right-aligned as systemd-analyze prints them.
		col := -1
		for i, l := range rawLines(r.out) {
			c := strings.Index(l, " "+order[i])
			if col >= 0 && c != col {
				t.Errorf("blame time column not aligned:\n%s", r.out)
				break
			}
			col = c
		}

		// critical-chain: the target, then c, b, a, each "@active +took".
		r = ctlWant(t, in, 0, "analyze", "critical-chain")
		chainRe := regexp.MustCompile(`^(\s*(?:└─)?)(\S+) @(\S+)(?: \+(\S+))?$`)
		var chain []string
		var at []time.Duration
		legend := rawLines(r.out)
		if len(legend) < 2 || !strings.HasPrefix(legend[0], "The time when unit became active") {
			t.Fatalf("critical-chain legend:\n%s", r.out)
		}
		for _, l := range legend[2:] {
			mm := chainRe.FindStringSubmatch(l)
			if mm == nil {
				t.Fatalf("critical-chain line %q:\n%s", l, r.out)
			}
			if len(chain) > 0 {
				if want := strings.Repeat(" ", 2*(len(chain)-1)) + "└─"; mm[1] != want {
					t.Errorf("line %q: indentation %q, want %q", l, mm[1], want)
				}
			} else if mm[1] != "" {
				t.Errorf("first line %q is indented", l)
			}
			chain = append(chain, mm[2])
			at = append(at, parseSpan(t, mm[3]))
			if mm[2] != "default.target" {
				if d := parseSpan(t, mm[4]); d < 50*time.Millisecond {
					t.Errorf("%s: +%v, want its sleep", mm[2], d)
				}
			}
		}
		wantChain := []string{"default.target", "chain-c.service", "chain-b.service", "chain-a.service"}
		if strings.Join(chain, " ") != strings.Join(wantChain, " ") {
			t.Fatalf("critical chain %v, want %v:\n%s", chain, wantChain, r.out)
		}
		for i := 1; i < len(at); i++ {
			if at[i] > at[i-1] {
				t.Errorf("%s became active @%v, after %s @%v", chain[i], at[i], chain[i-1], at[i-1])
			}
		}
		if at[0] < 600*time.Millisecond || at[0] > 5*time.Second {
			t.Errorf("default.target @%v, want at least the chain's 600ms", at[0])
		}
		// A unit named explicitly: its own chain.
		r = ctlWant(t, in, 0, "analyze", "critical-chain", "chain-b.service")
		if l := lines(r.out); len(l) != 4 || !strings.HasPrefix(l[2], "chain-b.service @") || !strings.HasPrefix(l[3], "└─chain-a.service @") {
			t.Errorf("critical-chain chain-b:\n%s", r.out)
		}

		// time: gosd's share, at least the chain's sum; as PID1 of a PID
		// namespace there is no kernel share (a container).
		r = ctlWant(t, in, 0, "analyze", "time")
		timeRe := regexp.MustCompile(`^Startup finished in (.+) \(gosd\) = (.+)$`)
		tl := lines(r.out)
		mm := timeRe.FindStringSubmatch(tl[0])
		if mm == nil || len(tl) != 2 || !strings.HasPrefix(tl[1], "default.target reached after ") {
			t.Fatalf("analyze time:\n%s", r.out)
		}
		total := parseSpan(t, mm[2])
		if total < 600*time.Millisecond || total > 10*time.Second || parseSpan(t, mm[1]) != total {
			t.Errorf("startup %v, want >= 600ms (the chain)", total)
		}
		if total < at[0] {
			t.Errorf("startup %v before the target was reached @%v", total, at[0])
		}
		if d := ctlWant(t, in, 0, "analyze").out; d != r.out {
			t.Errorf("analyze without a verb is not time:\n%s", d)
		}

		// plot: well-formed SVG naming every unit that started.
		r = ctlWant(t, in, 0, "analyze", "plot")
		dec := xml.NewDecoder(strings.NewReader(r.out))
		var texts []string
		rects, root := 0, ""
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("plot is not well-formed XML: %v\n%s", err, r.out)
			}
			switch v := tok.(type) {
			case xml.StartElement:
				if root == "" {
					root = v.Name.Local
				}
				if v.Name.Local == "rect" {
					rects++
				}
			case xml.CharData:
				texts = append(texts, string(v))
			}
		}
		all := strings.Join(texts, "\n")
		if root != "svg" || rects < 8 {
			t.Errorf("plot: root %q, %d rects", root, rects)
		}
		for _, u := range []string{"default.target", "chain-a.service (", "chain-b.service (", "chain-c.service (", "quick.service"} {
			if !strings.Contains(all, u) {
				t.Errorf("plot does not mention %q", u)
			}
		}
		os.WriteFile(filepath.Join(in.dir, "boot.svg"), []byte(r.out), 0o644)
	})
}

func TestAnalyzeStatusCgroup(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		in := start(t, m, analyzeUnits())
		in.waitOutput("Reached target default.target", 15*time.Second)
		in.waitState(t, "quick.service", "active", 10*time.Second)
		var r ctlResult
		// The shell forks its background sleep and its loop's sleeps.
		in.waitFor("quick.service's child", 5*time.Second, func() bool {
			r = ctlRun(t, in, "status", "quick.service")
			return strings.Contains(r.out, " sleep 1000")
		})
		main := showValue(t, in, "quick.service", "MainPID")
		cgroup := showValue(t, in, "quick.service", "ControlGroup")
		if cgroup == "" || !strings.HasSuffix(cgroup, "/quick.service") {
			t.Fatalf("ControlGroup=%q:\n%s", cgroup, r)
		}
		tasks := regexp.MustCompile(`(?m)^      Tasks: (\d+)$`).FindStringSubmatch(r.out)
		if tasks == nil {
			t.Fatalf("no Tasks line:\n%s", r)
		}
		if n, _ := strconv.Atoi(tasks[1]); n < 2 {
			t.Errorf("Tasks: %d, want >= 2 (shell and its sleep)", n)
		}
		if !strings.Contains(r.out, "\n     CGroup: "+cgroup+"\n") {
			t.Errorf("no CGroup: %s line:\n%s", cgroup, r.out)
		}
		// The processes: the main shell and the background sleep, each
		// "├─PID CMDLINE" under the path, the last with └─.
		procRe := regexp.MustCompile(`(?m)^             ([├└])─\s*(\d+) (.+)$`)
		procs := procRe.FindAllStringSubmatch(r.out, -1)
		var sawMain, sawChild bool
		for i, p := range procs {
			if (p[1] == "└") != (i == len(procs)-1) {
				t.Errorf("tree glyph of %q", p[0])
			}
			if p[2] == main && strings.HasPrefix(p[3], "/bin/sh -c sleep 1000 &") {
				sawMain = true
			}
			if p[2] != main && p[3] == "sleep 1000" {
				sawChild = true
			}
		}
		if !sawMain || !sawChild {
			t.Errorf("CGroup processes: main %s seen %v, child sleep seen %v:\n%s", main, sawMain, sawChild, r.out)
		}
		// Memory and CPU come from memory.current and cpu.stat: shown when
		// the unit's cgroup has the file, absent (show: [not set]) when not,
		// never a made-up 0. On this machine's hybrid layout the memory
		// controller is not on cgroup v2, while cpu.stat's usage_usec is
		// part of the cgroup core.
		dir := filepath.Join(cgroup2Mount(t), cgroup)
		if _, err := os.Stat(filepath.Join(dir, "memory.current")); err == nil {
			if !strings.Contains(r.out, "\n     Memory: ") {
				t.Errorf("memory.current exists but no Memory line:\n%s", r.out)
			}
		} else {
			if strings.Contains(r.out, "Memory:") {
				t.Errorf("Memory shown without memory.current:\n%s", r.out)
			}
			if v := showValue(t, in, "quick.service", "MemoryCurrent"); v != "[not set]" {
				t.Errorf("MemoryCurrent=%q, want [not set]", v)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "cpu.stat")); err == nil {
			cpu := regexp.MustCompile(`(?m)^        CPU: (\S+)$`).FindStringSubmatch(r.out)
			ns, err := strconv.ParseUint(showValue(t, in, "quick.service", "CPUUsageNSec"), 10, 64)
			if cpu == nil || err != nil {
				t.Fatalf("cpu.stat exists but CPU line %v / CPUUsageNSec %v:\n%s", cpu, err, r.out)
			}
			// Sub-millisecond usage prints in microseconds; the figure
			// only grows between status and show.
			if d := parseSpan(t, cpu[1]); ns == 0 || time.Duration(ns) < d || d > 5*time.Second {
				t.Errorf("CPU: %s, CPUUsageNSec=%d", cpu[1], ns)
			}
		} else if strings.Contains(r.out, "CPU:") {
			t.Errorf("CPU shown without cpu.stat:\n%s", r.out)
		}
		if !strings.Contains(r.out, "   Main PID: "+main+" (sh)\n") {
			t.Errorf("Main PID line, want %s (sh):\n%s", main, r.out)
		}
		// A oneshot that finished long ago holds no processes: no CGroup
		// tree, and show has no tasks.
		r = ctlRun(t, in, "status", "chain-a.service")
		if strings.Contains(r.out, "├─") || strings.Contains(r.out, "└─") {
			t.Errorf("finished oneshot lists processes:\n%s", r.out)
		}
	})
}
