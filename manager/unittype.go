package manager

import "gosd/unitfile"

// unitVTable is what each type of unit implements, as systemd's UnitVTable:
// the generic code (jobs, transactions, dependencies, the state machine of
// manager.go and job.go) calls these and never asks which type a unit is.
// The value lives in unit.impl and holds the unit's runtime state of its
// type. A new type is one file that implements it (embedding baseType for
// what it does not need) and one entry in unitTypes; what it needs from
// the outside world comes in as events and goes out as effects, which the
// reactor carries out (its hooks).
type unitVTable interface {
	// activeOf is the type's table from its own sub-states to the
	// generic active states.
	activeOf(sub SubState) ActiveState
	// addDeps adds the type's implicit and default dependencies
	// (systemd.TYPE(5) "Implicit Dependencies", "Default Dependencies");
	// implicit adds edges from u to a unit that exists.
	addDeps(m *Manager, u *unit, implicit func(name string, kinds ...dep))
	// startable says whether a start may begin in the unit's present
	// sub-state (false: one is under way), undoing what waits (a pending
	// auto-restart).
	startable(m *Manager, u *unit) bool
	// startLimited: StartLimitIntervalSec=/StartLimitBurst= apply.
	startLimited() bool
	// notLoaded: a start found the unit's file gone.
	notLoaded(m *Manager, u *unit)
	// start begins activation once conditions passed.
	start(m *Manager, u *unit)
	// stop begins deactivation for a stop job, or a restart job's stop.
	stop(m *Manager, u *unit, restart bool)
	// canReload: a reload job applies; reload begins one.
	canReload(u *unit) bool
	reload(m *Manager, u *unit)
	// timer handles one of the type's own deadlines ("job" is generic).
	timer(m *Manager, u *unit, kind string)
	// ctl is the type's sequence of control commands (ExecStartPre=,
	// ...), nil when it runs none; fillControl completes the Spawn of
	// one, and controlDone continues after a sequence ended.
	ctl() *control
	fillControl(m *Manager, u *unit, sp *Spawn)
	controlDone(m *Manager, u *unit, phase SubState, ok bool, st WaitStatus, res string)
	// spawned and exited report the type's own processes (role "main");
	// exited returns false when pid is not one of them.
	spawned(m *Manager, u *unit, e Spawned)
	// controlStarted: a control process of the unit was forked.
	controlStarted(m *Manager, u *unit, pid int)
	exited(m *Manager, u *unit, pid int, st WaitStatus) bool
	// forgetProcesses stops waiting for the type's own processes;
	// forceDown kills them after an internal error and returns the pid
	// to kill the unit's group by (0: the cgroup only).
	forgetProcesses(m *Manager, u *unit)
	forceDown(m *Manager, u *unit) int
	// busy: the state says inactive but processes remain.
	busy() bool
	// triggerChanged follows a unit this one triggers (its state
	// changed); triggerDown follows one that went down.
	triggerChanged(m *Manager, u, target *unit)
	triggerDown(m *Manager, u, target *unit)
	// keepForStop gives a unit whose definition is gone what stopping it
	// needs (gone.go); reloaded runs after a daemon-reload swapped it.
	keepForStop(u *unit, old *unitfile.Unit)
	reloaded(m *Manager, u *unit)
	// followsOnly: the unit only follows the outside world (a mount of
	// the mount table without a unit file): gosd's shutdown does not
	// stop it (as PID1, boot's final shutdown unmounts what is left)
	// and a re-exec does not hand it over (the new gosd reads the table
	// again).
	followsOnly(u *unit) bool
	// status fills the type's fields of a snapshot.
	status(m *Manager, u *unit, s *UnitStatus)
	// unsettled says why the unit cannot be handed over to a re-exec
	// now ("" when it can); holdsFDs: it keeps fds for its processes
	// (FDSTORE=1), so it is saved even when never started.
	unsettled(u *unit) string
	holdsFDs() bool
	// save and restore carry the runtime state across daemon-reexec
	// (restore reports whether it took over the saved fds: the others
	// are closed); rearm arms a deadline that was armed before it.
	save(su *SavedUnit)
	restore(m *Manager, u *unit, su SavedUnit) (keptFDs bool)
	rearm(m *Manager, u *unit, kind string)
}

// typeEntry registers a unit type: has says whether a definition carries
// what the type runs on (a missing one keeps the runtime it had, so a unit
// whose file went away can still be stopped), make builds the runtime,
// prepare (optional) completes a definition that has it. processes: the
// type runs processes, so a unit of it that comes back from a re-exec
// without its file gets the runtime that stopping them needs; kernelState
// likewise for a type whose units hold kernel state (an autofs mount).
type typeEntry struct {
	has         func(def *unitfile.Unit) bool
	make        func(u *unit) unitVTable
	prepare     func(def *unitfile.Unit)
	processes   bool
	kernelState bool
}

// unitTypes maps a unit type's name (its file's suffix) to its runtime:
// the one line a new type adds outside its own file. Types not listed run
// as plainUnit. It is a constant table, never written.
var unitTypes = map[string]typeEntry{
	"service":   serviceType,
	"socket":    socketType,
	"target":    targetType,
	"timer":     timerType,
	"path":      pathType,
	"mount":     mountType,
	"swap":      swapType,
	"slice":     sliceType,
	"automount": automountType,
	"device":    deviceType,
}

// resetRuntime gives u the runtime of its type when its definition has
// one, keeping the state of one it already has.
func (m *Manager) resetRuntime(u *unit) {
	t, ok := unitTypes[u.def.Type]
	if !ok || !t.has(u.def) {
		if u.impl == nil {
			u.impl = &plainUnit{}
		}
		return
	}
	if t.prepare != nil {
		t.prepare(u.def)
	}
	if _, plain := u.impl.(*plainUnit); u.impl == nil || plain {
		u.impl = t.make(u)
	}
}

// baseType is what a type that does not need a hook embeds: no control
// processes, no deadlines, nothing to save.
type baseType struct{}

func (baseType) addDeps(*Manager, *unit, func(string, ...dep)) {}
func (baseType) startable(m *Manager, u *unit) bool            { return true }
func (baseType) startLimited() bool                            { return false }
func (baseType) canReload(*unit) bool                          { return false }
func (baseType) reload(m *Manager, u *unit)                    { m.finishJob(u.job, ResultDone) }
func (baseType) timer(m *Manager, u *unit, kind string) {
	m.logf(u, LevelDebug, "ignoring timer %s", kind)
}
func (baseType) ctl() *control                                                   { return nil }
func (baseType) fillControl(*Manager, *unit, *Spawn)                             {}
func (baseType) controlDone(*Manager, *unit, SubState, bool, WaitStatus, string) {}
func (baseType) spawned(*Manager, *unit, Spawned)                                {}
func (baseType) controlStarted(*Manager, *unit, int)                             {}
func (baseType) notLoaded(*Manager, *unit)                                       {}
func (baseType) exited(*Manager, *unit, int, WaitStatus) bool                    { return false }
func (baseType) forgetProcesses(*Manager, *unit)                                 {}
func (baseType) forceDown(*Manager, *unit) int                                   { return 0 }
func (baseType) busy() bool                                                      { return false }
func (baseType) triggerChanged(*Manager, *unit, *unit)                           {}
func (baseType) triggerDown(*Manager, *unit, *unit)                              {}
func (baseType) keepForStop(*unit, *unitfile.Unit)                               {}
func (baseType) reloaded(*Manager, *unit)                                        {}
func (baseType) status(*Manager, *unit, *UnitStatus)                             {}
func (baseType) followsOnly(*unit) bool                                          { return false }
func (baseType) save(*SavedUnit)                                                 {}
func (baseType) restore(*Manager, *unit, SavedUnit) bool                         { return false }
func (baseType) rearm(*Manager, *unit, string)                                   {}
func (baseType) unsettled(u *unit) string                                        { return unsettled(u) }
func (baseType) holdsFDs() bool                                                  { return false }
