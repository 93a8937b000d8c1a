package main

// The spawn-cost suite: what one spawn costs a plain unit and a unit with
// Debian's redis-server.service settings, against floors that do the same
// kernel work with less around it.

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	gexec "gosd/exec"
	"gosd/unitfile"
)

// redisUnit is Debian 12's /lib/systemd/system/redis-server.service
// (redis 5:7.0.15-1~deb12u1, Debian packaging), unaltered except that
// ExecStart= runs /bin/true (the spawn is measured, not redis) and
// ExecPaths= lets it run (NoExecPaths=/ would refuse it).
const redisUnit = `[Service]
Type=notify
ExecStart=/bin/true
PIDFile=/run/redis/redis-server.pid
TimeoutStopSec=0
Restart=always
User=redis
Group=redis
RuntimeDirectory=redis
RuntimeDirectoryMode=2755
UMask=007
PrivateTmp=true
LimitNOFILE=65535
PrivateDevices=true
ProtectHome=true
ProtectSystem=strict
ReadWritePaths=-/var/lib/redis
ReadWritePaths=-/var/log/redis
ReadWritePaths=-/var/run/redis
CapabilityBoundingSet=
LockPersonality=true
MemoryDenyWriteExecute=true
NoNewPrivileges=true
PrivateUsers=true
ProtectClock=true
ProtectControlGroups=true
ProtectHostname=true
ProtectKernelLogs=true
ProtectKernelModules=true
ProtectKernelTunables=true
ProtectProc=invisible
RemoveIPC=true
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=true
RestrictRealtime=true
RestrictSUIDSGID=true
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~ @privileged @resources
ReadWriteDirectories=-/etc/redis
NoExecPaths=/
ExecPaths=/usr/bin/redis-server /usr/lib /lib /usr/bin/true
`

// spawnOneEnv makes the harness, re-exec'd, spawn the redis unit once and
// exit with the child's status: the process the floor's recorder traces.
const spawnOneEnv = "GOSD_BENCH_SPAWN_ONE"

type spawnRow struct {
	name, what string
	spawn      func() error
	wall, cpu  []float64 // ms per spawn, one value per round
	skipped    string
}

type spawnResult struct {
	load      [2]string // /proc/loadavg before and after
	rows      []*spawnRow
	floorNote []string
	user      string
	perRound  int
}

// redisSpec parses redisUnit as gosd would (User=redis becomes nobody
// where there is no redis user).
func redisSpec(work string) (gexec.Spec, string, error) {
	text := redisUnit
	name := "redis"
	if _, err := user.Lookup("redis"); err != nil {
		name = "nobody"
		text = strings.ReplaceAll(text, "=redis\n", "=nogroup\n")
		text = strings.ReplaceAll(text, "User=nogroup", "User=nobody")
	}
	entries, diags := unitfile.Parse("redis-server.service", []byte(text))
	if len(diags) > 0 {
		return gexec.Spec{}, "", fmt.Errorf("redis-server.service: %v", diags[0])
	}
	u := unitfile.Build("redis-server.service", entries, unitfile.BuildInfo{})
	if u.Service == nil || len(u.Service.ExecStart) == 0 {
		return gexec.Spec{}, "", fmt.Errorf("redis-server.service: no ExecStart")
	}
	return gexec.Spec{Unit: "redis-server.service", Cmd: u.Service.ExecStart[0], Exec: &u.Service.Exec, Conn: -1, Stdout: -1, Stderr: -1}, name, nil
}

// sandboxDirs keeps the harness's PrivateTmp= and inaccessible nodes in
// its work directory.
func sandboxDirs(work string) {
	d := filepath.Join(work, "sandbox")
	os.MkdirAll(d, 0o755)
	gexec.InaccessibleDir = filepath.Join(d, "inaccessible")
	gexec.PrivateTmpRoots = [2]string{d, d}
}

// spawnOne is the re-exec'd harness: one spawn of the redis unit, waited
// for.
func spawnOne(work, helper string) {
	gexec.UseHelperBinary(helper)
	sandboxDirs(work)
	spec, _, err := redisSpec(work)
	if err != nil {
		fatal("%v", err)
	}
	if err := startAndWait(spec); err != nil {
		fatal("%v", err)
	}
	os.Exit(0)
}

func startAndWait(spec gexec.Spec) error {
	p, err := gexec.Start(spec)
	if err != nil {
		return err
	}
	if p.PidFD >= 0 {
		syscall.Close(p.PidFD)
	}
	return waitOK(p.Pid)
}

// logged is spec with its output appended to log, whose end a failed
// spawn's message quotes (the helper says there what failed).
func logged(spec gexec.Spec, log *os.File) func() error {
	spec.Stdout, spec.Stderr = int(log.Fd()), int(log.Fd())
	return func() error {
		if err := startAndWait(spec); err != nil {
			data, _ := os.ReadFile(log.Name())
			return fmt.Errorf("%w; its last output: %q", err, data[max(0, len(data)-600):])
		}
		return nil
	}
}

func waitOK(pid int) error {
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		return err
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return fmt.Errorf("child %d: %v (status %d)", pid, ws, ws.ExitStatus())
	}
	return nil
}

func forkExecWait(path string, argv []string) error {
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	fd := devnull.Fd()
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Dir: "/", Files: []uintptr{fd, fd, fd}, Sys: &syscall.SysProcAttr{Setsid: true}})
	if err != nil {
		return err
	}
	return waitOK(pid)
}

func cpuMs() float64 {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec)*1e3 + float64(t.Usec)/1e3 }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

func spawnCost(c config, b bins, work string) *spawnResult {
	gexec.UseHelperBinary(b.gosd)
	sandboxDirs(work)
	defer gexec.CleanupSandbox("redis-server.service")
	res := &spawnResult{perRound: 40}
	if c.quick {
		res.perRound = 20
	}
	redis, user, err := redisSpec(work)
	check(err)
	res.user = user
	plain := gexec.Spec{Unit: "plain.service", Cmd: unitfile.ExecCommand{Path: "/bin/true", Argv: []string{"/bin/true"}}, Conn: -1, Stdout: -1, Stderr: -1}
	forced := plain
	forced.ForceHelper = true
	log, err := os.Create(filepath.Join(work, "spawn-output"))
	check(err)
	defer log.Close()

	rows := []*spawnRow{
		{name: "raw fork+exec", what: "`syscall.ForkExec` of /bin/true (setsid, /dev/null stdio)", spawn: func() error { return forkExecWait("/bin/true", []string{"true"}) }},
		{name: "gosd, plain unit", what: "`exec.Start` of a unit with no settings (the direct spawn)", spawn: func() error { return startAndWait(plain) }},
		{name: "gosd, redis-server.service", what: "`exec.Start` of Debian's unit (User=" + user + "): the release gosd binary as the exec helper", spawn: logged(redis, log)},
		{name: "gosd helper, nothing to apply", what: "`exec.Start` of the plain unit forced through the helper: the helper's fixed cost", spawn: logged(forced, log)},
		{name: "minimal Go program", what: "a static Go program (`bench/helper exec`) that only execs /bin/true", spawn: func() error {
			return forkExecWait(b.helper, []string{"helper", "exec", "/bin/true"})
		}},
	}
	// The floors: C programs, built now.
	cdir := filepath.Join(work, "cfloor")
	os.MkdirAll(cdir, 0o755)
	empty, err := buildC(cdir, "exec-only", "#include <unistd.h>\nint main(void) { char *a[] = {\"true\", 0}, *e[] = {0}; execve(\"/bin/true\", a, e); return 203; }\n")
	execOnly := &spawnRow{name: "C program, exec only", what: "a static C program that only execs /bin/true"}
	hardFloor := &spawnRow{name: "**hardened floor**", what: "a static C program making the kernel calls gosd's helper makes for redis-server.service (recorded with ptrace), then the exec"}
	if err != nil {
		execOnly.skipped = fmt.Sprintf("not built: %v", err)
		hardFloor.skipped = execOnly.skipped
	} else {
		execOnly.spawn = func() error { return forkExecWait(empty, []string{empty}) }
		self, _ := os.Executable()
		env := append(os.Environ(), spawnOneEnv+"="+work+":"+b.gosd)
		rec, err := recordHelper(self, env)
		if err != nil {
			hardFloor.skipped = fmt.Sprintf("recording failed: %v", err)
		} else {
			src, made := floorSource(rec)
			path, err := buildC(cdir, "hardened-floor", src)
			if err != nil {
				hardFloor.skipped = err.Error()
			} else {
				hardFloor.spawn = func() error { return forkExecWait(path, []string{path}) }
				res.floorNote = floorSummary(rec, made)
			}
		}
	}
	rows = append(rows, execOnly, hardFloor)
	res.rows = rows

	rounds := c.runs
	if rounds < 5 {
		rounds = 5
	}
	progress("spawn cost: %d rounds of %d spawns per row, rows interleaved", rounds, res.perRound)
	res.load[0] = loadNow()
	for r := 0; r < rounds; r++ {
		for i := range rows {
			row := rows[(i+r)%len(rows)] // a different row goes first each round
			if row.spawn == nil {
				continue
			}
			cpu0, t0 := cpuMs(), time.Now()
			for k := 0; k < res.perRound; k++ {
				if err := row.spawn(); err != nil {
					fatal("spawn cost, %s: %v", row.name, err)
				}
			}
			wall := msf(time.Since(t0)) / float64(res.perRound)
			row.wall = append(row.wall, wall)
			row.cpu = append(row.cpu, (cpuMs()-cpu0)/float64(res.perRound))
		}
	}
	res.load[1] = loadNow()
	return res
}

// loadNow is the 1-minute load average: on a shared machine the wall
// figures mean little when it exceeds the CPUs.
func loadNow() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func (s *spawnResult) write(b *strings.Builder) {
	base := s.row("gosd, plain unit")
	med := func(r *spawnRow, cpu bool) float64 {
		if r == nil || len(r.wall) == 0 {
			return 0
		}
		if cpu {
			return summarize(r.cpu).Median
		}
		return summarize(r.wall).Median
	}
	var rows [][]string
	for _, r := range s.rows {
		if r.skipped != "" {
			rows = append(rows, []string{r.name, r.what, "skipped: " + r.skipped, "", "", ""})
			continue
		}
		rows = append(rows, []string{r.name, r.what, summarize(r.wall).String(), ms(med(r, true)),
			fmt.Sprintf("%.2f", med(r, false)/med(base, false)), fmt.Sprintf("%.2f", med(r, true)/med(base, true))})
	}
	b.WriteString(table([]string{"spawn", "what", "wall per spawn", "CPU per spawn", "wall / plain", "CPU / plain"}, rows))
	g, f := s.row("gosd, redis-server.service"), s.row("**hardened floor**")
	b.WriteString("\n")
	fmt.Fprintf(b, "- gosd hardened / plain: %.2f wall, %.2f CPU (goal: under 2)\n", med(g, false)/med(base, false), med(g, true)/med(base, true))
	if f != nil && f.skipped == "" {
		fmt.Fprintf(b, "- hardened floor / plain: %.2f wall, %.2f CPU\n", med(f, false)/med(base, false), med(f, true)/med(base, true))
		fmt.Fprintf(b, "- gosd hardened / hardened floor: %.2f wall, %.2f CPU\n", med(g, false)/med(f, false), med(g, true)/med(f, true))
		if e := s.row("C program, exec only"); e != nil && e.skipped == "" {
			fmt.Fprintf(b, "- the settings' kernel work alone (hardened floor − C exec only) / plain: %.2f CPU\n", (med(f, true)-med(e, true))/med(base, true))
		}
	}
	fmt.Fprintf(b, "- Load average (1 min) at the start and end of the suite: %s, %s, on %d CPUs\n", s.load[0], s.load[1], runtime.NumCPU())
	for _, n := range s.floorNote {
		fmt.Fprintf(b, "- Hardened floor: %s\n", n)
	}
}

func (s *spawnResult) row(name string) *spawnRow {
	for _, r := range s.rows {
		if r.name == name {
			return r
		}
	}
	return nil
}
