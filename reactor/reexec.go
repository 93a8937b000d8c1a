package reactor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gosd/exec"
	"gosd/logstore"
	"gosd/manager"
	"gosd/sockets"
	"gosd/unitfile"
)

// ReexecEnv carries the number of the inherited fd holding the hand-over
// state to a re-executed gosd (daemon-reexec). The new gosd removes it
// from its environment before anything is spawned.
const ReexecEnv = "GOSD_REEXEC_FD"

// Saver is the manager as daemon-reexec needs it (*manager.Manager).
type Saver interface {
	Save() (manager.Saved, error)
	Restore(now time.Duration, s manager.Saved) ([]manager.Effect, int)
}

// handover is everything the reactor and the manager hand to the new
// binary. Every fd named here stays open across the execve (FD_CLOEXEC is
// cleared on exactly these, right before it) and is close-on-exec again
// once the new gosd took it over.
type handover struct {
	Version int
	// Zero is the reactor clock's zero on CLOCK_MONOTONIC (ns): every time
	// the manager holds stays valid.
	Zero    int64
	Manager manager.Saved
	Procs   []hoProc
	Groups  map[string][]int
	Pipes   []hoPipe
	Sets    map[string]sockets.SavedSet
	// Accepts names the Sets of Accept=yes socket units. nil: a handover
	// from a gosd that did not record it (its definitions tell then).
	Accepts map[string]bool
	Watched []string
	// LogLimits are the units' log settings for their log datagrams.
	// nil: a handover from a gosd that did not record them.
	LogLimits map[string]logLimits
	Notify    *hoNotify
	ConnNr    uint64
	Log       []logstore.Entry // the log store's entries, oldest first
	// LogPersisted: the entries up to this sequence number are on disk.
	LogPersisted uint64
	// KmsgNext is the sequence number of the next kernel record to read.
	KmsgNext uint64 `json:",omitempty"`
	// LogSockets are the log sockets gosd serves in journald's place.
	LogSockets []hoLogSocket
	Extra      json.RawMessage
	// GlobalEnv is the manager's environment block (set-environment).
	GlobalEnv []string `json:",omitempty"`
	// Sandbox: the units' PrivateTmp= directories and shared namespaces.
	Sandbox exec.SavedSandbox `json:",omitempty"`
	// Automounts are the automount units' autofs points: the read end of
	// each request pipe (the kernel holds the write end; requests it wrote
	// while gosd re-executed wait in it) and what names the mount to the
	// /dev/autofs ioctls.
	Automounts []hoAutomount `json:",omitempty"`
}

type hoAutomount struct {
	Unit, Where string
	Pipe        int
	Dev         uint64
}

type hoLogSocket struct {
	Kind, Path, Holder string
	FD                 int // -1: released to Holder
}

type hoProc struct {
	Pid  int
	Unit string
}

type hoPipe struct {
	Unit    string
	Pid, FD int
	Partial []byte
	Route   logRoute
}

type hoNotify struct {
	FD   int
	Path string
}

const handoverVersion = 1

func monoNow() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// Reexec checks that gosd can re-execute now (systemctl daemon-reexec):
// the manager's state can be handed over and the binary at
// os.Executable()'s path is there. It then re-executes shortly after, so
// that the answer to the caller goes out first; a failure at that point
// leaves this gosd running and is logged. Reactor goroutine only.
func (r *Reactor) Reexec() error {
	if _, _, err := r.prepareReexec(); err != nil {
		return err
	}
	// From now on the kernel's automount requests wait in their pipes for
	// the new gosd: read here, one would start a mount job, and a job
	// running refuses the re-exec.
	r.freezeAutomounts()
	time.AfterFunc(100*time.Millisecond, func() {
		r.Submit(func() {
			if err := r.reexecNow(); err != nil {
				r.thawAutomounts()
				r.logf("", "daemon-reexec failed, still running the old gosd: %v", err)
			}
		})
	})
	return nil
}

func (r *Reactor) prepareReexec() (string, manager.Saved, error) {
	if r.shuttingDown {
		return "", manager.Saved{}, errors.New("shutting down")
	}
	sv, ok := r.cfg.Manager.(Saver)
	if !ok {
		return "", manager.Saved{}, errors.New("the manager cannot hand its state over")
	}
	saved, err := sv.Save()
	if err != nil {
		return "", manager.Saved{}, fmt.Errorf("refusing to re-execute: %w", err)
	}
	path, err := os.Executable()
	if err != nil {
		return "", manager.Saved{}, fmt.Errorf("finding gosd's binary: %w", err)
	}
	if err := unix.Access(path, unix.X_OK); err != nil {
		return "", manager.Saved{}, fmt.Errorf("binary %s: %w", path, err)
	}
	return path, saved, nil
}

// reexecNow hands the state over and execve's the binary; it only returns
// on failure, with everything as it was.
func (r *Reactor) reexecNow() error {
	// The manager's state must not wait for a Spawned the new gosd
	// would never get.
	r.submitRemovals()
	r.finishSpawns()
	r.dispatch()
	r.signalGroups()
	r.submitRemovals()
	r.finishSpawns() // an rmdir racing the execve could leave its group behind
	path, saved, err := r.prepareReexec()
	if err != nil {
		return err
	}
	h := handover{Version: handoverVersion, Zero: int64(monoNow() - r.Now()), Manager: saved,
		Groups: map[string][]int{}, Sets: map[string]sockets.SavedSet{}, Accepts: map[string]bool{}, LogLimits: r.logLimits, ConnNr: r.connNr, GlobalEnv: r.globalEnv}
	var keep []int
	for pid, p := range r.procs {
		h.Procs = append(h.Procs, hoProc{Pid: pid, Unit: p.unit})
	}
	for unit, gs := range r.groups {
		for g := range gs {
			h.Groups[unit] = append(h.Groups[unit], g)
		}
	}
	for fd, src := range r.sources {
		if p, ok := src.(*outputPipe); ok {
			h.Pipes = append(h.Pipes, hoPipe{Unit: p.unit, Pid: p.pid, FD: fd, Partial: p.partial, Route: p.route})
			keep = append(keep, fd)
		}
	}
	for unit, set := range r.sets {
		h.Sets[unit] = set.Save()
		if r.accepts[unit] {
			h.Accepts[unit] = true
		}
		keep = append(keep, set.FDs()...)
	}
	for unit := range r.watched {
		h.Watched = append(h.Watched, unit)
	}
	if r.notify != nil {
		h.Notify = &hoNotify{FD: r.notify.FD(), Path: r.notify.Path()}
		keep = append(keep, r.notify.FD())
	}
	for _, u := range saved.Units {
		keep = append(keep, u.Fds...)
	}
	h.Sandbox = exec.SaveSandbox()
	keep = append(keep, h.Sandbox.FDs()...)
	h.Automounts = r.saveAutomounts()
	for _, a := range h.Automounts {
		keep = append(keep, a.Pipe)
	}
	for _, ls := range r.logSocks {
		h.LogSockets = append(h.LogSockets, hoLogSocket{Kind: ls.kind, Path: ls.path, Holder: ls.holder, FD: ls.fd})
		if ls.fd >= 0 {
			keep = append(keep, ls.fd)
		}
	}
	// What is in memory goes over; the persistent log is written out
	// first (the new gosd's writer goes on after it).
	if r.persist != nil {
		r.persist.Close()
		r.persist = nil
		defer r.startPersist() // only reached when the execve failed
	}
	h.Log, h.LogPersisted, h.KmsgNext = r.store.All(), r.store.Persisted(), r.kmsgNext
	if r.cfg.HandoverExtra != nil {
		h.Extra = r.cfg.HandoverExtra()
	}
	data, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encoding the state: %w", err)
	}
	f, err := handoverFile()
	if err != nil {
		return fmt.Errorf("hand-over file: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("hand-over file: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("hand-over file: %w", err)
	}
	hfd := int(f.Fd())
	keep = append(keep, hfd)
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, ReexecEnv+"=") {
			env = append(env, e)
		}
	}
	env = append(env, ReexecEnv+"="+strconv.Itoa(hfd))
	r.logAt("", unitfile.Pos{}, manager.LevelNotice,
		fmt.Sprintf("Reexecuting %s (%d units, %d processes, %d fds handed over)", path, len(saved.Units), len(h.Procs), len(keep)))
	r.drainConsole()
	// Only the handed-over fds lose FD_CLOEXEC, right before execve; no
	// other goroutine spawns (the reactor is the only one that does).
	for _, fd := range keep {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			restoreCloexec(keep)
			return fmt.Errorf("keeping fd %d: %w", fd, err)
		}
	}
	err = syscall.Exec(path, os.Args, env)
	restoreCloexec(keep)
	return fmt.Errorf("execve %s: %w", path, err)
}

func restoreCloexec(fds []int) {
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
}

// handoverFD reads $GOSD_REEXEC_FD and removes it from the environment;
// -1 when gosd was not re-executed.
func handoverFD() int {
	v, ok := os.LookupEnv(ReexecEnv)
	if !ok {
		return -1
	}
	os.Unsetenv(ReexecEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 0 {
		return -1
	}
	return fd
}

// restore takes over the state of the gosd that re-executed into this
// one. Called by Run before the first reap; false when there is none (or
// it cannot be read: then this gosd boots as usual).
func (r *Reactor) restore(fd int) bool {
	f := os.NewFile(uintptr(fd), "gosd-reexec")
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		r.logf("", "daemon-reexec: reading the hand-over state: %v", err)
		return false
	}
	var h handover
	if err := json.Unmarshal(data, &h); err != nil || h.Version != handoverVersion {
		r.logf("", "daemon-reexec: bad hand-over state (version %d): %v", h.Version, err)
		return false
	}
	// The manager's clock goes on where it was.
	r.start = time.Now().Add(-(monoNow() - time.Duration(h.Zero)))
	r.connNr = h.ConnNr
	r.restoredExtra = h.Extra
	r.globalEnv = h.GlobalEnv
	exec.RestoreSandbox(h.Sandbox)
	r.handedPoints = map[string]hoAutomount{}
	for _, a := range h.Automounts {
		unix.CloseOnExec(a.Pipe)
		r.handedPoints[a.Unit] = a
	}
	if h.Notify != nil {
		unix.CloseOnExec(h.Notify.FD)
		if r.notify != nil {
			r.removeSource(r.notify.FD())
			r.notify.Close()
			r.notify = nil
		}
		n := sockets.NotifyFromFD(h.Notify.FD, h.Notify.Path)
		if err := r.addSource(n.FD(), notifySource{}); err != nil {
			r.logf("", "notify socket: %v", err)
		}
		r.notify = n
	}
	for unit, s := range h.Sets {
		restoreCloexec(s.FDs)
		r.sets[unit] = sockets.RestoreSet(s)
		if h.Accepts != nil {
			r.accepts[unit] = h.Accepts[unit]
		} else if u := r.unit(unit); u != nil && u.Socket != nil {
			r.accepts[unit] = u.Socket.Accept // handed over by an older gosd
		}
	}
	for _, unit := range h.Watched {
		r.watch(unit)
	}
	if h.LogLimits != nil {
		r.logLimits = h.LogLimits
	} else {
		// Handed over by an older gosd: the running units' definitions.
		for _, su := range h.Manager.Units {
			if su.Active != "inactive" && su.Active != "failed" {
				r.noteLogLimits(su.Name, r.definedExec(su.Name))
			}
		}
	}
	for _, p := range h.Pipes {
		unix.CloseOnExec(p.FD)
		if err := r.addSource(p.FD, &outputPipe{unit: p.Unit, pid: p.Pid, fd: p.FD, partial: p.Partial, route: p.Route}); err != nil {
			r.logf(p.Unit, "cannot watch output: %v", err)
			syscall.Close(p.FD)
		}
	}
	for _, p := range h.Procs {
		pr := &proc{unit: p.Unit, pidfd: openPidFD(p.Pid)}
		r.procs[p.Pid] = pr
		if registerPidFD(r.poll, pr.pidfd, p.Pid) {
			r.sources[pr.pidfd] = &procSource{pid: p.Pid}
		} else if pr.pidfd >= 0 {
			syscall.Close(pr.pidfd)
			pr.pidfd = -1
		}
	}
	for unit, gs := range h.Groups {
		r.groups[unit] = map[int]bool{}
		for _, g := range gs {
			r.groups[unit][g] = true
		}
	}
	r.store.Restore(h.Log, h.LogPersisted)
	r.kmsgNext = h.KmsgNext
	for _, s := range h.LogSockets {
		r.adoptLogSocket(s)
	}
	for _, u := range h.Manager.Units {
		restoreCloexec(u.Fds)
		if u.Active != "inactive" {
			r.lastActive[u.Name] = u.Active
		}
	}
	// The units' cgroups: same root (same pid, same place), re-opened with
	// their event watches when the manager's Restore hands over their
	// settings (ApplyResources). CgroupsAvailable was fed by setupCgroups.
	r.dispatch()
	if r.cg != nil {
		r.reopen = map[string]bool{}
		for _, u := range h.Manager.Units {
			if u.CgroupPath != "" && u.Active != "inactive" && u.Active != "failed" {
				r.reopen[u.Name] = true
			}
		}
	}
	sv, ok := r.cfg.Manager.(Saver)
	if !ok {
		r.logf("", "daemon-reexec: the manager cannot take the state over")
		r.reopen = nil
		r.dropHandedPoints()
		return false
	}
	var effects []manager.Effect
	n := 0
	r.guard("", "restoring the manager", func() { effects, n = sv.Restore(r.Now(), h.Manager) })
	for _, e := range effects {
		r.perform(e)
	}
	// The manager adopted the automount points it knows (AdoptAutomount);
	// one it does not would hold its processes forever.
	r.dropHandedPoints()
	// A cgroup the manager said nothing of: re-opened without settings.
	left := slices.Sorted(maps.Keys(r.reopen))
	r.reopen = nil
	for _, unit := range left {
		r.reopenCgroup(unit, nil)
	}
	r.notice("", fmt.Sprintf("Reexecuted: %d units restored", n))
	for _, u := range h.Manager.Units {
		if u.CgroupPath != "" && r.cg != nil {
			if c := r.cgUnits[u.Name]; c != nil {
				c.inactive = u.Active == "inactive" || u.Active == "failed"
			}
			r.checkEmpty(u.Name)
		}
	}
	return true
}

// RestoredExtra is Config.HandoverExtra's value from the gosd that
// re-executed into this one (nil otherwise). Valid once Run started.
func (r *Reactor) RestoredExtra() json.RawMessage { return r.restoredExtra }

// Restored says whether this gosd took over from a re-exec.
func (r *Reactor) Restored() bool { return r.restored }

// definedExec is a unit's process environment as its definition says, for
// a handover from a gosd that did not record the units' log settings.
func (r *Reactor) definedExec(name string) *unitfile.ExecContext {
	switch u := r.unit(name); {
	case u == nil:
		return nil
	case u.Service != nil:
		return &u.Service.Exec
	case u.Socket != nil:
		return &u.Socket.Exec
	}
	return nil
}

// reopenCgroup takes over the cgroup of a unit a daemon-reexec handed
// over (its settings as the manager's Restore gave them).
func (r *Reactor) reopenCgroup(unit string, rc *unitfile.ResourceControl) {
	delete(r.reopen, unit)
	if _, err := r.cgroupFor(unit, rc); err != nil {
		r.logf(unit, "daemon-reexec: re-opening the unit's cgroup: %v", err)
	}
}
