package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type peerResult struct {
	shape, typ string
	n          int
	sides      []string
	up, stop   map[string][]float64 // ms
	failures   []string
}

// ensurePeers is the suite's setup: it installs the Debian packages of the
// peers whose programs are missing and returns the peers that can run, with a
// note for each one that cannot.
func ensurePeers() (avail map[string]bool, notes []string) {
	avail = map[string]bool{"floor": true, "gosd": true}
	var missing []string
	for _, p := range peerSides {
		if p.bin == "" {
			continue
		}
		if _, err := exec.LookPath(p.bin); err != nil {
			missing = append(missing, p.pkg)
		}
	}
	if len(missing) > 0 {
		progress("peers: apt-get install %s", strings.Join(missing, " "))
		cmd := exec.Command("apt-get", append([]string{"install", "-y", "--no-install-recommends"}, missing...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			notes = append(notes, fmt.Sprintf("apt-get install %s: %v: %s", strings.Join(missing, " "), err, firstLines(lastLines(string(out), 5), 5)))
		}
	}
	for _, p := range peerSides {
		if p.bin == "" {
			continue
		}
		if _, err := exec.LookPath(p.bin); err != nil {
			notes = append(notes, fmt.Sprintf("%s: %s not found after setup; not measured", p.name, p.bin))
			continue
		}
		avail[p.name] = true
	}
	return avail, notes
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// peerProc is a supervisor started by the peers suite; its output goes to a
// file (services inherit it, so a pipe would stay open after it exits).
type peerProc struct {
	cmd   *exec.Cmd
	start time.Time
	done  chan struct{}
	log   string
	err   error
}

func startPeer(argv []string, log string) (*peerProc, error) {
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := &peerProc{done: make(chan struct{}), log: log}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *peerProc) tail() string {
	data, _ := os.ReadFile(p.log)
	return lastLines(string(data), 12)
}

// markers reads "NAME PID" lines from a FIFO the harness holds open for
// reading and writing (so it never sees EOF between writers).
type markers struct {
	f    *os.File
	n    int
	all  chan time.Time
	pids chan []int
}

func readMarkers(fifo string, n int) (*markers, error) {
	os.Remove(fifo)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	m := &markers{f: f, n: n, all: make(chan time.Time, 1), pids: make(chan []int, 1)}
	go func() {
		seen := map[string]bool{}
		var pids []int
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) != 2 || seen[fs[0]] {
				continue
			}
			seen[fs[0]] = true
			pid, _ := strconv.Atoi(fs[1])
			pids = append(pids, pid)
			if len(seen) == n {
				m.all <- time.Now()
			}
		}
		m.pids <- pids
	}()
	return m, nil
}

// gone: the process no longer exists or is a zombie.
func gone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// reapOrphans kills and reaps every child of the harness other than the
// running ones (the harness is a subreaper during the suite, so runsv and
// service processes orphaned by a supervisor that exited first land here).
func reapOrphans() {
	self := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+2:])
		if len(f) < 2 || f[1] != strconv.Itoa(self) {
			continue
		}
		syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	}
}

func peersSuite(c config, b bins, work string) ([]*peerResult, []string) {
	avail, notes := ensurePeers()
	// Orphans of a supervisor that exits before its children come to us.
	if err := prctlSubreaper(); err != nil {
		notes = append(notes, "PR_SET_CHILD_SUBREAPER: "+err.Error())
	}
	var ns []int
	for _, n := range c.ns {
		if n <= 100 {
			ns = append(ns, n)
		}
	}
	var out []*peerResult
	for _, n := range ns {
		for _, shape := range c.shapes {
			if shape != "flat" && shape != "chain" {
				continue
			}
			for _, typ := range c.types {
				out = append(out, peerRun(c, b, work, avail, shape, typ, n))
			}
		}
	}
	return out, notes
}

func prctlSubreaper() error {
	const PR_SET_CHILD_SUBREAPER = 36
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, PR_SET_CHILD_SUBREAPER, 1, 0); e != 0 {
		return e
	}
	return nil
}

func peerRun(c config, b bins, work string, avail map[string]bool, shape, typ string, n int) *peerResult {
	res := &peerResult{shape: shape, typ: typ, n: n, up: map[string][]float64{}, stop: map[string][]float64{}}
	for _, p := range peerSides {
		if avail[p.name] && p.types[typ] {
			res.sides = append(res.sides, p.name)
		}
	}
	dir := filepath.Join(work, fmt.Sprintf("peers-%s-%s-%d", shape, typ, n))
	fifo := filepath.Join(dir, "markers")
	run := filepath.Join(dir, "run")
	check(os.MkdirAll(run, 0o755))
	tree := markerTree(genTree(shape, typ, n, c.seed, b.helper), b.helper, fifo)
	units := filepath.Join(dir, "units")
	check(writeFiles(units, unitFiles(tree, nil)))
	specPath := filepath.Join(dir, "spec.json")
	data, _ := json.Marshal(tree)
	check(os.WriteFile(specPath, data, 0o644))
	timeout := 20*time.Second + time.Duration(n)*20*time.Millisecond

	prepare := func(side string) ([]string, syscall.Signal, error) {
		switch side {
		case "floor":
			return []string{b.floor, specPath, filepath.Join(run, "n.sock")}, syscall.SIGTERM, nil
		case "gosd":
			os.Remove(filepath.Join(run, "c.sock"))
			os.Remove(filepath.Join(run, "n.sock"))
			return gosdArgs(b, units, run), syscall.SIGTERM, nil
		case "runit", "s6":
			scan := filepath.Join(dir, side)
			os.RemoveAll(scan) // fresh supervise state every run
			for rel, body := range serviceDirs(side, tree, b.helper, fifo) {
				p := filepath.Join(scan, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return nil, 0, err
				}
				if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
					return nil, 0, err
				}
			}
			// runsvdir waits until the second of the scan directory's mtime is over
			// before it scans a directory changed "this very second"; a boot's
			// service directory is old, so date ours back.
			past := time.Now().Add(-time.Minute)
			if err := os.Chtimes(scan, past, past); err != nil {
				return nil, 0, err
			}
			if side == "runit" {
				// SIGHUP: runsvdir sends TERM to every runsv and exits; each runsv stops its service.
				return []string{"runsvdir", scan}, syscall.SIGHUP, nil
			}
			// SIGTERM: s6-svscan brings every service and supervisor down, then exits.
			return []string{"s6-svscan", scan}, syscall.SIGTERM, nil
		case "supervisor":
			sd := filepath.Join(dir, "supervisor")
			os.RemoveAll(sd)
			if err := os.MkdirAll(sd, 0o755); err != nil {
				return nil, 0, err
			}
			conf := filepath.Join(sd, "supervisord.conf")
			if err := os.WriteFile(conf, []byte(supervisorConf(tree, b.helper, fifo, sd)), 0o644); err != nil {
				return nil, 0, err
			}
			return []string{"supervisord", "-n", "-c", conf}, syscall.SIGTERM, nil
		}
		return nil, 0, errors.New("unknown side " + side)
	}

	one := func(side string) (float64, float64, error) {
		argv, sig, err := prepare(side)
		if err != nil {
			return 0, 0, err
		}
		m, err := readMarkers(fifo, n)
		if err != nil {
			return 0, 0, err
		}
		defer m.f.Close()
		p, err := startPeer(argv, filepath.Join(dir, side+".log"))
		if err != nil {
			return 0, 0, err
		}
		defer reapOrphans()
		fail := func(err error) (float64, float64, error) {
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
			}
			return 0, 0, fmt.Errorf("%v; output:\n%s", err, p.tail())
		}
		var upAt time.Time
		select {
		case upAt = <-m.all:
		case <-p.done:
			return fail(fmt.Errorf("exited before all %d markers (%v)", n, p.err))
		case <-time.After(timeout):
			return fail(fmt.Errorf("not all %d markers within %v", n, timeout))
		}
		t0 := time.Now()
		p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(timeout):
			return fail(fmt.Errorf("did not exit within %v of signal %v", timeout, sig))
		}
		m.f.Close()
		pids := <-m.pids
		for _, pid := range pids {
			for !gone(pid) {
				if time.Since(t0) > timeout {
					return fail(fmt.Errorf("service pid %d still there %v after signal %v", pid, timeout, sig))
				}
				time.Sleep(time.Millisecond)
			}
		}
		return msf(upAt.Sub(p.start)), msf(time.Since(t0)), nil
	}

	runs := c.runs
	for i := 0; i < runs; i++ {
		// Interleave, rotating which side goes first.
		for k := range res.sides {
			side := res.sides[(i+k)%len(res.sides)]
			u, x, err := one(side)
			if err != nil {
				res.failures = append(res.failures, fmt.Sprintf("%s %s N=%d %s run %d: %v", shape, typ, n, side, i, firstLines(err.Error(), 12)))
				progress("  peers %s %s N=%d %s run %d FAILED: %v", shape, typ, n, side, i, firstLines(err.Error(), 12))
				continue
			}
			res.up[side] = append(res.up[side], u)
			res.stop[side] = append(res.stop[side], x)
		}
	}
	var parts []string
	for _, side := range res.sides {
		parts = append(parts, fmt.Sprintf("%s %s", side, summarize(res.up[side])))
	}
	progress("peers %-5s %-7s N=%-4d runs=%d  up (ms): %s", shape, typ, n, runs, strings.Join(parts, ", "))
	return res
}
