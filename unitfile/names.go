package unitfile

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// MaxNameLength is the longest valid unit name (systemd's UNIT_NAME_MAX
// is 256 including the terminating NUL).
const MaxNameLength = 255

// unitTypes are the suffixes (without the dot) systemd.unit(5) lists.
var unitTypes = map[string]bool{
	"service": true, "socket": true, "target": true, "device": true,
	"mount": true, "automount": true, "swap": true, "timer": true,
	"path": true, "slice": true, "scope": true,
}

// IsUnitType reports whether t (e.g. "service") is a unit type.
func IsUnitType(t string) bool { return unitTypes[t] }

// nameChar reports whether c may appear in a unit name: ASCII letters,
// digits, ":-_.\" and "@" (systemd's VALID_CHARS_WITH_AT).
func nameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte(":-_.\\@", c) >= 0
}

// SplitName splits "prefix@instance.suffix" (or "prefix.suffix") at the
// first '@' and the last '.'. It does not check validity; suffix is empty
// when there is no dot.
func SplitName(name string) (prefix, instance, suffix string) {
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return name, "", ""
	}
	prefix, suffix = name[:dot], name[dot+1:]
	if at := strings.IndexByte(prefix, '@'); at >= 0 {
		prefix, instance = prefix[:at], prefix[at+1:]
	}
	return prefix, instance, suffix
}

// ValidName reports whether name is a valid plain, template or instance
// unit name: at most 255 characters of [a-zA-Z0-9:-_.\@], a non-empty
// prefix, a known type suffix, and for names with '@' an instance part
// that is empty (template) or not.
func ValidName(name string) bool {
	if name == "" || len(name) > MaxNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) {
			return false
		}
	}
	prefix, _, suffix := SplitName(name)
	return prefix != "" && unitTypes[suffix]
}

// IsTemplate reports whether name is a valid template name ("foo@.service").
func IsTemplate(name string) bool {
	if !ValidName(name) {
		return false
	}
	prefix, inst, suffix := SplitName(name)
	return inst == "" && len(prefix)+len(suffix)+1 < len(name) // has the '@'
}

// IsInstance reports whether name is a valid instance name ("foo@bar.service").
func IsInstance(name string) bool {
	if !ValidName(name) {
		return false
	}
	_, inst, _ := SplitName(name)
	return inst != ""
}

// TemplateOf returns the template of an instance name ("foo@bar.service" →
// "foo@.service"), or "" when name is not an instance.
func TemplateOf(name string) string {
	if !IsInstance(name) {
		return ""
	}
	prefix, _, suffix := SplitName(name)
	return prefix + "@." + suffix
}

// InstanceOf instantiates a template with an (already escaped) instance:
// InstanceOf("foo@.service", "bar") = "foo@bar.service".
func InstanceOf(template, instance string) (string, error) {
	if !IsTemplate(template) {
		return "", fmt.Errorf("%q is not a template unit name", template)
	}
	prefix, _, suffix := SplitName(template)
	name := prefix + "@" + instance + "." + suffix
	if !IsInstance(name) {
		return "", fmt.Errorf("%q is not a valid unit name", name)
	}
	return name, nil
}

// Escape escapes s for use in a unit name as `systemd-escape` does: '/'
// becomes '-', and '-', '\', a leading '.' and every byte outside
// [a-zA-Z0-9:_.] become "\xNN".
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			b.WriteByte('-')
		case c == '.' && i == 0, c == '-', c == '\\', c == '@', !nameChar(c):
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// EscapePath escapes a path as `systemd-escape --path` does: the path is
// simplified (duplicate slashes and "." components removed), "/" and ""
// become "-", leading and trailing slashes are dropped and the rest is
// escaped. A path with ".." components, or a relative path of only "."
// components, is refused.
func EscapePath(p string) (string, error) {
	var parts []string
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			return "", fmt.Errorf("path %q is not normalized", p)
		default:
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 {
		if p != "" && p[0] != '/' {
			// systemd simplifies "./" to ".", which is not normalized.
			return "", fmt.Errorf("path %q is not normalized", p)
		}
		return "-", nil
	}
	return Escape(strings.Join(parts, "/")), nil
}

var errBadEscape = errors.New("invalid escape sequence")

// Unescape undoes Escape as `systemd-escape --unescape` does: '-' becomes
// '/', "\xNN" becomes the byte NN. Any other use of '\', and "\x00", is
// an error.
func Unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '-':
			b.WriteByte('/')
		case '\\':
			if i+3 >= len(s) || s[i+1] != 'x' {
				return "", fmt.Errorf("%q: %w", s, errBadEscape)
			}
			hi, ok1 := unhex(s[i+2])
			lo, ok2 := unhex(s[i+3])
			if !ok1 || !ok2 {
				return "", fmt.Errorf("%q: %w", s, errBadEscape)
			}
			if hi == 0 && lo == 0 {
				// A NUL cannot be part of a name or path; systemd's C
				// strings would silently end there.
				return "", fmt.Errorf("%q: escaped NUL byte", s)
			}
			b.WriteByte(hi<<4 | lo)
			i += 3
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// UnescapePath undoes EscapePath as `systemd-escape --unescape --path`
// does: "-" is "/", anything else is unescaped and prefixed with "/"; an
// empty string, leading or trailing slashes and non-normalized results
// ("//", ".", "..") are errors.
func UnescapePath(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty path")
	}
	if s == "-" {
		return "/", nil
	}
	u, err := Unescape(s)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(u, "/") || strings.HasSuffix(u, "/") {
		return "", fmt.Errorf("%q: path has a leading or trailing slash", s)
	}
	p := "/" + u
	if path.Clean(p) != p {
		return "", fmt.Errorf("%q: path is not normalized", s)
	}
	return p, nil
}
