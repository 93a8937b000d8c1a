package unitfile

import (
	"fmt"
	"path"
	"strings"

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
// into a mount or swap unit started at boot, that gosd does not do it:
// gosd has no mount or swap units, so an entry is in place only if
// something mounted it before (the kernel, an initrd, a container
// runtime). mounted tells whether a path is a mount point now. The root
// and /usr are left out: systemd-remount-fs.service applies their options.
func FstabDiags(file string, entries []FstabEntry, mounted func(string) bool) []Diag {
	var out []Diag
	for _, e := range entries {
		if mountinfo.HasOption(e.Options, "noauto") {
			continue // not pulled in at boot by systemd either
		}
		pos := Pos{File: file, Line: e.Line}
		switch {
		case e.Type == "swap":
			out = append(out, Diag{Pos: pos, Severity: Warning,
				Msg: fmt.Sprintf("swap %s is not enabled: gosd does not run swap units (systemd-fstab-generator); run swapon from a service", e.What)})
		case e.Where == "/" || e.Where == "/usr" || e.Where == "none" || !strings.HasPrefix(e.Where, "/"):
		case !mounted(e.Where):
			out = append(out, Diag{Pos: pos, Severity: Warning,
				Msg: fmt.Sprintf("%s on %s (%s) is not mounted: gosd does not run mount units (systemd-fstab-generator); mount it before gosd starts or from a service", e.What, e.Where, e.Type)})
		}
	}
	return out
}
