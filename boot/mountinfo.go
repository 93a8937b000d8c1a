package boot

import (
	"os"
	"strconv"
	"strings"
)

// mountEntry is one line of /proc/self/mountinfo (proc(5)).
type mountEntry struct {
	Point   string // mount point, as seen from our root
	FSType  string
	Source  string
	Options string // per-mount options (ro, nosuid, ...)
}

// readMountinfo returns the mounts in mount order; nil when /proc is not
// mounted yet (the first step of EarlyBoot mounts it).
func readMountinfo() []mountEntry {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	return parseMountinfo(string(b))
}

func parseMountinfo(s string) []mountEntry {
	var out []mountEntry
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		// id parent maj:min root point options [optional...] - fstype source super
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 6 || sep < 0 || sep+2 >= len(f) {
			continue
		}
		out = append(out, mountEntry{
			Point:   unescapeMount(f[4]),
			FSType:  f[sep+1],
			Source:  unescapeMount(f[sep+2]),
			Options: f[5],
		})
	}
	return out
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space, ...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
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
