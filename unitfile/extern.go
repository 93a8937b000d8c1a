package unitfile

import (
	"os"
	"strings"

	"gosd/internal/mountinfo"
)

// Units of the types gosd has no runtime for (systemd.unit(5): device,
// mount, automount, swap, slice, scope) still load, so that
// units naming them in Wants=/After=/Requires= behave as they would under
// systemd where that is possible. What gosd can honestly say about them
// is added here as checks the manager already knows how to run:
//
//   - a device unit has no file: systemd makes it from udev. gosd
//     synthesises one whose start asserts that its node exists
//     (dev-ttyS0.device: /dev/ttyS0). It is active when the node is
//     there, and fails at once when it is not, where systemd would wait
//     for udev up to its 90 s device timeout and then fail the same
//     dependents.
//   - a mount or swap unit is active only if what it describes is already
//     in place (the mount point is mounted: by the kernel, the initramfs
//     or gosd's early boot); gosd mounts nothing and enables no swap.
//
// Each added check carries Pos{File: ExternalCheck} so the manager can
// tell it from the unit's own lines and log why.

// ExternalCheck is the Pos.File of the conditions and asserts gosd adds to
// units of types it does not run.
const ExternalCheck = "(gosd: unsupported unit type)"

// UnsupportedType reports whether gosd has no runtime for units of type t
// (the suffix without the dot). Targets, services, sockets, timers and
// paths run; slices group cgroups and are treated as always active.
func UnsupportedType(t string) bool {
	switch t {
	case "device", "mount", "automount", "swap", "scope":
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

// syntheticDevice is the unit gosd loads for a device unit without a file.
func syntheticDevice(name string) *Unit {
	p, ok := devicePath(name)
	if !ok {
		return nil
	}
	u := Build(name, nil, BuildInfo{})
	u.Name, u.LoadState = name, Loaded
	u.Unit.Description = p
	u.Unit.Asserts = append(u.Unit.Asserts, Condition{Kind: "PathExists", Value: p, Pos: Pos{File: ExternalCheck}})
	u.fill(name)
	return u
}

// addExternalChecks adds to a loaded mount or swap unit the check that
// says whether it is already in place.
func addExternalChecks(u *Unit) {
	prefix, _, _ := SplitName(u.Name)
	switch u.Type {
	case "mount":
		if p, err := UnescapePath(prefix); err == nil {
			u.Unit.Conditions = append(u.Unit.Conditions, Condition{Kind: "PathIsMountPoint", Value: p, Pos: Pos{File: ExternalCheck}})
		}
	}
}

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
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return ""
	}
	var names []string
	for _, w := range strings.Fields(string(b)) {
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
		s.deps[key] = appendUnique(s.deps[key], n)
	}
}

// generateFstab is what gosd does of systemd-fstab-generator(8), unless
// fstab=no is on the kernel command line: it pulls
// systemd-remount-fs.service into local-fs.target (the service applies
// fstab's options to the root and /usr itself), and names every other
// entry it cannot mount, each with its /etc/fstab line.
func (s *Set) generateFstab() {
	if cmdline, err := os.ReadFile("/proc/cmdline"); err == nil {
		for _, w := range strings.Fields(string(cmdline)) {
			if v, ok := strings.CutPrefix(w, "fstab="); ok {
				if on, err := ParseBool(v); err == nil && !on {
					return
				}
			}
		}
	}
	if _, ok := s.files["systemd-remount-fs.service"]; ok {
		key := dirKey{"local-fs.target.wants", 0}
		s.deps[key] = appendUnique(s.deps[key], "systemd-remount-fs.service")
	}
	text, err := os.ReadFile("/etc/fstab")
	if err != nil {
		return
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return
	}
	points := map[string]bool{}
	for _, m := range mounts {
		points[m.Point] = true
	}
	s.diags = append(s.diags, FstabDiags("/etc/fstab", ParseFstab(string(text)), func(p string) bool { return points[p] })...)
}
