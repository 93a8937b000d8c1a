package reactor

import (
	"os"
	"path/filepath"
	"strings"

	"gosd/internal/mountinfo"
	"gosd/manager"
)

// probeMount carries out ProbeMount (the reactor's hook of manager/mount.go):
// whether the mount point is mounted now, by /proc/self/mountinfo (the
// mount table on systems without it); when it is not, the directory is
// made for mount(8), as systemd makes it (mkdir -p, DirectoryMode=).
func (r *Reactor) probeMount(e manager.ProbeMount) manager.MountProbed {
	res := manager.MountProbed{Unit: e.Unit}
	if mounts, err := mountinfo.Read(); err == nil {
		for _, m := range mounts {
			if m.Point == e.Where {
				res.Mounted = true
				return res
			}
		}
	}
	res.Err = os.MkdirAll(e.Where, os.FileMode(e.DirectoryMode))
	return res
}

// probeSwap carries out ProbeSwap (the reactor's hook of manager/swap.go):
// whether the device or file is in /proc/swaps, names compared after
// following symbolic links (/dev/disk/by-uuid/... is /dev/vdb2 there).
func (r *Reactor) probeSwap(e manager.ProbeSwap) manager.SwapProbed {
	res := manager.SwapProbed{Unit: e.Unit}
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return res
	}
	want := e.What
	if p, err := filepath.EvalSymlinks(want); err == nil {
		want = p
	}
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) == 0 {
			continue // the header
		}
		if mountinfo.Unescape(f[0]) == want {
			res.Active = true
		}
	}
	return res
}
