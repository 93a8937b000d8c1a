package integration

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The cgroup limits test boots gosd as the kernel's init, where it mounts
// a pure cgroup v2 hierarchy with every controller (nothing mounts v1, so
// the kernel needs no cgroup_no_v1= or systemd.unified_cgroup_hierarchy=
// word), and proves from the serial console that resource settings and
// OOM handling work on a real kernel: the host's hybrid hierarchy has no
// controllers, so elsewhere they are only unit-tested.

// qemucgInitramfs writes an initramfs with initBin as /init (and as
// /bin/gosdctl), cgtool, busybox, and testdata/qemucg/rootfs.
func qemucgInitramfs(t *testing.T, initBin, cgtool string) string {
	if !qemuIsStatic(initBin) || !qemuIsStatic(cgtool) {
		t.Fatalf("%s or %s is not static", initBin, cgtool)
	}
	out := filepath.Join(t.TempDir(), "initramfs-cg.cpio")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	c := &cpioWriter{w: bw}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "bin", "sbin", "etc", "etc/gosd", "etc/gosd/units"} {
		c.dir(d)
	}
	// See qemuInitramfs: Go's runtime needs /dev/console for init's stdio.
	c.entry("dev/console", syscall.S_IFCHR|0o600, 5, 1, nil)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c.file("init", 0o755, read(initBin))
	c.symlink("bin/gosdctl", "/init")
	c.file("bin/cgtool", 0o755, read(cgtool))
	c.file("bin/busybox", 0o755, read(qemuBusybox(t)))
	for _, applet := range []string{"sh", "sleep", "echo", "cat", "kill", "grep", "sed", "true"} {
		c.symlink("bin/"+applet, "busybox")
	}
	c.file("etc/machine-id", 0o444, nil)
	if err := c.tree(filepath.Join("testdata", "qemucg", "rootfs"), map[string]bool{"bin": true, "etc": true, "etc/gosd": true, "etc/gosd/units": true}); err != nil {
		t.Fatal(err)
	}
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// qemucgLine returns the first submatch of re on the console, failing
// the test when it is missing.
func qemucgLine(t *testing.T, console, re string) []string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(console)
	if m == nil {
		t.Errorf("console lacks a line matching %q", re)
		return nil
	}
	return m
}

// qemucgBytes parses status' Memory figure ("20.3M") to bytes.
func qemucgBytes(s string) float64 {
	mult := map[byte]float64{'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}[s[len(s)-1]]
	v, _ := strconv.ParseFloat(strings.TrimRight(s, "KMGB"), 64)
	if mult == 0 {
		mult = 1
	}
	return v * mult
}

// TestQemuCgroupLimits: MemoryMax= ends a hog with result oom-kill,
// TasksMax= holds a fork loop at 10 tasks, the unit's cgroup files hold
// what gosd wrote, and status shows real Memory/Tasks/CPU figures.
func TestQemuCgroupLimits(t *testing.T) {
	needRoot(t)
	kernel := qemuKernel(t)
	cgtool := filepath.Join(t.TempDir(), "cgtool")
	build := exec.Command("go", "build", "-o", cgtool, "./testdata/qemucg/cgtool")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cgtool: %v\n%s", err, out)
	}
	vm := qemuBoot(t, kernel, qemucgInitramfs(t, gosdBin, cgtool), "gosd.unit=qemucg.target")
	deadline := time.Now().Add(qemuBudget)
	vm.waitFor("Run /init as init process", deadline)
	target := vm.waitFor("Reached target qemucg.target", deadline)
	vm.waitFor("REPORT-END", deadline)
	off := vm.waitExit(deadline)
	console := vm.output()
	t.Logf("boot to target %.1fs, boot to power-off %.1fs", target.Seconds(), off.Seconds())

	// gosd's own account of the hierarchy: every controller the units need.
	if m := qemucgLine(t, console, `cgroups: using cgroup v2, units in (\S+)/<slice>/<unit>; controllers for units: ([^\n]*)`); m != nil {
		for _, c := range []string{"memory", "pids", "cpu"} {
			if !strings.Contains(" "+m[2]+" ", " "+c+" ") {
				t.Errorf("controller %s not offered to units: %q", c, m[2])
			}
		}
	}
	if strings.Contains(console, "NOT applied") {
		t.Errorf("gosd warned that resource settings were not applied")
	}

	// (1) MemoryMax=50M: the hog saw the limit, was OOM-killed before
	// 200 MB, and gosd failed the unit with result oom-kill.
	qemucgLine(t, console, `MEMHOG cgroup=/system.slice/memhog.service memory.max=52428800\n`)
	if strings.Contains(console, "MEMHOG survived") {
		t.Error("the hog allocated 200 MB under MemoryMax=50M")
	}
	last := 0
	for _, m := range regexp.MustCompile(`MEMHOG allocated (\d+) MB memory.current=(\d+)`).FindAllStringSubmatch(console, -1) {
		last, _ = strconv.Atoi(m[1])
		if cur, _ := strconv.Atoi(m[2]); cur > 50<<20 {
			t.Errorf("memhog's memory.current %d above MemoryMax=50M", cur)
		}
	}
	if last == 0 || last > 50 {
		t.Errorf("the hog's last step was %d MB, want 10..50", last)
	}
	t.Logf("memhog: last step %d MB before the OOM kill", last)
	qemucgLine(t, console, `REPORT memhog Result=oom-kill\n`)
	qemucgLine(t, console, `REPORT memhog ActiveState=failed\n`)
	qemucgLine(t, console, `memhog.service[^\n]*killed by the OOM killer`)

	// (2) TasksMax=10: fork fails with EAGAIN in the shell; the cgroup
	// never holds more than 10 tasks, and the kernel counted the refusals.
	qemucgLine(t, console, `FORK cgroup=/system.slice/forkbomb.service pids.max=10\n`)
	if strings.Contains(console, "FORK-NO-LIMIT") {
		t.Error("the fork loop forked 30 times under TasksMax=10")
	}
	qemucgLine(t, console, `can't fork: Resource temporarily unavailable`)
	started := 0
	for _, m := range regexp.MustCompile(`FORK started (\d+)`).FindAllStringSubmatch(console, -1) {
		started, _ = strconv.Atoi(m[1])
	}
	if m := qemucgLine(t, console, `FORK-RESULT pids.current=(\d+) pids.events.max=(\d+)`); m != nil {
		cur, _ := strconv.Atoi(m[1])
		events, _ := strconv.Atoi(m[2])
		if cur > 10 || cur < started {
			t.Errorf("pids.current %d after %d sleeps started, want %d..10", cur, started, started)
		}
		if events < 1 {
			t.Errorf("pids.events max %d: the kernel refused no fork", events)
		}
		t.Logf("forkbomb: %d sleeps started, pids.current %d, pids.events max %d", started, cur, events)
	}
	// Two shells and the sleeps: the limit leaves room for 8.
	if started != 8 {
		t.Errorf("%d sleeps started under TasksMax=10 with two shells, want 8", started)
	}

	// (3) The files of holder's cgroup hold what gosd wrote.
	qemucgLine(t, console, `REPORT holder cgroup=/system.slice/holder.service\n`)
	for _, want := range []string{
		"REPORT holder memory.max=67108864\n",
		"REPORT holder memory.high=62914560\n",
		"REPORT holder pids.max=64\n",
		"REPORT holder cpu.weight=50\n",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", strings.TrimSpace(want))
		}
	}

	// (4) status of the running holder: real figures from the kernel.
	begin, end := strings.Index(console, "REPORT-STATUS-BEGIN"), strings.Index(console, "REPORT-STATUS-END")
	if begin < 0 || end < begin {
		t.Fatal("no status of holder.service on the console")
	}
	status := console[begin:end]
	t.Logf("status holder.service:\n%s", status)
	if m := qemucgLine(t, status, `Tasks: (\d+)`); m != nil {
		if n, _ := strconv.Atoi(m[1]); n < 1 || n > 64 {
			t.Errorf("Tasks: %d", n)
		}
	}
	if m := qemucgLine(t, status, `Memory: (\d+\.\d[KMG])`); m != nil {
		if b := qemucgBytes(m[1]); b < 18<<20 || b > 64<<20 {
			t.Errorf("Memory: %s, want 18M..64M (holder touched 20 MB)", m[1])
		}
	}
	qemucgLine(t, status, `CPU: \d`)
	qemucgLine(t, status, `CGroup: /system.slice/holder.service`)

	// (5) lim.slice's settings are in the slice's own cgroup, not its
	// member's, and bind the member: of 20 forks, the two shells leave
	// room for 3 under the slice's TasksMax=5.
	qemucgLine(t, console, `SLICE cgroup=/lim.slice pids.max=5 memory.max=83886080 cpu.weight=30 member.pids.max=max\n`)
	if strings.Contains(console, "SLICEFORK-NO-LIMIT") {
		t.Error("the member of lim.slice forked 20 times under the slice's TasksMax=5")
	}
	sliceStarted := 0
	for _, m := range regexp.MustCompile(`SLICEFORK started (\d+)`).FindAllStringSubmatch(console, -1) {
		sliceStarted, _ = strconv.Atoi(m[1])
	}
	if sliceStarted != 3 {
		t.Errorf("%d sleeps started in lim.slice under TasksMax=5 with two shells, want 3", sliceStarted)
	}
	if m := qemucgLine(t, console, `SLICEFORK-RESULT pids.current=(\d+)`); m != nil {
		if cur, _ := strconv.Atoi(m[1]); cur > 5 {
			t.Errorf("lim.slice's pids.current %d above TasksMax=5", cur)
		}
	}
	t.Logf("slicefork: %d sleeps started under lim.slice's TasksMax=5", sliceStarted)
	// status of the slice: active (its member pulled it in), with the
	// slice's figures and its member's processes in the CGroup: tree.
	if b, e := strings.Index(console, "REPORT-SLICE-BEGIN"), strings.Index(console, "REPORT-SLICE-END"); b < 0 || e < b {
		t.Error("no status of lim.slice on the console")
	} else {
		st := console[b:e]
		t.Logf("status lim.slice:\n%s", st)
		qemucgLine(t, st, "Active: (\x1b\\[[0-9;]*m)?active")
		qemucgLine(t, st, `Tasks: [1-5]\b`)
		qemucgLine(t, st, `Memory: \d`)
		qemucgLine(t, st, `CGroup: /lim\.slice\s+└─slicefork\.service\s+(├|└)─ *\d+ sleep 60`)
	}

	if !strings.Contains(console, "reboot: Power down") {
		t.Error("no orderly power-off")
	}
	if strings.Contains(console, "Kernel panic") {
		t.Error("kernel panic")
	}
}
