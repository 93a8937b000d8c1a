package unitfile

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLineSize is the longest logical line accepted, the same bound systemd
// uses (LONG_LINE_MAX, 1 MiB) for a line and for a continued line.
const MaxLineSize = 1 << 20

// MaxFileSize is the largest unit file or drop-in accepted. systemd itself
// reads line by line with only the 1 MiB per-line bound; a real unit file is
// a few KiB, so anything above this is refused unread rather than held in
// memory.
const MaxFileSize = 8 << 20

// maxDiagsPerFile bounds the diagnostics of one file.
const maxDiagsPerFile = 50

// whitespace is what systemd strips around keys, values and lines
// (WHITESPACE in systemd's sources).
const whitespace = " \t\n\r"

// utf8BOM may start a file; systemd skips it.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse splits a unit file into its assignments, following systemd.unit(5)
// and systemd's own config parser:
//   - "[Section]" starts a section; a header not ending in "]" is an error;
//   - lines whose first non-blank character is '#' or ';' are comments, also
//     inside a continuation;
//   - a line ending in an unescaped '\' continues on the next line: the '\'
//     becomes one space and the next line is appended as written;
//   - key and value are trimmed of blanks; a line without '=' or outside any
//     section is ignored with a warning;
//   - lines are ended by "\n", "\r\n" or "\r";
//   - a file with a NUL byte is binary: one Error, no entries.
//
// Values are kept as written (no unquoting, no escapes: those are per key).
// Each entry carries the line where its assignment started. Severity Error
// means systemd would refuse the whole file.
func Parse(path string, data []byte) ([]Entry, []Diag) {
	var entries []Entry
	var diags []Diag
	dropped := 0
	diag := func(line int, sev Severity, format string, args ...any) {
		if len(diags) >= maxDiagsPerFile {
			dropped++ // garbage would otherwise drown the real problems
			return
		}
		diags = append(diags, Diag{Pos: Pos{File: path, Line: line}, Severity: sev, Msg: fmt.Sprintf(format, args...)})
	}
	if len(data) > MaxFileSize {
		diag(0, Error, "file is %d bytes, larger than the %d byte limit", len(data), MaxFileSize)
		return nil, diags
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if i := bytes.IndexByte(data, 0); i >= 0 {
		// Text never holds NUL; this is a binary file, so say so once
		// instead of once per "line".
		diag(1+bytes.Count(data[:i], []byte("\n")), Error, "NUL byte: binary data, not a unit file")
		return nil, diags
	}

	section := ""
	inSection := false
	sectionIgnored := false // a bad header: its assignments are dropped silently
	var cont []byte         // pending continued line
	contStart := 0

	handle := func(lineNo int, raw []byte) {
		if !utf8.Valid(raw) {
			diag(lineNo, Warning, "line is not valid UTF-8, ignoring line")
			return
		}
		l := strings.Trim(string(raw), whitespace)
		if l == "" {
			return
		}
		if l[0] == '[' {
			if l[len(l)-1] != ']' {
				diag(lineNo, Error, "invalid section header %q", l)
				inSection, sectionIgnored = false, true
				return
			}
			section, inSection, sectionIgnored = l[1:len(l)-1], true, false
			return
		}
		if !inSection {
			if !sectionIgnored {
				diag(lineNo, Warning, "assignment outside of any section, ignoring line")
			}
			return
		}
		eq := strings.IndexByte(l, '=')
		if eq < 0 {
			diag(lineNo, Warning, "missing '=', ignoring line")
			return
		}
		if eq == 0 {
			diag(lineNo, Warning, "missing key name before '=', ignoring line")
			return
		}
		entries = append(entries, Entry{
			Section: section,
			Key:     strings.Trim(l[:eq], whitespace),
			Value:   strings.Trim(l[eq+1:], whitespace),
			Pos:     Pos{File: path, Line: lineNo},
		})
	}

	lineNo := 0
	for len(data) > 0 {
		lineNo++
		end := bytes.IndexAny(data, "\r\n")
		var line []byte
		if end < 0 {
			line, data = data, nil
		} else {
			line = data[:end]
			if data[end] == '\r' && end+1 < len(data) && data[end+1] == '\n' {
				end++
			}
			data = data[end+1:]
		}
		if len(line) > MaxLineSize {
			diag(lineNo, Error, "line is longer than %d bytes", MaxLineSize)
			cont = nil
			continue
		}
		trimmed := bytes.TrimLeft(line, whitespace)
		if len(trimmed) > 0 && (trimmed[0] == '#' || trimmed[0] == ';') {
			continue
		}
		if cont == nil {
			contStart = lineNo
			cont = make([]byte, 0, len(line))
		} else if len(cont)+len(line) > MaxLineSize {
			diag(contStart, Error, "continued line is longer than %d bytes", MaxLineSize)
			cont = nil
			continue
		}
		cont = append(cont, line...)
		if endsInEscape(cont) {
			cont[len(cont)-1] = ' '
			continue
		}
		handle(contStart, cont)
		cont = nil
	}
	if cont != nil {
		handle(contStart, cont)
	}
	if dropped > 0 {
		diags = append(diags, Diag{Pos: Pos{File: path, Line: lineNo}, Severity: Warning, Msg: fmt.Sprintf("%d more problems not shown", dropped)})
	}
	return entries, diags
}

// endsInEscape reports whether b ends in a backslash that is not itself
// escaped by a preceding backslash.
func endsInEscape(b []byte) bool {
	n := 0
	for i := len(b) - 1; i >= 0 && b[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// Format renders entries as a unit file that Parse reads back to the same
// sections, keys and values.
func Format(entries []Entry) []byte {
	var b bytes.Buffer
	section := ""
	for i, e := range entries {
		if i == 0 || e.Section != section {
			section = e.Section
			fmt.Fprintf(&b, "[%s]\n", section)
		}
		b.WriteString(e.Key)
		b.WriteByte('=')
		b.WriteString(e.Value)
		if endsInEscape([]byte(e.Value)) {
			// A value may end in a lone '\' when the original line had blanks
			// after it; keep one blank so it does not read as a continuation.
			b.WriteByte(' ')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
