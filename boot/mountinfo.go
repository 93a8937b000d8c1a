package boot

import (
	"gosd/internal/mountinfo"
)

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry = mountinfo.Mount

// readMountinfo returns the mounts in mount order; nil when /proc is not
// mounted yet (the first step of EarlyBoot mounts it).
func readMountinfo() []mountEntry {
	ms, _ := mountinfo.Read()
	return ms
}

// mountedAt returns the last (topmost) mount at point, or nil.
func mountedAt(mounts []mountEntry, point string) *mountEntry {
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].Point == point {
			return &mounts[i]
		}
	}
	return nil
}
