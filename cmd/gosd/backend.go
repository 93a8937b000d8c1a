package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gosd/boot"
	"gosd/cgroups"
	"gosd/control"
	"gosd/logstore"
	"gosd/manager"
	"gosd/reactor"
	"gosd/unitfile"
)

// backend serves the control API from the running manager: every method
// runs on the reactor goroutine (control.Backend's contract), so it reads
// and feeds the manager directly.
type backend struct {
	r     *reactor.Reactor
	m     *manager.Manager
	units func() *unitfile.Set
	// loadedAt is when the unit files were last read (NeedDaemonReload=).
	loadedAt func() time.Time
	paths    []string

	nextJob uint64
	waiting map[uint64]func(manager.JobResult)

	// target is the boot target: the unit of the reactor's boot request.
	target string
	finish time.Duration // when the target's start job finished

	restoredLoaded bool // loadRestored ran

	// bootDone is called once the boot target's job finished, whatever
	// its result: a jail's waiting parent then exits (detachForJail).
	bootDone func()
}

// processStart is when gosd started, on CLOCK_MONOTONIC: package
// variables are set before main runs.
var processStart = monotonic()

func monotonic() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// observe is the reactor's Observe hook: it answers waiting job requests.
func (b *backend) observe(e manager.Effect) {
	if js, ok := e.(manager.JobStarted); ok && js.ID == reactor.BootJobID {
		b.target = js.Unit
	}
	if jf, ok := e.(manager.JobFinished); ok && jf.ID == reactor.BootJobID && b.finish == 0 {
		b.finish = b.r.Now()
		if b.bootDone != nil {
			b.bootDone()
		}
	}
	if jf, ok := e.(manager.JobFinished); ok && jf.ID != 0 {
		if done := b.waiting[jf.ID]; done != nil {
			delete(b.waiting, jf.ID)
			done(jf.Result)
		}
	}
}

func (b *backend) Submit(fn func()) { b.r.Submit(fn) }

func (b *backend) List() []manager.UnitStatus {
	list := b.m.List()
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

func (b *backend) Status(name string) (manager.UnitStatus, bool) {
	if st, ok := b.m.Status(name); ok {
		return st, true
	}
	u := b.units().Get(name)
	if u.LoadState == unitfile.NotFound {
		return manager.UnitStatus{}, false
	}
	return manager.UnitStatus{Name: u.Name, Description: u.Unit.Description, LoadState: string(u.LoadState),
		Active: "inactive", Sub: "dead"}, true
}

// Unit is a unit's definition: from the unit files, or the one the
// manager made for a mount of the mount table.
func (b *backend) Unit(name string) *unitfile.Unit {
	if d := b.m.TableUnit(name); d != nil {
		return d
	}
	return b.units().Get(name)
}

// LoadedAt is when the unit files were last read (control.LoadTimer).
func (b *backend) LoadedAt() time.Time { return b.loadedAt() }

func (b *backend) LogStore() (*logstore.Store, string) { return b.r.Store(), b.r.LogDir() }

func (b *backend) Enqueue(unit string, kind manager.JobKind, mode manager.JobMode, done func(manager.JobResult)) {
	b.nextJob++
	id := b.nextJob
	if done != nil {
		b.waiting[id] = done
	}
	b.r.Feed(manager.Request{ID: id, Unit: unit, Kind: kind, Mode: mode, Manual: true})
}

func (b *backend) Kill(unit, whom string, signal int) error {
	st, ok := b.m.Status(unit)
	if !ok {
		return fmt.Errorf("unit %s is not loaded", unit)
	}
	sig := syscall.Signal(signal)
	switch whom {
	case "main":
		if st.MainPID <= 0 {
			return fmt.Errorf("no main process to kill")
		}
		b.r.Signal(unit, st.MainPID, false, sig)
	case "control":
		if st.ControlPID <= 0 {
			return fmt.Errorf("no control process to kill")
		}
		b.r.Signal(unit, st.ControlPID, false, sig)
	case "all", "":
		if st.MainPID <= 0 && st.ControlPID <= 0 && st.Active == "inactive" {
			return fmt.Errorf("no process to kill")
		}
		pid := st.MainPID
		if pid <= 0 {
			pid = st.ControlPID
		}
		b.r.Signal(unit, pid, true, sig)
	default:
		return fmt.Errorf("unknown --kill-whom %q (main, control, all)", whom)
	}
	return nil
}

func (b *backend) ResetFailed(unit string) {
	b.r.Feed(manager.ResetFailed{Unit: unit})
}

func (b *backend) Reload() error { return b.r.Reload() }

// Reexec is daemon-reexec (control.Reexecer).
func (b *backend) Reexec() error { return b.r.Reexec() }

// bootState is what analyze needs from before a daemon-reexec.
type bootState struct {
	Target       string
	Finish       time.Duration
	ProcessStart time.Duration
}

// Environment is the manager's environment block (control.Environmenter);
// the reactor keeps it, across daemon-reexec too.
func (b *backend) Environment() []string { return b.r.GlobalEnvironment() }

// SetEnvironment changes the block; the reactor gives it to every process
// spawned afterwards.
func (b *backend) SetEnvironment(set, unset []string) {
	env, err := control.ApplyEnvironment(b.r.GlobalEnvironment(), control.EnvironmentParams{Set: set, Unset: unset})
	if err != nil {
		return // the server checked the bounds before
	}
	b.r.SetGlobalEnvironment(env)
}

// handoverExtra is the reactor's Config.HandoverExtra.
func (b *backend) handoverExtra() json.RawMessage {
	b.loadRestored()
	data, _ := json.Marshal(bootState{Target: b.target, Finish: b.finish, ProcessStart: processStart})
	return data
}

// loadRestored takes the boot figures over from the gosd that re-executed
// into this one, once.
func (b *backend) loadRestored() {
	if b.restoredLoaded {
		return
	}
	b.restoredLoaded = true
	var st bootState
	if extra := b.r.RestoredExtra(); extra != nil && json.Unmarshal(extra, &st) == nil {
		b.target, b.finish, processStart = st.Target, st.Finish, st.ProcessStart
	}
}

func (b *backend) PowerOff(action string) { b.r.Feed(manager.Shutdown{Action: action}) }

// SetExitCode is control.ExitCoder: `systemctl exit N`.
func (b *backend) SetExitCode(code int) { b.r.Feed(manager.SetExitCode{Code: code}) }

func (b *backend) UnitPaths() []string { return b.paths }

func (b *backend) Boot() control.BootTimes {
	b.loadRestored()
	// The reactor's clock counts from its own start; CLOCK_MONOTONIC minus
	// it is where that clock's zero lies on the kernel's clock.
	zero := monotonic() - b.r.Now()
	return control.BootTimes{
		Target:         b.target,
		Start:          processStart - zero,
		Finish:         b.finish,
		StartMonotonic: processStart,
		Kernel:         os.Getpid() == 1 && !boot.InContainer(),
	}
}

func (b *backend) Cgroup(name string) (control.CgroupStats, bool) {
	ci, ok := b.r.CgroupInfo(name)
	if !ok {
		return control.CgroupStats{}, false
	}
	cs := control.CgroupStats{
		Path: ci.Path, Pids: ci.Pids, TasksCurrent: ci.TasksCurrent,
		MemoryCurrent: ci.MemoryCurrent, HaveMemory: ci.HaveMemory,
		CPUUsageNSec: ci.CPUUsageNSec, HaveCPU: ci.HaveCPU,
	}
	if ci.Tree != nil {
		// A slice: its own processes (none, normally) and its members.
		cs.Pids = ci.Tree.Pids
		cs.Children = cgroupNodes(ci.Tree.Children)
	}
	return cs, true
}

func cgroupNodes(in []cgroups.Node) []control.CgroupNode {
	out := []control.CgroupNode{}
	for _, n := range in {
		out = append(out, control.CgroupNode{Name: n.Name, Pids: n.Pids, Children: cgroupNodes(n.Children)})
	}
	return out
}
