package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// testHierarchy gives the test a private subtree below the test's own
// cgroup, and kills and removes everything in it afterwards, even when
// the test fails.
func testHierarchy(t testing.TB) *Hierarchy {
	t.Helper()
	sub := fmt.Sprintf("gosd-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "_"))
	h, err := DetectAt(sub)
	if err != nil {
		t.Fatalf("DetectAt: %v", err)
	}
	t.Cleanup(func() { destroy(t, h.Root()) })
	return h
}

// destroy kills every process below dir and removes the cgroups,
// deepest first.
func destroy(t testing.TB, dir string) {
	g := &Group{dir: dir}
	if err := g.Kill(); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cleanup kill: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		populated, err := g.Populated()
		if err != nil || !populated {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("cleanup: %s still populated", dir)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := g.Remove(); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// spawn starts argv in g through CLONE_INTO_CGROUP, as the exec engineer
// will; the test reaps it with wait4 on its pid.
func spawn(t testing.TB, g *Group, argv ...string) int {
	t.Helper()
	fd, err := g.OpenFD()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	return spawnFD(t, fd, argv...)
}

func spawnFD(t testing.TB, cgroupFD int, argv ...string) int {
	t.Helper()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	n := null.Fd()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Files: []uintptr{n, n, n},
		Sys:   &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgroupFD},
	})
	if err != nil {
		t.Fatalf("ForkExec %v: %v", argv, err)
	}
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGKILL)
		syscall.Wait4(pid, nil, 0, nil)
	})
	return pid
}

func reap(t testing.TB, pid int) syscall.WaitStatus {
	t.Helper()
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatalf("wait4 %d: %v", pid, err)
	}
	return ws
}

// waitEvent waits up to timeout for events on an epoll fd.
func waitEvent(t testing.TB, epfd int, timeout time.Duration) []unix.EpollEvent {
	t.Helper()
	evs := make([]unix.EpollEvent, 4)
	for {
		n, err := unix.EpollWait(epfd, evs, int(timeout.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return evs[:n]
	}
}

// watchEvents returns an epoll fd watching g's cgroup.events for
// EPOLLPRI, and that events fd.
func watchEvents(t testing.TB, g *Group) (epfd, evfd int) {
	t.Helper()
	evfd, err := g.EventsFD()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(evfd) })
	epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(epfd) })
	ev := unix.EpollEvent{Events: unix.EPOLLPRI, Fd: int32(evfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		t.Fatal(err)
	}
	return epfd, evfd
}

// waitEmpty waits (by EPOLLPRI on cgroup.events) until g is unpopulated.
func waitEmpty(t testing.TB, g *Group) {
	t.Helper()
	epfd, evfd := watchEvents(t, g)
	deadline := time.Now().Add(5 * time.Second)
	for {
		populated, err := PopulatedFD(evfd)
		if err != nil {
			t.Fatal(err)
		}
		if !populated {
			return
		}
		left := time.Until(deadline)
		if left <= 0 || len(waitEvent(t, epfd, left)) == 0 {
			pids, _ := g.Procs()
			t.Fatalf("%s still populated after 5s: %v", g.Path(), pids)
		}
	}
}

func TestDetectAtFindsCgroup2(t *testing.T) {
	h := testHierarchy(t)
	var st unix.Statfs_t
	if err := unix.Statfs(h.Root(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Fatalf("%s is not on cgroup2 (fs type %#x)", h.Root(), st.Type)
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	mounts := cgroup2Mounts(string(mountinfo))
	if len(mounts) == 0 || !strings.HasPrefix(h.Root(), mounts[0].point+"/") {
		t.Fatalf("root %s not below the cgroup2 mounts %+v", h.Root(), mounts)
	}
	t.Logf("cgroup2 at %s; root %s; controllers offered to units: %v", mounts[0].point, h.Root(), h.Controllers())
	if _, err := DetectAt(".."); err == nil {
		t.Error("DetectAt(\"..\") escaped the own cgroup")
	}
}

func TestSpawnIntoGroup(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("spawn.service", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(h.Root(), "system.slice", "spawn.service"); g.Path() != want {
		t.Fatalf("Path = %s, want %s", g.Path(), want)
	}
	if populated, err := g.Populated(); err != nil || populated {
		t.Fatalf("fresh group: populated=%v err=%v", populated, err)
	}
	pid := spawn(t, g, "/bin/sleep", "1000")

	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := v2Path(string(b)); p != h.rootRel+"/system.slice/spawn.service" {
		t.Fatalf("/proc/%d/cgroup says %q", pid, p)
	}
	if pids, err := g.Procs(); err != nil || !slices.Equal(pids, []int{pid}) {
		t.Fatalf("Procs = %v, %v; want [%d]", pids, err, pid)
	}
	if populated, err := g.Populated(); err != nil || !populated {
		t.Fatalf("populated=%v err=%v", populated, err)
	}
	if unit, ok := h.UnitOf(pid); !ok || unit != "spawn.service" {
		t.Fatalf("UnitOf(child) = %q %v", unit, ok)
	}
	if unit, ok := h.UnitOf(os.Getpid()); ok {
		t.Fatalf("UnitOf(test process) = %q, want none", unit)
	}

	// Create reuses the existing group.
	again, err := h.Create("spawn.service", "system.slice")
	if err != nil || again.Path() != g.Path() {
		t.Fatalf("Create again: %v %v", again, err)
	}
}

// CLONE_INTO_CGROUP takes an O_PATH fd as well as an O_RDONLY one.
func TestCloneIntoCgroupWithReadOnlyFD(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("rdonly.service", "")
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(g.Path(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	pid := spawnFD(t, fd, "/bin/sleep", "1000")
	if unit, ok := h.UnitOf(pid); unit != "rdonly.service" || !ok {
		t.Fatalf("UnitOf = %q %v", unit, ok)
	}
}

func TestOpenFDIsCloseOnExec(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("fd.service", "")
	if err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func() (int, error){"OpenFD": g.OpenFD, "EventsFD": g.EventsFD} {
		fd, err := open()
		if err != nil {
			t.Fatal(err)
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		unix.Close(fd)
		if err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("%s fd flags %#x, %v: not close-on-exec", name, flags, err)
		}
	}
}

func TestEventsFDFiresWhenLastProcessExits(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("events.service", "")
	if err != nil {
		t.Fatal(err)
	}
	first := spawn(t, g, "/bin/sleep", "1000")
	second := spawn(t, g, "/bin/sleep", "1000")
	epfd, evfd := watchEvents(t, g)
	if populated, err := PopulatedFD(evfd); err != nil || !populated {
		t.Fatalf("PopulatedFD = %v %v", populated, err)
	}
	if evs := waitEvent(t, epfd, 0); len(evs) != 0 {
		t.Fatalf("event pending after PopulatedFD read: %+v", evs)
	}

	syscall.Kill(first, syscall.SIGKILL)
	reap(t, first)
	if evs := waitEvent(t, epfd, 100*time.Millisecond); len(evs) != 0 {
		t.Fatalf("event while a process is left: %+v", evs)
	}

	// The group empties when the process dies, before it is reaped: a
	// zombie is no longer a member.
	syscall.Kill(second, syscall.SIGKILL)
	evs := waitEvent(t, epfd, 5*time.Second)
	if len(evs) != 1 || evs[0].Events&unix.EPOLLPRI == 0 {
		t.Fatalf("no EPOLLPRI when the group emptied: %+v", evs)
	}
	if populated, err := PopulatedFD(evfd); err != nil || populated {
		t.Fatalf("after the event: populated=%v err=%v", populated, err)
	}
	if evs := waitEvent(t, epfd, 0); len(evs) != 0 {
		t.Fatalf("event still pending after PopulatedFD: %+v", evs)
	}
	reap(t, second)
}

// inotify IN_MODIFY on cgroup.events works too (for a reactor without
// EPOLLPRI, e.g. one built on netpoll).
func TestEventsInotify(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("inotify.service", "")
	if err != nil {
		t.Fatal(err)
	}
	pid := spawn(t, g, "/bin/sleep", "1000")
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, filepath.Join(g.Path(), "cgroup.events"), unix.IN_MODIFY); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 5000)
	for err == unix.EINTR {
		n, err = unix.Poll(fds, 5000)
	}
	if n != 1 || err != nil {
		t.Fatalf("no inotify event: %d %v", n, err)
	}
	if populated, _ := g.Populated(); populated {
		t.Fatal("populated after the inotify event")
	}
	reap(t, pid)
}

// A shell that backgrounds sleeps and double-forks others (orphans that
// leave the test's process tree) is killed whole.
const treeScript = `sleep 1000 & sleep 1000 & (sleep 1000 &) ; (setsid sleep 1000 &) ; sh -c 'sleep 1000 &' ; exec sleep 1000`

func startTree(t *testing.T, g *Group) int {
	pid := spawn(t, g, "/bin/sh", "-c", treeScript)
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids, err := g.Procs()
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) >= 5 { // the shell (now sleep) and four sleeps
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("tree never grew: %v", pids)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKillDoubleForkedTree(t *testing.T) {
	for name, kill := range map[string]func(*Group) error{
		"cgroup.kill":     (*Group).Kill,
		"signal each pid": (*Group).killEach,
	} {
		t.Run(name, func(t *testing.T) {
			h := testHierarchy(t)
			g, err := h.Create("tree.service", "")
			if err != nil {
				t.Fatal(err)
			}
			shell := startTree(t, g)
			if err := kill(g); err != nil {
				t.Fatal(err)
			}
			if ws := reap(t, shell); ws.Signal() != syscall.SIGKILL {
				t.Fatalf("shell status %v", ws)
			}
			waitEmpty(t, g)
			if pids, err := g.Procs(); err != nil || len(pids) != 0 {
				t.Fatalf("after kill: %v %v", pids, err)
			}
			if err := g.Remove(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// cgroup.kill came with Linux 5.14; on older kernels Kill signals each pid
// (tested above through killEach).
func TestCgroupKillFileMatchesKernel(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("k.service", "")
	if err != nil {
		t.Fatal(err)
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		t.Fatal(err)
	}
	release := unix.ByteSliceToString(uts.Release[:])
	var major, minor int
	if _, err := fmt.Sscanf(release, "%d.%d", &major, &minor); err != nil {
		t.Fatalf("kernel release %q: %v", release, err)
	}
	_, err = os.Stat(filepath.Join(g.Path(), "cgroup.kill"))
	hasKill := err == nil
	if want := major > 5 || major == 5 && minor >= 14; hasKill != want {
		t.Fatalf("kernel %s: cgroup.kill present=%v, want %v", release, hasKill, want)
	}
	t.Logf("kernel %s: cgroup.kill present=%v", release, hasKill)
}

func TestSignal(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("signal.service", "")
	if err != nil {
		t.Fatal(err)
	}
	a := spawn(t, g, "/bin/sleep", "1000")
	b := spawn(t, g, "/bin/sleep", "1000")
	if err := g.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{a, b} {
		if ws := reap(t, pid); ws.Signal() != syscall.SIGTERM {
			t.Errorf("pid %d: status %v, want SIGTERM", pid, ws)
		}
	}
}

// TestSignalFDReachesSubgroups: through the directory fd, the group's own
// processes and those of a cgroup the unit made below it (a delegated
// subtree) are signalled, before and after the subgroup exists.
func TestSignalFDReachesSubgroups(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("signalfd.service", "")
	if err != nil {
		t.Fatal(err)
	}
	dirFD, err := g.OpenFD()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirFD)
	a := spawn(t, g, "/bin/sleep", "1000")
	if pids, err := g.ProcsFD(dirFD); err != nil || !slices.Equal(pids, []int{a}) {
		t.Fatalf("ProcsFD = %v, %v; want [%d]", pids, err, a)
	}
	if err := g.SignalFD(dirFD, syscall.SIGTERM, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if ws := reap(t, a); ws.Signal() != syscall.SIGTERM {
		t.Errorf("pid %d: status %v, want SIGTERM", a, ws)
	}
	sub := &Group{dir: filepath.Join(g.Path(), "worker")}
	if err := unix.Mkdir(sub.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { destroy(t, sub.dir) })
	b := spawn(t, g, "/bin/sleep", "1000")
	c := spawn(t, sub, "/bin/sleep", "1000")
	pids, err := g.ProcsFD(dirFD)
	slices.Sort(pids)
	if want := []int{min(b, c), max(b, c)}; err != nil || !slices.Equal(pids, want) {
		t.Fatalf("ProcsFD with a subgroup = %v, %v; want %v", pids, err, want)
	}
	if err := g.SignalFD(dirFD, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{b, c} {
		if ws := reap(t, pid); ws.Signal() != syscall.SIGTERM {
			t.Errorf("pid %d: status %v, want SIGTERM", pid, ws)
		}
	}
}

func TestNestedSliceAndUnitOf(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("web.service", "app-web.slice")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(h.Root(), "app.slice", "app-web.slice", "web.service"); g.Path() != want {
		t.Fatalf("Path = %s, want %s", g.Path(), want)
	}
	top, err := h.Create("top.service", "-.slice")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(h.Root(), "top.service"); top.Path() != want {
		t.Fatalf("Path = %s, want %s", top.Path(), want)
	}
	pid := spawn(t, g, "/bin/sleep", "1000")
	if unit, ok := h.UnitOf(pid); !ok || unit != "web.service" {
		t.Fatalf("UnitOf = %q %v", unit, ok)
	}
	// A process in a cgroup the unit made below its own (Delegate=yes)
	// belongs to the unit too; Procs and Kill see it.
	sub, err := h.Create("web.service", "app-web.slice")
	if err != nil {
		t.Fatal(err)
	}
	inner := &Group{dir: filepath.Join(sub.Path(), "worker")}
	if err := os.Mkdir(inner.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	innerPid := spawn(t, inner, "/bin/sleep", "1000")
	if unit, ok := h.UnitOf(innerPid); !ok || unit != "web.service" {
		t.Fatalf("UnitOf(delegated) = %q %v", unit, ok)
	}
	pids, err := g.Procs()
	slices.Sort(pids)
	want := []int{pid, innerPid}
	slices.Sort(want)
	if err != nil || !slices.Equal(pids, want) {
		t.Fatalf("Procs = %v %v, want %v", pids, err, want)
	}
	if err := g.Kill(); err != nil {
		t.Fatal(err)
	}
	reap(t, pid)
	reap(t, innerPid)
	waitEmpty(t, g)
	if err := g.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("group still there: %v", err)
	}
	for _, bad := range [][2]string{{"a/b.service", ""}, {"", ""}, {"x.service", "x.service"}} {
		if _, err := h.Create(bad[0], bad[1]); err == nil {
			t.Errorf("Create(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestApply(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("apply.service", "")
	if err != nil {
		t.Fatal(err)
	}
	n := func(v uint64) *uint64 { return &v }
	rc := unitfile.ResourceControl{
		CPUWeight: n(200), CPUQuota: n(50), MemoryLow: n(1 << 20), MemoryHigh: n(512 << 20),
		MemoryMax: n(unitfile.RlimInfinity), TasksMax: n(64), IOWeight: n(300),
	}
	notApplied, err := g.Apply(rc, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(g.Path(), "cgroup.controllers"))
	if err != nil {
		t.Fatal(err)
	}
	have := strings.Fields(string(b))
	t.Logf("controllers in the unit's group: %v; not applied: %v", have, notApplied)
	// What the kernel file reads back as after each write.
	readBack := map[string]string{
		"cpu.weight": "200", "cpu.max": "50000 100000", "memory.low": "1048576",
		"memory.high": "536870912", "memory.max": "max", "pids.max": "64", "io.weight": "default 300",
	}
	var wantNot []string
	for _, s := range settings(rc, false) {
		if !slices.Contains(have, s.controller) {
			wantNot = append(wantNot, s.name)
			if _, err := os.Stat(filepath.Join(g.Path(), s.file)); err == nil {
				t.Errorf("%s exists without its controller", s.file)
			}
			continue
		}
		got, err := os.ReadFile(filepath.Join(g.Path(), s.file))
		if err != nil || strings.TrimSpace(string(got)) != readBack[s.file] {
			t.Errorf("%s reads %q %v, want %q", s.file, got, err, readBack[s.file])
		}
	}
	if !slices.Equal(notApplied, wantNot) {
		t.Errorf("notApplied = %v, want %v", notApplied, wantNot)
	}
	if notApplied, err := g.Apply(unitfile.ResourceControl{}, false); err != nil || len(notApplied) != 0 {
		t.Errorf("empty Apply: %v %v", notApplied, err)
	}
}

// A slice's group is the directory its members' groups are made in; its
// settings go to its own files, and a controller it lacks is enabled from
// the root down when the root offers it (else named as not applied).
func TestSliceGroupApply(t *testing.T) {
	h := testHierarchy(t)
	s, err := h.Slice("lim-a.slice")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(h.Root(), "lim.slice", "lim-a.slice"); s.Path() != want || s.Unit() != "lim-a.slice" {
		t.Fatalf("Slice dir %s (%s), want %s", s.Path(), s.Unit(), want)
	}
	member, err := h.Create("m.service", "lim-a.slice")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(member.Path()) != s.Path() {
		t.Fatalf("member %s is not in the slice %s", member.Path(), s.Path())
	}
	if _, err := h.Slice("-.slice"); err == nil {
		t.Error("Slice(-.slice) gave the root to set")
	}
	n := func(v uint64) *uint64 { return &v }
	rc := unitfile.ResourceControl{TasksMax: n(5), MemoryMax: n(64 << 20), CPUWeight: n(50), AllowedCPUs: []int{0}}
	// What the root's parent offers decides what can be enabled below it.
	parent, _ := os.ReadFile(filepath.Join(filepath.Dir(h.Root()), "cgroup.subtree_control"))
	offered := strings.Fields(string(parent))
	notApplied, err := s.Apply(rc, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the root's parent offers %v; not applied: %v", offered, notApplied)
	for _, c := range []struct{ name, controller, file, want string }{
		{"CPUWeight", "cpu", "cpu.weight", "50"}, {"MemoryMax", "memory", "memory.max", "67108864"},
		{"TasksMax", "pids", "pids.max", "5"}, {"AllowedCPUs", "cpuset", "cpuset.cpus", "0"},
	} {
		if !slices.Contains(offered, c.controller) {
			if !slices.Contains(notApplied, c.name) {
				t.Errorf("%s: controller %s not offered, yet not named as not applied", c.name, c.controller)
			}
			continue
		}
		got, err := os.ReadFile(filepath.Join(s.Path(), c.file))
		if err != nil || strings.TrimSpace(string(got)) != c.want {
			t.Errorf("%s reads %q %v, want %q", c.file, got, err, c.want)
		}
	}
	member.Remove()
}

func TestRemove(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("rm.service", "")
	if err != nil {
		t.Fatal(err)
	}
	pid := spawn(t, g, "/bin/sleep", "1000")
	if err := g.Remove(); !errors.Is(err, unix.EBUSY) {
		t.Fatalf("Remove of a populated group: %v, want EBUSY", err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	reap(t, pid)
	for i := 0; i < 2; i++ {
		if err := g.Remove(); err != nil {
			t.Fatalf("Remove #%d: %v", i+1, err)
		}
	}
	if _, err := os.Stat(g.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("still there: %v", err)
	}
	if err := g.Kill(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Kill of a removed group: %v, want ErrNotExist", err)
	}
}
