package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gosd/control"
)

// The soak test (issue 18): gosd as PID1 of a PID namespace with 200
// services that restart all the time, while unprivileged units (User=
// nobody) flood the control socket, the notify socket and their output
// pipes. gosd's RSS, fd count and loop latency (the time to answer what
// `gosdctl is-active` asks: a fresh connection and one Status request)
// are sampled before, during and after the floods and reported; the bounds
// docs/pid1.md states are checked.
//
// $GOSD_SOAK sets how long the floods run (a Go duration, e.g. 10m); the
// default, in every `go test ./...`, is 20 s.

const soakControlFlood = `import random, socket, sys, time
path = sys.argv[1]
status_all = b'{"jsonrpc":"2.0","id":1,"method":"Status","params":{"units":["*"]}}\n'
list_req = b'{"jsonrpc":"2.0","id":2,"method":"List"}\n'
garbage = b'{"jsonrpc":"2.0","id":3,"method":\n\x00\xff not json at all\n'
half = b'{"jsonrpc":"2.0","id":4,"method":"List","params":{"patterns":["' + b'a' * (1 << 20)
while True:
    kind = random.randrange(4)
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(path)
        if kind == 0:  # well-formed requests, answers read
            s.sendall(list_req * 20)
            got = 0
            while got < 20:
                b = s.recv(65536)
                if not b:
                    break
                got += b.count(b'\n')
        elif kind == 1:  # garbage
            s.sendall(garbage * 50)
        elif kind == 2:  # Status of every unit, pipelined, never read
            s.setblocking(False)
            try:
                for _ in range(200):
                    s.send(status_all)
            except OSError:
                pass
            time.sleep(0.2)
        else:  # a 1 MiB half line, then gone
            s.sendall(half)
        s.close()
    except OSError:
        time.sleep(0.01)
`

const soakNotifyFlood = `import socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
msgs = [b'A=1\x00B', b'', b'STATUS=' + b'x' * 4000, b'MAINPID=1', b'READY=1', b'WATCHDOG=1',
        b'FDSTORE=1', b'y' * 5000, b'STATUS=flooding', b'ERRNO=abc', b'EXTEND_TIMEOUT_USEC=zzz']
i = 0
while True:
    try:
        s.sendto(msgs[i % len(msgs)], path)
    except OSError:
        pass
    i += 1
`

// soakUnits: quiet.service (whose state the latency probe asks), 200
// services that run 2 s and restart after 0.5 s (4 starts per 10 s, under
// the default start limit), and the flood units, not started at boot.
func soakUnits() map[string]string {
	u := map[string]string{
		"quiet.service":    "[Service]\nExecStart=/bin/sleep infinity\n",
		"ctlflood.py":      soakControlFlood,
		"notifyflood.py":   soakNotifyFlood,
		"ctlflood.service": "[Service]\nUser=nobody\nExecStart=/bin/sh -c 'for i in 1 2 3 4; do python3 @T@/units/ctlflood.py @T@/control.sock & done; wait'\n",
		"notifyflood.service": "[Service]\nUser=nobody\nNotifyAccess=all\n" +
			"ExecStart=/bin/sh -c 'python3 @T@/units/notifyflood.py @T@/notify.sock & python3 @T@/units/notifyflood.py @T@/notify.sock & wait'\n",
		"chatty.service": "[Service]\nUser=nobody\nExecStart=/usr/bin/yes flood-output-line-of-an-unprivileged-unit\n",
		"binary.service": "[Service]\nUser=nobody\nExecStart=/bin/cat /dev/urandom\n",
	}
	var wants []string
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("r%03d.service", i)
		wants = append(wants, name)
		u[name] = "[Unit]\nPartOf=restarters.target\n[Service]\nExecStart=/bin/sleep 2\nRestart=always\nRestartSec=500ms\n"
	}
	u["default.target"] = "[Unit]\nWants=quiet.service\n"
	u["restarters.target"] = "[Unit]\nWants=" + strings.Join(wants, " ") + "\n"
	return u
}

// soakSample is one look at gosd.
type soakSample struct {
	latency time.Duration
	rssKiB  int
	fds     int
	at      time.Time
	cpu     time.Duration // gosd's user+system time so far
}

// soakProbe asks gosd what is-active asks (a fresh connection, Status of
// one unit) and reads its RSS and fd count.
func soakProbe(t *testing.T, sock string, pid int) soakSample {
	t.Helper()
	type answer struct {
		d   time.Duration
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		began := time.Now()
		cl, err := control.Dial(sock)
		if err != nil {
			ch <- answer{err: err}
			return
		}
		defer cl.Close()
		var details []control.UnitDetail
		err = cl.Call(control.MethodStatus, control.StatusParams{Units: []string{"quiet.service"}}, &details)
		if err == nil && (len(details) != 1 || details[0].Info.ActiveState != "active") {
			err = fmt.Errorf("quiet.service: %+v", details)
		}
		ch <- answer{time.Since(began), err}
	}()
	var a answer
	select {
	case a = <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("gosd did not answer is-active's request within 30 s")
	}
	if a.err != nil {
		t.Fatalf("is-active's request: %v", a.err)
	}
	s := soakSample{latency: a.d, fds: fdCount(t, pid), at: time.Now(), cpu: cpuTime(pid)}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			s.rssKiB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return s
}

// cpuTime is pid's user+system time (/proc/PID/stat fields 14 and 15).
func cpuTime(pid int) time.Duration {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.Atoi(f[11])
	k, _ := strconv.Atoi(f[12])
	return time.Duration(u+k) * 10 * time.Millisecond // USER_HZ 100
}

// soakStats summarises a phase's samples.
type soakStats struct {
	n                       int
	latP50, latP99, latMax  time.Duration
	rssMin, rssMax, rssLast int
	fdsMin, fdsMax, fdsLast int
	cpu                     float64 // gosd's CPU use over the phase, in cores
}

func summarise(ss []soakSample) soakStats {
	st := soakStats{n: len(ss), rssMin: 1 << 62, fdsMin: 1 << 62}
	lat := make([]time.Duration, len(ss))
	for i, s := range ss {
		lat[i] = s.latency
		st.rssMin, st.rssMax = min(st.rssMin, s.rssKiB), max(st.rssMax, s.rssKiB)
		st.fdsMin, st.fdsMax = min(st.fdsMin, s.fds), max(st.fdsMax, s.fds)
	}
	st.rssLast, st.fdsLast = ss[len(ss)-1].rssKiB, ss[len(ss)-1].fds
	if wall := ss[len(ss)-1].at.Sub(ss[0].at); wall > 0 {
		st.cpu = float64(ss[len(ss)-1].cpu-ss[0].cpu) / float64(wall)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	st.latP50, st.latP99, st.latMax = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], lat[len(lat)-1]
	return st
}

func (s soakStats) String() string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", d.Seconds()*1000) }
	return fmt.Sprintf("%4d samples | is-active p50 %9s p99 %9s max %9s | RSS %5.1f-%5.1f MiB (last %5.1f) | fds %4d-%4d (last %4d) | CPU %3.0f%%",
		s.n, ms(s.latP50), ms(s.latP99), ms(s.latMax),
		float64(s.rssMin)/1024, float64(s.rssMax)/1024, float64(s.rssLast)/1024, s.fdsMin, s.fdsMax, s.fdsLast, s.cpu*100)
}

// soakRunning counts the 200 services that are not inactive.
func soakRunning(t *testing.T, sock string) int {
	t.Helper()
	n := 0
	for _, u := range soakList(t, sock) {
		if u.ActiveState != "inactive" && u.ActiveState != "failed" {
			n++
		}
	}
	return n
}

func soakList(t *testing.T, sock string) []control.UnitInfo {
	t.Helper()
	cl, err := control.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var infos []control.UnitInfo
	if err := cl.Call(control.MethodList, control.ListParams{Patterns: []string{"r*.service"}}, &infos); err != nil {
		t.Fatal(err)
	}
	return infos
}

// restarts sums NRestarts of the 200 restarting services.
func soakRestarts(t *testing.T, sock string) int {
	t.Helper()
	n := 0
	for _, u := range soakList(t, sock) {
		n += u.NRestarts
	}
	return n
}

func TestSoak(t *testing.T) {
	d := 20 * time.Second
	if v := os.Getenv("GOSD_SOAK"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("GOSD_SOAK=%q: %v", v, err)
		}
	}
	in := start(t, asPID1, soakUnits())
	// The units (uid 65534) reach the sockets and scripts in the scratch
	// directory; t.TempDir makes it and its parent 0700.
	for _, dir := range []string{filepath.Dir(in.dir), in.dir} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(in.dir, "control.sock")
	in.waitOutput("Reached target default.target", 60*time.Second)
	pid := in.gosdPid()
	// The fds of gosd with nothing but quiet.service: what must be left
	// once everything else has stopped again.
	time.Sleep(time.Second)
	idleFds := soakProbe(t, sock, pid).fds

	// Before: the 200 services go round for a while first.
	if r := ctlRun(t, in, "start", "restarters.target"); r.code != 0 {
		t.Fatalf("starting the 200 services: %s", r)
	}
	time.Sleep(5 * time.Second)
	var before []soakSample
	for i := 0; i < 10; i++ {
		before = append(before, soakProbe(t, sock, pid))
		time.Sleep(500 * time.Millisecond)
	}
	restarts0 := soakRestarts(t, sock)

	floods := []string{"ctlflood.service", "notifyflood.service", "chatty.service", "binary.service"}
	if r := ctlRun(t, in, append([]string{"start"}, floods...)...); r.code != 0 {
		t.Fatalf("starting the floods: %s", r)
	}
	var during []soakSample
	began := time.Now()
	for time.Since(began) < d {
		during = append(during, soakProbe(t, sock, pid))
		time.Sleep(500 * time.Millisecond)
	}
	// The services keep going round under the floods: the 200 restart
	// 200 times more (once each on average) before the floods end, however
	// long a loaded machine takes for that (the rate is measured and
	// logged below, not asserted: speed is a benchmark's business).
	for soakRestarts(t, sock)-restarts0 < 200 {
		if time.Since(began) > d+5*time.Minute {
			t.Fatalf("%d restarts in %v of floods: the services stopped going round", soakRestarts(t, sock)-restarts0, time.Since(began))
		}
		during = append(during, soakProbe(t, sock, pid))
		time.Sleep(500 * time.Millisecond)
	}
	flooded := time.Since(began)
	for _, f := range floods {
		if r := ctlRun(t, in, "is-active", f); strings.TrimSpace(r.out) != "active" {
			t.Errorf("flood %s is %s at the end: the flood did not run throughout", f, strings.TrimSpace(r.out))
		}
	}
	restarts1 := soakRestarts(t, sock)
	if r := ctlRun(t, in, append([]string{"stop"}, floods...)...); r.code != 0 {
		t.Fatalf("stopping the floods: %s", r)
	}

	// After: the floods gone, the restarts go on.
	time.Sleep(10 * time.Second)
	var after []soakSample
	for i := 0; i < 10; i++ {
		after = append(after, soakProbe(t, sock, pid))
		time.Sleep(500 * time.Millisecond)
	}
	restarts2 := soakRestarts(t, sock)
	// Everything but quiet.service stopped: the fds are back where they
	// were (a leak per connection, datagram or restart would show here).
	if r := ctlRun(t, in, "stop", "restarters.target"); r.code != 0 {
		t.Fatalf("stopping the 200 services: %s", r)
	}
	in.waitFor("the 200 services stopped", 60*time.Second, func() bool { return soakRunning(t, sock) == 0 })
	var endFds int
	in.waitFor("fds back to the idle count", 10*time.Second, func() bool {
		endFds = soakProbe(t, sock, pid).fds
		return endFds <= idleFds
	})
	b, du, a := summarise(before), summarise(during), summarise(after)
	t.Logf("soak of %v as PID1, 200 restarting services, floods by uid 65534 on the control socket (4 clients), "+
		"the notify socket (2 senders) and output (yes, cat /dev/urandom):\n  before %v\n  during %v\n  after  %v\n"+
		"  restarts during the floods: %d (%.0f/s), %d restarts in all; fds with quiet.service alone: %d at the start, %d at the end",
		flooded, b, du, a, restarts1-restarts0, float64(restarts1-restarts0)/flooded.Seconds(), restarts2, idleFds, endFds)
	console := in.out.String()
	t.Logf("gosd's console: %d bytes, %d 'Suppressed N messages' lines, %d 'log lines suppressed' lines",
		len(console), strings.Count(console, "Suppressed "), strings.Count(console, "log lines suppressed"))

	// The bounds docs/pid1.md states.
	if du.rssMax > soakMaxRSSKiB {
		t.Errorf("RSS reached %d KiB during the floods, bound %d KiB", du.rssMax, soakMaxRSSKiB)
	}
	if a.rssLast > b.rssMax+soakRSSGrowthKiB {
		t.Errorf("RSS after the floods %d KiB, before at most %d KiB: grew by more than %d KiB", a.rssLast, b.rssMax, soakRSSGrowthKiB)
	}
	// The fd count swings with how many of the 200 services run at the
	// moment (they start and stop together); the exact check is the idle
	// count above.
	if du.fdsMax > b.fdsMax+soakFloodFds {
		t.Errorf("fds: before at most %d, during %d (bound +%d)", b.fdsMax, du.fdsMax, soakFloodFds)
	}
	if code := in.stop(60 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

// The bounds of docs/pid1.md "Hostile units and users".
const (
	soakMaxRSSKiB    = 256 << 10 // at any time during the floods
	soakRSSGrowthKiB = 64 << 10  // after the floods, over the largest RSS before
	soakFloodFds     = 200       // during: the floods' own connections and pipes
)
