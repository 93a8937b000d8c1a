package reactor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"gosd/cgroups"
	"gosd/exec"
	"gosd/logstore"
	"gosd/manager"
	"gosd/sockets"
	"gosd/unitfile"
)

// Stepper is the manager as the reactor sees it (*manager.Manager).
type Stepper interface {
	Step(now time.Duration, ev manager.Event) []manager.Effect
}

// DefaultNotifySocket is NOTIFY_SOCKET when Config.NotifySocket is empty.
const DefaultNotifySocket = unitfile.RunDir + "/gosd/notify"

// DefaultDynamicUserDir is where the uids of DynamicUser= units are
// recorded (on /run, so a reboot frees them and a daemon-reexec keeps them).
const DefaultDynamicUserDir = unitfile.RunDir + "/gosd/dynamic-uid"

// Config is what Run needs.
type Config struct {
	Units   manager.UnitSource // unit definitions (descriptions, sockets, exec contexts)
	Target  string             // started at boot with mode replace; "" = none
	Manager Stepper            // required
	// Log receives gosd's log: service output as "unit[pid]: line" and
	// messages as LogLine renders them. Default os.Stderr.
	Log io.Writer
	// Console receives systemd-style progress lines (ConsoleLine); nil = none.
	Console io.Writer
	// ConsoleErrorsOnly keeps every line but failures ([FAILED], [ TIME ], [DEPEND])
	// off the Console (systemd.show_status=error, or quiet); the log
	// still has them all.
	ConsoleErrorsOnly bool
	// NotifySocket is the sd_notify socket path; "" = DefaultNotifySocket,
	// "-" = no notify socket.
	NotifySocket string
	// JournalSocket is systemd-journald's native socket: while it accepts
	// datagrams, output of units with StandardOutput=journal (the default)
	// goes there, attributed to the process that wrote it (journal.go);
	// "" = all service output goes to Log.
	JournalSocket string
	PID1          bool // gosd is PID1: SIGINT means reboot, SIGRTMIN+n shut down
	Subreaper     bool // become a child subreaper (ignored as PID1)
	// AfterBoot runs on the loop once, when the boot job has ended (at
	// the start when there is none), before the heap's garbage is handed
	// back: cmd/gosd puts the garbage collector's pace back there.
	AfterBoot func()

	// The log store (logs.go) keeps every line the units write, every
	// syslog and native datagram gosd receives and gosd's own messages,
	// bounded by LogMemoryMax bytes (0: logstore.DefaultMemoryMax) in
	// memory and, with Persist, in rotated files written off the loop.
	LogMemoryMax int
	Persist      *logstore.PersistConfig
	// RateLimitInterval and RateLimitBurst limit what one unit may put in
	// the store (journald's RateLimitIntervalSec=, RateLimitBurst=); 0:
	// journald's defaults, negative: no limit.
	RateLimitInterval time.Duration
	RateLimitBurst    int
	// SyslogSocket and NativeSocket are where gosd receives logs in
	// journald's place (/dev/log; /run/systemd/journal/socket); "" = not
	// served. A socket unit that listens there takes the path over
	// (logsockets_linux.go).
	SyslogSocket, NativeSocket string
	// Kmsg is the kernel log device StandardOutput=kmsg writes to: "" =
	// /dev/kmsg, "-" = none (such output then goes to Log).
	Kmsg string
	// ReadKmsg: the kernel's messages go into the log store too
	// (kmsgread_linux.go); for the init of a machine.
	ReadKmsg bool

	// OnAction is called (on the reactor goroutine) for every Action
	// effect; nil logs it. The PID1 power-off path hooks in here and after
	// Run returns (ExitAction).
	OnAction func(manager.Action)
	// Observe sees every effect after it was performed (control watchers).
	Observe func(manager.Effect)
	// Reload is called on SIGHUP; its units are fed as manager.Reload.
	// nil: SIGHUP is logged and ignored.
	Reload func() (manager.UnitSource, error)
	// CgroupRoot chooses how units are contained. "" (default): cgroup v2
	// when available (cgroups.Detect; a private subtree when gosd sits in
	// the machine's root cgroup without being its init), else process
	// groups; $GOSD_CGROUP_ROOT is read when this is empty. "-": process
	// groups only. Anything else: a subtree below gosd's own cgroup
	// (cgroups.DetectAt), created and removed by gosd.
	CgroupRoot string
	// TimerStampDir holds the stamps of Persistent= timers; "" =
	// DefaultTimerStampDir.
	TimerStampDir string
	// DynamicUserDir records the uids handed to DynamicUser= units; "" =
	// $GOSD_DYNAMIC_USER_DIR, else DefaultDynamicUserDir.
	DynamicUserDir string
	// HandoverExtra is called by daemon-reexec for state of the caller's
	// own to hand to the new binary (RestoredExtra there); nil: none.
	HandoverExtra func() json.RawMessage
}

// Reactor is gosd's one event loop. All its state belongs to the goroutine
// running Run; other goroutines use Submit.
type Reactor struct {
	cfg   Config
	poll  poller
	log   *consoleWriter // Config.Log, written out off the loop (console.go)
	con   *consoleWriter // Config.Console, likewise; nil = none
	start time.Time

	qmu   sync.Mutex
	queue []func()

	pending []manager.Event
	front   int         // events feedNext put at the head of pending for this step
	sources map[int]any // fd -> *outputPipe, *procSource, *listenSource, notifySource
	// procs: the processes gosd spawned and has not reaped, by pid, with
	// their pidfds (a reactor resource: race-free signals, a wake source)
	// and their unit, for what the reactor answers off the manager: the
	// unit of a log datagram's or a notification's sender, of a MAINPID=
	// candidate's process tree without cgroups (pidOwner), which cgroup
	// to read when one is reaped, and which exits and notifications are
	// of spawns in flight (holdExit, holdNotify). Exits and notifications
	// go to the manager with their raw pid: it routes them by its own pid
	// table. This is the reactor's one pid table.
	procs map[int]*proc
	// Spawns in flight on the spawner (spawner.go), and what waits for
	// them: exits of unknown children, CgroupEmpty of their units.
	spawner    *spawner
	inFlight   int
	removals   int // cgroup removals queued on the spawner
	spawnSeq   uint64
	spawnsDone uint64          // seq of the last spawn done
	deferred   []pendingEffect // JobFinished effects waiting for spawns (afterSpawns)
	spawning   map[string]int  // unit -> spawns in flight
	early      []manager.Event // Exited and Notify held for spawns in flight
	heldEmpty  map[string]bool
	groups     map[string]map[int]bool // unit -> live process groups it leads
	timers     timers
	sets       map[string]*sockets.Set
	// accepts: the socket units in sets with Accept=yes.
	accepts map[string]bool
	// paths: the path units' watches (paths.go); pathExisted: whether a
	// PathChanged=/PathModified= path existed at its last check.
	paths       map[string]*pathWatch
	pathExisted map[string]bool
	// mountFD watches /proc/self/mountinfo (mountwatch.go); mountPoints
	// is the table as last reported.
	mountFD     int
	mountPoints map[string]bool
	// The rate limit of mount-table reads (mountwatch.go): reads in the
	// window that began at mountReadStart, and a read deferred to its end.
	mountReadStart    time.Duration
	mountReads        int
	mountReadDeferred bool
	// toolPaths: where mount(8), umount(8), swapon(8) and swapoff(8)
	// were found last ("mount-helper": not found), to log a change (mounts.go).
	toolPaths map[string]string
	// swapFD watches /proc/swaps (swapwatch.go); swaps are the swaps on.
	swapFD int
	swaps  map[string]bool
	// automounts: the automount units' autofs mounts (automount_*.go);
	// autofsDevFD is /dev/autofs once opened (-1 before).
	automounts  map[string]*autofsPoint
	autofsDevFD int
	// handedPoints are the automount points the gosd before a
	// daemon-reexec handed over, until their units adopt them (reexec.go).
	handedPoints map[string]hoAutomount
	// ueventFD is the uevent socket (devices_linux.go), -1 without;
	// devReported holds the /sys paths of the devices last reported
	// ready; ueventKernelLeft: the socket left the kernel's group
	// because udev serves the system.
	ueventFD         int
	coldplugScan     chan coldplugResult // startDeviceWatch's read, until openDeviceWatch takes it
	devFS            deviceFS
	devReported      map[string]bool
	ueventBuf        []byte
	ueventKernelLeft bool
	watched          map[string]bool
	connNr           uint64
	notify           *sockets.NotifySocket
	journal          *journal   // nil: service output goes to the log only
	bus              *busClient // nil until a Type=dbus service's name is watched
	warned           map[string]bool
	dyn              *exec.DynamicUsers
	// globalEnv is the manager's environment block (set-environment).
	globalEnv []string

	cg         *cgroups.Hierarchy // nil: process groups
	cgPrivate  bool               // cg's root was made by gosd (DetectAt)
	cgNoMemory bool               // units' cgroups have no memory.events
	cgSlices   map[string]*sliceCgroup
	// reopen: the units whose cgroups a daemon-reexec hands over, while
	// the manager's Restore is performed (reexec.go).
	reopen map[string]bool
	// bootDone: the boot target's job finished; StartupCPUWeight= gives
	// way to CPUWeight=.
	bootDone  bool
	cgUnits   map[string]*unitCgroup
	sliceDirs map[string]bool

	lastActive map[string]string // unit -> last ActiveState seen (console progress)
	// logLimits: the log settings of units whose last Spawn had any, for
	// the datagrams their processes send to the log sockets (which come
	// with no effect); dropped at the unit's Cleanup.
	logLimits map[string]logLimits

	store    *logstore.Store
	persist  *logstore.Persister
	limiter  logstore.Limiter // units' output (journald's limit per unit)
	msgLimit logstore.Limiter // gosd's own messages, per unit and kind (logAt)
	logSocks []*logSocket
	kmsgFD   int // -1: closed; opened on first use
	kmsgGone bool
	kmsgBuf  []byte
	oobBuf   []byte   // log sockets' control messages
	stamp    logStamp // of the read being handled (logs.go)
	kmsgRead *kmsgReader
	kmsgNext uint64 // the next kernel record to read (handed over by daemon-reexec)
	readBuf  []byte

	// turn counts the loop's waits (from 1): what was read in one turn
	// holds for the rest of it (populated).
	turn uint64
	// sweepDue: a SIGCHLD came; the wait4(-1) sweep (reap) is due at
	// the end of the turn.
	sweepDue bool
	// groupSignals: group kills whose main process was signalled and
	// whose cgroup listing is due at the end of the turn (killGroup).
	groupSignals []groupSignal
	// newRemovals: cgroup removals of this turn, handed to the spawner
	// at its end (submitRemovals).
	newRemovals  []*spawnJob
	shuttingDown bool
	trimHeap     bool // the boot job ended: free the heap's garbage once
	forcedExit   int  // exit status when a failure forced the shutdown (0: none)
	done         bool
	exitCode     int
	exitAction   string

	bootFailed string // the boot target that could not be queued (onBootJob)

	handedOver bool // started by a daemon-reexec (the state may still fail to load)
	selfPid    int  // gosd\'s own pid: never a unit\'s main process

	restored      bool            // took over from a daemon-reexec
	restoredExtra json.RawMessage // its HandoverExtra
}

type proc struct {
	unit  string
	pidfd int
}

type procSource struct{ pid int }
type listenSource struct {
	unit   string
	accept bool
}
type notifySource struct{}

// New prepares a reactor; nothing runs until Run.
func New(cfg Config) (*Reactor, error) {
	if cfg.Manager == nil {
		return nil, fmt.Errorf("reactor: Config.Manager is required")
	}
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	if cfg.NotifySocket == "" {
		cfg.NotifySocket = DefaultNotifySocket
	}
	if cfg.DynamicUserDir == "" {
		cfg.DynamicUserDir = os.Getenv("GOSD_DYNAMIC_USER_DIR")
	}
	if cfg.DynamicUserDir == "" {
		cfg.DynamicUserDir = DefaultDynamicUserDir
	}
	p, err := newPoller()
	if err != nil {
		return nil, fmt.Errorf("reactor: %w", err)
	}
	sp, err := newSpawner()
	if err != nil {
		p.close()
		return nil, fmt.Errorf("reactor: spawner: %w", err)
	}
	var con *consoleWriter
	if cfg.Console != nil {
		con = newConsoleWriter(cfg.Console, consoleQueueBytes)
	}
	return &Reactor{
		cfg: cfg, poll: p, log: newConsoleWriter(cfg.Log, logQueueBytes), con: con, start: time.Now(),
		sources: map[int]any{}, procs: map[int]*proc{}, spawner: sp, groups: map[string]map[int]bool{},
		sets: map[string]*sockets.Set{}, accepts: map[string]bool{}, paths: map[string]*pathWatch{}, pathExisted: map[string]bool{}, mountFD: -1, ueventFD: -1, toolPaths: map[string]string{}, automounts: map[string]*autofsPoint{}, autofsDevFD: -1, watched: map[string]bool{}, warned: map[string]bool{},
		readBuf: make([]byte, readChunk), lastActive: map[string]string{}, logLimits: map[string]logLimits{},
		cgUnits: map[string]*unitCgroup{}, sliceDirs: map[string]bool{}, cgSlices: map[string]*sliceCgroup{},
		journal: openJournal(cfg.JournalSocket), dyn: exec.NewDynamicUsers(cfg.DynamicUserDir),
		store: logstore.New(cfg.LogMemoryMax), limiter: limiterOf(cfg), kmsgFD: -1,
		selfPid:  os.Getpid(),
		turn:     1,
		msgLimit: logstore.Limiter{Interval: messageRateInterval, Burst: messageRateBurst},
	}, nil
}

// Run is New then (*Reactor).Run; it returns the exit code (2 when the
// reactor cannot start).
func Run(cfg Config) int {
	r, err := New(cfg)
	if err != nil {
		fmt.Fprintln(logOr(cfg.Log), err)
		return 2
	}
	return r.Run()
}

func logOr(w io.Writer) io.Writer {
	if w == nil {
		return os.Stderr
	}
	return w
}

// Submit hands fn to the reactor goroutine; safe from any goroutine. fn
// may call Feed.
func (r *Reactor) Submit(fn func()) {
	r.qmu.Lock()
	r.queue = append(r.queue, fn)
	r.qmu.Unlock()
	r.poll.wake()
}

// Feed queues an event for the manager. Only on the reactor goroutine
// (inside Run, or a function given to Submit).
func (r *Reactor) Feed(ev manager.Event) { r.pending = append(r.pending, ev) }

// ExitAction is the Action of the Exit effect that ended Run ("exit",
// "poweroff", "reboot", "halt", "kexec"); the PID1 path acts on it.
func (r *Reactor) ExitAction() string { return r.exitAction }

// Now is the reactor's monotonic clock, the time given to Step.
func (r *Reactor) Now() time.Duration { return time.Since(r.start) }

// Run runs the loop until an Exit effect and returns its code.
func (r *Reactor) Run() int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	InstallSignals()
	stop := make(chan struct{})
	go r.bridgeSignals(stop)
	defer close(stop)
	defer r.closeConsole()

	if r.cfg.Subreaper && !r.cfg.PID1 && os.Getpid() != 1 {
		if err := becomeSubreaper(); err != nil {
			r.logf("", "cannot become a child subreaper: %v", err)
		}
	}
	if os.Geteuid() == 0 {
		// A container's /proc/sys is read-only or not ours to change:
		// expected there, and not worth a line (systemd logs it at debug).
		err := raiseDgramQueue()
		if err != nil && !errors.Is(err, syscall.EROFS) && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EACCES) {
			r.logf("", "cannot raise net.unix.max_dgram_qlen: %v", err)
		}
	}
	// First: its read of /sys runs beside the rest of the start.
	r.startDeviceWatch()
	hfd := handoverFD()
	if hfd < 0 {
		r.openNotify()
	}
	r.handedOver = hfd >= 0 // its cgroup tree is this gosd's own: keep it
	r.setupCgroups()
	defer r.closeCgroups()
	defer r.journal.close()
	defer r.closeLogs()
	defer r.reportSuppressed()
	if hfd >= 0 {
		r.restored = r.restore(hfd)
		if !r.restored && r.notify == nil {
			r.openNotify()
		}
	}
	r.startPersist()
	r.openLogSockets()
	r.openKmsgReader()
	// Children may have exited before signal.Notify; collect them now.
	r.reap()
	// The wall clock, before anything starts (timer units need it).
	r.Feed(r.clockSet())
	r.openMountWatch()
	defer r.closeMountWatch()
	r.openSwapWatch()
	defer r.closeSwapWatch()
	// An automount point still set up when the loop ends (an exit that did
	// not stop its unit) is not left behind mounted without its reader.
	defer r.closeAutomounts()
	r.openDeviceWatch()
	defer r.closeDeviceWatch()
	if fd := openClockWatch(); fd >= 0 {
		if err := r.addSource(fd, clockSource{}); err != nil {
			syscall.Close(fd)
		}
	}
	if r.cfg.Target != "" && !r.restored {
		r.Feed(manager.Request{ID: BootJobID, Unit: r.cfg.Target, Kind: manager.JobStart, Mode: manager.ModeReplace})
	} else {
		r.bootDone = true // no boot job (none asked, or a re-exec after boot): no startup phase
		r.afterBoot()
	}

	r.spawner.start(r)
	ready := make([]int, 0, 256)
	for {
		r.drainQueue()
		r.drainSpawns()
		r.dispatch()
		r.fireTimers()
		r.dispatch()
		if r.sweepDue {
			r.sweepDue = !r.reapUpTo(sweepBatch)
			r.dispatch()
		}
		r.signalGroups()
		r.submitRemovals()
		if r.done {
			r.finishSpawns() // every child known, every fd closed
			r.spawner.stop()
			return r.exitCode
		}
		timeout := time.Duration(-1)
		if at, ok := r.timers.next(); ok {
			timeout = max(at-r.Now(), 0)
		}
		if r.sweepDue {
			timeout = 0 // the sweep goes on in the next turn
		}
		r.flush()
		if r.trimHeap {
			// Once, when the boot job ends (its line is out): loading and
			// starting every unit left garbage; give it back to the kernel
			// now rather than keep it as idle RSS.
			r.trimHeap = false
			r.afterBoot()
			debug.FreeOSMemory()
		}
		var woken, exited bool
		var err error
		ready, woken, exited, err = r.poll.wait(timeout, ready[:0])
		if err != nil {
			r.logf("", "wait: %v", err)
			continue
		}
		_ = woken // the queue is drained on every turn anyway
		r.turn++
		if exited {
			r.reap()
		}
		for _, fd := range ready {
			r.handleFD(fd)
		}
	}
}

// flush hands the turn's log and console lines to their writers, once
// per loop turn (one write each instead of one per line: at 1000 units,
// thousands of syscalls and reader wake-ups less). It never waits for
// them: a slow console must not stall the loop (console.go).
func (r *Reactor) flush() {
	r.store.WakeWriter()
	r.log.flush()
	if r.con != nil {
		r.con.flush()
	}
}

// drainTimeout bounds how long gosd waits for its log and console to be
// written out before it exits or re-executes.
const drainTimeout = 3 * time.Second

// drainConsole writes out what is queued, waiting at most drainTimeout
// for the log and the console together.
func (r *Reactor) drainConsole() {
	until := time.Now().Add(drainTimeout)
	r.log.drain(time.Until(until))
	if r.con != nil {
		r.con.drain(time.Until(until))
	}
}

// closeConsole is drainConsole at the end of Run; the writers stop.
func (r *Reactor) closeConsole() {
	until := time.Now().Add(drainTimeout)
	r.log.close(time.Until(until))
	if r.con != nil {
		r.con.close(time.Until(until))
	}
}

// bridgeSignals hands signals to the reactor through the wake-up until Run
// returns (signalfd cannot work under the Go runtime: FINDINGS.md).
func (r *Reactor) bridgeSignals(stop chan struct{}) {
	for {
		select {
		case sig := <-signals.ch:
			s := sig.(syscall.Signal)
			r.Submit(func() { r.onSignal(s) })
		case <-stop:
			return
		}
	}
}

func (r *Reactor) drainQueue() {
	r.qmu.Lock()
	q := r.queue
	r.queue = nil
	r.qmu.Unlock()
	for _, fn := range q {
		r.guard("", "submitted work", fn)
	}
}

// dispatch feeds pending events to the manager and performs its effects
// until nothing is pending.
func (r *Reactor) dispatch() {
	for len(r.pending) > 0 && !r.done {
		ev := r.pending[0]
		r.pending = r.pending[1:]
		r.front = 0
		if e, ok := ev.(manager.CgroupEmpty); ok && r.populated(e.Unit) {
			continue // stale: a process came into the cgroup since
		}
		if e, ok := ev.(manager.Reload); ok && e.Units != nil {
			r.cfg.Units = e.Units
			r.forgetResources()
		}
		var effects []manager.Effect
		r.guardOf(eventUnit(ev), "manager step on %T", ev, func() {
			effects = r.cfg.Manager.Step(r.Now(), ev)
		})
		for _, e := range effects {
			r.perform(e)
		}
	}
	if len(r.pending) == 0 {
		r.pending = nil // let the backing array go
	}
}

// guard runs fn and turns a panic into a log line: PID1 must never die.
func (r *Reactor) guard(unit, what string, fn func()) (panicked bool) {
	return r.guardOf(unit, "%s", what, fn)
}

// guardOf is guard with the description formatted (format with the one
// argument of) only when fn panicked: no Sprintf per event and effect.
func (r *Reactor) guardOf(unit, format string, arg any, fn func()) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			r.logf(unit, "panic in %s: %v\n%s", fmt.Sprintf(format, arg), v, debug.Stack())
		}
	}()
	fn()
	return false
}

// gosd's own messages are rate-limited per unit and kind, as systemd's
// log_ratelimit limits a call site: a unit, or an unprivileged process
// sending garbage to the notify socket, could otherwise fill the console
// and the log (issue 18, item 8: 20,000 bad notify datagrams gave 19,8xx
// lines). A kind is one logf format (a call site), or for an already
// formatted message its start (messageKind); so a flood of one message
// about one unit silences only that one.
// Units' output has journald's own limit (allowLog, logs.go).
const (
	messageRateInterval = 30 * time.Second
	messageRateBurst    = 200
)

// logAt writes one of gosd's own messages, rate-limited per unit and
// kind of message (messageKind).
func (r *Reactor) logAt(unit string, pos unitfile.Pos, level manager.Level, msg string) {
	if r.allowMessage(unit, messageKind(msg)) {
		r.writeLog(unit, pos, level, msg)
	}
}

// messageKind stands for the call site of a message that comes already
// formatted (the manager's): its first 32 bytes without digits, which
// are where pids and counts go. A flood of one kind of message about a
// unit (or about none) then silences only that kind, not "Shutting
// down" as well.
func messageKind(msg string) string {
	var b [32]byte
	n := 0
	for i := 0; i < len(msg) && n < len(b); i++ {
		if c := msg[i]; c < '0' || c > '9' {
			b[n] = c
			n++
		}
	}
	return "m:" + string(b[:n])
}

// Log writes a message to gosd's log as the reactor's own (rate-limited
// per unit, never blocking on the console). Reactor goroutine only: from
// Config.Reload, or a function given to Submit.
func (r *Reactor) Log(unit string, pos unitfile.Pos, level manager.Level, msg string) {
	r.logAt(unit, pos, level, msg)
}

// logf writes an error message, rate-limited per unit and format:
// formatted only when it is written.
func (r *Reactor) logf(unit, format string, args ...any) {
	if r.allowMessage(unit, format) {
		r.writeLog(unit, unitfile.Pos{}, manager.LevelError, fmt.Sprintf(format, args...))
	}
}

// allowMessage counts one message of kind about unit; before the first
// one of a new window it says how many the last window suppressed.
func (r *Reactor) allowMessage(unit, kind string) bool {
	ok, suppressed := r.msgLimit.Allow(unit+"\x00"+kind, r.Now())
	if suppressed > 0 {
		r.writeSuppressed(unit, suppressed)
	}
	return ok
}

// writeSuppressed is journald's "Suppressed N messages from UNIT".
func (r *Reactor) writeSuppressed(unit string, n int) {
	from := unit
	if from == "" {
		from = "gosd"
	}
	r.writeLog(unit, unitfile.Pos{}, manager.LevelWarning, fmt.Sprintf("Suppressed %d messages from %s", n, from))
}

// reportSuppressed says, at exit, what the windows still open suppressed.
func (r *Reactor) reportSuppressed() {
	r.limiter.Flush(func(unit string, n int) { r.writeSuppressed(unit, n) })
	r.msgLimit.Flush(func(source string, n int) {
		unit, _, _ := strings.Cut(source, "\x00")
		r.writeSuppressed(unit, n)
	})
}

// writeLog writes one of gosd's own messages. While journald takes them
// they go there, as systemd's LogTarget=journal-or-kmsg does, with UNIT=
// so that `journalctl -u` shows them beside the unit's output; errors then
// reach the log (the console as PID1) too. Otherwise everything goes to
// the log.
func (r *Reactor) writeLog(unit string, pos unitfile.Pos, level manager.Level, msg string) {
	line := LogLine(unit, pos, level, msg)
	sent := r.journalUp() && r.journal.sendManager(unit, level, line)
	r.store.Add(logstore.Entry{Unit: unit, Pid: ownPid, Ident: "gosd", Priority: levelPriority(level), Facility: 3,
		Message: line, Transport: logstore.TransportDriver, Forwarded: sent})
	if sent && level < manager.LevelError {
		return
	}
	r.log.WriteString(line)
	r.log.WriteByte('\n')
}

func (r *Reactor) fireTimers() {
	for _, id := range r.timers.expired(r.Now()) {
		if id == mountReadTimer {
			r.guard("", "mount table", r.onMountReadTimer)
			continue
		}
		r.Feed(manager.TimerFired{ID: id})
	}
}

func (r *Reactor) onSignal(sig syscall.Signal) {
	switch sig {
	case syscall.SIGCHLD:
		// Swept after this turn's events are stepped (Run): the exits
		// of gosd's own children come by their pidfds, and a unit
		// waiting on one (the next of a stop chain) must not wait for a
		// walk over every child first.
		r.sweepDue = true
	case syscall.SIGTERM, syscall.SIGINT:
		action := "exit"
		if r.cfg.PID1 && sig == syscall.SIGINT {
			// Ctrl-Alt-Del (and a microVM host's) arrives as SIGINT to PID1.
			action = "reboot"
		}
		r.shutdown(action, sig)
	case syscall.SIGHUP:
		if err := r.Reload(); err != nil {
			r.logf("", "SIGHUP: %v", err)
		}
	default:
		if isCrashSignal(sig) {
			r.onCrashSignal(sig)
			return
		}
		if a := rtShutdown(sig); a != "" && r.cfg.PID1 {
			r.shutdown(a, sig)
			return
		}
		if isPowerSignal(sig) {
			r.logf("", "SIGPWR received; sigpwr.target is not supported yet")
			return
		}
		r.logf("", "signal %v ignored", sig)
	}
}

// onCrashSignal handles, as PID1, a signal whose default action is a
// core dump. systemd's crash handler takes such a signal for its own crash
// and freezes (or runs a shell, or reboots: CrashShell=, CrashReboot=). In
// Go a signal that reaches signal.Notify was sent by another process (kill,
// sigqueue): a fault of gosd's own code (SIGSEGV, SIGBUS, SIGFPE) is a Go
// panic, which the reactor recovers, or a runtime fatal error, which no
// handler sees. So gosd has not crashed: it logs the signal and goes on;
// SIGQUIT, Go's "dump the goroutines", writes them to the log instead of
// exiting. docs/pid1.md "Crash signals".
func (r *Reactor) onCrashSignal(sig syscall.Signal) {
	if sig == syscall.SIGQUIT {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		r.logf("", "SIGQUIT received: gosd's goroutines follow (PID1 does not exit on it)\n%s", buf)
		return
	}
	r.logf("", "%v received from another process (gosd has not crashed: a fault of its own would be a Go panic); ignored, PID1 does not exit on it", sig)
}

func (r *Reactor) shutdown(action string, sig syscall.Signal) {
	if r.shuttingDown {
		r.logf("", "%v while shutting down: already stopping every unit", sig)
		return
	}
	r.shuttingDown = true
	r.reapply() // StartupCPUWeight= again, as systemd does while shutting down
	r.Feed(manager.Shutdown{Action: action})
}

// reap is the one reaper: wait4(-1, WNOHANG) until nothing is left, so
// coalesced SIGCHLDs and adopted orphans are all collected.
func (r *Reactor) reap() { r.reapUpTo(math.MaxInt) }

// sweepBatch is how many children a SIGCHLD's sweep reaps in one loop
// turn. Each wait4(-1) walks the children from the oldest to the first
// exited one; when 1000 services are stopped at once, the sweep at the
// end of a turn found hundreds of them exited, each behind the ones
// still running: a fifth of the loop's CPU in the stop. Their pidfds
// are ready too, and the next turn reaps those by pid (reapPid) before
// the sweep goes on; adopted orphans, which only the sweep reaps, wait
// a turn at most per batch.
const sweepBatch = 8

// reapUpTo reaps at most n exited children with wait4(-1); true when
// none is left.
func (r *Reactor) reapUpTo(n int) bool {
	for ; n > 0; n-- {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			n++
			continue
		}
		if err != nil || pid <= 0 {
			return true
		}
		r.reaped(pid, ws)
	}
	return false
}

// reapPid reaps one known child whose pidfd says it exited. wait4 for
// one pid looks at that child alone, where wait4(-1) walks every child
// gosd has: stopping 1000 services one after the other (a chain), those
// walks (three per service: the pidfd's sweep, its empty end, the
// SIGCHLD's) were a quarter of the loop's CPU. Adopted orphans, which
// have no pidfd, are still swept on SIGCHLD (reap): one walk per exit.
func (r *Reactor) reapPid(pid int) {
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		switch {
		case got == pid:
			r.reaped(pid, ws)
		case err == syscall.ECHILD:
			// Not a child to wait for (cannot happen to a pid in procs,
			// which is only reaped here or by reap): stop watching, or
			// the ready pidfd would spin the loop.
			if p := r.procs[pid]; p != nil && p.pidfd >= 0 {
				r.removeSource(p.pidfd)
				syscall.Close(p.pidfd)
				p.pidfd = -1
			}
		}
		return
	}
}

// reaped is what follows a child's reaping, by either reaper.
func (r *Reactor) reaped(pid int, ws syscall.WaitStatus) {
	unit := ""
	if p := r.procs[pid]; p != nil {
		unit = p.unit
		if p.pidfd >= 0 {
			r.removeSource(p.pidfd)
			syscall.Close(p.pidfd)
		}
		delete(r.procs, pid)
	}
	st := manager.WaitStatus{Exited: ws.Exited(), Code: ws.ExitStatus()}
	if ws.Signaled() {
		st = manager.WaitStatus{Signal: int(ws.Signal()), CoreDump: ws.CoreDump()}
	}
	if ev := (manager.Exited{Pid: pid, Status: st}); unit != "" || !r.holdExit(ev) {
		r.Feed(ev)
	}
	// The kernel rate-limits cgroup.events notifications (up to 10 ms
	// late), but "populated" is already 0 when the last process's exit
	// is reaped: read it now so a unit's end is not delayed by the
	// notification. A later EPOLLPRI for the same emptiness is harmless.
	if unit != "" {
		r.checkEmpty(unit)
	}
}

func (r *Reactor) addSource(fd int, src any) error {
	if err := r.poll.add(fd); err != nil {
		return err
	}
	r.sources[fd] = src
	return nil
}

func (r *Reactor) removeSource(fd int) {
	if _, ok := r.sources[fd]; ok {
		r.poll.del(fd)
		delete(r.sources, fd)
	}
}

// closeSource stops watching *fd, closes it and sets it to -1; nothing
// when it is -1 already.
func (r *Reactor) closeSource(fd *int) {
	if *fd >= 0 {
		r.removeSource(*fd)
		syscall.Close(*fd)
		*fd = -1
	}
}

func (r *Reactor) handleFD(fd int) {
	src := r.sources[fd]
	switch s := src.(type) {
	case *outputPipe:
		r.guard(s.unit, "reading output", func() { r.readOutput(s) })
	case *logSocket:
		r.guard("", "log socket "+s.path, func() { r.readLogSocket(s) })
	case *kmsgReader:
		r.guard("", "kernel messages", func() { r.readKmsg(s) })
	case *procSource:
		r.reapPid(s.pid)
	case *listenSource:
		r.guard(s.unit, "socket activity", func() { r.onListen(fd, s) })
	case notifySource:
		r.guard("", "notify socket", r.readNotify)
	case *cgroupSource:
		r.guard(s.unit, "cgroup events", func() { r.onCgroupEvent(s.unit) })
	case *memEventsSource:
		r.guard(s.unit, "memory events", func() { r.onMemoryEvent(s.unit) })
	case mountinfoSource:
		r.guard("", "mount table", r.onMountsEvent)
	case swapsSource:
		r.guard("", "swap table", r.onSwapsChanged)
	case ueventSource:
		r.guard("", "device events", r.readUevents)
	case *pathSource:
		r.guard(s.unit, "path events", func() { r.onPathEvent(s.unit) })
	case *autofsSource:
		r.guard(s.unit, "autofs requests", func() { r.onAutofsPacket(s.unit) })
	case clockSource:
		r.guard("", "clock change", func() { r.onClockChanged(fd) })
	}
}

func (r *Reactor) openNotify() {
	if r.cfg.NotifySocket == "-" {
		return
	}
	path := r.cfg.NotifySocket
	if path[0] != '@' {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			r.logf("", "notify socket: %v", err)
			return
		}
	}
	n, err := sockets.ListenNotify(path)
	if err != nil {
		r.logf("", "notify socket %s: %v", path, err)
		return
	}
	if err := r.addSource(n.FD(), notifySource{}); err != nil {
		r.logf("", "notify socket: %v", err)
		n.Close()
		return
	}
	r.notify = n
}

// readNotify takes a bounded number of datagrams per turn.
func (r *Reactor) readNotify() {
	for i := 0; i < 64; i++ {
		m, err := r.notify.Receive()
		if err == sockets.ErrNoMessage {
			return
		}
		if err != nil {
			r.logf("", "notify message from pid %d rejected: %v", m.Pid, err)
			continue
		}
		if m.Barrier {
			// The sender (sd_notify_barrier, systemd-notify) waits for this close.
			sockets.CloseFds(m)
			continue
		}
		unit := ""
		if p := r.procs[m.Pid]; p != nil {
			unit = p.unit
		} else if r.cg != nil {
			// A process the unit forked (NotifyAccess=all): its cgroup
			// names the unit.
			unit, _ = r.cg.UnitOf(m.Pid)
		}
		n := manager.Notify{Pid: m.Pid, Unit: unit, Fields: m.Fields, Fds: m.Fds, Privileged: m.Uid == 0}
		if pid := lastMainPID(m.Fields); pid > 0 {
			n.MainPID = r.pidOwner(pid)
		}
		if !r.holdNotify(n) {
			r.Feed(n)
		}
	}
}

func (r *Reactor) onListen(fd int, s *listenSource) {
	if !s.accept {
		// Level-triggered: stop watching until the manager re-arms it
		// (WatchSocket) after the service is gone, or the loop would spin.
		r.unwatch(s.unit)
		r.Feed(manager.SocketReady{Unit: s.unit})
		return
	}
	r.connNr++
	conn, instance, err := sockets.Accept(fd, r.connNr)
	if err != nil {
		if err != syscall.EAGAIN {
			r.logf(s.unit, "accept: %v", err)
		}
		return
	}
	r.Feed(manager.Connection{Unit: s.unit, FD: conn, Instance: instance})
}

func eventUnit(ev manager.Event) string {
	switch e := ev.(type) {
	case manager.Request:
		return e.Unit
	case manager.PIDFileRead:
		return e.Unit
	case manager.Notify:
		return e.Unit
	case manager.SocketsOpened:
		return e.Unit
	case manager.SocketReady:
		return e.Unit
	case manager.Connection:
		return e.Unit
	case manager.TimerFired:
		return e.ID.Unit
	case manager.CgroupEmpty:
		return e.Unit
	case manager.OOMKilled:
		return e.Unit
	case manager.TimerStamp:
		return e.Unit
	}
	return ""
}

// Reload re-reads the unit definitions through Config.Reload and hands them
// to the manager (daemon-reload: running services stay up; changed
// definitions apply at their next start). Reactor goroutine only.
// SetGlobalEnvironment replaces the manager's environment block, the
// base of every process spawned from now on (systemctl set-environment).
// On the reactor goroutine.
func (r *Reactor) SetGlobalEnvironment(env []string) {
	r.globalEnv = append([]string(nil), env...)
}

// GlobalEnvironment is the manager's environment block. On the reactor
// goroutine.
func (r *Reactor) GlobalEnvironment() []string {
	return append([]string(nil), r.globalEnv...)
}

func (r *Reactor) Reload() error {
	if r.cfg.Reload == nil {
		return fmt.Errorf("reload is not configured")
	}
	units, err := r.cfg.Reload()
	if err != nil {
		return fmt.Errorf("reload failed: %w", err)
	}
	r.cfg.Units = units
	r.Feed(manager.Reload{Units: units})
	return nil
}

// BootJobID is the ID of the boot target's start request (control clients
// number their requests from 1, far below it).
const BootJobID = 1 << 62

// fallbackJobID is the ID of the start requests of the targets a failed
// boot falls back to (fallbackTargets).
const fallbackJobID = BootJobID + 1

// fallbackTargets are what a boot target that cannot be queued falls back
// to, in order, as in systemd.
var fallbackTargets = []string{"emergency.target", "rescue.target"}

// onBootJob handles a boot target that could not even be queued (missing,
// masked, a broken transaction): as systemd does, fall back to
// emergency.target (then rescue.target) when it can be started; a PID1
// with neither powers off after saying why, since nothing would ever run.
// A boot target whose start job merely failed is not this case: its
// units' own FailureAction=/OnFailure= decide, as in systemd.
func (r *Reactor) onBootJob(e manager.JobFinished) {
	if e.Error == "" || r.shuttingDown {
		return
	}
	r.logf(e.Unit, "Failed to start default target %s: %s", e.Unit, e.Error)
	r.bootFailed = e.Unit
	r.fallBack(0)
}

// onFallbackJob: a fallback target refused too (not found, masked...)
// makes way for the next. The manager says whether one can be started;
// the reactor reads no unit definitions ("Falling back" is said when the
// manager queued its job: JobStarted).
func (r *Reactor) onFallbackJob(e manager.JobFinished) {
	if e.Error == "" || r.shuttingDown {
		return
	}
	if i := slices.Index(fallbackTargets, e.Unit); i >= 0 {
		r.fallBack(i + 1)
	}
}

// fallBack asks for fallbackTargets[from:]'s first, or gives up.
func (r *Reactor) fallBack(from int) {
	for _, fallback := range fallbackTargets[from:] {
		if fallback == r.bootFailed {
			continue
		}
		r.Feed(manager.Request{ID: fallbackJobID, Unit: fallback, Kind: manager.JobStart, Mode: manager.ModeIsolate})
		return
	}
	if r.cfg.PID1 {
		r.logf("", "No emergency.target or rescue.target to fall back to: powering off.")
		r.forcedExit = 1 // a failure forced this stop: say so to a container runtime
		r.shutdown("poweroff", 0)
	}
}

// afterBoot runs Config.AfterBoot, once.
func (r *Reactor) afterBoot() {
	if f := r.cfg.AfterBoot; f != nil {
		r.cfg.AfterBoot = nil
		f()
	}
}
