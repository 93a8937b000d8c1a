package manager

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gosd/unitfile"
)

// control is the sequence of "control" commands a unit is running
// (ExecStartPre=, ExecStop=, ...), one process at a time, in order.
type control struct {
	controlPID   int
	controlSpawn uint64
	cmds         []unitfile.ExecCommand
	idx          int
	phase        SubState // the sub-state the sequence belongs to
	// runs is the last run of each control command, by setting and
	// index (systemd's exec status of ExecStartPre= and the others).
	runs []ExecRun
}

// controlSetting names the Exec*= setting a control phase runs.
func controlSetting(phase SubState) string {
	switch phase {
	case SubCondition:
		return "ExecCondition"
	case SubStartPre:
		return "ExecStartPre"
	case SubStartPost:
		return "ExecStartPost"
	case SubReload:
		return "ExecReload"
	case SubStop:
		return "ExecStop"
	case SubStopPre:
		return "ExecStopPre"
	case SubStopPost:
		return "ExecStopPost"
	}
	return ""
}

// run is the record of the current command, made if missing (one per
// setting and index: the list stays as long as the unit's commands).
func (c *control) run() *ExecRun {
	name := controlSetting(c.phase)
	for i := range c.runs {
		if r := &c.runs[i]; r.Setting == name && r.Index == c.idx {
			return r
		}
	}
	c.runs = append(c.runs, ExecRun{Setting: name, Index: c.idx})
	return &c.runs[len(c.runs)-1]
}

// serviceRun is the runtime state of a service unit.
type serviceRun struct {
	baseType
	control
	mainPID    int
	mainSpawn  uint64
	mainIdx    int // oneshot: index of the running ExecStart
	mainStatus WaitStatus
	mainExited bool
	// started: start went through; ExecStop= only runs then (systemd.service(5)).
	started bool
	// noPID: Type=forking without PIDFile=: the daemon's pid is unknown.
	noPID bool
	// forbidRestart: stopped on request; systemd.service(5): "the service
	// will not be restarted if ... stopped with systemctl stop".
	forbidRestart bool
	// restarting: stopped for a restart job: RestartKillSignal= applies.
	restarting bool
	invocation string
	statusText string
	errno      int
	nRestarts  int
	conn       int // Accept=yes connection fd, or -1
	hasConn    bool
	fds        []int
	fdNames    []string
	// busName is the BusName= followed for Type=dbus (WatchBusName), ""
	// when none; busOwner its owner as last reported, "" for none.
	busName, busOwner string
	// trigger is what a path or timer unit that started the service says
	// (TRIGGER_UNIT=, TRIGGER_PATH=, ...: systemd.exec(5)), kept until
	// the start takes it; runTrigger is the running start's.
	trigger, runTrigger []string
	// execMain is the last main process, kept after it ended (systemd's
	// ExecMainPID, ExecMainStartTimestamp, ExecMainExitTimestamp,
	// ExecMainCode, ExecMainStatus).
	execMain ExecMainStatus
}

var cleanSignals = []int{int(syscall.SIGHUP), int(syscall.SIGINT), int(syscall.SIGTERM), int(syscall.SIGPIPE)}

func inInts(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// mainResult classifies how the main process ended (systemd.service(5)
// SuccessExitStatus=: exit 0 and SIGHUP, SIGINT, SIGTERM, SIGPIPE are clean).
func mainResult(s *unitfile.Service, st WaitStatus) string {
	if st.Exited {
		if st.Code == 0 || inInts(s.SuccessExitStatus.Codes, st.Code) {
			return "success"
		}
		return "exit-code"
	}
	if inInts(cleanSignals, st.Signal) || inInts(s.SuccessExitStatus.Signals, st.Signal) {
		return "success"
	}
	if st.CoreDump {
		return "core-dump"
	}
	return "signal"
}

func controlResult(st WaitStatus) string {
	switch {
	case st.Exited && st.Code == 0:
		return "success"
	case st.Exited:
		return "exit-code"
	case st.CoreDump:
		return "core-dump"
	}
	return "signal"
}

func statusEnv(st WaitStatus) (code, status string) {
	switch {
	case st.Exited:
		return "exited", strconv.Itoa(st.Code)
	case st.CoreDump:
		return "dumped", signalName(st.Signal)
	}
	return "killed", signalName(st.Signal)
}

func signalName(sig int) string {
	names := map[syscall.Signal]string{
		syscall.SIGHUP: "HUP", syscall.SIGINT: "INT", syscall.SIGQUIT: "QUIT", syscall.SIGILL: "ILL",
		syscall.SIGTRAP: "TRAP", syscall.SIGABRT: "ABRT", syscall.SIGBUS: "BUS", syscall.SIGFPE: "FPE",
		syscall.SIGKILL: "KILL", syscall.SIGUSR1: "USR1", syscall.SIGSEGV: "SEGV", syscall.SIGUSR2: "USR2",
		syscall.SIGPIPE: "PIPE", syscall.SIGALRM: "ALRM", syscall.SIGTERM: "TERM",
	}
	if n, ok := names[syscall.Signal(sig)]; ok {
		return n
	}
	return strconv.Itoa(sig)
}

func (m *Manager) setResult(u *unit, r string) {
	if u.result == "" || u.result == "success" {
		u.result = r
	}
}

// ---- start ----

// startUnit begins activation of u for its running start job.
func (m *Manager) startUnit(u *unit) {
	if !u.impl.startable(m, u) {
		return // a start is already under way
	}
	if !loaded(u) {
		// Only reached by a restart whose unit's file went away since.
		m.logf(u, LevelWarning, "Unit %s is %s, not starting it.", u.name, loadWord(u.def.LoadState))
		u.impl.notLoaded(m, u)
		if j := u.job; j != nil && j.running {
			m.finishJob(j, ResultFailed)
		}
		return
	}
	if u.impl.startLimited() && m.startLimitHit(u) {
		return
	}
	u.result = "success"
	if len(u.def.Unit.Conditions)+len(u.def.Unit.Asserts) > 0 {
		m.pendingChecks[u.name] = true
		m.emit(CheckConditions{Unit: u.name, Conditions: u.def.Unit.Conditions, Asserts: u.def.Unit.Asserts})
		return
	}
	m.afterConditions(u)
}

// startLimitHit applies StartLimitIntervalSec=/StartLimitBurst= (systemd.unit(5)).
func (m *Manager) startLimitHit(u *unit) bool {
	iv, burst := u.def.Unit.StartLimitIntervalSec, u.def.Unit.StartLimitBurst
	if iv <= 0 || burst <= 0 {
		return false
	}
	if u.startLimitCount == 0 || m.now-u.startLimitWindow >= iv {
		u.startLimitWindow, u.startLimitCount = m.now, 0
	}
	u.startLimitCount++
	if u.startLimitCount <= burst {
		return false
	}
	m.logAt(u, "StartLimitBurst", LevelWarning, "Start request repeated too quickly.")
	u.result = "start-limit-hit"
	m.cancelTimer(u, "restart")
	if a := u.def.Unit.StartLimitAction; a != "" && a != "none" {
		m.action(u, a, -1)
	}
	m.logf(u, LevelWarning, "Failed with result 'start-limit-hit'.")
	m.setState(u, SubFailed)
	if j := u.job; j != nil && j.running {
		m.finishJob(j, ResultFailed) // the unit may have been failed already
	}
	return true
}

// action triggers a FailureAction=-style action. code is the exit status
// an exit or exit-force hands the container manager; -1 keeps the status
// as it is (StartLimitAction=, JobTimeoutAction=, or nothing to propagate).
func (m *Manager) action(u *unit, a string, code int) {
	if (a == "exit" || a == "exit-force") && code >= 0 {
		m.exitCode = code
	}
	m.logf(u, LevelNotice, "Triggering action %s", a)
	m.emit(Action{Unit: u.name, Action: a, ExitCode: m.exitCode})
}

// actionExitStatus is what FailureAction=/SuccessAction=exit propagates
// (systemd.unit(5)): the ...ActionExitStatus= setting when set, else the
// main process's exit status, 255 when a signal ended it, -1 when no main
// process ended (nothing to propagate).
func actionExitStatus(u *unit, setting int) int {
	if setting >= 0 {
		return setting
	}
	if u.svc == nil || !u.svc.mainExited {
		return -1
	}
	if st := u.svc.mainStatus; st.Exited {
		return st.Code
	}
	return 255
}

func (m *Manager) onConditions(e ConditionsChecked) {
	u := m.units[e.Unit]
	if u == nil || !m.pendingChecks[u.name] {
		m.logf(u, LevelDebug, "ignoring unexpected condition result for %s", e.Unit)
		return
	}
	delete(m.pendingChecks, u.name)
	j := u.job
	if j == nil || !j.running {
		m.logf(u, LevelDebug, "condition result for %s arrived without its start job", e.Unit)
		return
	}
	// Recorded for ConditionResult= and AssertResult=; Failed names the
	// line the job ended on (an assert's, when both failed).
	u.condition = CheckResult{At: m.now, OK: e.Met}
	u.assert = CheckResult{At: m.now, OK: e.AssertOK}
	if !e.AssertOK {
		u.assert.Failed = e.Failed
	} else if !e.Met {
		u.condition.Failed = e.Failed
	}
	if ext := strings.Contains(e.Failed, unitfile.ExternalCheck); ext && (!e.AssertOK || !e.Met) {
		// The check gosd added to a unit of a type it does not run
		// (unitfile/extern.go): say so, and end the job as systemd ends
		// one it cannot run (JOB_UNSUPPORTED; a device that never
		// appears fails its dependents, after systemd's 90 s device
		// timeout, here at once where gosd follows no devices).
		if u.def.Type == "device" {
			m.logf(u, LevelWarning, "gosd follows no devices here: %s does not exist, failing the job now instead of waiting for the device.", u.def.Unit.Description)
			m.finishJob(j, ResultTimeout)
			return
		}
		m.logf(u, LevelNotice, "gosd does not run %s units: %s is not already in place (%s), left inactive.", u.def.Type, u.name, e.Failed)
		m.finishJob(j, ResultUnsupported)
		return
	}
	if !e.AssertOK {
		m.logf(u, LevelWarning, "Assertion failed for %s (%s).", describe(u), e.Failed)
		m.finishJob(j, ResultAssert)
		return
	}
	if !e.Met {
		m.logf(u, LevelInfo, "%s was skipped because of an unmet condition check (%s).", describe(u), e.Failed)
		j.skipped = true
		m.finishJob(j, ResultDone)
		return
	}
	m.afterConditions(u)
}

func (m *Manager) afterConditions(u *unit) { u.impl.start(m, u) }

// serviceType registers service units (unitTypes).
var serviceType = typeEntry{
	has:  func(d *unitfile.Unit) bool { return d.Service != nil || d.LoadState == unitfile.Loaded },
	make: func(u *unit) unitVTable { u.svc = &serviceRun{}; return u.svc },
	prepare: func(d *unitfile.Unit) {
		if d.Service == nil {
			d.Service = &unitfile.Service{}
		}
	},
	processes: true,
}

func (*serviceRun) addDeps(m *Manager, u *unit, implicit func(string, ...dep)) {
	if u.def.Unit.DefaultDependencies {
		// systemd.service(5) "Default Dependencies".
		implicit("sysinit.target", depRequires, depAfter)
		implicit("basic.target", depAfter)
		implicit("shutdown.target", depConflicts, depBefore)
	}
	if s := u.def.Service; s != nil {
		// systemd.service(5): Sockets= pulls in with Wants= and After=.
		for _, n := range s.Sockets {
			sk := m.load(n)
			m.edge(u, sk, depWants)
			m.edge(u, sk, depAfter)
			m.edge(sk, u, depTriggers)
		}
		if s.Type == "dbus" && m.loadedExists("dbus.socket") {
			implicit("dbus.socket", depRequires, depAfter)
		}
		if s.Exec.PrivateTmp {
			// systemd.exec(5) "Implicit Dependencies": the mounts
			// needed to reach /tmp and /var/tmp, and
			// systemd-tmpfiles-setup.service before.
			for _, mnt := range []string{"tmp.mount", "var.mount", "var-tmp.mount"} {
				implicit(mnt, depRequires, depAfter)
			}
			implicit("systemd-tmpfiles-setup.service", depAfter)
		}
	}
}

// startable: a service starts from dead or failed, or ends its wait to
// restart.
func (*serviceRun) startable(m *Manager, u *unit) bool {
	switch u.sub {
	case SubAutoRestart:
		m.cancelTimer(u, "restart")
	case SubDead, SubFailed:
	default:
		return false
	}
	return true
}

func (*serviceRun) startLimited() bool { return true }

// notLoaded: a restart found the unit's file gone; one waiting to
// restart ends its run.
func (*serviceRun) notLoaded(m *Manager, u *unit) {
	if u.sub == SubAutoRestart {
		m.setResult(u, "resources")
		m.serviceDead(u)
	}
}

func (*serviceRun) start(m *Manager, u *unit) { m.serviceStart(u) }

func (s *serviceRun) ctl() *control { return &s.control }

func (s *serviceRun) busy() bool {
	return s.mainPID != 0 || s.controlPID != 0 || s.mainSpawn != 0 || s.controlSpawn != 0
}

func (s *serviceRun) reloaded(m *Manager, u *unit) {
	if s.busName != "" {
		m.rewatchBusName(u)
	}
}

func (s *serviceRun) status(m *Manager, u *unit, st *UnitStatus) {
	st.MainPID, st.ControlPID, st.StatusText, st.NRestarts = s.mainPID, s.controlPID, s.statusText, s.nRestarts
	st.MainExited, st.MainStatus = s.mainExited, s.mainStatus
	st.ExecMain = s.execMain
	st.Invocation = s.invocation
}

func (m *Manager) serviceStart(u *unit) {
	s, d := u.svc, u.def.Service
	s.mainExited, s.mainStatus, s.started, s.noPID = false, WaitStatus{}, false, false
	s.control.runs = nil // a start forgets the last run's commands, as systemd
	s.forbidRestart, s.restarting, s.statusText, s.errno = false, false, "", 0
	s.invocation = m.newInvocation()
	s.runTrigger, s.trigger = s.trigger, nil
	if !s.hasConn {
		s.conn = -1
	}
	m.setTimeout(u, "state", d.TimeoutStartSec)
	if len(d.ExecCondition) > 0 {
		m.runControl(u, SubCondition, d.ExecCondition)
		return
	}
	m.serviceStartPre(u)
}

func (m *Manager) serviceStartPre(u *unit) {
	if cmds := u.def.Service.ExecStartPre; len(cmds) > 0 {
		m.runControl(u, SubStartPre, cmds)
		return
	}
	m.serviceExecStart(u)
}

func (m *Manager) serviceExecStart(u *unit) {
	s, d := u.svc, u.def.Service
	if !loaded(u) {
		// Its file went away while it started (daemon-reload): stop what
		// ExecStartPre= may have left, and fail.
		m.logf(u, LevelWarning, "Unit %s is %s, not starting its main process.", u.name, loadWord(u.def.LoadState))
		u.result = "resources"
		m.serviceSignal(u, SubStopSigterm)
		return
	}
	if len(d.ExecStart) == 0 {
		if d.Type == "oneshot" {
			m.setState(u, SubStart)
			m.serviceStartPost(u)
			return
		}
		m.logAt(u, "ExecStart", LevelError, "Service has no ExecStart= setting. Refusing.")
		u.result = "resources"
		m.serviceDead(u)
		return
	}
	s.mainIdx = 0
	m.spawnMain(u, d.ExecStart[0])
	m.setState(u, SubStart)
	switch d.Type {
	case "", "simple", "idle":
		// systemd.service(5) Type=simple: started as soon as the process is
		// forked.
		m.serviceStartPost(u)
	case "dbus":
		// Up once BusName= has an owner (busname.go).
		m.logAt(u, "BusName", LevelInfo, "Waiting for bus name %s to appear on the system bus.", d.BusName)
		m.watchBusName(u)
	}
}

func (m *Manager) spawnMain(u *unit, cmd unitfile.ExecCommand) {
	s, d := u.svc, u.def.Service
	id := m.newSpawnID(u, "main")
	s.mainSpawn = id
	sp := Spawn{ID: id, Unit: u.name, Role: "main", Cmd: cmd, Exec: &d.Exec,
		Env: append([]string{"INVOCATION_ID=" + s.invocation}, s.runTrigger...), Sockets: m.socketsFor(u),
		Conn: -1, Notify: notifyEnabled(d), JoinsNamespaceOf: u.def.Unit.JoinsNamespaceOf, Resources: &d.Resources,
		Slices: m.slicesAbove(d.Resources.Slice)}
	if s.hasConn {
		// The Spawn hands the connection to the reactor, which closes its
		// copy once the process has it.
		sp.Conn = s.conn
		s.hasConn, s.conn = false, -1
	}
	if d.WatchdogSec > 0 && d.WatchdogSec != unitfile.Infinity {
		// sd_watchdog_enabled(3): WATCHDOG_USEC tells the service how often
		// to ping. WATCHDOG_PID is optional and left out: the pid is only
		// known after the fork.
		sp.Env = append(sp.Env, "WATCHDOG_USEC="+strconv.FormatInt(d.WatchdogSec.Microseconds(), 10))
	}
	if len(s.fds) > 0 {
		sp.Fds = append([]int(nil), s.fds...)
		sp.FdNames = append([]string(nil), s.fdNames...)
	}
	m.emit(sp)
}

func notifyEnabled(d *unitfile.Service) bool {
	return d.Type == "notify" || d.Type == "notify-reload" || d.WatchdogSec > 0 ||
		(d.NotifyAccess != "" && d.NotifyAccess != "none")
}

// socketsFor lists the open socket units that pass their fds to u.
func (m *Manager) socketsFor(u *unit) []string {
	var out []string
	for _, s := range u.deps[depTriggeredBy] {
		if s.sock != nil && (s.sub == SubListening || s.sub == SubRunning) {
			out = append(out, s.name)
		}
	}
	return out
}

func (m *Manager) serviceStartPost(u *unit) {
	if cmds := u.def.Service.ExecStartPost; len(cmds) > 0 {
		m.runControl(u, SubStartPost, cmds)
		return
	}
	m.serviceRunning(u)
}

// serviceRunning ends a successful start.
func (m *Manager) serviceRunning(u *unit) {
	s, d := u.svc, u.def.Service
	m.cancelTimer(u, "state")
	s.started = true
	mainGone := s.mainPID == 0 && s.mainSpawn == 0 && !s.noPID
	if mainGone {
		if u.result == "success" && d.RemainAfterExit {
			m.setState(u, SubExited)
			return
		}
		m.serviceStop(u)
		return
	}
	if !busNameGood(u) {
		// Its name went away during ExecStartPost= (systemd's
		// service_enter_running).
		m.notGood(u)
		return
	}
	m.setState(u, SubRunning)
	m.setTimeout(u, "runtime", d.RuntimeMaxSec)
	if d.WatchdogSec > 0 {
		m.setTimeout(u, "watchdog", d.WatchdogSec)
	}
}

// ---- control commands ----

func (m *Manager) ctl(u *unit) *control { return u.impl.ctl() }

// runControl starts a sequence of control commands in sub-state phase.
func (m *Manager) runControl(u *unit, phase SubState, cmds []unitfile.ExecCommand) {
	c := m.ctl(u)
	c.phase, c.cmds, c.idx = phase, cmds, 0
	m.setState(u, phase)
	m.spawnControl(u)
}

func (m *Manager) spawnControl(u *unit) {
	c := m.ctl(u)
	cmd := c.cmds[c.idx]
	id := m.newSpawnID(u, "control")
	c.controlSpawn = id
	sp := Spawn{ID: id, Unit: u.name, Role: "control", Cmd: cmd, Conn: -1, JoinsNamespaceOf: u.def.Unit.JoinsNamespaceOf}
	u.impl.fillControl(m, u, &sp)
	if sp.Resources != nil {
		sp.Slices = m.slicesAbove(sp.Resources.Slice)
	}
	m.emit(sp)
}

// fillControl completes the Spawn of a control process of a service.
func (s *serviceRun) fillControl(m *Manager, u *unit, sp *Spawn) {
	c := &s.control
	{
		sp.Exec, sp.Resources = &u.def.Service.Exec, &u.def.Service.Resources
		if u.def.Service.RootDirectoryStartOnly && sp.Exec.RootDirectory != "" {
			// systemd.service(5): RootDirectory= then applies only to
			// ExecStart=, not to the other commands.
			ec := *sp.Exec
			ec.RootDirectory = ""
			sp.Exec = &ec
		}
		sp.Env = append([]string{"INVOCATION_ID=" + s.invocation}, s.runTrigger...)
		if s.mainPID != 0 {
			sp.Env = append(sp.Env, "MAINPID="+strconv.Itoa(s.mainPID))
		}
		if c.phase == SubStopPost {
			sp.Env = append(sp.Env, "SERVICE_RESULT="+u.result)
			if s.mainExited {
				code, status := statusEnv(s.mainStatus)
				sp.Env = append(sp.Env, "EXIT_CODE="+code, "EXIT_STATUS="+status)
			}
		}
		sp.Notify = notifyEnabled(u.def.Service)
		// PermissionsStartOnly= (systemd.service(5)): the user, sandbox
		// and other permission settings apply to ExecStart= only; every
		// control command runs as with "+".
		if u.def.Service.PermissionsStartOnly {
			sp.Cmd.FullPrivileges = true
		}
	}
}

// activeOf is the service's table of sub-states (systemd's
// service_state_table); socket units share it.
func (*serviceRun) activeOf(sub SubState) ActiveState { return serviceActive(sub) }

func serviceActive(sub SubState) ActiveState {
	switch sub {
	case SubCondition, SubStartPre, SubStart, SubStartPost, SubAutoRestart:
		return ActiveActivating
	case SubRunning, SubExited, SubListening:
		return ActiveActive
	case SubReload:
		return ActiveReloading
	case SubDead:
		return ActiveInactive
	case SubFailed:
		return ActiveFailed
	}
	return ActiveDeactivating
}

// controlExited continues or ends a control sequence.
func (m *Manager) controlExited(u *unit, st WaitStatus) {
	c := m.ctl(u)
	if c.controlPID != 0 {
		r := c.run()
		r.Exit, r.Exited, r.Status = m.now, true, st
	}
	c.controlPID = 0
	cmd := c.cmds[c.idx]
	res := controlResult(st)
	ok := res == "success" || cmd.IgnoreFailure
	if res != "success" {
		m.emit(Log{Unit: u.name, Pos: cmd.Pos, Level: LevelWarning,
			Msg: fmt.Sprintf("Control process %s (%s) exited, %s%s", cmd.Path, c.phase, describeStatus(st), ignoredNote(cmd))})
	}
	if m.inKillPhase(u) {
		m.killPhaseProgress(u)
		return
	}
	// A unit whose definition is gone (daemon-reload) starts none of its
	// old commands again: the sequence ends here.
	if ok && c.idx+1 < len(c.cmds) && loaded(u) {
		c.idx++
		m.spawnControl(u)
		return
	}
	u.impl.controlDone(m, u, c.phase, ok, st, res)
}

func ignoredNote(cmd unitfile.ExecCommand) string {
	if cmd.IgnoreFailure {
		return " (ignored: \"-\" prefix)"
	}
	return ""
}

func describeStatus(st WaitStatus) string {
	if st.Exited {
		return fmt.Sprintf("status=%d", st.Code)
	}
	return "signal=" + signalName(st.Signal)
}

func (*serviceRun) controlDone(m *Manager, u *unit, phase SubState, ok bool, st WaitStatus, res string) {
	switch phase {
	case SubCondition:
		if ok {
			m.serviceStartPre(u)
			return
		}
		if st.Exited && st.Code >= 1 && st.Code <= 254 {
			// systemd.service(5) ExecCondition=: exit 1..254 skips the unit.
			m.cancelTimer(u, "state")
			m.logf(u, LevelInfo, "%s was skipped because of an unmet condition check (ExecCondition=).", describe(u))
			// systemd's SERVICE_SKIP_CONDITION: inactive, not failed,
			// with Result=exec-condition.
			u.result = "exec-condition"
			m.setState(u, SubDead)
			return
		}
		// Exit 255 or a signal: a failure like any other command's
		// (Result=exit-code, signal, ...), as systemd.
		m.setResult(u, res)
		m.serviceSignal(u, SubStopSigterm)
	case SubStartPre:
		if !ok {
			m.setResult(u, res)
			m.serviceSignal(u, SubStopSigterm)
			return
		}
		m.serviceExecStart(u)
	case SubStartPost:
		if !ok {
			m.setResult(u, res)
			m.serviceStop(u)
			return
		}
		m.serviceRunning(u)
	case SubReload:
		m.cancelTimer(u, "state")
		if j := u.job; j != nil && j.kind == JobReload && !ok {
			j.special = ResultFailed
		}
		m.backToRunning(u)
	case SubStop:
		m.serviceSignal(u, SubStopSigterm)
	case SubStopPost:
		m.serviceSignal(u, SubFinalSigterm)
	}
}

// backToRunning returns from reload to running (or exited).
func (m *Manager) backToRunning(u *unit) {
	s := u.svc
	if s.mainPID == 0 && s.mainSpawn == 0 && !s.noPID {
		m.serviceRunning(u)
		return
	}
	m.setState(u, SubRunning)
}

// ---- stop ----

// stopUnit begins deactivation for a stop or restart job.
func (m *Manager) stopUnit(u *unit, restart bool) { u.impl.stop(m, u, restart) }

func (s *serviceRun) stop(m *Manager, u *unit, restart bool) {
	s.forbidRestart, s.restarting = true, restart
	delete(m.pendingChecks, u.name)
	switch u.sub {
	case SubAutoRestart:
		m.cancelTimer(u, "restart")
		m.serviceDead(u)
	case SubDead, SubFailed:
		m.serviceDead(u)
	case SubCondition, SubStartPre, SubStart, SubStartPost:
		m.serviceSignal(u, SubStopSigterm)
	case SubRunning, SubExited, SubReload:
		m.serviceStop(u)
	}
}

// serviceStop runs ExecStop= (only after a successful start), then kills.
func (m *Manager) serviceStop(u *unit) {
	s, d := u.svc, u.def.Service
	m.cancelTimer(u, "runtime")
	m.cancelTimer(u, "watchdog")
	if s.started && len(d.ExecStop) > 0 {
		m.setTimeout(u, "state", d.TimeoutStopSec)
		m.runControl(u, SubStop, d.ExecStop)
		return
	}
	m.serviceSignal(u, SubStopSigterm)
}

func (m *Manager) inKillPhase(u *unit) bool {
	switch u.sub {
	case SubStopSigterm, SubStopSigkill, SubStopWatchdog, SubFinalSigterm, SubFinalSigkill:
		return true
	}
	return false
}

// serviceSignal enters a kill phase: signals per KillMode= (systemd.kill(5))
// and waits for the known processes to go, up to the stop timeout.
func (m *Manager) serviceSignal(u *unit, sub SubState) {
	s, d := u.svc, u.def.Service
	k := d.Kill
	m.cancelTimer(u, "runtime")
	m.cancelTimer(u, "watchdog")
	sig := killSignal(u, sub)
	kill := sub == SubStopSigkill || sub == SubFinalSigkill
	mode := killMode(u)
	alive := s.mainPID != 0 || s.controlPID != 0 || s.mainSpawn != 0 || s.controlSpawn != 0 ||
		m.waitCgroup(u, sub)
	if mode != "none" {
		group := mode == "control-group" || (mode == "mixed" && kill)
		if group {
			pid := s.mainPID
			if pid == 0 {
				pid = s.controlPID
			}
			// Pid 0 with Group: the unit's cgroup (forking without
			// PIDFile=, or leftovers after the main process exited).
			if pid != 0 || sub == SubStopSigterm || (kill && s.noPID) || (m.cgroups && u.cgPopulated) {
				m.emit(Kill{Unit: u.name, Pid: pid, Group: true, Signal: sig})
				if k.SendSIGHUP && !kill {
					m.emit(Kill{Unit: u.name, Pid: pid, Group: true, Signal: int(syscall.SIGHUP)})
				}
			}
		} else {
			for _, pid := range []int{s.mainPID, s.controlPID} {
				if pid != 0 {
					m.emit(Kill{Unit: u.name, Pid: pid, Signal: sig})
					if k.SendSIGHUP && !kill {
						m.emit(Kill{Unit: u.name, Pid: pid, Signal: int(syscall.SIGHUP)})
					}
				}
			}
		}
	}
	if s.noPID && sub == SubStopSigterm {
		s.noPID = false // the daemon got its signal; nothing left to wait for
	}
	if !alive || mode == "none" {
		m.setState(u, sub)
		m.killPhaseNext(u)
		return
	}
	timeout := d.TimeoutStopSec
	if sub == SubStopWatchdog && d.TimeoutAbortSec > 0 {
		timeout = d.TimeoutAbortSec
	}
	m.setTimeout(u, "state", timeout)
	m.setState(u, sub)
}

// killMode is KillMode= with its default.
func killMode(u *unit) string {
	if mode := u.def.Service.Kill.KillMode; mode != "" {
		return mode
	}
	return "control-group"
}

// waitCgroup says whether kill phase sub also waits for the unit's cgroup
// to be empty: with cgroups, when the phase signalled the whole group
// (systemd.kill(5): control-group always, mixed only with SIGKILL).
func (m *Manager) waitCgroup(u *unit, sub SubState) bool {
	if !m.cgroups || !u.cgPopulated {
		return false
	}
	switch killMode(u) {
	case "control-group":
		return true
	case "mixed":
		return sub == SubStopSigkill || sub == SubFinalSigkill
	}
	return false
}

// onCgroupEmpty: the unit's cgroup has no process left.
func (m *Manager) onCgroupEmpty(name string) {
	u := m.units[name]
	if u == nil {
		return
	}
	u.cgPopulated = false
	s := u.svc
	if s == nil {
		return
	}
	switch {
	case m.inKillPhase(u):
		m.killPhaseProgress(u)
	case u.sub == SubRunning && s.noPID && s.mainPID == 0 && s.controlPID == 0 && s.controlSpawn == 0:
		// Type=forking without PIDFile=: the cgroup was the only trace of
		// the daemon; it is gone (systemd: "cgroup empty" stops the unit).
		s.noPID = false
		m.logf(u, LevelInfo, "Control group is empty: the daemon is gone.")
		m.serviceStop(u)
	}
}

// onOOM applies OOMPolicy= (systemd.service(5)) after the kernel's OOM
// killer killed a process of the unit: stop and kill end the unit with
// result oom-kill; continue only logs.
func (m *Manager) onOOM(name string) {
	u := m.units[name]
	if u == nil || u.svc == nil {
		return
	}
	policy := u.def.Service.OOMPolicy
	m.logAt(u, "OOMPolicy", LevelWarning, "A process of this unit has been killed by the OOM killer.")
	if policy == "continue" {
		return
	}
	switch u.sub {
	case SubDead, SubFailed, SubAutoRestart:
		return
	}
	m.setResult(u, "oom-kill")
	if m.inKillPhase(u) {
		return
	}
	if policy == "kill" {
		m.serviceSignal(u, SubStopSigkill)
		return
	}
	m.serviceStop(u)
}

// killSignal is the signal of a kill phase (systemd.kill(5)).
func killSignal(u *unit, sub SubState) int {
	k := u.def.Service.Kill
	sig := k.KillSignal
	switch {
	case sub == SubStopSigkill || sub == SubFinalSigkill:
		sig = k.FinalKillSignal
		if sig == 0 {
			sig = int(syscall.SIGKILL)
		}
	case sub == SubStopWatchdog:
		sig = k.WatchdogSignal
		if sig == 0 {
			sig = int(syscall.SIGABRT)
		}
	case u.svc.restarting && k.RestartKillSignal != 0:
		sig = k.RestartKillSignal
	}
	if sig == 0 {
		sig = int(syscall.SIGTERM)
	}
	return sig
}

// signalLate signals a process whose pid arrived (Spawned) after its unit
// entered a kill phase.
func (m *Manager) signalLate(u *unit, pid int) {
	if !m.inKillPhase(u) || u.def.Service.Kill.KillMode == "none" {
		return
	}
	m.emit(Kill{Unit: u.name, Pid: pid, Signal: killSignal(u, u.sub)})
}

// killPhaseProgress: a process of a unit in a kill phase went away.
func (m *Manager) killPhaseProgress(u *unit) {
	s := u.svc
	if s == nil {
		return
	}
	if s.mainPID == 0 && s.controlPID == 0 && s.mainSpawn == 0 && s.controlSpawn == 0 && !m.waitCgroup(u, u.sub) {
		m.killPhaseNext(u)
	}
}

func (m *Manager) killPhaseNext(u *unit) {
	m.cancelTimer(u, "state")
	if m.cgroups && u.cgPopulated && killMode(u) == "mixed" && u.def.Service.Kill.SendSIGKILL {
		// systemd.kill(5) mixed: SIGTERM went to the main process only;
		// the SIGKILL goes to every process left in the cgroup.
		switch u.sub {
		case SubStopSigterm, SubStopWatchdog:
			m.serviceSignal(u, SubStopSigkill)
			return
		case SubFinalSigterm:
			m.serviceSignal(u, SubFinalSigkill)
			return
		}
	}
	switch u.sub {
	case SubStopSigterm, SubStopSigkill, SubStopWatchdog:
		m.serviceStopPost(u)
	default:
		m.serviceDead(u)
	}
}

func (m *Manager) serviceStopPost(u *unit) {
	d := u.def.Service
	if len(d.ExecStopPost) > 0 {
		m.setTimeout(u, "state", d.TimeoutStopSec)
		m.runControl(u, SubStopPost, d.ExecStopPost)
		return
	}
	m.serviceDead(u)
}

// serviceDead ends a run: auto-restart per Restart=, or dead/failed.
func (m *Manager) serviceDead(u *unit) {
	s, d := u.svc, u.def.Service
	for _, k := range []string{"state", "runtime", "watchdog"} {
		m.cancelTimer(u, k)
	}
	m.unwatchBusName(u)
	if u.result == "" {
		u.result = "success"
	}
	if !s.forbidRestart && !m.shuttingDown && m.shouldRestart(u) {
		m.logAt(u, "Restart", LevelInfo, "Scheduled restart job, restart counter is at %d.", s.nRestarts+1)
		m.setTimeout(u, "restart", max(d.RestartSec, 1))
		m.setState(u, SubAutoRestart)
		return
	}
	if j := u.job; j == nil || j.kind != JobRestart {
		m.closeFDStore(u) // kept across restarts, passed to the next start
	}
	if s.hasConn && u.acceptOf == nil {
		s.hasConn = false
	}
	m.emit(Cleanup{Unit: u.name, Exec: &d.Exec})
	if u.result == "success" {
		wasActive := s.started
		m.setState(u, SubDead)
		if a := u.def.Unit.SuccessAction; wasActive && a != "" && a != "none" && !m.shuttingDown {
			m.action(u, a, actionExitStatus(u, u.def.Unit.SuccessActionExitStatus))
		}
		return
	}
	m.logf(u, LevelWarning, "Failed with result '%s'.", u.result)
	m.setState(u, SubFailed)
	if a := u.def.Unit.FailureAction; a != "" && a != "none" && !m.shuttingDown {
		m.action(u, a, actionExitStatus(u, u.def.Unit.FailureActionExitStatus))
	}
}

// shouldRestart applies Restart= (systemd.service(5), table 2) and the
// RestartPreventExitStatus=/RestartForceExitStatus= exceptions.
func (m *Manager) shouldRestart(u *unit) bool {
	s, d := u.svc, u.def.Service
	if u.result == "start-limit-hit" || u.result == "exec-condition" {
		return false
	}
	if s.mainExited {
		st := s.mainStatus
		set := d.RestartPreventExitStatus
		if (st.Exited && inInts(set.Codes, st.Code)) || (!st.Exited && inInts(set.Signals, st.Signal)) {
			return false
		}
		set = d.RestartForceExitStatus
		if (st.Exited && inInts(set.Codes, st.Code)) || (!st.Exited && inInts(set.Signals, st.Signal)) {
			return true
		}
	}
	r := u.result
	switch d.Restart {
	case "always":
		return true
	case "on-success":
		return r == "success"
	case "on-failure":
		return r != "success"
	case "on-abnormal":
		return r == "signal" || r == "core-dump" || r == "timeout" || r == "watchdog"
	case "on-abort":
		return r == "signal" || r == "core-dump"
	case "on-watchdog":
		return r == "watchdog"
	}
	return false
}

func (m *Manager) closeFDStore(u *unit) {
	s := u.svc
	for _, fd := range s.fds {
		m.emit(CloseFD{Unit: u.name, FD: fd})
	}
	s.fds, s.fdNames = nil, nil
}

// ---- reload ----

func (m *Manager) reloadUnit(u *unit) { u.impl.reload(m, u) }

func (*serviceRun) canReload(u *unit) bool {
	s := u.def.Service
	return s != nil && (len(s.ExecReload) > 0 || s.Type == "notify-reload")
}

func (*serviceRun) reload(m *Manager, u *unit) {
	d := u.def.Service
	m.setTimeout(u, "state", d.TimeoutStartSec)
	if len(d.ExecReload) > 0 {
		m.runControl(u, SubReload, d.ExecReload)
		return
	}
	// notify-reload: ReloadSignal= (SIGHUP by default), then wait for
	// RELOADING=1 ... READY=1.
	if u.svc.mainPID != 0 {
		sig := d.ReloadSignal
		if sig == 0 {
			sig = int(syscall.SIGHUP)
		}
		m.emit(Kill{Unit: u.name, Pid: u.svc.mainPID, Signal: sig})
	}
	m.setState(u, SubReload)
}

// ---- process events ----

func (m *Manager) onSpawned(e Spawned) {
	ref, ok := m.spawns[e.ID]
	if !ok {
		m.logf(nil, LevelDebug, "ignoring Spawned for unknown id %d", e.ID)
		return
	}
	delete(m.spawns, e.ID)
	u := ref.u
	if e.Err == nil && e.Pid > 0 {
		u.cgPopulated = true
	}
	c := u.impl.ctl()
	if c == nil {
		return
	}
	if ref.role == "main" {
		u.impl.spawned(m, u, e)
		return
	}
	if c.controlSpawn != e.ID {
		m.logf(u, LevelDebug, "ignoring stale Spawned %d", e.ID)
		return
	}
	c.controlSpawn = 0
	if e.Err != nil {
		m.logSpawnFailed(u, "control", c.cmds[c.idx], e)
		m.controlExited(u, WaitStatus{Exited: true, Code: spawnStatus(e)})
		return
	}
	c.controlPID = e.Pid
	*c.run() = ExecRun{Setting: controlSetting(c.phase), Index: c.idx, PID: e.Pid, Start: m.now}
	m.pids[e.Pid] = pidRef{u: u, role: "control"}
	u.impl.controlStarted(m, u, e.Pid)
}

func (*serviceRun) controlStarted(m *Manager, u *unit, pid int) { m.signalLate(u, pid) }

// spawned: the main process of a service was forked (or not).
func (s *serviceRun) spawned(m *Manager, u *unit, e Spawned) {
	{
		if s.mainSpawn != e.ID {
			m.logf(u, LevelDebug, "ignoring stale Spawned %d", e.ID)
			return
		}
		s.mainSpawn = 0
		if e.Err != nil {
			var cmd unitfile.ExecCommand
			if i := s.mainIdx; i < len(u.def.Service.ExecStart) {
				cmd = u.def.Service.ExecStart[i]
			}
			m.logSpawnFailed(u, "main", cmd, e)
			m.mainGone(u, WaitStatus{Exited: true, Code: spawnStatus(e)})
			return
		}
		s.mainPID = e.Pid
		s.execMain = ExecMainStatus{PID: e.Pid, Start: m.now}
		m.pids[e.Pid] = pidRef{u: u, role: "main"}
		m.signalLate(u, e.Pid)
		if u.def.Service.Type == "exec" && u.sub == SubStart {
			m.serviceStartPost(u)
		}
	}
}

// logSpawnFailed says why a process of u (role main or control) could
// not start, with the line of its command. A missing program behind the
// "-" prefix is systemd's "Executable ... missing, skipping" at info,
// not an error; the process still counts as exited 203/EXEC
// (ExecMainStatus), a failure the prefix ignores.
func (m *Manager) logSpawnFailed(u *unit, role string, cmd unitfile.ExecCommand, e Spawned) {
	l := Log{Unit: u.name, Pos: cmd.Pos, Level: LevelError, Msg: fmt.Sprintf("Failed to spawn %s process: %v", role, e.Err)}
	if e.Missing && cmd.IgnoreFailure {
		l.Level, l.Msg = LevelInfo, fmt.Sprintf("Executable %s missing, skipping: %v", cmd.Path, e.Err)
	}
	if l.Level >= m.minLevel {
		m.emit(l)
	}
}

// spawnStatus is the exit status a failed spawn counts as: the failed
// step's, or 203/EXEC when the reactor could not say.
func spawnStatus(e Spawned) int {
	if e.Status > 0 {
		return e.Status
	}
	return 203
}

func (m *Manager) onExited(e Exited) {
	ref, ok := m.pids[e.Pid]
	if !ok {
		m.logf(nil, LevelDebug, "reaped unknown process %d", e.Pid)
		return
	}
	delete(m.pids, e.Pid)
	u := ref.u
	if ref.role == "main" && u.impl.exited(m, u, e.Pid, e.Status) {
		return
	}
	if c := m.ctl(u); c != nil && c.controlPID == e.Pid {
		m.controlExited(u, e.Status)
		return
	}
	m.logf(u, LevelDebug, "process %d of %s exited after it was forgotten", e.Pid, u.name)
}

func (s *serviceRun) exited(m *Manager, u *unit, pid int, st WaitStatus) bool {
	if s.mainPID != pid {
		return false
	}
	s.mainPID = 0
	m.mainGone(u, st)
	return true
}

// mainGone handles the end of the main process (systemd.service(5) Type=).
func (m *Manager) mainGone(u *unit, st WaitStatus) {
	s, d := u.svc, u.def.Service
	s.mainPID = 0
	s.mainExited, s.mainStatus = true, st
	s.execMain.Exit, s.execMain.Status, s.execMain.Exited = m.now, st, true
	res := mainResult(d, st)
	if res != "success" {
		var pos unitfile.Pos
		ignore := false
		if i := s.mainIdx; i < len(d.ExecStart) {
			pos = d.ExecStart[i].Pos
			ignore = d.ExecStart[i].IgnoreFailure
		}
		msg := "Main process exited, " + describeStatus(st)
		if ignore {
			// "-" prefix (systemd.service(5)): the failure is recorded
			// but has no further effect; a program that cannot be
			// executed is such a failure (status 203), as under systemd.
			msg += " (ignored: command prefixed with \"-\")"
			res = "success"
		}
		m.emit(Log{Unit: u.name, Pos: pos, Level: LevelWarning, Msg: msg})
	}
	switch u.sub {
	case SubStart:
		switch d.Type {
		case "oneshot":
			if res != "success" {
				m.setResult(u, res)
				m.serviceSignal(u, SubStopSigterm)
				return
			}
			if s.mainIdx+1 < len(d.ExecStart) {
				s.mainIdx++
				m.spawnMain(u, d.ExecStart[s.mainIdx])
				return
			}
			m.serviceStartPost(u)
		case "forking":
			if res != "success" {
				m.setResult(u, res)
				m.serviceSignal(u, SubStopSigterm)
				return
			}
			if d.PIDFile != "" {
				m.emit(ReadPIDFile{Unit: u.name, Path: d.PIDFile})
				return
			}
			// Without PIDFile= gosd cannot guess the daemon's pid (it sees
			// no cgroup members): the unit stays running with no main pid
			// until stopped, and stop signals its cgroup.
			s.noPID = true
			m.logAt(u, "Type", LevelNotice, "Type=forking without PIDFile=: main process unknown, tracking the unit's cgroup only")
			m.serviceStartPost(u)
		case "dbus":
			// systemd falls through to service_enter_running: a failed
			// exit fails the unit; a clean one leaves a service that
			// never got its name, which is stopped (or, with
			// RemainAfterExit=, active/exited), not failed.
			if res != "success" {
				m.setResult(u, res)
				m.serviceSignal(u, SubStopSigterm)
				return
			}
			m.logAt(u, "BusName", LevelWarning, "Main process exited before bus name %s was acquired.", d.BusName)
			m.serviceRunning(u)
		case "notify", "notify-reload":
			if res == "success" {
				res = "protocol"
				m.logf(u, LevelWarning, "Main process exited before sending READY=1")
			}
			m.setResult(u, res)
			m.serviceSignal(u, SubStopSigterm)
		default: // exec before Spawned, or the spawn failed
			m.setResult(u, res)
			m.serviceSignal(u, SubStopSigterm)
		}
	case SubStartPost, SubCondition, SubStartPre:
		m.setResult(u, res) // serviceRunning notices the main process is gone
	case SubRunning, SubReload:
		m.setResult(u, res)
		if j := u.job; j != nil && j.kind == JobReload {
			j.special = ResultFailed
		}
		if res == "success" && d.RemainAfterExit {
			m.setState(u, SubExited)
			return
		}
		m.serviceStop(u)
	case SubStop:
		m.setResult(u, res)
	default:
		// systemd records how the main process ended in every state: a
		// daemon exiting non-zero on SIGTERM fails the unit.
		m.setResult(u, res)
		if m.inKillPhase(u) {
			m.killPhaseProgress(u)
		}
	}
}

func (m *Manager) onPIDFile(e PIDFileRead) {
	u := m.units[e.Unit]
	if u == nil || u.svc == nil || u.sub != SubStart {
		m.logf(u, LevelDebug, "ignoring PID file result for %s", e.Unit)
		return
	}
	if e.Err != nil || e.Pid <= 0 {
		m.logAt(u, "PIDFile", LevelError, "Can't open PID file %s (yet?) after start: %v", u.def.Service.PIDFile, e.Err)
		m.setResult(u, "protocol")
		m.serviceSignal(u, SubStopSigterm)
		return
	}
	who := e.Owner
	if who.Pid != e.Pid {
		who = PidOwner{Pid: e.Pid}
	}
	if !m.suitableMainPID(u, who, e.Trusted, "from PID file "+u.def.Service.PIDFile) {
		m.setResult(u, "protocol")
		m.serviceSignal(u, SubStopSigterm)
		return
	}
	m.setMainPID(u, e.Pid)
	m.serviceStartPost(u)
}

// setMainPID makes pid u's main process.
func (m *Manager) setMainPID(u *unit, pid int) {
	s := u.svc
	if s.mainPID != 0 && m.pids[s.mainPID].u == u {
		delete(m.pids, s.mainPID)
	}
	s.mainPID, s.noPID = pid, false
	s.execMain = ExecMainStatus{PID: pid, Start: m.now}
	m.pids[pid] = pidRef{u: u, role: "main"}
}

// mainPIDWelcome says whether a service in state sub takes a new main
// pid from MAINPID=: only while it starts, runs, reloads or stops, as
// systemd's service_notify_message. Before its main process (condition,
// start-pre) or after its run (dead, failed, auto-restart) a leftover or
// helper process must not give the unit a process to watch and signal.
func mainPIDWelcome(sub SubState) bool {
	switch sub {
	case SubStart, SubStartPost, SubRunning, SubReload,
		SubStop, SubStopWatchdog, SubStopSigterm, SubStopSigkill, SubStopPost,
		SubFinalSigterm, SubFinalSigkill:
		return true
	}
	return false
}

// suitableMainPID applies systemd's rules to a new main pid a service
// names (sd_notify(3) MAINPID=, systemd.service(5) PIDFile=, systemd's
// service_is_suitable_main_pid): never the manager (gosd's own pid, or
// pid 1), the unit's control process, a process that is gone, or a
// process of another unit; a process of the unit is good; one that
// belongs to no unit only when privileged says the source is trusted
// (a root sender, a root-owned PID file reached through safe links).
// gosd is stricter than systemd in one point: a root sender cannot hand
// a unit another unit's process either (its signals would go there).
func (m *Manager) suitableMainPID(u *unit, who PidOwner, privileged bool, source string) bool {
	n, s := who.Pid, u.svc
	refuse := func(why string) bool {
		m.logf(u, LevelWarning, "New main PID %d %s, refusing it (%s).", n, why, source)
		return false
	}
	switch {
	case n == 1 || who.Manager:
		return refuse("is the manager")
	case n == s.controlPID:
		return refuse("is the control process")
	case who.Gone:
		return refuse("does not exist or is a zombie")
	}
	if ref, ok := m.pids[n]; ok {
		if ref.u != u {
			return refuse("belongs to " + ref.u.name)
		}
		return true
	}
	if who.Unit != "" {
		if m.units[who.Unit] == u {
			return true
		}
		return refuse("belongs to " + who.Unit)
	}
	if privileged {
		m.logf(u, LevelDebug, "New main PID %d does not belong to service, accepted: its source is privileged (%s).", n, source)
		return true
	}
	return refuse("does not belong to service")
}

// ---- timers ----

func (*serviceRun) timer(m *Manager, u *unit, kind string) {
	d := u.def.Service
	switch kind {
	case "restart":
		if u.sub != SubAutoRestart {
			return
		}
		if !loaded(u) {
			m.startUnit(u) // refuses, and ends the unit's run
			return
		}
		u.svc.nRestarts++
		if j := u.job; j != nil && j.running && (j.kind == JobStart || j.kind == JobRestart) {
			m.startUnit(u)
			return
		}
		// systemd enqueues a restart job so that units bound to this one
		// are restarted too.
		m.request(0, u.name, JobRestart, ModeReplace)
	case "watchdog":
		if u.sub != SubRunning && u.sub != SubReload {
			return
		}
		m.logAt(u, "WatchdogSec", LevelError, "Watchdog timeout (limit %s)!", d.WatchdogSec)
		m.setResult(u, "watchdog")
		m.serviceSignal(u, SubStopWatchdog)
	case "runtime":
		m.logAt(u, "RuntimeMaxSec", LevelWarning, "Service reached runtime time limit. Stopping.")
		m.setResult(u, "timeout")
		m.serviceStop(u)
	case "state":
		m.stateTimeout(u)
	}
}

func (m *Manager) stateTimeout(u *unit) {
	d := u.def.Service
	switch u.sub {
	case SubCondition, SubStartPre, SubStart, SubStartPost:
		if u.sub == SubStart && isDBus(u) {
			m.logAt(u, "BusName", LevelWarning, "Bus name %s was not acquired within TimeoutStartSec=.", d.BusName)
		}
		m.logAt(u, "TimeoutStartSec", LevelWarning, "%s operation timed out. Terminating.", u.sub)
		m.setResult(u, "timeout")
		switch d.TimeoutStartFailureMode {
		case "abort":
			m.serviceSignal(u, SubStopWatchdog)
		case "kill":
			m.serviceSignal(u, SubStopSigkill)
		default:
			m.serviceSignal(u, SubStopSigterm)
		}
	case SubReload:
		m.logf(u, LevelWarning, "Reload operation timed out. Killing reload process.")
		if c := u.svc.controlPID; c != 0 {
			m.emit(Kill{Unit: u.name, Pid: c, Signal: int(syscall.SIGKILL)})
		}
		if j := u.job; j != nil && j.kind == JobReload {
			j.special = ResultFailed
		}
		m.backToRunning(u)
	case SubStop:
		m.logAt(u, "TimeoutStopSec", LevelWarning, "Stopping timed out. Terminating.")
		m.setResult(u, "timeout")
		m.serviceSignal(u, SubStopSigterm)
	case SubStopSigterm, SubStopWatchdog:
		m.setResult(u, "timeout")
		if d.Kill.SendSIGKILL {
			m.logf(u, LevelWarning, "State '%s' timed out. Killing.", u.sub)
			m.serviceSignal(u, SubStopSigkill)
			return
		}
		m.logf(u, LevelWarning, "State '%s' timed out. Skipping SIGKILL.", u.sub)
		m.forgetProcesses(u)
		m.serviceStopPost(u)
	case SubStopSigkill:
		m.logf(u, LevelWarning, "Processes still around after SIGKILL. Ignoring.")
		m.forgetProcesses(u)
		m.serviceStopPost(u)
	case SubStopPost:
		m.logAt(u, "TimeoutStopSec", LevelWarning, "State 'stop-post' timed out. Terminating.")
		m.setResult(u, "timeout")
		m.serviceSignal(u, SubFinalSigterm)
	case SubFinalSigterm:
		m.setResult(u, "timeout")
		if d.Kill.SendSIGKILL {
			m.serviceSignal(u, SubFinalSigkill)
			return
		}
		m.forgetProcesses(u)
		m.serviceDead(u)
	case SubFinalSigkill:
		m.logf(u, LevelWarning, "Processes still around after final SIGKILL. Entering failed mode.")
		m.forgetProcesses(u)
		m.serviceDead(u)
	}
}

// forgetProcesses stops waiting for processes that would not die; their
// exits, should they come, are ignored.
func (m *Manager) forgetProcesses(u *unit) {
	c := m.ctl(u)
	u.impl.forgetProcesses(m, u)
	if c.controlPID != 0 {
		delete(m.pids, c.controlPID)
	}
	c.controlPID, c.controlSpawn = 0, 0
}

func (s *serviceRun) forgetProcesses(m *Manager, u *unit) {
	if s.mainPID != 0 {
		delete(m.pids, s.mainPID)
	}
	s.mainPID, s.mainSpawn = 0, 0
}

// ---- sd_notify ----

func (m *Manager) onNotify(e Notify) {
	var u *unit
	if ref, ok := m.pids[e.Pid]; ok {
		u = ref.u
	} else if e.Unit != "" {
		u = m.units[e.Unit]
	}
	if u == nil || u.svc == nil {
		m.logf(nil, LevelDebug, "ignoring notification from unknown pid %d", e.Pid)
		m.closeFDs("", e.Fds)
		return
	}
	s, d := u.svc, u.def.Service
	access := notifyAccess(u.def)
	allowed := false
	switch access {
	case "all":
		allowed = true
	case "exec":
		allowed = e.Pid == s.mainPID || e.Pid == s.controlPID
	case "main":
		allowed = e.Pid == s.mainPID
	}
	if !allowed {
		m.logAt(u, "NotifyAccess", LevelWarning, "Got notification message from PID %d, but reception only permitted for %s (NotifyAccess=%s)", e.Pid, accessWho(access, s), access)
		m.closeFDs(u.name, e.Fds)
		return
	}
	fdstore, barrier := false, false
	fdname := "stored"
	for _, f := range e.Fields {
		k, v := f[0], f[1]
		switch k {
		case "READY":
			if v == "1" {
				m.notifyReady(u)
			}
		case "RELOADING":
			if v == "1" && u.sub == SubRunning {
				m.setState(u, SubReload)
			}
		case "STOPPING":
			if v == "1" && (u.sub == SubRunning || u.sub == SubReload) {
				// systemd: the service stops by itself; wait for it.
				m.cancelTimer(u, "runtime")
				m.cancelTimer(u, "watchdog")
				s.forbidRestart = false
				m.setTimeout(u, "state", d.TimeoutStopSec)
				m.setState(u, SubStopSigterm)
			}
		case "STATUS":
			s.statusText = v
		case "ERRNO":
			if n, err := strconv.Atoi(v); err == nil {
				s.errno = n
				m.logf(u, LevelInfo, "Service reported errno %d", n)
			}
		case "MAINPID":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				m.logf(u, LevelWarning, "Invalid MAINPID=%q", v)
				continue
			}
			if !mainPIDWelcome(u.sub) {
				m.logf(u, LevelDebug, "Ignoring MAINPID=%d in state %s.", n, u.sub)
				continue
			}
			if n == s.mainPID {
				s.noPID = false
				continue
			}
			who := e.MainPID
			if who.Pid != n {
				who = PidOwner{Pid: n} // not the one the reactor looked at
			}
			if !m.suitableMainPID(u, who, e.Privileged, "MAINPID=") {
				continue
			}
			m.setMainPID(u, n)
		case "EXTEND_TIMEOUT_USEC":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			if at, ok := u.timers["state"]; ok {
				if na := m.now + time.Duration(n)*time.Microsecond; na > at {
					m.setTimer(u, "state", na)
				}
			}
		case "WATCHDOG":
			switch v {
			case "1":
				if _, ok := u.timers["watchdog"]; ok && d.WatchdogSec > 0 {
					m.setTimeout(u, "watchdog", d.WatchdogSec)
				}
			case "trigger":
				m.setResult(u, "watchdog")
				m.serviceSignal(u, SubStopWatchdog)
			}
		case "FDSTORE":
			fdstore = v == "1"
		case "FDNAME":
			fdname = v
		case "BARRIER":
			barrier = v == "1"
		}
	}
	switch {
	case barrier || !fdstore:
		// BARRIER=1: the sender waits for its fd to be closed.
		m.closeFDs(u.name, e.Fds)
	default:
		for _, fd := range e.Fds {
			if len(s.fds) >= d.FileDescriptorStoreMax {
				m.logAt(u, "FileDescriptorStoreMax", LevelWarning, "Too many stored file descriptors, closing %d", fd)
				m.emit(CloseFD{Unit: u.name, FD: fd})
				continue
			}
			s.fds = append(s.fds, fd)
			s.fdNames = append(s.fdNames, fdname)
		}
	}
}

// notifyAccess is the effective NotifyAccess= (systemd.service(5)): "main"
// for Type=notify/notify-reload or with WatchdogSec= unless set explicitly
// (a "none" with no NotifyAccess= line is the loader's default, not a choice).
func notifyAccess(def *unitfile.Unit) string {
	d := def.Service
	a := d.NotifyAccess
	explicit := a != "" && (a != "none" || settingPos(def, "NotifyAccess").File != "")
	if explicit {
		return a
	}
	if d.Type == "notify" || d.Type == "notify-reload" || d.WatchdogSec > 0 {
		return "main"
	}
	return "none"
}

func accessWho(access string, s *serviceRun) string {
	switch access {
	case "main":
		return "main PID " + strconv.Itoa(s.mainPID)
	case "exec":
		return "main and control PIDs"
	}
	return "nobody"
}

func (m *Manager) closeFDs(unit string, fds []int) {
	for _, fd := range fds {
		m.emit(CloseFD{Unit: unit, FD: fd})
	}
}

func (m *Manager) notifyReady(u *unit) {
	switch u.sub {
	case SubStart:
		t := u.def.Service.Type
		if t == "notify" || t == "notify-reload" {
			m.serviceStartPost(u)
		}
	case SubReload:
		m.cancelTimer(u, "state")
		m.setState(u, SubRunning)
	}
}
