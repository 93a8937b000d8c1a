package reactor

import (
	"os"

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
