package logstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
)

// ParseNative reads one datagram of journald's native protocol (systemd's
// "Native Journal Protocol"): fields "NAME=value\n", or for values that
// may hold newlines "NAME\n", a 64-bit little-endian length, the value
// and "\n". Of the fields it keeps MESSAGE, PRIORITY, SYSLOG_FACILITY,
// SYSLOG_IDENTIFIER and SYSLOG_PID; the others are skipped (the store
// keeps no free-form fields). A malformed datagram is an error and
// nothing of it is kept, as journald drops it.
func ParseNative(b []byte) (Message, error) {
	m := Message{Priority: defaultPriority, Facility: 3} // LOG_DAEMON, as sd_journal_print's
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			// journald takes a last field without its newline.
			nl = len(b)
		}
		line := b[:nl]
		var name, value []byte
		if eq := bytes.IndexByte(line, '='); eq >= 0 {
			name, value = line[:eq], line[eq+1:]
			b = b[min(nl+1, len(b)):]
		} else {
			// Binary form: the length follows the name's newline.
			name = line
			rest := b[min(nl+1, len(b)):]
			if len(rest) < 8 {
				return Message{}, errors.New("native message: field " + strconv.Quote(string(name)) + " without its length")
			}
			n := binary.LittleEndian.Uint64(rest)
			rest = rest[8:]
			if n > uint64(len(rest)) || (n < uint64(len(rest)) && rest[n] != '\n') {
				return Message{}, errors.New("native message: field " + strconv.Quote(string(name)) + " with a bad length")
			}
			value = rest[:n]
			b = rest[min(int(n)+1, len(rest)):]
		}
		if len(name) == 0 {
			continue // an empty line
		}
		if !validFieldName(name) {
			return Message{}, errors.New("native message: invalid field name " + strconv.Quote(string(name)))
		}
		switch string(name) {
		case "MESSAGE":
			m.Text = string(value)
		case "PRIORITY":
			if p, err := strconv.Atoi(string(value)); err == nil && p >= 0 && p <= 7 {
				m.Priority = p
			}
		case "SYSLOG_FACILITY":
			if f, err := strconv.Atoi(string(value)); err == nil && f >= 0 && f <= 23 {
				m.Facility = f
			}
		case "SYSLOG_IDENTIFIER":
			m.Ident = string(value)
		case "SYSLOG_PID":
			if p, err := strconv.Atoi(string(value)); err == nil && p > 0 {
				m.Pid = p
			}
		}
	}
	return m, nil
}

// validFieldName: journald's rule, uppercase letters, digits and '_', not
// starting with a digit, at most 64 characters. Names starting with '_'
// are trusted fields a client may not set; journald drops them, which
// changes nothing here.
func validFieldName(n []byte) bool {
	if len(n) > 64 || n[0] >= '0' && n[0] <= '9' {
		return false
	}
	for _, c := range n {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
