package logstore

import (
	"bytes"
	"strconv"
)

// Message is what a syslog or native datagram says about itself.
type Message struct {
	Priority, Facility int
	Ident              string
	Pid                int // the pid the message claims (SYSLOG_PID), 0 if none
	Text               string
}

// Syslog's defaults for a message without "<PRI>": LOG_USER, and the
// level journald gives it (LOG_INFO).
const (
	defaultFacility = 1
	defaultPriority = 6
)

// ParseSyslog reads one datagram sent to /dev/log: glibc's and busybox's
// syslog(3) form ("<PRI>Mmm dd hh:mm:ss IDENT[PID]: MSG", RFC 3164 as sent
// locally, without a hostname), RFC 5424 ("<PRI>1 TIMESTAMP HOSTNAME
// APP-NAME PROCID MSGID SD MSG"), or bare text. The timestamps in the
// message are ignored, as journald ignores them: the time of reception
// is the entry's.
func ParseSyslog(b []byte) Message {
	b = bytes.TrimRight(b, "\n\x00")
	m := Message{Priority: defaultPriority, Facility: defaultFacility}
	if len(b) > 2 && b[0] == '<' {
		if end := bytes.IndexByte(b[:min(len(b), 5)], '>'); end > 1 {
			if pri, err := strconv.Atoi(string(b[1:end])); err == nil && pri >= 0 && pri <= 191 {
				m.Priority, m.Facility = pri&7, pri>>3
				b = b[end+1:]
			}
		}
	}
	if len(b) > 2 && b[0] == '1' && b[1] == ' ' {
		if parse5424(b[2:], &m) {
			return m
		}
	}
	b = skip3164Time(b)
	ident, pid, rest, ok := parseTag(b)
	if !ok {
		// RFC 3164 over the network form names the host first (logger
		// --rfc3164 sends it locally too): "HOST TAG[PID]: MSG".
		if sp := bytes.IndexByte(b, ' '); sp > 0 && bytes.IndexByte(b[:sp], ':') < 0 {
			ident, pid, rest, ok = parseTag(b[sp+1:])
		}
	}
	if ok {
		m.Ident, m.Pid, b = ident, pid, rest
	}
	m.Text = string(b)
	return m
}

// skip3164Time drops "Mmm dd hh:mm:ss " (the day may be space-padded).
func skip3164Time(b []byte) []byte {
	if len(b) < 16 || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' || b[15] != ' ' {
		return b
	}
	return b[16:]
}

// parseTag reads "IDENT[PID]: " or "IDENT: " as journald's
// syslog_parse_identifier does: the first word must end in ':'.
func parseTag(b []byte) (ident string, pid int, rest []byte, ok bool) {
	end := bytes.IndexAny(b, " \t")
	if end < 0 {
		end = len(b)
	}
	word := b[:end]
	if len(word) < 2 || word[len(word)-1] != ':' {
		return "", 0, b, false
	}
	word = word[:len(word)-1]
	if n := len(word); n > 0 && word[n-1] == ']' {
		if i := bytes.LastIndexByte(word, '['); i > 0 {
			if p, err := strconv.Atoi(string(word[i+1 : n-1])); err == nil && p > 0 {
				pid = p
			}
			word = word[:i]
		}
	}
	rest = b[end:]
	if len(rest) > 0 {
		rest = rest[1:]
	}
	return string(word), pid, rest, true
}

// parse5424 reads what follows "<PRI>1 ".
func parse5424(b []byte, m *Message) bool {
	var fields [5][]byte // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
	for i := range fields {
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			if i < len(fields)-1 {
				return false
			}
			fields[i], b = b, nil
			break
		}
		fields[i], b = b[:sp], b[sp+1:]
	}
	nilv := func(f []byte) bool { return len(f) == 0 || (len(f) == 1 && f[0] == '-') }
	if !nilv(fields[2]) {
		m.Ident = string(fields[2])
	}
	if !nilv(fields[3]) {
		if p, err := strconv.Atoi(string(fields[3])); err == nil && p > 0 {
			m.Pid = p
		}
	}
	// STRUCTURED-DATA: "-" or one or more [ID PARAM="VALUE"...] elements,
	// where a value may hold an escaped ']' ("\]").
	switch {
	case len(b) > 0 && b[0] == '-':
		b = b[1:]
	case len(b) > 0 && b[0] == '[':
		for len(b) > 0 && b[0] == '[' {
			i, quoted := 1, false
			for ; i < len(b); i++ {
				c := b[i]
				if c == '\\' && quoted {
					i++
					continue
				}
				if c == '"' {
					quoted = !quoted
				}
				if c == ']' && !quoted {
					break
				}
			}
			if i >= len(b) {
				b = nil
				break
			}
			b = b[i+1:]
		}
	}
	if len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // the BOM of a UTF-8 MSG
	m.Text = string(b)
	return true
}
