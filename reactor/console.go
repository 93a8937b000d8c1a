package reactor

import (
	"strings"

	"gosd/manager"
	"gosd/unitfile"
)

// Console status marks, as systemd prints them.
const (
	MarkOK      = "[  OK  ]"
	MarkFailed  = "[FAILED]"
	MarkDepend  = "[DEPEND]"
	MarkTime    = "[ TIME ]"
	MarkNone    = "        "
	markIndent  = " "
	unitTypeSep = "."
)

// ConsoleLine renders a job effect as systemd's console progress line, or
// "" when systemd prints nothing for it. desc is the unit's Description=;
// oneshot says the unit is a Type=oneshot service (systemd says "Finished"
// when its start job succeeds).
func ConsoleLine(e manager.Effect, desc string, oneshot bool) string {
	switch e := e.(type) {
	case manager.JobStarted:
		if unitType(e.Unit) != "service" {
			return ""
		}
		switch e.Kind {
		case manager.JobStart:
			return MarkNone + markIndent + "Starting " + named(e.Unit, desc) + "..."
		case manager.JobStop:
			return MarkNone + markIndent + "Stopping " + named(e.Unit, desc) + "..."
		case manager.JobReload:
			return MarkNone + markIndent + "Reloading " + named(e.Unit, desc) + "..."
		}
	case manager.JobFinished:
		if e.Skipped {
			return "" // unmet conditions: systemd prints nothing
		}
		return finishedLine(e, desc, oneshot)
	}
	return ""
}

func finishedLine(e manager.JobFinished, desc string, oneshot bool) string {
	typ := unitType(e.Unit)
	n := named(e.Unit, desc)
	switch e.Kind {
	case manager.JobStart, manager.JobRestart, manager.JobVerifyActive:
		switch e.Result {
		case manager.ResultDone:
			switch typ {
			case "target":
				return MarkOK + " Reached target " + n + "."
			case "socket":
				return MarkOK + " Listening on " + n + "."
			}
			if oneshot {
				return MarkOK + " Finished " + n + "."
			}
			return MarkOK + " Started " + n + "."
		case manager.ResultFailed:
			return MarkFailed + " Failed to start " + n + "."
		case manager.ResultDependency:
			return MarkDepend + " Dependency failed for " + n + "."
		case manager.ResultTimeout:
			return MarkTime + " Timed out starting " + n + "."
		case manager.ResultAssert:
			return MarkFailed + " Assertion failed for " + n + "."
		}
	case manager.JobStop:
		switch e.Result {
		case manager.ResultDone:
			switch typ {
			case "target":
				return MarkOK + " Stopped target " + n + "."
			case "socket":
				return MarkOK + " Closed " + n + "."
			}
			return MarkOK + " Stopped " + n + "."
		case manager.ResultFailed:
			return MarkFailed + " Stopped " + n + "."
		case manager.ResultTimeout:
			return MarkTime + " Timed out stopping " + n + "."
		}
	case manager.JobReload:
		switch e.Result {
		case manager.ResultDone:
			return MarkOK + " Reloaded " + n + "."
		case manager.ResultFailed:
			return MarkFailed + " Reload failed for " + n + "."
		}
	}
	return ""
}

// named is "foo.service - Description" (systemd 252's form), or just the
// unit name without a description.
func named(unit, desc string) string {
	if desc == "" || desc == unit {
		return unit
	}
	return unit + " - " + desc
}

func unitType(unit string) string {
	if i := strings.LastIndex(unit, unitTypeSep); i >= 0 {
		return unit[i+1:]
	}
	return ""
}

// LevelName is the word used for a log level in gosd's log.
func LevelName(l manager.Level) string {
	switch l {
	case manager.LevelDebug:
		return "debug"
	case manager.LevelInfo:
		return "info"
	case manager.LevelNotice:
		return "notice"
	case manager.LevelWarning:
		return "warning"
	}
	return "error"
}

// LogLine renders a message for gosd's log: "unit: file:line: message"
// (unit and position omitted when not known), with the level for warnings
// and errors.
func LogLine(unit string, pos unitfile.Pos, level manager.Level, msg string) string {
	var b strings.Builder
	if unit != "" {
		b.WriteString(unit)
		b.WriteString(": ")
	}
	if pos.File != "" {
		b.WriteString(pos.String())
		b.WriteString(": ")
	}
	if level >= manager.LevelWarning {
		b.WriteString(LevelName(level))
		b.WriteString(": ")
	}
	b.WriteString(msg)
	return b.String()
}
