// Package mountinfo reads /proc/self/mountinfo (proc(5)): the one parser of
// the mount table that early boot, cgroup discovery and unit conditions
// share.
package mountinfo

import (
	"os"
	"strconv"
	"strings"
)

// Mount is one line of mountinfo.
type Mount struct {
	Root         string // the root of the mount within its filesystem
	Point        string // mount point, as seen from our root
	Options      string // per-mount options (ro, nosuid, ...)
	FSType       string
	Source       string
	SuperOptions string // per-superblock options
}

// ReadOnly reports whether the mount or its superblock is read-only.
func (m Mount) ReadOnly() bool {
	return HasOption(m.Options, "ro") || HasOption(m.SuperOptions, "ro")
}

// Read parses /proc/self/mountinfo; it fails when /proc is not mounted.
func Read() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return Parse(string(b)), nil
}

// Parse parses mountinfo text, in mount order; malformed lines are skipped.
func Parse(s string) []Mount {
	var out []Mount
	for _, line := range strings.Split(s, "\n") {
		// id parent major:minor root point options [optional...] - fstype source superoptions
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+2 >= len(f) {
			continue
		}
		m := Mount{
			Root:    Unescape(f[3]),
			Point:   Unescape(f[4]),
			Options: f[5],
			FSType:  f[sep+1],
			Source:  Unescape(f[sep+2]),
		}
		if sep+3 < len(f) {
			m.SuperOptions = f[sep+3]
		}
		out = append(out, m)
	}
	return out
}

// HasOption reports whether opt is one of the comma-separated options
// (the same list syntax as fstab(5)'s fourth field).
func HasOption(list, opt string) bool {
	for _, o := range strings.Split(list, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// unescape undoes the kernel's octal escapes (\040 for a space, ...).
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
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
