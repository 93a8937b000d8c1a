package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one manager (gosd or the floor) started by the harness.
type proc struct {
	cmd     *exec.Cmd
	start   time.Time
	marker  string
	readyAt chan time.Duration
	done    chan struct{}
	exitAt  time.Time
	waitErr error
	mu      sync.Mutex
	tail    []string
}

// startProc execs argv and watches its stdout for a line containing marker.
// The clock starts just before the exec.
func startProc(argv []string, marker string) (*proc, error) {
	p := &proc{marker: marker, readyAt: make(chan time.Duration, 1), done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Stderr = nil
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stderr = p.cmd.Stdout
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go p.read(out)
	return p, nil
}

func (p *proc) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	seen := false
	for sc.Scan() {
		line := sc.Text()
		if !seen && strings.Contains(line, p.marker) {
			seen = true
			p.readyAt <- time.Since(p.start)
		}
		p.mu.Lock()
		p.tail = append(p.tail, line)
		if len(p.tail) > 40 {
			p.tail = p.tail[len(p.tail)-40:]
		}
		p.mu.Unlock()
	}
	p.waitErr = p.cmd.Wait()
	p.exitAt = time.Now()
	close(p.done)
}

func (p *proc) Tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

func (p *proc) waitReady(timeout time.Duration) (time.Duration, error) {
	select {
	case d := <-p.readyAt:
		return d, nil
	case <-p.done:
		return 0, fmt.Errorf("exited before %q (%v); output:\n%s", p.marker, p.waitErr, p.Tail())
	case <-time.After(timeout):
		return 0, fmt.Errorf("no %q within %v; output:\n%s", p.marker, timeout, p.Tail())
	}
}

// stop sends SIGTERM and returns the time until the process exited.
func (p *proc) stop(timeout time.Duration) (time.Duration, error) {
	t := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		d := p.exitAt.Sub(t)
		if p.waitErr != nil {
			return d, fmt.Errorf("exit: %v", p.waitErr)
		}
		return d, nil
	case <-time.After(timeout):
		p.kill()
		return 0, errors.New("did not exit after SIGTERM within " + timeout.String())
	}
}

// kill removes the whole process group (after a failure).
func (p *proc) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// procStatus reads one "Key:  value" field of /proc/PID[/task/TID]/status.
func procStatus(path, key string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, key+":") {
			f := strings.Fields(l[len(key)+1:])
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return -1
}

func rssKiB(pid int) int64 { return procStatus(fmt.Sprintf("/proc/%d/status", pid), "VmRSS") }

// ctxSwitches sums voluntary and involuntary context switches over all threads.
func ctxSwitches(pid int) (vol, nonvol int64, threads int) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		st := dir + "/" + e.Name() + "/status"
		vol += procStatus(st, "voluntary_ctxt_switches")
		nonvol += procStatus(st, "nonvoluntary_ctxt_switches")
		threads++
	}
	return
}

// cpuTicks is utime+stime of a process in clock ticks.
func cpuTicks(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}
