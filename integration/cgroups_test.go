package integration

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cgctl runs gosdctl against the instance.
func cgctl(t *testing.T, in *instance, args ...string) string {
	t.Helper()
	cmd := exec.Command(gosdBin, append([]string{"ctl", "--socket", filepath.Join(in.dir, "control.sock")}, args...)...)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// cgroup2Mount finds the cgroup2 mount point from mountinfo (hybrid here:
// /sys/fs/cgroup/unified; never hard-coded).
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				return fields[4]
			}
		}
	}
	t.Fatal("no cgroup2 mount: these tests need cgroup v2")
	return ""
}

// procCgroupDir is the cgroup directory of pid ("" when it is gone).
func procCgroupDir(t *testing.T, pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return filepath.Join(cgroup2Mount(t), p)
		}
	}
	return ""
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	// A zombie (Z) is dead for our purposes.
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func pidFile(t *testing.T, in *instance, name string) int {
	t.Helper()
	var pid int
	in.waitFor("pid in "+name, 10*time.Second, func() bool {
		pid, _ = strconv.Atoi(strings.TrimSpace(in.read(name)))
		return pid > 0
	})
	return pid
}

// cleanupCgroups kills and removes every cgroup gosd made for this test
// (its private root is named after gosd's pid), even when the test failed.
func cleanupCgroups(t *testing.T, in *instance, pids ...*int) {
	mnt := cgroup2Mount(t)
	gosd := in.cmd.Process.Pid
	t.Cleanup(func() {
		for _, p := range pids {
			if *p > 0 {
				syscall.Kill(*p, syscall.SIGKILL)
			}
		}
		matches, _ := filepath.Glob(filepath.Join(mnt, "gosd-*-"+strconv.Itoa(gosd)))
		for _, root := range matches {
			os.WriteFile(filepath.Join(root, "cgroup.kill"), []byte("1"), 0)
			time.Sleep(100 * time.Millisecond)
			removeCgroupTree(root)
			if _, err := os.Stat(root); err == nil {
				t.Errorf("cgroup %s left behind", root)
			}
		}
	})
}

func removeCgroupTree(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			removeCgroupTree(filepath.Join(dir, e.Name()))
		}
	}
	syscall.Rmdir(dir)
}

// A daemon that double-forks and setsid()s (leaving gosd's process group)
// is in the unit's cgroup and fully gone after stop; the cgroup is removed.
func TestCgroupDoubleForkSetsidStopped(t *testing.T) {
	var mainPid, daemon int
	in := start(t, asSubreaper, map[string]string{
		"default.target": "[Unit]\nWants=dbl.service\n",
		"daemon.sh":      "sleep 1000 </dev/null >/dev/null 2>&1 &\necho $! > @T@/daemon.pid\n",
		"main.sh":        "setsid /bin/sh @T@/units/daemon.sh </dev/null >/dev/null 2>&1 &\necho $$ > @T@/main.pid\nexec sleep 1000\n",
		"dbl.service": "[Service]\nExecStartPre=/bin/sh -c 'cat /proc/self/cgroup > @T@/pre.cgroup'\n" +
			"ExecStart=/bin/sh @T@/units/main.sh\n",
	})
	cleanupCgroups(t, in, &mainPid, &daemon)
	in.waitOutput("cgroups: using cgroup v2", 10*time.Second)
	mainPid = pidFile(t, in, "main.pid")
	daemon = pidFile(t, in, "daemon.pid")
	dir := procCgroupDir(t, daemon)
	if !strings.HasSuffix(dir, "/system.slice/dbl.service") || procCgroupDir(t, mainPid) != dir {
		t.Fatalf("daemon in %q, main in %q: want both in .../system.slice/dbl.service", dir, procCgroupDir(t, mainPid))
	}
	if pre := in.read("pre.cgroup"); !strings.Contains(pre, "/system.slice/dbl.service") {
		t.Fatalf("ExecStartPre ran outside the unit's cgroup: %q", pre)
	}
	if sid, _ := syscall.Getpgid(daemon); sid == mainPid {
		t.Fatalf("daemon did not leave the process group")
	}
	if out := cgctl(t, in, "status", "dbl.service"); !strings.Contains(out, "active") {
		t.Fatalf("status: %s", out)
	}
	cgctl(t, in, "stop", "dbl.service")
	in.waitFor("daemon and main dead", 10*time.Second, func() bool { return !alive(daemon) && !alive(mainPid) })
	in.waitFor("cgroup removed", 5*time.Second, func() bool { _, err := os.Stat(dir); return os.IsNotExist(err) })
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(dir))); !os.IsNotExist(err) {
		t.Fatalf("gosd's private cgroup root %s not removed at exit", filepath.Dir(filepath.Dir(dir)))
	}
}

const helperScript = "trap 'echo TERM > @T@/helper-term; exit 0' TERM\necho $$ > @T@/helper.pid\nwhile :; do sleep 0.1; done\n"

func killModeUnit(mode string) map[string]string {
	return map[string]string{
		"default.target": "[Unit]\nWants=km.service\n",
		"helper.sh":      helperScript,
		"km.service": "[Service]\nKillMode=" + mode + "\n" +
			"ExecStart=/bin/sh -c '/bin/sh @T@/units/helper.sh & echo $$$$ > @T@/main.pid; exec sleep 1000'\n" +
			"ExecStopPost=/bin/sh -c 'echo done > @T@/stoppost'\n",
	}
}

// KillMode=process: only the main process is signalled; the helper stays
// (in the cgroup), and the cgroup goes once we end it ourselves.
func TestCgroupKillModeProcess(t *testing.T) {
	var mainPid, helper int
	in := start(t, asSubreaper, killModeUnit("process"))
	cleanupCgroups(t, in, &mainPid, &helper)
	mainPid, helper = pidFile(t, in, "main.pid"), pidFile(t, in, "helper.pid")
	dir := procCgroupDir(t, helper)
	cgctl(t, in, "stop", "km.service")
	in.waitFile("stoppost", 10*time.Second)
	in.waitFor("main dead", 5*time.Second, func() bool { return !alive(mainPid) })
	time.Sleep(300 * time.Millisecond)
	if !alive(helper) || in.read("helper-term") != "" {
		t.Fatalf("KillMode=process: helper alive=%v term=%q, want alive and untouched", alive(helper), in.read("helper-term"))
	}
	if procCgroupDir(t, helper) != dir {
		t.Fatalf("helper moved out of %s", dir)
	}
	syscall.Kill(helper, syscall.SIGKILL)
	in.waitFor("cgroup removed after the leftover died", 5*time.Second, func() bool { _, err := os.Stat(dir); return os.IsNotExist(err) })
	in.stop(20 * time.Second)
}

// KillMode=mixed: SIGTERM to the main process only, then SIGKILL to the
// rest: the helper's TERM trap never runs. control-group (the contrast
// that proves the trap works): the helper gets SIGTERM and writes it.
func TestCgroupKillModeMixed(t *testing.T) {
	for _, mode := range []string{"mixed", "control-group"} {
		t.Run(mode, func(t *testing.T) {
			var mainPid, helper int
			in := start(t, asSubreaper, killModeUnit(mode))
			cleanupCgroups(t, in, &mainPid, &helper)
			mainPid, helper = pidFile(t, in, "main.pid"), pidFile(t, in, "helper.pid")
			cgctl(t, in, "stop", "km.service")
			in.waitFile("stoppost", 10*time.Second)
			// ExecStopPost ran only after every process of the unit was gone.
			if alive(helper) || alive(mainPid) {
				t.Fatalf("ExecStopPost ran while processes remain: main %v helper %v", alive(mainPid), alive(helper))
			}
			term := strings.TrimSpace(in.read("helper-term"))
			if mode == "mixed" && term != "" {
				t.Fatalf("mixed: helper got SIGTERM (%q), want SIGKILL only", term)
			}
			if mode == "control-group" && term != "TERM" {
				t.Fatalf("control-group: helper trap did not see SIGTERM (%q)", term)
			}
			in.stop(20 * time.Second)
		})
	}
}

// MemoryMax= / TasksMax= on this hybrid machine (no v2 memory/pids
// controllers): gosd says clearly that they were not applied. Where the
// controllers exist the limits must be in the files instead.
func TestCgroupResourceSettings(t *testing.T) {
	var mainPid int
	in := start(t, asSubreaper, map[string]string{
		"default.target": "[Unit]\nWants=res.service\n",
		"res.service":    "[Service]\nMemoryMax=50M\nTasksMax=10\nExecStart=/bin/sh -c 'echo $$$$ > @T@/main.pid; exec sleep 1000'\n",
	})
	cleanupCgroups(t, in, &mainPid)
	mainPid = pidFile(t, in, "main.pid")
	dir := procCgroupDir(t, mainPid)
	ctrl, _ := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	have := strings.Fields(string(ctrl))
	has := func(c string) bool {
		for _, h := range have {
			if h == c {
				return true
			}
		}
		return false
	}
	if !has("memory") && !has("pids") {
		in.waitOutput("res.service: warning: resource settings NOT applied", 5*time.Second)
		in.waitOutput("MemoryMax, TasksMax", 5*time.Second)
	} else {
		if b, _ := os.ReadFile(filepath.Join(dir, "memory.max")); has("memory") && strings.TrimSpace(string(b)) != "52428800" {
			t.Fatalf("memory.max %q", b)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "pids.max")); has("pids") && strings.TrimSpace(string(b)) != "10" {
			t.Fatalf("pids.max %q", b)
		}
	}
	in.stop(20 * time.Second)
}

// A slice's settings go to the slice's own cgroup, the parent of its
// members' cgroups: in the files where the controllers exist (the qemu
// test), named as not applied on this hybrid machine, never silent.
func TestCgroupSliceSettings(t *testing.T) {
	var mainPid int
	in := start(t, asSubreaper, map[string]string{
		"default.target": "[Unit]\nWants=member.service\n",
		"lim.slice":      "[Unit]\nDescription=Limits\n",
		"lim-web.slice":  "[Slice]\nMemoryMax=50M\nTasksMax=7\nCPUWeight=30\n",
		"member.service": "[Service]\nSlice=lim-web.slice\nExecStart=/bin/sh -c 'echo $$$$ > @T@/main.pid; exec sleep 1000'\n",
	})
	cleanupCgroups(t, in, &mainPid)
	mainPid = pidFile(t, in, "main.pid")
	dir := procCgroupDir(t, mainPid)
	slice := filepath.Dir(dir)
	if filepath.Base(dir) != "member.service" || filepath.Base(slice) != "lim-web.slice" || filepath.Base(filepath.Dir(slice)) != "lim.slice" {
		t.Fatalf("member's cgroup %s, want .../lim.slice/lim-web.slice/member.service", dir)
	}
	ctrl, _ := os.ReadFile(filepath.Join(slice, "cgroup.controllers"))
	have := strings.Fields(string(ctrl))
	want := map[string][2]string{"memory": {"memory.max", "52428800"}, "pids": {"pids.max", "7"}, "cpu": {"cpu.weight", "30"}}
	var missing []string
	for c, f := range want {
		if !slices.Contains(have, c) {
			missing = append(missing, c)
			continue
		}
		if b, _ := os.ReadFile(filepath.Join(slice, f[0])); strings.TrimSpace(string(b)) != f[1] {
			t.Errorf("%s of the slice reads %q, want %s", f[0], b, f[1])
		}
	}
	if len(missing) > 0 {
		t.Logf("the slice lacks the controllers %v: their settings must be named", missing)
		in.waitOutput("lim-web.slice: warning: resource settings NOT applied", 5*time.Second)
	}
	// The member pulled its slice in (Slice= is Requires= and After=), and
	// status of the slice shows its members as systemctl draws them.
	out := cgctl(t, in, "status", "lim-web.slice")
	rel := strings.TrimPrefix(slice, cgroup2Mount(t))
	tree := regexp.MustCompile(`(?m)^\s+CGroup: ` + regexp.QuoteMeta(rel) + `\n\s+└─member\.service\n\s+└─` + strconv.Itoa(mainPid) + ` sleep 1000\n`)
	if !strings.Contains(out, "Active: active") || !tree.MatchString(out) {
		t.Errorf("status lim-web.slice, want it active with member.service and pid %d under %s:\n%s", mainPid, rel, out)
	}
	t.Logf("status lim-web.slice:\n%s", out)
	if out := cgctl(t, in, "status", "lim.slice"); !strings.Contains(out, "└─lim-web.slice\n") || !strings.Contains(out, "└─member.service\n") {
		t.Errorf("status lim.slice lacks its sub-slice and member:\n%s", out)
	}
	in.waitOutput("[  OK  ] Created slice lim-web.slice.", 5*time.Second)
	in.stop(20 * time.Second)
}

// Cgroups disabled: gosd says so and still stops a double-forked daemon
// that stays in the service's process group.
func TestCgroupFallbackProcessGroups(t *testing.T) {
	t.Setenv("GOSD_CGROUP_ROOT", "-")
	var daemon int
	in := start(t, asSubreaper, map[string]string{
		"default.target": "[Unit]\nWants=fb.service\n",
		"fb.service": "[Service]\nType=forking\n" +
			"ExecStart=/bin/sh -c '(sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > @T@/daemon.pid) ; exit 0'\n",
	})
	cleanupCgroups(t, in, &daemon)
	in.waitOutput("cgroups: disabled by configuration; running on process groups", 10*time.Second)
	daemon = pidFile(t, in, "daemon.pid")
	if dir := procCgroupDir(t, daemon); strings.Contains(dir, "fb.service") {
		t.Fatalf("fallback mode made a cgroup: %s", dir)
	}
	cgctl(t, in, "stop", "fb.service")
	in.waitFor("daemon dead", 10*time.Second, func() bool { return !alive(daemon) })
	in.stop(20 * time.Second)
}

// As PID1 of a PID namespace the unit's processes are in its cgroup too,
// and a setsid'ed daemon is gone after stop.
func TestCgroupPID1(t *testing.T) {
	in := start(t, asPID1, map[string]string{
		"default.target": "[Unit]\nWants=p1.service\n",
		"p1.service": "[Service]\nExecStart=/bin/sh -c 'cat /proc/self/cgroup > @T@/cg; " +
			"setsid sh -c \"sleep 1000\" </dev/null >/dev/null 2>&1 & exec sleep 1000'\n",
	})
	var none int
	cleanupCgroups(t, in, &none)
	cg := waitCgroupFile(in, "cg")
	var rel string
	for _, l := range strings.Split(cg, "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			rel = p
		}
	}
	if !strings.HasSuffix(rel, "/system.slice/p1.service") {
		t.Fatalf("cgroup %q", cg)
	}
	dir := filepath.Join(cgroup2Mount(t), rel)
	in.waitFor("two processes in the cgroup", 5*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		return len(strings.Fields(string(b))) >= 2
	})
	cgctl(t, in, "stop", "p1.service")
	in.waitFor("cgroup removed", 10*time.Second, func() bool { _, err := os.Stat(dir); return os.IsNotExist(err) })
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

// A daemon-reload writes a running unit's and its slice's new resource
// settings to their cgroups at once (systemd does too): in the files where
// the controllers exist, else named as not applied.
func TestCgroupDaemonReloadAppliesResources(t *testing.T) {
	var mainPid int
	in := start(t, asSubreaper, map[string]string{
		"default.target": "[Unit]\nWants=res.service\n",
		"rel.slice":      "[Slice]\nMemoryMax=60M\n",
		"res.service":    "[Service]\nSlice=rel.slice\nMemoryMax=50M\nExecStart=/bin/sh -c 'echo $$$$ > @T@/main.pid; exec sleep 1000'\n",
	})
	cleanupCgroups(t, in, &mainPid)
	mainPid = pidFile(t, in, "main.pid")
	dir := procCgroupDir(t, mainPid)
	slice := filepath.Dir(dir)
	units := filepath.Join(in.dir, "units")
	if err := os.WriteFile(filepath.Join(units, "res.service"), []byte("[Service]\nSlice=rel.slice\nMemoryMax=50M\nTasksMax=9\n"+
		"ExecStart=/bin/sh -c 'echo $$$$ > "+filepath.Join(in.dir, "main.pid")+"; exec sleep 1000'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(units, "rel.slice"), []byte("[Slice]\nMemoryMax=60M\nTasksMax=8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := cgctl(t, in, "daemon-reload"); strings.TrimSpace(out) != "" {
		t.Fatalf("daemon-reload: %s", out)
	}
	for _, c := range []struct{ unit, dir, pids string }{{"res.service", dir, "9"}, {"rel.slice", slice, "8"}} {
		ctrl, _ := os.ReadFile(filepath.Join(c.dir, "cgroup.controllers"))
		if !slices.Contains(strings.Fields(string(ctrl)), "pids") {
			in.waitFor(c.unit+"'s new settings named as not applied", 5*time.Second, func() bool {
				for _, l := range strings.Split(in.out.String(), "\n") {
					if strings.HasPrefix(l, c.unit+": warning: resource settings NOT applied") && strings.HasSuffix(l, ": MemoryMax, TasksMax") {
						return true
					}
				}
				return false
			})
			continue
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, _ := os.ReadFile(filepath.Join(c.dir, "pids.max"))
			if strings.TrimSpace(string(b)) == c.pids {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: pids.max %q after daemon-reload, want %s", c.unit, b, c.pids)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !alive(mainPid) {
		t.Fatal("the service did not survive the daemon-reload")
	}
	in.stop(20 * time.Second)
}
