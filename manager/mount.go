package manager

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"syscall"

	"gosd/unitfile"
)

// Mount units (systemd.mount(5)). A start asks the reactor whether the
// mount point is mounted already (ProbeMount; a mount made by anyone
// counts, as under systemd) and, if not, runs mount(8) as the unit's
// control process: "mount [-s] [-w] [-t TYPE] [-o OPTIONS] WHAT WHERE",
// with fstab's own options (nofail, noauto, x-systemd.*, ...) left out,
// as systemd runs it. A stop runs "umount -c [-l] [-f] WHERE". Both are
// bounded by TimeoutSec=. mount(8) and umount(8) are found on the search
// path at spawn.
//
// The mount table is followed too (MountsChanged, from
// /proc/self/mountinfo): a mount unit whose mount point someone mounts is
// mounted, one whose file system someone unmounts is dead, as under
// systemd. Every mount point without a unit file gets a unit made from
// the table (-.mount, sys.mount, proc.mount...; unitfile.MountFromTable),
// loaded and mounted, with the implicit dependencies systemd gives it;
// when it is unmounted the unit goes, unless a job holds it (systemd
// collects it as garbage). gosd's shutdown leaves such units alone: as
// PID1, boot's final shutdown unmounts what is left, as systemd-shutdown.

// mountRun is the runtime state of a mount unit.
type mountRun struct {
	baseType
	control
	// probing: ProbeMount sent, MountProbed not yet back.
	probing bool
}

// fromTable: the unit has no file; it was made from the mount table.
func fromTable(def *unitfile.Unit) bool {
	return def.FragmentPath == "" && def.Unit.SourcePath == unitfile.MountTable
}

// maxUnitName is systemd's UNIT_NAME_MAX less the NUL: a mount point
// whose unit name would be longer gets no unit (systemd warns, too).
const maxUnitName = 255

// mountType registers mount units (unitTypes).
var mountType = typeEntry{
	has:       func(d *unitfile.Unit) bool { return d.Mount != nil && d.LoadState == unitfile.Loaded },
	make:      func(u *unit) unitVTable { return &mountRun{} },
	processes: true,
}

// mountUnitsFor names the mount units of p and of every directory above
// it, "/" (-.mount) last.
func mountUnitsFor(p string) []string {
	var out []string
	for p = path.Clean(p); ; p = path.Dir(p) {
		if name, err := unitfile.EscapePath(p); err == nil {
			out = append(out, name+".mount")
		}
		if p == "/" || p == "." {
			return out
		}
	}
}

// networkFS: the file system types systemd counts as network file
// systems (fstype_is_network), whose mounts wait for the network.
func networkFS(t string) bool {
	t = strings.TrimPrefix(t, "fuse.")
	switch t {
	case "afs", "ceph", "cifs", "smb3", "smbfs", "sshfs", "ncpfs", "ncp", "nfs", "nfs4", "gfs", "gfs2",
		"glusterfs", "gpfs", "pvfs2", "ocfs2", "lustre", "davfs":
		return true
	}
	return false
}

// hasOption: opt is one of the comma-separated options.
func hasOption(options, opt string) bool {
	return slices.Contains(strings.Split(options, ","), opt)
}

// mountOptions are the options passed to mount(8): those meant for
// systemd and fstab only are left out (systemd's fstab_filter_options).
func mountOptions(options string) string {
	var keep []string
	for _, o := range strings.Split(options, ",") {
		switch {
		case o == "", o == "nofail", o == "noauto", o == "auto", o == "_netdev",
			strings.HasPrefix(o, "x-systemd."), strings.HasPrefix(o, "x-initrd."):
			continue
		}
		keep = append(keep, o)
	}
	return strings.Join(keep, ",")
}

func (*mountRun) activeOf(sub SubState) ActiveState {
	switch sub {
	case SubDead:
		return ActiveInactive
	case SubFailed:
		return ActiveFailed
	case SubMounting:
		return ActiveActivating
	case SubUnmounting:
		return ActiveDeactivating
	}
	return ActiveActive // mounted
}

// addDeps: systemd.mount(5) "Implicit Dependencies" and "Default
// Dependencies".
func (*mountRun) addDeps(m *Manager, u *unit, implicit func(string, ...dep)) {
	d := u.def.Mount
	if d == nil {
		return
	}
	// Requires= and After= the mount units above.
	if d.Where != "/" {
		for _, name := range mountUnitsFor(path.Dir(d.Where)) {
			implicit(name, depRequires, depAfter)
		}
	}
	// The device it mounts: BindsTo= and After= for a unit with a file,
	// Requires= and After= for one made from the mount table (systemd
	// does not bind those to devices: another tool may have mounted
	// them from a different one) unless x-systemd.device-bound says so.
	// Not for bind mounts, for / nor for /dev/root and /dev/nfs, which
	// name no device.
	if strings.HasPrefix(d.What, "/dev/") && d.What != "/dev/root" && d.What != "/dev/nfs" && d.Where != "/" &&
		!hasOption(d.Options, "bind") && !hasOption(d.Options, "rbind") {
		if name, err := unitfile.EscapePath(d.What); err == nil {
			kind := depBindsTo
			if fromTable(u.def) && !hasOption(d.Options, "x-systemd.device-bound") {
				kind = depRequires
			}
			implicit(name+".device", kind, depAfter)
		}
	}
	if !u.def.Unit.DefaultDependencies || extrinsicMount(d.Where, d.Options) {
		return
	}
	nofail := hasOption(d.Options, "nofail") || hasOption(d.Options, "x-systemd.automount")
	if networkFS(d.Type) || hasOption(d.Options, "_netdev") {
		implicit("remote-fs-pre.target", depAfter)
		implicit("network.target", depAfter)
		implicit("network-online.target", depWants, depAfter)
		if !nofail {
			implicit("remote-fs.target", depBefore)
		}
	} else {
		implicit("local-fs-pre.target", depAfter)
		if !nofail {
			implicit("local-fs.target", depBefore)
		}
	}
	if d.Type == "tmpfs" {
		// Unmounted before swap goes: its pages may be in swap.
		implicit("swap.target", depAfter)
	}
	implicit("umount.target", depConflicts, depBefore)
}

// extrinsicMount: systemd gives the mount no default dependencies (its
// fstab_is_extrinsic): the OS itself (/, /usr, /etc), what lives from
// before boot to after shutdown (/run/initramfs), the API file systems
// (/proc, /sys, /dev and below) and x-initrd.mount mounts outside the
// initrd.
func extrinsicMount(where, options string) bool {
	switch where {
	case "/", "/usr", "/etc":
		return true
	}
	for _, top := range []string{"/run/initramfs", "/proc", "/sys", "/dev"} {
		if where == top || strings.HasPrefix(where, top+"/") {
			return true
		}
	}
	return hasOption(options, "x-initrd.mount")
}

func (*mountRun) startable(m *Manager, u *unit) bool { return u.sub == SubDead || u.sub == SubFailed }
func (*mountRun) startLimited() bool                 { return true }
func (r *mountRun) ctl() *control                    { return &r.control }

func (r *mountRun) busy() bool { return r.controlPID != 0 || r.controlSpawn != 0 }

func (r *mountRun) start(m *Manager, u *unit) {
	d := u.def.Mount
	u.result = "success"
	r.probing = true
	m.setTimeout(u, "state", d.TimeoutSec)
	m.setState(u, SubMounting)
	m.emit(ProbeMount{Unit: u.name, Where: d.Where, DirectoryMode: d.DirectoryMode})
}

func (m *Manager) onMountProbed(e MountProbed) {
	u := m.units[e.Unit]
	var r *mountRun
	if u != nil {
		r, _ = u.impl.(*mountRun)
	}
	if r == nil || !r.probing || u.sub != SubMounting {
		m.logf(u, LevelDebug, "ignoring mount probe of %s", e.Unit)
		return
	}
	r.probing = false
	d := u.def.Mount
	switch {
	case e.Err != nil:
		m.logAt(u, "Where", LevelError, "Failed to make mount point %s: %v", d.Where, e.Err)
		u.result = "resources"
		m.controlUnitDead(u)
	case e.Mounted:
		m.logf(u, LevelDebug, "%s is mounted already", d.Where)
		m.cancelTimer(u, "state")
		m.setState(u, SubMounted)
	default:
		m.runControl(u, SubMounting, []unitfile.ExecCommand{mountCommand(u)})
	}
}

// mountCommand is the mount(8) command line systemd runs (mount_enter_mounting).
func mountCommand(u *unit) unitfile.ExecCommand {
	d := u.def.Mount
	argv := []string{"mount"}
	if d.SloppyOptions {
		argv = append(argv, "-s")
	}
	if d.ReadWriteOnly {
		argv = append(argv, "-w")
	}
	if d.Type != "" {
		argv = append(argv, "-t", d.Type)
	}
	if o := mountOptions(d.Options); o != "" {
		argv = append(argv, "-o", o)
	}
	argv = append(argv, d.What, d.Where)
	return unitfile.ExecCommand{Path: "mount", Argv: argv, Pos: settingPos(u.def, "What")}
}

// umountCommand is the umount(8) command line systemd runs
// (mount_enter_unmounting): -c, the path is canonical already.
func umountCommand(u *unit) unitfile.ExecCommand {
	d := u.def.Mount
	argv := []string{"umount", "-c"}
	if d.LazyUnmount {
		argv = append(argv, "-l")
	}
	if d.ForceUnmount {
		argv = append(argv, "-f")
	}
	argv = append(argv, d.Where)
	return unitfile.ExecCommand{Path: "umount", Argv: argv, Pos: settingPos(u.def, "Where")}
}

func (r *mountRun) fillControl(m *Manager, u *unit, sp *Spawn) {
	if d := u.def.Mount; d != nil {
		sp.Exec = &d.Exec
	}
}

func (r *mountRun) controlDone(m *Manager, u *unit, phase SubState, ok bool, st WaitStatus, res string) {
	m.cancelTimer(u, "state")
	switch phase {
	case SubMounting:
		if ok {
			m.setState(u, SubMounted)
			return
		}
		m.setResult(u, res)
		m.controlUnitDead(u)
	case SubUnmounting:
		if !ok {
			m.setResult(u, res)
		}
		m.controlUnitDead(u)
	}
}

func (r *mountRun) stop(m *Manager, u *unit, restart bool) {
	delete(m.pendingChecks, u.name)
	if u.def.Mount.Where == "/" && u.sub == SubMounted {
		// The root is never unmounted by its unit (systemd's perpetual
		// -.mount): it is remounted read-only at power-off.
		m.setState(u, SubDead)
		return
	}
	switch u.sub {
	case SubDead, SubFailed, SubUnmounting:
		return
	case SubMounting:
		if r.probing {
			r.probing = false
			m.cancelTimer(u, "state")
			m.controlUnitDead(u)
			return
		}
		// mount(8) is running: end it, then unmount what it may have
		// mounted.
		m.abortControl(u, r.controlPID)
	}
	m.setTimeout(u, "state", u.def.Mount.TimeoutSec)
	m.runControl(u, SubUnmounting, []unitfile.ExecCommand{umountCommand(u)})
}

func (r *mountRun) timer(m *Manager, u *unit, kind string) {
	if kind != "state" {
		return
	}
	m.logAt(u, "TimeoutSec", LevelWarning, "%s timed out. Killing.", u.sub)
	m.abortControl(u, r.controlPID)
	r.probing = false
	m.setResult(u, "timeout")
	m.controlUnitDead(u)
}

// controlUnitDead ends a unit whose work is done by control commands
// (mount, swap): dead on success, failed with its result otherwise.
func (m *Manager) controlUnitDead(u *unit) {
	m.cancelTimer(u, "state")
	if u.result == "" || u.result == "success" {
		u.result = "success"
		m.setState(u, SubDead)
		return
	}
	m.logf(u, LevelWarning, "Failed with result '%s'.", u.result)
	m.setState(u, SubFailed)
}

// abortControl kills a unit's running control command (mount(8),
// swapon(8)...) and forgets its processes.
func (m *Manager) abortControl(u *unit, pid int) {
	if pid != 0 {
		m.emit(Kill{Unit: u.name, Pid: pid, Group: true, Signal: int(syscall.SIGKILL)})
	}
	m.forgetProcesses(u)
}

func (r *mountRun) forceDown(m *Manager, u *unit) int { return r.controlPID }

func (r *mountRun) status(m *Manager, u *unit, s *UnitStatus) { s.ControlPID = r.controlPID }

// followsOnly: a unit made from the mount table is not unmounted by
// gosd's shutdown (gosd may not be the init; as PID1 boot's final
// shutdown unmounts it in the kernel's order).
func (r *mountRun) followsOnly(u *unit) bool {
	return fromTable(u.def) && !r.busy() && !r.probing
}

// keepForStop: a mount unit whose file went away still unmounts what the
// old file mounted; one made from the mount table keeps what the table
// gave it (it never had a file).
func (*mountRun) keepForStop(u *unit, old *unitfile.Unit) {
	if u.def.LoadState == unitfile.NotFound && old != nil && fromTable(old) {
		u.def = old
		return
	}
	if u.def.Mount != nil || old == nil || old.Mount == nil {
		return
	}
	nd := *u.def
	mnt := *old.Mount
	nd.Mount = &mnt
	u.def = &nd
}

// onMountsChanged follows the mount table. A unit in the middle of its
// own mount(8) or umount(8) waits for the command instead. A mount point
// without a unit file gets one made from the table; one whose unit name
// would not be valid gets none, with a warning (systemd's too).
func (m *Manager) onMountsChanged(e MountsChanged) {
	for _, p := range e.Removed {
		name, err := unitfile.EscapePath(p)
		if err != nil {
			continue // never got a unit; warned about when it came
		}
		u := m.units[name+".mount"]
		if u == nil {
			continue
		}
		r, ok := u.impl.(*mountRun)
		if !ok || r.probing || r.busy() {
			continue
		}
		if u.sub == SubMounted {
			m.logf(u, LevelInfo, "%s was unmounted (not by gosd).", p)
			m.controlUnitDead(u)
		}
		if fromTable(u.def) && isInactive(u) && u.job == nil {
			m.forget(u)
		}
	}
	// Who needs mount units by path, found once per report (a container's
	// table may bring thousands of mounts at once).
	var needs []mountNeed
	found := false
	needsOnce := func() []mountNeed {
		if !found {
			needs, found = m.mountNeeds(), true
		}
		return needs
	}
	for _, p := range e.Added {
		if unitfile.IgnoredMountPoint(p.Where) {
			continue // systemd makes no unit of these
		}
		name, err := tableUnitName(p.Where, ".mount")
		if err != nil {
			m.logf(nil, LevelWarning, "Failed to make a mount unit for %q, ignoring mount point: %v", p.Where, err)
			continue
		}
		u := m.units[name]
		if u == nil || u.def.LoadState == unitfile.NotFound {
			u = m.unitFromTable(name, u, p, needsOnce)
		}
		r, ok := u.impl.(*mountRun)
		if !ok || r.probing || r.busy() {
			continue
		}
		if u.sub == SubDead || u.sub == SubFailed {
			if fromTable(u.def) {
				m.logf(u, LevelDebug, "%s is mounted.", p.Where)
			} else {
				m.logf(u, LevelInfo, "%s was mounted (not by gosd).", p.Where)
			}
			u.result = "success"
			m.setState(u, SubMounted)
		}
	}
}

// unitFromTable makes the unit of a mount point without a unit file (u,
// when not nil, is the not-found unit something named it by).
func (m *Manager) unitFromTable(name string, u *unit, p MountPoint, needs func() []mountNeed) *unit {
	u = m.loadFromTable(name, u, unitfile.MountFromTable(name, p.Where, p.What, p.Type, p.Options))
	m.addMountDependents(u, needs())
	return u
}

// loadFromTable loads def, the unit made for what the kernel's table (the
// mount table, /proc/swaps) shows without a unit file; u, when not nil, is
// the not-found unit something named it by.
func (m *Manager) loadFromTable(name string, u *unit, def *unitfile.Unit) *unit {
	m.loading++
	if u == nil {
		u = m.loadDef(name, def)
	} else {
		u.def = def
		m.resetRuntime(u)
		m.addEdges(u)
	}
	m.loading--
	if m.loading == 0 {
		m.addTargetDeps()
	}
	return u
}

// tableUnitName is the unit name of a path in a kernel table, with the
// suffix; an error when there is none (systemd warns and makes no unit).
func tableUnitName(path, suffix string) (string, error) {
	name, err := unitfile.EscapePath(path)
	if err == nil && len(name)+len(suffix) > maxUnitName {
		err = fmt.Errorf("unit name longer than %d characters", maxUnitName)
	}
	return name + suffix, err
}

// mountNeed is a unit that needs the mount units of some paths: of
// dirs (and every directory above them).
type mountNeed struct {
	u    *unit
	dirs []string
}

// mountNeeds lists the units that need mount units by path, but those
// made from the table (their own edges were made when they were): units
// with RequiresMountsFor=, mount units with a file (the mount above them)
// and swap files.
func (m *Manager) mountNeeds() []mountNeed {
	var out []mountNeed
	for _, o := range m.loadOrder {
		if !loaded(o) {
			continue
		}
		var dirs []string
		for _, p := range o.def.Unit.RequiresMountsFor {
			dirs = append(dirs, path.Clean(p))
		}
		if d := o.def.Mount; d != nil && !fromTable(o.def) && d.Where != "/" {
			dirs = append(dirs, path.Dir(d.Where))
		}
		if d := o.def.Swap; d != nil && strings.HasPrefix(d.What, "/") && !strings.HasPrefix(d.What, "/dev/") {
			dirs = append(dirs, path.Dir(d.What))
		}
		if len(dirs) > 0 {
			out = append(out, mountNeed{o, dirs})
		}
	}
	return out
}

// addMountDependents gives the units of needs that need what is at or
// under u's mount point their Requires= and After= on it, as systemd does
// when a mount unit appears (the units loaded before it had no unit to
// name). A waiting job counts its new ordering.
func (m *Manager) addMountDependents(u *unit, needs []mountNeed) {
	where := u.def.Mount.Where
	under := func(p string) bool {
		return where == "/" || p == where || strings.HasPrefix(p, where+"/")
	}
	for _, n := range needs {
		o := n.u
		if o == u || !slices.ContainsFunc(n.dirs, under) {
			continue
		}
		_, had := m.edgeSeen[edgeKey{o, u, depAfter}]
		m.edge(o, u, depRequires)
		m.edge(o, u, depAfter)
		if j := o.job; !had && j != nil && !j.running {
			m.recount(j)
		}
	}
}

// TableUnit is the definition of a unit the manager made from the mount
// table or /proc/swaps (a copy: the caller may fill in defaults), nil for any other:
// the unit source does not know these.
func (m *Manager) TableUnit(name string) *unitfile.Unit {
	u := m.units[name]
	if u == nil || !fromTable(u.def) && !swapFromTable(u.def) {
		return nil
	}
	c := *u.def
	return &c
}
