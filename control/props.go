//go:build linux || freebsd

package control

import (
	"encoding/hex"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"gosd/internal/dbus"
	"gosd/manager"
	"gosd/unitfile"
)

// This file is the one property table: the properties of the manager and
// of units under systemd's names, D-Bus types and defaults
// (org.freedesktop.systemd1(5)). The D-Bus API serves it (bus_api.go) and
// the Properties method sends it to `show` and `status`, which format the
// values as systemctl does (show.go).

// prop is one property: its name, D-Bus signature and how its value is
// computed. file marks a property read from the unit files on disk,
// computed off the reactor (fileProps).
type prop struct {
	name, sig string
	get       func(*propSrc) any
	file      bool
}

// propSrc is what a unit's properties come from, taken on the reactor.
type propSrc struct {
	b     Backend
	clk   busClock
	st    manager.UnitStatus
	found bool
	u     *unitfile.Unit // never nil
	rev   func(kind string) []string
	cg    *CgroupStats // nil: no cgroup
}

// sock is the [Socket] section, systemd's defaults when there is none.
func (p *propSrc) sock() *unitfile.Socket {
	if p.u.Socket == nil {
		p.u.Socket = unitfile.DefaultSocket()
	}
	return p.u.Socket
}

// exitStatusSetting is FailureActionExitStatus= and its kin: -1 unset
// (the loader's -1, and for a unit without a file).
func exitStatusSetting(p *propSrc, v int) int32 {
	if !p.found {
		return -1
	}
	return int32(v)
}

func derefInt(v *int) int {
	if v == nil {
		return 0
	}
	return *v
}

// orMode is a directory mode, 0755 when unset (systemd.exec(5)).
func orMode(m uint32) uint32 {
	if m == 0 {
		return 0o755
	}
	return m
}

// stdio is a Standard*= setting as systemd's property shows it: the
// kind, "file:PATH" and the like, "fd:NAME".
func stdio(s unitfile.Stdio, def string) string {
	switch {
	case s.Kind == "":
		return def
	case s.Path != "":
		return s.Kind + ":" + s.Path
	case s.Name != "":
		return s.Kind + ":" + s.Name
	}
	return s.Kind
}

func (p *propSrc) svc() *unitfile.Service {
	if p.u.Service == nil {
		p.u.Service = unitfile.DefaultService()
	}
	return p.u.Service
}

// stampOf is a monotonic instant of the backend's clock as systemd's
// realtime and monotonic µs (0 = never).
func (p *propSrc) stampOf(at time.Duration, mono bool) uint64 {
	if at <= 0 {
		return 0
	}
	m := at + p.clk.toMono
	if mono {
		return usecs(m)
	}
	return usecs(m + p.clk.toReal)
}

// stamps adds NAME (realtime) and NAMEMonotonic.
func stamps(name string, at func(*propSrc) time.Duration) []prop {
	return []prop{
		{name: name, sig: "t", get: func(p *propSrc) any { return p.stampOf(at(p), false) }},
		{name: name + "Monotonic", sig: "t", get: func(p *propSrc) any { return p.stampOf(at(p), true) }},
	}
}

func strs(l []string) []string {
	if l == nil {
		return []string{}
	}
	return append([]string{}, l...)
}

// spanUsec is a span as systemd's USec properties carry it (infinity =
// UINT64_MAX).
func spanUsec(d time.Duration) uint64 {
	if d == unitfile.Infinity || d < 0 {
		return ^uint64(0)
	}
	return uint64(d / time.Microsecond)
}

// unitProps is org.freedesktop.systemd1.Unit.
var unitProps = concat(
	[]prop{
		{name: "Id", sig: "s", get: func(p *propSrc) any { return p.st.Name }},
		{name: "Names", sig: "as", get: func(p *propSrc) any {
			names := []string{p.st.Name}
			if p.found {
				extra := strs(p.u.Names)
				sort.Strings(extra)
				names = append(names, extra...)
			}
			return names
		}},
		{name: "Following", sig: "s", get: func(p *propSrc) any { return "" }},
		{name: "Requires", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.Requires) }},
		{name: "Requisite", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.Requisite) }},
		{name: "Wants", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.Wants) }},
		{name: "BindsTo", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.BindsTo) }},
		{name: "PartOf", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.PartOf) }},
		{name: "Upholds", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.Upholds) }},
		{name: "RequiredBy", sig: "as", get: func(p *propSrc) any { return p.rev("Requires") }},
		{name: "RequisiteOf", sig: "as", get: func(p *propSrc) any { return p.rev("Requisite") }},
		{name: "WantedBy", sig: "as", get: func(p *propSrc) any { return p.rev("Wants") }},
		{name: "BoundBy", sig: "as", get: func(p *propSrc) any { return p.rev("BindsTo") }},
		{name: "UpheldBy", sig: "as", get: func(p *propSrc) any { return p.rev("Upholds") }},
		{name: "ConsistsOf", sig: "as", get: func(p *propSrc) any { return p.rev("PartOf") }},
		{name: "Conflicts", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.Conflicts) }},
		{name: "ConflictedBy", sig: "as", get: func(p *propSrc) any { return p.rev("Conflicts") }},
		{name: "Before", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.Before) }},
		{name: "After", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.After) }},
		{name: "OnSuccess", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.OnSuccess) }},
		{name: "OnFailure", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.OnFailure) }},
		{name: "Triggers", sig: "as", get: func(p *propSrc) any { return triggers(p) }},
		{name: "TriggeredBy", sig: "as", get: func(p *propSrc) any { return p.rev("Triggers") }},
		{name: "PropagatesReloadTo", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.PropagatesReloadTo) }},
		{name: "ReloadPropagatedFrom", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.ReloadPropagatedFrom) }},
		{name: "JoinsNamespaceOf", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.JoinsNamespaceOf) }},
		{name: "RequiresMountsFor", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.RequiresMountsFor) }},
		{name: "Documentation", sig: "as", get: func(p *propSrc) any { return strs(p.u.Unit.Documentation) }},
		{name: "Description", sig: "s", get: func(p *propSrc) any { return or(p.st.Description, p.st.Name) }},
		{name: "LoadState", sig: "s", get: func(p *propSrc) any { return p.st.LoadState }},
		{name: "ActiveState", sig: "s", get: func(p *propSrc) any { return p.st.Active }},
		{name: "FreezerState", sig: "s", get: func(p *propSrc) any { return "running" }},
		{name: "SubState", sig: "s", get: func(p *propSrc) any { return p.st.Sub }},
		{name: "FragmentPath", sig: "s", get: func(p *propSrc) any { return p.u.FragmentPath }},
		{name: "SourcePath", sig: "s", get: func(p *propSrc) any { return p.u.Unit.SourcePath }},
		{name: "DropInPaths", sig: "as", get: func(p *propSrc) any { return strs(p.u.DropIns) }},
		{name: "UnitFileState", sig: "s", file: true},
		{name: "UnitFilePreset", sig: "s", file: true},
	},
	stamps("StateChangeTimestamp", func(p *propSrc) time.Duration {
		return max(p.st.ActiveEnter, p.st.ActiveExit, p.st.InactiveEnter, p.st.InactiveExit)
	}),
	stamps("ActiveEnterTimestamp", func(p *propSrc) time.Duration { return p.st.ActiveEnter }),
	stamps("ActiveExitTimestamp", func(p *propSrc) time.Duration { return p.st.ActiveExit }),
	stamps("InactiveEnterTimestamp", func(p *propSrc) time.Duration { return p.st.InactiveEnter }),
	stamps("InactiveExitTimestamp", func(p *propSrc) time.Duration { return p.st.InactiveExit }),
	[]prop{
		{name: "CanStart", sig: "b", get: func(p *propSrc) any { return canStart(p) && !p.u.Unit.RefuseManualStart }},
		{name: "CanStop", sig: "b", get: func(p *propSrc) any { return canStart(p) && !p.u.Unit.RefuseManualStop }},
		{name: "CanReload", sig: "b", get: func(p *propSrc) any { return canReload(p) }},
		{name: "CanIsolate", sig: "b", get: func(p *propSrc) any { return p.found && p.u.Unit.AllowIsolate }},
		{name: "CanClean", sig: "as", get: func(p *propSrc) any { return []string{} }},
		{name: "CanFreeze", sig: "b", get: func(p *propSrc) any { return false }},
		{name: "Job", sig: "(uo)", get: func(p *propSrc) any { return dbus.Struct{uint32(0), dbus.ObjectPath("/")} }},
		{name: "StopWhenUnneeded", sig: "b", get: func(p *propSrc) any { return p.u.Unit.StopWhenUnneeded }},
		{name: "RefuseManualStart", sig: "b", get: func(p *propSrc) any { return p.u.Unit.RefuseManualStart }},
		{name: "RefuseManualStop", sig: "b", get: func(p *propSrc) any { return p.u.Unit.RefuseManualStop }},
		{name: "AllowIsolate", sig: "b", get: func(p *propSrc) any { return p.u.Unit.AllowIsolate }},
		{name: "DefaultDependencies", sig: "b", get: func(p *propSrc) any { return !p.found || p.u.Unit.DefaultDependencies }},
		{name: "OnSuccessJobMode", sig: "s", get: func(p *propSrc) any { return "fail" }},
		{name: "OnFailureJobMode", sig: "s", get: func(p *propSrc) any { return or(p.u.Unit.OnFailureJobMode, "replace") }},
		{name: "IgnoreOnIsolate", sig: "b", get: func(p *propSrc) any { return p.u.Unit.IgnoreOnIsolate }},
		{name: "NeedDaemonReload", sig: "b", file: true},
		{name: "JobTimeoutUSec", sig: "t", get: func(p *propSrc) any { return spanUsec(orSpan(p.u.Unit.JobTimeoutSec, unitfile.Infinity)) }},
		{name: "JobTimeoutAction", sig: "s", get: func(p *propSrc) any { return or(p.u.Unit.JobTimeoutAction, "none") }},
		{name: "ConditionResult", sig: "b", get: func(p *propSrc) any { return p.st.Condition.OK }},
		{name: "AssertResult", sig: "b", get: func(p *propSrc) any { return p.st.Assert.OK }},
		{name: "ConditionTimestamp", sig: "t", get: func(p *propSrc) any { return p.stampOf(p.st.Condition.At, false) }},
		{name: "ConditionTimestampMonotonic", sig: "t", get: func(p *propSrc) any { return p.stampOf(p.st.Condition.At, true) }},
		{name: "AssertTimestamp", sig: "t", get: func(p *propSrc) any { return p.stampOf(p.st.Assert.At, false) }},
		{name: "AssertTimestampMonotonic", sig: "t", get: func(p *propSrc) any { return p.stampOf(p.st.Assert.At, true) }},
		{name: "Conditions", sig: "a(sbbsi)", get: func(p *propSrc) any { return checkLines("Condition", p.u.Unit.Conditions, p.st.Condition) }},
		{name: "Asserts", sig: "a(sbbsi)", get: func(p *propSrc) any { return checkLines("Assert", p.u.Unit.Asserts, p.st.Assert) }},
		{name: "LoadError", sig: "(ss)", get: loadError},
		{name: "Transient", sig: "b", get: func(p *propSrc) any { return false }},
		{name: "Perpetual", sig: "b", get: func(p *propSrc) any { return false }},
		{name: "StartLimitIntervalUSec", sig: "t", get: func(p *propSrc) any { return spanUsec(orSpan(p.u.Unit.StartLimitIntervalSec, 10*time.Second)) }},
		{name: "StartLimitBurst", sig: "u", get: func(p *propSrc) any { return uint32(orInt(p.u.Unit.StartLimitBurst, 5)) }},
		{name: "StartLimitAction", sig: "s", get: func(p *propSrc) any { return or(p.u.Unit.StartLimitAction, "none") }},
		{name: "FailureAction", sig: "s", get: func(p *propSrc) any { return or(p.u.Unit.FailureAction, "none") }},
		{name: "SuccessAction", sig: "s", get: func(p *propSrc) any { return or(p.u.Unit.SuccessAction, "none") }},
		{name: "FailureActionExitStatus", sig: "i", get: func(p *propSrc) any { return exitStatusSetting(p, p.u.Unit.FailureActionExitStatus) }},
		{name: "SuccessActionExitStatus", sig: "i", get: func(p *propSrc) any { return exitStatusSetting(p, p.u.Unit.SuccessActionExitStatus) }},
		{name: "RebootArgument", sig: "s", get: func(p *propSrc) any { return p.u.Unit.RebootArgument }},
		{name: "JobRunningTimeoutUSec", sig: "t", get: func(p *propSrc) any {
			return spanUsec(orSpan(p.u.Unit.JobRunningTimeoutSec, unitfile.Infinity))
		}},
		{name: "CollectMode", sig: "s", get: func(p *propSrc) any { return "inactive" }},
		{name: "InvocationID", sig: "ay", get: func(p *propSrc) any {
			id, err := hex.DecodeString(p.st.Invocation)
			if err != nil || len(id) != 16 {
				return []byte{}
			}
			return id
		}},
	},
)

// serviceProps is org.freedesktop.systemd1.Service.
var serviceProps = concat(
	[]prop{
		{name: "Type", sig: "s", get: func(p *propSrc) any { return or(p.svc().Type, "simple") }},
		{name: "ExitType", sig: "s", get: func(p *propSrc) any { return or(p.svc().ExitType, "main") }},
		{name: "Restart", sig: "s", get: func(p *propSrc) any { return or(p.svc().Restart, "no") }},
		{name: "PIDFile", sig: "s", get: func(p *propSrc) any { return p.svc().PIDFile }},
		{name: "NotifyAccess", sig: "s", get: func(p *propSrc) any { return or(p.svc().NotifyAccess, "none") }},
		{name: "RestartUSec", sig: "t", get: func(p *propSrc) any { return spanUsec(p.svc().RestartSec) }},
		{name: "TimeoutStartUSec", sig: "t", get: func(p *propSrc) any { return spanUsec(p.svc().TimeoutStartSec) }},
		{name: "TimeoutStopUSec", sig: "t", get: func(p *propSrc) any { return spanUsec(p.svc().TimeoutStopSec) }},
		{name: "TimeoutAbortUSec", sig: "t", get: func(p *propSrc) any { return spanUsec(p.svc().TimeoutAbortSec) }},
		{name: "RuntimeMaxUSec", sig: "t", get: func(p *propSrc) any { return spanUsec(orSpan(p.svc().RuntimeMaxSec, unitfile.Infinity)) }},
		{name: "WatchdogUSec", sig: "t", get: func(p *propSrc) any { return spanUsec(p.svc().WatchdogSec) }},
		{name: "RootDirectoryStartOnly", sig: "b", get: func(p *propSrc) any { return p.svc().RootDirectoryStartOnly }},
		{name: "PermissionsStartOnly", sig: "b", get: func(p *propSrc) any { return p.svc().PermissionsStartOnly }},
		{name: "RemainAfterExit", sig: "b", get: func(p *propSrc) any { return p.svc().RemainAfterExit }},
		{name: "GuessMainPID", sig: "b", get: func(p *propSrc) any { return !p.found || p.svc().GuessMainPID }},
		{name: "MainPID", sig: "u", get: func(p *propSrc) any { return uint32(p.st.MainPID) }},
		{name: "ControlPID", sig: "u", get: func(p *propSrc) any { return uint32(p.st.ControlPID) }},
		{name: "BusName", sig: "s", get: func(p *propSrc) any { return p.svc().BusName }},
		{name: "FileDescriptorStoreMax", sig: "u", get: func(p *propSrc) any { return uint32(p.svc().FileDescriptorStoreMax) }},
		{name: "StatusText", sig: "s", get: func(p *propSrc) any { return p.st.StatusText }},
		{name: "Result", sig: "s", get: func(p *propSrc) any { return or(p.st.Result, "success") }},
		{name: "NRestarts", sig: "u", get: func(p *propSrc) any { return uint32(p.st.NRestarts) }},
	},
	stamps("ExecMainStartTimestamp", func(p *propSrc) time.Duration { return p.st.ExecMain.Start }),
	stamps("ExecMainExitTimestamp", func(p *propSrc) time.Duration { return p.st.ExecMain.Exit }),
	[]prop{
		{name: "ExecMainPID", sig: "u", get: func(p *propSrc) any { return uint32(p.st.ExecMain.PID) }},
		{name: "ExecMainCode", sig: "i", get: func(p *propSrc) any { c, _ := execCode(p.st.ExecMain); return c }},
		{name: "ExecMainStatus", sig: "i", get: func(p *propSrc) any { _, s := execCode(p.st.ExecMain); return s }},
		{name: "ExecCondition", sig: execSig, get: execList("ExecCondition", func(s *unitfile.Service) []unitfile.ExecCommand { return s.ExecCondition })},
		{name: "ExecStartPre", sig: execSig, get: execList("ExecStartPre", func(s *unitfile.Service) []unitfile.ExecCommand { return s.ExecStartPre })},
		{name: "ExecStart", sig: execSig, get: execStart},
		{name: "ExecStartPost", sig: execSig, get: execList("ExecStartPost", func(s *unitfile.Service) []unitfile.ExecCommand { return s.ExecStartPost })},
		{name: "ExecReload", sig: execSig, get: execList("ExecReload", func(s *unitfile.Service) []unitfile.ExecCommand { return s.ExecReload })},
		{name: "ExecStop", sig: execSig, get: execList("ExecStop", func(s *unitfile.Service) []unitfile.ExecCommand { return s.ExecStop })},
		{name: "ExecStopPost", sig: execSig, get: execList("ExecStopPost", func(s *unitfile.Service) []unitfile.ExecCommand { return s.ExecStopPost })},
		{name: "Slice", sig: "s", get: func(p *propSrc) any { return or(p.svc().Resources.Slice, "system.slice") }},
		{name: "ControlGroup", sig: "s", get: func(p *propSrc) any {
			if p.cg != nil {
				return p.cg.Path
			}
			return p.st.ControlGroup
		}},
		{name: "MemoryCurrent", sig: "t", get: func(p *propSrc) any {
			if p.cg == nil || !p.cg.HaveMemory {
				return ^uint64(0)
			}
			return p.cg.MemoryCurrent
		}},
		{name: "CPUUsageNSec", sig: "t", get: func(p *propSrc) any {
			if p.cg == nil || !p.cg.HaveCPU {
				return ^uint64(0)
			}
			return p.cg.CPUUsageNSec
		}},
		{name: "TasksCurrent", sig: "t", get: func(p *propSrc) any {
			if p.cg == nil {
				return ^uint64(0)
			}
			return p.cg.TasksCurrent
		}},
		{name: "Environment", sig: "as", get: func(p *propSrc) any { return strs(p.svc().Exec.Environment) }},
		{name: "UnsetEnvironment", sig: "as", get: func(p *propSrc) any { return strs(p.svc().Exec.UnsetEnvironment) }},
		{name: "PassEnvironment", sig: "as", get: func(p *propSrc) any { return strs(p.svc().Exec.PassEnvironment) }},
		{name: "User", sig: "s", get: func(p *propSrc) any { return p.svc().Exec.User }},
		{name: "Group", sig: "s", get: func(p *propSrc) any { return p.svc().Exec.Group }},
		{name: "DynamicUser", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.DynamicUser }},
		{name: "SupplementaryGroups", sig: "as", get: func(p *propSrc) any { return strs(p.svc().Exec.SupplementaryGroups) }},
		{name: "WorkingDirectory", sig: "s", get: func(p *propSrc) any {
			w := p.svc().Exec.WorkingDirectory
			if w != "" && p.svc().Exec.WorkingDirectoryOptional {
				w = "!" + w
			}
			return w
		}},
		{name: "UMask", sig: "u", get: func(p *propSrc) any {
			if !p.found {
				return uint32(0o022)
			}
			return p.svc().Exec.UMask
		}},
		{name: "RootDirectory", sig: "s", get: func(p *propSrc) any { return p.svc().Exec.RootDirectory }},
		{name: "Nice", sig: "i", get: func(p *propSrc) any { return int32(derefInt(p.svc().Exec.Nice)) }},
		{name: "OOMScoreAdjust", sig: "i", get: func(p *propSrc) any { return int32(derefInt(p.svc().Exec.OOMScoreAdjust)) }},
		{name: "StandardInput", sig: "s", get: func(p *propSrc) any { return stdio(p.svc().Exec.StandardInput, "null") }},
		{name: "StandardOutput", sig: "s", get: func(p *propSrc) any { return stdio(p.svc().Exec.StandardOutput, "journal") }},
		{name: "StandardError", sig: "s", get: func(p *propSrc) any { return stdio(p.svc().Exec.StandardError, "inherit") }},
		{name: "SyslogIdentifier", sig: "s", get: func(p *propSrc) any { return p.svc().Exec.SyslogIdentifier }},
		{name: "RuntimeDirectory", sig: "as", get: func(p *propSrc) any { return strs(p.svc().Exec.RuntimeDirectory) }},
		{name: "StateDirectory", sig: "as", get: func(p *propSrc) any { return strs(p.svc().Exec.StateDirectory) }},
		{name: "CacheDirectory", sig: "as", get: func(p *propSrc) any { return strs(p.svc().Exec.CacheDirectory) }},
		{name: "LogsDirectory", sig: "as", get: func(p *propSrc) any { return strs(p.svc().Exec.LogsDirectory) }},
		{name: "ConfigurationDirectory", sig: "as", get: func(p *propSrc) any { return strs(p.svc().Exec.ConfigurationDirectory) }},
		{name: "RuntimeDirectoryMode", sig: "u", get: func(p *propSrc) any { return orMode(p.svc().Exec.RuntimeDirectoryMode) }},
		{name: "StateDirectoryMode", sig: "u", get: func(p *propSrc) any { return orMode(p.svc().Exec.StateDirectoryMode) }},
		{name: "CacheDirectoryMode", sig: "u", get: func(p *propSrc) any { return orMode(p.svc().Exec.CacheDirectoryMode) }},
		{name: "LogsDirectoryMode", sig: "u", get: func(p *propSrc) any { return orMode(p.svc().Exec.LogsDirectoryMode) }},
		{name: "ConfigurationDirectoryMode", sig: "u", get: func(p *propSrc) any { return orMode(p.svc().Exec.ConfigurationDirectoryMode) }},
		{name: "RuntimeDirectoryPreserve", sig: "s", get: func(p *propSrc) any { return or(p.svc().Exec.RuntimeDirectoryPreserve, "no") }},
		{name: "NoNewPrivileges", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.NoNewPrivileges }},
		{name: "ProtectSystem", sig: "s", get: func(p *propSrc) any { return or(p.svc().Exec.ProtectSystem, "no") }},
		{name: "ProtectHome", sig: "s", get: func(p *propSrc) any { return or(p.svc().Exec.ProtectHome, "no") }},
		{name: "PrivateTmp", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.PrivateTmp }},
		{name: "PrivateDevices", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.PrivateDevices }},
		{name: "PrivateNetwork", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.PrivateNetwork }},
		{name: "PrivateIPC", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.PrivateIPC }},
		{name: "PrivateUsers", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.PrivateUsers }},
		{name: "PrivateMounts", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.PrivateMounts }},
		{name: "ProtectKernelTunables", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.ProtectKernelTunables }},
		{name: "ProtectKernelModules", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.ProtectKernelModules }},
		{name: "ProtectKernelLogs", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.ProtectKernelLogs }},
		{name: "ProtectControlGroups", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.ProtectControlGroups }},
		{name: "ProtectHostname", sig: "b", get: func(p *propSrc) any { return p.svc().Exec.ProtectHostname }},
		{name: "ProtectProc", sig: "s", get: func(p *propSrc) any { return or(p.svc().Exec.ProtectProc, "default") }},
		{name: "ProcSubset", sig: "s", get: func(p *propSrc) any { return or(p.svc().Exec.ProcSubset, "all") }},
		{name: "TimeoutStartFailureMode", sig: "s", get: func(p *propSrc) any { return or(p.svc().TimeoutStartFailureMode, "terminate") }},
		{name: "TimeoutStopFailureMode", sig: "s", get: func(p *propSrc) any { return or(p.svc().TimeoutStopFailureMode, "terminate") }},
		{name: "OOMPolicy", sig: "s", get: func(p *propSrc) any { return or(p.svc().OOMPolicy, "stop") }},
		{name: "NonBlocking", sig: "b", get: func(p *propSrc) any { return p.svc().NonBlocking }},
		{name: "KillMode", sig: "s", get: func(p *propSrc) any { return or(p.svc().Kill.KillMode, "control-group") }},
		{name: "KillSignal", sig: "i", get: func(p *propSrc) any { return int32(orInt(p.svc().Kill.KillSignal, int(syscall.SIGTERM))) }},
		{name: "SendSIGKILL", sig: "b", get: func(p *propSrc) any { return !p.found || p.svc().Kill.SendSIGKILL }},
		{name: "SendSIGHUP", sig: "b", get: func(p *propSrc) any { return p.svc().Kill.SendSIGHUP }},
		{name: "RestartKillSignal", sig: "i", get: func(p *propSrc) any {
			return int32(orInt(p.svc().Kill.RestartKillSignal, orInt(p.svc().Kill.KillSignal, int(syscall.SIGTERM))))
		}},
		{name: "FinalKillSignal", sig: "i", get: func(p *propSrc) any { return int32(orInt(p.svc().Kill.FinalKillSignal, int(syscall.SIGKILL))) }},
		{name: "WatchdogSignal", sig: "i", get: func(p *propSrc) any { return int32(orInt(p.svc().Kill.WatchdogSignal, int(syscall.SIGABRT))) }},
	},
)

// socketProps is org.freedesktop.systemd1.Socket (the part gosd knows).
var socketProps = []prop{
	{name: "Accept", sig: "b", get: func(p *propSrc) any { return p.u.Socket != nil && p.u.Socket.Accept }},
	{name: "Listen", sig: "a(ss)", get: func(p *propSrc) any {
		out := []dbus.Struct{}
		if p.u.Socket != nil {
			for _, l := range p.u.Socket.Listen {
				out = append(out, dbus.Struct{string(l.Kind), l.Address})
			}
		}
		return out
	}},
	{name: "ControlPID", sig: "u", get: func(p *propSrc) any { return uint32(p.st.ControlPID) }},
	{name: "Result", sig: "s", get: func(p *propSrc) any { return or(p.st.Result, "success") }},
	{name: "BindIPv6Only", sig: "s", get: func(p *propSrc) any { return or(p.sock().BindIPv6Only, "default") }},
	{name: "Backlog", sig: "u", get: func(p *propSrc) any { return uint32(p.sock().Backlog) }},
	{name: "BindToDevice", sig: "s", get: func(p *propSrc) any { return p.sock().BindToDevice }},
	{name: "SocketUser", sig: "s", get: func(p *propSrc) any { return p.sock().SocketUser }},
	{name: "SocketGroup", sig: "s", get: func(p *propSrc) any { return p.sock().SocketGroup }},
	{name: "SocketMode", sig: "u", get: func(p *propSrc) any { return p.sock().SocketMode }},
	{name: "DirectoryMode", sig: "u", get: func(p *propSrc) any { return p.sock().DirectoryMode }},
	{name: "MaxConnections", sig: "u", get: func(p *propSrc) any { return uint32(p.sock().MaxConnections) }},
	{name: "MaxConnectionsPerSource", sig: "u", get: func(p *propSrc) any { return uint32(p.sock().MaxConnectionsPerSource) }},
	{name: "RemoveOnStop", sig: "b", get: func(p *propSrc) any { return p.sock().RemoveOnStop }},
	{name: "Symlinks", sig: "as", get: func(p *propSrc) any { return strs(p.sock().Symlinks) }},
	{name: "FileDescriptorName", sig: "s", get: func(p *propSrc) any { return or(p.sock().FileDescriptorName, p.st.Name) }},
	{name: "ReusePort", sig: "b", get: func(p *propSrc) any { return p.sock().ReusePort }},
	{name: "KeepAlive", sig: "b", get: func(p *propSrc) any { return p.sock().KeepAlive }},
	{name: "NoDelay", sig: "b", get: func(p *propSrc) any { return p.sock().NoDelay }},
	{name: "FreeBind", sig: "b", get: func(p *propSrc) any { return p.sock().FreeBind }},
	{name: "Transparent", sig: "b", get: func(p *propSrc) any { return p.sock().Transparent }},
	{name: "Broadcast", sig: "b", get: func(p *propSrc) any { return p.sock().Broadcast }},
	{name: "PassCredentials", sig: "b", get: func(p *propSrc) any { return p.sock().PassCredentials }},
	{name: "PassSecurity", sig: "b", get: func(p *propSrc) any { return p.sock().PassSecurity }},
	{name: "ReceiveBuffer", sig: "t", get: func(p *propSrc) any { return p.sock().ReceiveBuffer }},
	{name: "SendBuffer", sig: "t", get: func(p *propSrc) any { return p.sock().SendBuffer }},
	{name: "PipeSize", sig: "t", get: func(p *propSrc) any { return p.sock().PipeSize }},
}

// timerProps is org.freedesktop.systemd1.Timer (the part gosd knows).
// sliceProps is org.freedesktop.systemd1.Slice: its place and its
// cgroup's figures, what systemctl status prints of a slice.
var sliceProps = append([]prop{
	{name: "Slice", sig: "s", get: func(p *propSrc) any { return parentSlice(p.st.Name) }},
}, pickProps(serviceProps, "ControlGroup", "MemoryCurrent", "CPUUsageNSec", "TasksCurrent")...)

// parentSlice is the slice a slice is in: a-b.slice is in a.slice, a
// top-level one in -.slice, which is in none.
func parentSlice(name string) string {
	base, _ := strings.CutSuffix(name, ".slice")
	if base == "-" {
		return ""
	}
	if i := strings.LastIndexByte(base, '-'); i > 0 {
		return base[:i] + ".slice"
	}
	return "-.slice"
}

// pickProps takes the named properties of a table, in the order given.
func pickProps(table []prop, names ...string) []prop {
	var out []prop
	for _, n := range names {
		for _, p := range table {
			if p.name == n {
				out = append(out, p)
			}
		}
	}
	return out
}

var timerProps = []prop{
	{name: "Unit", sig: "s", get: func(p *propSrc) any { return p.st.Triggers }},
	{name: "NextElapseUSecRealtime", sig: "t", get: func(p *propSrc) any { return wallUsecU(p.st.NextElapse) }},
	// gosd plans every elapse, monotonic or calendar, as a wall-clock
	// instant: it is carried in ...Realtime; ...Monotonic stays 0, which
	// systemctl list-timers reads as "no monotonic elapse" and takes the
	// realtime one.
	{name: "NextElapseUSecMonotonic", sig: "t", get: func(p *propSrc) any { return uint64(0) }},
	{name: "LastTriggerUSec", sig: "t", get: func(p *propSrc) any { return wallUsecU(p.st.LastTrigger) }},
	{name: "LastTriggerUSecMonotonic", sig: "t", get: func(p *propSrc) any { return uint64(0) }},
	{name: "Result", sig: "s", get: func(p *propSrc) any { return or(p.st.Result, "success") }},
	{name: "Persistent", sig: "b", get: func(p *propSrc) any { return p.u.Timer != nil && p.u.Timer.Persistent }},
	{name: "AccuracyUSec", sig: "t", get: func(p *propSrc) any {
		if p.u.Timer == nil {
			return spanUsec(time.Minute)
		}
		return spanUsec(p.u.Timer.AccuracySec)
	}},
	{name: "RandomizedDelayUSec", sig: "t", get: func(p *propSrc) any {
		if p.u.Timer == nil {
			return uint64(0)
		}
		return spanUsec(p.u.Timer.RandomizedDelaySec)
	}},
	{name: "FixedRandomDelay", sig: "b", get: func(p *propSrc) any { return p.u.Timer != nil && p.u.Timer.FixedRandomDelay }},
	{name: "WakeSystem", sig: "b", get: func(p *propSrc) any { return p.u.Timer != nil && p.u.Timer.WakeSystem }},
	{name: "RemainAfterElapse", sig: "b", get: func(p *propSrc) any { return p.u.Timer == nil || p.u.Timer.RemainAfterElapse }},
}

// managerProps is org.freedesktop.systemd1.Manager's properties.
var managerProps = []prop{
	{name: "Version", sig: "s"}, {name: "Features", sig: "s"}, {name: "Tainted", sig: "s"},
	{name: "Architecture", sig: "s"}, {name: "Virtualization", sig: "s"}, {name: "SystemState", sig: "s"},
	{name: "KernelTimestamp", sig: "t"}, {name: "KernelTimestampMonotonic", sig: "t"},
	{name: "UserspaceTimestamp", sig: "t"}, {name: "UserspaceTimestampMonotonic", sig: "t"},
	{name: "FinishTimestamp", sig: "t"}, {name: "FinishTimestampMonotonic", sig: "t"},
	{name: "NNames", sig: "u"}, {name: "NFailedUnits", sig: "u"}, {name: "NJobs", sig: "u"},
	{name: "Environment", sig: "as"},
}

func concat(lists ...[]prop) []prop {
	var out []prop
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func orSpan(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func wallUsecU(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixMicro())
}

// unitTypeProps is the type-specific interface of a unit, by suffix.
func unitTypeProps(name string) (iface string, props []prop) {
	switch {
	case strings.HasSuffix(name, ".service"):
		return ifaceService, serviceProps
	case strings.HasSuffix(name, ".socket"):
		return ifaceSocket, socketProps
	case strings.HasSuffix(name, ".timer"):
		return ifaceTimer, timerProps
	case strings.HasSuffix(name, ".device"):
		return ifaceDevice, deviceProps
	case strings.HasSuffix(name, ".slice"):
		return ifaceSlice, sliceProps
	}
	return "", nil
}

// deviceProps are org.freedesktop.systemd1.Device's: the device a plugged
// unit stands for.
var deviceProps = []prop{
	{name: "SysFSPath", sig: "s", get: func(p *propSrc) any { return p.st.SysFSPath }},
}

// triggers is what a unit activates: a socket its service, a timer or a
// path unit its unit (systemd's Triggers=).
func triggers(p *propSrc) []string {
	switch {
	case p.u.Socket != nil:
		return []string{socketService(p.st.Name, p.u.Socket)}
	case p.u.Timer != nil && p.st.Triggers != "":
		return []string{p.st.Triggers}
	case p.u.Timer != nil:
		return []string{or(p.u.Timer.Unit, strings.TrimSuffix(p.st.Name, ".timer")+".service")}
	case p.u.Path != nil:
		return []string{or(p.u.Path.Unit, strings.TrimSuffix(p.st.Name, ".path")+".service")}
	}
	return []string{}
}

// socketService is the service a socket unit activates.
func socketService(name string, s *unitfile.Socket) string {
	if s.Service != "" {
		return s.Service
	}
	base := strings.TrimSuffix(name, ".socket")
	if s.Accept {
		return base + "@.service"
	}
	return base + ".service"
}

// canStart: a unit that is loaded and of a type that starts (systemd: not
// a device, not a scope started from outside).
func canStart(p *propSrc) bool {
	return p.found && p.st.LoadState == "loaded" && !strings.HasSuffix(p.st.Name, ".device")
}

// canReload: a service with ExecReload= (or Type=notify-reload).
func canReload(p *propSrc) bool {
	s := p.u.Service
	return canStart(p) && s != nil && (len(s.ExecReload) > 0 || s.Type == "notify-reload")
}

// loadError is (name, message) of why a unit did not load; empty when it
// did.
func loadError(p *propSrc) any {
	switch p.st.LoadState {
	case "not-found":
		return dbus.Struct{"org.freedesktop.systemd1.NoSuchUnit", "Unit " + p.st.Name + " not found."}
	case "masked":
		return dbus.Struct{"org.freedesktop.systemd1.UnitMasked", "Unit " + p.st.Name + " is masked."}
	case "bad-setting", "error":
		msg := "Unit " + p.st.Name + " failed to load properly, please adjust/correct and reload service manager"
		for _, d := range p.u.Diags {
			if d.Severity == unitfile.Error {
				msg += ": " + d.Msg
				break
			}
		}
		name := "org.freedesktop.systemd1.BadUnitSetting"
		if p.st.LoadState == "error" {
			name = "org.freedesktop.systemd1.LoadFailed"
		}
		return dbus.Struct{name, msg}
	}
	return dbus.Struct{"", ""}
}

// execCode is systemd's ExecMainCode (CLD_EXITED 1, CLD_KILLED 2,
// CLD_DUMPED 3; 0 while running or never run) and ExecMainStatus (the
// exit status, or the signal).
func execCode(e manager.ExecMainStatus) (int32, int32) {
	switch {
	case !e.Exited:
		return 0, 0
	case e.Status.Exited:
		return 1, int32(e.Status.Code)
	case e.Status.CoreDump:
		return 3, int32(e.Status.Signal)
	}
	return 2, int32(e.Status.Signal)
}

func execEntry(c unitfile.ExecCommand) dbus.Struct {
	argv := strs(c.Argv)
	if len(argv) == 0 {
		argv = []string{c.Path}
	}
	return dbus.Struct{c.Path, argv, c.IgnoreFailure, uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), int32(0), int32(0)}
}

// execList is a control command setting, each command with its last
// run's pid, times and status (zero when it has not run since the start).
func execList(setting string, pick func(*unitfile.Service) []unitfile.ExecCommand) func(*propSrc) any {
	return func(p *propSrc) any {
		out := []dbus.Struct{}
		for i, c := range pick(p.svc()) {
			e := execEntry(c)
			for _, r := range p.st.ExecRuns {
				if r.Setting == setting && r.Index == i {
					fillRun(p, e, manager.ExecMainStatus{PID: r.PID, Start: r.Start, Exit: r.Exit, Exited: r.Exited, Status: r.Status})
				}
			}
			out = append(out, e)
		}
		return out
	}
}

// fillRun puts a run's pid, times and status into an Exec*= record.
func fillRun(p *propSrc, e dbus.Struct, run manager.ExecMainStatus) {
	code, status := execCode(run)
	e[3], e[4] = p.stampOf(run.Start, false), p.stampOf(run.Start, true)
	e[5], e[6] = p.stampOf(run.Exit, false), p.stampOf(run.Exit, true)
	e[7], e[8], e[9] = uint32(run.PID), code, status
}

// execStart is ExecStart=, the main command carrying the last main
// process's pid, times and status, as systemd records them.
func execStart(p *propSrc) any {
	out := []dbus.Struct{}
	cmds := p.svc().ExecStart
	em := p.st.ExecMain
	for i, c := range cmds {
		e := execEntry(c)
		// The last command of the list ran as the main process (a oneshot
		// runs them in order; its last one is the one reported).
		if em.PID > 0 && i == len(cmds)-1 {
			fillRun(p, e, em)
		}
		out = append(out, e)
	}
	return out
}

// reverseDeps maps each unit to the units that name it, per dependency
// kind (Wants → WantedBy...), over every loaded unit. On the reactor.
func reverseDeps(b Backend) func(name, kind string) []string {
	var rev map[string]map[string][]string
	build := func() {
		rev = map[string]map[string][]string{}
		add := func(kind, to, from string) {
			if rev[kind] == nil {
				rev[kind] = map[string][]string{}
			}
			rev[kind][to] = append(rev[kind][to], from)
		}
		for _, st := range b.List() {
			u := b.Unit(st.Name)
			if u == nil {
				continue
			}
			for kind, list := range map[string][]string{"Requires": u.Unit.Requires, "Requisite": u.Unit.Requisite,
				"Wants": u.Unit.Wants, "BindsTo": u.Unit.BindsTo, "Upholds": u.Unit.Upholds,
				"PartOf": u.Unit.PartOf, "Conflicts": u.Unit.Conflicts} {
				for _, d := range list {
					add(kind, d, st.Name)
				}
			}
			if u.Socket != nil {
				add("Triggers", socketService(st.Name, u.Socket), st.Name)
			}
			if u.Timer != nil {
				add("Triggers", or(st.Triggers, or(u.Timer.Unit, strings.TrimSuffix(st.Name, ".timer")+".service")), st.Name)
			}
			if u.Path != nil {
				add("Triggers", or(u.Path.Unit, strings.TrimSuffix(st.Name, ".path")+".service"), st.Name)
			}
		}
		for _, m := range rev {
			for k, l := range m {
				m[k] = sortedUnique(l)
			}
		}
	}
	return func(name, kind string) []string {
		if rev == nil {
			build()
		}
		return strs(rev[kind][name])
	}
}

// unitPropValues computes every non-file property of a unit (Unit and its
// type's interface). On the reactor. rev may be shared between units of
// one request.
func unitPropValues(b Backend, clk busClock, name string, rev func(name, kind string) []string) (vals map[string]any, typeIface string, found bool) {
	st, ok := b.Status(name)
	if !ok {
		st = manager.UnitStatus{Name: name, LoadState: "not-found", Active: "inactive", Sub: "dead"}
	}
	// A copy: svc() fills in a missing [Service], and the manager's
	// definition stays untouched.
	u := &unitfile.Unit{}
	if def := b.Unit(name); def != nil && ok {
		cp := *def
		u = &cp
	}
	src := &propSrc{b: b, clk: clk, st: st, found: ok, u: u, rev: func(kind string) []string { return rev(name, kind) }}
	if cg, has := b.Cgroup(name); has && ok {
		src.cg = &cg
	}
	vals = map[string]any{}
	typeIface, tprops := unitTypeProps(name)
	for _, list := range [][]prop{unitProps, tprops} {
		for _, pr := range list {
			if pr.get != nil {
				vals[pr.name] = pr.get(src)
			}
		}
	}
	return vals, typeIface, ok
}

// fileInputs is what the file properties of one unit need, copied on the
// reactor: fileProps then runs off it.
type fileInputs struct {
	name     string
	found    bool
	files    []string // fragment then drop-ins, as loaded
	loadedAt time.Time
}

// LoadTimer is implemented by a Backend that knows when it last read the
// unit files (NeedDaemonReload=).
type LoadTimer interface {
	LoadedAt() time.Time
}

func fileInputsOf(b Backend, name string, found bool) fileInputs {
	in := fileInputs{name: name, found: found}
	if u := b.Unit(name); u != nil && found {
		if u.FragmentPath != "" {
			in.files = append(in.files, u.FragmentPath)
		}
		in.files = append(in.files, u.DropIns...)
	}
	if lt, ok := b.(LoadTimer); ok {
		in.loadedAt = lt.LoadedAt()
	}
	return in
}

// fileProps fills the properties read from disk: UnitFileState,
// UnitFilePreset (systemd.preset(5); empty without a unit file) and
// NeedDaemonReload (a file of the unit changed or went
// away since the last load). Off the reactor.
func fileProps(vals map[string]any, set *UnitFileSet, in fileInputs) {
	state := ""
	if in.found {
		if st := set.State(in.name); st != "not-found" {
			state = st
		}
	}
	vals["UnitFileState"] = state
	vals["UnitFilePreset"] = ""
	if state != "" {
		vals["UnitFilePreset"] = set.Preset(in.name)
	}
	need := false
	if !in.loadedAt.IsZero() {
		for _, f := range in.files {
			fi, err := os.Stat(f)
			if err != nil || fi.ModTime().After(in.loadedAt) {
				need = true
				break
			}
		}
	}
	vals["NeedDaemonReload"] = need
}

// checkLines is Conditions= or Asserts=: each line (name, trigger, negate,
// parameter, state) with systemd's state: 0 not checked or not known, 1
// held, -1 failed. gosd knows the line a failed check ended on; every line
// of a check that held held.
func checkLines(prefix string, lines []unitfile.Condition, r manager.CheckResult) []dbus.Struct {
	out := []dbus.Struct{}
	for _, c := range lines {
		state := int32(0)
		switch {
		case r.At == 0:
		case r.OK:
			state = 1
		case r.Failed != "" && strings.HasPrefix(r.Failed, c.Pos.String()+": "):
			state = -1
		}
		out = append(out, dbus.Struct{prefix + c.Kind, c.Trigger, c.Negate, c.Value, state})
	}
	return out
}
