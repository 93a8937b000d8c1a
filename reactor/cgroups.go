package reactor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gosd/cgroups"
	"gosd/exec"
	"gosd/manager"
	"gosd/unitfile"
)

// CgroupRootEnv is read when Config.CgroupRoot is empty, so the mode can be
// chosen without a flag (tests, operators): same values as CgroupRoot.
const CgroupRootEnv = "GOSD_CGROUP_ROOT"

// unitCgroup is the reactor's handle on one unit's cgroup.
type unitCgroup struct {
	unit     string
	g        *cgroups.Group
	rel      string // hierarchy path, as /proc/PID/cgroup shows it
	dirFD    int    // O_PATH fd for CLONE_INTO_CGROUP
	eventsFD int    // cgroup.events, EPOLLPRI
	memFD    int    // memory.events, EPOLLPRI, or -1
	oomKills uint64
	inactive bool // the unit's last state was inactive or failed
	// killed: cgroup.kill was written. Measured on this kernel (6.18): a
	// process later cloned into that cgroup with CLONE_INTO_CGROUP gets a
	// SIGKILL at birth (its kill sequence is compared with the parent's
	// cgroup's), so an emptied killed group is replaced before the next
	// spawn.
	killed  bool
	applied string
	// access: the device and address settings whose programs are
	// attached (accessKey), so a daemon-reload replaces them only when
	// they changed.
	access string
	// rc: the settings the cgroup was made with, or a daemon-reload's
	// (ApplyResources), written again when the startup phase changes.
	rc *unitfile.ResourceControl
	// removal: an rmdir is queued on the spawner (removeCgroup); nil:
	// none.
	removal *cgroupRemoval
	// emptyTurn: the loop turn (Reactor.turn) in which the group was
	// last read empty; 0: not known to be empty.
	emptyTurn uint64
}

// cgroupRemoval is the rmdir of a unit cgroup on the spawner, which the
// loop may call off while it has not run: the group is then kept.
type cgroupRemoval struct {
	mu        sync.Mutex
	cancelled bool  // the loop took the group back
	done      bool  // the spawner ran the rmdir
	err       error // its result
	// The group's fds, the removal's from removeCgroup on: the spawner
	// closes them before the rmdir. A directory removed while its fds
	// are open leaves the kernel's dentries of it and of its files to
	// be freed with its parent: gosd's last rmdir, of system.slice at
	// its exit, took 4-7 ms after 1000 services, on the loop; closed
	// first, they go with each unit's rmdir, off the loop.
	dirFD, eventsFD, memFD int
}

type cgroupSource struct{ unit string }
type memEventsSource struct{ unit string }

// setupCgroups picks the mode at start and logs it in one line.
func (r *Reactor) setupCgroups() {
	mode := r.cfg.CgroupRoot
	if mode == "" {
		mode = os.Getenv(CgroupRootEnv)
	}
	const lost = "processes that leave their process group (setsid, double fork) escape a stop, " +
		"resource settings (Memory*=, TasksMax=, CPU*=, IO*=) and OOM detection are not available"
	if mode == "-" {
		r.notice("", "cgroups: disabled by configuration; running on process groups: "+lost)
		return
	}
	var h *cgroups.Hierarchy
	var err error
	if mode == "" {
		// Read once for the three steps below (Detect moves gosd only
		// where no private subtree follows).
		var own cgroups.Own
		own, err = cgroups.FindOwn()
		if err == nil {
			h, err = own.Detect()
		}
		if err == nil && r.sharedRoot(h) {
			// gosd is in the machine's root cgroup without being its init
			// (a plain process, or PID1 of a PID namespace without a cgroup
			// namespace): take a private subtree rather than the host's
			// system.slice.
			mode = privateRootName()
			if !r.handedOver {
				r.removeStaleTrees(own.Dir(), mode)
			}
			h, err = own.DetectAt(mode)
			r.cgPrivate = err == nil
		}
	} else {
		h, err = cgroups.DetectAt(mode)
		r.cgPrivate = err == nil
	}
	if err != nil {
		r.notice("", fmt.Sprintf("cgroups: not available (%v); running on process groups: %s", err, lost))
		return
	}
	r.cg = h
	ctrls := h.Controllers()
	// Without the memory controller for units no unit cgroup has
	// memory.events: not tried (and failed) for each of a boot's first
	// batch of units, which are all made before the first failure is
	// seen (12 us each, measured at 1000 units).
	r.cgNoMemory = !slices.Contains(ctrls, "memory")
	ctrl := strings.Join(ctrls, " ")
	if ctrl == "" {
		ctrl = "none (resource settings will not be applied)"
	}
	r.notice("", fmt.Sprintf("cgroups: using cgroup v2, units in %s/<slice>/<unit>; controllers for units: %s", h.Root(), ctrl))
	r.Feed(manager.CgroupsAvailable{})
}

// sharedRoot: Detect chose the hierarchy's root although gosd is not the
// machine's init (PID 1 of the initial PID namespace has kthreadd as pid 2).
func (r *Reactor) sharedRoot(h *cgroups.Hierarchy) bool {
	if h.Rel(h.Root()) != "/" {
		return false
	}
	if os.Getpid() == 1 {
		b, err := os.ReadFile("/proc/2/comm")
		if err == nil && strings.TrimSpace(string(b)) == "kthreadd" {
			return false
		}
	}
	return true
}

func privateRootName() string {
	return fmt.Sprintf("gosd-%s-%d", ownPidNS(), os.Getpid())
}

// ownPidNS is the inode number of gosd's PID namespace, as text.
func ownPidNS() string {
	ns, _ := os.Readlink("/proc/self/ns/pid") // "pid:[4026531836]"
	return strings.Trim(strings.TrimPrefix(ns, "pid:"), "[]")
}

// initialPidNS is the inode of the initial PID namespace (the kernel's
// fixed PROC_PID_INIT_INO): from there every process is visible.
const initialPidNS = "4026531836"

// parsePrivateRoot splits "gosd-<ns>-<pid>".
func parsePrivateRoot(name string) (ns string, pid int, ok bool) {
	rest, ok := strings.CutPrefix(name, "gosd-")
	if !ok {
		return "", 0, false
	}
	ns, p, ok := strings.Cut(rest, "-")
	if !ok || ns == "" || strings.Trim(ns, "0123456789") != "" {
		return "", 0, false
	}
	pid, err := strconv.Atoi(p)
	return ns, pid, err == nil && pid > 0
}

// removeStaleTrees removes the private trees (gosd-<ns>-<pid>) in gosd's
// own cgroup whose gosd cannot be running any more, before gosd makes its
// own: a gosd that died uncleanly (SIGKILL, OOM) leaves its tree, with
// whatever of its services survived, and a later gosd with the same name
// (the same pid in the same namespace: PID1 of a namespace whose inode
// number was reused) would adopt its unit cgroups, processes included.
// Stale, for sure, is a tree that carries gosd's own name (no other live
// process has this pid in this namespace), one of gosd's namespace whose
// pid is not running, and, when gosd sees every process (the initial PID
// namespace), one of a namespace no process is in any more. Trees that
// may be alive are left alone.
func (r *Reactor) removeStaleTrees(parent, own string) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	myNS := ownPidNS()
	var liveNS map[string]bool // filled on first need; nil: cannot tell
	scanned := false
	for _, e := range ents {
		ns, pid, ok := parsePrivateRoot(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		stale := false
		switch {
		case e.Name() == own:
			stale = true
		case ns == myNS:
			stale = syscall.Kill(pid, 0) == syscall.ESRCH
		case myNS == initialPidNS:
			if !scanned {
				liveNS, scanned = livePidNamespaces(), true
			}
			stale = liveNS != nil && !liveNS[ns]
		}
		if !stale {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		killed, err := cgroups.RemoveTree(dir, 2*time.Second)
		if err != nil {
			r.warn("", fmt.Sprintf("cgroups: removing %s, left by a gosd that is gone: %v", dir, err))
			continue
		}
		r.notice("", fmt.Sprintf("cgroups: removed %s, left by a gosd that is gone (%d processes killed)", dir, killed))
	}
}

// livePidNamespaces lists the PID namespaces any process is in, from
// /proc; nil when some process's namespace cannot be read (not root), as
// an incomplete list would make live trees look stale.
func livePidNamespaces() map[string]bool {
	// Init's first: where it cannot be read (a sandbox that hides it) the
	// answer is nil without listing /proc, which took 1 ms of every
	// start on such a host with foreign trees present.
	if _, err := os.Readlink("/proc/1/ns/pid"); err != nil {
		return nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	live := map[string]bool{}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		link, err := os.Readlink("/proc/" + e.Name() + "/ns/pid")
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // exited meanwhile
			}
			return nil
		}
		live[strings.Trim(strings.TrimPrefix(link, "pid:"), "[]")] = true
	}
	return live
}

func (r *Reactor) notice(unit, msg string) {
	r.logAt(unit, unitfile.Pos{}, manager.LevelNotice, msg)
}

func (r *Reactor) warn(unit, msg string) {
	r.logAt(unit, unitfile.Pos{}, manager.LevelWarning, msg)
}

// cgroupFor returns the unit's cgroup, creating it (with its resource
// settings and its watches) before the unit's first process.
func (r *Reactor) cgroupFor(unit string, rc *unitfile.ResourceControl) (*unitCgroup, error) {
	if c := r.cgUnits[unit]; c != nil {
		if c.removal != nil && !r.cancelRemoval(c) {
			// Removed already on the spawner: a new one is made below.
			r.closeCgroup(c)
		} else if !c.killed || r.populated(unit) {
			return c, nil
		} else if err := c.g.Remove(); err != nil {
			return nil, err
		} else {
			r.closeCgroup(c)
		}
	}
	slice := ""
	if rc != nil {
		slice = rc.Slice
	}
	g, err := r.cg.Create(unit, slice)
	if err != nil {
		return nil, err
	}
	c := &unitCgroup{unit: unit, g: g, rel: r.cg.Rel(g.Path()), dirFD: -1, eventsFD: -1, memFD: -1}
	if c.dirFD, err = g.OpenFD(); err != nil {
		g.Remove()
		return nil, err
	}
	if c.eventsFD, err = g.EventsFD(); err == nil {
		if err = r.poll.addPri(c.eventsFD); err != nil {
			syscall.Close(c.eventsFD)
			c.eventsFD = -1
		}
	}
	if err != nil {
		syscall.Close(c.dirFD)
		g.Remove()
		return nil, fmt.Errorf("watching cgroup.events: %w", err)
	}
	r.sources[c.eventsFD] = &cgroupSource{unit: unit}
	if !r.cgNoMemory {
		if fd, err := g.MemoryEventsFD(); err == nil {
			if r.poll.addPri(fd) == nil {
				c.memFD = fd
				c.oomKills, _ = cgroups.OOMKillsFD(fd)
				r.sources[fd] = &memEventsSource{unit: unit}
			} else {
				syscall.Close(fd)
			}
		} else if errors.Is(err, os.ErrNotExist) {
			// No memory controller for units here (gosd enables the
			// controllers once, at start): stop trying on every spawn.
			r.cgNoMemory = true
		}
	}
	r.cgUnits[unit] = c
	for d := filepath.Dir(g.Path()); d != r.cg.Root() && strings.HasPrefix(d, r.cg.Root()); d = filepath.Dir(d) {
		r.sliceDirs[d] = true
	}
	c.rc = rc
	r.apply(c, rc)
	c.access = accessKey(rc)
	if rc != nil {
		// Once per cgroup, before its first process. Where the kernel has
		// no cgroup device programs systemd goes on with a warning; so
		// does gosd.
		if _, err := c.g.ApplyDevices(rc.Devices); err != nil {
			r.warn(unit, "DeviceAllow=/DevicePolicy= NOT applied: "+err.Error())
		}
		if _, err := c.g.ApplyIPAccess(rc.IPAccess); err != nil {
			r.warn(unit, "IPAddressAllow=/IPAddressDeny= NOT applied: "+err.Error())
		}
	}
	r.Feed(manager.CgroupCreated{Unit: unit, Path: c.rel})
	return c, nil
}

// cgroupMake is the creation of a unit's first cgroup on the spawner
// thread, right before the spawn that goes into it: the mkdir and the
// opens were 12% of gosd's CPU to the target at 1000 units, on the loop.
// madeCgroup registers the result on the loop.
type cgroupMake struct {
	h           *cgroups.Hierarchy
	unit, slice string
	rc          *unitfile.ResourceControl
	memory      bool // try memory.events (not known to be missing)
	startup     bool // StartupCPUWeight= applies (startupPhase)

	c                       *unitCgroup // made; nil on failure
	err, memErr             error
	notApplied              []string
	applyErr, devErr, ipErr error
}

// make runs on the spawner: it touches only the kernel and the
// hierarchy (which has its own lock).
func (mk *cgroupMake) make() {
	g, err := mk.h.Create(mk.unit, mk.slice)
	if err != nil {
		mk.err = err
		return
	}
	c := &unitCgroup{unit: mk.unit, g: g, rel: mk.h.Rel(g.Path()), dirFD: -1, eventsFD: -1, memFD: -1}
	if c.dirFD, err = g.OpenFD(); err != nil {
		g.Remove()
		mk.err = err
		return
	}
	if c.eventsFD, err = g.EventsFD(); err != nil {
		syscall.Close(c.dirFD)
		g.Remove()
		mk.err = fmt.Errorf("watching cgroup.events: %w", err)
		return
	}
	if mk.memory {
		if fd, err := g.MemoryEventsFD(); err == nil {
			c.memFD = fd
			c.oomKills, _ = cgroups.OOMKillsFD(fd)
		} else {
			mk.memErr = err
		}
	}
	if rc := mk.rc; rc != nil {
		mk.notApplied, mk.applyErr = g.Apply(*rc, mk.startup)
		_, mk.devErr = g.ApplyDevices(rc.Devices)
		_, mk.ipErr = g.ApplyIPAccess(rc.IPAccess)
	}
	mk.c = c
}

// madeCgroup takes a cgroup made on the spawner into the loop's state,
// as cgroupFor does with one it makes itself.
func (r *Reactor) madeCgroup(mk *cgroupMake) {
	c := mk.c
	if old := r.cgUnits[c.unit]; old != nil {
		// cgroupFor made it meanwhile (same directory): keep that one.
		for _, fd := range []int{c.dirFD, c.eventsFD, c.memFD} {
			if fd >= 0 {
				syscall.Close(fd)
			}
		}
		return
	}
	if err := r.poll.addPri(c.eventsFD); err != nil {
		// Its emptiness is still read when its processes are reaped.
		r.logf(c.unit, "cannot watch cgroup.events: %v", err)
	} else {
		r.sources[c.eventsFD] = &cgroupSource{unit: c.unit}
	}
	if c.memFD >= 0 {
		if r.poll.addPri(c.memFD) == nil {
			r.sources[c.memFD] = &memEventsSource{unit: c.unit}
		} else {
			syscall.Close(c.memFD)
			c.memFD = -1
		}
	} else if errors.Is(mk.memErr, os.ErrNotExist) {
		r.cgNoMemory = true // as in cgroupFor
	}
	r.cgUnits[c.unit] = c
	for d := filepath.Dir(c.g.Path()); d != r.cg.Root() && strings.HasPrefix(d, r.cg.Root()); d = filepath.Dir(d) {
		r.sliceDirs[d] = true
	}
	c.rc = mk.rc
	if rc := mk.rc; rc != nil {
		r.applied(c.unit, &c.applied, rc, mk.notApplied, mk.applyErr)
		c.access = accessKey(rc)
		if mk.devErr != nil {
			r.warn(c.unit, "DeviceAllow=/DevicePolicy= NOT applied: "+mk.devErr.Error())
		}
		if mk.ipErr != nil {
			r.warn(c.unit, "IPAddressAllow=/IPAddressDeny= NOT applied: "+mk.ipErr.Error())
		}
	}
	r.Feed(manager.CgroupCreated{Unit: c.unit, Path: c.rel})
}

// apply writes the unit's resource settings and says once (per distinct
// outcome) which could not be applied.
func (r *Reactor) apply(c *unitCgroup, rc *unitfile.ResourceControl) {
	if rc == nil {
		return
	}
	notApplied, err := c.g.Apply(*rc, r.startupPhase())
	r.applied(c.unit, &c.applied, rc, notApplied, err)
}

// startupPhase: the system is starting up (the boot target's job has not
// finished) or shutting down, when StartupCPUWeight= applies.
func (r *Reactor) startupPhase() bool { return !r.bootDone || r.shuttingDown }

// applied says what apply (or cgroupMake) could not apply; last holds
// the unit's previous message, so each outcome is said once.
func (r *Reactor) applied(unit string, last *string, rc *unitfile.ResourceControl, notApplied []string, err error) {
	for name := range rc.Percent {
		notApplied = append(notApplied, name+" (percentage)")
	}
	if err != nil {
		r.warn(unit, "resource settings: "+err.Error())
	}
	msg := ""
	if len(notApplied) > 0 {
		msg = fmt.Sprintf("resource settings NOT applied (their cgroup v2 controller is not available here: %s): %s",
			orNone(strings.Join(r.cg.Controllers(), " ")), strings.Join(notApplied, ", "))
	}
	if msg != *last {
		*last = msg
		if msg != "" {
			r.warn(unit, msg)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "the root offers none"
	}
	return "the root offers " + s
}

// sliceCgroup is the reactor's handle on a slice unit's cgroup, made to
// hold its settings.
type sliceCgroup struct {
	g       *cgroups.Group
	applied string                    // the last "NOT applied" message
	rc      *unitfile.ResourceControl // as for unitCgroup
}

// realizeSlices makes the cgroups of slices (top first) and writes the
// settings of each the first time it is seen: before a member's first
// process, or when the slice unit starts. A daemon-reload writes them
// again (reapply). Without cgroups, setupCgroups said once that no
// resource setting is applied.
func (r *Reactor) realizeSlices(slices []manager.SliceSettings) {
	if r.cg == nil {
		return
	}
	for _, s := range slices {
		if r.cgSlices[s.Name] != nil {
			continue
		}
		g, err := r.cg.Slice(s.Name)
		if err != nil {
			r.warn(s.Name, "cannot create the slice's cgroup, its resource settings are NOT applied: "+err.Error())
			continue
		}
		sc := &sliceCgroup{g: g, rc: s.Resources}
		r.cgSlices[s.Name] = sc
		for d := g.Path(); d != r.cg.Root() && strings.HasPrefix(d, r.cg.Root()); d = filepath.Dir(d) {
			r.sliceDirs[d] = true
		}
		r.applySlice(s.Name, sc, s.Resources)
	}
}

func (r *Reactor) applySlice(name string, sc *sliceCgroup, rc *unitfile.ResourceControl) {
	if rc == nil {
		return
	}
	notApplied, err := sc.g.Apply(*rc, r.startupPhase())
	r.applied(name, &sc.applied, rc, notApplied, err)
}

// accessKey names the device and address settings, "" when they restrict
// nothing.
func accessKey(rc *unitfile.ResourceControl) string {
	if rc == nil || !rc.Devices.Restricted() && !rc.IPAccess.Restricted() {
		return ""
	}
	return fmt.Sprintf("%v|%v", rc.Devices, rc.IPAccess)
}

// reapply writes every unit's and slice's settings again at the end and
// the start of the startup phase, where StartupCPUWeight= gives way to
// CPUWeight= and back.
func (r *Reactor) reapply() {
	for _, c := range r.cgUnits {
		r.applyUnit(c)
	}
	for name, sc := range r.cgSlices {
		r.applySlice(name, sc, sc.rc)
	}
}

// applyUnit writes the settings the unit's cgroup holds (rc), replacing
// its device and address programs when those settings changed.
func (r *Reactor) applyUnit(c *unitCgroup) {
	rc := c.rc
	r.apply(c, rc)
	if key := accessKey(rc); key != c.access {
		c.access = key
		var d unitfile.Devices
		var a unitfile.IPAccess
		if rc != nil {
			d, a = rc.Devices, rc.IPAccess
		}
		if _, _, err := c.g.ReplaceAccess(d, a); err != nil {
			r.warn(c.unit, "DeviceAllow=/IPAddressAllow= and their kin: the changed settings are NOT applied: "+err.Error())
		}
	}
}

// forgetResources: a daemon-reload is being stepped, whose ApplyResources
// effects give the settings that hold from now on (none for a unit that
// lost them).
func (r *Reactor) forgetResources() {
	for _, c := range r.cgUnits {
		c.rc = nil
	}
	for _, sc := range r.cgSlices {
		sc.rc = nil
	}
}

// applyResources writes a daemon-reload's settings of a unit or slice to
// its cgroup, when it has one.
func (r *Reactor) applyResources(e manager.ApplyResources) {
	if r.reopen[e.Unit] && r.cgUnits[e.Unit] == nil {
		r.reopenCgroup(e.Unit, e.Resources)
		return
	}
	if c := r.cgUnits[e.Unit]; c != nil {
		c.rc = e.Resources
		r.applyUnit(c)
	}
	if sc := r.cgSlices[e.Unit]; sc != nil {
		sc.rc = e.Resources
		r.applySlice(e.Unit, sc, sc.rc)
	}
}

// onCgroupEvent reads cgroup.events after EPOLLPRI.
func (r *Reactor) onCgroupEvent(unit string) {
	c := r.cgUnits[unit]
	if c == nil || c.removal != nil {
		return // a removal on its way: not watched (removeCgroup)
	}
	populated, err := cgroups.PopulatedFD(c.eventsFD)
	if errors.Is(err, syscall.ENODEV) {
		populated, err = false, nil // removed behind gosd's back: a populated cgroup cannot be
	}
	if err != nil {
		r.logf(unit, "%v", err)
		return
	}
	if populated {
		return
	}
	c.emptyTurn = r.turn // as populated() records it
	r.feedEmpty(unit)
	if c.inactive {
		r.removeCgroup(c)
	}
}

func (r *Reactor) onMemoryEvent(unit string) {
	c := r.cgUnits[unit]
	if c == nil || c.memFD < 0 {
		return
	}
	n, err := cgroups.OOMKillsFD(c.memFD)
	if err != nil {
		return
	}
	if n > c.oomKills {
		c.oomKills = n
		r.Feed(manager.OOMKilled{Unit: unit})
	}
}

// checkEmpty feeds CgroupEmpty at once when the unit's cgroup is empty now.
func (r *Reactor) checkEmpty(unit string) {
	if c := r.cgUnits[unit]; c != nil && !r.populated(unit) {
		r.feedEmpty(unit)
	}
}

// populated reads the unit's cgroup state now; false without a cgroup.
// An emptiness read in this loop turn is not read again: nothing gosd
// does puts a process into the group but a spawn, which forgets it
// (handOff); a unit's end was asked three times in one turn (its last
// process reaped, the CgroupEmpty fed, the unit seen inactive).
func (r *Reactor) populated(unit string) bool {
	c := r.cgUnits[unit]
	if c == nil {
		return false
	}
	if c.emptyTurn == r.turn {
		return false
	}
	p, err := cgroups.PopulatedFD(c.eventsFD)
	if err == nil && !p {
		c.emptyTurn = r.turn
	}
	return err == nil && p
}

// onUnitState follows units to remove a cgroup once the unit is dead and
// its cgroup empty.
func (r *Reactor) onUnitState(unit, active string) {
	c := r.cgUnits[unit]
	if c == nil {
		return
	}
	c.inactive = active == "inactive" || active == "failed"
	if c.inactive && !r.populated(unit) {
		r.removeCgroup(c)
	}
}

// removeCgroup removes an emptied unit cgroup off the loop: the rmdir
// (the kernel frees the group there, 11% of gosd's CPU stopping 1000
// services) runs on the spawner thread, after every spawn queued before
// it; removed (spawner.go) closes the group's fds when it is gone.
func (r *Reactor) removeCgroup(c *unitCgroup) {
	if c.removal != nil {
		return // on its way
	}
	r.unwatchCgroup(c)
	c.removal = &cgroupRemoval{dirFD: c.dirFD, eventsFD: c.eventsFD, memFD: c.memFD}
	c.dirFD, c.eventsFD, c.memFD = -1, -1, -1 // the removal's now (populated: false)
	r.removals++
	r.newRemovals = append(r.newRemovals, &spawnJob{remove: c, removal: c.removal})
}

// submitRemovals hands the turn's removals to the spawner at once, at the
// end of the turn (and before the loop waits for the spawner's work). A
// removal handed over at once woke the spawner in the middle of the
// turn: in a stop chain, its rmdir of the unit just stopped then took the
// free core from the next unit's process, signalled a moment later, whose
// exit the loop waits for; stopping 1000 at once, it was a wake-up per
// unit. Until then a removal is already the group's (removeCgroup), and
// one called off (cancelRemoval) is a no-op on the spawner.
func (r *Reactor) submitRemovals() {
	if len(r.newRemovals) > 0 {
		r.spawner.submitAll(r, r.newRemovals)
		r.newRemovals = nil
	}
}

// unwatchCgroup stops watching a group whose removal is queued. Its
// events file is signalled once more, late (the kernel rate-limits those
// notifications), and by the removal; unread, and unreadable once the
// group is removed (ENODEV), it stays ready for a level-triggered epoll:
// the loop spun on it, measured as 37% of its CPU to the target at 1000
// oneshots, until the rmdir's turn came behind the spawns.
func (r *Reactor) unwatchCgroup(c *unitCgroup) {
	for _, fd := range []int{c.eventsFD, c.memFD} {
		if fd >= 0 {
			r.removeSource(fd)
		}
	}
}

// reopenCgroupFDs opens again the fds of a group whose removal closed them
// but failed (a process came in meanwhile); false: it cannot be watched.
func (r *Reactor) reopenCgroupFDs(c *unitCgroup) bool {
	dirFD, err := c.g.OpenFD()
	if err != nil {
		r.logf(c.unit, "cgroup %s: %v", c.rel, err)
		return false
	}
	eventsFD, err := c.g.EventsFD()
	if err != nil {
		syscall.Close(dirFD)
		r.logf(c.unit, "cgroup %s: %v", c.rel, err)
		return false
	}
	c.dirFD, c.eventsFD, c.emptyTurn = dirFD, eventsFD, 0
	if !r.cgNoMemory {
		if fd, err := c.g.MemoryEventsFD(); err == nil {
			c.memFD = fd
		}
	}
	return true
}

// watchCgroup watches a group again whose removal did not happen.
func (r *Reactor) watchCgroup(c *unitCgroup) {
	if c.eventsFD >= 0 && r.sources[c.eventsFD] == nil {
		if err := r.poll.addPri(c.eventsFD); err != nil {
			r.logf(c.unit, "cannot watch cgroup.events: %v", err)
		} else {
			r.sources[c.eventsFD] = &cgroupSource{unit: c.unit}
		}
	}
	if c.memFD >= 0 && r.sources[c.memFD] == nil && r.poll.addPri(c.memFD) == nil {
		r.sources[c.memFD] = &memEventsSource{unit: c.unit}
	}
}

func (r *Reactor) closeCgroup(c *unitCgroup) {
	for _, fd := range []int{c.eventsFD, c.memFD} {
		if fd >= 0 {
			r.removeSource(fd)
			syscall.Close(fd)
		}
	}
	if c.dirFD >= 0 {
		syscall.Close(c.dirFD)
	}
	delete(r.cgUnits, c.unit)
}

// closeCgroups runs when Run returns: every empty unit cgroup, then the
// slices gosd made, and a private root are removed.
func (r *Reactor) closeCgroups() {
	if r.cg == nil {
		return
	}
	dirs := map[string]bool{}
	for _, c := range r.cgUnits {
		r.closeCgroup(c) // before the rmdir: see cgroupRemoval
		c.g.Remove()
	}
	for d := range r.sliceDirs {
		dirs[d] = true
	}
	// Deepest first.
	for len(dirs) > 0 {
		deepest := ""
		for d := range dirs {
			if len(d) > len(deepest) {
				deepest = d
			}
		}
		delete(dirs, deepest)
		syscall.Rmdir(deepest)
	}
	if r.cgPrivate {
		syscall.Rmdir(r.cg.Root())
	}
}

// killGroup signals the unit's cgroup (systemd.kill(5)); false when the
// unit has no cgroup, so the caller uses process groups. SIGKILL goes
// through cgroup.kill; other signals are followed by SIGCONT, as systemd
// does, so stopped processes see them. main is the unit's main (or
// control) process, 0 if none.
func (r *Reactor) killGroup(unit string, sig syscall.Signal, main int) bool {
	c := r.cgUnits[unit]
	if c == nil {
		return false
	}
	var err error
	if sig == syscall.SIGKILL {
		if !r.populated(unit) {
			// Nothing to kill, and a group written to cgroup.kill is
			// replaced before its next spawn (unitCgroup.killed). Other
			// signals go to what cgroup.procs lists, nothing for an
			// empty group: one read, not a pread before it.
			return true
		}
		c.killed = true
		err = c.g.Kill()
	} else if p := r.procs[main]; main > 1 && p != nil && p.unit == unit && p.pidfd >= 0 {
		// The main process first, as systemd signals its main pid
		// before the cgroup: through its pidfd, at once; the listing of
		// the cgroup for the others (an open, two reads and a close of
		// cgroup.procs: more than the signals) waits for the end of the
		// loop turn (signalGroups). Stopping 1000 services, every main
		// process has its SIGTERM before the first listing; in a chain,
		// the next unit's process dies while the loop lists.
		pr := exec.Process{Pid: main, PidFD: p.pidfd}
		if err = exec.Signal(pr, sig); err == nil && sig != syscall.SIGCONT {
			err = exec.Signal(pr, syscall.SIGCONT)
		}
		if err == syscall.ESRCH {
			err = nil
		}
		r.groupSignals = append(r.groupSignals, groupSignal{unit: unit, sig: sig, main: main})
	} else {
		err = r.signalCgroup(c, sig, 0)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		r.logf(unit, "kill cgroup %s %v: %v", c.rel, sig, err)
	}
	return true
}

// signalCgroup sends sig, then SIGCONT, to the processes cgroup.procs
// lists, except skip.
func (r *Reactor) signalCgroup(c *unitCgroup, sig syscall.Signal, skip int) error {
	if sig == syscall.SIGCONT {
		return c.g.SignalFDExcept(c.dirFD, skip, sig)
	}
	return c.g.SignalFDExcept(c.dirFD, skip, sig, syscall.SIGCONT)
}

// groupSignal is the rest of a group kill whose main process killGroup
// signalled: the other processes of the unit's cgroup.
type groupSignal struct {
	unit string
	sig  syscall.Signal
	main int
}

// signalGroups sends the group signals killGroup left for later: at the
// end of each loop turn, and before a spawn (which must not meet an
// older signal) or a re-exec. A group read empty in this turn, or
// queued for removal (empty and its unit dead), has nothing to signal.
func (r *Reactor) signalGroups() {
	for len(r.groupSignals) > 0 {
		gs := r.groupSignals
		r.groupSignals = nil
		for _, g := range gs {
			c := r.cgUnits[g.unit]
			if c == nil || c.removal != nil || c.emptyTurn == r.turn {
				continue
			}
			if err := r.signalCgroup(c, g.sig, g.main); err != nil && !errors.Is(err, os.ErrNotExist) {
				r.logf(g.unit, "kill cgroup %s %v: %v", c.rel, g.sig, err)
			}
		}
	}
}

// CgroupInfo is what status shows about a unit's cgroup. A slice's has
// Tree, its members' cgroups and their processes.
type CgroupInfo struct {
	Path string // as /proc/PID/cgroup shows it
	cgroups.Stats
	Tree *cgroups.Node
}

// CgroupInfo reads the unit's cgroup figures; false when the unit has no
// cgroup (cgroups unavailable or never started). Reactor goroutine only:
// call it from a function given to Submit.
func (r *Reactor) CgroupInfo(unit string) (CgroupInfo, bool) {
	if strings.HasSuffix(unit, ".slice") && r.cg != nil {
		var g *cgroups.Group
		if sc := r.cgSlices[unit]; sc != nil {
			g = sc.g
		} else if found, ok := r.cg.FindSlice(unit); ok && unit != "-.slice" {
			g = found // a slice without settings, made for its members
		}
		if g == nil {
			return CgroupInfo{}, false
		}
		tree := g.Tree()
		return CgroupInfo{Path: r.cg.Rel(g.Path()), Stats: g.Stats(), Tree: &tree}, true
	}
	c := r.cgUnits[unit]
	if c == nil {
		return CgroupInfo{}, false
	}
	return CgroupInfo{Path: c.rel, Stats: c.g.Stats()}, true
}

// CgroupsEnabled says whether units run in their own cgroups.
func (r *Reactor) CgroupsEnabled() bool { return r.cg != nil }
