package manager

import (
	"path"
	"strings"
	"syscall"
	"time"

	"gosd/unitfile"
)

// Automount units (systemd.automount(5)), as systemd's automount.c runs
// them. The reactor holds the kernel's side (reactor/automount_linux.go:
// an autofs mount, protocol 5, direct, whose requests come on a pipe); the
// manager decides:
//
//   - start: the mount unit to trigger must be loaded; then StartAutomount.
//     A kernel without autofs ends the job "unsupported" (systemd's
//     automount_supported), a Where= that is a mount point already fails
//     it; the unit stays inactive either way. Set up, the unit is
//     "waiting".
//   - a process looks at Where: the kernel holds it and sends a request;
//     the unit is "running" and starts the mount unit (mode replace). Once
//     that is mounted the waiting processes are let go; when it fails they
//     get ENODEV, and the unit waits again.
//   - TimeoutIdleSec=: while running, every third of it (at least 1 s) the
//     kernel is asked to offer an idle mount for expiry; an expire request
//     stops the mount unit and is answered once it is dead.
//   - stop: pending requests fail with EHOSTDOWN, the autofs mount (and
//     what is mounted on it) is detached.
//   - daemon-reexec: a set-up point goes over with its requests not yet
//     answered (save); the new manager claims it from the reactor, which
//     was handed its pipe (AdoptAutomount), and re-arms the expiry checks.

// automountRun is the runtime state of an automount unit.
type automountRun struct {
	baseType
	// settingUp: StartAutomount sent, AutomountStarted not yet back. up:
	// the reactor holds an autofs mount for the unit.
	settingUp, up bool
	// tokens are the kernel's mount requests waiting for an answer,
	// expireTokens its unmount requests.
	tokens, expireTokens []uint32
	// where is Where= of the point set up (kept across a re-exec).
	where string
}

// automountType registers automount units (unitTypes).
var automountType = typeEntry{
	has:         func(d *unitfile.Unit) bool { return d.Automount != nil && d.LoadState == unitfile.Loaded },
	make:        func(u *unit) unitVTable { return &automountRun{} },
	kernelState: true,
}

// automountMountName is the mount unit an automount unit triggers: the
// same name with .mount.
func automountMountName(u *unit) string {
	return strings.TrimSuffix(u.name, ".automount") + ".mount"
}

// activeOf: waiting and running are both active.
func (*automountRun) activeOf(sub SubState) ActiveState { return plainActive(sub) }

// addDeps: systemd.automount(5) "Implicit Dependencies" (Requires= and
// After= the mount units above Where, Before= and Triggers= the mount unit)
// and "Default Dependencies".
func (*automountRun) addDeps(m *Manager, u *unit, implicit func(string, ...dep)) {
	if d := u.def.Automount; d != nil && d.Where != "/" {
		for _, name := range mountUnitsFor(path.Dir(d.Where)) {
			implicit(name, depRequires, depAfter)
		}
	}
	target := m.load(automountMountName(u))
	m.edge(u, target, depBefore)
	m.edge(u, target, depTriggers)
	if u.def.Unit.DefaultDependencies {
		implicit("local-fs-pre.target", depAfter)
		implicit("local-fs.target", depBefore)
		implicit("umount.target", depConflicts, depBefore)
	}
}

func (*automountRun) startable(m *Manager, u *unit) bool {
	return u.sub == SubDead || u.sub == SubFailed
}
func (*automountRun) startLimited() bool { return true }

func (r *automountRun) start(m *Manager, u *unit) {
	target := m.load(automountMountName(u))
	if target.def.LoadState != unitfile.Loaded {
		m.logf(u, LevelError, "Refusing to start, unit %s to trigger not loaded.", target.name)
		if j := u.job; j != nil && j.running {
			m.finishJob(j, ResultFailed)
		}
		return
	}
	d := u.def.Automount
	u.result = "success"
	r.settingUp, r.where = true, d.Where
	m.emit(StartAutomount{Unit: u.name, Where: d.Where, ExtraOptions: d.ExtraOptions,
		DirectoryMode: d.DirectoryMode, TimeoutIdle: d.TimeoutIdle})
}

func (m *Manager) onAutomountStarted(e AutomountStarted) {
	u := m.units[e.Unit]
	var r *automountRun
	if u != nil {
		r, _ = u.impl.(*automountRun)
	}
	if r == nil || !r.settingUp {
		m.logf(u, LevelDebug, "ignoring automount setup of %s", e.Unit)
		return
	}
	r.settingUp = false
	if j := u.job; j == nil || !j.running || j.stopLike() {
		// The start was called off before the answer came: undo it.
		m.logf(u, LevelDebug, "automount setup of %s answered after its start ended", e.Unit)
		if e.Err == nil && !e.Unsupported && !e.AlreadyMounted {
			m.emit(StopAutomount{Unit: u.name, Where: u.def.Automount.Where})
		}
		return
	}
	d := u.def.Automount
	j := u.job
	switch {
	case e.Unsupported:
		// systemd: the unit type is not supported, the job ends
		// "unsupported" and the unit stays inactive.
		m.logAt(u, "Where", LevelWarning, "Cannot set up the automount point %s: %v. Starting of %s unsupported.", d.Where, e.Err, u.name)
		if j != nil && j.running {
			m.finishJob(j, ResultUnsupported)
		}
	case e.AlreadyMounted:
		m.logAt(u, "Where", LevelError, "Path %s is already a mount point, refusing start.", d.Where)
		if j != nil && j.running {
			m.finishJob(j, ResultFailed)
		}
	case e.Err != nil:
		m.logAt(u, "Where", LevelError, "Failed to initialize automounter: %v", e.Err)
		m.automountDead(u, "resources")
	default:
		r.up = true
		m.setState(u, SubWaiting)
		// The mount may be up already (started by hand before).
		m.automountFollow(u, m.load(automountMountName(u)))
	}
}

// automountReply answers requests of the kernel; the list is emptied.
func (m *Manager) automountReply(u *unit, tokens *[]uint32, err syscall.Errno) {
	if len(*tokens) == 0 {
		return
	}
	if err != 0 {
		m.logf(u, LevelDebug, "Sending failure: %v", err)
	} else {
		m.logf(u, LevelDebug, "Sending success.")
	}
	m.emit(AutomountReply{Unit: u.name, Where: u.def.Automount.Where, Tokens: *tokens, Err: err})
	*tokens = nil
}

// automountDead is systemd's automount_enter_dead: waiting processes fail
// with EHOSTDOWN, the autofs mount goes, the unit is dead (failed with a
// result other than success).
func (m *Manager) automountDead(u *unit, res string) {
	r := u.impl.(*automountRun)
	m.cancelTimer(u, "expire")
	if r.up || r.settingUp {
		m.automountReply(u, &r.tokens, syscall.EHOSTDOWN)
		m.automountReply(u, &r.expireTokens, syscall.EHOSTDOWN)
		m.emit(StopAutomount{Unit: u.name, Where: u.def.Automount.Where})
	}
	r.up, r.settingUp, r.tokens, r.expireTokens = false, false, nil, nil
	m.setResult(u, res)
	if u.result == "success" {
		m.setState(u, SubDead)
		return
	}
	m.logf(u, LevelWarning, "Failed with result '%s'.", u.result)
	m.setState(u, SubFailed)
}

func (r *automountRun) stop(m *Manager, u *unit, restart bool) {
	delete(m.pendingChecks, u.name)
	m.automountDead(u, "success")
}

func (m *Manager) onAutomountRequest(e AutomountRequest) {
	u := m.units[e.Unit]
	var r *automountRun
	if u != nil {
		r, _ = u.impl.(*automountRun)
	}
	if r == nil || !r.up || (u.sub != SubWaiting && u.sub != SubRunning) {
		// A request read before the stop that closed the pipe: the
		// unmount released its process already.
		m.logf(u, LevelDebug, "ignoring automount request for %s", e.Unit)
		return
	}
	where := u.def.Automount.Where
	switch {
	case e.Err != nil:
		m.logf(u, LevelError, "Invalid read from pipe: %v", e.Err)
		m.automountDead(u, "resources")
	case e.Expire:
		m.logf(u, LevelDebug, "Got direct umount request on %s", where)
		m.cancelTimer(u, "expire")
		r.expireTokens = append(r.expireTokens, e.Token)
		target := m.load(automountMountName(u))
		m.request(0, target.name, JobStop, ModeReplace)
		if target.job == nil && !isInactive(target) {
			m.logf(u, LevelWarning, "Failed to queue umount job for %s.", target.name)
			m.automountDead(u, "resources")
		}
	default:
		if e.PID > 0 {
			m.logf(u, LevelInfo, "Got automount request for %s, triggered by %d (%s)", where, e.PID, e.Comm)
		} else {
			m.logf(u, LevelDebug, "Got direct mount request on %s", where)
		}
		r.tokens = append(r.tokens, e.Token)
		m.automountRunning(u, e.Covered)
	}
}

// automountRunning is systemd's automount_enter_running: a start job for
// the mount unit, unless the automount is being stopped or the mount is
// there already.
func (m *Manager) automountRunning(u *unit, covered bool) {
	r := u.impl.(*automountRun)
	if j := u.job; j != nil && j.kind == JobStop {
		m.logf(u, LevelDebug, "Suppressing automount request since unit stop is scheduled.")
		m.automountReply(u, &r.tokens, syscall.EHOSTDOWN)
		m.automountReply(u, &r.expireTokens, syscall.EHOSTDOWN)
		return
	}
	if covered {
		// The mount unit was started directly before this request.
		m.logf(u, LevelInfo, "Automount point already active?")
		m.automountReply(u, &r.tokens, 0)
		return
	}
	target := m.load(automountMountName(u))
	if target.def.LoadState != unitfile.Loaded {
		m.logf(u, LevelError, "Unit to trigger vanished.")
		m.automountDead(u, "resources")
		return
	}
	m.setState(u, SubRunning)
	m.request(0, target.name, JobStart, ModeReplace)
	if target.job == nil && isInactive(target) {
		m.logf(u, LevelWarning, "Failed to queue mount startup job for %s.", target.name)
		m.automountDead(u, "resources")
	}
}

// triggerChanged is systemd's automount_trigger_notify: the mount unit
// changed state or its job ended.
func (r *automountRun) triggerChanged(m *Manager, u, target *unit) {
	if target.name == automountMountName(u) {
		m.automountFollow(u, target)
	}
}

func (m *Manager) automountFollow(u, target *unit) {
	r := u.impl.(*automountRun)
	if !r.up || (u.sub != SubWaiting && u.sub != SubRunning) {
		return
	}
	if isInactive(target) && target.result == "start-limit-hit" {
		m.automountDead(u, "mount-start-limit-hit")
		return
	}
	if target.job != nil {
		return
	}
	switch target.sub {
	case SubMounted:
		m.automountReply(u, &r.tokens, 0)
		m.setState(u, SubRunning)
		m.automountExpireTimer(u)
		// An expire the mount did not follow (it stays) fails.
		m.automountReply(u, &r.expireTokens, syscall.ENODEV)
	case SubMounting:
		m.automountReply(u, &r.expireTokens, syscall.ENODEV)
	case SubDead, SubFailed, SubUnmounting:
		if target.sub == SubDead {
			m.automountReply(u, &r.expireTokens, 0)
		} else {
			m.automountReply(u, &r.expireTokens, syscall.ENODEV)
		}
		// Processes still waiting get an error instead of hanging.
		m.automountReply(u, &r.tokens, syscall.ENODEV)
		m.cancelTimer(u, "expire")
		m.setState(u, SubWaiting)
	}
}

// automountExpireTimer arms the next expiry check: a third of
// TimeoutIdleSec=, at least a second (systemd's automount_start_expire).
func (m *Manager) automountExpireTimer(u *unit) {
	if _, armed := u.timers["expire"]; armed {
		return
	}
	if d := u.def.Automount.TimeoutIdle; d > 0 && d != unitfile.Infinity {
		m.setTimeout(u, "expire", max(d/3, time.Second))
	}
}

func (r *automountRun) timer(m *Manager, u *unit, kind string) {
	if kind != "expire" || !r.up || u.sub != SubRunning {
		return
	}
	m.emit(ExpireAutomount{Unit: u.name, Where: u.def.Automount.Where})
	m.automountExpireTimer(u)
}

func (r *automountRun) status(m *Manager, u *unit, s *UnitStatus) {
	s.Triggers = automountMountName(u)
}

// keepForStop: an automount unit whose file went away still unmounts its
// point.
func (*automountRun) keepForStop(u *unit, old *unitfile.Unit) {
	if u.def.Automount != nil || old == nil || old.Automount == nil {
		return
	}
	nd := *u.def
	a := *old.Automount
	nd.Automount = &a
	u.def = &nd
}

// unsettled: a point being set up cannot be handed over (the answer of
// the setup would reach nobody); a set-up one can (save, restore).
func (r *automountRun) unsettled(u *unit) string {
	if r.settingUp {
		return "is setting up its autofs mount point"
	}
	return unsettled(u)
}

// save: the reactor hands the point's pipe over; the manager keeps that
// it is up and the kernel's requests it has not answered yet (the kernel
// holds their processes until it is).
func (r *automountRun) save(su *SavedUnit) {
	su.AutomountUp, su.AutomountWhere = r.up, r.where
	su.AutomountTokens = append([]uint32(nil), r.tokens...)
	su.AutomountExpireTokens = append([]uint32(nil), r.expireTokens...)
}

// restore takes the point over (AdoptAutomount) when it was up. A unit
// whose file went away before the re-exec keeps its Where, so that its
// stop still unmounts the point.
func (r *automountRun) restore(m *Manager, u *unit, su SavedUnit) bool {
	r.up = su.AutomountUp && (u.sub == SubWaiting || u.sub == SubRunning)
	if !r.up {
		return false
	}
	r.tokens, r.expireTokens, r.where = su.AutomountTokens, su.AutomountExpireTokens, su.AutomountWhere
	if u.def.Automount == nil {
		if su.AutomountWhere == "" {
			m.logf(u, LevelWarning, "re-exec: the automount point of %s has no path, unmounting it.", u.name)
			r.up = false
			return false
		}
		nd := *u.def
		nd.Automount = &unitfile.Automount{Where: su.AutomountWhere, DirectoryMode: 0o755}
		u.def = &nd
	}
	if r.where == "" {
		r.where = u.def.Automount.Where
	}
	m.emit(AdoptAutomount{Unit: u.name, Where: r.where})
	return false
}

// rearm: the idle expiry checks go on while the mount is up.
func (r *automountRun) rearm(m *Manager, u *unit, kind string) {
	if kind == "expire" && r.up && u.sub == SubRunning {
		m.automountExpireTimer(u)
	}
}
