package unitfile

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the value parsers shared by Build and by other packages.
// Each follows the man page named in its comment.

// ParseBool accepts systemd's booleans (systemd.syntax(7)): 1, yes, y,
// true, t, on and 0, no, n, false, f, off, in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", s)
}

// timeUnits are the unit names of systemd.time(7) "PARSING TIME SPANS".
// A month is 30.44 days and a year 365.25 days, as systemd defines them.
var timeUnits = map[string]time.Duration{
	"usec": time.Microsecond, "us": time.Microsecond, "µs": time.Microsecond, "μs": time.Microsecond,
	"msec": time.Millisecond, "ms": time.Millisecond,
	"seconds": time.Second, "second": time.Second, "sec": time.Second, "s": time.Second,
	"minutes": time.Minute, "minute": time.Minute, "min": time.Minute, "m": time.Minute,
	"hours": time.Hour, "hour": time.Hour, "hr": time.Hour, "h": time.Hour,
	"days": 24 * time.Hour, "day": 24 * time.Hour, "d": 24 * time.Hour,
	"weeks": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "w": 7 * 24 * time.Hour,
	"months": 2629800 * time.Second, "month": 2629800 * time.Second, "M": 2629800 * time.Second,
	"years": 31557600 * time.Second, "year": 31557600 * time.Second, "y": 31557600 * time.Second,
}

// ParseTimespan parses a time span as systemd.time(7) describes it:
// "infinity", or one or more "NUMBER[UNIT]" components that add up
// ("1min 30s", "2h30min", "5.5s", "500ms"). A number without a unit is
// seconds.
func ParseTimespan(s string) (time.Duration, error) {
	return parseTimespanDefault(s, time.Second)
}

// parseTimespanDefault is ParseTimespan with a chosen unit for bare
// numbers (LimitRTTIME= takes microseconds, systemd.exec(5)).
func parseTimespanDefault(s string, def time.Duration) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "infinity" {
		return Infinity, nil
	}
	if t == "" {
		return 0, errors.New("empty time span")
	}
	var total float64
	for t != "" {
		i := 0
		for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid time span %q", s)
		}
		num, err := strconv.ParseFloat(t[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid time span %q", s)
		}
		t = strings.TrimLeft(t[i:], " \t")
		j := 0
		for j < len(t) && !(t[j] >= '0' && t[j] <= '9' || t[j] == '.' || t[j] == ' ' || t[j] == '\t') {
			j++
		}
		unit := def
		if j > 0 {
			u, ok := timeUnits[t[:j]]
			if !ok {
				return 0, fmt.Errorf("invalid time unit %q in %q", t[:j], s)
			}
			unit = u
		}
		total += num * float64(unit)
		t = strings.TrimLeft(t[j:], " \t")
	}
	if total >= float64(math.MaxInt64) {
		return Infinity, nil
	}
	return time.Duration(total), nil
}

// ParseSize parses a byte size with the 1024-based suffixes K, M, G, T, P,
// E (and B for bytes) that systemd accepts; fractions like "1.5G" are
// allowed. "infinity" is not handled here.
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty size")
	}
	mult := float64(1)
	switch t[len(t)-1] {
	case 'B':
		t = t[:len(t)-1]
	case 'K':
		mult = 1 << 10
	case 'M':
		mult = 1 << 20
	case 'G':
		mult = 1 << 30
	case 'T':
		mult = 1 << 40
	case 'P':
		mult = 1 << 50
	case 'E':
		mult = 1 << 60
	}
	if mult != 1 {
		t = t[:len(t)-1]
	}
	t = strings.TrimSpace(t)
	if t == "" || t[0] == '-' || t[0] == '+' {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	if mult == 1 && !strings.Contains(t, ".") {
		n, err := strconv.ParseUint(t, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid size %q", s)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f*mult >= float64(math.MaxUint64) {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return uint64(f * mult), nil
}

// ParsePercent parses "N%" or "N.N%" and returns it in hundredths of a
// percent (basis points): "12.5%" is 1250.
func ParsePercent(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	if !strings.HasSuffix(t, "%") {
		return 0, fmt.Errorf("invalid percentage %q", s)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t[:len(t)-1]), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("invalid percentage %q", s)
	}
	return uint64(math.Round(f * 100)), nil
}

// ParseMode parses an octal file mode or umask (0..07777).
func ParseMode(s string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 8, 32)
	if err != nil || n > 07777 {
		return 0, fmt.Errorf("invalid mode %q", s)
	}
	return uint32(n), nil
}

// rlimitKind says how Limit*= values are measured (systemd.exec(5) Table 1).
var rlimitKind = map[string]string{
	"CPU": "sec", "FSIZE": "bytes", "DATA": "bytes", "STACK": "bytes", "CORE": "bytes",
	"RSS": "bytes", "NOFILE": "count", "AS": "bytes", "NPROC": "count", "MEMLOCK": "bytes",
	"LOCKS": "count", "SIGPENDING": "count", "MSGQUEUE": "bytes", "NICE": "nice",
	"RTPRIO": "count", "RTTIME": "usec",
}

// ParseRlimit parses a Limit*= value for resource (the name without
// "Limit", e.g. "NOFILE"): one value for both limits or "soft:hard", each
// a number in the resource's unit or "infinity". Byte limits take K/M/G...
// suffixes; LimitCPU= takes a time span (bare number = seconds) and
// LimitRTTIME= a time span (bare number = microseconds); LimitNICE= with
// a "+"/"-" sign is a nice value -20..19 mapped to the raw 40..1 range.
func ParseRlimit(resource, s string) (Rlimit, error) {
	kind, ok := rlimitKind[resource]
	if !ok {
		return Rlimit{}, fmt.Errorf("unknown resource limit %q", resource)
	}
	one := func(v string) (uint64, error) {
		v = strings.TrimSpace(v)
		if v == "infinity" {
			return RlimInfinity, nil
		}
		switch kind {
		case "bytes":
			return ParseSize(v)
		case "sec", "usec":
			def, unit := time.Second, time.Second
			if kind == "usec" {
				def, unit = time.Microsecond, time.Microsecond
			}
			d, err := parseTimespanDefault(v, def)
			if err != nil {
				return 0, err
			}
			if d == Infinity {
				return RlimInfinity, nil
			}
			// LimitCPU= is rounded up to whole seconds (systemd.exec(5)).
			return uint64((d + unit - 1) / unit), nil
		case "nice":
			if strings.HasPrefix(v, "+") || strings.HasPrefix(v, "-") {
				n, err := strconv.Atoi(v)
				if err != nil || n < -20 || n > 19 {
					return 0, fmt.Errorf("invalid nice level %q", v)
				}
				return uint64(20 - n), nil
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n > 40 {
				return 0, fmt.Errorf("invalid nice limit %q", v)
			}
			return n, nil
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid number %q", v)
		}
		return n, nil
	}
	softS, hardS, pair := strings.Cut(s, ":")
	soft, err := one(softS)
	if err != nil {
		return Rlimit{}, err
	}
	hard := soft
	if pair {
		if hard, err = one(hardS); err != nil {
			return Rlimit{}, err
		}
		if soft > hard {
			return Rlimit{}, fmt.Errorf("soft limit above hard limit in %q", s)
		}
	}
	return Rlimit{Soft: soft, Hard: hard}, nil
}

// exitStatusNames are the termination status names of systemd.exec(5)
// "PROCESS EXIT CODES" without their EXIT_/EX_ prefix (as
// `systemd-analyze exit-status` lists them).
var exitStatusNames = map[string]int{
	"SUCCESS": 0, "FAILURE": 1, "INVALIDARGUMENT": 2, "NOTIMPLEMENTED": 3, "NOPERMISSION": 4,
	"NOTINSTALLED": 5, "NOTCONFIGURED": 6, "NOTRUNNING": 7, "USAGE": 64, "DATAERR": 65,
	"NOINPUT": 66, "NOUSER": 67, "NOHOST": 68, "UNAVAILABLE": 69, "SOFTWARE": 70, "OSERR": 71,
	"OSFILE": 72, "CANTCREAT": 73, "IOERR": 74, "TEMPFAIL": 75, "PROTOCOL": 76, "NOPERM": 77,
	"CONFIG": 78, "CHDIR": 200, "NICE": 201, "FDS": 202, "EXEC": 203, "MEMORY": 204,
	"LIMITS": 205, "OOM_ADJUST": 206, "SIGNAL_MASK": 207, "STDIN": 208, "STDOUT": 209,
	"CHROOT": 210, "IOPRIO": 211, "TIMERSLACK": 212, "SECUREBITS": 213, "SETSCHEDULER": 214,
	"CPUAFFINITY": 215, "GROUP": 216, "USER": 217, "CAPABILITIES": 218, "CGROUP": 219,
	"SETSID": 220, "CONFIRM": 221, "STDERR": 222, "PAM": 224, "NETWORK": 225, "NAMESPACE": 226,
	"NO_NEW_PRIVILEGES": 227, "SECCOMP": 228, "SELINUX_CONTEXT": 229, "PERSONALITY": 230,
	"APPARMOR": 231, "ADDRESS_FAMILIES": 232, "RUNTIME_DIRECTORY": 233, "CHOWN": 235,
	"SMACK_PROCESS_LABEL": 236, "KEYRING": 237, "STATE_DIRECTORY": 238, "CACHE_DIRECTORY": 239,
	"LOGS_DIRECTORY": 240, "CONFIGURATION_DIRECTORY": 241, "NUMA_POLICY": 242,
	"CREDENTIALS": 243, "BPF": 244, "EXCEPTION": 255,
}

// ParseExitStatusSet parses SuccessExitStatus= and friends
// (systemd.service(5)): space-separated numbers 0..255, termination status
// names ("TEMPFAIL") and signal names ("SIGKILL"). Signal names must carry
// the SIG prefix there, so "TERM" is not read as a signal. The words are
// added to set; bad words are reported together and skipped.
func ParseExitStatusSet(set *ExitStatusSet, s string) error {
	var bad []string
	for _, w := range strings.Fields(s) {
		if n, err := strconv.Atoi(w); err == nil {
			if n < 0 || n > 255 {
				bad = append(bad, w)
				continue
			}
			set.Codes = append(set.Codes, n)
			continue
		}
		if n, ok := exitStatusNames[w]; ok {
			set.Codes = append(set.Codes, n)
			continue
		}
		if strings.HasPrefix(w, "SIG") {
			if sig, err := ParseSignal(w); err == nil {
				set.Signals = append(set.Signals, sig)
				continue
			}
		}
		bad = append(bad, w)
	}
	if len(bad) > 0 {
		return fmt.Errorf("invalid exit status %s", strings.Join(bad, ", "))
	}
	return nil
}

// ValidEnvName reports whether s may be an environment variable name as
// systemd accepts it: letters, digits and "_", not starting with a digit.
func ValidEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// ParseEnvironmentAssignments parses one Environment= value
// (systemd.exec(5)): space-separated words, quoted and C-escaped as in
// systemd.syntax(7), each KEY=VALUE. Words are taken in order: each
// invalid assignment yields an error in bad (systemd warns and skips it),
// and a syntax error (bad quoting or escape) stops there, keeping the
// assignments before it, as systemd does.
func ParseEnvironmentAssignments(s string) (assign []string, bad []error, err error) {
	return parseEnvironmentAssignments(s, nil)
}

// parseEnvironmentAssignments is ParseEnvironmentAssignments with the
// unit's specifiers resolved in each word before it is checked, as
// systemd resolves them after splitting (a value with spaces stays one).
func parseEnvironmentAssignments(s string, expand func(string) (string, error)) (assign []string, bad []error, err error) {
	for {
		w, rest, ok, err := nextWord(s, escC)
		if err != nil {
			return assign, bad, fmt.Errorf("invalid syntax: %v", err)
		}
		if !ok {
			return assign, bad, nil
		}
		s = rest
		if expand != nil {
			x, xerr := expand(w)
			if xerr != nil {
				bad = append(bad, fmt.Errorf("failed to resolve specifiers in %q, ignoring: %v", w, xerr))
				continue
			}
			w = x
		}
		k, _, found := strings.Cut(w, "=")
		if !found || !ValidEnvName(k) || !utf8.ValidString(w) {
			bad = append(bad, fmt.Errorf("invalid environment assignment %q", w))
			continue
		}
		assign = append(assign, w)
	}
}

// conditionKinds are the Condition*=/Assert*= kinds of systemd.unit(5)
// (systemd 252), without the prefix.
var conditionKinds = map[string]bool{
	"Architecture": true, "Firmware": true, "Virtualization": true, "Host": true,
	"KernelCommandLine": true, "KernelVersion": true, "Credential": true, "Environment": true,
	"Security": true, "Capability": true, "ACPower": true, "NeedsUpdate": true,
	"FirstBoot": true, "PathExists": true, "PathExistsGlob": true, "PathIsDirectory": true,
	"PathIsSymbolicLink": true, "PathIsMountPoint": true, "PathIsReadWrite": true,
	"PathIsEncrypted": true, "DirectoryNotEmpty": true, "FileNotEmpty": true,
	"FileIsExecutable": true, "User": true, "Group": true, "ControlGroupController": true,
	"Memory": true, "CPUs": true, "CPUFeature": true, "OSRelease": true,
	"MemoryPressure": true, "CPUPressure": true, "IOPressure": true,
}

// conditionPaths are the kinds whose value must be an absolute path.
var conditionPaths = map[string]bool{
	"PathExists": true, "PathExistsGlob": true, "PathIsDirectory": true, "PathIsSymbolicLink": true,
	"PathIsMountPoint": true, "PathIsReadWrite": true, "PathIsEncrypted": true,
	"DirectoryNotEmpty": true, "FileNotEmpty": true, "FileIsExecutable": true, "NeedsUpdate": true,
}

// SimplifyPath drops repeated slashes, "." components and a trailing
// slash, as systemd does to the paths of unit files (path_simplify); ".."
// stays, since it may cross a symlink.
func SimplifyPath(p string) string {
	if p == "" {
		return p
	}
	var parts []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			parts = append(parts, c)
		}
	}
	out := strings.Join(parts, "/")
	switch {
	case strings.HasPrefix(p, "/"):
		return "/" + out
	case out == "":
		return "."
	}
	return out
}

// ParseCondition parses the value of a Condition<kind>= or Assert<kind>=
// line: an optional "|" (triggering) then an optional "!" (negation)
// prefix, each followed by optional spaces, then the value. Path kinds
// (PathExists= and the like) need an absolute path.
func ParseCondition(kind, value string, pos Pos) (Condition, error) {
	if !conditionKinds[kind] {
		return Condition{}, fmt.Errorf("unknown condition kind %q", kind)
	}
	c := Condition{Kind: kind, Pos: pos}
	v := strings.TrimSpace(value)
	if strings.HasPrefix(v, "|") {
		c.Trigger = true
		v = strings.TrimLeft(v[1:], " \t")
	}
	if strings.HasPrefix(v, "!") {
		c.Negate = true
		v = strings.TrimLeft(v[1:], " \t")
	}
	if conditionPaths[kind] {
		if !strings.HasPrefix(v, "/") {
			return Condition{}, fmt.Errorf("path is not absolute: %s", v)
		}
		v = SimplifyPath(v)
	}
	c.Value = v
	return c, nil
}

// ParseStdio parses StandardInput=, StandardOutput= or StandardError=
// (systemd.exec(5)). which is "input", "output" or "error"; the forms a
// stream accepts differ (tty, data and socket only for some).
func ParseStdio(which, s string) (Stdio, error) {
	if kind, rest, ok := strings.Cut(s, ":"); ok {
		switch kind {
		case "fd":
			if rest == "" {
				return Stdio{}, fmt.Errorf("empty fd name in %q", s)
			}
			return Stdio{Kind: "fd", Name: rest}, nil
		case "file":
		case "append", "truncate":
			if which == "input" {
				return Stdio{}, fmt.Errorf("%q is not allowed for StandardInput=", kind)
			}
		default:
			return Stdio{}, fmt.Errorf("invalid standard %s %q", which, s)
		}
		if !strings.HasPrefix(rest, "/") {
			return Stdio{}, fmt.Errorf("path in %q is not absolute", s)
		}
		return Stdio{Kind: kind, Path: rest}, nil
	}
	allowed := map[string][]string{
		"input":  {"null", "tty", "tty-force", "tty-fail", "data", "socket"},
		"output": {"inherit", "null", "tty", "journal", "kmsg", "syslog", "journal+console", "kmsg+console", "syslog+console", "socket"},
		"error":  {"inherit", "null", "tty", "journal", "kmsg", "syslog", "journal+console", "kmsg+console", "syslog+console", "socket"},
	}
	for _, k := range allowed[which] {
		if s == k {
			return Stdio{Kind: s}, nil
		}
	}
	if s == "fd" {
		// "fd" alone names the socket unit's fd "stdin", "stdout" or
		// "stderr" (systemd.exec(5)).
		return Stdio{Kind: "fd", Name: map[string]string{"input": "stdin", "output": "stdout", "error": "stderr"}[which]}, nil
	}
	return Stdio{}, fmt.Errorf("invalid standard %s %q", which, s)
}

// ParseStandardInputData decodes StandardInputData= (base64, spaces and
// line breaks allowed).
func ParseStandardInputData(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(clean)
}

// SplitQuoted splits s into words the way systemd.syntax(7) "Quoting"
// describes: words are separated by whitespace; single and double quotes
// group characters (also inside a word, `a"b c"d` is one word "ab cd");
// C-style escapes are decoded inside and outside quotes, and an unknown
// escape is an error.
func SplitQuoted(s string) ([]string, error) {
	var words []string
	for {
		w, rest, ok, err := nextWord(s, escC)
		if err != nil {
			return nil, err
		}
		if !ok {
			return words, nil
		}
		words = append(words, w)
		s = rest
	}
}

// escapeMode is how nextWord treats a backslash.
type escapeMode int

const (
	escC       escapeMode = iota // C escapes; an unknown one is an error
	escCRelax                    // C escapes; an unknown one is kept as written (Exec*= lines)
	escLiteral                   // the next character is taken literally (name lists)
)

// errRelaxed is returned with a word in escCRelax mode when an unknown
// escape was kept as written; systemd warns "Ignoring unknown escape
// sequences" and goes on.
var errRelaxed = errors.New("ignoring unknown escape sequences")

// nextWord extracts the first quoted/escaped word of s. ok is false when
// only whitespace is left. In escCRelax mode err may be errRelaxed with a
// valid word.
func nextWord(s string, mode escapeMode) (word, rest string, ok bool, err error) {
	s = strings.TrimLeft(s, " \t\n\r")
	if s == "" {
		return "", "", false, nil
	}
	var b strings.Builder
	var quote byte
	var relaxed error
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && mode == escLiteral:
			if i+1 >= len(s) {
				return "", "", false, errors.New("trailing backslash")
			}
			b.WriteByte(s[i+1])
			i += 2
			continue
		case c == '\\':
			r, n, err := cUnescape(s[i+1:])
			if err != nil {
				if mode != escCRelax || i+1 >= len(s) {
					return "", "", false, err
				}
				r, n, relaxed = "\\"+s[i+1:i+2], 1, errRelaxed
			}
			b.WriteString(r)
			i += 1 + n
			continue
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return b.String(), s[i:], true, relaxed
		default:
			b.WriteByte(c)
		}
		i++
	}
	if quote != 0 {
		return "", "", false, fmt.Errorf("unbalanced quoting in %q", s)
	}
	return b.String(), "", true, relaxed
}

// cUnescape decodes one C escape (the part after the backslash) as
// systemd does: \a \b \f \n \r \t \v \\ \" \' \s (space), \xHH, \NNN
// (octal), \uHHHH, \UHHHHHHHH. NUL is refused. It returns the decoded
// text and how many bytes of s it used.
func cUnescape(s string) (string, int, error) {
	if s == "" {
		return "", 0, errors.New("trailing backslash")
	}
	simple := map[byte]string{'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t",
		'v': "\v", '\\': "\\", '"': "\"", '\'': "'", 's': " "}
	if r, ok := simple[s[0]]; ok {
		return r, 1, nil
	}
	num := func(digits string, base, width int) (uint64, error) {
		if len(digits) < width {
			return 0, fmt.Errorf("short escape sequence \\%s", s)
		}
		n, err := strconv.ParseUint(digits[:width], base, 32)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("invalid escape sequence \\%s", s[:min(len(s), width+1)])
		}
		return n, nil
	}
	switch c := s[0]; {
	case c == 'x':
		n, err := num(s[1:], 16, 2)
		if err != nil {
			return "", 0, err
		}
		return string([]byte{byte(n)}), 3, nil
	case c == 'u' || c == 'U':
		width := 4
		if c == 'U' {
			width = 8
		}
		n, err := num(s[1:], 16, width)
		if err != nil {
			return "", 0, err
		}
		if n > utf8.MaxRune {
			return "", 0, fmt.Errorf("invalid unicode escape \\%s", s[:width+1])
		}
		return string(rune(n)), 1 + width, nil
	case c >= '0' && c <= '7':
		n, err := num(s, 8, 3)
		if err != nil || n > 255 {
			return "", 0, fmt.Errorf("invalid octal escape \\%s", s[:min(len(s), 3)])
		}
		return string([]byte{byte(n)}), 3, nil
	}
	return "", 0, fmt.Errorf("invalid escape sequence \\%c", s[0])
}
