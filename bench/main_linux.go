// Command bench measures gosd against a minimal floor and writes
// docs/benchmarks.md and docs/bench-*.svg. Run it from the module root, as root:
//
//	go run ./bench            # full pass: N=10,100,1000, 10 runs (5 for N=1000)
//	go run ./bench -quick     # a fast pass: N=10,100, 3 runs, short footprint windows
//	go run ./bench -n 10,100 -runs 10 -shapes flat,chain -types simple
//	go run ./bench -quick -peers=false  # without the peers suite (runit, s6, supervisor)
//	go run ./bench -quick -skip target,socket,footprint  # the peers suite alone
//	go run ./bench -qemu      # only the qemu suite: the trees booted under systemd, gosd and the
//	                          # floor in the Debian image (an hour or more); its section of
//	                          # docs/benchmarks.md is replaced, the rest kept
//	go run ./bench -qemu -qemu-merge -qemu-inits gosd -qemu-trees flat-simple-1000
//	                          # re-boot some trees under some inits: those boots replace
//	                          # theirs in docs/bench-qemu.json, the others are kept
//	go run ./bench -qemu-merge-from WORK/qemu  # merge a kept (-keep) run, even one cut short
//	go run ./bench -skip target,socket,footprint,peers  # spawn cost alone (its section of benchmarks.md is replaced)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gosd/bench/spec"
	gexec "gosd/exec"
)

type config struct {
	quick       bool
	ns          []int
	runs        int
	bigRuns     int
	shapes      []string
	types       []string
	seed        int64
	out         string
	skip        map[string]bool
	idleWindow  time.Duration
	floodFor    time.Duration
	floodSvcs   int
	floodRate   int
	peers       bool
	baseline    string // another gosd binary, run as a third side (A/B)
	writeTo     string // write the generated trees there and exit (for profiling by hand)
	qemu        bool
	qemuTrees   []string
	qemuRuns    int
	qemuBudget  time.Duration
	qemuInits   []string
	qemuArgs    []string
	qemuReport  bool
	qemuCmdline map[string]string
	qemuMerge   bool   // merge the boots into the last results instead of replacing them
	qemuFrom    string // a kept run's qemu directory to merge, without booting
}

type bins struct{ gosd, floor, helper string }

// loadAvg is /proc/loadavg's three figures when the harness started.
var loadAvg string

type ttResult struct {
	shape, typ                   string
	n, critical                  int
	gosdT, floorT, gosdX, floorX []float64 // time to target / to exit, ms
	baseT, baseX                 []float64 // the -baseline gosd's (not in the report)
	failures                     []string
}

func main() {
	if v := os.Getenv(spawnOneEnv); v != "" {
		work, helper, _ := strings.Cut(v, ":")
		spawnOne(work, helper)
	}
	gexec.RunHelperIfRequested() // as gosd does: a plain unit takes gosd's direct path
	var c config
	var ns, shapes, types, skip string
	flag.BoolVar(&c.quick, "quick", false, "fast pass: N=10,100, 3 runs, short footprint windows")
	flag.StringVar(&ns, "n", "", "comma-separated N values (default 10,100,1000; quick 10,100)")
	flag.IntVar(&c.runs, "runs", 0, "runs per configuration and side (default 10; quick 3)")
	flag.IntVar(&c.bigRuns, "bigruns", 0, "runs for N>=1000 (default 5; quick = runs)")
	flag.StringVar(&shapes, "shapes", "flat,chain,dag", "shapes")
	flag.StringVar(&types, "types", "simple,notify,oneshot", "service types")
	flag.StringVar(&skip, "skip", "", "comma-separated suites to skip: target,cgcost,socket,footprint,peers,spawn")
	flag.BoolVar(&c.peers, "peers", true, "run the peers suite (runit, s6, supervisor; installed with apt-get when missing)")
	flag.Int64Var(&c.seed, "seed", 1, "DAG seed")
	var qemuTrees string
	flag.BoolVar(&c.qemu, "qemu", false, "run only the qemu suite (integration's TestDebianBench) and replace its section of benchmarks.md")
	flag.StringVar(&qemuTrees, "qemu-trees", strings.Join(qemuDefaultTrees(), ","), "trees for -qemu, as SHAPE-TYPE-N")
	flag.BoolVar(&c.qemuReport, "qemu-report", false, "only re-render the qemu section of benchmarks.md and its plots from docs/bench-qemu.json")
	flag.IntVar(&c.qemuRuns, "qemu-runs", 1, "boots per tree and init for -qemu")
	var qemuInits, qemuArgs, qemuCmdline string
	flag.StringVar(&qemuCmdline, "qemu-cmdline", "all=quiet", "for -qemu: INIT=WORDS;... added to that init's kernel command line (INIT all: to every one's); quiet keeps the kernel's and systemd's messages off the serial console, whose 115200 baud would be measured instead")
	flag.StringVar(&qemuArgs, "qemu-args", "-icount shift=0,sleep=off", "for -qemu: more qemu arguments (space-separated); the default makes the guest's clock count instructions")
	flag.StringVar(&qemuInits, "qemu-inits", "", "for -qemu: boot only these inits (floor,systemd,gosd), for diagnosis")
	flag.DurationVar(&c.qemuBudget, "qemu-budget", 15*time.Minute, "time limit of one boot for -qemu")
	flag.BoolVar(&c.qemuMerge, "qemu-merge", false, "for -qemu: merge into docs/bench-qemu.json: the new boots replace the boots of the same tree and init, the others are kept (each boot says its commit and date)")
	flag.StringVar(&c.qemuFrom, "qemu-merge-from", "", "merge the boots of a kept run (WORK/qemu of -qemu -keep, finished or cut short) into docs/bench-qemu.json and re-render, without booting")
	flag.StringVar(&c.out, "out", "docs", "directory for benchmarks.md and the SVG plots ('' = do not write)")
	flag.StringVar(&c.writeTo, "write", "", "write the generated trees (DIR/SHAPE-TYPE-N/units, spec.json) and exit, for profiling by hand")
	flag.StringVar(&c.baseline, "baseline", "", "a gosd binary to compare with (A/B): run as a third side, interleaved; its figures go to stderr only (use with -out '')")
	keep := flag.Bool("keep", false, "keep the work directory (generated units, the C floors and their sources)")
	flag.Parse()
	if ns == "" {
		ns = "10,100,1000"
		if c.quick {
			ns = "10,100"
		}
	}
	for _, s := range strings.Split(ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal("bad -n %q", s)
		}
		c.ns = append(c.ns, n)
	}
	if c.runs == 0 {
		c.runs = 10
		if c.quick {
			c.runs = 3
		}
	}
	if c.bigRuns == 0 {
		c.bigRuns = 5
		if c.quick {
			c.bigRuns = c.runs
		}
	}
	c.qemuTrees = strings.Split(qemuTrees, ",")
	c.qemuArgs = strings.Fields(qemuArgs)
	for _, kv := range strings.Split(qemuCmdline, ";") {
		if init, words, ok := strings.Cut(kv, "="); ok {
			if c.qemuCmdline == nil {
				c.qemuCmdline = map[string]string{}
			}
			c.qemuCmdline[init] = words
		}
	}
	if qemuInits != "" {
		c.qemuInits = strings.Split(qemuInits, ",")
	}
	c.shapes = strings.Split(shapes, ",")
	c.types = strings.Split(types, ",")
	c.skip = map[string]bool{}
	for _, s := range strings.Split(skip, ",") {
		c.skip[s] = true
	}
	c.idleWindow, c.floodFor, c.floodSvcs, c.floodRate = 10*time.Second, 10*time.Second, 4, 100000
	if c.quick {
		c.idleWindow, c.floodFor = 3*time.Second, 3*time.Second
	}
	if c.writeTo != "" {
		// The notify type's helper is the bench's: built next to the trees.
		helper, _ := filepath.Abs(filepath.Join(c.writeTo, "helper"))
		build(helper, "./bench/helper")
		for _, n := range c.ns {
			for _, shape := range c.shapes {
				for _, typ := range c.types {
					tree := genTree(shape, typ, n, c.seed, helper)
					dir := filepath.Join(c.writeTo, fmt.Sprintf("%s-%s-%d", shape, typ, n))
					check(writeFiles(filepath.Join(dir, "units"), unitFiles(tree, nil)))
					data, _ := json.Marshal(tree)
					check(os.WriteFile(filepath.Join(dir, "spec.json"), data, 0o644))
				}
			}
		}
		return
	}
	if c.qemuReport {
		m := readQemu(c.out)
		if m == nil {
			fatal("no %s in %s", qemuResults, c.out)
		}
		writeQemuSection(c.out, m)
		return
	}
	if c.qemuFrom != "" {
		add, err := readQemuRun(c.qemuFrom)
		check(err)
		saveQemu(c.out, add, true)
		return
	}
	if os.Geteuid() != 0 {
		fatal("run as root (gosd manages services as root)")
	}
	if _, err := os.Stat("go.mod"); err != nil {
		fatal("run from the module root (go run ./bench)")
	}
	// $TMPDIR when set (os.TempDir): on a shared machine /tmp may be
	// cleaned under a long run. Keep it short: unix socket paths.
	work, err := os.MkdirTemp(os.TempDir(), "gb-")
	check(err)
	if *keep {
		defer progress("kept %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	progress("building gosd, floor and helper (CGO_ENABLED=0, -s -w) in %s", work)
	b := bins{gosd: filepath.Join(work, "gosd"), floor: filepath.Join(work, "floor"), helper: filepath.Join(work, "helper")}
	build(b.gosd, "./cmd/gosd")
	build(b.floor, "./bench/floor")
	build(b.helper, "./bench/helper")

	if c.qemu {
		if old := readQemu(c.out); c.qemuMerge && old != nil {
			// Refuse before booting, not after an hour.
			_, err := mergeQemu(old, &qemuMeta{QemuArgs: c.qemuArgs, Cmdline: c.qemuCmdline})
			check(err)
		}
		saveQemu(c.out, qemuSuite(c, b, work), c.qemuMerge)
		return
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		loadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	r := &report{cfg: c, cmdline: "go run ./bench " + strings.Join(os.Args[1:], " ")}
	if !c.skip["target"] {
		for _, n := range c.ns {
			for _, shape := range c.shapes {
				for _, typ := range c.types {
					r.tt = append(r.tt, timeToTarget(c, b, work, shape, typ, n))
				}
			}
		}
	}
	if !c.skip["cgcost"] {
		n, rounds := 1000, 5
		if c.quick {
			n, rounds = 200, 3
		}
		progress("the kernel's price of a cgroup per unit: %d units, %d rounds", n, rounds)
		r.cg = cgroupCost(n, rounds)
		progress("%s", r.cg.section())
	}
	if !c.skip["socket"] {
		r.sock = socketActivation(c, b, work)
	}
	if !c.skip["footprint"] {
		r.fp = footprint(c, b, work)
	}
	if c.peers && !c.skip["peers"] {
		r.peers, r.peerNotes = peersSuite(c, b, work)
		r.peersRan = true
	}
	if !c.skip["spawn"] {
		r.spawn = spawnCost(c, b, work)
	}
	if c.out != "" {
		r.write(c.out)
		progress("wrote %s", filepath.Join(c.out, "benchmarks.md"))
	}
}

// releaseFlags is gosd's release build (README): stripped, no paths, and
// the packages off the per-event path built without inlining, which keeps
// PID1 under 7 MiB: client, control server and D-Bus API, command line and
// config parsing with what only kong uses, early boot, unit-file parsing
// (measured: loading 10,000 units is no slower), and the spawn-side
// packages whose work is system calls that cost a thousand times a call
// (exec, cgroups, seccomp) with the encoders and reflection only control
// and the helper's instructions use. The reactor and manager keep it.
var releaseFlags = []string{"-trimpath", "-ldflags=-s -w",
	"-gcflags=gosd/control=-l", "-gcflags=gosd/boot=-l", "-gcflags=gosd/cmd/gosd=-l", "-gcflags=gosd/unitfile=-l",
	"-gcflags=gosd/internal/dbus=-l", "-gcflags=github.com/alecthomas/kong=-l", "-gcflags=github.com/BurntSushi/toml=-l",
	"-gcflags=go/...=-l", "-gcflags=regexp/...=-l",
	"-gcflags=gosd/exec=-l", "-gcflags=gosd/cgroups=-l", "-gcflags=gosd/internal/seccomp=-l",
	"-gcflags=reflect=-l", "-gcflags=encoding/...=-l", "-gcflags=net/...=-l"}

func build(out, pkg string) {
	cmd := exec.Command("go", append(append([]string{"build"}, releaseFlags...), "-o", out, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fatal("build %s: %v", pkg, err)
	}
}

func gosdArgs(b bins, units, run string) []string {
	return []string{b.gosd, "run", "--unit-path", units,
		"--control-socket", filepath.Join(run, "c.sock"), "--notify-socket", filepath.Join(run, "n.sock")}
}

const gosdMarker = "Reached target default.target"
const floorMarker = "floor: all up"

func timeToTarget(c config, b bins, work, shape, typ string, n int) *ttResult {
	tree := genTree(shape, typ, n, c.seed, b.helper)
	res := &ttResult{shape: shape, typ: typ, n: n, critical: criticalPath(tree)}
	dir := filepath.Join(work, fmt.Sprintf("%s-%s-%d", shape, typ, n))
	units := filepath.Join(dir, "units")
	check(writeFiles(units, unitFiles(tree, nil)))
	specPath := filepath.Join(dir, "spec.json")
	data, _ := json.Marshal(tree)
	check(os.WriteFile(specPath, data, 0o644))
	run := filepath.Join(dir, "run")
	check(os.MkdirAll(run, 0o755))
	runs := c.runs
	if n >= 1000 {
		runs = c.bigRuns
	}
	timeout := 30*time.Second + time.Duration(n)*20*time.Millisecond
	one := func(argv []string, marker string) (float64, float64, error) {
		os.Remove(filepath.Join(run, "c.sock"))
		os.Remove(filepath.Join(run, "n.sock"))
		p, err := startProc(argv, marker)
		if err != nil {
			return 0, 0, err
		}
		t, err := p.waitReady(timeout)
		if err != nil {
			p.kill()
			return 0, 0, err
		}
		x, err := p.stop(timeout)
		if err != nil {
			p.kill()
			return 0, 0, err
		}
		return msf(t), msf(x), nil
	}
	for i := 0; i < runs; i++ {
		// Interleave, alternating which side goes first (rotating, with
		// a baseline).
		sides := []string{"floor", "gosd"}
		if c.baseline != "" {
			sides = append(sides, "base")
		}
		k := i % len(sides)
		sides = append(sides[k:], sides[:k]...)
		for _, side := range sides {
			var t, x float64
			var err error
			switch side {
			case "floor":
				t, x, err = one([]string{b.floor, specPath, filepath.Join(run, "n.sock")}, floorMarker)
			case "base":
				t, x, err = one(gosdArgs(bins{gosd: c.baseline}, units, run), gosdMarker)
			default:
				t, x, err = one(gosdArgs(b, units, run), gosdMarker)
			}
			if err != nil {
				res.failures = append(res.failures, fmt.Sprintf("%s run %d: %v", side, i, firstLines(err.Error(), 12)))
				progress("  %s %s N=%d %s run %d FAILED: %v", shape, typ, n, side, i, firstLines(err.Error(), 12))
				continue
			}
			switch side {
			case "floor":
				res.floorT, res.floorX = append(res.floorT, t), append(res.floorX, x)
			case "base":
				res.baseT, res.baseX = append(res.baseT, t), append(res.baseX, x)
			default:
				res.gosdT, res.gosdX = append(res.gosdT, t), append(res.gosdX, x)
			}
		}
	}
	g, f := summarize(res.gosdT), summarize(res.floorT)
	progress("%-5s %-7s N=%-4d runs=%d  gosd %s ms  floor %s ms  ratio %.2f", shape, typ, n, runs, g, f, g.Median/f.Median)
	gx, fx := summarize(res.gosdX), summarize(res.floorX)
	progress("%-5s %-7s N=%-4d stop: gosd %s ms  floor %s ms  ratio %.2f", shape, typ, n, gx, fx, gx.Median/fx.Median)
	if c.baseline != "" {
		bt, bx := summarize(res.baseT), summarize(res.baseX)
		progress("%-5s %-7s N=%-4d baseline: target %s ms (gosd/baseline %.2f, baseline/floor %.2f)  stop %s ms (gosd/baseline %.2f, baseline/floor %.2f)",
			shape, typ, n, bt, g.Median/bt.Median, bt.Median/f.Median, bx, gx.Median/bx.Median, bx.Median/fx.Median)
	}
	return res
}

type sockResult struct {
	gosd, floor []float64
	base        []float64 // the -baseline gosd's (not in the report)
	failures    []string
}

// socketActivation: connect to an idle Accept=no socket unit until the first
// answered byte, against spawning the same service on an already listening
// socket and connecting at once (spawn + accept).
func socketActivation(c config, b bins, work string) *sockResult {
	res := &sockResult{}
	dir := filepath.Join(work, "sock")
	units := filepath.Join(dir, "units")
	run := filepath.Join(dir, "run")
	check(os.MkdirAll(run, 0o755))
	sockPath := filepath.Join(dir, "act.sock")
	check(writeFiles(units, map[string]string{
		"act.socket":     "[Socket]\nListenStream=" + sockPath + "\n",
		"act.service":    "[Service]\nExecStart=" + b.helper + " lsock\n",
		"default.target": "[Unit]\nDescription=Benchmark target\nWants=act.socket\nAfter=act.socket\n",
	}))
	runs := max(c.runs, 10)
	for i := 0; i < runs; i++ {
		// floor
		d, err := func() (float64, error) {
			fp := filepath.Join(dir, "floor.sock")
			os.Remove(fp)
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: fp, Net: "unix"})
			if err != nil {
				return 0, err
			}
			defer l.Close()
			f, err := l.File()
			if err != nil {
				return 0, err
			}
			defer f.Close()
			cmd := exec.Command(b.helper, "lsock")
			cmd.ExtraFiles = []*os.File{f}
			cmd.Env = append(os.Environ(), "LISTEN_FDS=1")
			t := time.Now()
			if err := cmd.Start(); err != nil {
				return 0, err
			}
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
			if err := readOneByte(fp); err != nil {
				return 0, err
			}
			return msf(time.Since(t)), nil
		}()
		if err != nil {
			res.failures = append(res.failures, "floor: "+err.Error())
		} else {
			res.floor = append(res.floor, d)
		}
		// gosd, then the -baseline gosd (A/B) when given
		d, err = gosdSocketSample(b, units, run, sockPath)
		if err != nil {
			res.failures = append(res.failures, "gosd: "+firstLines(err.Error(), 12))
		} else {
			res.gosd = append(res.gosd, d)
		}
		if c.baseline != "" {
			d, err = gosdSocketSample(bins{gosd: c.baseline}, units, run, sockPath)
			if err != nil {
				res.failures = append(res.failures, "baseline: "+firstLines(err.Error(), 12))
			} else {
				res.base = append(res.base, d)
			}
		}
	}
	g, f := summarize(res.gosd), summarize(res.floor)
	progress("socket activation: gosd %s ms  floor %s ms  diff %.2f ms (%d failures)", g, f, g.Median-f.Median, len(res.failures))
	if c.baseline != "" {
		bs := summarize(res.base)
		progress("socket activation baseline: %s ms  diff %.2f ms  (gosd/baseline %.2f)", bs, bs.Median-f.Median, g.Median/bs.Median)
	}
	return res
}

// gosdSocketSample starts gosd (b.gosd) on the socket unit, lets it settle
// and times one connection from connect to the first byte answered.
func gosdSocketSample(b bins, units, run, sockPath string) (float64, error) {
	os.Remove(sockPath)
	p, err := startProc(gosdArgs(b, units, run), gosdMarker)
	if err != nil {
		return 0, err
	}
	if _, err := p.waitReady(30 * time.Second); err != nil {
		p.kill()
		return 0, err
	}
	defer func() {
		if _, err := p.stop(10 * time.Second); err != nil {
			p.kill()
		}
	}()
	time.Sleep(200 * time.Millisecond) // settle: the socket is idle
	t := time.Now()
	if err := readOneByte(sockPath); err != nil {
		return 0, fmt.Errorf("%v; output:\n%s", err, p.Tail())
	}
	return msf(time.Since(t)), nil
}

func readOneByte(path string) error {
	conn, err := net.DialTimeout("unix", path, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var buf [1]byte
	_, err = conn.Read(buf[:])
	return err
}

type fpResult struct {
	binSize                   int64
	idle                      []idleFig
	floodPeakKiB, floodEndKiB int64
	floodBaseKiB              int64
	floodCPU                  float64 // gosd CPU seconds per wall second during the flood
	floodRates                []float64
	floodMaxWriteMs           []float64
	floodMaxFill              []int64 // bytes unread in a writer's pipe, at most
	floodWindow               time.Duration
	notes                     []string
}

type idleFig struct {
	n           int
	rssKiB      int64
	vol, nonvol int64
	threads     int
	window      time.Duration
}

func footprint(c config, b bins, work string) *fpResult {
	res := &fpResult{floodWindow: c.floodFor}
	if st, err := os.Stat(b.gosd); err == nil {
		res.binSize = st.Size()
	}
	for _, n := range []int{10, 1000} {
		dir := filepath.Join(work, fmt.Sprintf("idle-%d", n))
		units := filepath.Join(dir, "units")
		run := filepath.Join(dir, "run")
		check(os.MkdirAll(run, 0o755))
		check(writeFiles(units, unitFiles(genTree("flat", "simple", n, c.seed, b.helper), nil)))
		p, err := startProc(gosdArgs(b, units, run), gosdMarker)
		check(err)
		if _, err := p.waitReady(60 * time.Second); err != nil {
			p.kill()
			res.notes = append(res.notes, fmt.Sprintf("idle N=%d: %v", n, firstLines(err.Error(), 8)))
			continue
		}
		time.Sleep(2 * time.Second)
		pid := p.cmd.Process.Pid
		f := idleFig{n: n, rssKiB: rssKiB(pid), window: c.idleWindow}
		v0, nv0, _ := ctxSwitches(pid)
		time.Sleep(c.idleWindow)
		v1, nv1, th := ctxSwitches(pid)
		f.vol, f.nonvol, f.threads = v1-v0, nv1-nv0, th
		if r := rssKiB(pid); r > f.rssKiB {
			f.rssKiB = r
		}
		res.idle = append(res.idle, f)
		progress("idle N=%d: RSS %d KiB, %d voluntary + %d involuntary switches in %v over %d threads", n, f.rssKiB, f.vol, f.nonvol, c.idleWindow, th)
		if _, err := p.stop(60 * time.Second); err != nil {
			res.notes = append(res.notes, fmt.Sprintf("idle N=%d stop: %v", n, err))
		}
	}
	// Log flood.
	dir := filepath.Join(work, "flood")
	units := filepath.Join(dir, "units")
	run := filepath.Join(dir, "run")
	check(os.MkdirAll(run, 0o755))
	files := map[string]string{}
	var wants []string
	for i := 0; i < c.floodSvcs; i++ {
		name := fmt.Sprintf("flood%d.service", i)
		wants = append(wants, name)
		files[name] = fmt.Sprintf("[Service]\nExecStart=%s flood %d %s\n", b.helper, c.floodRate, filepath.Join(run, fmt.Sprintf("flood%d.stats", i)))
	}
	files["default.target"] = "[Unit]\nDescription=Benchmark target\nWants=" + strings.Join(wants, " ") + "\n"
	check(writeFiles(units, files))
	p, err := startProc(gosdArgs(b, units, run), gosdMarker)
	check(err)
	if _, err := p.waitReady(30 * time.Second); err != nil {
		p.kill()
		res.notes = append(res.notes, "flood: "+firstLines(err.Error(), 8))
		return res
	}
	pid := p.cmd.Process.Pid
	res.floodBaseKiB = rssKiB(pid)
	cpu0, t0 := cpuTicks(pid), time.Now()
	for time.Since(t0) < c.floodFor {
		time.Sleep(200 * time.Millisecond)
		if r := rssKiB(pid); r > res.floodPeakKiB {
			res.floodPeakKiB = r
		}
	}
	cpu1 := cpuTicks(pid)
	res.floodCPU = float64(cpu1-cpu0) / 100 / time.Since(t0).Seconds() // USER_HZ is 100 on Linux
	res.floodEndKiB = rssKiB(pid)
	time.Sleep(600 * time.Millisecond) // let the helpers write their last stats
	for i := 0; i < c.floodSvcs; i++ {
		data, err := os.ReadFile(filepath.Join(run, fmt.Sprintf("flood%d.stats", i)))
		if err != nil {
			res.notes = append(res.notes, fmt.Sprintf("flood%d: no stats: %v", i, err))
			continue
		}
		var lines, us, maxus, fill int64
		fmt.Sscan(string(data), &lines, &us, &maxus, &fill)
		res.floodMaxFill = append(res.floodMaxFill, fill)
		if us > 0 {
			res.floodRates = append(res.floodRates, float64(lines)/(float64(us)/1e6))
			res.floodMaxWriteMs = append(res.floodMaxWriteMs, float64(maxus)/1000)
		}
	}
	if _, err := p.stop(30 * time.Second); err != nil {
		res.notes = append(res.notes, "flood stop: "+err.Error())
	}
	progress("flood: %d services x %d lines/s for %v: gosd RSS %d -> peak %d KiB, CPU %.2f cores, achieved %v lines/s, max write() %v ms, max pipe fill %v bytes",
		c.floodSvcs, c.floodRate, c.floodFor, res.floodBaseKiB, res.floodPeakKiB, res.floodCPU, res.floodRates, res.floodMaxWriteMs, res.floodMaxFill)
	return res
}

func msf(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func firstLines(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

func progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func check(err error) {
	if err != nil {
		fatal("%v", err)
	}
}

func fatal(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(1)
}

var _ = runtime.NumCPU
var _ = syscall.Getpid
var _ spec.Tree
