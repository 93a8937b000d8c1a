package manager

import (
	"fmt"
	"strings"

	"gosd/unitfile"
)

// job is an installed job. kind is one of start, stop, restart, reload,
// verify-active: try-restart and reload-or-restart are collapsed against the
// unit's state when the transaction is built, as systemd does.
type job struct {
	u    *unit
	kind JobKind
	// asked is the kind reported in JobStarted/JobFinished (a restart job
	// stays "restart" after its stop phase turned it into a start).
	asked JobKind
	ids   []uint64
	// skipped: the unit's conditions were not met (JobFinished.Skipped).
	skipped bool
	// running: the job has begun acting on its unit.
	running bool
	// blockers counts installed jobs that must finish first (ordering).
	blockers int
	// queued: in m.ready, not yet run.
	queued bool
	// failDep: a Requires=/BindsTo= unit cannot be loaded; the job ends
	// with result "dependency" when it would run.
	failDep string
	gen     uint64
	// restartStop: a restart job in its stop phase.
	restartPhaseStart bool
	// unitResult remembers a special result (skipped, assert) set by the unit.
	special JobResult
}

func (j *job) String() string { return j.u.name + "/" + string(j.kind) }

// stopLike: stop jobs and restart jobs before their stop phase ended.
// systemd.unit(5) After=: "If one unit ... is stopped and the other started,
// the stop is ordered before the start"; between stop jobs the order is
// reversed.
func (j *job) stopLike() bool {
	return j.kind == JobStop || (j.kind == JobRestart && !j.restartPhaseStart)
}

// precedesAfter: w is After= p. Does p's job run before w's?
func precedesAfter(p, w *job) bool { return !w.stopLike() }

// precedesBefore: p is After= w (w ordered first). Does p's job run first?
func precedesBefore(p, w *job) bool { return p.stopLike() }

// forEachOrdered calls f for every installed job on units ordered against
// j's unit, with first reporting whether that job must finish before j.
func forEachOrdered(j *job, f func(o *job, first bool)) {
	for _, x := range j.u.deps[depAfter] { // j.u After x
		if o := x.job; o != nil && o != j {
			f(o, precedesAfter(o, j))
		}
	}
	for _, x := range j.u.deps[depBefore] { // x After j.u
		if o := x.job; o != nil && o != j {
			f(o, precedesBefore(o, j))
		}
	}
}

// blocksOthers calls f for every job that j must precede.
func blocksOthers(j *job, f func(o *job)) {
	for _, x := range j.u.deps[depBefore] { // x After j.u: j first unless x stops
		if o := x.job; o != nil && o != j && precedesAfter(j, o) {
			f(o)
		}
	}
	for _, x := range j.u.deps[depAfter] { // j.u After x: j first when j stops
		if o := x.job; o != nil && o != j && precedesBefore(j, o) {
			f(o)
		}
	}
}

// recount computes a waiting job's blockers from scratch.
func (m *Manager) recount(j *job) {
	n := 0
	forEachOrdered(j, func(o *job, first bool) {
		if first {
			n++
		}
	})
	j.blockers = n
	m.maybeReady(j)
}

func (m *Manager) maybeReady(j *job) {
	if j.u.job == j && !j.running && j.blockers <= 0 && !j.queued {
		j.queued = true
		m.ready = append(m.ready, j)
	}
}

// unblock is called when j leaves (finished) or changes kind: the jobs it
// held back count one blocker less.
func (m *Manager) unblock(j *job) {
	blocksOthers(j, func(o *job) {
		if !o.running {
			o.blockers--
			m.maybeReady(o)
		}
	})
}

// block counts j as a blocker of waiting jobs it must precede (j is new).
func (m *Manager) block(j *job, skipGen uint64) {
	blocksOthers(j, func(o *job) {
		if !o.running && o.gen != skipGen {
			o.blockers++
		}
	})
}

// changeKind switches a waiting or stop-phase job's kind and keeps every
// neighbour's blocker count right.
func (m *Manager) changeKind(j *job, kind JobKind, restartPhaseStart bool) {
	m.unblock(j)
	j.kind, j.restartPhaseStart = kind, restartPhaseStart
	m.block(j, 0)
	if !j.running {
		m.recount(j)
	}
}

// drain runs ready jobs until none is left.
func (m *Manager) drain() {
	for len(m.ready) > 0 {
		j := m.ready[0]
		m.ready[0] = nil
		m.ready = m.ready[1:]
		j.queued = false
		if j.u.job != j || j.running || j.blockers > 0 {
			continue
		}
		m.runJob(j)
	}
	m.ready = m.ready[:0]
}

func (m *Manager) runJob(j *job) {
	u := j.u
	prev := m.cur
	m.cur = u
	m.runJobOn(j, u)
	m.cur = prev // left as it is on a panic: recoverStep charges u
}

func (m *Manager) runJobOn(j *job, u *unit) {
	if j.failDep != "" {
		m.logf(u, LevelWarning, "Dependency failed for %s: %s", describe(u), j.failDep)
		m.finishJob(j, ResultDependency)
		return
	}
	switch j.kind {
	case JobStart:
		if isActive(u) {
			m.finishJob(j, ResultDone)
			return
		}
		if u.active == ActiveDeactivating {
			return // wait: systemd retries the job once the unit is down
		}
		if !loaded(u) {
			m.refuseGone(j)
			return
		}
		m.jobRuns(j)
		m.startUnit(u)
	case JobVerifyActive:
		switch {
		case isActive(u):
			m.finishJob(j, ResultDone)
		case u.active == ActiveActivating:
			// wait for the outcome of the start in progress
		default:
			m.logf(u, LevelInfo, "Unit %s is not active", u.name)
			m.finishJob(j, ResultFailed)
		}
	case JobStop:
		m.jobRuns(j)
		if isInactive(u) && !m.unitBusy(u) {
			m.finishJob(j, ResultDone)
			return
		}
		m.stopUnit(u, false)
	case JobRestart:
		m.jobRuns(j)
		if u.sub == SubAutoRestart {
			m.cancelTimer(u, "restart")
			m.restartToStart(j)
			return
		}
		if isInactive(u) && !m.unitBusy(u) {
			m.restartToStart(j)
			return
		}
		m.stopUnit(u, true)
	case JobReload:
		if !isActive(u) {
			if u.active == ActiveActivating {
				return
			}
			m.logf(u, LevelInfo, "Unit %s is not active, cannot reload", u.name)
			m.finishJob(j, ResultInvalid)
			return
		}
		if !loaded(u) {
			m.refuseGone(j)
			return
		}
		m.jobRuns(j)
		m.reloadUnit(u)
	default:
		m.finishJob(j, ResultInvalid)
	}
}

// jobRuns marks j running and arms JobRunningTimeoutSec= (systemd.unit(5):
// the time a job may run, not counting its wait for other jobs).
func (m *Manager) jobRuns(j *job) {
	if j.running {
		return
	}
	j.running = true
	u := j.u
	if jt := u.def.Unit.JobRunningTimeoutSec; jt > 0 && jt != unitfile.Infinity {
		if _, armed := u.timers["jobrun"]; !armed {
			m.setTimer(u, "jobrun", m.now+jt)
		}
	}
}

// restartToStart turns a restart job whose stop phase ended into a start
// job that waits for its ordering again.
func (m *Manager) restartToStart(j *job) {
	j.running = false
	m.changeKind(j, JobStart, true)
}

// finishJob ends j with result, reports it and propagates failure.
func (m *Manager) finishJob(j *job, result JobResult) {
	u := j.u
	if u.job != j {
		return
	}
	u.job = nil
	m.jobs--
	m.cancelTimer(u, "job")
	m.cancelTimer(u, "jobrun")
	m.unblock(j)
	// One JobFinished per request merged into this job.
	fin := JobFinished{Unit: u.name, Kind: j.asked, Result: result, Skipped: j.skipped,
		Description: u.def.Unit.Description, Oneshot: u.def.Service != nil && u.def.Service.Type == "oneshot"}
	if len(j.ids) == 0 {
		m.emit(fin)
	}
	for _, id := range j.ids {
		fin.ID = id
		m.emit(fin)
	}
	if result != ResultDone && result != ResultCanceled {
		if j.kind == JobStart || j.kind == JobVerifyActive || j.kind == JobRestart {
			m.logf(u, LevelDebug, "Job %s/%s finished, result=%s", u.name, j.kind, result)
			// systemd.unit(5) Requires=/BindsTo=/Requisite=: the start of a
			// unit requiring a failed one fails too.
			m.failDependents(u)
		}
	}
	// The unit may have been waiting for its job to go (StopWhenUnneeded).
	if isInactive(u) {
		m.checkUnneededDeps(u)
	}
	// A unit that triggers this one follows its jobs too (systemd's
	// unit_trigger_notify): a start that ended without a state change
	// (skipped, refused) lets a path unit watch again, a timer plan again.
	for _, t := range u.deps[depTriggeredBy] {
		t.impl.triggerChanged(m, t, u)
	}
}

func (m *Manager) failDependents(u *unit) {
	for _, list := range [][]*unit{u.deps[depRequiredBy], u.deps[depBoundBy], u.deps[depRequisiteOf]} {
		for _, d := range list {
			if j := d.job; j != nil && (j.kind == JobStart || j.kind == JobVerifyActive || (j.kind == JobRestart && j.restartPhaseStart)) {
				m.logf(d, LevelNotice, "Dependency failed for %s.", describe(d))
				m.finishJob(j, ResultDependency)
			}
		}
	}
}

func describe(u *unit) string {
	if u.def.Unit.Description != "" {
		return u.def.Unit.Description
	}
	return u.name
}

// ---- transactions ----

type txnJob struct {
	u        *unit
	kind     JobKind
	required bool // matters to the anchor: reached by requirement edges only
	failDep  string
}

type txn struct {
	jobs   map[*unit]*txnJob
	order  []*unit
	anchor *unit
	err    string
}

func (m *Manager) refuse(id uint64, name string, kind JobKind, result JobResult, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fin := JobFinished{ID: id, Unit: name, Kind: kind, Result: result, Error: msg}
	if u := m.units[name]; u != nil {
		fin.Description, fin.Oneshot = u.def.Unit.Description, u.def.Service != nil && u.def.Service.Type == "oneshot"
	}
	m.logf(m.units[name], LevelWarning, "Requested job %s/%s refused: %s", name, kind, msg)
	m.emit(fin)
}

// refusesManual refuses a user's job that RefuseManualStart= or
// RefuseManualStop= forbid, as systemd's D-Bus API does: a start (or an
// isolate) with the first, a stop with the second, a restart with either,
// a reload-or-restart of an inactive unit (a start) with the first.
func (m *Manager) refusesManual(r Request) bool {
	u := m.load(r.Unit)
	start, stop := u.def.Unit.RefuseManualStart, u.def.Unit.RefuseManualStop
	var refused bool
	switch r.Kind {
	case JobStart:
		refused = start
	case JobStop:
		refused = stop
	case JobRestart, JobTryRestart:
		refused = start || stop
	case JobReloadOrRestart:
		refused = start && isInactive(u)
	}
	if refused {
		m.refuse(r.ID, r.Unit, r.Kind, ResultInvalid, "Operation refused, unit %s may be requested by dependency only (it is configured to refuse manual start/stop).", r.Unit)
	}
	return refused
}

// request builds a transaction around one job, checks it and installs it.
func (m *Manager) request(id uint64, name string, kind JobKind, mode JobMode) {
	if mode == "" {
		mode = ModeReplace
	}
	u := m.load(name)
	if u.def.LoadState != unitfile.Loaded && kind != JobStop {
		m.refuse(id, name, kind, ResultFailed, "Unit %s is %s.", name, loadWord(u.def.LoadState))
		return
	}
	if m.shuttingDown && kind != JobStop {
		m.refuse(id, name, kind, ResultFailed, "Shutdown in progress.")
		return
	}
	switch kind {
	case JobStart, JobStop, JobRestart, JobTryRestart, JobReload, JobReloadOrRestart, JobVerifyActive:
	default:
		m.refuse(id, name, kind, ResultInvalid, "Unknown job type %q.", kind)
		return
	}
	if mode == ModeIsolate {
		if kind != JobStart {
			m.refuse(id, name, kind, ResultInvalid, "Isolate is only valid for start jobs.")
			return
		}
		if !u.def.Unit.AllowIsolate {
			m.refuse(id, name, kind, ResultFailed, "Operation refused, unit may not be isolated.")
			return
		}
	}
	kind = collapse(u, kind)
	if kind == JobReload && !canReload(u) {
		m.refuse(id, name, kind, ResultInvalid, "Job type reload is not applicable for unit %s.", name)
		return
	}
	if kind == "" { // try-restart of an inactive unit: nothing to do
		m.emit(JobStarted{ID: id, Unit: name, Kind: JobTryRestart})
		m.emit(JobFinished{ID: id, Unit: name, Kind: JobTryRestart, Result: ResultDone})
		return
	}
	t := &txn{jobs: map[*unit]*txnJob{}, anchor: u}
	deps := mode != ModeIgnoreDependencies
	reqs := deps && mode != ModeIgnoreRequirements
	m.addTxn(t, u, kind, true, deps, reqs)
	if mode == ModeIsolate {
		for _, o := range m.loadOrder {
			if t.jobs[o] == nil && !o.def.Unit.IgnoreOnIsolate && (!isInactive(o) || o.job != nil) {
				m.addTxn(t, o, JobStop, false, deps, reqs)
			}
		}
	}
	if t.err != "" {
		m.refuse(id, name, kind, ResultFailed, "%s", t.err)
		return
	}
	if deps && !m.breakCycles(t) {
		m.refuse(id, name, kind, ResultFailed, "Transaction order is cyclic. See system logs for details.")
		return
	}
	// --job-mode=fail: refuse when an installed job would be replaced.
	if mode == ModeFail {
		for _, x := range t.order {
			tj := t.jobs[x]
			if tj != nil && x.job != nil && conflicting(x.job.kind, tj.kind) {
				m.refuse(id, name, kind, ResultFailed, "Transaction for %s/%s is destructive (%s has '%s' job queued, but '%s' is included in transaction).", name, kind, x.name, x.job.kind, tj.kind)
				return
			}
		}
	}
	m.install(t, id)
}

func loadWord(s unitfile.LoadState) string {
	switch s {
	case unitfile.NotFound, "":
		return "not found"
	case unitfile.Masked:
		return "masked"
	case unitfile.BadSetting:
		return "bad-setting"
	}
	return "not loaded properly"
}

func canReload(u *unit) bool { return u.impl.canReload(u) }

// collapse resolves the conditional job types against the unit's state
// (systemctl(1) try-restart, reload-or-restart). "" means nothing to do.
func collapse(u *unit, k JobKind) JobKind {
	switch k {
	case JobTryRestart:
		if isInactive(u) && u.job == nil {
			return ""
		}
		return JobRestart
	case JobReloadOrRestart:
		if isInactive(u) && (u.job == nil || u.job.kind == JobStop) {
			return JobStart
		}
		if canReload(u) {
			return JobReload
		}
		return JobRestart
	}
	return k
}

func conflicting(a, b JobKind) bool { return (a == JobStop) != (b == JobStop) }

// mergeKinds follows systemd's job merging table; ok=false when they conflict.
func mergeKinds(a, b JobKind) (JobKind, bool) {
	if a == b {
		return a, true
	}
	if conflicting(a, b) {
		return "", false
	}
	rank := func(k JobKind) int {
		switch k {
		case JobVerifyActive:
			return 0
		case JobStart:
			return 1
		case JobReload:
			return 2
		case JobRestart:
			return 3
		}
		return 0
	}
	// start+reload is reload-or-start; as our start of an inactive unit
	// and reload of an active one, restart covers both safely.
	if (a == JobStart && b == JobReload) || (a == JobReload && b == JobStart) {
		return JobRestart, true
	}
	if rank(a) > rank(b) {
		return a, true
	}
	return b, true
}

// addTxn adds a job for u and what it pulls in (systemd.unit(5)).
func (m *Manager) addTxn(t *txn, u *unit, kind JobKind, required, deps, reqs bool) {
	if t.err != "" {
		return
	}
	if tj := t.jobs[u]; tj != nil {
		merged, ok := mergeKinds(tj.kind, kind)
		if !ok {
			switch {
			case !required:
				return // the optional one gives way
			case !tj.required:
				m.dropTxn(t, u)
			default:
				t.err = fmt.Sprintf("Transaction contains conflicting jobs '%s' and '%s' for %s.", tj.kind, kind, u.name)
				return
			}
		} else {
			if merged == tj.kind && (tj.required || !required) {
				return
			}
			tj.kind = merged
			tj.required = tj.required || required
			kind = merged
			goto expand
		}
	}
	t.jobs[u] = &txnJob{u: u, kind: kind, required: required}
	t.order = append(t.order, u)
expand:
	if !deps {
		return
	}
	tj := t.jobs[u]
	switch kind {
	case JobStart, JobRestart:
		if reqs {
			for _, list := range [][]*unit{u.deps[depRequires], u.deps[depBindsTo]} {
				for _, d := range list {
					if d.def.LoadState != unitfile.Loaded {
						tj.failDep = fmt.Sprintf("Unit %s is %s.", d.name, loadWord(d.def.LoadState))
						continue
					}
					m.addTxn(t, d, JobStart, tj.required, deps, reqs)
				}
			}
			for _, d := range u.deps[depRequisite] {
				if d.def.LoadState != unitfile.Loaded {
					tj.failDep = fmt.Sprintf("Unit %s is %s.", d.name, loadWord(d.def.LoadState))
					continue
				}
				m.addTxn(t, d, JobVerifyActive, tj.required, deps, reqs)
			}
		}
		for _, list := range [][]*unit{u.deps[depWants], u.deps[depUpholds]} {
			for _, d := range list {
				if d.def.LoadState != unitfile.Loaded {
					continue // a missing Wants= is no error (systemd.unit(5))
				}
				m.addTxn(t, d, JobStart, false, deps, reqs)
			}
		}
		for _, list := range [][]*unit{u.deps[depConflicts], u.deps[depConflictedBy]} {
			for _, d := range list {
				if !isInactive(d) || d.job != nil || t.jobs[d] != nil {
					m.addTxn(t, d, JobStop, tj.required, deps, reqs)
				}
			}
		}
		if kind == JobRestart {
			// Requires=/BindsTo=/PartOf=: restart reaches the dependents as
			// try-restart.
			for _, list := range [][]*unit{u.deps[depRequiredBy], u.deps[depBoundBy], u.deps[depConsistsOf]} {
				for _, d := range list {
					if !isInactive(d) || d.job != nil {
						m.addTxn(t, d, JobRestart, tj.required, deps, reqs)
					}
				}
			}
		}
	case JobStop:
		// Requires=/BindsTo=/PartOf=/Requisite=: stopping a unit stops the
		// units that need it.
		for _, list := range [][]*unit{u.deps[depRequiredBy], u.deps[depBoundBy], u.deps[depConsistsOf], u.deps[depRequisiteOf]} {
			for _, d := range list {
				if !isInactive(d) || d.job != nil || t.jobs[d] != nil {
					m.addTxn(t, d, JobStop, tj.required, deps, reqs)
				}
			}
		}
	}
}

// dropTxn removes u's job from the transaction, and the jobs of units in it
// that require u (they cannot run without it).
func (m *Manager) dropTxn(t *txn, u *unit) {
	if t.jobs[u] == nil {
		return
	}
	delete(t.jobs, u)
	for _, list := range [][]*unit{u.deps[depRequiredBy], u.deps[depBoundBy]} {
		for _, d := range list {
			if tj := t.jobs[d]; tj != nil && tj.kind != JobStop && d != t.anchor {
				m.dropTxn(t, d)
			}
		}
	}
}

// breakCycles finds ordering cycles among the transaction's jobs and
// deletes a job that does not matter to the anchor from each, as systemd
// does; false when a cycle has only essential jobs.
func (m *Manager) breakCycles(t *txn) bool {
	for {
		cyc := m.findCycle(t)
		if cyc == nil {
			return true
		}
		// cyc[0] is where the cycle was entered; the path runs along After=.
		start := t.jobs[cyc[0]]
		m.logf(cyc[0], LevelWarning, "Found ordering cycle on %s/%s", cyc[0].name, start.kind)
		var victim *unit
		for _, x := range cyc[1:] {
			m.logf(cyc[0], LevelWarning, "Found dependency on %s/%s", x.name, t.jobs[x].kind)
		}
		for i := len(cyc) - 1; i >= 0; i-- {
			if x := cyc[i]; !t.jobs[x].required && x != t.anchor {
				victim = x
				break
			}
		}
		if victim == nil {
			m.logf(cyc[0], LevelError, "Unable to break cycle starting with %s/%s", cyc[0].name, start.kind)
			return false
		}
		m.logf(cyc[0], LevelError, "Job %s/%s deleted to break ordering cycle starting with %s/%s", victim.name, t.jobs[victim].kind, cyc[0].name, start.kind)
		m.dropTxn(t, victim)
		if t.jobs[t.anchor] == nil {
			return false
		}
	}
}

// findCycle runs a depth-first search over After= edges between units with
// jobs in the transaction and returns one cycle, or nil.
func (m *Manager) findCycle(t *txn) []*unit {
	const (
		white = iota
		grey
		black
	)
	color := make(map[*unit]uint8, len(t.jobs))
	var stack []*unit
	var found []*unit
	var visit func(u *unit) bool
	visit = func(u *unit) bool {
		color[u] = grey
		stack = append(stack, u)
		for _, x := range u.deps[depAfter] {
			if t.jobs[x] == nil {
				continue
			}
			switch color[x] {
			case grey:
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == x {
						found = append([]*unit(nil), stack[i:]...)
						break
					}
				}
				return true
			case white:
				if visit(x) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[u] = black
		return false
	}
	for _, u := range t.order {
		if t.jobs[u] != nil && color[u] == white {
			if visit(u) {
				return found
			}
		}
	}
	return nil
}

// redundant: a pulled-in job that would change nothing is not installed.
func redundant(u *unit, k JobKind) bool {
	if u.job != nil {
		return false
	}
	switch k {
	case JobStart, JobVerifyActive:
		return isActive(u)
	case JobStop:
		return isInactive(u)
	}
	return false
}

// install turns the transaction into installed jobs.
func (m *Manager) install(t *txn, id uint64) {
	m.txnGen++
	gen := m.txnGen
	var fresh []*job
	for _, u := range t.order {
		tj := t.jobs[u]
		if tj == nil {
			continue
		}
		anchor := u == t.anchor
		if !anchor && redundant(u, tj.kind) {
			continue
		}
		if old := u.job; old != nil {
			if merged, ok := mergeKinds(old.kind, tj.kind); ok {
				if anchor && id != 0 {
					old.ids = append(old.ids, id)
				}
				if tj.failDep != "" && old.failDep == "" && !old.running {
					old.failDep = tj.failDep
				}
				if merged != old.kind && !old.running {
					m.changeKind(old, merged, false)
					old.asked = merged
				}
				continue
			}
			// systemd --job-mode=replace: the new job replaces the old one.
			m.logf(u, LevelDebug, "Job %s/%s canceled by %s/%s", u.name, old.kind, u.name, tj.kind)
			m.finishJob(old, ResultCanceled)
		}
		j := &job{u: u, kind: tj.kind, asked: tj.kind, gen: gen, failDep: tj.failDep}
		if anchor && id != 0 {
			j.ids = []uint64{id}
		}
		u.job = j
		m.jobs++
		fresh = append(fresh, j)
		m.emit(JobStarted{ID: firstID(j), Unit: u.name, Kind: j.kind, Description: u.def.Unit.Description})
		// systemd.unit(5) JobTimeoutSec=: the job, not the unit, times out.
		if jt := u.def.Unit.JobTimeoutSec; jt > 0 && jt != unitfile.Infinity {
			m.setTimer(u, "job", m.now+jt)
		}
	}
	for _, j := range fresh {
		m.block(j, gen)
	}
	for _, j := range fresh {
		if u := j.u; u.job == j {
			m.recount(j)
		}
	}
}

func firstID(j *job) uint64 {
	if len(j.ids) > 0 {
		return j.ids[0]
	}
	return 0
}

// unitStateChanged lets the unit's job and its dependents react to a state
// change of u (systemd's unit_notify).
func (m *Manager) unitStateChanged(u *unit, old ActiveState) {
	if j := u.job; j != nil {
		switch j.kind {
		case JobStart, JobVerifyActive:
			switch {
			case isActive(u):
				m.finishJob(j, ResultDone)
			case u.active == ActiveInactive && j.running:
				r := ResultDone
				if j.special != "" {
					r = j.special
				}
				m.finishJob(j, r)
			case u.active == ActiveFailed && (j.running || j.kind == JobVerifyActive):
				m.finishJob(j, ResultFailed)
			case !j.running && u.active != ActiveDeactivating:
				m.maybeReady(j) // it waited for the unit to go down
			}
		case JobStop:
			if isInactive(u) && !m.unitBusy(u) {
				m.finishJob(j, ResultDone)
			}
		case JobRestart:
			if isInactive(u) && !m.unitBusy(u) {
				if j.running {
					m.restartToStart(j)
				} else {
					m.maybeReady(j)
				}
			}
		case JobReload:
			switch {
			case u.active == ActiveActive && j.running:
				r := ResultDone
				if j.special != "" {
					r = j.special
				}
				m.finishJob(j, r)
			case isInactive(u):
				m.finishJob(j, ResultFailed)
			case !j.running:
				m.maybeReady(j)
			}
		}
	}
	if (isInactive(u) && old != ActiveInactive && old != ActiveFailed) || (u.active == ActiveFailed && old != ActiveFailed) {
		m.becameInactive(u)
	}
	for _, t := range u.deps[depTriggeredBy] {
		t.impl.triggerChanged(m, t, u)
	}
	if u.active == ActiveActive && old != ActiveActive && old != ActiveReloading {
		// Upholds=: the upheld units start whenever this one is active.
		for _, d := range u.deps[depUpholds] {
			m.uphold(u, d)
		}
	}
}

// unitBusy: a unit whose state says inactive but still has processes.
func (m *Manager) unitBusy(u *unit) bool { return u.impl.busy() }

func (m *Manager) uphold(by, d *unit) {
	if m.shuttingDown || d.job != nil || !isInactive(d) || d.def.LoadState != unitfile.Loaded {
		return
	}
	m.logf(d, LevelInfo, "%s is upheld by %s, starting it", d.name, by.name)
	m.request(0, d.name, JobStart, ModeReplace)
}

// becameInactive runs the consequences of u going down (from a job or on
// its own): BindsTo=, Upholds=, OnFailure=/OnSuccess=, StopWhenUnneeded=.
func (m *Manager) becameInactive(u *unit) {
	if m.shuttingDown {
		return
	}
	// BindsTo=: units bound to u stop when it stops, for whatever reason.
	for _, d := range u.deps[depBoundBy] {
		if !isInactive(d) && (d.job == nil || d.job.kind != JobStop) {
			m.logf(d, LevelInfo, "Unit %s is bound to inactive unit %s. Stopping, too.", d.name, u.name)
			m.request(0, d.name, JobStop, ModeReplace)
		}
	}
	for _, by := range u.deps[depUpheldBy] {
		if isActive(by) && u.job == nil {
			m.uphold(by, u)
		}
	}
	// (A service waiting in auto-restart is "activating", so it never gets
	// here: its sockets stay unwatched and OnFailure= waits for the end.)
	for _, s := range u.deps[depTriggeredBy] {
		s.impl.triggerDown(m, s, u)
	}
	if u.active == ActiveFailed {
		m.triggerList(u, u.deps[depOnFailure], "OnFailure=")
	} else {
		m.triggerList(u, u.deps[depOnSuccess], "OnSuccess=")
	}
	m.checkUnneededDeps(u)
	if u.acceptOf != nil && u.job == nil {
		m.acceptInstanceGone(u)
		if u.active == ActiveInactive {
			m.forget(u) // systemd garbage-collects finished connection instances
		}
	}
}

func (m *Manager) triggerList(u *unit, list []*unit, key string) {
	if len(list) == 0 {
		return
	}
	mode := JobMode(u.def.Unit.OnFailureJobMode)
	if mode == "" || key == "OnSuccess=" {
		mode = ModeReplace
	}
	for _, d := range list {
		m.logAt(u, strings.TrimSuffix(key, "="), LevelInfo, "Triggering %s dependency %s.", key, d.name)
		m.request(0, d.name, JobStart, mode)
	}
}

// checkUnneededDeps stops StopWhenUnneeded= units that u pulled in and
// that nothing active needs any more (systemd.unit(5)).
func (m *Manager) checkUnneededDeps(u *unit) {
	for _, list := range [][]*unit{u.deps[depRequires], u.deps[depWants], u.deps[depBindsTo], u.deps[depRequisite], u.deps[depUpholds]} {
		for _, d := range list {
			if d.def.Unit.StopWhenUnneeded && !isInactive(d) && d.job == nil && !m.needed(d) {
				m.logf(d, LevelInfo, "Unit %s not needed anymore. Stopping.", d.name)
				m.request(0, d.name, JobStop, ModeReplace)
			}
		}
	}
}

func (m *Manager) needed(d *unit) bool {
	for _, list := range [][]*unit{d.deps[depRequiredBy], d.deps[depWantedBy], d.deps[depBoundBy], d.deps[depRequisiteOf], d.deps[depUpheldBy]} {
		for _, x := range list {
			if !isInactive(x) || (x.job != nil && x.job.kind != JobStop) {
				return true
			}
		}
	}
	return false
}
