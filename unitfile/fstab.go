package unitfile

import (
	"fmt"
	"path"
	"strings"
	"time"

	"gosd/internal/mountinfo"
)

// FstabEntry is one line of /etc/fstab (fstab(5)).
type FstabEntry struct {
	What, Where, Type, Options string
	Line                       int
}

// ParseFstab reads fstab(5) text: six whitespace-separated fields (the
// last two optional), lines whose first non-blank character is '#' are
// comments (a '#' inside a field is data, as libmount reads it), octal
// escapes such as \040 for a space. Lines with fewer than four fields are
// skipped. Mount points are cleaned ("/srv/" is "/srv").
func ParseFstab(text string) []FstabEntry {
	var out []FstabEntry
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		where := mountinfo.Unescape(f[1])
		if strings.HasPrefix(where, "/") {
			where = path.Clean(where)
		}
		out = append(out, FstabEntry{What: mountinfo.Unescape(f[0]), Where: where,
			Type: f[2], Options: f[3], Line: i + 1})
	}
	return out
}

// FstabDiags says, for each entry systemd-fstab-generator(8) would turn
// into a unit started at boot that gosd does not make, that gosd does not
// do it: a swap entry whose device gosd cannot name. Mount and swap
// entries become units (FstabMounts). mounted is unused (kept for the
// callers).
func FstabDiags(file string, entries []FstabEntry, mounted func(string) bool) []Diag {
	var out []Diag
	for _, e := range entries {
		if mountinfo.HasOption(e.Options, "noauto") {
			continue // not pulled in at boot by systemd either
		}
		if e.Type == "swap" && !strings.HasPrefix(fstabNode(e.What), "/") {
			out = append(out, Diag{Pos: Pos{File: file, Line: e.Line}, Severity: Warning,
				Msg: fmt.Sprintf("swap %s is not enabled: gosd cannot name its device", e.What)})
		}
	}
	return out
}

// FstabMount is a mount unit systemd-fstab-generator(8) would make from
// one fstab entry: its name, its entries (each at the fstab line), and the
// target that pulls it in at boot (Requires=, or Wants= with nofail; ""
// with noauto).
type FstabMount struct {
	Name     string
	Entries  []Entry
	WantedBy string
	Wants    bool // nofail: a Wants= instead of Requires=
}

// FstabMounts is systemd-fstab-generator(8) for mount entries: every entry
// with an absolute mount point but the root and /usr (whose options
// systemd-remount-fs.service applies) becomes NAME.mount with What=,
// Where=, Type=, Options= and TimeoutSec= (x-systemd.mount-timeout=), and
// x-systemd.requires=, .after=, .before=, .requires-mounts-for= as [Unit]
// settings. local-fs.target pulls it in, remote-fs.target for network file
// systems and _netdev. An entry with x-systemd.automount also gets
// NAME.automount, which the target pulls in instead of the mount unit.
func FstabMounts(file string, entries []FstabEntry) []FstabMount {
	var out []FstabMount
	for _, e := range entries {
		if e.Type == "swap" {
			if m, ok := fstabSwap(file, e); ok {
				out = append(out, m)
			}
			continue
		}
		if !strings.HasPrefix(e.Where, "/") || e.Where == "/" || e.Where == "/usr" || IgnoredMountPoint(e.Where) {
			continue // an API file system ("proc /proc proc defaults") is gosd's to mount, as systemd's
		}
		name, err := EscapePath(e.Where)
		if err != nil {
			continue
		}
		pos := Pos{File: file, Line: e.Line}
		ent := func(section, key, value string) Entry {
			return Entry{Section: section, Key: key, Value: value, Pos: pos}
		}
		m := FstabMount{Name: name + ".mount"}
		m.Entries = append(m.Entries,
			ent("Unit", "Documentation", "man:fstab(5) man:systemd-fstab-generator(8)"),
			ent("Unit", "SourcePath", file))
		for _, o := range strings.Split(e.Options, ",") {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "x-systemd.requires":
				if strings.HasPrefix(v, "/") {
					m.Entries = append(m.Entries, ent("Unit", "RequiresMountsFor", v))
				} else {
					m.Entries = append(m.Entries, ent("Unit", "Requires", v), ent("Unit", "After", v))
				}
			case "x-systemd.after":
				m.Entries = append(m.Entries, ent("Unit", "After", v))
			case "x-systemd.before":
				m.Entries = append(m.Entries, ent("Unit", "Before", v))
			case "x-systemd.requires-mounts-for":
				m.Entries = append(m.Entries, ent("Unit", "RequiresMountsFor", v))
			case "x-systemd.mount-timeout":
				m.Entries = append(m.Entries, ent("Mount", "TimeoutSec", v))
			}
		}
		// UUID=, LABEL=, ... name the udev link, as the generator writes
		// What= (and so the mount waits for that device).
		m.Entries = append(m.Entries, ent("Mount", "What", fstabNode(e.What)), ent("Mount", "Where", e.Where))
		if e.Type != "" && e.Type != "auto" {
			m.Entries = append(m.Entries, ent("Mount", "Type", e.Type))
		}
		if e.Options != "" && e.Options != "defaults" {
			m.Entries = append(m.Entries, ent("Mount", "Options", e.Options))
		}
		target := "local-fs.target"
		if mountinfo.HasOption(e.Options, "_netdev") || networkFSType(e.Type) {
			target = "remote-fs.target"
		}
		nofail := mountinfo.HasOption(e.Options, "nofail")
		if mountinfo.HasOption(e.Options, "x-systemd.automount") {
			// The target pulls in the automount unit instead, noauto or
			// not (systemd.mount(5)); the mount waits for an access.
			out = append(out, m, fstabAutomount(file, e, name, target, nofail))
			continue
		}
		if !mountinfo.HasOption(e.Options, "noauto") {
			m.WantedBy, m.Wants = target, nofail
		}
		out = append(out, m)
	}
	return out
}

// fstabAutomount is the automount unit systemd-fstab-generator makes for
// an entry with x-systemd.automount: Where= the mount point,
// TimeoutIdleSec= from x-systemd.idle-timeout=, pulled in by target
// (Wants= with nofail). The x-systemd.requires=/after=/before= options
// stay with the mount unit (systemd.mount(5)).
func fstabAutomount(file string, e FstabEntry, name, target string, nofail bool) FstabMount {
	pos := Pos{File: file, Line: e.Line}
	ent := func(section, key, value string) Entry {
		return Entry{Section: section, Key: key, Value: value, Pos: pos}
	}
	a := FstabMount{Name: name + ".automount", WantedBy: target, Wants: nofail}
	a.Entries = append(a.Entries,
		ent("Unit", "Documentation", "man:fstab(5) man:systemd-fstab-generator(8)"),
		ent("Unit", "SourcePath", file),
		ent("Automount", "Where", e.Where))
	for _, o := range strings.Split(e.Options, ",") {
		if v, ok := strings.CutPrefix(o, "x-systemd.idle-timeout="); ok {
			a.Entries = append(a.Entries, ent("Automount", "TimeoutIdleSec", v))
		}
	}
	return a
}

// FstabDeviceTimeout is the drop-in systemd-fstab-generator writes for
// x-systemd.device-timeout=: JobRunningTimeoutSec= of the device unit the
// entry waits for.
type FstabDeviceTimeout struct {
	Device string // the device unit's name
	Entry  Entry  // [Unit] JobRunningTimeoutSec=, at the fstab line
}

// FstabDeviceTimeouts lists the device timeouts of the entries that name
// a device (a path under /dev, or UUID=, LABEL=...).
func FstabDeviceTimeouts(file string, entries []FstabEntry) []FstabDeviceTimeout {
	var out []FstabDeviceTimeout
	for _, e := range entries {
		node := fstabNode(e.What)
		if !strings.HasPrefix(node, "/dev/") {
			continue
		}
		for _, o := range strings.Split(e.Options, ",") {
			v, ok := strings.CutPrefix(o, "x-systemd.device-timeout=")
			if !ok {
				continue
			}
			name, err := EscapePath(node)
			if err != nil {
				continue
			}
			out = append(out, FstabDeviceTimeout{Device: name + ".device", Entry: Entry{Section: "Unit",
				Key: "JobRunningTimeoutSec", Value: v, Pos: Pos{File: file, Line: e.Line}}})
		}
	}
	return out
}

// networkFSType: the file system types systemd counts as network file
// systems (fstype_is_network).
func networkFSType(t string) bool {
	switch strings.TrimPrefix(t, "fuse.") {
	case "afs", "ceph", "cifs", "smb3", "smbfs", "sshfs", "ncpfs", "ncp", "nfs", "nfs4", "gfs", "gfs2",
		"glusterfs", "gpfs", "pvfs2", "ocfs2", "lustre", "davfs":
		return true
	}
	return false
}

// fstabNode is the device node udev names for an fstab source (systemd's
// fstab_node_to_udev_node): UUID=, LABEL=, PARTUUID=, PARTLABEL= under
// /dev/disk/by-*.
func fstabNode(what string) string {
	for _, k := range []string{"UUID", "LABEL", "PARTUUID", "PARTLABEL"} {
		if v, ok := strings.CutPrefix(what, k+"="); ok {
			return "/dev/disk/by-" + strings.ToLower(k) + "/" + strings.ReplaceAll(v, "/", "\\x2f")
		}
	}
	return what
}

// fstabSwap is the swap unit systemd-fstab-generator makes from a swap
// entry: What= the node, Priority= from pri=, the options; swap.target
// pulls it in (Wants= with nofail, nothing with noauto).
func fstabSwap(file string, e FstabEntry) (FstabMount, bool) {
	node := fstabNode(e.What)
	if !strings.HasPrefix(node, "/") {
		return FstabMount{}, false
	}
	name, err := EscapePath(node)
	if err != nil {
		return FstabMount{}, false
	}
	pos := Pos{File: file, Line: e.Line}
	ent := func(section, key, value string) Entry {
		return Entry{Section: section, Key: key, Value: value, Pos: pos}
	}
	m := FstabMount{Name: name + ".swap"}
	m.Entries = append(m.Entries,
		ent("Unit", "Documentation", "man:fstab(5) man:systemd-fstab-generator(8)"),
		ent("Unit", "SourcePath", file),
		ent("Swap", "What", node))
	var opts []string
	for _, o := range strings.Split(e.Options, ",") {
		k, v, _ := strings.Cut(o, "=")
		switch {
		case k == "pri":
			m.Entries = append(m.Entries, ent("Swap", "Priority", v))
		case o == "" || o == "defaults" || o == "sw" || o == "noauto" || o == "nofail" || strings.HasPrefix(o, "x-systemd."):
		default:
			opts = append(opts, o)
		}
	}
	if len(opts) > 0 {
		m.Entries = append(m.Entries, ent("Swap", "Options", strings.Join(opts, ",")))
	}
	if !mountinfo.HasOption(e.Options, "noauto") {
		m.WantedBy, m.Wants = "swap.target", mountinfo.HasOption(e.Options, "nofail")
	}
	return m, true
}

// IgnoredMountPoint says whether systemd leaves a mount point out of its
// mount units and of fstab (mount_point_is_api, mount_point_ignore): the
// API file systems it mounts itself, everything below /sys/fs/cgroup/,
// and the ones container managers bind in. Nothing may depend on them.
func IgnoredMountPoint(where string) bool {
	switch where {
	case "/proc", "/sys", "/dev", "/dev/shm", "/dev/pts", "/run", "/sys/kernel/security",
		"/sys/fs/cgroup", "/sys/fs/pstore", "/sys/firmware/efi/efivars", "/sys/fs/bpf", "/sys/fs/smackfs",
		"/sys/fs/selinux", "/dev/console", "/proc/kmsg", "/proc/sys", "/proc/sys/kernel/random/boot_id":
		return true
	}
	return strings.HasPrefix(where, "/sys/fs/cgroup/") || where == "/run/host" || strings.HasPrefix(where, "/run/host/")
}

// MountTable is the SourcePath of the units MountFromTable makes.
const MountTable = "/proc/self/mountinfo"

// MountFromTable is the mount unit systemd makes for a mount of the mount
// table that has no unit file (mount_setup_new_unit): loaded, described
// by its mount point ("Root Mount" for /), with What=, Where=, Type= and
// Options= as the table has them and every other setting at its default.
// name is the unit's name (EscapePath of where plus ".mount").
func MountFromTable(name, where, what, fstype, options string) *Unit {
	desc := where
	if where == "/" {
		desc = "Root Mount"
	}
	u := &Unit{Name: name, Type: "mount", LoadState: Loaded, Unit: defaultUnitSection()}
	u.Unit.Description, u.Unit.SourcePath = desc, MountTable
	u.Unit.IgnoreOnIsolate = true
	u.Mount = &Mount{What: what, Where: where, Type: fstype, Options: options, DirectoryMode: 0o755,
		TimeoutSec: 90 * time.Second, Exec: defaultExec(), Kill: defaultKill()}
	return u
}

// SwapTable is the SourcePath of the units SwapFromTable makes.
const SwapTable = "/proc/swaps"

// SwapFromTable is the swap unit systemd makes for a swap of /proc/swaps
// that has no unit file: loaded, described by its path, What= and
// Priority= as the table has them.
func SwapFromTable(name, what string, priority int) *Unit {
	u := &Unit{Name: name, Type: "swap", LoadState: Loaded, Unit: defaultUnitSection()}
	u.Unit.Description, u.Unit.SourcePath = what, SwapTable
	u.Unit.IgnoreOnIsolate = true
	u.Swap = &Swap{What: what, Priority: &priority, TimeoutSec: 90 * time.Second, Exec: defaultExec(), Kill: defaultKill()}
	return u
}
