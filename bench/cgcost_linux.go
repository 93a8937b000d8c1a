package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gosd/cgroups"
)

// The kernel's own price of one cgroup per unit, against the floor's
// spawn: what no manager that gives each unit a cgroup can avoid, however
// little it does itself. Each round runs, one unit after the other on one
// thread, N units the floor's way (fork/exec of /bin/true and wait4) and
// N units in their own cgroup through gosd's cgroups package, the calls
// gosd makes (mkdir, the O_PATH directory fd and cgroup.events, the
// spawn with CLONE_INTO_CGROUP, rmdir once empty). The stop is measured
// the same way: N /bin/sleep processes signalled and reaped one after the
// other (the floor: kill and wait4), against the same with each in its
// cgroup (its cgroup.procs read through the fd, SIGTERM and SIGCONT,
// wait4, the emptiness read, rmdir).
type cgCost struct {
	n, rounds int
	// per unit, µs, one value per round
	floorSpawn, cgSpawn            []float64
	mkdir, open, spawnInto, rmdir  []float64
	floorStop, cgStop, list, empty []float64
	err                            string
}

func cgroupCost(n, rounds int) *cgCost {
	res := &cgCost{n: n, rounds: rounds}
	h, err := cgroups.DetectAt(fmt.Sprintf("gosd-bench-cgcost-%d", os.Getpid()))
	if err != nil {
		res.err = err.Error()
		return res
	}
	defer func() {
		// The units' slice, then the root (rmdir: deepest first).
		os.Remove(filepath.Join(h.Root(), "system.slice"))
		if err := os.Remove(h.Root()); err != nil {
			progress("cgroup price: %v", err)
		}
	}()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	check(err)
	defer null.Close()
	fds := []uintptr{null.Fd(), null.Fd(), null.Fd()}
	spawnIn := func(argv []string, cgfd int) int {
		attr := &syscall.ProcAttr{Files: fds}
		if cgfd >= 0 {
			attr.Sys = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgfd}
		}
		pid, err := syscall.ForkExec(argv[0], argv, attr)
		check(err)
		return pid
	}
	wait := func(pid int) {
		var ws syscall.WaitStatus
		for {
			if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
				return
			}
		}
	}
	perUnit := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(n) }
	trueArgv, sleepArgv := []string{"/bin/true"}, []string{"/bin/sleep", "1000"}
	type unitGroup struct {
		g            *cgroups.Group
		dirFD, evFD  int
		pid          int
		name         string
		mk, op, rm   time.Duration
		spawn, total time.Duration
	}
	for round := 0; round < rounds; round++ {
		// Spawns, the floor's way, then in a cgroup each.
		t := time.Now()
		for i := 0; i < n; i++ {
			wait(spawnIn(trueArgv, -1))
		}
		res.floorSpawn = append(res.floorSpawn, perUnit(time.Since(t)))
		var mk, op, sp, rm time.Duration
		t = time.Now()
		for i := 0; i < n; i++ {
			t0 := time.Now()
			g, err := h.Create(fmt.Sprintf("c%04d-%d.service", i, round), "")
			check(err)
			t1 := time.Now()
			dirFD, err := g.OpenFD()
			check(err)
			evFD, err := g.EventsFD()
			check(err)
			t2 := time.Now()
			wait(spawnIn(trueArgv, dirFD))
			t3 := time.Now()
			unix.Close(evFD)
			unix.Close(dirFD)
			check(g.Remove())
			t4 := time.Now()
			mk, op, sp, rm = mk+t1.Sub(t0), op+t2.Sub(t1), sp+t3.Sub(t2), rm+t4.Sub(t3)
		}
		res.cgSpawn = append(res.cgSpawn, perUnit(time.Since(t)))
		res.mkdir, res.open = append(res.mkdir, perUnit(mk)), append(res.open, perUnit(op))
		res.spawnInto, res.rmdir = append(res.spawnInto, perUnit(sp)), append(res.rmdir, perUnit(rm))

		// Stops: N sleeping processes each way, started untimed.
		pids := make([]int, n)
		for i := range pids {
			pids[i] = spawnIn(sleepArgv, -1)
		}
		t = time.Now()
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGTERM)
			wait(pid)
		}
		res.floorStop = append(res.floorStop, perUnit(time.Since(t)))
		groups := make([]unitGroup, n)
		for i := range groups {
			u := &groups[i]
			u.g, err = h.Create(fmt.Sprintf("s%04d-%d.service", i, round), "")
			check(err)
			u.dirFD, err = u.g.OpenFD()
			check(err)
			u.evFD, err = u.g.EventsFD()
			check(err)
			u.pid = spawnIn(sleepArgv, u.dirFD)
		}
		var list, empty time.Duration
		t = time.Now()
		for i := range groups {
			u := &groups[i]
			t0 := time.Now()
			check(u.g.SignalFD(u.dirFD, syscall.SIGTERM, syscall.SIGCONT))
			t1 := time.Now()
			wait(u.pid)
			t2 := time.Now()
			if populated, err := cgroups.PopulatedFD(u.evFD); err != nil || populated {
				check(fmt.Errorf("cgroup of %d: populated %v after its reap (%v)", u.pid, populated, err))
			}
			unix.Close(u.evFD)
			unix.Close(u.dirFD)
			check(u.g.Remove())
			list, empty = list+t1.Sub(t0), empty+time.Since(t2)
		}
		res.cgStop = append(res.cgStop, perUnit(time.Since(t)))
		res.list, res.empty = append(res.list, perUnit(list)), append(res.empty, perUnit(empty))
	}
	return res
}

func (c *cgCost) section() string {
	if c.err != "" {
		return "## The kernel's price of a cgroup per unit\n\nNot measured: " + c.err + "\n\n"
	}
	med := func(xs []float64) float64 { return summarize(xs).Median }
	us := func(xs []float64) string { return fmt.Sprintf("%.0f", med(xs)) }
	fs, cs := med(c.floorSpawn), med(c.cgSpawn)
	fx, cx := med(c.floorStop), med(c.cgStop)
	var b []byte
	b = fmt.Appendf(b, "## The kernel's price of a cgroup per unit\n\n")
	b = fmt.Appendf(b, "What one cgroup per unit costs the kernel, whoever asks: %d units one after the other on one thread, the\n", c.n)
	b = fmt.Appendf(b, "floor's way and each in its own cgroup through gosd's `cgroups` package, with nothing else of gosd (no\n")
	b = fmt.Appendf(b, "manager, no loop, no logging). Start: fork/exec of `/bin/true` and wait4, against mkdir, the O_PATH\n")
	b = fmt.Appendf(b, "directory fd and cgroup.events opened, the same spawn with CLONE_INTO_CGROUP, wait4, rmdir. Stop:\n")
	b = fmt.Appendf(b, "SIGTERM to a `/bin/sleep` and wait4, against cgroup.procs listed through the fd, SIGTERM+SIGCONT,\n")
	b = fmt.Appendf(b, "wait4, cgroup.events read, rmdir. Medians of %d interleaved rounds, µs per unit. The ratios bound what\n", c.rounds)
	b = fmt.Appendf(b, "gosd can reach against the floor with cgroups on (the default): the floor runs the same processes\n")
	b = fmt.Appendf(b, "without them.\n\n")
	rows := [][]string{
		{"start: the floor's spawn + wait4", us(c.floorSpawn), "1.00"},
		{"start: in its own cgroup, all of it", us(c.cgSpawn), fmt.Sprintf("%.2f", cs/fs)},
		{"  mkdir", us(c.mkdir), "—"},
		{"  open the directory (O_PATH) and cgroup.events", us(c.open), "—"},
		{"  spawn with CLONE_INTO_CGROUP + wait4", us(c.spawnInto), fmt.Sprintf("%.2f", med(c.spawnInto)/fs)},
		{"  rmdir", us(c.rmdir), "—"},
		{"stop: the floor's SIGTERM + wait4", us(c.floorStop), "1.00"},
		{"stop: in its own cgroup, all of it", us(c.cgStop), fmt.Sprintf("%.2f", cx/fx)},
		{"  list cgroup.procs through the fd, SIGTERM + SIGCONT", us(c.list), "—"},
		{"  cgroup.events read, rmdir (after the reap)", us(c.empty), "—"},
	}
	b = append(b, table([]string{"per unit", "µs", "÷ floor"}, rows)...)
	b = append(b, '\n')
	return string(b)
}
