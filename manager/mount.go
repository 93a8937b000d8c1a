package manager

import (
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
// systemd. Where gosd differs: there are no units for mounts that have no
// unit file (-.mount).

// mountRun is the runtime state of a mount unit.
type mountRun struct {
	baseType
	control
	// probing: ProbeMount sent, MountProbed not yet back.
	probing bool
}

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
	// Requires= and After= the mount units above; BindsTo= and After=
	// the device it mounts.
	if d.Where != "/" {
		for _, name := range mountUnitsFor(path.Dir(d.Where)) {
			implicit(name, depRequires, depAfter)
		}
	}
	if strings.HasPrefix(d.What, "/dev/") && !hasOption(d.Options, "bind") && !hasOption(d.Options, "rbind") {
		if name, err := unitfile.EscapePath(d.What); err == nil {
			implicit(name+".device", depBindsTo, depAfter)
		}
	}
	if !u.def.Unit.DefaultDependencies {
		return
	}
	nofail := hasOption(d.Options, "nofail")
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
	implicit("umount.target", depConflicts, depBefore)
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

// keepForStop: a mount unit whose file went away still unmounts what the
// old file mounted.
func (*mountRun) keepForStop(u *unit, old *unitfile.Unit) {
	if u.def.Mount != nil || old == nil || old.Mount == nil {
		return
	}
	nd := *u.def
	mnt := *old.Mount
	nd.Mount = &mnt
	u.def = &nd
}

// onMountsChanged follows the mount table for the mount units that are
// loaded (no unit is made for a mount point without one). A unit in the
// middle of its own mount(8) or umount(8) waits for the command instead.
func (m *Manager) onMountsChanged(e MountsChanged) {
	follow := func(points []string, mounted bool) {
		for _, p := range points {
			name, err := unitfile.EscapePath(p)
			if err != nil {
				continue
			}
			u := m.units[name+".mount"]
			if u == nil {
				continue
			}
			r, ok := u.impl.(*mountRun)
			if !ok || r.probing || r.controlPID != 0 || r.controlSpawn != 0 {
				continue
			}
			switch {
			case mounted && (u.sub == SubDead || u.sub == SubFailed):
				m.logf(u, LevelInfo, "%s was mounted (not by gosd).", p)
				u.result = "success"
				m.setState(u, SubMounted)
			case !mounted && u.sub == SubMounted:
				m.logf(u, LevelInfo, "%s was unmounted (not by gosd).", p)
				m.controlUnitDead(u)
			}
		}
	}
	follow(e.Removed, false)
	follow(e.Added, true)
}
