package reactor

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"gosd/exec"
	"gosd/logstore"
	"gosd/manager"
	"gosd/sockets"
	"gosd/unitfile"
)

// perform carries out one effect. A panic is logged with the unit and, for
// a Spawn, answered with a failed Spawned so the manager does not wait
// forever.
func (r *Reactor) perform(e manager.Effect) {
	if r.afterSpawns(e) {
		return
	}
	r.performNow(e)
}

func (r *Reactor) performNow(e manager.Effect) {
	unit := effectUnit(e)
	if r.guardOf(unit, "effect %T", e, func() { r.performUnguarded(e) }) {
		if s, ok := e.(manager.Spawn); ok {
			r.Feed(manager.Spawned{ID: s.ID, Err: errors.New("internal error while spawning (see log)")})
		}
	}
	if r.cfg.Observe != nil {
		r.guard(unit, "observer", func() { r.cfg.Observe(e) })
	}
}

func (r *Reactor) performUnguarded(e manager.Effect) {
	switch e := e.(type) {
	case manager.Spawn:
		r.signalGroups() // a group kill's listing must not meet the new process
		r.spawn(e)
	case manager.Kill:
		r.kill(e)
	case manager.SetTimer:
		r.timers.set(e.ID, e.At)
	case manager.CancelTimer:
		r.timers.cancel(e.ID)
	case manager.OpenSockets:
		r.feedNext(manager.SocketsOpened{Unit: e.Unit, Err: r.openSockets(e)})
	case manager.CloseSockets:
		r.closeSockets(e)
	case manager.WatchSocket:
		if e.Watch {
			r.watch(e.Unit)
		} else {
			r.unwatch(e.Unit)
		}
	case manager.ReadPIDFile:
		pid, trusted, err := readPIDFile(e.Path)
		ev := manager.PIDFileRead{Unit: e.Unit, Pid: pid, Err: err, Trusted: trusted}
		if err == nil {
			ev.Owner = r.pidOwner(pid)
		}
		r.Feed(ev)
	case manager.Cleanup:
		delete(r.logLimits, e.Unit)
		if ec := e.Exec; ec != nil {
			if err := exec.CleanupDirectories(ec, false); err != nil {
				r.logf(e.Unit, "cleanup: %v", err)
			}
			if err := exec.RemoveUserIPC(ec); err != nil {
				r.logf(e.Unit, "RemoveIPC=: %v", err)
			}
			if err := exec.UtmpDead(ec); err != nil {
				r.logf(e.Unit, "utmp: %v", err)
			}
			exec.ResetTTY(ec) // "after execution" too (systemd.exec(5))
			if len(ec.Credentials) > 0 {
				if err := exec.CleanupCredentials(e.Unit); err != nil {
					r.logf(e.Unit, "credentials: %v", err)
				}
			}
		}
		// A DynamicUser= uid nobody holds any more goes back to the pool,
		// its IPC objects with it (RemoveIPC= is implied).
		for _, id := range r.dyn.Release(e.Unit) {
			if err := exec.RemoveIPC(id, id); err != nil {
				r.logf(e.Unit, "RemoveIPC= for dynamic user %d: %v", id, err)
			}
		}
		if err := exec.CleanupSandbox(e.Unit); err != nil {
			r.logf(e.Unit, "cleanup: %v", err)
		}
	case manager.Log:
		r.logAt(e.Unit, e.Pos, e.Level, e.Msg)
	case manager.UnitChanged:
		r.onUnitState(e.Unit, e.Active)
		r.progress(e)
		r.busTrigger(e)
	case manager.WatchBusName:
		r.watchBusName(e.Unit, e.Name)
	case manager.UnwatchBusName:
		r.unwatchBusName(e.Unit, e.Name)
	case manager.JobFinished:
		desc, oneshot := e.Description, e.Oneshot
		if desc == "" {
			desc, oneshot = r.describe(e.Unit)
		}
		r.console(e, desc, oneshot)
		switch e.ID {
		case BootJobID:
			r.trimHeap = true
			if !r.bootDone {
				r.bootDone = true
				r.reapply() // StartupCPUWeight= gives way to CPUWeight=
			}
			r.onBootJob(e)
		case fallbackJobID:
			r.onFallbackJob(e)
		}
	case manager.RealizeSlice:
		r.realizeSlices(e.Slices)
	case manager.ApplyResources:
		r.applyResources(e)
	case manager.JobStarted:
		// Queued, not yet running: systemd prints "Starting ..." only when
		// the unit actually begins to change (see progress). A device unit
		// never does: its job waits for the device from the start.
		if e.Kind == manager.JobStart && unitType(e.Unit) == "device" {
			desc := e.Description
			if desc == "" {
				desc, _ = r.describe(e.Unit)
			}
			r.console(e, desc, false)
		}
		if e.ID == fallbackJobID {
			r.logf("", "Falling back to %s.", e.Unit)
		}
	case manager.Action:
		if r.cfg.OnAction != nil {
			r.cfg.OnAction(e)
		} else {
			r.performAction(e)
		}
	case manager.Exit:
		r.done, r.exitCode, r.exitAction = true, e.Code, e.Action
		if r.exitCode == 0 {
			r.exitCode = r.forcedExit
		}
	case manager.CloseFD:
		if e.FD > 2 {
			syscall.Close(e.FD)
		}
	case manager.CheckConditions:
		r.feedNext(r.checkConditions(e))
	case manager.ReadTimerStamp:
		r.feedNext(r.readStamp(e.Unit))
	case manager.WriteTimerStamp:
		r.writeStamp(e.Unit, e.At)
	case manager.WatchPaths:
		r.feedNext(r.watchPaths(e))
	case manager.UnwatchPaths:
		r.unwatchPaths(e.Unit)
	case manager.ProbeMount:
		r.feedNext(r.probeMount(e))
	case manager.ProbeSwap:
		r.feedNext(r.probeSwap(e))
	case manager.StartAutomount, manager.AutomountReply, manager.ExpireAutomount, manager.StopAutomount, manager.AdoptAutomount:
		r.automountEffect(e)
	default:
		r.logf(effectUnit(e), "unknown effect %T ignored: %+v", e, e)
	}
}

// feedNext queues the answer of an effect the reactor carried out at once
// (sockets opened, conditions checked) ahead of the events already
// pending, most of which lead to spawns: a socket unit or a condition
// check then completes in the same turn instead of behind every spawn
// queued before it. Measured on the Debian boot (docs/debian-boot.md):
// journald's sockets sat "activating" 130-470 ms behind the spawns of the
// first batch of jobs, and journald, the head of the boot's critical
// chain, started that much later.
// Answers of one step keep their order among themselves.
func (r *Reactor) feedNext(ev manager.Event) {
	r.front = min(r.front, len(r.pending))
	r.pending = slices.Insert(r.pending, r.front, ev)
	r.front++
}

func (r *Reactor) checkConditions(e manager.CheckConditions) manager.ConditionsChecked {
	unit := e.Unit
	res := manager.ConditionsChecked{Unit: unit, Met: true, AssertOK: true}
	var notes, more []string
	res.Met, res.Failed, notes = evalConditions(e.Conditions, "Condition")
	var failedAssert string
	res.AssertOK, failedAssert, more = evalConditions(e.Asserts, "Assert")
	if res.Failed == "" {
		res.Failed = failedAssert
	}
	for _, n := range append(notes, more...) {
		r.logAt(unit, unitfile.Pos{}, manager.LevelWarning, n)
	}
	return res
}

// console prints a job's progress line; desc is the unit's Description=,
// oneshot says it is a Type=oneshot service.
func (r *Reactor) console(e manager.Effect, desc string, oneshot bool) {
	if r.con == nil {
		return
	}
	if line := ConsoleLine(e, desc, oneshot); line != "" {
		if !r.cfg.ConsoleErrorsOnly || failureLine(line) {
			r.con.WriteString(line)
			r.con.WriteByte('\n')
		}
		// systemd logs its status lines too: journalctl -u shows
		// "Starting ...", "Finished ..." (without the console's mark).
		unit, msg := effectUnit(e), strings.TrimSpace(line[len(MarkOK):])
		sent := r.journalUp() && r.journal.sendManager(unit, manager.LevelInfo, msg)
		r.store.Add(logstore.Entry{Unit: unit, Pid: ownPid, Ident: "gosd", Priority: 6, Facility: 3,
			Message: msg, Transport: logstore.TransportDriver, Forwarded: sent})
	}
}

// failureLine says whether a console line reports a failure ([FAILED],
// [ TIME ], [DEPEND] "Dependency failed"), which systemd.show_status=error
// still shows.
func failureLine(line string) bool {
	return strings.HasPrefix(line, MarkFailed) || strings.HasPrefix(line, MarkTime) || strings.HasPrefix(line, MarkDepend)
}

// progress prints "Starting/Stopping/Reloading X..." when a unit actually
// begins to change state, which is when systemd prints it: a job waiting
// for its ordering is not started yet.
func (r *Reactor) progress(e manager.UnitChanged) {
	prev := r.lastActive[e.Unit]
	if e.Active == "inactive" {
		delete(r.lastActive, e.Unit) // Accept=yes instances come and go
	} else {
		r.lastActive[e.Unit] = e.Active
	}
	if prev == e.Active {
		return
	}
	var kind manager.JobKind
	switch e.Active {
	case "activating":
		kind = manager.JobStart
	case "deactivating":
		if prev == "activating" || prev == "" {
			// A oneshot's end (or a failed start) passes through
			// deactivating on its way down: no stop job, no "Stopping".
			return
		}
		kind = manager.JobStop
	case "reloading":
		kind = manager.JobReload
	default:
		return
	}
	desc := e.Description
	if desc == "" {
		desc, _ = r.describe(e.Unit)
	}
	r.console(manager.JobStarted{Unit: e.Unit, Kind: kind}, desc, false)
}

// unit reads a unit's definition from the reactor's source. The manager
// puts what an effect needs in the effect itself (issue 15), and the
// reactor reads no definition for effects of the real manager. What is
// left: effects of a manager that leaves their data out (tests that
// script one: OpenSockets without Socket, a JobFinished or UnitChanged
// without Description), and a daemon-reexec
// handover from a gosd that did not record Accept= and the log settings
// (reexec.go).
func (r *Reactor) unit(name string) *unitfile.Unit {
	if r.cfg.Units == nil || name == "" {
		return nil
	}
	return r.cfg.Units.Get(name)
}

// logLimits are a unit's LogLevelMax=, LogRateLimitIntervalSec= and
// LogRateLimitBurst=, as the log sockets apply them.
type logLimits struct {
	MaxLevel int // -1: none
	Interval time.Duration
	Burst    int
}

var noLogLimits = logLimits{MaxLevel: -1}

func logLimitsOf(ec *unitfile.ExecContext) logLimits {
	l := noLogLimits
	if ec != nil {
		l.Interval, l.Burst = ec.LogRateLimitIntervalSec, ec.LogRateLimitBurst
		if ec.LogLevelMax != nil {
			l.MaxLevel = *ec.LogLevelMax
		}
	}
	return l
}

// noteLogLimits keeps what a unit's Spawn says of its log settings for
// its log datagrams (systemd, likewise, hands them to journald when the
// unit starts).
func (r *Reactor) noteLogLimits(unit string, ec *unitfile.ExecContext) {
	if l := logLimitsOf(ec); l != noLogLimits {
		r.logLimits[unit] = l
	} else if len(r.logLimits) > 0 {
		delete(r.logLimits, unit)
	}
}

// logLimitsFor is what noteLogLimits kept for unit.
func (r *Reactor) logLimitsFor(unit string) logLimits {
	if l, ok := r.logLimits[unit]; ok {
		return l
	}
	return noLogLimits
}

// describe is the Description= and Type=oneshot of an effect that came
// without them.
func (r *Reactor) describe(name string) (desc string, oneshot bool) {
	if u := r.unit(name); u != nil {
		return u.Unit.Description, u.Service != nil && u.Service.Type == "oneshot"
	}
	return "", false
}

// needsLogPipe says whether stdout or stderr goes to the log (journal,
// syslog, kmsg and the defaults).
func needsLogPipe(ec *unitfile.ExecContext) bool {
	if ec == nil {
		return true
	}
	return isLogKind(ec.StandardOutput.Kind) || (ec.StandardError.Kind != "inherit" && isLogKind(ec.StandardError.Kind))
}

// isLogKind: output of this kind goes through gosd's log pipe.
func isLogKind(k string) bool {
	return k == "" || strings.HasPrefix(k, "journal") || strings.HasPrefix(k, "syslog") || strings.HasPrefix(k, "kmsg")
}

// logRouteOf is where the lines of a unit's log pipe go: the pipe carries
// stdout when stdout goes to the log, else stderr (needsLogPipe), so that
// stream's kind decides (logRouteFor).
func logRouteOf(ec *unitfile.ExecContext) logRoute {
	if ec == nil {
		return logRouteFor(nil, "")
	}
	k := ec.StandardOutput.Kind
	if !isLogKind(k) {
		k = ec.StandardError.Kind
	}
	return logRouteFor(ec, k)
}

// stderrRoute is the route of stderr when it needs a pipe of its own:
// stdout and stderr both go to the log, but not the same way
// (StandardOutput=journal with StandardError=kmsg, or only one of them
// +console). ok false: one pipe carries both.
func stderrRoute(ec *unitfile.ExecContext) (route logRoute, ok bool) {
	if ec == nil {
		return logRoute{}, false
	}
	out, errk := ec.StandardOutput.Kind, ec.StandardError.Kind
	if errk == "" || errk == "inherit" || !isLogKind(out) || !isLogKind(errk) {
		return logRoute{}, false
	}
	o, e := logRouteFor(ec, out), logRouteFor(ec, errk)
	if o.Journal == e.Journal && o.Kmsg == e.Kmsg && o.Console == e.Console {
		return logRoute{}, false
	}
	return e, true
}

// logRouteFor is the route of output of kind k: the journal for the
// default, journal and syslog (journald passes syslog on), and their
// +console forms, which stay in gosd's log too; kmsg goes to the kernel's
// log (which journald reads), or gosd's log without /dev/kmsg. The unit's
// logging settings come along (systemd's defaults when unset).
func logRouteFor(ec *unitfile.ExecContext, k string) logRoute {
	journal := k == "" || strings.HasPrefix(k, "journal") || strings.HasPrefix(k, "syslog")
	route := logRoute{Journal: journal, Kmsg: strings.HasPrefix(k, "kmsg"), Console: strings.HasSuffix(k, "+console"),
		Level: 6, Facility: 3, MaxLevel: -1, Prefix: true}
	if ec == nil {
		return route
	}
	or := func(p *int, def int) int {
		if p == nil {
			return def
		}
		return *p
	}
	route.Level, route.Facility, route.MaxLevel = or(ec.SyslogLevel, 6), or(ec.SyslogFacility, 3), or(ec.LogLevelMax, -1)
	route.Prefix = ec.SyslogLevelPrefix == nil || *ec.SyslogLevelPrefix
	route.RateInterval, route.RateBurst = ec.LogRateLimitIntervalSec, ec.LogRateLimitBurst
	return route
}

// startProcess is exec.Start; a variable only so a test can make it panic.
var startProcess = exec.Start

func (r *Reactor) spawn(s manager.Spawn) {
	if s.Conn >= 0 {
		// The child gets its own copy of the connection; ours goes.
		defer syscall.Close(s.Conn)
	}
	if s.Exec != nil && len(s.Exec.Unenforced) > 0 && !r.warned[s.Unit] {
		r.warned[s.Unit] = true
		for _, en := range s.Exec.Unenforced {
			r.logAt(s.Unit, en.Pos, manager.LevelWarning, en.Key+"= is not enforced by gosd")
		}
	}
	r.noteLogLimits(s.Unit, s.Exec)
	r.mountTool(&s)
	spec := exec.Spec{Unit: s.Unit, Cmd: s.Cmd, Exec: s.Exec, Env: s.Env, GlobalEnv: r.globalEnv, Conn: s.Conn, Stdout: -1, Stderr: -1}
	if s.Exec != nil && s.Exec.DynamicUser {
		// Held until the unit's Cleanup, across its restarts.
		id, err := r.dyn.Acquire(s.Unit, s.Exec.User, s.Exec.Group)
		if err != nil {
			sp := manager.Spawned{ID: s.ID, Err: err, Status: 217}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				sp.Status = ee.Status
			}
			r.Feed(sp)
			return
		}
		spec.Dynamic = &id
	}
	spec.JoinsNamespaceOf = s.JoinsNamespaceOf
	if s.Notify && r.notify != nil {
		spec.NotifySocket = r.notify.Path()
	}
	if s.Conn >= 0 {
		// Accept=yes: the connection is also fd 3 with LISTEN_FDS=1, named
		// "connection" as systemd names it (sd_listen_fds(3)).
		spec.ListenFDs = append(spec.ListenFDs, s.Conn)
		spec.ListenNames = append(spec.ListenNames, "connection")
	}
	for _, su := range s.Sockets {
		set := r.sets[su]
		if set == nil {
			r.Feed(manager.Spawned{ID: s.ID, Err: fmt.Errorf("socket unit %s has no open sockets", su)})
			return
		}
		spec.ListenFDs = append(spec.ListenFDs, set.FDs()...)
		spec.ListenNames = append(spec.ListenNames, set.Names()...)
	}
	// Stored fds (FDSTORE=1) follow the sockets; the manager keeps owning them.
	for i, fd := range s.Fds {
		name := "stored"
		if i < len(s.FdNames) && s.FdNames[i] != "" {
			name = s.FdNames[i]
		}
		spec.ListenFDs = append(spec.ListenFDs, fd)
		spec.ListenNames = append(spec.ListenNames, name)
	}
	var mk *cgroupMake
	rc := s.Resources // nil for a mount or swap unit: no settings
	if r.cg != nil {
		// The slices' settings first, then the unit's cgroup, before the
		// first process, which starts inside it.
		r.realizeSlices(s.Slices)
		if r.cgUnits[s.Unit] == nil && r.spawning[s.Unit] == 0 {
			// Made on the spawner thread, before the spawn (cgroupMake).
			mk = &cgroupMake{h: r.cg, unit: s.Unit, rc: rc, memory: !r.cgNoMemory, startup: r.startupPhase()}
			if rc != nil {
				mk.slice = rc.Slice
			}
		} else {
			c, err := r.cgroupFor(s.Unit, rc)
			if err != nil {
				r.logAt(s.Unit, s.Cmd.Pos, manager.LevelError, "cannot create the unit's cgroup: "+err.Error())
				r.Feed(manager.Spawned{ID: s.ID, Err: fmt.Errorf("cgroup: %w", err)})
				return
			}
			spec.CgroupFD = c.dirFD
		}
	} else if rc != nil && (rc.Devices.Restricted() || rc.IPAccess.Restricted()) && !r.warned["bpf:"+s.Unit] {
		r.warned["bpf:"+s.Unit] = true
		r.warn(s.Unit, "DeviceAllow=, DevicePolicy=, IPAddressAllow=, IPAddressDeny= NOT applied: no cgroup v2 for units here")
	}
	readFD, errFD := -1, -1
	errRoute, twoPipes := stderrRoute(s.Exec)
	started := false
	defer func() {
		// Also on a panic: the read ends must not leak.
		if !started {
			for _, fd := range []int{readFD, errFD} {
				if fd >= 0 {
					syscall.Close(fd)
				}
			}
		}
	}()
	if needsLogPipe(s.Exec) {
		rfd, wfd, err := pipe()
		if err != nil {
			r.Feed(manager.Spawned{ID: s.ID, Err: fmt.Errorf("log pipe: %w", err)})
			return
		}
		readFD, spec.Stdout, spec.Stderr = rfd, wfd, wfd
		defer syscall.Close(wfd) // the child has its copy
		if twoPipes {
			rfd, wfd, err := pipe()
			if err != nil {
				r.Feed(manager.Spawned{ID: s.ID, Err: fmt.Errorf("log pipe: %w", err)})
				return
			}
			errFD, spec.Stderr = rfd, wfd
			defer syscall.Close(wfd)
		}
	}
	// The rest happens on the spawner thread, then in spawnDone.
	if r.handOff(&spawnJob{s: s, spec: spec, readFD: readFD, errFD: errFD, errRoute: errRoute, mkCgroup: mk}) {
		started = true // the job owns the read ends now
	}
}

// kill signals one process, or with Group every process group the unit's
// processes lead (each spawned process is a session leader) plus the group
// of Pid, and on FreeBSD every descendant of those leaders (killSubtree).
// systemd.kill(5): KillMode=control-group reaches every process.
func (r *Reactor) kill(k manager.Kill) {
	sig := syscall.Signal(k.Signal)
	if !k.Group {
		if k.Pid <= 1 {
			r.logf(k.Unit, "refusing to signal pid %d", k.Pid)
			return
		}
		p := exec.Process{Pid: k.Pid, PidFD: -1}
		if pr := r.procs[k.Pid]; pr != nil {
			p.PidFD = pr.pidfd
		}
		if err := exec.Signal(p, sig); err != nil && err != syscall.ESRCH {
			r.logf(k.Unit, "kill %d %v: %v", k.Pid, sig, err)
		}
		return
	}
	if r.cg != nil && r.killGroup(k.Unit, sig, k.Pid) {
		return
	}
	own := syscall.Getpgrp()
	pgids := r.groups[k.Unit]
	if k.Pid > 1 {
		if g, err := syscall.Getpgid(k.Pid); err == nil && g == own {
			// A control process kept in gosd's group (mount(8)): only
			// itself.
			if _, ok := r.procs[k.Pid]; ok {
				if err := syscall.Kill(k.Pid, sig); err != nil && err != syscall.ESRCH {
					r.logf(k.Unit, "kill %d %v: %v", k.Pid, sig, err)
				}
			}
		} else if err == nil {
			if pgids == nil {
				pgids = map[int]bool{}
				r.groups[k.Unit] = pgids
			}
			pgids[g] = true
		}
	}
	for g := range pgids {
		if g == own || g <= 1 {
			delete(pgids, g)
			continue
		}
		err := exec.SignalGroup(g, sig)
		if err != nil && err != syscall.ESRCH {
			r.logf(k.Unit, "kill group %d %v: %v", g, sig, err)
		}
		// Each group's leader is a process gosd spawned: on FreeBSD the
		// reaper's subtree of it also holds what left the group.
		left, serr := killSubtree(g, sig)
		if serr != nil {
			r.logf(k.Unit, "kill the descendants of %d %v: %v", g, sig, serr)
		}
		if err == syscall.ESRCH && !left {
			delete(pgids, g) // nothing of that group or subtree is left
		}
	}
	if len(pgids) == 0 {
		delete(r.groups, k.Unit)
	}
}

func (r *Reactor) openSockets(e manager.OpenSockets) error {
	unit, sk := e.Unit, e.Socket
	if sk == nil {
		if u := r.unit(unit); u != nil {
			sk = u.Socket
		}
	}
	if sk == nil {
		return fmt.Errorf("%s is not a socket unit", unit)
	}
	if r.sets[unit] != nil {
		return nil
	}
	r.releaseLogSockets(unit, sk)
	set, err := sockets.Open(unit, sk)
	if err != nil {
		r.retakeLogSockets(unit)
		return err
	}
	for _, w := range set.Warnings() {
		r.logAt(unit, unitfile.Pos{}, manager.LevelWarning, w)
	}
	r.sets[unit] = set
	r.accepts[unit] = sk.Accept
	return nil
}

func (r *Reactor) closeSockets(e manager.CloseSockets) {
	unit := e.Unit
	r.unwatch(unit)
	set := r.sets[unit]
	if set == nil {
		return
	}
	delete(r.sets, unit)
	delete(r.accepts, unit)
	if err := set.Close(e.RemoveOnStop); err != nil {
		r.logf(unit, "closing sockets: %v", err)
	}
	r.retakeLogSockets(unit)
}

func (r *Reactor) watch(unit string) {
	accept := r.accepts[unit]
	set := r.sets[unit]
	if set == nil || r.watched[unit] {
		return
	}
	for _, fd := range set.FDs() {
		if err := r.addSource(fd, &listenSource{unit: unit, accept: accept}); err != nil {
			r.logf(unit, "watch fd %d: %v", fd, err)
		}
	}
	r.watched[unit] = true
}

func (r *Reactor) unwatch(unit string) {
	set := r.sets[unit]
	if set == nil || !r.watched[unit] {
		return
	}
	for _, fd := range set.FDs() {
		r.removeSource(fd)
	}
	delete(r.watched, unit)
}

func effectUnit(e manager.Effect) string {
	switch e := e.(type) {
	case manager.Spawn:
		return e.Unit
	case manager.Kill:
		return e.Unit
	case manager.SetTimer:
		return e.ID.Unit
	case manager.CancelTimer:
		return e.ID.Unit
	case manager.OpenSockets:
		return e.Unit
	case manager.CloseSockets:
		return e.Unit
	case manager.WatchSocket:
		return e.Unit
	case manager.ReadPIDFile:
		return e.Unit
	case manager.Cleanup:
		return e.Unit
	case manager.Log:
		return e.Unit
	case manager.UnitChanged:
		return e.Unit
	case manager.JobStarted:
		return e.Unit
	case manager.JobFinished:
		return e.Unit
	case manager.Action:
		return e.Unit
	case manager.CheckConditions:
		return e.Unit
	case manager.CloseFD:
		return e.Unit
	case manager.ReadTimerStamp:
		return e.Unit
	case manager.WriteTimerStamp:
		return e.Unit
	case manager.WatchBusName:
		return e.Unit
	case manager.UnwatchBusName:
		return e.Unit
	case manager.WatchPaths:
		return e.Unit
	case manager.UnwatchPaths:
		return e.Unit
	case manager.ProbeMount:
		return e.Unit
	case manager.ProbeSwap:
		return e.Unit
	case manager.StartAutomount:
		return e.Unit
	case manager.AutomountReply:
		return e.Unit
	case manager.ExpireAutomount:
		return e.Unit
	case manager.StopAutomount:
		return e.Unit
	case manager.AdoptAutomount:
		return e.Unit
	case manager.ApplyResources:
		return e.Unit
	}
	return ""
}

// performAction carries out FailureAction=, SuccessAction=,
// StartLimitAction= and JobTimeoutAction= (systemd.unit(5)): every action
// but "none" ends in the orderly shutdown of that name; the manager keeps
// the exit status it asked for and reports it with Exit. The -force and
// -immediate forms are done as the orderly form: stopping every unit in
// order is always safe, and its stop timeouts bound it.
func (r *Reactor) performAction(e manager.Action) {
	action := strings.TrimSuffix(strings.TrimSuffix(e.Action, "-force"), "-immediate")
	if action == "soft-reboot" {
		action = "reboot"
	}
	switch action {
	case "none", "":
		return
	case "exit", "poweroff", "reboot", "halt", "kexec":
		r.logAt(e.Unit, unitfile.Pos{}, manager.LevelNotice,
			fmt.Sprintf("%s requested, shutting down (exit status %d)", e.Action, e.ExitCode))
		r.shutdown(action, 0)
	default:
		r.logf(e.Unit, "unknown action %q ignored", e.Action)
	}
}
