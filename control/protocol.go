package control

import (
	"encoding/json"
	"fmt"
	"strings"

	"gosd/logstore"
	"gosd/manager"
	"gosd/unitfile"
)

// The wire protocol is JSON-RPC 2.0, one JSON object per line in each
// direction (docs/control-api.md). These are the method names.
const (
	MethodList         = "List"           // ListParams → []UnitInfo
	MethodStatus       = "Status"         // StatusParams → []UnitDetail
	MethodCat          = "Cat"            // UnitsParams → []UnitFiles
	MethodDependencies = "Dependencies"   // DependenciesParams → DependencyNode
	MethodJob          = "Job"            // JobParams → []JobOutcome
	MethodKill         = "Kill"           // KillParams → null
	MethodResetFailed  = "ResetFailed"    // UnitsParams → null
	MethodReload       = "Reload"         // no params → null
	MethodReexec       = "Reexec"         // no params → null, then gosd re-executes
	MethodPower        = "Power"          // PowerParams → null
	MethodLogs         = "Logs"           // LogsParams → LogEntries notifications, LogsResult, then (Follow) more
	MethodUnitPaths    = "UnitPaths"      // no params → []string
	MethodAnalyze      = "Analyze"        // no params → AnalyzeResult
	MethodSystem       = "System"         // no params → SystemInfo
	MethodSetEnv       = "SetEnvironment" // EnvironmentParams → null

	// NotifyLogEntries is the method of the notifications a Logs request
	// streams: the entries asked for, in batches before the result, then
	// (Follow) each new entry; its params are a LogEntries.
	NotifyLogEntries = "LogEntries"
)

// JSON-RPC error codes: the standard ones and gosd's own.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603

	CodePermissionDenied = -32001 // the peer's uid may not call this method
	CodeNoSuchUnit       = -32002 // data: the unit names that were not found
	CodeJobFailed        = -32003 // data: []JobOutcome of every unit in the request
	CodeFailed           = -32004 // the manager refused or failed (message says why)
	CodeShuttingDown     = -32005 // the server is closing
)

// Error is a JSON-RPC error object; the client returns it as a Go error.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string { return e.Message }

type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

type notification struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

// ListParams selects units for List. Patterns are shell globs on the unit
// name; empty means every unit.
type ListParams struct {
	Patterns []string `json:"patterns,omitempty"`
}

// UnitsParams names units (no suffix means ".service").
type UnitsParams struct {
	Units []string `json:"units"`
}

// StatusParams asks for details of units (names or globs); Lines > 0 adds
// the last Lines log lines of each unit (root only; ignored for others).
type StatusParams struct {
	Units []string `json:"units"`
	Lines int      `json:"lines,omitempty"`
}

// DependenciesParams asks for the dependency tree of one unit.
type DependenciesParams struct {
	Unit    string `json:"unit"`
	Reverse bool   `json:"reverse,omitempty"`
}

// JobParams enqueues one job per unit. Kind is a manager.JobKind, Mode a
// manager.JobMode ("" = replace). Without NoBlock the answer comes when
// every job has finished.
type JobParams struct {
	Units   []string        `json:"units"`
	Kind    manager.JobKind `json:"kind"`
	Mode    manager.JobMode `json:"mode,omitempty"`
	NoBlock bool            `json:"no_block,omitempty"`
}

// KillParams signals units' processes. Whom is main, control or all
// ("" = all); Signal 0 means SIGTERM.
type KillParams struct {
	Units  []string `json:"units"`
	Whom   string   `json:"whom,omitempty"`
	Signal int      `json:"signal,omitempty"`
}

// PowerParams asks for poweroff, reboot, halt or exit; ExitCode (exit
// only, 0-255) is the status gosd then exits with.
type PowerParams struct {
	Action   string `json:"action"`
	ExitCode *int   `json:"exit_code,omitempty"`
}

// LogsParams asks for log entries as journalctl's options select them.
type LogsParams struct {
	Unit   string   `json:"unit,omitempty"`        // one unit (older clients); joins Units
	Units  []string `json:"units,omitempty"`       // -u, globs allowed; none: every unit
	Idents []string `json:"identifiers,omitempty"` // -t
	Lines  int      `json:"lines,omitempty"`       // -n: the last Lines entries; 0: all
	Follow bool     `json:"follow,omitempty"`      // -f
	// Since and Until bound the entries' realtime (µs since the epoch; 0:
	// no bound), as --since and --until.
	Since int64 `json:"since_usec,omitempty"`
	Until int64 `json:"until_usec,omitempty"`
	// Priority is -p's argument: a level name or number, or a range
	// "FROM..TO"; "" for every level.
	Priority string `json:"priority,omitempty"`
	ThisBoot bool   `json:"this_boot,omitempty"` // -b: the current boot only
	Kernel   bool   `json:"kernel,omitempty"`    // -k: the kernel's messages of this boot
}

// LogsResult answers Logs once every entry asked for was sent (as
// LogEntries notifications before it); with Follow, new entries follow.
type LogsResult struct {
	Count int `json:"count"`
}

// LogEntries carries log entries (journalctl -o json's fields).
type LogEntries struct {
	Entries []logstore.Entry `json:"entries"`
}

// UnitInfo is manager.UnitStatus on the wire, with wall-clock times
// (Unix microseconds, 0 = never) instead of the reactor's monotonic ones.
type UnitInfo struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	LoadState   string `json:"load_state"`
	ActiveState string `json:"active_state"`
	SubState    string `json:"sub_state"`
	Result      string `json:"result,omitempty"`
	MainPID     int    `json:"main_pid,omitempty"`
	ControlPID  int    `json:"control_pid,omitempty"`
	StatusText  string `json:"status_text,omitempty"`
	NRestarts   int    `json:"n_restarts,omitempty"`
	Job         string `json:"job,omitempty"`
	// ExecMainCode and ExecMainStatus say how the last main process
	// ended, as systemctl show: code 0 none yet, 1 exited (status = exit
	// code), 2 killed, 3 dumped core (status = signal number).
	ExecMainCode   int `json:"exec_main_code,omitempty"`
	ExecMainStatus int `json:"exec_main_status,omitempty"`

	ActiveEnterUsec   int64 `json:"active_enter_usec,omitempty"`
	ActiveExitUsec    int64 `json:"active_exit_usec,omitempty"`
	InactiveEnterUsec int64 `json:"inactive_enter_usec,omitempty"`
	InactiveExitUsec  int64 `json:"inactive_exit_usec,omitempty"`

	// Timer units: the unit activated, the next elapse and the last
	// trigger (wall clock, µs since the epoch; 0 none).
	Triggers        string `json:"triggers,omitempty"`
	NextElapseUsec  int64  `json:"next_elapse_usec,omitempty"`
	LastTriggerUsec int64  `json:"last_trigger_usec,omitempty"`

	// ExecMainPID is the last main process, kept after it ended.
	ExecMainPID int `json:"exec_main_pid,omitempty"`
}

// UnitDetail answers Status for one unit. Found is false for a name the
// manager does not know (Info then holds only the name).
type UnitDetail struct {
	Found bool           `json:"found"`
	Info  UnitInfo       `json:"info"`
	Unit  *unitfile.Unit `json:"unit,omitempty"`
	Logs  []string       `json:"logs,omitempty"`
	// Cgroup is the unit's control group while it has one and the unit is
	// not inactive (or still holds processes).
	Cgroup *CgroupStats `json:"cgroup,omitempty"`
	// MainComm and ControlComm are /proc/PID/comm of the main and control
	// processes, read by the server (its PID namespace may not be the
	// client's).
	MainComm    string `json:"main_comm,omitempty"`
	ControlComm string `json:"control_comm,omitempty"`
}

// CgroupProcess is one process of a unit's cgroup, with its command line
// as /proc/PID/cmdline holds it (words joined by spaces; "[comm]" when
// empty), read by the server in its own PID namespace.
type CgroupProcess struct {
	Pid     int    `json:"pid"`
	Cmdline string `json:"cmdline"`
}

// AnalyzeResult answers Analyze: every unit's transition times, relative
// to gosd's start, in microseconds (0 = never), and what decides boot time.
type AnalyzeResult struct {
	// Target is the unit gosd started at boot.
	Target string `json:"target,omitempty"`
	// FinishUsec is when the boot target's start job finished (0 = not yet).
	FinishUsec int64 `json:"finish_usec,omitempty"`
	// StartupMonotonicUsec is gosd's start on CLOCK_MONOTONIC (time since
	// the kernel booted); Kernel says it is the kernel's share of the boot
	// (gosd is PID1 of a machine, not of a container).
	StartupMonotonicUsec int64         `json:"startup_monotonic_usec"`
	Kernel               bool          `json:"kernel,omitempty"`
	NowUsec              int64         `json:"now_usec"`
	Units                []AnalyzeUnit `json:"units"`
}

// AnalyzeUnit is one unit's last transitions: activating is when it left
// inactive (InactiveExit), activated when it became active (ActiveEnter),
// deactivating when it left active (ActiveExit), deactivated when it became
// inactive again (InactiveEnter). After lists the units it is ordered after,
// explicit (After=, reverse Before=) and implicit ones.
type AnalyzeUnit struct {
	Name             string   `json:"name"`
	ActiveState      string   `json:"active_state"`
	ActivatingUsec   int64    `json:"activating_usec,omitempty"`
	ActivatedUsec    int64    `json:"activated_usec,omitempty"`
	DeactivatingUsec int64    `json:"deactivating_usec,omitempty"`
	DeactivatedUsec  int64    `json:"deactivated_usec,omitempty"`
	After            []string `json:"after,omitempty"`
}

// UnitFiles answers Cat for one unit: the fragment then the drop-ins.
type UnitFiles struct {
	Unit  string     `json:"unit"`
	Files []FileText `json:"files"`
}

// FileText is one file's path and content (Error set if it could not be
// read). ClientReads says the server did not read it: the client reads it
// with its caller's rights, as systemctl does (only root's request is
// answered with the text).
type FileText struct {
	Path        string `json:"path"`
	Text        string `json:"text,omitempty"`
	Error       string `json:"error,omitempty"`
	ClientReads bool   `json:"client_reads,omitempty"`
}

// DependencyNode is one unit of a dependency tree. Cycle marks a unit
// already shown further up the same branch (its children are omitted).
type DependencyNode struct {
	Unit        string           `json:"unit"`
	ActiveState string           `json:"active_state"`
	Cycle       bool             `json:"cycle,omitempty"`
	Children    []DependencyNode `json:"children,omitempty"`
}

// JobOutcome is one unit's job result ("queued" with NoBlock).
type JobOutcome struct {
	Unit   string `json:"unit"`
	Result string `json:"result"`
}

var unitSuffixes = []string{".service", ".socket", ".target", ".device", ".mount",
	".automount", ".swap", ".timer", ".path", ".slice", ".scope"}

// NormalizeName appends ".service" to a unit name without a known type
// suffix, as systemctl does. Glob patterns are left alone.
func NormalizeName(name string) string {
	if name == "" || IsGlob(name) {
		return name
	}
	for _, s := range unitSuffixes {
		if strings.HasSuffix(name, s) && len(name) > len(s) {
			return name
		}
	}
	return name + ".service"
}

// IsGlob says whether a unit argument is a shell pattern.
func IsGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// MethodProperties answers with properties under systemd's names and D-Bus
// types, from the table the D-Bus API serves (props.go): of the units
// named, or of the manager.
const MethodProperties = "Properties" // PropertiesParams → []PropertySet

// PropertiesParams names units (names or globs), or asks for the
// manager's properties.
type PropertiesParams struct {
	Units   []string `json:"units,omitempty"`
	Manager bool     `json:"manager,omitempty"`
}

// PropertySet is one unit's (or the manager's) properties, in systemd's
// order: the type's interface, then the Unit interface.
type PropertySet struct {
	Unit  string     `json:"unit,omitempty"`
	Found bool       `json:"found"`
	Props []Property `json:"props"`
}

// Property is one value with its D-Bus signature (s, b, u, t, i, as,
// (ss), a(ss), a(sasbttttuii)...); Value is its JSON form (structs as
// arrays).
type Property struct {
	Name  string          `json:"name"`
	Sig   string          `json:"sig"`
	Value json.RawMessage `json:"value"`
}
