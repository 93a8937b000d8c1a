package cgroups

import (
	"errors"
	"fmt"
	"gosd/internal/mountinfo"
	"path"
	"strings"
)

// ErrUnavailable is matched (errors.Is) by every error that means "cgroup
// v2 cannot be used here": no cgroup2 mount, a read-only one, no
// permission, or an OS without cgroups. The caller then falls back to
// process groups.
var ErrUnavailable = errors.New("cgroup v2 unavailable")

// DefaultSlice is where units go when they name no Slice=.
const DefaultSlice = "system.slice"

// mount is one cgroup2 mount from /proc/self/mountinfo.
type mount struct {
	point    string // where it is mounted, e.g. /sys/fs/cgroup/unified
	root     string // which hierarchy path it shows at point, usually "/"
	readOnly bool
}

// dir returns the directory of hierarchy path p ("/a/b") under the mount.
func (m mount) dir(p string) string {
	rel := strings.TrimPrefix(p, m.root)
	return path.Join(m.point, rel)
}

// shows reports whether hierarchy path p is visible through the mount.
func (m mount) shows(p string) bool {
	return m.root == "/" || p == m.root || strings.HasPrefix(p, m.root+"/")
}

// cgroup2Mounts parses /proc/self/mountinfo (proc(5)) and returns every
// cgroup2 mount in order.
func cgroup2Mounts(text string) []mount {
	var out []mount
	for _, m := range mountinfo.Parse(text) {
		if m.FSType == "cgroup2" {
			out = append(out, mount{point: m.Point, root: m.Root, readOnly: m.ReadOnly()})
		}
	}
	return out
}

// v2Path returns the cgroup v2 path ("0::/path" line) from a
// /proc/PID/cgroup file.
func v2Path(procCgroup string) (string, bool) {
	for _, line := range strings.Split(procCgroup, "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			p = strings.TrimSuffix(p, " (deleted)")
			if strings.HasPrefix(p, "/") {
				return p, true
			}
		}
	}
	return "", false
}

// chooseMount picks the writable cgroup2 mount that shows cgroup path own.
func chooseMount(mounts []mount, own string) (mount, error) {
	if len(mounts) == 0 {
		return mount{}, fmt.Errorf("cgroups: no cgroup2 mount in /proc/self/mountinfo: %w", ErrUnavailable)
	}
	var readOnly string
	for _, m := range mounts {
		if !m.shows(own) {
			continue
		}
		if m.readOnly {
			readOnly = m.point
			continue
		}
		return m, nil
	}
	if readOnly != "" {
		return mount{}, fmt.Errorf("cgroups: cgroup2 at %s is read-only: %w", readOnly, ErrUnavailable)
	}
	return mount{}, fmt.Errorf("cgroups: own cgroup %s is not visible in any cgroup2 mount: %w", own, ErrUnavailable)
}

// slicePath turns a slice unit name into the directories systemd.slice(5)
// nests it in: "a-b.slice" is "a.slice/a-b.slice"; "-.slice" is the root.
func slicePath(slice string) (string, error) {
	if slice == "" {
		slice = DefaultSlice
	}
	if slice == "-.slice" {
		return "", nil
	}
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || name == "" || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("cgroups: bad slice name %q", slice)
	}
	parts := strings.Split(name, "-")
	dirs := make([]string, len(parts))
	for i, p := range parts {
		if p == "" {
			return "", fmt.Errorf("cgroups: bad slice name %q", slice)
		}
		dirs[i] = strings.Join(parts[:i+1], "-") + ".slice"
	}
	return strings.Join(dirs, "/"), nil
}

// kernelPrefixes are names the kernel uses (or may use) for its own files
// in a cgroup directory; a unit named like one gets a "_" in front, as
// systemd does, so it can never collide.
var kernelPrefixes = []string{"cgroup.", "cpu.", "cpuset.", "io.", "memory.", "pids.",
	"rdma.", "hugetlb.", "misc.", "irq.", "dmem."}

// escapeUnit turns a unit name into its cgroup directory name.
func escapeUnit(unit string) (string, error) {
	if unit == "" || unit == "." || unit == ".." || strings.ContainsAny(unit, "/\x00") {
		return "", fmt.Errorf("cgroups: bad unit name %q", unit)
	}
	if strings.HasPrefix(unit, "_") || strings.HasPrefix(unit, ".") {
		return "_" + unit, nil
	}
	for _, p := range kernelPrefixes {
		if strings.HasPrefix(unit, p) {
			return "_" + unit, nil
		}
	}
	return unit, nil
}

// unitFromPath maps a cgroup path below the units' root ("system.slice/
// foo.service/sub") to its unit: the first component that is not a slice.
func unitFromPath(rel string) (string, bool) {
	for _, c := range strings.Split(rel, "/") {
		if c == "" || strings.HasSuffix(c, ".slice") {
			continue
		}
		return strings.TrimPrefix(c, "_"), true
	}
	return "", false
}

// below returns p relative to parent when p is parent or inside it
// (hierarchy paths, "/" is the top).
func below(p, parent string) (string, bool) {
	if parent == "/" {
		return strings.TrimPrefix(p, "/"), strings.HasPrefix(p, "/")
	}
	if p == parent {
		return "", true
	}
	if rel, ok := strings.CutPrefix(p, parent+"/"); ok {
		return rel, true
	}
	return "", false
}
