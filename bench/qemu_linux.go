package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// The qemu peer suite: the generated trees booted in the Debian image of
// the Debian boot test (integration/debian_test.go), same kernel and qemu
// settings (TCG, one vCPU, 2 GiB), under systemd 252, gosd and the floor,
// from the kernel's start to the tree's target. This file writes the trees
// and the plan, runs integration's TestDebianBench (which owns the image and
// the boot), and renders its results; docs/bench-qemu.json keeps the last
// results so that every regeneration of benchmarks.md quotes them.

const (
	qemuHelper  = "/usr/local/bin/bench-helper"
	qemuFloor   = "/usr/local/bin/bench-floor"
	qemuResults = "bench-qemu.json"
	qemuHeading = "## Peers in qemu"
	pid1Heading = "## PID1 peers"
)

// qemuDefaultTrees: every shape and type at N=100, and the shapes with
// oneshot and simple at N=1000 (notify at N=1000 left out: a Go helper
// start per service, ~20 minutes of TCG per boot set).
func qemuDefaultTrees() []string {
	var out []string
	for _, name := range qemuAllTrees() {
		if !strings.HasSuffix(name, "-notify-1000") {
			out = append(out, name)
		}
	}
	return out
}

// qemuAllTrees: every shape and type at N=100 and 1000, in the order of
// the section's table.
func qemuAllTrees() []string {
	var out []string
	for _, n := range []int{100, 1000} {
		for _, shape := range []string{"flat", "chain", "dag"} {
			for _, typ := range []string{"oneshot", "simple", "notify"} {
				out = append(out, fmt.Sprintf("%s-%s-%d", shape, typ, n))
			}
		}
	}
	return out
}

// qemuMeta is what docs/bench-qemu.json says besides the boots.
type qemuMeta struct {
	Date, Commit, Command, Machine string
	LoadBefore, LoadAfter          string
	Runs                           int
	QemuArgs                       []string
	Cmdline                        map[string]string `json:",omitempty"`
	Trees                          []string
	Boots                          []qemuBoot
	Notes                          []string `json:",omitempty"` // what was seen in this run, by hand
	// Merges: one line per run merged in since (-qemu-merge), which
	// replaced its trees' boots under its inits and kept the others.
	Merges []string `json:",omitempty"`
}

// qemuBoot mirrors integration's benchBoot.
type qemuBoot struct {
	Tree   string  `json:"tree"`
	Init   string  `json:"init"`
	Run    int     `json:"run"`
	Order  int     `json:"order"`
	Uptime float64 `json:"uptime"`
	Exec   float64 `json:"exec"`
	Host   float64 `json:"host"`
	PID1   int     `json:"pid1"`
	Busy   int     `json:"busy"`
	Idle   int     `json:"idle"`
	Units  string  `json:"units"`
	Load   string  `json:"load"`
	Error  string  `json:"error,omitempty"`
	Commit string  `json:"commit,omitempty"`    // the commit gosd and the floor were built from
	Memory int     `json:"memory_mb,omitempty"` // the guest's memory, MiB (0: 2048, before boots said it)
	Date   string  `json:"date,omitempty"`      // when the boot started, UTC
}

// qemuTreeFiles is one tree's overlay on the image: the units (bench.target
// wants every service and the report), the report script, the floor's init
// script, the floor's spec, and the floor and helper binaries.
func qemuTreeFiles(shape, typ string, n int, seed int64) (map[string]string, error) {
	tree := genTree(shape, typ, n, seed, qemuHelper)
	report := "[Unit]\nDescription=bench: report the time to bench.target, then power off\nAfter=bench.target\n\n[Service]\nExecStart=/usr/local/sbin/bench-report\n"
	out := map[string]string{}
	for name, body := range unitFiles(tree, map[string]string{
		"default.target":       "Wants=bench-report.service\nAllowIsolate=yes\n",
		"bench-report.service": report,
	}) {
		if name == "default.target" {
			name = "bench.target"
		}
		// DefaultDependencies=no: the target is the tree, not Debian's
		// sysinit.target (journald, udev, ...): as on the host, where
		// the tree is all there is.
		body = strings.Replace(body, "[Unit]\n", "[Unit]\nDefaultDependencies=no\n", 1)
		out["etc/systemd/system/"+name] = body
	}
	spec, err := json.Marshal(tree)
	if err != nil {
		return nil, err
	}
	out["bench/spec.json"] = string(spec)
	out["usr/local/sbin/bench-report"] = qemuReportScript
	out["sbin/bench-floor-init"] = qemuFloorInit
	return out, nil
}

// qemuReportScript runs when the target is reached (under the floor: when
// the floor says "all up"): the uptime first, then the CPU so far, then the
// generated services by state (what the init says), then power-off at once.
const qemuReportScript = `#!/bin/sh
# bench-report [INIT]: the time to the target, from the kernel's start.
exec >/dev/console 2>&1
read up idle </proc/uptime
cpu=$(head -n 1 /proc/stat)
pid1=$(cut -d' ' -f14,15 /proc/1/stat)
init=${1:-unknown}
case "$(readlink /proc/1/exe)" in
*/gosd) init=gosd ;;
*/systemd) init=systemd ;;
esac
echo "GOSD-REPORT uptime=$up init=$init"
echo "GOSD-CPU $cpu pid1 $pid1"
case $init in
gosd) list() { /sbin/gosd ctl list-units --all --no-pager --full; } ;;
systemd) list() { systemctl list-units --all --no-pager --full --plain; } ;;
*) list() { :; } ;;
esac
echo "GOSD-UNITS $(list | grep -o 'b[0-9]\{4\}\.service  *[a-z-]*  *[a-z-]*' | awk '{print $3}' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')"
echo GOSD-POWEROFF
exec busybox poweroff -f
`

// qemuFloorInit is the floor as init: the kernel starts this shell script,
// which mounts /proc and runs bench/floor on the same tree (same processes,
// same ordering and readiness, nothing else); its "all up" starts the report.
// If the floor ends without "all up" (killed: out of memory), the report
// says so at once instead of timing a floor that did not finish.
const qemuFloorInit = `#!/bin/sh
mount -t proc proc /proc
` + qemuFloor + ` /bench/spec.json /run/bench-floor.sock | {
	read line
	[ "$line" = "floor: all up" ] || exec /usr/local/sbin/bench-report floor-failed
	exec /usr/local/sbin/bench-report floor
}
`

// qemuTreeMemory is the guest's memory for a tree, MiB: the Debian boot
// test's 2 GiB, but 8 GiB for notify trees of more than 300 services,
// whose Go helpers hold ~4.3 MB of anonymous memory each (1000 of them
// in 2 GiB: the kernel killed helpers under every init, and the floor).
// A tree's boots are compared among themselves only, at one size.
func qemuTreeMemory(typ string, n int) int {
	if typ == "notify" && n > 300 {
		return 8192
	}
	return 2048
}

// bootMemory is a boot's guest memory, MiB (results from before boots
// said it were all booted with 2 GiB).
func bootMemory(b qemuBoot) int {
	if b.Memory == 0 {
		return 2048
	}
	return b.Memory
}

// qemuSuite writes the trees and the plan, runs TestDebianBench and returns
// its results (also written to docs/bench-qemu.json).
func qemuSuite(c config, b bins, work string) *qemuMeta {
	dir := filepath.Join(work, "qemu")
	meta := &qemuMeta{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Commit: gitCommit(), Runs: c.qemuRuns, QemuArgs: c.qemuArgs, Cmdline: c.qemuCmdline,
		Command: "go run ./bench " + strings.Join(os.Args[1:], " "), LoadBefore: loadavg()}
	cpu, kernel := machine()
	meta.Machine = fmt.Sprintf("%d CPUs (nproc), %s, host %s", runtime.NumCPU(), cpu, kernel)
	type planTree struct {
		Name    string `json:"name"`
		Overlay string `json:"overlay"`
		N       int    `json:"n"`
		Type    string `json:"type"`
		Memory  int    `json:"memory_mb"`
	}
	var trees []planTree
	for _, name := range c.qemuTrees {
		var shape, typ string
		var n int
		if _, err := fmt.Sscanf(strings.ReplaceAll(name, "-", " "), "%s %s %d", &shape, &typ, &n); err != nil {
			fatal("-qemu-trees: %q is not SHAPE-TYPE-N", name)
		}
		files, err := qemuTreeFiles(shape, typ, n, c.seed)
		check(err)
		root := filepath.Join(dir, name)
		for rel, body := range files {
			mode := os.FileMode(0o644)
			if strings.Contains(rel, "sbin/") {
				mode = 0o755
			}
			check(os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755))
			check(os.WriteFile(filepath.Join(root, rel), []byte(body), mode))
		}
		for dst, src := range map[string]string{qemuFloor: b.floor, qemuHelper: b.helper} {
			data, err := os.ReadFile(src)
			check(err)
			check(os.MkdirAll(filepath.Join(root, filepath.Dir(dst)), 0o755))
			check(os.WriteFile(filepath.Join(root, dst), data, 0o755))
		}
		trees = append(trees, planTree{Name: name, Overlay: root, N: n, Type: typ, Memory: qemuTreeMemory(typ, n)})
		meta.Trees = append(meta.Trees, name)
	}
	results := filepath.Join(dir, "results.json")
	plan, _ := json.MarshalIndent(map[string]any{"gosd": b.gosd, "results": results, "runs": c.qemuRuns, "commit": meta.Commit,
		"budget": c.qemuBudget.String(), "trees": trees, "inits": c.qemuInits, "qemu_args": c.qemuArgs, "cmdline": c.qemuCmdline}, "", "  ")
	planPath := filepath.Join(dir, "plan.json")
	check(os.WriteFile(planPath, plan, 0o644))
	// The run without its boots: with results.json (written after every
	// boot) a run cut short can still be merged (-qemu-merge-from DIR).
	data, err := json.MarshalIndent(meta, "", "  ")
	check(err)
	check(os.WriteFile(filepath.Join(dir, "meta.json"), data, 0o644))
	inits := len(c.qemuInits)
	if inits == 0 {
		inits = 3
	}
	progress("qemu: %d trees × %d runs × %d inits (plan %s)", len(trees), c.qemuRuns, inits, planPath)
	timeout := time.Duration(len(trees)*c.qemuRuns*inits)*c.qemuBudget + 10*time.Minute
	cmd := exec.Command("go", "test", "-count=1", "-run", "^TestDebianBench$", "-v", "-timeout", timeout.String(), "./integration/")
	cmd.Env = append(os.Environ(), "GOSD_DEBIAN_BENCH="+planPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		progress("qemu: TestDebianBench: %v (failed boots are listed in the report)", err)
	}
	meta.LoadAfter = loadavg()
	data, err = os.ReadFile(results)
	check(err)
	check(json.Unmarshal(data, &meta.Boots))
	return meta
}

// readQemuRun reads the run kept in dir (bench -qemu -keep: WORK/qemu),
// finished or cut short: its meta.json and the boots of its results.json.
func readQemuRun(dir string) (*qemuMeta, error) {
	var m qemuMeta
	data, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	data, err = os.ReadFile(filepath.Join(dir, "results.json"))
	if err == nil {
		err = json.Unmarshal(data, &m.Boots)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if m.LoadAfter == "" {
		m.LoadAfter = "?"
	}
	return &m, nil
}

// stampBoots gives each boot that does not say it the run's commit and
// date (results written before boots recorded them).
func stampBoots(m *qemuMeta) {
	for i := range m.Boots {
		if m.Boots[i].Commit == "" {
			m.Boots[i].Commit = m.Commit
		}
		if m.Boots[i].Date == "" {
			m.Boots[i].Date = m.Date
		}
	}
}

// mergeQemu returns old with the boots of add in place of old's boots of
// the same tree and init; old's other boots, its notes and its first run's
// description are kept, and the merge is added to Merges. Boots measured
// with other qemu arguments or kernel command lines are not comparable and
// are refused.
func mergeQemu(old, add *qemuMeta) (*qemuMeta, error) {
	if !slices.Equal(old.QemuArgs, add.QemuArgs) || !maps.Equal(old.Cmdline, add.Cmdline) {
		return nil, fmt.Errorf("the new boots ran with qemu arguments %q and kernel command line %v, the old ones with %q and %v: not comparable (boot every init of those trees, without merging)",
			add.QemuArgs, add.Cmdline, old.QemuArgs, old.Cmdline)
	}
	out := *old
	oldBoots := slices.Clone(old.Boots)
	stampBoots(&qemuMeta{Boots: oldBoots, Commit: old.Commit, Date: old.Date})
	newBoots := slices.Clone(add.Boots)
	stampBoots(&qemuMeta{Boots: newBoots, Commit: add.Commit, Date: add.Date})
	replaced := map[[2]string]bool{}
	var inits []string
	for _, b := range newBoots {
		replaced[[2]string{b.Tree, b.Init}] = true
		if !slices.Contains(inits, b.Init) {
			inits = append(inits, b.Init)
		}
	}
	for _, b := range newBoots {
		for _, o := range oldBoots {
			if o.Tree == b.Tree && !replaced[[2]string{o.Tree, o.Init}] && bootMemory(o) != bootMemory(b) {
				return nil, fmt.Errorf("%s: the new %s boot had %d MiB, the kept %s boot %d MiB: not comparable (boot every init of that tree)",
					b.Tree, b.Init, bootMemory(b), o.Init, bootMemory(o))
			}
		}
	}
	// The trees of both, in the table's order (others after, as given).
	var trees []string
	for _, t := range append(qemuAllTrees(), append(slices.Clone(old.Trees), add.Trees...)...) {
		if !slices.Contains(trees, t) && (slices.Contains(old.Trees, t) || slices.Contains(add.Trees, t)) {
			trees = append(trees, t)
		}
	}
	out.Trees, out.Boots = trees, nil
	for _, t := range trees {
		for _, b := range oldBoots {
			if b.Tree == t && !replaced[[2]string{b.Tree, b.Init}] {
				out.Boots = append(out.Boots, b)
			}
		}
		for _, b := range newBoots {
			if b.Tree == t {
				out.Boots = append(out.Boots, b)
			}
		}
	}
	out.Runs = max(old.Runs, add.Runs)
	line := fmt.Sprintf("%s, commit %s: `%s` booted %s on %s (host load before %s, after %s)",
		add.Date, add.Commit, add.Command, strings.Join(inits, ", "), strings.Join(add.Trees, ", "), add.LoadBefore, add.LoadAfter)
	if len(newBoots) == 0 {
		line += "; no boot finished"
	}
	if add.Machine != old.Machine {
		line += "; host " + add.Machine
	}
	out.Merges = append(slices.Clone(old.Merges), line)
	return &out, nil
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// readQemu reads the last results, if any.
func readQemu(dir string) *qemuMeta {
	data, err := os.ReadFile(filepath.Join(dir, qemuResults))
	if err != nil {
		return nil
	}
	var m qemuMeta
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	return &m
}

// writeQemuSection replaces the qemu section of dir/benchmarks.md (or
// inserts it before the PID1 peers) and writes its plots.
func writeQemuSection(dir string, m *qemuMeta) {
	md, _ := os.ReadFile(filepath.Join(dir, "benchmarks.md"))
	out := spliceSection(string(md), qemuHeading, pid1Heading, m.section(dir))
	check(os.WriteFile(filepath.Join(dir, "benchmarks.md"), []byte(out), 0o644))
	progress("wrote the qemu section of %s", filepath.Join(dir, "benchmarks.md"))
}

// saveQemu writes a run's results to dir/bench-qemu.json and the section,
// merged into the results there if merge (and there are some).
func saveQemu(dir string, m *qemuMeta, merge bool) {
	if dir == "" {
		return
	}
	if merge {
		if _, err := os.Stat(filepath.Join(dir, qemuResults)); err == nil {
			old := readQemu(dir)
			if old == nil {
				fatal("%s: cannot read it to merge into", filepath.Join(dir, qemuResults))
			}
			merged, err := mergeQemu(old, m)
			check(err)
			m = merged
		}
	}
	writeQemu(dir, m)
	writeQemuSection(dir, m)
}

func writeQemu(dir string, m *qemuMeta) {
	data, err := json.MarshalIndent(m, "", "  ")
	check(err)
	check(os.WriteFile(filepath.Join(dir, qemuResults), append(data, '\n'), 0o644))
}

// qemuRow is one tree's figures: medians of the successful boots, seconds.
type qemuRow struct {
	tree, shape, typ       string
	n                      int
	floor, systemd, gosd   float64
	pidSystemd, pidGosd    float64 // PID1's CPU at the report, s
	idleSystemd, idleGosd  float64 // the guest's idle at the report, s
	nFloor, nSystemd, nGos int
}

func (m *qemuMeta) rows() []qemuRow {
	var out []qemuRow
	for _, name := range m.Trees {
		r := qemuRow{tree: name}
		var shape, typ string
		fmt.Sscanf(strings.ReplaceAll(name, "-", " "), "%s %s %d", &shape, &typ, &r.n)
		r.shape, r.typ = shape, typ
		med := func(init string, f func(qemuBoot) float64) (float64, int) {
			var xs []float64
			for _, b := range m.Boots {
				if b.Tree == name && b.Init == init && b.Error == "" {
					xs = append(xs, f(b))
				}
			}
			return summarize(xs).Median, len(xs)
		}
		up := func(b qemuBoot) float64 { return b.Uptime }
		pid := func(b qemuBoot) float64 { return float64(b.PID1) / 100 }
		idle := func(b qemuBoot) float64 { return float64(b.Idle) / 100 }
		r.floor, r.nFloor = med("floor", up)
		r.systemd, r.nSystemd = med("systemd", up)
		r.gosd, r.nGos = med("gosd", up)
		fpid, _ := med("floor", pid)
		r.pidSystemd, _ = med("systemd", pid)
		r.pidGosd, _ = med("gosd", pid)
		r.pidSystemd -= fpid
		r.pidGosd -= fpid
		r.idleSystemd, _ = med("systemd", idle)
		r.idleGosd, _ = med("gosd", idle)
		out = append(out, r)
	}
	return out
}

// section renders the "Peers in qemu" section of benchmarks.md and writes
// its plots into dir.
func (m *qemuMeta) section(dir string) string {
	var b strings.Builder
	b.WriteString(qemuHeading + ": systemd 252 and gosd as PID1 on the generated trees\n\n")
	b.WriteString("The generated trees above (same generator, seed and shapes; types simple = `/bin/sleep infinity`,\n")
	b.WriteString("notify = `bench-helper notify`, oneshot = `/bin/true`) booted as the whole system in the Debian 12\n")
	b.WriteString("image of the Debian boot test ([debian-boot.md](debian-boot.md): debootstrap minbase + systemd, udev,\n")
	b.WriteString("dbus, ..., as a cpio initramfs, Debian's 6.1 cloud kernel, qemu TCG, one vCPU, 2 GiB, `-cpu\n")
	b.WriteString("qemu64,+rdrand`), with the tree laid over the image (`integration/debian_bench_test.go` boots and\n")
	b.WriteString("measures; `bench/qemu_linux.go` writes the trees). The units are the generated ones in\n")
	b.WriteString("`/etc/systemd/system` plus `DefaultDependencies=no` (the target is the tree, not Debian's\n")
	b.WriteString("sysinit.target: as on the host, where the tree is all there is); `bench.target` wants and is after\n")
	b.WriteString("every service and wants `bench-report.service` (After=bench.target), a shell script that reads\n")
	b.WriteString("`/proc/uptime` first, then the guest's CPU (`/proc/stat`) and PID1's utime+stime\n")
	b.WriteString("(`/proc/1/stat`), lists the generated services by state through the init (`systemctl` /\n")
	b.WriteString("`gosd ctl list-units --all`: every one must be active, or inactive after success for oneshot, none\n")
	b.WriteString("failed, or the boot counts as failed) and powers off (`busybox poweroff -f`). **Time = the guest's\n")
	b.WriteString("uptime at the report: from the kernel's start to the target**, the kernel's own boot and the\n")
	b.WriteString("unpacking of the 138 MB initramfs included (the same for all three).\n\n")
	b.WriteString("- systemd: `rdinit=/lib/systemd/systemd systemd.unit=bench.target` (Debian's systemd 252 as it\n")
	b.WriteString("  comes: its generators, the whole image's units loaded, a cgroup per unit).\n")
	b.WriteString("- gosd: `rdinit=/sbin/gosd systemd.unit=bench.target` (release build of the commit below; per-unit\n")
	b.WriteString("  cgroups on, the default; its status lines on the console).\n")
	b.WriteString("- floor: `rdinit=/sbin/bench-floor-init`, a shell script that mounts /proc and runs `bench/floor`\n")
	b.WriteString("  on the same tree (the host benchmark's floor: fork/exec and wait4 with the same ordering and\n")
	b.WriteString("  readiness, nothing else); its `all up` starts the same report script.\n\n")
	var big []string
	for _, bt := range m.Boots {
		if bootMemory(bt) != 2048 && !slices.Contains(big, bt.Tree) {
			big = append(big, bt.Tree)
		}
	}
	if len(big) > 0 {
		fmt.Fprintf(&b, "%s boot with %d GiB instead of 2 (`qemuTreeMemory`): their 1000 Go helpers hold ~4.3 MB of\n", strings.Join(big, ", "), qemuTreeMemory("notify", 1000)/1024)
		b.WriteString("anonymous memory each, and in 2 GiB the kernel killed helpers under every init, the floor included\n")
		b.WriteString("(2026-12-08; a boot whose console shows the OOM killer now counts as failed). A tree's inits all boot\n")
		b.WriteString("at one size (a merge refuses to mix sizes), and the kernel's work for the larger memory is in all\n")
		b.WriteString("three figures alike (the floor column).\n\n")
	}
	if len(m.Cmdline) > 0 {
		var words []string
		for _, k := range []string{"all", "floor", "systemd", "gosd"} {
			if m.Cmdline[k] != "" {
				words = append(words, k+": `"+m.Cmdline[k]+"`")
			}
		}
		fmt.Fprintf(&b, "Added to the kernel command line (`console=ttyS0 panic=-1 reboot=k`): %s.\n", strings.Join(words, "; "))
		if strings.Contains(m.Cmdline["all"], "quiet") {
			b.WriteString("`quiet` keeps the kernel's messages below error and both inits' status lines but failures off\n")
			b.WriteString("the serial console (gosd honours the word since 2026-12-08; before, it printed every status line,\n")
			b.WriteString("from a goroutine that never holds the loop back). Without it the console's 115200 baud is what\n")
			b.WriteString("gets measured: with no journald in a\n")
			b.WriteString("tree of DefaultDependencies=no units, every service under systemd logs \"Failed to connect stdout\n")
			b.WriteString("to the journal socket, ignoring\" to the kernel log, and the kernel prints each such line on the\n")
			b.WriteString("serial console, busy-waiting on the UART. Measured without `quiet` (2026-12-07, same image and clock):\n")
			b.WriteString("flat-oneshot-1000 under systemd 18.76 s (3.47 s of it idle, waiting on the UART; 300 KB of\n")
			b.WriteString("console), floor 2.85 s; at N=100, flat oneshot/simple/notify: systemd 3.07/3.03/3.18 s, gosd\n")
			b.WriteString("2.26/2.19/2.35 s, floor 2.01/2.01/2.28 s.\n\n")
		}
	}
	if strings.Contains(strings.Join(m.QemuArgs, " "), "icount") {
		fmt.Fprintf(&b, "**The guest's clock counts instructions** (`%s`: one guest instruction is one\n", strings.Join(m.QemuArgs, " "))
		b.WriteString("nanosecond of guest time, and idle time is skipped), so the host's load does not move the figures:\n")
		b.WriteString("every boot reaches its init at the same uptime to the millisecond, and a figure is the number of\n")
		b.WriteString("instructions the guest ran up to the report. What that leaves out: an instruction costs the same\n")
		b.WriteString("whatever it does, so cache misses, TLB refills and the kernel's slower paths weigh less than on\n")
		b.WriteString("real hardware; the guest never waits for I/O (everything is in RAM). Without `-icount` the same\n")
		b.WriteString("boots measured host time, which moved 3x with the other tests on this machine (the floor of\n")
		b.WriteString("flat-oneshot-100 took 6.5 s at load 5 and 20 s at load 12); with it, two boots of flat-oneshot-100\n")
		b.WriteString("at host loads 5 to 47 gave floor 2.01/2.01 s, systemd 3.05/3.07 s, gosd 2.27/2.26 s.\n\n")
	}
	if len(m.Merges) == 0 {
		fmt.Fprintf(&b, "- Date: %s; commit %s; `%s`\n", m.Date, m.Commit, m.Command)
	} else {
		fmt.Fprintf(&b, "- First run: %s; commit %s; `%s`\n", m.Date, m.Commit, m.Command)
		b.WriteString("- Merged since (`-qemu-merge`: each replaced the boots of its trees under its inits and kept the others):\n")
		for _, l := range m.Merges {
			b.WriteString("  - " + l + "\n")
		}
	}
	fmt.Fprintf(&b, "- Host: %s. Host load average (1, 5, 15 min) before: %s, after: %s — other engineers'\n", m.Machine, m.LoadBefore, m.LoadAfter)
	b.WriteString("  tests ran beside it.\n")
	fmt.Fprintf(&b, "- %d run(s) per tree and init, interleaved: each run boots the three inits back to back, rotating\n", m.Runs)
	b.WriteString("  which goes first from tree to tree, so that load falls on each alike. Figures: medians, seconds.\n")
	b.WriteString("- PID1's CPU: utime+stime of `/proc/1/stat` at the report, **less the floor's** in the same tree.\n")
	b.WriteString("  The kernel's own initialisation runs as PID1 before it execs the init and is counted there (the\n")
	b.WriteString("  floor's PID1, a shell that mounts /proc and forks the floor, shows it: ~0.33 s); what is left is the\n")
	b.WriteString("  init's own CPU from its exec to the report, in ticks of 10 ms.\n\n")
	b.WriteString("**Which commit and date each boot comes from** (the commit gosd, the floor and the bench were built\n")
	b.WriteString("from; under the instruction-counted clock the floor's and systemd's boots do not change when only gosd\n")
	b.WriteString("does):\n\n")
	for _, l := range m.bootOrigins() {
		b.WriteString("- " + l + "\n")
	}
	b.WriteString("\n")
	b.WriteString("Ratio = (gosd − floor) / (systemd − floor): the init's own time above the floor, against systemd's.\n")
	b.WriteString("Goals (issue 14): ≤ 0.3 at N=1000; PID1's own CPU at the report ≤ 1/3 of systemd's.\n\n")
	var rows [][]string
	for _, r := range m.rows() {
		ratio := (r.gosd - r.floor) / (r.systemd - r.floor)
		cpu := r.pidGosd / r.pidSystemd
		goal, cpuGoal := "—", "—"
		if r.n >= 1000 && !math.IsNaN(ratio) {
			goal = verdict(ratio <= 0.3)
		}
		if !math.IsNaN(cpu) {
			cpuGoal = verdict(cpu <= 1.0/3)
		}
		rows = append(rows, []string{r.shape, r.typ, fmt.Sprint(r.n), fmt.Sprintf("%d/%d/%d", r.nFloor, r.nSystemd, r.nGos),
			secs(r.floor), secs(r.systemd), secs(r.gosd), secs(r.systemd - r.floor), secs(r.gosd - r.floor),
			secs(ratio), goal, secs(r.pidSystemd), secs(r.pidGosd), secs(cpu), cpuGoal,
			secs(r.idleSystemd) + " / " + secs(r.idleGosd)})
	}
	b.WriteString(table([]string{"shape", "type", "N", "boots floor/systemd/gosd", "floor", "systemd", "gosd", "systemd − floor", "gosd − floor",
		"ratio", "≤ 0.3 (N=1000)", "PID1 CPU systemd", "PID1 CPU gosd", "CPU gosd/systemd", "≤ 1/3", "guest idle systemd / gosd"}, rows))
	var fails []string
	for _, bt := range m.Boots {
		if bt.Error != "" {
			fails = append(fails, fmt.Sprintf("%s under %s (run %d): %s", bt.Tree, bt.Init, bt.Run, bt.Error))
		}
	}
	if len(fails) > 0 {
		b.WriteString("\nFailed boots (excluded from the figures):\n\n```\n" + strings.Join(fails, "\n") + "\n```\n")
	}
	if len(m.Notes) > 0 {
		b.WriteString("\nNotes on this run:\n\n")
		for _, n := range m.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	var left []string
	have := map[string]bool{}
	for _, t := range m.Trees {
		have[t] = true
	}
	for _, name := range qemuAllTrees() {
		if !have[name] {
			left = append(left, name)
		}
	}
	if len(left) > 0 {
		fmt.Fprintf(&b, "\nNot booted: %s.\n", strings.Join(left, ", "))
	}
	b.WriteString("\nEvery boot (the uptime at the report, s; PID1's CPU and the guest's busy/idle ticks of 10 ms at the\n")
	b.WriteString("report; the host's load average when the boot started):\n\n")
	var brows [][]string
	for _, bt := range m.Boots {
		up := secs(bt.Uptime)
		if bt.Error != "" {
			up = "failed"
			if bt.Uptime > 0 {
				up = "failed (" + secs(bt.Uptime) + ")"
			}
		}
		brows = append(brows, []string{bt.Tree, fmt.Sprint(bt.Run), fmt.Sprint(bt.Order + 1), bt.Init, up, fmt.Sprint(bt.PID1),
			fmt.Sprintf("%d / %d", bt.Busy, bt.Idle), bt.Units, bt.Load, fmt.Sprint(bootMemory(bt)), bt.Commit, bt.Date})
	}
	b.WriteString("<details><summary>" + fmt.Sprint(len(brows)) + " boots</summary>\n\n")
	b.WriteString(table([]string{"tree", "run", "order", "init", "uptime at the report", "PID1 ticks", "busy / idle ticks", "services by state", "host load", "MiB", "commit", "started"}, brows))
	b.WriteString("\n</details>\n\n")
	for _, shape := range []string{"flat", "chain", "dag"} {
		name := "bench-qemu-" + shape + ".svg"
		if m.plot(filepath.Join(dir, name), shape) {
			fmt.Fprintf(&b, "![qemu, %s: time above the floor](%s)\n", shape, name)
		}
	}
	b.WriteString("\n")
	return b.String()
}

// bootOrigins says, init by init, which commit and date its boots come
// from, one line per set of inits whose boots come from the same ones:
// "floor and systemd boots: DATE, commit C (trees); DATE2, commit C2 (the
// other 15 trees)". Boots of one commit are one origin, their dates a range.
func (m *qemuMeta) bootOrigins() []string {
	type origin struct {
		commit       string
		dates, trees []string
	}
	var descs []string
	initsOf := map[string][]string{}
	for _, init := range []string{"floor", "systemd", "gosd"} {
		var origins []*origin
		for _, bt := range m.Boots {
			if bt.Init != init {
				continue
			}
			commit, date := bt.Commit, bt.Date
			if commit == "" {
				commit, date = m.Commit, m.Date
			}
			i := slices.IndexFunc(origins, func(o *origin) bool { return o.commit == commit })
			if i < 0 {
				i = len(origins)
				origins = append(origins, &origin{commit: commit})
			}
			o := origins[i]
			if !slices.Contains(o.dates, date) {
				o.dates = append(o.dates, date)
			}
			if !slices.Contains(o.trees, bt.Tree) {
				o.trees = append(o.trees, bt.Tree)
			}
		}
		if len(origins) == 0 {
			continue
		}
		for _, o := range origins {
			sort.Strings(o.dates)
		}
		sort.SliceStable(origins, func(i, j int) bool { return origins[i].dates[0] < origins[j].dates[0] })
		most := 0
		for i, o := range origins {
			if len(o.trees) > len(origins[most].trees) {
				most = i
			}
		}
		var parts []string
		for i, o := range origins {
			p := dateRange(o.dates) + ", commit " + o.commit
			switch {
			case len(origins) == 1:
				p += fmt.Sprintf(" (%d trees)", len(o.trees))
			case i == most:
				p += fmt.Sprintf(" (the other %d trees)", len(o.trees))
			default:
				p += " (" + strings.Join(o.trees, ", ") + ")"
			}
			parts = append(parts, p)
		}
		desc := strings.Join(parts, "; ")
		if initsOf[desc] == nil {
			descs = append(descs, desc)
		}
		initsOf[desc] = append(initsOf[desc], init)
	}
	var out []string
	for _, d := range descs {
		inits := initsOf[d]
		who := strings.Join(inits, ", ")
		if len(inits) > 1 {
			who = strings.Join(inits[:len(inits)-1], ", ") + " and " + inits[len(inits)-1]
		}
		out = append(out, who+" boots: "+d)
	}
	return out
}

// dateRange writes sorted dates ("2006-01-02 15:04 UTC") as one: the first
// and the last, the day once if it is the same.
func dateRange(dates []string) string {
	first, last := dates[0], dates[len(dates)-1]
	switch {
	case first == last:
		return first
	case len(first) == 20 && len(last) == 20 && first[:11] == last[:11] && strings.HasSuffix(first, " UTC") && strings.HasSuffix(last, " UTC"):
		return first[:16] + "-" + last[11:]
	}
	return first + " to " + last
}

func secs(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f", x)
}

// plot draws each init's time above the floor against N, one line per
// init and type (solid gosd, dashed systemd), in milliseconds.
func (m *qemuMeta) plot(path, shape string) bool {
	var ss []series
	rows := m.rows()
	for _, init := range []string{"systemd", "gosd"} {
		for _, typ := range []string{"oneshot", "simple", "notify"} {
			s := series{Label: init + " " + typ, Color: typeColor[typ], Dashed: init == "systemd"}
			for _, r := range rows {
				if r.shape != shape || r.typ != typ {
					continue
				}
				v := r.gosd
				if init == "systemd" {
					v = r.systemd
				}
				if d := (v - r.floor) * 1000; d > 0 {
					s.X, s.Y = append(s.X, float64(r.n)), append(s.Y, d)
				}
			}
			if len(s.X) > 0 {
				ss = append(ss, s)
			}
		}
	}
	if len(ss) == 0 {
		return false
	}
	check(os.WriteFile(path, []byte(plotLogLogY("qemu: time above the floor — "+shape+" (solid gosd, dashed systemd)",
		"time to target above the floor, ms (median, log)", ss)), 0o644))
	return true
}

// spliceSection replaces the section starting with heading in md (up to
// the next "## "), or inserts it before the heading before.
func spliceSection(md, heading, before, section string) string {
	if i := strings.Index(md, heading); i >= 0 {
		j := strings.Index(md[i+len(heading):], "\n## ")
		if j < 0 {
			return md[:i] + section
		}
		return md[:i] + section + md[i+len(heading)+j+1:]
	}
	if i := strings.Index(md, before); i >= 0 {
		return md[:i] + section + md[i:]
	}
	return md + "\n" + section
}
