package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The peer benchmark in qemu: the bench's generated trees (bench/gen.go)
// booted in the Debian image of TestDebianBoot, same kernel, same qemu
// settings, under systemd 252, under gosd and under the floor, from the
// kernel's start to the tree's target. `go run ./bench -qemu` writes the
// trees (one overlay directory each) and a plan, runs this test with
// GOSD_DEBIAN_BENCH=PLAN, and reads the results it writes; the test only
// boots and measures, so the image and the boot are this package's one way
// of doing them (debianRootfs, debianInitramfs, debianBoot).

// benchPlan is what bench -qemu hands over (JSON).
type benchPlan struct {
	Gosd    string      `json:"gosd"`    // the static gosd binary to boot (bench's release build)
	Results string      `json:"results"` // where to write []benchBoot as JSON, after every boot
	Runs    int         `json:"runs"`    // boots per tree and init
	Budget  string      `json:"budget"`  // one boot's time limit (Go duration)
	Trees   []benchTree `json:"trees"`
	Inits   []string    `json:"inits,omitempty"` // a subset of floor, systemd, gosd (default: all)
	// QemuArgs are added to debianBoot's qemu command line: -icount makes
	// the guest's clock count instructions, so that the host's load does
	// not move the figures.
	QemuArgs []string `json:"qemu_args,omitempty"`
	// Cmdline adds words to one init's kernel command line (by init name;
	// "all" to every init's), e.g. quiet.
	Cmdline map[string]string `json:"cmdline,omitempty"`
	// Commit names the gosd (and floor) the boots are made with; every
	// boot records it, so that results merged from several runs say
	// which boot came from which.
	Commit string `json:"commit,omitempty"`
}

// benchTree is one generated tree: Overlay is laid over the image and holds
// its units (bench.target wants every service and bench-report.service),
// /sbin/bench-floor-init and what both need.
type benchTree struct {
	Name    string `json:"name"` // e.g. flat-oneshot-100
	Overlay string `json:"overlay"`
	N       int    `json:"n"`
	Type    string `json:"type"`
	// MemoryMB is the guest's memory (default 2048, debianBoot's): more
	// for trees whose services would not fit.
	MemoryMB int `json:"memory_mb,omitempty"`
}

// benchBoot is one boot's result.
type benchBoot struct {
	Tree   string  `json:"tree"`
	Init   string  `json:"init"` // floor, systemd, gosd
	Run    int     `json:"run"`
	Order  int     `json:"order"`  // position among this run's three boots of the tree
	Uptime float64 `json:"uptime"` // guest /proc/uptime at the report, s: the kernel's start to the target
	Exec   float64 `json:"exec"`   // the kernel's timestamp of "Run ... as init process", s
	Host   float64 `json:"host"`   // host clock from qemu's start to the report line, s
	PID1   int     `json:"pid1"`   // PID1's utime+stime at the report, ticks of 10 ms
	Busy   int     `json:"busy"`   // the guest's non-idle ticks at the report (cpu line of /proc/stat)
	Idle   int     `json:"idle"`   // the guest's idle+iowait ticks at the report
	Units  string  `json:"units"`  // the generated services by ACTIVE state at the report, e.g. "active=100"
	Load   string  `json:"load"`   // the host's /proc/loadavg when the boot started
	Error  string  `json:"error,omitempty"`
	Commit string  `json:"commit,omitempty"` // the plan's Commit
	Memory int     `json:"memory_mb"`        // the guest's memory, MiB
	Date   string  `json:"date,omitempty"`   // when the boot started, UTC
}

var (
	benchReport = regexp.MustCompile(`GOSD-REPORT uptime=(\S+) init=(\S+)`)
	benchCPU    = regexp.MustCompile(`GOSD-CPU cpu +((?:\d+ ?)+) pid1 (\d+) (\d+)`)
	benchUnits  = regexp.MustCompile(`GOSD-UNITS ([^\n]*)`)
	benchExec   = regexp.MustCompile(`\[ *([0-9.]+)\] Run \S+ as init process`)
)

// TestDebianBench boots each tree of the plan under the floor, systemd and
// gosd, Runs times, rotating which init goes first so that the host's load
// falls on each alike. Opt-in: run through `go run ./bench -qemu`.
func TestDebianBench(t *testing.T) {
	planPath := os.Getenv("GOSD_DEBIAN_BENCH")
	if planPath == "" {
		t.Skip("opt-in: boots the bench's generated trees in the Debian image under TCG (an hour or more); run `go run ./bench -qemu` (docs/benchmarks.md)")
	}
	needRoot(t)
	data, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	var plan benchPlan
	if err := json.Unmarshal(data, &plan); err != nil {
		t.Fatalf("%s: %v", planPath, err)
	}
	budget, err := time.ParseDuration(plan.Budget)
	if err != nil {
		t.Fatalf("budget %q: %v", plan.Budget, err)
	}
	kernel := qemuKernel(t)
	tarball := debianRootfs(t)
	inits := []struct{ name, cmdline string }{
		{"floor", "rdinit=/sbin/bench-floor-init"},
		{"systemd", "rdinit=/lib/systemd/systemd systemd.unit=bench.target"},
		{"gosd", "rdinit=/sbin/gosd systemd.unit=bench.target"},
	}
	if len(plan.Inits) > 0 {
		var keep []struct{ name, cmdline string }
		for _, in := range inits {
			for _, want := range plan.Inits {
				if in.name == want {
					keep = append(keep, in)
				}
			}
		}
		inits = keep
	}
	var results []benchBoot
	save := func() {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(plan.Results, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for ti, tree := range plan.Trees {
		start := time.Now()
		initrd := debianInitramfs(t, tarball, plan.Gosd, tree.Overlay)
		t.Logf("%s: initramfs written in %v", tree.Name, time.Since(start).Round(time.Millisecond))
		for run := 0; run < plan.Runs; run++ {
			for k := range inits {
				in := inits[(ti+run+k)%len(inits)]
				cmdline := strings.Join(strings.Fields(plan.Cmdline["all"]+" "+in.cmdline+" "+plan.Cmdline[in.name]), " ")
				r := benchBootOne(t, tree, in.name, kernel, initrd, cmdline, budget, plan.QemuArgs)
				r.Run, r.Order, r.Commit = run, k, plan.Commit
				results = append(results, r)
				save()
				if r.Error != "" {
					t.Errorf("%s under %s: %s", tree.Name, in.name, r.Error)
					continue
				}
				t.Logf("%-20s %-7s uptime %6.2fs (exec %5.2fs)  host %6.2fs  PID1 %4d ticks  busy %5d idle %3d  %s  load %s",
					tree.Name, in.name, r.Uptime, r.Exec, r.Host, r.PID1, r.Busy, r.Idle, r.Units, r.Load)
			}
		}
		os.Remove(initrd)
	}
}

// benchBootOne boots the tree under one init and reads its report. A boot
// that fails is recorded with its error (and its console saved), and the
// benchmark goes on with the next.
func benchBootOne(t *testing.T, tree benchTree, init, kernel, initrd, cmdline string, budget time.Duration, qemuArgs []string) (r benchBoot) {
	r = benchBoot{Tree: tree.Name, Init: init, Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Memory: tree.MemoryMB}
	if r.Memory == 0 {
		r.Memory = 2048
	}
	load, _ := os.ReadFile("/proc/loadavg")
	r.Load = strings.Join(strings.Fields(string(load))[:3], " ")
	// A failed wait ends the subtest, not the benchmark.
	ok := t.Run(tree.Name+"/"+init, func(t *testing.T) {
		// debianBoot's machine, with the plan's qemu arguments.
		vm := qemuStartWith(t, "pc", strconv.Itoa(r.Memory), kernel, initrd, cmdline, false, qemuArgs)
		deadline := time.Now().Add(budget)
		defer func() {
			// Every console is kept (testdata/debian/out is ignored by git).
			name := fmt.Sprintf("bench-%s-%s.console", tree.Name, init)
			os.MkdirAll("testdata/debian/out", 0o755)
			os.WriteFile("testdata/debian/out/"+name, []byte(vm.output()), 0o644)
			if t.Failed() {
				r.Error = strings.TrimPrefix(r.Error+"; console: integration/testdata/debian/out/"+name, "; ")
			}
		}()
		r.Host = debianWaitFor(vm, "GOSD-REPORT", deadline).Seconds()
		debianWaitFor(vm, "GOSD-POWEROFF", deadline)
		vm.waitExit(deadline)
		console := stripANSI(vm.output())
		m := benchReport.FindStringSubmatch(console)
		if m == nil || m[2] != init {
			t.Fatalf("no report from %s on the console", init)
		}
		r.Uptime, _ = strconv.ParseFloat(m[1], 64)
		if e := benchExec.FindStringSubmatch(console); e != nil {
			r.Exec, _ = strconv.ParseFloat(e[1], 64)
		}
		if c := benchCPU.FindStringSubmatch(console); c != nil {
			f := strings.Fields(c[1])
			for i, x := range f {
				v, _ := strconv.Atoi(x)
				if i == 3 || i == 4 { // idle, iowait
					r.Idle += v
				} else {
					r.Busy += v
				}
			}
			u, _ := strconv.Atoi(c[2])
			s, _ := strconv.Atoi(c[3])
			r.PID1 = u + s
		}
		if u := benchUnits.FindStringSubmatch(console); u != nil {
			r.Units = strings.TrimSpace(u[1])
		}
		// A process the kernel killed for memory is a boot that measured
		// something else (the floor's report even comes early, when the
		// floor itself is killed).
		if n := strings.Count(console, "Out of memory: Killed process"); n > 0 {
			r.Error = fmt.Sprintf("the guest ran out of memory (%d MiB): %d processes killed", r.Memory, n)
			t.Errorf("%s under %s: %s", tree.Name, init, r.Error)
		}
		// Under either init every generated service must have started and
		// none failed (the floor's report comes only once all are up).
		if init != "floor" {
			want := "active=" + strconv.Itoa(tree.N)
			if tree.Type == "oneshot" {
				want = "inactive=" + strconv.Itoa(tree.N)
			}
			if r.Units != want {
				msg := fmt.Sprintf("generated services by state %q, want %q", r.Units, want)
				r.Error = strings.TrimPrefix(r.Error+"; "+msg, "; ")
				t.Errorf("%s under %s: %s", tree.Name, init, msg)
			}
		}
	})
	if !ok && r.Error == "" {
		r.Error = "failed"
	}
	return r
}
