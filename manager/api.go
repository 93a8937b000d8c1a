package manager

import (
	"syscall"
	"time"

	"gosd/unitfile"
)

// This file is the contract between the manager and the reactor: the events
// the reactor feeds in and the effects it must carry out. Everything that
// needs a clock, a pid, a file or a syscall crosses this line as a value.

// UnitSource gives the manager its unit definitions. *unitfile.Set satisfies
// it; Get never returns nil (a missing unit comes back with LoadState
// not-found) and instantiates templates on demand without I/O.
type UnitSource interface {
	Get(name string) *unitfile.Unit
	Names() []string
}

// Event is an input to Step.
type Event interface{ isEvent() }

// Effect is an output of Step that the reactor performs.
type Effect interface{ isEffect() }

// JobKind names a job as systemctl does.
type JobKind string

const (
	JobStart           JobKind = "start"
	JobStop            JobKind = "stop"
	JobRestart         JobKind = "restart"
	JobTryRestart      JobKind = "try-restart"
	JobReload          JobKind = "reload"
	JobReloadOrRestart JobKind = "reload-or-restart"
	JobVerifyActive    JobKind = "verify-active"
)

// JobMode is systemctl's --job-mode.
type JobMode string

const (
	ModeReplace            JobMode = "replace"
	ModeFail               JobMode = "fail"
	ModeIsolate            JobMode = "isolate"
	ModeIgnoreDependencies JobMode = "ignore-dependencies"
	ModeIgnoreRequirements JobMode = "ignore-requirements"
)

// JobResult is the result of a finished job, with systemd's names.
type JobResult string

const (
	ResultDone        JobResult = "done"
	ResultCanceled    JobResult = "canceled"
	ResultTimeout     JobResult = "timeout"
	ResultFailed      JobResult = "failed"
	ResultDependency  JobResult = "dependency"
	ResultSkipped     JobResult = "skipped"
	ResultInvalid     JobResult = "invalid"
	ResultAssert      JobResult = "assert"
	ResultUnsupported JobResult = "unsupported"
)

// WaitStatus is how a process ended.
type WaitStatus struct {
	Exited   bool // true: Code is valid; false: killed by Signal
	Code     int
	Signal   int
	CoreDump bool
}

// ---- events ----

// Request asks for a job, from boot, a control client or the manager's own
// shutdown. ID (non-zero) is echoed in the JobFinished effect of that job.
type Request struct {
	ID   uint64
	Unit string
	Kind JobKind
	Mode JobMode
	// Manual: asked for by a user (control client, D-Bus), not by boot or
	// a dependency; RefuseManualStart=/RefuseManualStop= refuse these.
	Manual bool
}

// Spawned reports the result of a Spawn effect.
type Spawned struct {
	ID  uint64
	Pid int
	Err error
	// Status is systemd's exit status for the step that failed when Err
	// is set (200 CHDIR, 203 EXEC, 217 USER, ... systemd.exec(5) "PROCESS
	// EXIT CODES"); 0 means unknown, taken as 203.
	Status int
	// Missing: the executable does not exist (ENOENT at exec). For a
	// command with the "-" prefix systemd skips it as a success
	// ("Executable ... missing, skipping").
	Missing bool
}

// Exited reports a reaped process (any process, adopted orphans included).
type Exited struct {
	Pid    int
	Status WaitStatus
}

// TimerFired reports that a SetTimer deadline passed.
type TimerFired struct{ ID TimerID }

// PIDFileRead reports the result of a ReadPIDFile effect.
type PIDFileRead struct {
	Unit string
	Pid  int
	Err  error
	// Owner is what the reactor found out about Pid.
	Owner PidOwner
	// Trusted: the file is owned by root and its path was followed only
	// through safe transitions (systemd.service(5) PIDFile=): only then
	// may the pid lie outside the unit.
	Trusted bool
}

// Notify is one sd_notify datagram, already parsed and validated.
type Notify struct {
	Pid    int
	Unit   string      // set when the reactor could attribute the sender (cgroup); else ""
	Fields [][2]string // KEY, VALUE in order
	Fds    []int       // passed fds (FDSTORE=1), owned by the manager after this
	// Privileged: the sender's credentials say uid 0. Only such a sender
	// may name a main pid the reactor could not place in its unit.
	Privileged bool
	// MainPID is what the reactor found out about the pid of the last
	// MAINPID= field (zero when there is none).
	MainPID PidOwner
}

// PidOwner is what the reactor found out about a pid that a service names
// as its main process (MAINPID=, PIDFile=). The manager cannot look
// itself; it applies systemd's rules to this (sd_notify(3) MAINPID=,
// systemd.service(5) PIDFile=): never the manager, never another unit's
// process, never a dead one; one outside every unit only from a
// privileged sender or a trusted PID file. The zero value knows nothing,
// which only a privileged source can make up for.
type PidOwner struct {
	Pid int
	// Unit is the unit the process belongs to: its cgroup, or without
	// cgroups its process group or session is one a process of the unit
	// leads, or one of its ancestors is a process of the unit; "" when
	// none is known.
	Unit string
	// Manager: the pid is gosd itself (or pid 1).
	Manager bool
	// Gone: no such process, or a zombie.
	Gone bool
}

// SocketsOpened reports the result of an OpenSockets effect.
type SocketsOpened struct {
	Unit string
	Err  error
}

// SocketReady reports activity on an Accept=no socket unit's listening fds.
type SocketReady struct{ Unit string }

// Connection reports an accepted connection on an Accept=yes socket unit.
// Instance is the instance name systemd would form for it.
type Connection struct {
	Unit     string
	FD       int
	Instance string
}

// Shutdown asks for an orderly stop of everything; Action says what the
// reactor does after (exit, poweroff, reboot, halt, kexec).
type Shutdown struct{ Action string }

// SetExitCode sets the status gosd exits with once it has stopped (systemd's
// SetExitCode, `systemctl exit N`): what a container manager reports. A
// later FailureAction=/SuccessAction=exit replaces it.
type SetExitCode struct{ Code int }

// Reload replaces the unit definitions (daemon-reload).
type Reload struct{ Units UnitSource }

// ---- effects ----

// Spawn starts one process of a unit.
type Spawn struct {
	ID   uint64
	Unit string
	// Role: "main" (ExecStart of a service) or "control" (every other Exec*).
	Role string
	Cmd  unitfile.ExecCommand
	// Exec is the unit's process environment; Kill tells the signal rules.
	Exec *unitfile.ExecContext
	// Env holds variables the manager sets (MAINPID, INVOCATION_ID,
	// SERVICE_RESULT, EXIT_CODE, EXIT_STATUS, MONITOR_*), applied on top of
	// the unit's own environment.
	Env []string
	// Sockets names the socket units whose listening fds the process gets
	// at fd 3.. (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID).
	Sockets []string
	// Conn is an accepted connection fd for Accept=yes instances, or -1.
	// The reactor owns it from this Spawn on (the manager never closes it
	// after handing it over; a connection whose instance fails before
	// ExecStart= comes back as a CloseFD effect instead).
	Conn int
	// Notify asks for NOTIFY_SOCKET in the environment.
	Notify bool
	// StdinFromConn etc. follow Exec.StandardInput; nothing else to say here.

	// Fds are the service's stored fds (FDSTORE=1), passed after Sockets'
	// fds; FdNames are their FDNAME= names ("stored" when none was given).
	// Added by the manager.
	Fds     []int
	FdNames []string
	// JoinsNamespaceOf is the unit's JoinsNamespaceOf=; Resources its
	// cgroup settings, applied when its cgroup is made for this process.
	JoinsNamespaceOf []string
	Resources        *unitfile.ResourceControl
	// Slices are the settings of the slices the unit's cgroup is in, top
	// first, written to their cgroups before the unit's (slice.go).
	Slices []SliceSettings
}

// Kill sends Signal to Pid, or with Group to the unit's whole control group
// (its cgroup, or the process group of Pid where cgroups are unavailable).
// The manager sends Group with Pid 0 when it knows no live process of the
// unit (Type=forking without PIDFile=, leftovers after the main process
// exited): that means the unit's cgroup only, nothing without cgroups.
type Kill struct {
	Unit   string
	Pid    int
	Group  bool
	Signal int
}

// TimerID names a deadline. One per unit and purpose.
type TimerID struct {
	Unit string
	Kind string
}

// SetTimer arms (or re-arms) a deadline at a monotonic time.
type SetTimer struct {
	ID TimerID
	At time.Duration
}

// CancelTimer disarms a deadline; unknown IDs are ignored.
type CancelTimer struct{ ID TimerID }

// OpenSockets creates a socket unit's listening fds as Socket says;
// answered by SocketsOpened.
type OpenSockets struct {
	Unit   string
	Socket *unitfile.Socket
}

// CloseSockets closes them (socket unit stopped), removing the socket
// files with RemoveOnStop=.
type CloseSockets struct {
	Unit         string
	RemoveOnStop bool
}

// WatchSocket turns watching of a socket unit's listening fds on or off
// (Accept=yes: connections are accepted, as OpenSockets' Socket said).
type WatchSocket struct {
	Unit  string
	Watch bool
}

// ReadPIDFile reads a PIDFile= after a forking service's parent exited.
type ReadPIDFile struct {
	Unit string
	Path string
}

// Cleanup removes what a unit left behind when it became inactive
// (RuntimeDirectory= unless preserved, sockets with RemoveOnStop=); Exec
// is the unit's process environment (nil: none).
type Cleanup struct {
	Unit string
	Exec *unitfile.ExecContext
}

// Level of a log message.
type Level int

const (
	LevelDebug Level = iota
	LevelInfo
	LevelNotice
	LevelWarning
	LevelError
)

// Log is a message for gosd's log; Pos names the unit-file line when the
// message is about a setting.
type Log struct {
	Unit  string
	Pos   unitfile.Pos
	Level Level
	Msg   string
}

// UnitChanged reports a unit's new state (console progress, control watchers).
type UnitChanged struct {
	Unit   string
	Active string // inactive, activating, active, reloading, deactivating, failed
	Sub    string
	Result string
	// Description is the unit's Description= (for the console).
	Description string
	// BusDaemon: the unit is dbus.service or has it as an alias
	// (dbus-broker.service on Debian), the system bus's daemon.
	BusDaemon bool
}

// JobStarted and JobFinished bracket a job; ID is the Request's or 0.
type JobStarted struct {
	ID   uint64
	Unit string
	Kind JobKind
	// Description is the unit's Description= (the console's line for a
	// device unit's job, which waits from the start).
	Description string
}

type JobFinished struct {
	ID     uint64
	Unit   string
	Kind   JobKind
	Result JobResult
	// Error is set when a Request was refused before any job existed (unit
	// not found, conflicting job with --job-mode=fail, cyclic ordering,
	// type not applicable); Result is then "failed" (or "invalid").
	// Added by the manager.
	Error string
	// Skipped: a start job that did nothing because the unit's conditions
	// were not met (Result done); systemd prints no console line for it.
	Skipped bool
	// Description is the unit's Description=; Oneshot says it is a
	// Type=oneshot service (the console says "Finished", not "Started").
	Description string
	Oneshot     bool
}

// Action asks the reactor for a system action: FailureAction=,
// SuccessAction=, StartLimitAction=, JobTimeoutAction= (poweroff, reboot,
// exit, halt and their -force/-immediate forms), with the unit that caused it.
type Action struct {
	Unit     string
	Action   string
	ExitCode int
}

// Exit says shutdown is complete: every unit is stopped.
type Exit struct {
	Action string
	Code   int
}

func (Request) isEvent()       {}
func (Spawned) isEvent()       {}
func (Exited) isEvent()        {}
func (TimerFired) isEvent()    {}
func (PIDFileRead) isEvent()   {}
func (Notify) isEvent()        {}
func (SocketsOpened) isEvent() {}
func (SocketReady) isEvent()   {}
func (Connection) isEvent()    {}
func (Shutdown) isEvent()      {}
func (SetExitCode) isEvent()   {}
func (Reload) isEvent()        {}

func (Spawn) isEffect()        {}
func (Kill) isEffect()         {}
func (SetTimer) isEffect()     {}
func (CancelTimer) isEffect()  {}
func (OpenSockets) isEffect()  {}
func (CloseSockets) isEffect() {}
func (WatchSocket) isEffect()  {}
func (ReadPIDFile) isEffect()  {}
func (Cleanup) isEffect()      {}
func (Log) isEffect()          {}
func (UnitChanged) isEffect()  {}
func (JobStarted) isEffect()   {}
func (JobFinished) isEffect()  {}
func (Action) isEffect()       {}
func (Exit) isEffect()         {}

// UnitStatus is a read-only snapshot of one unit for status/show/list.
type UnitStatus struct {
	Name        string
	Description string
	LoadState   string
	Active      string
	Sub         string
	Result      string
	MainPID     int
	ControlPID  int
	StatusText  string
	NRestarts   int
	// MainExited says MainStatus holds how the last main process ended
	// (systemctl show's ExecMainCode=/ExecMainStatus=).
	MainExited bool
	MainStatus WaitStatus
	// Monotonic times of the last transitions (0 = never).
	ActiveEnter, ActiveExit, InactiveEnter, InactiveExit time.Duration
	Job                                                  JobKind // pending job, "" if none
	// ControlGroup is the unit's cgroup as /proc/PID/cgroup shows it, ""
	// without cgroups (CgroupCreated).
	ControlGroup string
	// Timers: the unit a timer activates, its next elapse (zero: none
	// planned) and last trigger (zero: never), in wall-clock time.
	Triggers                string
	NextElapse, LastTrigger time.Time
	// ExecMain is a service's last main process (zero: none yet).
	ExecMain ExecMainStatus
	// ExecRuns are the last runs of its control commands since it last
	// started (services and sockets).
	ExecRuns []ExecRun
	// Condition and Assert are the last checks of its Condition*= and
	// Assert*= lines (At 0: never checked).
	Condition, Assert CheckResult
	// Invocation is a service's $INVOCATION_ID since it last started (32
	// hex digits; "" before).
	Invocation string
	// SysFSPath is a plugged device unit's device (/sys/devices/...).
	SysFSPath string
}

// CheckResult is one check of a unit's conditions or asserts: when, whether
// they held, and the first line that failed ("file:line: ConditionX=value").
type CheckResult struct {
	At     time.Duration
	OK     bool
	Failed string `json:",omitempty"`
}

// ExecRun is the last run of one control command: Setting is its Exec*=
// name (ExecStartPre, ExecStop, ...), Index its place in that list.
type ExecRun struct {
	Setting     string
	Index       int
	PID         int
	Start, Exit time.Duration
	Exited      bool // Status is valid
	Status      WaitStatus
}

// ExecMainStatus is a service's last main process as systemd reports it:
// its pid, when it started and ended (monotonic, 0 = not yet) and how.
type ExecMainStatus struct {
	PID         int
	Start, Exit time.Duration
	Exited      bool // Status is valid
	Status      WaitStatus
}

// Manager API (implemented in manager.go):
//
//	func New(units UnitSource) *Manager
//	func (m *Manager) Step(now time.Duration, ev Event) []Effect
//	func (m *Manager) Status(name string) (UnitStatus, bool)
//	func (m *Manager) List() []UnitStatus

// ---- additions by the manager (documented; the reactor may rely on them) ----

// ConditionsChecked answers a CheckConditions effect. Met is false when the
// Condition*= lines fail (the unit is skipped, systemd.unit(5)); AssertOK is
// false when an Assert*= line fails (the start job fails with "assert").
// Failed names the first failing line, for the log.
type ConditionsChecked struct {
	Unit     string
	Met      bool
	AssertOK bool
	Failed   string
}

// CheckConditions asks the reactor to evaluate a unit's Condition*= and
// Assert*= lines (they need the filesystem, the kernel command line, ...).
// Only emitted for units that have any; answered by ConditionsChecked.
type CheckConditions struct {
	Unit                string
	Conditions, Asserts []unitfile.Condition
}

// CloseFD asks the reactor to close an fd the manager owns: a refused
// Accept=yes connection, a BARRIER=1 fd, an fd passed without FDSTORE=1 or
// beyond FileDescriptorStoreMax, or the fd store of a service that stopped.
type CloseFD struct {
	Unit string
	FD   int
}

func (ConditionsChecked) isEvent() {}
func (CheckConditions) isEffect()  {}
func (CloseFD) isEffect()          {}

// ResetFailed is systemctl reset-failed: a failed unit (every failed unit
// when Unit is "") goes back to inactive with result success, and its start
// rate limit counter is reset. Added by the manager.
type ResetFailed struct{ Unit string }

func (ResetFailed) isEvent() {}

// ---- cgroups (added with the reactor's cgroup support) ----

// CgroupsAvailable is fed once at start, before any request, when every
// unit gets its own cgroup v2 group. From then on a stop waits, per
// KillMode= (systemd.kill(5)), for the unit's cgroup to be empty
// (CgroupEmpty) besides its main and control processes, and a Kill with
// Group and Pid 0 reaches the whole cgroup. Without it gosd runs on process
// groups and nothing waits for CgroupEmpty.
type CgroupsAvailable struct{}

// CgroupCreated reports the cgroup of a unit, created before its first
// process; Path is the hierarchy path as /proc/PID/cgroup shows it
// (e.g. "/system.slice/foo.service"), shown as UnitStatus.ControlGroup.
type CgroupCreated struct {
	Unit string
	Path string
}

// CgroupEmpty reports that the unit's cgroup holds no process any more
// ("populated 0" in cgroup.events). It may arrive before the Exited of the
// unit's last process. The reactor only feeds it while it is still true.
type CgroupEmpty struct{ Unit string }

// OOMKilled reports that the kernel's OOM killer killed a process of the
// unit (memory.events oom_kill went up). OOMPolicy= decides what follows.
type OOMKilled struct{ Unit string }

// ApplyResources carries a unit's resource settings after a daemon-reload:
// the reactor writes them to the unit's cgroup, or the slice's, when it
// has one, and keeps them for the next change of the startup phase
// (StartupCPUWeight=). Resources is nil for a unit that has none any more.
// Restore (daemon-reexec) emits it for every unit whose cgroup the new
// reactor takes over: it re-opens that cgroup with these settings.
type ApplyResources struct {
	Unit      string
	Resources *unitfile.ResourceControl
}

func (ApplyResources) isEffect() {}

func (CgroupsAvailable) isEvent() {}
func (CgroupCreated) isEvent()    {}
func (CgroupEmpty) isEvent()      {}
func (OOMKilled) isEvent()        {}

// ---- D-Bus names (Type=dbus, systemd.service(5) BusName=) ----

// WatchBusName asks the reactor to follow the owner of a well-known name on
// the system bus for a Type=dbus service: it answers with BusNameOwner as
// soon as it knows the owner (a name already taken counts at once) and
// again on every change, until UnwatchBusName. Without a bus it keeps the
// watch and tries again later; the unit then waits in activating/start
// until its TimeoutStartSec=.
type WatchBusName struct {
	Unit string
	Name string
}

// UnwatchBusName ends a WatchBusName (the service became inactive).
type UnwatchBusName struct {
	Unit string
	Name string
}

// BusNameOwner reports the owner of a watched bus name: its unique
// connection name (":1.42"), or "" when nobody owns it.
type BusNameOwner struct {
	Name  string
	Owner string
}

func (BusNameOwner) isEvent()    {}
func (WatchBusName) isEffect()   {}
func (UnwatchBusName) isEffect() {}

// ---- timer units (systemd.timer(5); manager/timer.go) ----
//
// The manager reads no clock: monotonic time is the now of each Step, and
// the wall clock, which OnCalendar= and Persistent= need, is reported by
// the reactor as a pair (wall-clock time, the monotonic now of the event
// that carries it). From it the manager turns every calendar elapse into a
// monotonic deadline for SetTimer; when the wall clock is set, a new
// ClockSet re-plans them.

// ClockSet reports the wall clock: Realtime is the wall-clock time at the
// event's monotonic now. The reactor feeds it once at start, before the
// boot request, and again whenever the wall clock jumps (settimeofday, an
// NTP step: timerfd's TFD_TIMER_CANCEL_ON_SET on Linux); calendar timers
// are then re-planned. Boot is the monotonic time the machine booted (<= 0:
// before gosd started; the base of OnBootSec=); MachineID seeds
// RandomizedDelaySec=. Without any ClockSet, OnCalendar= never elapses.
type ClockSet struct {
	Realtime  time.Time
	Boot      time.Duration
	MachineID string
}

// ReadTimerStamp asks the reactor for a Persistent= timer's last trigger
// (the mtime of /var/lib/systemd/timers/stamp-NAME, as systemd keeps it);
// answered by TimerStamp.
type ReadTimerStamp struct{ Unit string }

// TimerStamp answers ReadTimerStamp; Last is zero when there is no stamp.
type TimerStamp struct {
	Unit string
	Last time.Time
}

// WriteTimerStamp records a Persistent= timer's trigger time in its stamp.
type WriteTimerStamp struct {
	Unit string
	At   time.Time
}

func (ClockSet) isEvent()         {}
func (TimerStamp) isEvent()       {}
func (ReadTimerStamp) isEffect()  {}
func (WriteTimerStamp) isEffect() {}

// ---- path units (systemd.path(5); manager/path.go) ----

// WatchPaths asks the reactor to watch a path unit's paths (inotify on
// Linux) and to answer at once with PathsChecked, then again whenever a
// watched path changes, until UnwatchPaths. MakeDirectory: create the
// directories of the specs other than PathExists=/PathExistsGlob= first,
// with DirectoryMode. Initial and FromTrigger are systemd's flags for the
// check: a PathChanged=/PathModified= spec is good only when its path came
// or went since the last check, and never on the first check after a start
// (Initial) or after the triggered unit went down (FromTrigger).
type WatchPaths struct {
	Unit          string
	Specs         []unitfile.PathSpec
	MakeDirectory bool
	DirectoryMode uint32
	Initial       bool
	FromTrigger   bool
}

// UnwatchPaths ends a WatchPaths (the path unit triggered, or stopped).
type UnwatchPaths struct{ Unit string }

// PathsChecked reports a path unit's paths: Good says one of them calls
// for the unit to be triggered (a file exists, a glob matches, a directory
// is not empty, a watched path changed); Path names it. Err: the watches
// could not be set up (the unit fails with result resources).
type PathsChecked struct {
	Unit string
	Good bool
	Path string
	Err  error
}

func (PathsChecked) isEvent()  {}
func (WatchPaths) isEffect()   {}
func (UnwatchPaths) isEffect() {}

// ---- mount units (systemd.mount(5); manager/mount.go) ----

// ProbeMount asks the reactor whether Where is a mount point now
// (/proc/self/mountinfo), and when it is not, to make the directory
// (mkdir -p with DirectoryMode) so that mount(8) can mount on it;
// answered by MountProbed.
type ProbeMount struct {
	Unit          string
	Where         string
	DirectoryMode uint32
}

// MountProbed answers ProbeMount: Mounted says Where is a mount point (of
// anything: systemd takes a mount made by others as its unit's); Err says
// the directory could not be made.
type MountProbed struct {
	Unit    string
	Mounted bool
	Err     error
}

func (MountProbed) isEvent() {}
func (ProbeMount) isEffect() {}

// MountsChanged reports mount points that appeared in or went from the
// mount table (/proc/self/mountinfo) since the last report; the reactor
// feeds it at start (everything mounted then) and after every change,
// parents before children. A mount unit follows it: mounted when its
// mount point appears, dead when it goes, whoever mounted or unmounted
// it; a mount point without a unit file gets a unit made from the table
// (manager/mount.go), as under systemd.
type MountsChanged struct {
	Added   []MountPoint
	Removed []string
}

// MountPoint is one mount point of the table, as its unit shows it: the
// topmost mount when several are stacked on it.
type MountPoint struct {
	Where, What, Type, Options string
}

func (MountsChanged) isEvent() {}

// ---- swap units (systemd.swap(5); manager/swap.go) ----

// ProbeSwap asks the reactor whether What (a device or file, symbolic
// links followed) is in use as swap now (/proc/swaps); answered by
// SwapProbed.
type ProbeSwap struct {
	Unit string
	What string
}

// SwapsChanged reports swaps that were turned on or off (/proc/swaps)
// since the last report; the reactor feeds it at start (every swap on
// then) and after every change. A swap unit follows it, whoever ran
// swapon or swapoff; a swap without a unit file gets a unit made from the
// table (manager/swap.go), as under systemd.
type SwapsChanged struct {
	Added   []SwapDevice
	Removed []string
}

// SwapDevice is one line of /proc/swaps.
type SwapDevice struct {
	What, Type string
	Priority   int
}

func (SwapsChanged) isEvent() {}

// SwapProbed answers ProbeSwap.
type SwapProbed struct {
	Unit   string
	Active bool
}

func (SwapProbed) isEvent() {}
func (ProbeSwap) isEffect() {}

// ---- automount units (systemd.automount(5); manager/automount.go) ----

// StartAutomount asks the reactor to set up an automount point: the
// directory made (mkdir -p, DirectoryMode), an autofs file system mounted
// on it (protocol 5, direct, with ExtraOptions) whose requests arrive on a
// pipe the reactor reads, and its idle timeout set (TimeoutIdle; 0: the
// kernel never offers it for expiry). Answered by AutomountStarted; then
// each request of the kernel comes as AutomountRequest until
// StopAutomount.
type StartAutomount struct {
	Unit          string
	Where         string
	ExtraOptions  string
	DirectoryMode uint32
	TimeoutIdle   time.Duration
}

// AutomountStarted answers StartAutomount. Unsupported: the kernel has no
// autofs (Err says what was found); AlreadyMounted: Where is a mount point
// already; Err: the setup failed otherwise (nothing is left mounted).
type AutomountStarted struct {
	Unit           string
	Unsupported    bool
	AlreadyMounted bool
	Err            error
}

// AutomountRequest is one request of the kernel for an automount point:
// Expire is an unmount request (the mount has been idle for TimeoutIdle),
// otherwise a process (PID, Comm; 0 when unknown) looked at Where and
// waits for the mount. Token names the request in AutomountReply.
// Covered: Where is no longer the autofs directory itself (something was
// mounted over it meanwhile). Err: the pipe failed or gave a malformed
// packet (the unit fails with result resources).
type AutomountRequest struct {
	Unit    string
	Expire  bool
	Token   uint32
	PID     uint32
	Comm    string
	Covered bool
	Err     error
}

// AutomountReply answers the kernel's requests Tokens: Err 0 lets the
// waiting processes go on (the mount is there, or it was unmounted for an
// expiry), another errno fails their access (or the expiry) with it.
type AutomountReply struct {
	Unit   string
	Where  string
	Tokens []uint32
	Err    syscall.Errno
}

// ExpireAutomount asks the kernel to offer Where's mount for unmounting
// if it has been idle for the unit's TimeoutIdle (an Expire request
// follows); the reactor runs it off its own thread, since the kernel
// holds the call until the request is answered.
type ExpireAutomount struct {
	Unit  string
	Where string
}

// StopAutomount unmounts the automount point (and whatever is mounted on
// it, detached, as systemd does) and closes its pipe; a pending setup is
// undone. Nothing happens when none is set up.
type StopAutomount struct {
	Unit  string
	Where string
}

// AdoptAutomount comes out of Restore (daemon-reexec) for each automount
// unit whose point was set up before: the reactor takes over the point
// the old gosd handed over (its pipe, with any request the kernel wrote
// meanwhile still in it). When it has none, or the point is gone, it says
// so with an AutomountRequest carrying Err. A handed-over point that no
// unit adopts is unmounted, so that no process waits on it forever.
type AdoptAutomount struct {
	Unit  string
	Where string
}

func (AutomountStarted) isEvent() {}
func (AutomountRequest) isEvent() {}
func (StartAutomount) isEffect()  {}
func (AutomountReply) isEffect()  {}
func (ExpireAutomount) isEffect() {}
func (StopAutomount) isEffect()   {}
func (AdoptAutomount) isEffect()  {}

// ---- device units (systemd.device(5); manager/device.go) ----

// Device is one device as the reactor sees it. Ready: it is there and
// counts for systemd (udev: tagged "systemd" and SYSTEMD_READY= not 0;
// without udev: a block, net or tty device the kernel reports, as udev's
// 99-systemd.rules would tag it); false when it went away or is not
// ready. The paths name its units: SysPath the main one
// (/sys/devices/...), Node its device node (/dev/sda), Links udev's
// symbolic links to it (/dev/disk/by-uuid/...), Aliases its
// SYSTEMD_ALIAS= paths. Wants are its SYSTEMD_WANTS= words.
type Device struct {
	SysPath string
	Ready   bool
	Node    string
	Links   []string
	Aliases []string
	Wants   []string
}

// DevicesChanged reports devices that came, changed or went. The reactor
// feeds it at start with Coldplug and every device present (a full
// report: a device unit plugged before whose device is not in it is
// dead), and after each uevent. Until the first one, device units are
// taken as present when started (where nothing follows devices).
type DevicesChanged struct {
	Devices  []Device
	Coldplug bool
}

func (DevicesChanged) isEvent() {}
