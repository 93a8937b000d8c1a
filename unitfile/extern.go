package unitfile

import (
	"os"
	"runtime"
	"strings"

	"gosd/internal/kcmdline"
)

// Units of the types gosd has no runtime for (systemd.unit(5): scope)
// still load, so that units naming them in Wants=/After=/Requires=
// behave as they would under systemd where that is possible. What gosd
// can honestly say about them is added here as checks the manager already
// knows how to run.
//
// A device unit has no file: systemd makes it from udev, and so does gosd
// on Linux (manager/device.go follows the devices the reactor reports).
// Where gosd follows no devices (FreeBSD, darwin), the synthesised unit's
// start asserts that its node exists (dev-ttyS0.device: /dev/ttyS0): it is
// active when the node is there and fails at once when it is not, where
// systemd would wait for the device.
//
// Each added check carries Pos{File: ExternalCheck} so the manager can
// tell it from the unit's own lines and log why.

// FollowsDevices says whether gosd follows devices as they come and go on
// this system (the kernel's uevents and udev's database, Linux only).
const FollowsDevices = runtime.GOOS == "linux"

// ExternalCheck is the Pos.File of the conditions and asserts gosd adds to
// units of types it does not run.
const ExternalCheck = "(gosd: unsupported unit type)"

// UnsupportedType reports whether gosd has no runtime for units of type t
// (the suffix without the dot). Targets, services, sockets, timers,
// paths, mounts, swaps, automounts and devices run; slices group cgroups
// and are treated as always active.
func UnsupportedType(t string) bool {
	switch t {
	case "scope":
		return true
	}
	return false
}

// devicePath maps a device unit's name to the path it stands for:
// dev-ttyS0.device is /dev/ttyS0; sys-subsystem-net-devices-X is
// /sys/class/net/X (systemd's alias for network devices).
func devicePath(name string) (string, bool) {
	prefix, _, suffix := SplitName(name)
	if suffix != "device" || IsTemplate(name) || strings.Contains(name, "@") {
		return "", false
	}
	p, err := UnescapePath(prefix)
	if err != nil {
		return "", false
	}
	if rest, ok := strings.CutPrefix(p, "/sys/subsystem/net/devices/"); ok {
		p = "/sys/class/net/" + rest
	}
	return p, true
}

// syntheticDevice is the unit gosd loads for a device unit without a
// file; its drop-ins apply (fstab's x-systemd.device-timeout= is one:
// JobRunningTimeoutSec=).
func (s *Set) syntheticDevice(name string) *Unit {
	p, ok := devicePath(name)
	if !ok {
		return nil
	}
	u := s.withoutFile(name, p)
	if !FollowsDevices {
		u.Unit.Asserts = append(u.Unit.Asserts, Condition{Kind: "PathExists", Value: p, Pos: Pos{File: ExternalCheck}})
	}
	return u
}

// syntheticSlice is a slice unit without a file, loaded as systemd loads
// every slice name (a slice's file is optional): -.slice, system.slice,
// and the system-NAME.slice that holds the instances of NAME@.service.
// Its drop-ins apply; it is described as systemd describes it.
func (s *Set) syntheticSlice(name string) *Unit {
	prefix, _, suffix := SplitName(name)
	if suffix != "slice" || strings.Contains(name, "@") {
		return nil
	}
	desc := "Slice /"
	switch name {
	case "-.slice":
		desc = "Root Slice"
	case "system.slice":
		desc = "System Slice"
	default:
		p, err := UnescapePath(prefix)
		if err != nil {
			return nil
		}
		desc += strings.TrimPrefix(p, "/")
	}
	return s.withoutFile(name, desc)
}

// withoutFile builds a unit that has no file from its drop-ins alone,
// described as desc unless a drop-in says otherwise.
func (s *Set) withoutFile(name, desc string) *Unit {
	var entries []Entry
	var syntax []Diag
	var dropPaths []string
	for _, d := range s.effectiveDropIns([]string{name}) {
		entries = append(entries, d.entries...)
		syntax = append(syntax, d.diags...)
		dropPaths = append(dropPaths, d.path)
	}
	u := Build(name, entries, BuildInfo{DropIns: dropPaths})
	u.Name, u.LoadState, u.DropIns = name, Loaded, dropPaths
	if u.Unit.Description == "" {
		u.Unit.Description = desc
	}
	for i := range syntax {
		syntax[i].Unit = name
	}
	u.Diags = append(syntax, u.Diags...)
	u.fill(name)
	return u
}

// addExternalChecks adds to a loaded unit of a type gosd does not run the
// check that says whether it is already in place. Mount units run since
// gosd mounts them (manager/mount.go); swap units have no check yet.
func addExternalChecks(u *Unit) {}

// SerialGettys is systemd-getty-generator(8) for serial consoles: the
// serial-getty@.service instances for the kernel's active consoles.
// consoles is /sys/class/tty/console/active (space-separated names, e.g.
// "tty0 ttyS0"); virtual terminals (tty, tty0, tty1...) get gettys from
// getty.target's own wants, not from here.
func SerialGettys(consoles string) []string {
	var out []string
	for _, c := range strings.Fields(consoles) {
		if c == "tty" || strings.HasPrefix(c, "tty") && len(c) > 3 && c[3] >= '0' && c[3] <= '9' {
			continue
		}
		n := "serial-getty@" + c + ".service"
		if ValidName(n) {
			out = appendUnique(out, n)
		}
	}
	return out
}

// activeConsoles reads the kernel's active consoles; when /sys is not
// there it falls back to the console= words of /proc/cmdline.
func activeConsoles() string {
	if b, err := os.ReadFile("/sys/class/tty/console/active"); err == nil {
		return string(b)
	}
	var names []string
	for _, w := range strings.Fields(kcmdline.Read()) {
		if v, ok := strings.CutPrefix(w, "console="); ok {
			if i := strings.IndexByte(v, ','); i >= 0 {
				v = v[:i]
			}
			names = append(names, strings.TrimPrefix(v, "/dev/"))
		}
	}
	return strings.Join(names, " ")
}

// generate runs the generators gosd emulates, for the system manager
// only: serial gettys into getty.target.wants (as the generator's
// symlinks in /run/systemd/generator would).
func (s *Set) generate() {
	if len(s.searchPath) == 0 {
		return
	}
	s.generateFstab()
	if _, ok := s.files["serial-getty@.service"]; !ok {
		return
	}
	key := dirKey{"getty.target.wants", 0}
	for _, n := range SerialGettys(activeConsoles()) {
		s.putDeps(key, appendUnique(s.deps[key], n))
	}
}

// generateFstab is what gosd does of systemd-fstab-generator(8), unless
// fstab=no is on the kernel command line: it pulls
// systemd-remount-fs.service into local-fs.target (the service applies
// fstab's options to the root and /usr itself), makes a mount unit of
// every other mount entry (FstabMounts), pulled in by local-fs.target or
// remote-fs.target, and names each swap entry it does not enable, with its
// /etc/fstab line.
func (s *Set) generateFstab() {
	for _, w := range strings.Fields(kcmdline.Read()) {
		if v, ok := strings.CutPrefix(w, "fstab="); ok {
			if on, err := ParseBool(v); err == nil && !on {
				return
			}
		}
	}
	if _, ok := s.files["systemd-remount-fs.service"]; ok {
		key := dirKey{"local-fs.target.wants", 0}
		s.putDeps(key, appendUnique(s.deps[key], "systemd-remount-fs.service"))
	}
	text, err := os.ReadFile("/etc/fstab")
	if err != nil {
		return
	}
	entries := ParseFstab(string(text))
	s.diags = append(s.diags, FstabDiags("/etc/fstab", entries, nil)...)
	for _, d := range FstabDeviceTimeouts("/etc/fstab", entries) {
		key := dirKey{d.Device + ".d", 0}
		s.putDropIns(key, append(s.dropIns[key], dropIn{base: "50-device-timeout.conf", path: "/etc/fstab",
			entries: []Entry{d.Entry}}))
	}
	for _, m := range FstabMounts("/etc/fstab", entries) {
		if _, ok := s.files[m.Name]; ok {
			continue // a unit file of that name wins, as it would over /run/systemd/generator
		}
		s.files[m.Name] = &unitFile{path: "/etc/fstab", kind: kindFragment, fragment: "/etc/fstab", entries: m.Entries}
		if m.WantedBy != "" {
			suffix := ".requires"
			if m.Wants {
				suffix = ".wants"
			}
			key := dirKey{m.WantedBy + suffix, 0}
			s.putDeps(key, appendUnique(s.deps[key], m.Name))
		}
	}
}
