package unitfile

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ExpandArgv expands $VAR and ${VAR} in an Exec*= command line the way
// systemd.service(5) "COMMAND LINES" says, given the final environment
// (KEY=VALUE; the last assignment of a name wins). With cmd.NoEnvExpand
// (":" prefix) the words are used as they are. The result is argv
// (Argv[0] first).
//
//   - A word that starts with "$" but not "${" or "$$" is a whole-word
//     variable: "$NAME" becomes the value split at whitespace, quotes
//     respected and removed, zero or more words (systemd takes the whole
//     rest of the word as the name, so "$NAME-x" is the unset variable
//     "NAME-x" and expands to no word).
//   - "${NAME}" anywhere in a word is replaced in place by the exact value;
//     the word stays one word.
//   - "$$" is a literal "$"; "$" followed by anything else stays as it is
//     (so "a$NAME" inside a word is not expanded), and so does "${A:-b}"
//     (no shell-style defaults).
//   - Unset variables expand to nothing.
func ExpandArgv(cmd ExecCommand, env []string) []string {
	if cmd.NoEnvExpand {
		return append([]string(nil), cmd.Argv...)
	}
	lookup := func(name string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
				return v, true
			}
		}
		return "", false
	}
	out := make([]string, 0, len(cmd.Argv))
	for _, w := range cmd.Argv {
		if len(w) > 0 && w[0] == '$' && (len(w) == 1 || w[1] != '{' && w[1] != '$') {
			v, _ := lookup(w[1:])
			out = append(out, splitEnvValue(v)...)
			continue
		}
		out = append(out, expandBraces(w, lookup))
	}
	return out
}

// expandBraces replaces ${NAME} and $$ inside one word.
func expandBraces(w string, lookup func(string) (string, bool)) string {
	if !strings.Contains(w, "$") {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if w[i] != '$' || i+1 >= len(w) {
			b.WriteByte(w[i])
			continue
		}
		switch w[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(w[i+2:], '}')
			if colon := strings.IndexByte(w[i+2:], ':'); colon >= 0 && (end < 0 || colon < end) {
				end = -1 // "${A:-b}" is not supported syntax: kept as written
			}
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			v, _ := lookup(w[i+2 : i+2+end])
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// splitEnvValue splits a variable's value for a whole-word "$NAME": at
// whitespace, with '...' and "..." grouping and removed and a backslash
// taking the next character literally; unbalanced quotes are tolerated.
func splitEnvValue(v string) []string {
	var words []string
	var b strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && quote != '\'' && i+1 < len(v):
			i++
			b.WriteByte(v[i])
			inWord = true
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
			inWord = true
		case quote == 0 && strings.IndexByte(" \t\n\r", c) >= 0:
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words
}

// ParseEnvironmentFile parses the contents of an EnvironmentFile=
// (systemd.exec(5)): KEY=VALUE lines; empty lines and lines starting with
// "#" or ";" are ignored; whitespace around KEY and around an unquoted
// VALUE is dropped; 'single quotes' keep everything literally; "double
// quotes" allow the escapes \" \\ \` \$ and a backslash-newline
// continuation (other backslashes stay); outside quotes a backslash takes
// the next character literally and a trailing backslash joins the next
// line. Quoted and unquoted parts concatenate. A line without "=" is
// ignored, and so is an assignment whose name is not a valid variable
// name (systemd drops those when it builds the environment). A value that
// is not valid UTF-8 is an error, as in systemd, where it fails the
// start; the other assignments are still returned with it.
func ParseEnvironmentFile(data []byte) ([]string, error) {
	const (
		preKey = iota
		inKey
		preValue
		inValue
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
		commentEscape
	)
	var out []string
	var errs []error
	var key, value strings.Builder
	// trimTo is the length of value before its trailing unquoted
	// whitespace, which is dropped; -1 when there is none.
	trimTo := -1
	line := 1
	push := func() {
		k := strings.TrimRight(key.String(), " \t")
		v := value.String()
		if trimTo >= 0 {
			v = v[:trimTo]
		}
		key.Reset()
		value.Reset()
		trimTo = -1
		if !ValidEnvName(k) {
			return
		}
		if !utf8.ValidString(v) {
			errs = append(errs, fmt.Errorf("line %d: invalid UTF-8 in the value of %s", line, k))
			return
		}
		out = append(out, k+"="+v)
	}
	state := preKey
	// Bytes, not runes: every special character is ASCII, and multi-byte
	// UTF-8 passes through unchanged (invalid UTF-8 is then caught).
	for _, c := range data {
		newline := c == '\n' || c == '\r'
		space := c == ' ' || c == '\t'
		switch state {
		case preKey:
			switch {
			case c == '#' || c == ';':
				state = comment
			case !newline && !space:
				state = inKey
				key.WriteByte(c)
			}
		case inKey:
			switch {
			case newline:
				key.Reset() // no "=": not an assignment
				state = preKey
			case c == '=':
				state = preValue
			default:
				key.WriteByte(c)
			}
		case preValue:
			switch {
			case newline:
				push()
				state = preKey
			case c == '\'':
				state = singleQuote
			case c == '"':
				state = doubleQuote
			case c == '\\':
				state = valueEscape
			case !space:
				state = inValue
				value.WriteByte(c)
			}
		case inValue:
			switch {
			case newline:
				push()
				state = preKey
			case c == '\\':
				trimTo = -1
				state = valueEscape
			case space:
				if trimTo < 0 {
					trimTo = value.Len()
				}
				value.WriteByte(c)
			default:
				trimTo = -1
				value.WriteByte(c)
			}
		case valueEscape:
			state = inValue
			if !newline { // an escaped newline joins the lines
				value.WriteByte(c)
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				value.WriteByte(c)
			}
		case doubleQuote:
			switch c {
			case '"':
				state = preValue
			case '\\':
				state = doubleQuoteEscape
			default:
				value.WriteByte(c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			switch {
			case strings.IndexByte("\"\\`$", c) >= 0:
				value.WriteByte(c)
			case newline:
			default:
				value.WriteByte('\\')
				value.WriteByte(c)
			}
		case comment:
			if c == '\\' {
				state = commentEscape
			} else if newline {
				state = preKey
			}
		case commentEscape:
			state = comment
		}
		if c == '\n' {
			line++
		}
	}
	switch state {
	case preValue, inValue, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		push()
	}
	return out, errors.Join(errs...)
}
