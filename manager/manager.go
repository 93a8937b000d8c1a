package manager

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"gosd/unitfile"
)

// Manager holds every unit's state and the installed jobs. It is not safe
// for concurrent use: the reactor owns it and calls Step from one goroutine.
type Manager struct {
	// minLevel drops log messages below it before they are formatted
	// (SetMinLevel); the zero value, debug, keeps everything.
	minLevel Level

	src   UnitSource
	units map[string]*unit
	// loadOrder keeps List and every whole-tree walk deterministic.
	loadOrder []*unit
	edgeSeen  map[edgeKey]struct{}
	// loading counts nested load calls; targetDeps holds the targets whose
	// default After= edges wait until the outermost load has finished.
	loading    int
	targetDeps []*unit

	now time.Duration
	out []Effect
	// cur is the unit whose job runs (runJob): a panic is charged to it.
	cur *unit

	// cgroups: every unit has its own cgroup (CgroupsAvailable).
	cgroups bool

	nextSpawnID   uint64
	spawns        map[uint64]spawnRef
	pids          map[int]pidRef
	nextInvoc     uint64
	txnGen        uint64
	ready         []*job // jobs whose blockers reached zero, run by drain
	jobs          int    // installed jobs
	busyUnits     int    // units neither inactive nor failed
	shuttingDown  bool
	shutdownAct   string
	exitSent      bool
	exitCode      int
	pendingChecks map[string]bool  // units waiting for ConditionsChecked
	busNames      map[string]*unit // bus name -> the Type=dbus service following it

	// clock is the last ClockSet, received at monotonic clockMono.
	clock     ClockSet
	clockMono time.Duration

	// devicesFollowed: the reactor reports devices (DevicesChanged);
	// devNames maps a device's /sys path to its units' names, devOwner
	// each such name to the device that has it now (device.go).
	devicesFollowed bool
	devNames        map[string][]string
	devOwner        map[string]string
}

type spawnRef struct {
	u    *unit
	role string // "main" or "control"
}

type pidRef struct {
	u    *unit
	role string
}

type edgeKey struct {
	from, to *unit
	kind     dep
}

// dep is a kind of relation between units. Every kind has an inverse kind,
// and an edge is kept on both ends: from.deps[k] holds to exactly when
// to.deps[k.inverse()] holds from (systemd's UnitDependency and its
// "reverse" table).
type dep uint8

const (
	depAfter dep = iota // ordering: after units this one starts after
	depBefore
	depRequires
	depRequiredBy
	depWants
	depWantedBy
	depRequisite
	depRequisiteOf
	depBindsTo
	depBoundBy
	depPartOf
	depConsistsOf
	depUpholds
	depUpheldBy
	depConflicts
	depConflictedBy
	depOnFailure
	depOnFailureOf
	depOnSuccess
	depOnSuccessOf
	depTriggers
	depTriggeredBy
	numDeps // not a relation: the count
)

// inverse is the kind the other end of a k edge keeps: kinds come in
// pairs, forward kind even and its inverse the next one.
func (k dep) inverse() dep { return k ^ 1 }

// depSetting is one relation setting of [Unit] and the kind it makes.
type depSetting struct {
	names []string
	kind  dep
}

// unitDeps lists the relation settings of [Unit], in the order systemd
// applies them.
func unitDeps(us *unitfile.UnitSection) []depSetting {
	return []depSetting{
		{us.After, depAfter}, {us.Before, depBefore},
		{us.Requires, depRequires}, {us.Wants, depWants}, {us.Requisite, depRequisite},
		{us.BindsTo, depBindsTo}, {us.PartOf, depPartOf}, {us.Upholds, depUpholds},
		{us.Conflicts, depConflicts}, {us.OnFailure, depOnFailure}, {us.OnSuccess, depOnSuccess},
	}
}

// unit is one loaded unit: its definition, resolved edges and runtime state.
type unit struct {
	name string
	def  *unitfile.Unit

	// deps holds the unit's edges of every kind, both directions.
	deps [numDeps][]*unit

	active ActiveState
	sub    SubState
	result string
	job    *job

	activeEnter, activeExit, inactiveEnter, inactiveExit time.Duration

	// condition and assert are the last checks of the unit's Condition*=
	// and Assert*= lines (systemd's ConditionResult, AssertResult).
	condition, assert CheckResult

	// impl is the unit's type with its runtime state (unittype.go, unitVTable);
	// svc, sock and tmr are the same value for the code of that type.
	impl unitVTable
	svc  *serviceRun
	sock *socketRun
	tmr  *timerRun

	// timers that are armed, by kind, so stale TimerFired events are ignored.
	timers map[string]time.Duration

	startLimitWindow time.Duration
	startLimitCount  int
	// acceptOf is the Accept=yes socket that created this instance.
	acceptOf *unit

	// cgroupPath is the unit's cgroup (CgroupCreated); cgPopulated says
	// processes may be in it: set by every spawn, cleared by CgroupEmpty.
	cgroupPath  string
	cgPopulated bool
}

// New makes a manager over units. Every unit Names() lists is loaded at
// once so that reverse edges (RequiredBy, Before from other units, ...)
// are known before the first request.
func New(units UnitSource) *Manager {
	m := &Manager{
		src:           units,
		units:         map[string]*unit{},
		edgeSeen:      map[edgeKey]struct{}{},
		spawns:        map[uint64]spawnRef{},
		pids:          map[int]pidRef{},
		pendingChecks: map[string]bool{},
		busNames:      map[string]*unit{},
		exitCode:      0,
	}
	for _, n := range units.Names() {
		m.load(n)
	}
	return m
}

// Step feeds one event at monotonic time now and returns what the reactor
// must do. It never panics on odd input: unknown pids, ids and units are
// logged and ignored. A panic of its own (a bug) does not escape either: it
// is logged and the job it hit ends with a result (recoverStep).
func (m *Manager) Step(now time.Duration, ev Event) (effects []Effect) {
	if now > m.now {
		m.now = now
	}
	m.out = nil
	m.cur = nil
	// Looked up before the event is handled, which may forget the pid.
	evUnit := m.unitOf(ev)
	defer func() {
		if v := recover(); v != nil {
			m.recoverStep(ev, evUnit, v)
			effects = m.out
			m.out = nil
		}
	}()
	switch e := ev.(type) {
	case Request:
		if e.Manual && m.refusesManual(e) {
			break
		}
		m.request(e.ID, e.Unit, e.Kind, e.Mode)
	case Spawned:
		m.onSpawned(e)
	case Exited:
		m.onExited(e)
	case TimerFired:
		m.onTimer(e.ID)
	case PIDFileRead:
		m.onPIDFile(e)
	case Notify:
		m.onNotify(e)
	case SocketsOpened:
		m.onSocketsOpened(e)
	case SocketReady:
		m.onSocketReady(e.Unit)
	case Connection:
		m.onConnection(e)
	case ConditionsChecked:
		m.onConditions(e)
	case Shutdown:
		m.onShutdown(e.Action)
	case SetExitCode:
		if e.Code >= 0 && e.Code <= 255 {
			m.exitCode = e.Code
		}
	case Reload:
		m.onReload(e.Units)
	case ResetFailed:
		m.onResetFailed(e.Unit)
	case CgroupsAvailable:
		m.cgroups = true
	case CgroupCreated:
		if u := m.units[e.Unit]; u != nil {
			u.cgroupPath = e.Path
		}
	case CgroupEmpty:
		m.onCgroupEmpty(e.Unit)
	case OOMKilled:
		m.onOOM(e.Unit)
	case BusNameOwner:
		m.onBusNameOwner(e)
	case ClockSet:
		m.onClockSet(e)
	case TimerStamp:
		m.onTimerStamp(e)
	case PathsChecked:
		m.onPathsChecked(e)
	case MountProbed:
		m.onMountProbed(e)
	case MountsChanged:
		m.onMountsChanged(e)
	case SwapProbed:
		m.onSwapProbed(e)
	case SwapsChanged:
		m.onSwapsChanged(e)
	case AutomountStarted:
		m.onAutomountStarted(e)
	case AutomountRequest:
		m.onAutomountRequest(e)
	case DevicesChanged:
		m.onDevicesChanged(e)
	case nil:
		m.logf(nil, LevelWarning, "ignoring nil event")
	default:
		m.logf(nil, LevelWarning, "ignoring unknown event %T", ev)
	}
	m.drain()
	m.checkExit()
	out := m.out
	m.out = nil
	return out
}

// Status returns a snapshot of one unit (by name or alias).
func (m *Manager) Status(name string) (UnitStatus, bool) {
	u := m.units[name]
	if u == nil {
		return UnitStatus{}, false
	}
	return m.status(u), true
}

// List returns every loaded unit, sorted by name.
func (m *Manager) List() []UnitStatus {
	out := make([]UnitStatus, 0, len(m.loadOrder))
	for _, u := range m.loadOrder {
		out = append(out, m.status(u))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (m *Manager) status(u *unit) UnitStatus {
	s := UnitStatus{
		Name: u.name, Description: u.def.Unit.Description, LoadState: string(u.def.LoadState),
		Active: u.active.String(), Sub: u.sub.String(), Result: u.result,
		ActiveEnter: u.activeEnter, ActiveExit: u.activeExit,
		InactiveEnter: u.inactiveEnter, InactiveExit: u.inactiveExit,
		ControlGroup: u.cgroupPath,
	}
	u.impl.status(m, u, &s)
	s.Condition, s.Assert = u.condition, u.assert
	if c := u.impl.ctl(); c != nil && len(c.runs) > 0 {
		s.ExecRuns = append([]ExecRun(nil), c.runs...)
	}
	if u.job != nil {
		s.Job = u.job.kind
	}
	return s
}

// ---- loading and edges ----

// load returns the unit called name, loading it (and the units it names)
// from the source on first use.
func (m *Manager) load(name string) *unit {
	if u := m.units[name]; u != nil {
		return u
	}
	def := m.src.Get(name)
	if def == nil { // the contract says never nil; do not trust it blindly
		def = &unitfile.Unit{Name: name, LoadState: unitfile.NotFound}
	}
	return m.loadDef(name, def)
}

// loadDef adds the unit called name with its definition def (from the
// source, or made by the manager: a mount of the mount table), and the
// units it names.
func (m *Manager) loadDef(name string, def *unitfile.Unit) *unit {
	canon := def.Name
	if canon == "" {
		canon = name
	}
	if u := m.units[canon]; u != nil {
		m.units[name] = u
		return u
	}
	u := &unit{name: canon, def: def, timers: map[string]time.Duration{}}
	if def.Type == "" {
		def.Type = unitType(canon)
	}
	m.units[canon] = u
	m.units[name] = u
	m.loadOrder = append(m.loadOrder, u)
	m.resetRuntime(u)
	m.loading++
	m.addEdges(u)
	m.loading--
	if m.loading == 0 {
		m.addTargetDeps()
	}
	return u
}

// addTargetDeps gives each queued target After= on what it Wants= or
// Requires=, as systemd.target(5) "Default Dependencies" says: unless the
// wanted unit sets DefaultDependencies=no. Like systemd it adds none on a
// unit that is not loaded or that is already ordered after the target
// (that edge would only make a cycle). It runs once the whole tree is
// loaded, so that every unit's own ordering is known.
func (m *Manager) addTargetDeps() {
	for len(m.targetDeps) > 0 {
		t := m.targetDeps[0]
		m.targetDeps = m.targetDeps[1:]
		us := &t.def.Unit
		for _, list := range [][]string{us.Wants, us.Requires} {
			for _, n := range list {
				o := m.load(n)
				if o == t || o.def.LoadState != unitfile.Loaded || !o.def.Unit.DefaultDependencies {
					continue
				}
				if _, ok := m.edgeSeen[edgeKey{o, t, depAfter}]; ok {
					continue
				}
				m.edge(t, o, depAfter)
			}
		}
	}
}

func unitType(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

// loadedExists reports whether name is a unit the source really has; implicit
// dependencies are only added on those, because gosd runs unit trees that lack
// systemd's special targets.
func (m *Manager) loadedExists(name string) bool {
	if u := m.units[name]; u != nil {
		return u.def.LoadState == unitfile.Loaded
	}
	d := m.src.Get(name)
	return d != nil && d.LoadState == unitfile.Loaded
}

func (m *Manager) addEdges(u *unit) {
	if u.def.LoadState != unitfile.Loaded {
		return
	}
	us := &u.def.Unit
	for _, d := range unitDeps(us) {
		for _, n := range d.names {
			m.edge(u, m.load(n), d.kind)
		}
	}
	// implicit adds edges of kinds from u to name, when name exists.
	implicit := func(name string, kinds ...dep) {
		if name == u.name || !m.loadedExists(name) {
			return
		}
		t := m.load(name)
		for _, k := range kinds {
			m.edge(u, t, k)
		}
	}
	u.impl.addDeps(m, u, implicit)
	// Slice= (systemd.resource-control(5)): Requires= and After= on the
	// slice, where its unit exists (system.slice has no file, as in
	// systemd 252, where it is built in).
	if rc := resourcesOf(u.def); rc != nil && u.def.Slice == nil {
		implicit(sliceOf(rc), depRequires, depAfter)
	}
	// RequiresMountsFor= (systemd.unit(5)): Requires= and After= on the
	// mount unit of each path and of every directory above it, where
	// such a unit exists.
	for _, p := range us.RequiresMountsFor {
		for ; ; p = path.Dir(p) {
			if name, err := unitfile.EscapePath(p); err == nil {
				implicit(name+".mount", depRequires, depAfter)
			}
			if p == "/" {
				break
			}
		}
	}
}

func socketServiceName(u *unit) string {
	if u.def.Socket != nil && u.def.Socket.Service != "" {
		return u.def.Socket.Service
	}
	return strings.TrimSuffix(u.name, ".socket") + ".service"
}

// edge adds from -k-> to and its inverse; a Before= edge is kept as the
// After= edge it means, so that each pair is stored once.
func (m *Manager) edge(from, to *unit, k dep) {
	if from == to {
		return
	}
	if k&1 == 1 { // an inverse kind: store it as the forward edge
		from, to, k = to, from, k.inverse()
	}
	key := edgeKey{from, to, k}
	if _, ok := m.edgeSeen[key]; ok {
		return
	}
	m.edgeSeen[key] = struct{}{}
	from.deps[k] = append(from.deps[k], to)
	to.deps[k.inverse()] = append(to.deps[k.inverse()], from)
}

// onReload swaps definitions (daemon-reload). Runtime state stays: running
// processes keep running and the new settings apply from the next start.
func (m *Manager) onReload(src UnitSource) {
	if src == nil {
		m.logf(nil, LevelWarning, "ignoring reload without units")
		return
	}
	m.src = src
	m.edgeSeen = map[edgeKey]struct{}{}
	old := m.loadOrder
	for _, u := range old {
		u.deps = [numDeps][]*unit{}
	}
	for _, u := range old {
		def := src.Get(u.name)
		if def == nil {
			def = &unitfile.Unit{Name: u.name, LoadState: unitfile.NotFound}
		}
		if def.Type == "" {
			def.Type = unitType(u.name)
		}
		prev := u.def
		u.def = def
		m.keepForStop(u, prev)
		m.resetRuntime(u)
	}
	m.loading++
	for _, n := range src.Names() {
		m.load(n)
	}
	for _, u := range old {
		m.addEdges(u)
	}
	m.loading--
	m.addTargetDeps()
	// A running Type=dbus service follows its new BusName= from now on
	// (or none, no longer being Type=dbus); a timer re-plans (or stops,
	// its file gone).
	for _, u := range old {
		u.impl.reloaded(m, u)
	}
	// Ordering edges changed: recount what every waiting job waits for.
	for _, u := range m.loadOrder {
		if j := u.job; j != nil && !j.running {
			m.recount(j)
		}
	}
	// The new resource settings of every unit that has a cgroup (nil when
	// it has none any more), and of every slice (systemd applies them at
	// once too).
	for _, u := range m.loadOrder {
		if u.cgroupPath != "" || u.def.Slice != nil {
			m.emit(ApplyResources{Unit: u.name, Resources: resourcesOf(u.def)})
		}
	}
	m.logf(nil, LevelInfo, "Reloaded unit definitions (%d units)", len(src.Names()))
}

// resourcesOf is the [Service], [Socket] or [Slice] section's resource
// settings of a unit; nil for the others.
func resourcesOf(d *unitfile.Unit) *unitfile.ResourceControl {
	switch {
	case d == nil:
		return nil
	case d.Service != nil:
		return &d.Service.Resources
	case d.Socket != nil:
		return &d.Socket.Resources
	case d.Slice != nil:
		return &d.Slice.Resources
	}
	return nil
}

// ---- small helpers ----

func (m *Manager) emit(e Effect) { m.out = append(m.out, e) }

// SetMinLevel makes the manager skip log messages below lvl (gosd's
// log_level), so that debug messages on every job cost nothing.
func (m *Manager) SetMinLevel(lvl Level) { m.minLevel = lvl }

func (m *Manager) logf(u *unit, lvl Level, format string, args ...any) {
	if lvl < m.minLevel {
		return
	}
	l := Log{Level: lvl, Msg: fmt.Sprintf(format, args...)}
	if u != nil {
		l.Unit = u.name
	}
	m.emit(l)
}

// logAt logs a message about a setting, with the unit-file line that set it.
func (m *Manager) logAt(u *unit, key string, lvl Level, format string, args ...any) {
	if lvl < m.minLevel {
		return
	}
	l := Log{Unit: u.name, Level: lvl, Msg: fmt.Sprintf(format, args...), Pos: settingPos(u.def, key)}
	m.emit(l)
}

// settingPos finds the last assignment of key (it is the effective one).
func settingPos(def *unitfile.Unit, key string) unitfile.Pos {
	for i := len(def.Entries) - 1; i >= 0; i-- {
		if def.Entries[i].Key == key {
			return def.Entries[i].Pos
		}
	}
	return unitfile.Pos{}
}

func (m *Manager) setTimer(u *unit, kind string, at time.Duration) {
	u.timers[kind] = at
	m.emit(SetTimer{ID: TimerID{Unit: u.name, Kind: kind}, At: at})
}

// setTimeout arms kind after d unless d is infinity (or 0, which systemd
// also treats as "no timeout").
func (m *Manager) setTimeout(u *unit, kind string, d time.Duration) {
	if d <= 0 || d == unitfile.Infinity {
		m.cancelTimer(u, kind)
		return
	}
	m.setTimer(u, kind, m.now+d)
}

func (m *Manager) cancelTimer(u *unit, kind string) {
	if _, ok := u.timers[kind]; ok {
		delete(u.timers, kind)
		m.emit(CancelTimer{ID: TimerID{Unit: u.name, Kind: kind}})
	}
}

func (m *Manager) onTimer(id TimerID) {
	u := m.units[id.Unit]
	if u == nil {
		m.logf(nil, LevelDebug, "ignoring timer %s/%s of unknown unit", id.Unit, id.Kind)
		return
	}
	if _, ok := u.timers[id.Kind]; !ok {
		m.logf(u, LevelDebug, "ignoring stale timer %s", id.Kind)
		return
	}
	delete(u.timers, id.Kind)
	if id.Kind == "job" || id.Kind == "jobrun" {
		if j := u.job; j != nil {
			key := map[string]string{"job": "JobTimeoutSec", "jobrun": "JobRunningTimeoutSec"}[id.Kind]
			m.logAt(u, key, LevelWarning, "Job %s/%s timed out.", u.name, j.asked)
			m.finishJob(j, ResultTimeout)
			if a := u.def.Unit.JobTimeoutAction; a != "" && a != "none" {
				m.action(u, a, -1)
			}
		}
		return
	}
	u.impl.timer(m, u, id.Kind)
}

// setState moves u to a new sub-state, and to the active state its type's
// table gives for it; keeps the timestamps and counters, reports
// UnitChanged and lets jobs and dependents react.
func (m *Manager) setState(u *unit, sub SubState) {
	active := u.impl.activeOf(sub)
	if u.active == active && u.sub == sub {
		return
	}
	old := u.active
	wasBusy := old != ActiveInactive && old != ActiveFailed
	isBusy := active != ActiveInactive && active != ActiveFailed
	if wasBusy != isBusy {
		if isBusy {
			m.busyUnits++
		} else {
			m.busyUnits--
		}
	}
	if old != active {
		switch {
		case active == ActiveActive:
			u.activeEnter = m.now
		case old == ActiveActive:
			u.activeExit = m.now
		}
		if !isBusy && wasBusy {
			u.inactiveEnter = m.now
		}
		if isBusy && !wasBusy {
			u.inactiveExit = m.now
		}
	}
	u.active, u.sub = active, sub
	m.emit(UnitChanged{Unit: u.name, Active: active.String(), Sub: sub.String(), Result: u.result,
		Description: u.def.Unit.Description, BusDaemon: isBusDaemon(u)})
	m.unitStateChanged(u, old)
}

// isBusDaemon: the unit is the system bus's daemon, by name or alias.
func isBusDaemon(u *unit) bool {
	return u.name == "dbus.service" || slices.Contains(u.def.Names, "dbus.service")
}

func isInactive(u *unit) bool            { return isInactiveState(u.active) }
func isInactiveState(a ActiveState) bool { return a == ActiveInactive || a == ActiveFailed }
func isActive(u *unit) bool              { return u.active == ActiveActive || u.active == ActiveReloading }

func (m *Manager) newInvocation() string {
	m.nextInvoc++
	return fmt.Sprintf("%032x", m.nextInvoc)
}

func (m *Manager) newSpawnID(u *unit, role string) uint64 {
	m.nextSpawnID++
	m.spawns[m.nextSpawnID] = spawnRef{u: u, role: role}
	return m.nextSpawnID
}

func (m *Manager) checkExit() {
	if !m.shuttingDown || m.exitSent {
		return
	}
	if m.jobs == 0 && m.busyUnits == m.leftAtShutdown() {
		m.exitSent = true
		m.logf(nil, LevelInfo, "All units stopped, shutdown complete")
		m.emit(Exit{Action: m.shutdownAct, Code: m.exitCode})
	}
}

func (m *Manager) onShutdown(action string) {
	if action == "" {
		action = "exit"
	}
	if m.shuttingDown {
		m.logf(nil, LevelInfo, "Shutdown already in progress")
		return
	}
	m.shuttingDown, m.shutdownAct = true, action
	m.logf(nil, LevelInfo, "Shutting down (%s)", action)
	for _, u := range m.loadOrder {
		if u.job == nil && u.impl.followsOnly(u) {
			continue
		}
		if !isInactive(u) || (u.job != nil && u.job.kind != JobStop) {
			m.request(0, u.name, JobStop, ModeReplace)
		}
	}
}

// leftAtShutdown counts the busy units that gosd's shutdown leaves as
// they are (unitVTable.followsOnly): the shutdown is complete without
// them.
func (m *Manager) leftAtShutdown() int {
	n := 0
	for _, u := range m.loadOrder {
		if !isInactive(u) && u.job == nil && u.impl.followsOnly(u) {
			n++
		}
	}
	return n
}

// forget unloads a finished Accept=yes instance and its edges, so that a
// busy socket does not grow the manager without bound.
func (m *Manager) forget(u *unit) {
	if u.job != nil || !isInactive(u) || m.unitBusy(u) {
		return
	}
	for _, k := range []string{"state", "restart", "watchdog", "runtime", "job", "jobrun"} {
		m.cancelTimer(u, k)
	}
	for k := dep(0); k < numDeps; k++ {
		for _, x := range u.deps[k] {
			x.deps[k.inverse()] = without(x.deps[k.inverse()], u)
			if k&1 == 0 {
				delete(m.edgeSeen, edgeKey{u, x, k})
			} else {
				delete(m.edgeSeen, edgeKey{x, u, k.inverse()})
			}
		}
		u.deps[k] = nil
	}
	for _, name := range append([]string{u.name}, u.def.Names...) {
		if m.units[name] == u {
			delete(m.units, name)
		}
	}
	m.loadOrder = without(m.loadOrder, u)
}

func without(list []*unit, u *unit) []*unit {
	out := list[:0]
	for _, x := range list {
		if x != u {
			out = append(out, x)
		}
	}
	for i := len(out); i < len(list); i++ {
		list[i] = nil
	}
	return out
}

func (m *Manager) onResetFailed(name string) {
	var list []*unit
	if name == "" {
		list = m.loadOrder
	} else if u := m.units[name]; u != nil {
		list = []*unit{u}
	} else {
		m.logf(nil, LevelDebug, "reset-failed: unit %s not loaded", name)
		return
	}
	for _, u := range list {
		u.startLimitCount = 0
		if u.active == ActiveFailed && u.job == nil {
			u.result = "success"
			m.setState(u, SubDead)
		}
	}
}
