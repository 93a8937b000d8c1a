//go:build linux || freebsd

package control

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gosd/logstore"
	"gosd/manager"
)

type access int

const (
	anyone   access = iota // read-only: any uid
	rootOnly               // changes state or reveals logs: uid 0 only
)

type method struct {
	access access
	run    func(*call)
}

// methods is the whole API; docs/control-api.md documents each entry.
var methods = map[string]method{
	MethodList:         {anyone, runList},
	MethodStatus:       {anyone, runStatus},
	MethodCat:          {anyone, runCat},
	MethodDependencies: {anyone, runDependencies},
	MethodUnitPaths:    {anyone, runUnitPaths},
	MethodJob:          {rootOnly, runJob},
	MethodKill:         {rootOnly, runKill},
	MethodResetFailed:  {rootOnly, runResetFailed},
	MethodReload:       {rootOnly, runReload},
	MethodReexec:       {rootOnly, runReexec},
	MethodPower:        {rootOnly, runPower},
	MethodLogs:         {rootOnly, runLogs},
	MethodAnalyze:      {anyone, runAnalyze},
	MethodSystem:       {anyone, runSystem},
	MethodSetEnv:       {rootOnly, runSetEnvironment},
	MethodProperties:   {anyone, runProperties},
}

// call is one request being handled.
type call struct {
	c      *session
	id     json.RawMessage
	params json.RawMessage
	// answered is set by the first answer; any later one is dropped. The
	// reactor (a job's end) and the connection's goroutine (the server
	// shutting down) may both try.
	answered atomic.Bool
}

func (k *call) decode(v any) bool {
	dec := json.NewDecoder(bytes.NewReader(k.params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		k.fail(errorf(CodeInvalidParams, "invalid params: %v", err))
		return false
	}
	return true
}

func (k *call) result(v any) {
	if k.answered.CompareAndSwap(false, true) {
		k.c.reply(k.id, v)
		k.c.answered()
	}
}

func (k *call) fail(e *Error) {
	if k.answered.CompareAndSwap(false, true) {
		k.c.sendError(k.id, e)
		k.c.answered()
	}
}

func (k *call) failData(code int, msg string, data any) {
	e := &Error{Code: code, Message: msg}
	if b, err := json.Marshal(data); err == nil {
		e.Data = b
	}
	k.fail(e)
}

// reactor runs fn on the reactor goroutine; fn answers the call itself
// (now, or later from a job's completion).
func (k *call) reactor(fn func()) {
	err := k.c.onReactor(fn)
	if err == nil || k.answered.Load() {
		return
	}
	code := CodeInternalError
	if err == errShuttingDown {
		code = CodeShuttingDown
	}
	k.fail(errorf(code, "%v", err))
}

func (k *call) be() Backend { return k.c.srv.b }

func (k *call) info(st manager.UnitStatus, now time.Duration) UnitInfo {
	wall := time.Now()
	usec := func(t time.Duration) int64 {
		if t == 0 {
			return 0
		}
		return wall.Add(t - now).UnixMicro()
	}
	code, status := execCode(st.ExecMain)
	return UnitInfo{
		ExecMainPID: st.ExecMain.PID, ExecMainCode: int(code), ExecMainStatus: int(status),
		Name: st.Name, Description: st.Description, LoadState: st.LoadState,
		ActiveState: st.Active, SubState: st.Sub, Result: st.Result,
		MainPID: st.MainPID, ControlPID: st.ControlPID, StatusText: st.StatusText,
		NRestarts: st.NRestarts, Job: string(st.Job),
		ActiveEnterUsec: usec(st.ActiveEnter), ActiveExitUsec: usec(st.ActiveExit),
		InactiveEnterUsec: usec(st.InactiveEnter), InactiveExitUsec: usec(st.InactiveExit),
		Triggers: st.Triggers, NextElapseUsec: wallUsec(st.NextElapse), LastTriggerUsec: wallUsec(st.LastTrigger),
	}
}

// Bounds of one request's unit arguments. Every glob is matched against
// every loaded unit on the reactor (expand), so patterns × units is the
// work a request asks of the loop: 5,000 patterns over 302 units held an
// unprivileged user's request there for 3-4 s. systemctl passes what its
// user typed, a few patterns.
const (
	maxPatterns   = 64   // glob patterns in one request
	maxUnitArgLen = 256  // bytes of one unit name or pattern (systemd's UNIT_NAME_MAX)
	maxUnitArgs   = 4096 // unit names and patterns in one request
)

// checkUnitArgs refuses, with a clear error and before any work, unit
// arguments beyond the bounds above or a pattern that is not a valid
// glob (which would otherwise match nothing, silently).
func checkUnitArgs(k *call, args []string) bool {
	if len(args) > maxUnitArgs {
		k.fail(errorf(CodeInvalidParams, "invalid params: %d units in one request; at most %d", len(args), maxUnitArgs))
		return false
	}
	globs := 0
	for _, a := range args {
		if len(a) > maxUnitArgLen {
			k.fail(errorf(CodeInvalidParams, "invalid params: unit name or pattern of %d bytes; at most %d", len(a), maxUnitArgLen))
			return false
		}
		if !IsGlob(a) {
			continue
		}
		if globs++; globs > maxPatterns {
			k.fail(errorf(CodeInvalidParams, "invalid params: more than %d patterns in one request", maxPatterns))
			return false
		}
		if _, err := path.Match(a, ""); err != nil {
			k.fail(errorf(CodeInvalidParams, "invalid params: bad pattern %q: %v", a, err))
			return false
		}
	}
	return true
}

func matchAny(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok || p == name {
			return true
		}
	}
	return false
}

func runList(k *call) {
	var p ListParams
	if !k.decode(&p) || !checkUnitArgs(k, p.Patterns) {
		return
	}
	// The loop only copies the units' states; matching them against the
	// patterns happens here, on the connection's goroutine.
	var all []manager.UnitStatus
	var now time.Duration
	k.reactor(func() {
		all = k.be().List()
		now = k.c.srv.opts.now()
	})
	if k.answered.Load() {
		return
	}
	out := []UnitInfo{}
	for _, st := range all {
		if matchAny(p.Patterns, st.Name) {
			out = append(out, k.info(st, now))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	k.result(out)
}

// expand turns unit arguments into names: globs match loaded units, plain
// names get their suffix. Runs on the reactor.
func expand(b Backend, args []string) []string {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	var all []manager.UnitStatus
	for _, a := range args {
		if !IsGlob(a) {
			add(NormalizeName(a))
			continue
		}
		if all == nil {
			all = b.List()
			sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
		}
		for _, st := range all {
			if ok, _ := path.Match(a, st.Name); ok {
				add(st.Name)
			}
		}
	}
	return names
}

func needUnits(k *call, units []string) bool {
	if len(units) == 0 {
		k.fail(errorf(CodeInvalidParams, "invalid params: no units given"))
		return false
	}
	return checkUnitArgs(k, units)
}

func runStatus(k *call) {
	var p StatusParams
	if !k.decode(&p) || !needUnits(k, p.Units) {
		return
	}
	root := k.c.uid == 0
	withLogs := root && p.Lines > 0
	withProcs := false
	var detached []UnitDetail
	var derr error
	var store *logstore.Store
	k.reactor(func() {
		b := k.be()
		store, _ = b.LogStore()
		now := k.c.srv.opts.now()
		out := []UnitDetail{}
		for _, name := range expand(b, p.Units) {
			st, ok := b.Status(name)
			if !ok {
				out = append(out, UnitDetail{Info: UnitInfo{Name: name, LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}})
				continue
			}
			d := UnitDetail{Found: true, Info: k.info(st, now), Unit: b.Unit(name)}
			if cg, ok := b.Cgroup(name); ok && (len(cg.Pids) > 0 || st.Active != "inactive" && st.Active != "failed") {
				d.Cgroup = &cg
			}
			withProcs = withProcs || d.Cgroup != nil || st.MainPID > 0 || st.ControlPID > 0
			out = append(out, d)
		}
		if withProcs || withLogs {
			// Process names and logs are read off the reactor, on a
			// copy: a root `status '*'` walks the whole log store.
			detached, derr = detachDetails(out)
			return
		}
		// Marshalled here, on the reactor, because Unit points into
		// manager state that a later daemon-reload may change.
		k.result(out)
	})
	if k.answered.Load() || !withProcs && !withLogs {
		return
	}
	if derr != nil {
		k.fail(errorf(CodeInternalError, "%v", derr))
		return
	}
	if withProcs {
		fillProcesses(detached, root)
	}
	if withLogs && store != nil {
		fillLogs(detached, store, p.Lines)
	}
	k.result(detached)
}

// fillLogs gives each found unit its last n log lines as journalctl
// prints them, from one pass over the store.
func fillLogs(out []UnitDetail, store *logstore.Store, n int) {
	var names []string
	for _, d := range out {
		if d.Found {
			names = append(names, d.Info.Name)
		}
	}
	tails := store.Tails(names, n)
	for i := range out {
		for _, e := range tails[out[i].Info.Name] {
			out[i].Logs = append(out[i].Logs, logstore.Format(e, "short", false))
		}
	}
}

func runCat(k *call) {
	var p UnitsParams
	if !k.decode(&p) || !needUnits(k, p.Units) {
		return
	}
	var out []UnitFiles
	var missing []string
	k.reactor(func() {
		b := k.be()
		for _, name := range expand(b, p.Units) {
			u := b.Unit(name)
			if u == nil || u.FragmentPath == "" {
				missing = append(missing, name)
				continue
			}
			f := UnitFiles{Unit: name}
			for _, pth := range append([]string{u.FragmentPath}, u.DropIns...) {
				f.Files = append(f.Files, FileText{Path: pth})
			}
			out = append(out, f)
		}
	})
	if k.answered.Load() {
		return
	}
	if len(missing) > 0 {
		k.failData(CodeNoSuchUnit, "no such unit: "+missing[0], missing)
		return
	}
	// Only root's request is answered with the files' text, read here
	// (disk I/O has no place on the reactor). Anyone else gets the paths
	// and reads the files with their own rights, as systemctl does: the
	// kernel then decides (modes, groups, ACLs, LSMs) and a 0600 unit file
	// stays root's. gosd re-checking permissions for the caller would be a
	// second, weaker implementation of the kernel's rules.
	root := k.c.uid == 0
	for i := range out {
		for j := range out[i].Files {
			f := &out[i].Files[j]
			if !root {
				f.ClientReads = true
				continue
			}
			text, err := readLimited(f.Path, maxCatFile)
			if err != nil {
				f.Error = err.Error()
			}
			f.Text = text
		}
	}
	k.result(out)
}

// maxTreeNodes bounds a dependency tree answer (the tree of a dense graph
// grows exponentially with depth).
const maxTreeNodes = 10000

func runDependencies(k *call) {
	var p DependenciesParams
	if !k.decode(&p) {
		return
	}
	if p.Unit == "" {
		p.Unit = "default.target"
	}
	root := NormalizeName(p.Unit)
	k.reactor(func() {
		b := k.be()
		edges := forwardEdges(b)
		if p.Reverse {
			edges = reverseEdges(b)
		}
		nodes := 0
		var walk func(name string, onPath map[string]bool) DependencyNode
		walk = func(name string, onPath map[string]bool) DependencyNode {
			nodes++
			n := DependencyNode{Unit: name, ActiveState: "inactive"}
			if st, ok := b.Status(name); ok {
				n.ActiveState = st.Active
			}
			if onPath[name] {
				n.Cycle = true
				return n
			}
			onPath[name] = true
			for _, d := range edges(name) {
				if nodes >= maxTreeNodes {
					break
				}
				n.Children = append(n.Children, walk(d, onPath))
			}
			delete(onPath, name)
			return n
		}
		k.result(walk(root, map[string]bool{}))
	})
}

// forwardEdges lists what a unit pulls in, as systemctl list-dependencies
// shows it: Requires, Requisite, Wants, BindsTo, Upholds.
func forwardEdges(b Backend) func(string) []string {
	return func(name string) []string {
		u := b.Unit(name)
		if u == nil {
			return nil
		}
		s := u.Unit
		return sortedUnique(s.Requires, s.Requisite, s.Wants, s.BindsTo, s.Upholds)
	}
}

func reverseEdges(b Backend) func(string) []string {
	rev := map[string][]string{}
	fwd := forwardEdges(b)
	for _, st := range b.List() {
		for _, d := range fwd(st.Name) {
			rev[d] = append(rev[d], st.Name)
		}
	}
	return func(name string) []string { return sortedUnique(rev[name]) }
}

func sortedUnique(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, n := range l {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

var jobKinds = map[manager.JobKind]bool{
	manager.JobStart: true, manager.JobStop: true, manager.JobRestart: true,
	manager.JobTryRestart: true, manager.JobReload: true, manager.JobReloadOrRestart: true,
	manager.JobVerifyActive: true,
}

var jobModes = map[manager.JobMode]bool{
	manager.ModeReplace: true, manager.ModeFail: true, manager.ModeIsolate: true,
	manager.ModeIgnoreDependencies: true, manager.ModeIgnoreRequirements: true,
}

// unknownUnits returns the names the manager cannot load. On the reactor.
func unknownUnits(b Backend, names []string) []string {
	var missing []string
	for _, n := range names {
		if _, ok := b.Status(n); !ok {
			missing = append(missing, n)
		}
	}
	return missing
}

func runJob(k *call) {
	var p JobParams
	if !k.decode(&p) || !needUnits(k, p.Units) {
		return
	}
	if p.Mode == "" {
		p.Mode = manager.ModeReplace
	}
	if !jobKinds[p.Kind] || !jobModes[p.Mode] {
		k.fail(errorf(CodeInvalidParams, "invalid params: unknown job kind %q or mode %q", p.Kind, p.Mode))
		return
	}
	k.reactor(func() {
		b := k.be()
		names := expand(b, p.Units)
		if missing := unknownUnits(b, names); len(missing) > 0 {
			k.failData(CodeNoSuchUnit, "no such unit: "+missing[0], missing)
			return
		}
		out := make([]JobOutcome, len(names))
		if p.NoBlock {
			for i, n := range names {
				out[i] = JobOutcome{Unit: n, Result: "queued"}
				b.Enqueue(n, p.Kind, p.Mode, nil)
			}
			k.result(out)
			return
		}
		pending := len(names)
		failed := false
		for i, n := range names {
			out[i].Unit = n
			b.Enqueue(n, p.Kind, p.Mode, func(r manager.JobResult) {
				// The reactor calls this once per job, on its goroutine.
				out[i].Result = string(r)
				failed = failed || r != manager.ResultDone
				if pending--; pending > 0 {
					return
				}
				if failed {
					k.failData(CodeJobFailed, "job failed", out)
				} else {
					k.result(out)
				}
			})
		}
	})
}

func runKill(k *call) {
	var p KillParams
	if !k.decode(&p) || !needUnits(k, p.Units) {
		return
	}
	if p.Whom == "" {
		p.Whom = "all"
	}
	if p.Signal == 0 {
		p.Signal = 15
	}
	if p.Whom != "all" && p.Whom != "main" && p.Whom != "control" || p.Signal < 1 || p.Signal > 128 {
		k.fail(errorf(CodeInvalidParams, "invalid params: whom must be main, control or all and signal 1..128"))
		return
	}
	k.reactor(func() {
		b := k.be()
		names := expand(b, p.Units)
		if missing := unknownUnits(b, names); len(missing) > 0 {
			k.failData(CodeNoSuchUnit, "no such unit: "+missing[0], missing)
			return
		}
		for _, n := range names {
			if err := b.Kill(n, p.Whom, p.Signal); err != nil {
				k.fail(errorf(CodeFailed, "kill %s: %v", n, err))
				return
			}
		}
		k.result(nil)
	})
}

func runResetFailed(k *call) {
	var p UnitsParams
	if !k.decode(&p) || !checkUnitArgs(k, p.Units) {
		return
	}
	k.reactor(func() {
		b := k.be()
		if len(p.Units) == 0 {
			b.ResetFailed("")
		}
		for _, n := range expand(b, p.Units) {
			b.ResetFailed(n)
		}
		k.result(nil)
	})
}

func runReload(k *call) {
	k.reactor(func() {
		if err := k.be().Reload(); err != nil {
			k.fail(errorf(CodeFailed, "daemon-reload: %v", err))
			return
		}
		k.result(nil)
	})
}

// Reexecer is implemented by a Backend that can replace gosd with a new
// binary keeping every unit (daemon-reexec).
type Reexecer interface {
	// Reexec refuses with an error (nothing changed) or answers nil and
	// re-executes shortly after, once the answer is out.
	Reexec() error
}

func runReexec(k *call) {
	k.reactor(func() {
		rx, ok := k.be().(Reexecer)
		if !ok {
			k.fail(errorf(CodeFailed, "daemon-reexec: not supported by this manager"))
			return
		}
		if err := rx.Reexec(); err != nil {
			k.fail(errorf(CodeFailed, "daemon-reexec: %v", err))
			return
		}
		k.result(nil)
	})
}

func runPower(k *call) {
	var p PowerParams
	if !k.decode(&p) {
		return
	}
	switch p.Action {
	case "poweroff", "reboot", "halt", "exit":
	default:
		k.fail(errorf(CodeInvalidParams, "invalid params: action must be poweroff, reboot, halt or exit"))
		return
	}
	if p.ExitCode != nil && (p.Action != "exit" || *p.ExitCode < 0 || *p.ExitCode > 255) {
		k.fail(errorf(CodeInvalidParams, "invalid params: exit_code goes with exit and is 0-255"))
		return
	}
	k.reactor(func() {
		if p.ExitCode != nil {
			ec, ok := k.be().(ExitCoder)
			if !ok {
				k.fail(errorf(CodeFailed, "this manager cannot set its exit code"))
				return
			}
			ec.SetExitCode(*p.ExitCode)
		}
		k.be().PowerOff(p.Action)
		k.result(nil)
	})
}

// Logs sends the entries asked for as LogEntries notifications, in
// batches paced by the client's reading, then the result, then (Follow)
// every new entry. The persistent log is read on the handler's goroutine,
// never on the reactor; the reactor only takes the snapshot of memory and
// registers the follow, in one step, so no entry is missed or doubled.
func runLogs(k *call) {
	var p LogsParams
	if !k.decode(&p) {
		return
	}
	f, err := p.filter()
	if err != nil {
		k.fail(errorf(CodeInvalidParams, "invalid params: %v", err))
		return
	}
	store, dir := k.be().LogStore()
	if store == nil {
		k.fail(errorf(CodeFailed, "gosd keeps no log"))
		return
	}
	if p.ThisBoot || p.Kernel {
		f.BootID = store.BootID()
	}
	c := k.c
	st := &logStream{c: c}
	var snap logstore.Snapshot
	k.reactor(func() {
		var follow func(logstore.Entry)
		if p.Follow {
			follow = st.add
		}
		var cancel func()
		snap, cancel = store.QueryFollow(f, p.Lines, follow)
		if c.gone {
			cancel()
		} else if p.Follow {
			c.follows = append(c.follows, cancel)
		}
	})
	if k.answered.Load() {
		return
	}
	var disk []logstore.Entry
	if dir != "" {
		disk, _ = logstore.ReadDir(dir, f, logstore.NotInMemory(snap), p.Lines)
	}
	all := logstore.Merge(disk, snap, p.Lines)
	const batch = 256
	for i := 0; i < len(all); i += batch {
		c.waitDrained()
		c.notify(NotifyLogEntries, LogEntries{Entries: all[i:min(i+batch, len(all))]})
	}
	k.result(LogsResult{Count: len(all)})
	st.goLive()
}

// maxFollowBacklog bounds the entries a follow holds while the history is
// still being sent.
const maxFollowBacklog = 10000

// logStream holds a follow's entries until the history is out, so they
// reach the client after it, in order.
type logStream struct {
	c       *session
	mu      sync.Mutex
	live    bool
	backlog []logstore.Entry
	lost    int
}

// add is the follow's callback (on the reactor goroutine).
func (s *logStream) add(e logstore.Entry) {
	s.mu.Lock()
	if !s.live {
		if len(s.backlog) < maxFollowBacklog {
			s.backlog = append(s.backlog, e)
		} else {
			s.lost++
		}
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.c.notify(NotifyLogEntries, LogEntries{Entries: []logstore.Entry{e}})
}

func (s *logStream) goLive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost > 0 {
		s.c.notify(NotifyLogEntries, LogEntries{Entries: []logstore.Entry{{
			Realtime: time.Now().UnixMicro(), Priority: 4, Ident: "gosd", Transport: logstore.TransportDriver,
			Message: fmt.Sprintf("%d entries were not followed while the history was sent", s.lost)}}})
	}
	if len(s.backlog) > 0 {
		s.c.notify(NotifyLogEntries, LogEntries{Entries: s.backlog})
	}
	s.backlog, s.live = nil, true
}

func runUnitPaths(k *call) {
	k.reactor(func() {
		paths := k.be().UnitPaths()
		if paths == nil {
			paths = []string{}
		}
		k.result(paths)
	})
}

func wallUsec(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func runSystem(k *call) {
	k.reactor(func() {
		b := k.be()
		var si SystemInfo
		si.State, si.NJobs, si.NFailed = systemState(b)
		si.NNames = len(b.List())
		si.Environment = []string{}
		if e, ok := b.(Environmenter); ok {
			si.Environment = append(si.Environment, e.Environment()...)
		}
		bt := b.Boot()
		si.Target = bt.Target
		si.SinceUsec = time.Now().Add(bt.Start - k.c.srv.opts.now()).UnixMicro()
		k.result(si)
	})
}

func runSetEnvironment(k *call) {
	var p EnvironmentParams
	if !k.decode(&p) {
		return
	}
	if err := checkEnvironment(p); err != nil {
		k.fail(errorf(CodeInvalidParams, "invalid params: %v", err))
		return
	}
	k.reactor(func() {
		e, ok := k.be().(Environmenter)
		if !ok {
			k.fail(errorf(CodeFailed, "set-environment: not supported by this manager"))
			return
		}
		if _, err := ApplyEnvironment(e.Environment(), p); err != nil {
			k.fail(errorf(CodeFailed, "set-environment: %v", err))
			return
		}
		e.SetEnvironment(p.Set, p.Unset)
		k.result(nil)
	})
}

func runProperties(k *call) {
	var p PropertiesParams
	if !k.decode(&p) {
		return
	}
	if !p.Manager && !needUnits(k, p.Units) {
		return
	}
	type pending struct {
		set   PropertySet
		vals  map[string]any
		order []prop
		in    fileInputs
	}
	var out []pending
	var paths []string
	k.reactor(func() {
		b := k.be()
		clk := measureClock(k.c.srv.opts.now)
		paths = b.UnitPaths()
		if p.Manager {
			out = append(out, pending{set: PropertySet{Found: true}, vals: managerValues(b, clk), order: managerProps})
			return
		}
		rev := reverseDeps(b)
		for _, name := range expand(b, p.Units) {
			vals, _, found := unitPropValues(b, clk, name, rev)
			_, tprops := unitTypeProps(name)
			out = append(out, pending{set: PropertySet{Unit: name, Found: found}, vals: vals,
				order: concat(tprops, unitProps), in: fileInputsOf(b, name, found)})
		}
	})
	if k.answered.Load() {
		return
	}
	// Unit files are read here, off the reactor.
	set := NewUnitFileSet("", paths)
	res := make([]PropertySet, 0, len(out))
	for _, o := range out {
		if !p.Manager {
			fileProps(o.vals, set, o.in)
		}
		seen := map[string]bool{}
		for _, pr := range o.order {
			if seen[pr.name] {
				continue
			}
			seen[pr.name] = true
			raw, err := json.Marshal(o.vals[pr.name])
			if err != nil {
				k.fail(errorf(CodeInternalError, "%v", err))
				return
			}
			o.set.Props = append(o.set.Props, Property{Name: pr.name, Sig: pr.sig, Value: raw})
		}
		res = append(res, o.set)
	}
	k.result(res)
}
