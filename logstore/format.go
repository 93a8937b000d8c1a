package logstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Output modes (journalctl -o).
var Modes = []string{"short", "short-iso", "short-iso-precise", "short-precise", "short-monotonic", "cat", "json"}

// ValidMode says whether mode is one Format renders.
func ValidMode(mode string) bool {
	for _, m := range Modes {
		if m == mode {
			return true
		}
	}
	return false
}

// Format renders e as journalctl -o mode prints it (systemd 252), without
// the newline: "Dec 07 18:38:46 HOST IDENT[PID]: MESSAGE" for short, the
// message alone for cat, one JSON object for json. Times are local unless
// utc.
func Format(e Entry, mode string, utc bool) string {
	if mode == "json" {
		b, _ := json.Marshal(e)
		return string(b)
	}
	if mode == "cat" {
		return e.Message
	}
	t := time.UnixMicro(e.Realtime)
	if utc {
		t = t.UTC()
	} else {
		t = t.Local()
	}
	var b strings.Builder
	switch mode {
	case "short-iso":
		b.WriteString(t.Format("2006-01-02T15:04:05-0700"))
	case "short-iso-precise":
		b.WriteString(t.Format("2006-01-02T15:04:05.000000-0700"))
	case "short-precise":
		b.WriteString(t.Format("Jan 02 15:04:05.000000"))
	case "short-monotonic":
		fmt.Fprintf(&b, "[%5d.%06d]", e.Monotonic/1e6, e.Monotonic%1e6)
	default:
		b.WriteString(t.Format("Jan 02 15:04:05"))
	}
	if e.Hostname != "" {
		b.WriteByte(' ')
		b.WriteString(e.Hostname)
	}
	b.WriteByte(' ')
	b.WriteString(identOf(e))
	if e.Pid > 0 {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(e.Pid))
		b.WriteByte(']')
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// identOf is SYSLOG_IDENTIFIER, else the unit's name without its type
// (journalctl falls back to the process name, which gosd does not keep).
func identOf(e Entry) string {
	if e.Ident != "" {
		return e.Ident
	}
	if i := strings.LastIndexByte(e.Unit, '.'); i > 0 {
		return e.Unit[:i]
	}
	if e.Unit != "" {
		return e.Unit
	}
	return "unknown"
}
