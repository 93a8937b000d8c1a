package logstore

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Transports, as journald names them (_TRANSPORT=).
const (
	TransportStdout  = "stdout"  // a unit's stdout/stderr pipe
	TransportSyslog  = "syslog"  // a datagram on /dev/log
	TransportJournal = "journal" // journald's native protocol
	TransportKernel  = "kernel"  // read from /dev/kmsg
	TransportDriver  = "driver"  // gosd's own messages (journald: the service manager's)
)

// Entry is one log record.
type Entry struct {
	// Seq numbers the entries of one gosd process from 1 (journald's
	// __SEQNUM); 0 in an entry not added yet.
	Seq uint64
	// Realtime is CLOCK_REALTIME and Monotonic CLOCK_MONOTONIC at
	// reception, in microseconds (journald's __REALTIME_TIMESTAMP and
	// __MONOTONIC_TIMESTAMP); BootID tells which boot's monotonic clock.
	Realtime, Monotonic int64
	BootID              string
	Hostname            string
	Priority            int // 0 (emerg) .. 7 (debug)
	Facility            int // syslog facility number (3: daemon)
	Unit                string
	Pid                 int
	Ident               string // SYSLOG_IDENTIFIER
	Message             string
	Transport           string
	// Forwarded: systemd-journald took the entry, which then stays out of
	// gosd's persistent log (journald keeps it).
	Forwarded bool
}

// size is what an entry counts against a store's cap: its strings and a
// fixed overhead for the rest (shared strings such as the boot id, the
// hostname and the unit name are counted anyway: the cap is an upper bound).
func (e *Entry) size() int {
	return 128 + len(e.Unit) + len(e.Ident) + len(e.Message)
}

// jsonEntry is journalctl -o json's form: every value a string, journald's
// field names. It is also the line format of the persistent log.
type jsonEntry struct {
	Seq       string `json:"__SEQNUM,omitempty"`
	Realtime  string `json:"__REALTIME_TIMESTAMP"`
	Monotonic string `json:"__MONOTONIC_TIMESTAMP"`
	BootID    string `json:"_BOOT_ID,omitempty"`
	Hostname  string `json:"_HOSTNAME,omitempty"`
	Priority  string `json:"PRIORITY"`
	Facility  string `json:"SYSLOG_FACILITY,omitempty"`
	Ident     string `json:"SYSLOG_IDENTIFIER,omitempty"`
	Pid       string `json:"_PID,omitempty"`
	// Unit is _SYSTEMD_UNIT for what a unit's processes wrote; gosd's own
	// messages about a unit carry UNIT= as systemd's do.
	Unit        string `json:"_SYSTEMD_UNIT,omitempty"`
	ManagerUnit string `json:"UNIT,omitempty"`
	Transport   string `json:"_TRANSPORT,omitempty"`
	Message     string `json:"MESSAGE"`
}

// MarshalJSON renders journalctl's JSON form.
func (e Entry) MarshalJSON() ([]byte, error) {
	j := jsonEntry{
		Realtime: strconv.FormatInt(e.Realtime, 10), Monotonic: strconv.FormatInt(e.Monotonic, 10),
		BootID: e.BootID, Hostname: e.Hostname, Priority: strconv.Itoa(e.Priority),
		Facility: strconv.Itoa(e.Facility), Ident: e.Ident, Transport: e.Transport, Message: e.Message,
	}
	if e.Seq != 0 {
		j.Seq = strconv.FormatUint(e.Seq, 10)
	}
	if e.Pid > 0 {
		j.Pid = strconv.Itoa(e.Pid)
	}
	if e.Transport == TransportDriver {
		j.ManagerUnit = e.Unit
	} else {
		j.Unit = e.Unit
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads journalctl's JSON form (and the persistent log).
func (e *Entry) UnmarshalJSON(b []byte) error {
	var j jsonEntry
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	num := func(s string) int64 {
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	*e = Entry{
		Seq: uint64(num(j.Seq)), Realtime: num(j.Realtime), Monotonic: num(j.Monotonic),
		BootID: j.BootID, Hostname: j.Hostname, Priority: int(num(j.Priority)), Facility: int(num(j.Facility)),
		Ident: j.Ident, Pid: int(num(j.Pid)), Unit: j.Unit, Transport: j.Transport, Message: j.Message,
	}
	if e.Unit == "" {
		e.Unit = j.ManagerUnit
	}
	if j.Realtime == "" || j.Priority == "" {
		return fmt.Errorf("log entry without __REALTIME_TIMESTAMP or PRIORITY")
	}
	if e.Priority < 0 || e.Priority > 7 {
		return fmt.Errorf("log entry with PRIORITY=%s", j.Priority)
	}
	return nil
}

// Priority names, as journalctl -p takes them (syslog(3) levels).
var priorityNames = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// ParsePriority reads a level name or number 0-7 ("err", "3", "warning").
// journalctl also takes a range "FROM..TO"; the result is then the range's
// bounds (min is the most severe).
func ParsePriority(s string) (lo, hi int, err error) {
	one := func(s string) (int, error) {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 7 {
			return n, nil
		}
		for i, n := range priorityNames {
			if s == n {
				return i, nil
			}
		}
		switch s {
		case "error":
			return 3, nil
		case "warn":
			return 4, nil
		}
		return 0, fmt.Errorf("unknown priority %q (emerg, alert, crit, err, warning, notice, info, debug or 0-7)", s)
	}
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '.' && s[i+1] == '.' {
			a, err := one(s[:i])
			if err != nil {
				return 0, 0, err
			}
			b, err := one(s[i+2:])
			if err != nil {
				return 0, 0, err
			}
			return min(a, b), max(a, b), nil
		}
	}
	n, err := one(s)
	return 0, n, err
}
