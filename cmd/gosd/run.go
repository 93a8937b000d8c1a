package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"gosd/boot"
	"gosd/exec"
	"gosd/internal/kcmdline"
	"gosd/manager"
	"gosd/reactor"
	"gosd/unitfile"
)

// RunCmd is the manager: `gosd [--config FILE] [--unit-path DIR]...
// [--target UNIT] [--control-socket PATH]`.
type RunCmd struct {
	Config        string   `help:"gosd's TOML config file (default /etc/gosd/gosd.toml when present)." type:"path"`
	UnitPath      []string `name:"unit-path" help:"Load units from this directory (repeatable); replaces systemd's search path." type:"path"`
	Target        string   `help:"Unit to start (default default.target)."`
	ControlSocket string   `name:"control-socket" help:"Control API socket (default /run/gosd/control.sock)." type:"path"`
	NotifySocket  string   `name:"notify-socket" help:"sd_notify socket services report to (default /run/gosd/notify)." type:"path"`
	PrivateBus    string   `name:"private-bus-socket" help:"Serve the org.freedesktop.systemd1 D-Bus API here (default /run/systemd/private as PID1, else none; - for none)."`
	UserDB        string   `name:"userdb-socket" help:"Serve the dynamic users to nss-systemd here (default /run/systemd/userdb/io.systemd.DynamicUser as PID1, else none; - for none)."`
	Detach        bool     `help:"Go to the background once the target is reached: the command then exits 0 (1 if gosd died first) while gosd supervises on in its own session. The default in a FreeBSD jail, for jail(8)'s exec.start."`
	NoDetach      bool     `name:"no-detach" help:"Stay in the foreground, also in a FreeBSD jail."`
	// Options are read as the kernel command line's in a container, as
	// systemd reads its own arguments there (kcmdline).
	Options []string `arg:"" optional:"" name:"option" help:"In a container, kernel command line options for gosd (systemd.unit=, quiet, systemd.show_status=, ...): there /proc/cmdline is the host's and is not read."`
}

// earlyHooks runs before anything else in main: the in-child exec helper,
// which never returns when this process is one.
func earlyHooks() {
	exec.RunHelperIfRequested()
}

// managerHooks run before the manager's command line is parsed: signal
// routing, which must be in place before the first child can exit
// (FINDINGS.md "Signals and reaping"). The client (gosdctl, systemctl)
// keeps Go's default signals, so Ctrl-C and SIGTERM end it; so does
// verify.
func managerHooks() {
	reactor.InstallSignals()
	spareProc()
	endBootGC = bootGC()
}

// bootGCPercent is the garbage collector's GOGC while the boot job runs:
// the heap may grow to five times what is live instead of twice. At boot
// the live heap is small (2 MiB in the Debian boot) and Go's floor for the
// next collection is then 4 MiB, so loading the units and starting them
// collected every 2 MiB allocated: 11 cycles in that boot, a quarter of
// PID1's CPU (the perf profile: 22% in the background mark workers). At
// 400, PID1's own CPU in that boot went from 195 to 139 ms (GOGC=off:
// 137, 200: 150, 800: 139; the instruction-counted clock, one boot each).
const bootGCPercent = 400

// endBootGC puts the collector's pace back (reactor.Config.AfterBoot).
var endBootGC = func() {}

// bootGC raises the collector's percent for the boot, unless GOGC is set,
// and returns what puts it back once the boot job has ended; the reactor
// then hands the boot's garbage back to the kernel, so the idle heap is
// what it would have been.
func bootGC() func() {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(bootGCPercent)
	return func() { debug.SetGCPercent(prev) }
}

// spareProc gives the Go scheduler one P more than it would take (unless
// GOMAXPROCS is set). The loop and the spawner are locked threads that
// each hold a P while they run, so with one P per core a spawn leaves no
// P idle; the runtime's monitor then takes the loop's P back every time
// the loop waits in epoll_wait (a syscall with no idle P to spare) and
// hands it to a thread started for the purpose, which finds nothing to
// do: measured at 1000 oneshots on 2 cores, that monitor thread alone
// used 150-165 ms of CPU to the target, 65-90 ms with the spare P. A
// spare P that is idle costs nothing.
func spareProc() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), 2) + 1)
	}
}

// settings merges flags over the config file over the built-in defaults.
func (c *RunCmd) settings() (Config, error) {
	cfg, err := loadConfig(c.Config)
	if err != nil {
		return cfg, err
	}
	if len(c.UnitPath) > 0 {
		cfg.UnitPath = c.UnitPath
	}
	for dst, src := range map[*string]string{&cfg.Target: c.Target, &cfg.ControlSocket: c.ControlSocket, &cfg.NotifySocket: c.NotifySocket, &cfg.PrivateBusSocket: c.PrivateBus, &cfg.UserDBSocket: c.UserDB} {
		if src != "" {
			*dst = src
		}
	}
	if len(cfg.UnitPath) == 0 {
		cfg.UnitPath = unitfile.DefaultSearchPath()
	}
	return cfg, nil
}

func (c *RunCmd) Run() error {
	cfg, err := c.settings()
	if err != nil {
		return err
	}
	pid1 := os.Getpid() == 1
	bootLog := func(format string, args ...any) { writeWithin(os.Stderr, fmt.Sprintf("gosd: "+format+"\n", args...)) }
	// A gosd started by daemon-reexec keeps what the old one set up.
	reexeced := os.Getenv(reactor.ReexecEnv) != ""
	// A FreeBSD jail's init (docs/jail.md), or --detach: from here on only
	// the supervising child runs; bootDone lets the waiting parent exit.
	bootDone := detachIfAsked(c.Detach, c.NoDetach, reexeced, bootLog)
	// The status lines go to stdout, the console as PID1; the kernel
	// command line may quieten them (systemd.show_status=, quiet).
	var console io.Writer = os.Stdout
	consoleErrorsOnly := false
	if !pid1 && len(c.Options) > 0 {
		// Only PID1 takes kernel options as words; elsewhere a word is a
		// mistyped command (gosd verfiy x.service), not a boot.
		return fmt.Errorf("unexpected argument %q", c.Options[0])
	}
	if pid1 && boot.InContainer() {
		kcmdline.UseOwn(c.Options)
	}
	if pid1 {
		// Before anything else: spawning needs /dev/null, sockets need /run.
		if reexeced {
			// Done already by the gosd that re-executed into this one.
		} else {
			// Each failed step is logged once, by EarlyBoot itself.
			boot.EarlyBoot(bootLog)
		}
		// After a reexec too: the new image has its own comm.
		if err := boot.Announce("", bootLog); err != nil {
			bootLog("boot: %v", err)
		}
		// systemd.unit= / gosd.unit= on the kernel command line choose the
		// target unless --target did (kernel-command-line(7)).
		cl := boot.ParseKernelCmdline(boot.ReadKernelCmdline())
		if cl.Unit != "" && c.Target == "" {
			cfg.Target = cl.Unit
		}
		if cl.LogLevel != "" {
			cfg.LogLevel = cl.LogLevel
		}
		switch cl.StatusShown() {
		case "none":
			console = nil
		case "error":
			consoleErrorsOnly = true
		}
	}
	minLevel, err := parseLogLevel(cfg.LogLevel)
	if err != nil {
		bootLog("%v", err)
	}
	sp := unitfile.SystemSpecifiers()
	var current *unitfile.Set
	// report prints a loading problem: to stderr before the reactor runs,
	// through its log afterwards (a reload runs on the loop, which must
	// never write to the console itself: reactor/console.go).
	report := func(d unitfile.Diag) { fmt.Fprintln(os.Stderr, "gosd:", d.String()) }
	var loadedAt time.Time
	load := func() *unitfile.Set {
		// Before reading: a file changed while it is read counts as
		// changed since (NeedDaemonReload=).
		loadedAt = time.Now()
		current = unitfile.Load(unitfile.Options{SearchPath: cfg.UnitPath, Specifiers: &sp, Generators: pid1})
		for _, d := range current.Diags() {
			report(d)
		}
		return current
	}
	load()
	logs, err := cfg.Log.settings(pid1, current, cfg.UnitPath)
	if err != nil {
		return err
	}
	for _, n := range logs.notes {
		bootLog("%s", n)
	}
	m := manager.New(current)
	m.SetMinLevel(minLevel)
	b := &backend{m: m, units: func() *unitfile.Set { return current },
		loadedAt: func() time.Time { return loadedAt }, paths: cfg.UnitPath,
		waiting: map[uint64]func(manager.JobResult){}, bootDone: bootDone}
	r, err := reactor.New(reactor.Config{
		Units:             current,
		Target:            cfg.Target,
		Manager:           m,
		Log:               os.Stderr,
		Console:           console,
		ConsoleErrorsOnly: consoleErrorsOnly,
		NotifySocket:      cfg.NotifySocket,
		JournalSocket:     cfg.journalSocket(pid1),
		TimerStampDir:     timerStampDir(pid1),

		LogMemoryMax:      logs.memoryMax,
		Persist:           logs.persist,
		RateLimitInterval: logs.rateInterval,
		RateLimitBurst:    logs.rateBurst,
		SyslogSocket:      logs.syslogPath,
		NativeSocket:      logs.native,
		ReadKmsg:          logs.readKmsg,
		PID1:              pid1,
		Subreaper:         !pid1,
		Observe:           b.observe,
		Reload:            func() (manager.UnitSource, error) { return load(), nil },
		HandoverExtra:     b.handoverExtra,
		AfterBoot:         endBootGC,
	})
	if err != nil {
		return err
	}
	b.r = r
	report = func(d unitfile.Diag) {
		level := manager.LevelWarning
		if d.Severity == unitfile.Error {
			level = manager.LevelError
		}
		r.Log(d.Unit, d.Pos, level, d.Msg)
	}
	// The control server starts before anything is spawned.
	srv, err := startControl(cfg.ControlSocket, b, r.Now)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gosd: control socket %s: %v (running without it)\n", cfg.ControlSocket, err)
		srv = nil
	} else {
		defer srv.Close()
	}
	var bus io.Closer
	if path := cfg.privateBusSocket(pid1); path != "" {
		bus, err = startBus(path, b, r.Now)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gosd: D-Bus API socket %s: %v (running without it)\n", path, err)
			bus = nil
		} else {
			defer bus.Close()
		}
	}
	if path := cfg.userDBSocket(pid1); path != "" {
		dir := os.Getenv("GOSD_DYNAMIC_USER_DIR")
		if dir == "" {
			dir = reactor.DefaultDynamicUserDir
		}
		if udb, err := exec.ServeUserDB(path, dir); err != nil {
			fmt.Fprintf(os.Stderr, "gosd: userdb socket %s: %v (dynamic users will have no names)\n", path, err)
		} else {
			defer udb.Close()
		}
	}
	code := r.Run()
	if pid1 {
		// PID1 never returns to the kernel: stop what is left, sync,
		// unmount, then power off / reboot / halt, or exit in a container.
		if srv != nil {
			srv.Close()
		}
		if bus != nil {
			bus.Close()
		}
		boot.FinalShutdown(boot.Action(r.ExitAction()), code, bootLog)
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// timerStampDir is where Persistent= timers keep their stamps: systemd's
// place as the system manager, gosd's own as a plain supervisor, which may
// run beside a systemd that owns systemd's.
func timerStampDir(pid1 bool) string {
	if pid1 {
		return reactor.DefaultTimerStampDir
	}
	return "/var/lib/gosd/timers"
}

// consoleWait bounds how long one of gosd's own lines may wait for the
// console outside the reactor (early boot, final shutdown).
const consoleWait = 2 * time.Second

// writeWithin writes line to w, waiting at most consoleWait: a console that
// takes nothing (a pipe nobody reads) must not keep PID1 from powering off.
// A write that did not finish in time goes on in the background, and the
// lines that come meanwhile are dropped.
func writeWithin(w io.Writer, line string) {
	if !consoleBusy.CompareAndSwap(false, true) {
		return // an earlier line still waits for the console
	}
	done := make(chan struct{})
	go func() {
		w.Write([]byte(line))
		consoleBusy.Store(false)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(consoleWait):
	}
}

// consoleBusy: a writeWithin write is under way.
var consoleBusy atomic.Bool
