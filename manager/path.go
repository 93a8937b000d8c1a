package manager

import (
	"path"
	"strings"
	"time"

	"gosd/unitfile"
)

// Path units (systemd.path(5)), as systemd's path.c runs them. The
// manager decides; the reactor watches (WatchPaths: inotify on Linux) and
// checks the paths, since that needs the file system, and reports each
// check and each change as PathsChecked.
//
//   - start: the unit to trigger must be loaded; then "waiting": the paths
//     are watched and checked at once (PathExists=, PathExistsGlob= and
//     DirectoryNotEmpty= trigger when already true; PathChanged= and
//     PathModified= only on a change).
//   - a good check triggers: a start job for the unit (mode replace), the
//     path unit is "running" and stops watching.
//   - the triggered unit goes down (or its job ends): watch and check again,
//     so a PathExists= whose file is still there triggers again; the
//     TriggerLimitIntervalSec=/TriggerLimitBurst= limit (2 s, 200 by
//     default) ends such a loop with result trigger-limit-hit, and the
//     triggered unit hitting its own start limit fails the path unit with
//     unit-start-limit-hit.

// pathRun is the runtime state of a path unit.
type pathRun struct {
	baseType
	// watching: WatchPaths sent and UnwatchPaths not yet.
	watching     bool
	triggerStart time.Duration
	triggerCount int
}

// pathType registers path units (unitTypes).
var pathType = typeEntry{
	has:  func(d *unitfile.Unit) bool { return d.Path != nil },
	make: func(u *unit) unitVTable { return &pathRun{} },
}

func pathUnitName(u *unit) string {
	if p := u.def.Path; p != nil && p.Unit != "" {
		return p.Unit
	}
	return strings.TrimSuffix(u.name, ".path") + ".service"
}

// activeOf: waiting and running are both active.
func (*pathRun) activeOf(sub SubState) ActiveState { return plainActive(sub) }

func (*pathRun) addDeps(m *Manager, u *unit, implicit func(string, ...dep)) {
	if u.def.Unit.DefaultDependencies {
		// systemd.path(5) "Default Dependencies".
		implicit("paths.target", depBefore)
		implicit("sysinit.target", depRequires, depAfter)
		implicit("shutdown.target", depConflicts, depBefore)
	}
	d := u.def.Path
	if d == nil {
		return
	}
	// "Implicit Dependencies": Before= the unit it activates, and
	// Requires= and After= the mount units the paths lie beneath.
	target := m.load(pathUnitName(u))
	m.edge(target, u, depAfter)
	m.edge(u, target, depTriggers)
	for _, s := range d.Specs {
		for _, name := range mountUnitsFor(path.Dir(s.Path)) {
			implicit(name, depRequires, depAfter)
		}
	}
}

func (*pathRun) startable(m *Manager, u *unit) bool { return u.sub == SubDead || u.sub == SubFailed }
func (*pathRun) startLimited() bool                 { return true }

func (p *pathRun) start(m *Manager, u *unit) {
	target := m.load(pathUnitName(u))
	if target.def.LoadState != unitfile.Loaded {
		m.logAt(u, "Unit", LevelError, "Refusing to start, unit %s to trigger not loaded.", target.name)
		u.result = "resources"
		m.setState(u, SubFailed)
		if j := u.job; j != nil && j.running {
			m.finishJob(j, ResultFailed)
		}
		return
	}
	u.result = "success"
	p.triggerCount = 0
	m.pathWaiting(u, true, false)
}

func (p *pathRun) stop(m *Manager, u *unit, restart bool) {
	delete(m.pendingChecks, u.name)
	m.pathDead(u, "success")
}

// pathWaiting is systemd's path_enter_waiting: running while the
// triggered unit is up, else watching and checking the paths.
func (m *Manager) pathWaiting(u *unit, initial, fromTrigger bool) {
	p := u.impl.(*pathRun)
	if target := m.load(pathUnitName(u)); !isInactive(target) {
		m.setState(u, SubRunning)
		m.pathUnwatch(u)
		return
	}
	d := u.def.Path
	p.watching = true
	m.emit(WatchPaths{Unit: u.name, Specs: d.Specs, MakeDirectory: initial && d.MakeDirectory,
		DirectoryMode: d.DirectoryMode, Initial: initial, FromTrigger: fromTrigger})
	m.setState(u, SubWaiting)
}

func (m *Manager) pathUnwatch(u *unit) {
	if p := u.impl.(*pathRun); p.watching {
		p.watching = false
		m.emit(UnwatchPaths{Unit: u.name})
	}
}

// pathDead ends a path unit with result res (unless it failed already).
func (m *Manager) pathDead(u *unit, res string) {
	m.pathUnwatch(u)
	if u.result == "" || u.result == "success" {
		u.result = res
	}
	if u.result == "success" {
		m.setState(u, SubDead)
		return
	}
	m.logf(u, LevelWarning, "Failed with result '%s'.", u.result)
	m.setState(u, SubFailed)
}

func (m *Manager) onPathsChecked(e PathsChecked) {
	u := m.units[e.Unit]
	var p *pathRun
	if u != nil {
		p, _ = u.impl.(*pathRun)
	}
	if p == nil || !p.watching || u.sub != SubWaiting {
		m.logf(u, LevelDebug, "ignoring path check of %s", e.Unit)
		return
	}
	if e.Err != nil {
		m.logf(u, LevelError, "Failed to watch paths: %v", e.Err)
		m.pathDead(u, "resources")
		return
	}
	if e.Good {
		m.pathTriggered(u, e.Path)
	}
}

// pathTriggered is systemd's path_enter_running: the trigger limit, then a
// start job for the unit.
func (m *Manager) pathTriggered(u *unit, why string) {
	if j := u.job; j != nil && j.kind == JobStop {
		return // it is going down anyway
	}
	if m.pathTriggerLimitHit(u) {
		m.logAt(u, "TriggerLimitBurst", LevelWarning, "Trigger limit hit, refusing further activation.")
		m.pathDead(u, "trigger-limit-hit")
		return
	}
	target := m.load(pathUnitName(u))
	m.logf(u, LevelDebug, "Got triggered by %s, starting %s", why, target.name)
	m.setState(u, SubRunning)
	m.pathUnwatch(u)
	if s := target.svc; s != nil && isInactive(target) {
		s.trigger = []string{"TRIGGER_UNIT=" + u.name, "TRIGGER_PATH=" + why}
	}
	m.request(0, target.name, JobStart, ModeReplace)
	if target.job == nil && isInactive(target) {
		m.logf(u, LevelWarning, "Failed to queue unit startup job for %s.", target.name)
		m.pathDead(u, "resources")
	}
}

func (m *Manager) pathTriggerLimitHit(u *unit) bool {
	d, p := u.def.Path, u.impl.(*pathRun)
	if d.TriggerLimitIntervalSec <= 0 || d.TriggerLimitBurst <= 0 {
		return false
	}
	if p.triggerCount == 0 || m.now-p.triggerStart >= d.TriggerLimitIntervalSec {
		p.triggerStart, p.triggerCount = m.now, 0
	}
	p.triggerCount++
	return p.triggerCount > d.TriggerLimitBurst
}

// triggerChanged is systemd's path_trigger_notify: the triggered unit
// changed state or its job ended.
func (p *pathRun) triggerChanged(m *Manager, u, target *unit) {
	if target.name != pathUnitName(u) || u.def.Path == nil {
		return
	}
	if u.sub != SubWaiting && u.sub != SubRunning {
		return
	}
	if isInactive(target) && target.result == "start-limit-hit" {
		// "the error condition that the start rate limit is hit is
		// propagated from the service unit to the path unit".
		m.pathDead(u, "unit-start-limit-hit")
		return
	}
	switch {
	case u.sub == SubRunning && isInactive(target) && target.job == nil:
		m.pathWaiting(u, false, true)
	case u.sub == SubWaiting && !isInactive(target):
		m.pathWaiting(u, false, true)
	}
}

// reloaded: a path unit whose [Path] is gone stops; one that waits
// watches its new paths.
func (p *pathRun) reloaded(m *Manager, u *unit) {
	if u.def.Path == nil {
		m.pathDead(u, "success")
		u.impl = &plainUnit{}
		return
	}
	if u.sub == SubWaiting {
		m.pathWaiting(u, false, false)
	}
}

func (p *pathRun) status(m *Manager, u *unit, s *UnitStatus) { s.Triggers = pathUnitName(u) }

// restore: a waiting path unit watches again in the new process.
func (p *pathRun) restore(m *Manager, u *unit, su SavedUnit) bool {
	if u.sub == SubWaiting && u.def.Path != nil {
		d := u.def.Path
		p.watching = true
		m.emit(WatchPaths{Unit: u.name, Specs: d.Specs, DirectoryMode: d.DirectoryMode})
	}
	return false
}
