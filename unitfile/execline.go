package unitfile

import (
	"errors"
	"fmt"
	"strings"
)

// ExecSearchPath is where a bare program name in an Exec*= line is looked
// up at exec time (systemd.service(5) "COMMAND LINES": a fixed search path
// of the standard bin and sbin directories).
const ExecSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ParseExecLine parses an Exec*= value that holds exactly one command
// line. Use ParseExecLines for values that may hold several separated by
// ";".
func ParseExecLine(value string, pos Pos) (ExecCommand, error) {
	cmds, err := ParseExecLines(value, pos)
	if err != nil {
		return ExecCommand{}, err
	}
	if len(cmds) != 1 {
		return ExecCommand{}, fmt.Errorf("expected one command line, found %d", len(cmds))
	}
	return cmds[0], nil
}

// ParseExecLines parses one Exec*= value as systemd.service(5) "COMMAND
// LINES" (systemd 252) says: zero or more command lines separated by a
// lone ";" word ("\;" is a literal ";" argument), each unquoted and
// C-unescaped as in systemd.syntax(7); an unknown escape ("\q") is kept
// as written, as systemd does after warning, while bad quoting is an
// error. The first word may carry the
// prefixes "@", "-", ":" together with at most one of "+", "!", "!!";
// a repeated prefix is an error. The program must be an absolute path or
// a plain file name (looked up in ExecSearchPath at exec time). "$VAR"
// and "${VAR}" are left for ExpandArgv. An empty value yields no command
// (callers treat that as a reset).
func ParseExecLines(value string, pos Pos) ([]ExecCommand, error) {
	cmds, _, err := parseExecLines(value, pos, nil)
	return cmds, err
}

// parseExecLines is ParseExecLines that also reports, as warning, each
// word with unknown escapes it kept as written (systemd warns "Ignoring
// unknown escape sequences" once per such word).
//
// expand, when set, resolves specifiers in each word after unquoting, as
// systemd does: a specifier that expands to nothing leaves an empty word
// ("test %i = \"\"" keeps its four words), one with spaces stays one word.
func parseExecLines(value string, pos Pos, expand func(string) (string, error)) (cmds []ExecCommand, warning error, err error) {
	rest := value
	for {
		rest = strings.TrimLeft(rest, " \t\n\r")
		if rest == "" {
			return cmds, warning, nil
		}
		var words []string
		var relaxed []error
		words, rest, relaxed, err = execWords(rest)
		if err != nil {
			return nil, nil, err
		}
		warning = errors.Join(append([]error{warning}, relaxed...)...)
		if len(words) == 0 {
			continue // an empty command between two ";"
		}
		if expand != nil {
			for i, w := range words {
				if words[i], err = expand(w); err != nil {
					return nil, nil, fmt.Errorf("failed to resolve specifiers in %q: %w", w, err)
				}
			}
		}
		cmd, err := execCommand(words, pos)
		if err != nil {
			return nil, nil, err
		}
		cmds = append(cmds, cmd)
	}
}

// execWords unquotes the words of one command line, up to a lone ";" or
// the end, and returns what follows. relaxed has one error per word with
// unknown escapes kept as written.
func execWords(s string) (words []string, rest string, relaxed []error, err error) {
	for {
		s = strings.TrimLeft(s, " \t\n\r")
		if s == "" {
			return words, "", relaxed, nil
		}
		// The separator is recognised before unquoting, so only a bare
		// ";" word separates; "\;" is a literal ";".
		if wordIs(s, ";") {
			return words, s[1:], relaxed, nil
		}
		if wordIs(s, `\;`) {
			words = append(words, ";")
			s = s[2:]
			continue
		}
		w, r, ok, err := nextWord(s, escCRelax)
		if err == errRelaxed {
			relaxed, err = append(relaxed, fmt.Errorf("%v: %q", err, w)), nil
		}
		if err != nil {
			return nil, "", nil, err
		}
		if !ok {
			return words, "", relaxed, nil
		}
		words = append(words, w)
		s = r
	}
}

// wordIs reports whether s starts with the whole word w.
func wordIs(s, w string) bool {
	return strings.HasPrefix(s, w) && (len(s) == len(w) || strings.ContainsRune(" \t\n\r", rune(s[len(w)])))
}

func execCommand(words []string, pos Pos) (ExecCommand, error) {
	cmd := ExecCommand{Pos: pos}
	first := words[0]
	i := 0
prefixes:
	for ; i < len(first); i++ {
		switch first[i] {
		case '-':
			if cmd.IgnoreFailure {
				break prefixes
			}
			cmd.IgnoreFailure = true
		case '@':
			if cmd.ArgvZero {
				break prefixes
			}
			cmd.ArgvZero = true
		case ':':
			if cmd.NoEnvExpand {
				break prefixes
			}
			cmd.NoEnvExpand = true
		case '+':
			if cmd.FullPrivileges || cmd.NoSetuid || cmd.AmbientOnly {
				break prefixes
			}
			cmd.FullPrivileges = true
		case '!':
			switch {
			case cmd.FullPrivileges || cmd.AmbientOnly:
				break prefixes
			case cmd.NoSetuid:
				// "!!" is its own prefix, not "!" twice.
				cmd.NoSetuid, cmd.AmbientOnly = false, true
			default:
				cmd.NoSetuid = true
			}
		default:
			break prefixes
		}
	}
	cmd.Path = first[i:]
	args := words[1:]
	if cmd.ArgvZero {
		if len(args) == 0 || args[0] == "" {
			return ExecCommand{}, errors.New("empty executable name or zeroeth argument")
		}
	} else {
		args = append([]string{cmd.Path}, args...)
	}
	cmd.Argv = args
	if cmd.Path == "" {
		return ExecCommand{}, errors.New("empty path in command line")
	}
	if strings.ContainsFunc(cmd.Path, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return ExecCommand{}, fmt.Errorf("executable path contains control characters: %q", cmd.Path)
	}
	if !strings.HasPrefix(cmd.Path, "/") && strings.Contains(cmd.Path, "/") {
		return ExecCommand{}, fmt.Errorf("neither a valid executable name nor an absolute path: %s", cmd.Path)
	}
	if strings.HasSuffix(cmd.Path, "/") || cmd.Path == "." || cmd.Path == ".." {
		return ExecCommand{}, fmt.Errorf("executable path specifies a directory: %s", cmd.Path)
	}
	return cmd, nil
}
