package manager

import (
	"slices"
	"strings"

	"gosd/unitfile"
)

// Device units (systemd.device(5)). A device unit is plugged while the
// device it names is there and ready, dead otherwise; the reactor reports
// devices as they come and go (DevicesChanged: udev's devices tagged
// "systemd", or without udev the kernel's block, net and tty devices).
// Each device has several units, all plugged together: the one named by
// its /sys path (the main one), by its node (/dev/sda), by each of udev's
// symbolic links to it (/dev/disk/by-uuid/...) and by each SYSTEMD_ALIAS=.
//
// A device unit cannot be started or stopped by gosd: a start job for a
// device that is not there runs until it appears (done) or until
// JobRunningTimeoutSec= (90 s for devices) or JobTimeoutSec= ends it with
// "timeout", which fails the jobs that require it. When a device goes,
// the units bound to its units (BindsTo=) stop. When one comes without a
// job asking for it, what it Requires=/BindsTo= and Wants= (SYSTEMD_WANTS=
// of udev included) is started, as systemd starts them
// (retroactively_start_dependencies); not at the first report (coldplug),
// as systemd starts none while it enumerates.
//
// Where gosd differs: no "tentative" state (a device seen only in the
// mount table); a stop job makes a plugged unit dead at once (systemd's
// waits for the device to go). Shutdown leaves device units as they are
// and a re-exec does not hand them over (followsOnly): the new gosd reads
// every device again.

// deviceRun is the runtime state of a device unit.
type deviceRun struct {
	baseType
	// sysPath is the device the unit stands for while plugged.
	sysPath string
}

// deviceType registers device units (unitTypes).
var deviceType = typeEntry{
	has:  func(d *unitfile.Unit) bool { return d.LoadState == unitfile.Loaded },
	make: func(u *unit) unitVTable { return &deviceRun{} },
}

func (*deviceRun) activeOf(sub SubState) ActiveState {
	if sub == SubPlugged {
		return ActiveActive
	}
	return ActiveInactive
}

func (r *deviceRun) start(m *Manager, u *unit) {
	if !m.devicesFollowed {
		// Nobody reports devices here: what the unit's asserts said
		// (unitfile.FollowsDevices) is all that is known.
		m.setState(u, SubPlugged)
		return
	}
	m.logf(u, LevelDebug, "Waiting for device %s to appear.", u.def.Unit.Description)
}

func (r *deviceRun) stop(m *Manager, u *unit, restart bool) {
	delete(m.pendingChecks, u.name)
	m.setState(u, SubDead)
}

func (*deviceRun) followsOnly(*unit) bool { return true }

func (r *deviceRun) status(m *Manager, u *unit, s *UnitStatus) {
	if r.sysPath != "" {
		s.SysFSPath = r.sysPath
	}
}

// deviceUnitName is the unit name of a device path (unit_name_from_path),
// "" when the path cannot name a unit.
func deviceUnitName(p string) string {
	if !strings.HasPrefix(p, "/") {
		return ""
	}
	name, err := unitfile.EscapePath(p)
	if err != nil {
		return ""
	}
	name += ".device"
	if !unitfile.ValidName(name) {
		return ""
	}
	return name
}

// deviceNames lists the unit names of a device, the main one first.
func deviceNames(d Device) []string {
	var out []string
	add := func(p string) {
		if n := deviceUnitName(p); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	add(d.SysPath)
	if len(out) == 0 {
		return nil // no main unit, no others (systemd's device_setup_units)
	}
	add(d.Node)
	for _, l := range d.Links {
		add(l)
	}
	for _, a := range d.Aliases {
		add(a)
	}
	return out
}

// deviceWants are the units a device's SYSTEMD_WANTS= names: templates
// get the device's escaped /sys path as instance, as systemd does.
func (m *Manager) deviceWants(u *unit, d Device) []string {
	var out []string
	for _, w := range d.Wants {
		if unitfile.IsTemplate(w) {
			esc, err := unitfile.EscapePath(d.SysPath)
			if err != nil {
				continue
			}
			n, err := unitfile.InstanceOf(w, esc)
			if err != nil {
				continue
			}
			w = n
		}
		if !unitfile.ValidName(w) || unitfile.IsTemplate(w) {
			m.logf(u, LevelWarning, "SYSTEMD_WANTS= of %s names %q, which is not a unit name; ignoring.", d.SysPath, w)
			continue
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// onDevicesChanged follows the devices the reactor reports.
func (m *Manager) onDevicesChanged(e DevicesChanged) {
	if m.devNames == nil {
		m.devNames, m.devOwner = map[string][]string{}, map[string]string{}
	}
	first := e.Coldplug
	m.devicesFollowed = true
	seen := map[string]bool{}
	for _, d := range e.Devices {
		if d.SysPath == "" {
			continue
		}
		var names []string
		if d.Ready {
			names = deviceNames(d)
		}
		old := m.devNames[d.SysPath]
		for _, n := range old {
			if !slices.Contains(names, n) && m.devOwner[n] == d.SysPath {
				delete(m.devOwner, n)
				m.unplugDevice(n)
			}
		}
		if len(names) == 0 {
			delete(m.devNames, d.SysPath)
			continue
		}
		m.devNames[d.SysPath] = names
		for i, n := range names {
			seen[n] = true
			m.devOwner[n] = d.SysPath
			m.plugDevice(n, d, i == 0, first)
		}
	}
	if first {
		// A full report: a unit plugged before (a re-exec) whose device
		// is no longer there is dead.
		for _, u := range slices.Clone(m.loadOrder) {
			if _, ok := u.impl.(*deviceRun); ok && u.sub == SubPlugged && !seen[u.name] {
				m.unplugDevice(u.name)
			}
		}
		for n, sp := range m.devOwner {
			if !seen[n] {
				delete(m.devOwner, n)
				m.devNames[sp] = slices.DeleteFunc(m.devNames[sp], func(x string) bool { return x == n })
			}
		}
	}
}

// plugDevice makes the unit called name plugged for device d; main says
// it is the unit of the device's /sys path (SYSTEMD_WANTS= hang on it);
// quiet: the first report, which starts nothing (systemd's enumeration).
func (m *Manager) plugDevice(name string, d Device, main, quiet bool) {
	if m.shuttingDown {
		return
	}
	u := m.load(name)
	r, ok := u.impl.(*deviceRun)
	if !ok {
		return // masked, or a file of another type under that name
	}
	r.sysPath = d.SysPath
	var added []*unit
	if main {
		for _, w := range m.deviceWants(u, d) {
			t := m.load(w)
			if _, ok := m.edgeSeen[edgeKey{u, t, depWants}]; !ok {
				m.edge(u, t, depWants)
				added = append(added, t)
			}
		}
	}
	if u.sub == SubPlugged {
		// SYSTEMD_WANTS= that grew on a device already plugged: the new
		// ones start now (the plug that would start them is past).
		if !quiet {
			for _, t := range added {
				m.startWanted(u, t, JobStart, ModeFail)
			}
		}
		return
	}
	expected := u.job != nil && u.job.kind == JobStart
	m.logf(u, LevelDebug, "Device %s appeared (%s).", name, d.SysPath)
	m.setState(u, SubPlugged)
	if expected || quiet {
		return
	}
	// Plugged without a job asking: start what the unit needs and wants,
	// unless it is ordered after it (retroactively_start_dependencies).
	for _, list := range [][]*unit{u.deps[depRequires], u.deps[depBindsTo]} {
		for _, t := range list {
			m.startWanted(u, t, JobStart, ModeReplace)
		}
	}
	for _, t := range u.deps[depWants] {
		m.startWanted(u, t, JobStart, ModeFail)
	}
}

func (m *Manager) startWanted(u, t *unit, kind JobKind, mode JobMode) {
	if _, after := m.edgeSeen[edgeKey{u, t, depAfter}]; after {
		return
	}
	if !isInactive(t) || t.job != nil || t.def.LoadState != unitfile.Loaded {
		return
	}
	m.logf(u, LevelInfo, "%s wants %s: starting it.", u.name, t.name)
	m.request(0, t.name, kind, mode)
}

// unplugDevice makes the unit called name dead: its device went, or is no
// longer ready. Units bound to it stop (becameInactive).
func (m *Manager) unplugDevice(name string) {
	u := m.units[name]
	if u == nil {
		return
	}
	r, ok := u.impl.(*deviceRun)
	if !ok || u.sub != SubPlugged {
		return
	}
	r.sysPath = ""
	m.logf(u, LevelDebug, "Device %s disappeared.", name)
	m.setState(u, SubDead)
	m.forgetDevice(u)
}

// forgetDevice unloads a dead device unit nothing refers to, so that
// devices coming and going do not grow the manager without bound.
func (m *Manager) forgetDevice(u *unit) {
	if u.job != nil || u.sub != SubDead {
		return
	}
	for k := dep(0); k < numDeps; k++ {
		if k&1 == 1 && len(u.deps[k]) > 0 {
			return // another unit names it
		}
	}
	if len(u.def.DropIns) > 0 {
		return
	}
	m.forget(u)
}
