package unitfile

import (
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds the tables of known keys per section and how each value
// is parsed into the typed settings. A key handler returns nil, a warning
// (the value is ignored and the default stays, as systemd does for most
// settings), or a fatalError (the unit gets LoadState BadSetting).

// fatalError marks a bad value that systemd refuses the whole unit for.
type fatalError struct{ err error }

func (f fatalError) Error() string { return f.err.Error() }

// buildTarget is what a key handler writes to: the unit being built and the
// sections of it that apply to the current entry.
type buildTarget struct {
	u    *Unit
	e    Entry // the entry being applied (for Pos)
	svc  *Service
	sock *Socket
	tmr  *Timer
	pth  *Path
	mnt  *Mount
	swp  *Swap
	amt  *Automount
	exec *ExecContext
	kill *KillContext
	res  *ResourceControl
	// expand resolves specifiers (BuildInfo.Expand), for keys that
	// resolve them word by word.
	expand func(string) (string, error)
	// startTimeoutSet records an explicit TimeoutStartSec=/TimeoutSec=:
	// oneshot services get no start timeout otherwise (systemd.service(5)).
	startTimeoutSet bool
	abortTimeoutSet bool
	restartKillSet  bool
	triggerBurstSet bool
}

// keyDef describes one known key.
type keyDef struct {
	// specifiers: systemd resolves %-specifiers in this key's value.
	specifiers bool
	// perWord: the setter resolves specifiers in each word itself, after
	// splitting the value (systemd does so for lists of assignments and
	// names); Unit.Entries records the value resolved whole.
	perWord bool
	set     func(t *buildTarget, v string) error
}

// wordSpecifiers is a key whose setter resolves specifiers per word.
func wordSpecifiers(f func(t *buildTarget, v string) error) keyDef {
	return keyDef{perWord: true, set: f}
}

func withSpecifiers(f func(t *buildTarget, v string) error) keyDef {
	return keyDef{specifiers: true, set: f}
}
func literal(f func(t *buildTarget, v string) error) keyDef { return keyDef{set: f} }

// ---- generic setters ----

// markOnSuccess records in a flag that k was set successfully, for
// defaults that depend on whether a setting was given.
func markOnSuccess(flag func(t *buildTarget) *bool, k keyDef) keyDef {
	return keyDef{specifiers: k.specifiers, set: func(t *buildTarget, v string) error {
		err := k.set(t, v)
		if err == nil {
			*flag(t) = true
		}
		return err
	}}
}

func boolKey(p func(t *buildTarget) *bool) keyDef {
	return literal(func(t *buildTarget, v string) error {
		b, err := ParseBool(v)
		if err != nil {
			return err
		}
		*p(t) = b
		return nil
	})
}

func stringKey(p func(t *buildTarget) *string) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error { *p(t) = v; return nil })
}

// pathKey takes an absolute path; empty resets.
func pathKey(p func(t *buildTarget) *string) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		if v != "" && !strings.HasPrefix(v, "/") {
			return fmt.Errorf("path is not absolute: %s", v)
		}
		*p(t) = SimplifyPath(v)
		return nil
	})
}

func enumKey(p func(t *buildTarget) *string, allowed ...string) keyDef {
	return literal(func(t *buildTarget, v string) error {
		for _, a := range allowed {
			if v == a {
				*p(t) = v
				return nil
			}
		}
		return fmt.Errorf("invalid value %q (expected one of: %s)", v, strings.Join(allowed, ", "))
	})
}

// listKey appends whitespace-separated words; an empty value resets the
// list when resets is true (for dependencies it does not: an empty
// After=/Wants= is a no-op in systemd).
func listKey(p func(t *buildTarget) *[]string, resets bool) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			if resets {
				*p(t) = nil
			}
			return nil
		}
		*p(t) = append(*p(t), strings.Fields(v)...)
		return nil
	})
}

// timeKey parses a time span; with zeroIsInfinity, 0 means "no timeout"
// as systemd.service(5) says for the Timeout*= settings.
func timeKey(p func(t *buildTarget) *time.Duration, zeroIsInfinity bool) keyDef {
	return literal(func(t *buildTarget, v string) error {
		d, err := ParseTimespan(v)
		if err != nil {
			return err
		}
		if d == 0 && zeroIsInfinity {
			d = Infinity
		}
		*p(t) = d
		return nil
	})
}

func intKey(p func(t *buildTarget) *int, lo, hi int) keyDef {
	return literal(func(t *buildTarget, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("invalid number %q (expected %d..%d)", v, lo, hi)
		}
		*p(t) = n
		return nil
	})
}

func modeKey(p func(t *buildTarget) *uint32) keyDef {
	return literal(func(t *buildTarget, v string) error {
		m, err := ParseMode(v)
		if err != nil {
			return err
		}
		*p(t) = m
		return nil
	})
}

func signalKey(p func(t *buildTarget) *int) keyDef {
	return literal(func(t *buildTarget, v string) error {
		n, err := ParseSignal(v)
		if err != nil {
			return err
		}
		*p(t) = n
		return nil
	})
}

func sizeKey(p func(t *buildTarget) *uint64) keyDef {
	return literal(func(t *buildTarget, v string) error {
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		*p(t) = n
		return nil
	})
}

// execKey parses Exec*= lines; empty resets. A bad line fails the unit
// (systemd refuses units with unparsable command lines).
func execKey(p func(t *buildTarget) *[]ExecCommand) keyDef {
	// Specifiers are resolved word by word, after unquoting (parseExecLines).
	return literal(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = nil
			return nil
		}
		cmds, warning, err := parseExecLines(v, t.e.Pos, t.expand)
		if err != nil {
			return fatalError{err}
		}
		*p(t) = append(*p(t), cmds...)
		return warning
	})
}

func exitStatusKey(p func(t *buildTarget) *ExitStatusSet) keyDef {
	return literal(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = ExitStatusSet{}
			return nil
		}
		return ParseExitStatusSet(p(t), v)
	})
}

// actionKey parses the emergency actions of systemd.unit(5)
// (FailureAction=, SuccessAction=, StartLimitAction=, JobTimeoutAction=).
func actionKey(p func(t *buildTarget) *string) keyDef {
	return enumKey(p, "none", "reboot", "reboot-force", "reboot-immediate", "poweroff",
		"poweroff-force", "poweroff-immediate", "exit", "exit-force", "halt", "halt-force",
		"halt-immediate", "kexec", "kexec-force", "kexec-immediate", "soft-reboot", "soft-reboot-force")
}

func exitCodeKey(p func(t *buildTarget) *int) keyDef {
	return literal(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = -1
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 255 {
			return fmt.Errorf("invalid exit status %q (expected 0..255)", v)
		}
		*p(t) = n
		return nil
	})
}

// ---- [Unit] ----

// unitDeps appends dependency names. An empty value is a no-op (systemd
// does not reset dependencies). Specifiers are resolved per word, and a
// word that fails, or is not a valid unit name, is skipped with its own
// warning. A template name is instantiated with this unit's instance, or
// its prefix when it has none, as systemd does ("foo@.service" in
// bar.service means foo@bar.service).
func unitDeps(p func(s *UnitSection) *[]string) keyDef {
	return literal(func(t *buildTarget, v string) error {
		var errs []error
		for _, w := range strings.Fields(v) {
			if t.expand != nil {
				x, err := t.expand(w)
				if err != nil {
					errs = append(errs, fmt.Errorf("failed to resolve unit specifiers in %q: %v", w, err))
					continue
				}
				w = x
			}
			if !ValidName(w) {
				errs = append(errs, fmt.Errorf("invalid unit name %q", w))
				continue
			}
			if IsTemplate(w) {
				prefix, inst, _ := SplitName(t.u.Name)
				if inst == "" {
					inst = prefix
				}
				x, err := InstanceOf(w, inst)
				if err != nil {
					errs = append(errs, fmt.Errorf("cannot instantiate %q: %v", w, err))
					continue
				}
				w = x
			}
			*p(&t.u.Unit) = append(*p(&t.u.Unit), w)
		}
		return errors.Join(errs...)
	})
}

var unitKeys = map[string]keyDef{
	"Description": stringKey(func(t *buildTarget) *string { return &t.u.Unit.Description }),
	"Documentation": withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.u.Unit.Documentation = nil
			return nil
		}
		// systemd.unit(5): "http://", "https://", "file:", "info:", "man:".
		var errs []error
		for _, w := range strings.Fields(v) {
			ok := false
			for _, scheme := range []string{"http://", "https://", "file:/", "info:", "man:"} {
				ok = ok || strings.HasPrefix(w, scheme) && len(w) > len(scheme)
			}
			if !ok {
				errs = append(errs, fmt.Errorf("invalid URL %q", w))
				continue
			}
			t.u.Unit.Documentation = append(t.u.Unit.Documentation, w)
		}
		return errors.Join(errs...)
	}),
	"Wants":                unitDeps(func(s *UnitSection) *[]string { return &s.Wants }),
	"Requires":             unitDeps(func(s *UnitSection) *[]string { return &s.Requires }),
	"Requisite":            unitDeps(func(s *UnitSection) *[]string { return &s.Requisite }),
	"BindsTo":              unitDeps(func(s *UnitSection) *[]string { return &s.BindsTo }),
	"BindTo":               unitDeps(func(s *UnitSection) *[]string { return &s.BindsTo }),
	"PartOf":               unitDeps(func(s *UnitSection) *[]string { return &s.PartOf }),
	"Upholds":              unitDeps(func(s *UnitSection) *[]string { return &s.Upholds }),
	"Conflicts":            unitDeps(func(s *UnitSection) *[]string { return &s.Conflicts }),
	"OnFailure":            unitDeps(func(s *UnitSection) *[]string { return &s.OnFailure }),
	"OnSuccess":            unitDeps(func(s *UnitSection) *[]string { return &s.OnSuccess }),
	"Before":               unitDeps(func(s *UnitSection) *[]string { return &s.Before }),
	"After":                unitDeps(func(s *UnitSection) *[]string { return &s.After }),
	"PropagatesReloadTo":   unitDeps(func(s *UnitSection) *[]string { return &s.PropagatesReloadTo }),
	"PropagateReloadTo":    unitDeps(func(s *UnitSection) *[]string { return &s.PropagatesReloadTo }),
	"ReloadPropagatedFrom": unitDeps(func(s *UnitSection) *[]string { return &s.ReloadPropagatedFrom }),
	"PropagateReloadFrom":  unitDeps(func(s *UnitSection) *[]string { return &s.ReloadPropagatedFrom }),
	"JoinsNamespaceOf":     unitDeps(func(s *UnitSection) *[]string { return &s.JoinsNamespaceOf }),
	// RequiresMountsFor=: absolute paths, simplified; a relative one or
	// one with ".." is ignored with a warning, and an empty value changes
	// nothing (as systemd 252 parses it).
	"RequiresMountsFor": withSpecifiers(func(t *buildTarget, v string) error {
		var bad []error
		for rest := v; ; {
			w, r, ok, err := nextWord(rest, escC)
			if err != nil || !ok {
				return errors.Join(append(bad, err)...)
			}
			rest = r
			switch {
			case !strings.HasPrefix(w, "/"):
				bad = append(bad, fmt.Errorf("path is not absolute, ignoring: %s", w))
			case strings.Contains(w+"/", "/../"):
				bad = append(bad, fmt.Errorf("path is not normalized, ignoring: %s", w))
			default:
				t.u.Unit.RequiresMountsFor = appendUnique(t.u.Unit.RequiresMountsFor, SimplifyPath(w))
			}
		}
	}),

	"DefaultDependencies": boolKey(func(t *buildTarget) *bool { return &t.u.Unit.DefaultDependencies }),
	"RefuseManualStart":   boolKey(func(t *buildTarget) *bool { return &t.u.Unit.RefuseManualStart }),
	"RefuseManualStop":    boolKey(func(t *buildTarget) *bool { return &t.u.Unit.RefuseManualStop }),
	"AllowIsolate":        boolKey(func(t *buildTarget) *bool { return &t.u.Unit.AllowIsolate }),
	"StopWhenUnneeded":    boolKey(func(t *buildTarget) *bool { return &t.u.Unit.StopWhenUnneeded }),
	"IgnoreOnIsolate":     boolKey(func(t *buildTarget) *bool { return &t.u.Unit.IgnoreOnIsolate }),
	"OnFailureJobMode": enumKey(func(t *buildTarget) *string { return &t.u.Unit.OnFailureJobMode },
		"fail", "replace", "replace-irreversibly", "isolate", "flush", "ignore-dependencies", "ignore-requirements"),

	"JobTimeoutSec":         timeKey(func(t *buildTarget) *time.Duration { return &t.u.Unit.JobTimeoutSec }, true),
	"JobRunningTimeoutSec":  timeKey(func(t *buildTarget) *time.Duration { return &t.u.Unit.JobRunningTimeoutSec }, true),
	"JobTimeoutAction":      actionKey(func(t *buildTarget) *string { return &t.u.Unit.JobTimeoutAction }),
	"StartLimitIntervalSec": timeKey(func(t *buildTarget) *time.Duration { return &t.u.Unit.StartLimitIntervalSec }, false),
	// The older name, which systemd still takes in [Unit] too.
	"StartLimitInterval":      timeKey(func(t *buildTarget) *time.Duration { return &t.u.Unit.StartLimitIntervalSec }, false),
	"StartLimitBurst":         intKey(func(t *buildTarget) *int { return &t.u.Unit.StartLimitBurst }, 0, 1<<31-1),
	"StartLimitAction":        actionKey(func(t *buildTarget) *string { return &t.u.Unit.StartLimitAction }),
	"FailureAction":           actionKey(func(t *buildTarget) *string { return &t.u.Unit.FailureAction }),
	"SuccessAction":           actionKey(func(t *buildTarget) *string { return &t.u.Unit.SuccessAction }),
	"FailureActionExitStatus": exitCodeKey(func(t *buildTarget) *int { return &t.u.Unit.FailureActionExitStatus }),
	"SuccessActionExitStatus": exitCodeKey(func(t *buildTarget) *int { return &t.u.Unit.SuccessActionExitStatus }),
	"RebootArgument":          stringKey(func(t *buildTarget) *string { return &t.u.Unit.RebootArgument }),
	"SourcePath":              pathKey(func(t *buildTarget) *string { return &t.u.Unit.SourcePath }),
}

// unitUnenforced are [Unit] keys of systemd.unit(5) that gosd accepts
// without acting on them.
var unitUnenforced = keySet(`JobTimeoutRebootArgument CollectMode
	OnSuccessJobMode PropagatesStopTo StopPropagatedFrom OnFailureIsolate`)

// ---- [Install] ----

var installKeys = map[string]keyDef{
	"WantedBy":        listKey(func(t *buildTarget) *[]string { return &t.u.Install.WantedBy }, true),
	"RequiredBy":      listKey(func(t *buildTarget) *[]string { return &t.u.Install.RequiredBy }, true),
	"Alias":           listKey(func(t *buildTarget) *[]string { return &t.u.Install.Alias }, true),
	"Also":            listKey(func(t *buildTarget) *[]string { return &t.u.Install.Also }, true),
	"DefaultInstance": stringKey(func(t *buildTarget) *string { return &t.u.Install.DefaultInstance }),
}

// ---- [Service] ----

var serviceKeys = map[string]keyDef{
	"Type": enumKey(func(t *buildTarget) *string { return &t.svc.Type },
		"simple", "exec", "forking", "oneshot", "dbus", "notify", "notify-reload", "idle"),
	"ExitType":        enumKey(func(t *buildTarget) *string { return &t.svc.ExitType }, "main", "cgroup"),
	"RemainAfterExit": boolKey(func(t *buildTarget) *bool { return &t.svc.RemainAfterExit }),
	"GuessMainPID":    boolKey(func(t *buildTarget) *bool { return &t.svc.GuessMainPID }),
	// A relative PIDFile= is taken below /run (systemd.service(5)).
	"PIDFile": withSpecifiers(func(t *buildTarget, v string) error {
		if v != "" && !strings.HasPrefix(v, "/") {
			v = RunDir + "/" + v
		}
		t.svc.PIDFile = v
		return nil
	}),
	"BusName": withSpecifiers(func(t *buildTarget, v string) error {
		if !validBusName(v) {
			return fmt.Errorf("invalid bus name %q", v)
		}
		t.svc.BusName = v
		return nil
	}),

	"ExecCondition": execKey(func(t *buildTarget) *[]ExecCommand { return &t.svc.ExecCondition }),
	"ExecStartPre":  execKey(func(t *buildTarget) *[]ExecCommand { return &t.svc.ExecStartPre }),
	"ExecStart":     execKey(func(t *buildTarget) *[]ExecCommand { return &t.svc.ExecStart }),
	"ExecStartPost": execKey(func(t *buildTarget) *[]ExecCommand { return &t.svc.ExecStartPost }),
	"ExecReload":    execKey(func(t *buildTarget) *[]ExecCommand { return &t.svc.ExecReload }),
	"ExecStop":      execKey(func(t *buildTarget) *[]ExecCommand { return &t.svc.ExecStop }),
	"ExecStopPost":  execKey(func(t *buildTarget) *[]ExecCommand { return &t.svc.ExecStopPost }),

	"RestartSec": timeKey(func(t *buildTarget) *time.Duration { return &t.svc.RestartSec }, false),
	// Type=notify-reload: the signal that asks the main process to reload.
	"ReloadSignal": signalKey(func(t *buildTarget) *int { return &t.svc.ReloadSignal }),
	"TimeoutStartSec": markOnSuccess(func(t *buildTarget) *bool { return &t.startTimeoutSet },
		timeKey(func(t *buildTarget) *time.Duration { return &t.svc.TimeoutStartSec }, true)),
	"TimeoutStopSec": timeKey(func(t *buildTarget) *time.Duration { return &t.svc.TimeoutStopSec }, true),
	"TimeoutAbortSec": literal(func(t *buildTarget, v string) error {
		if v == "" { // empty: back to the TimeoutStopSec= default
			t.abortTimeoutSet = false
			return nil
		}
		return markOnSuccess(func(t *buildTarget) *bool { return &t.abortTimeoutSet },
			timeKey(func(t *buildTarget) *time.Duration { return &t.svc.TimeoutAbortSec }, false)).set(t, v)
	}),
	// TimeoutSec= sets both TimeoutStartSec= and TimeoutStopSec=.
	"TimeoutSec": literal(func(t *buildTarget, v string) error {
		d, err := ParseTimespan(v)
		if err != nil {
			return err
		}
		if d == 0 {
			d = Infinity
		}
		t.svc.TimeoutStartSec, t.svc.TimeoutStopSec, t.startTimeoutSet = d, d, true
		return nil
	}),
	"TimeoutStartFailureMode": enumKey(func(t *buildTarget) *string { return &t.svc.TimeoutStartFailureMode }, "terminate", "abort", "kill"),
	"TimeoutStopFailureMode":  enumKey(func(t *buildTarget) *string { return &t.svc.TimeoutStopFailureMode }, "terminate", "abort", "kill"),
	// Unlike the start/stop timeouts, 0 here is 0 (as systemd 252 reads it).
	"RuntimeMaxSec": timeKey(func(t *buildTarget) *time.Duration { return &t.svc.RuntimeMaxSec }, false),
	"WatchdogSec":   timeKey(func(t *buildTarget) *time.Duration { return &t.svc.WatchdogSec }, false),

	"Restart": enumKey(func(t *buildTarget) *string { return &t.svc.Restart },
		"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"),
	"SuccessExitStatus":        exitStatusKey(func(t *buildTarget) *ExitStatusSet { return &t.svc.SuccessExitStatus }),
	"RestartPreventExitStatus": exitStatusKey(func(t *buildTarget) *ExitStatusSet { return &t.svc.RestartPreventExitStatus }),
	"RestartForceExitStatus":   exitStatusKey(func(t *buildTarget) *ExitStatusSet { return &t.svc.RestartForceExitStatus }),
	"RootDirectoryStartOnly":   boolKey(func(t *buildTarget) *bool { return &t.svc.RootDirectoryStartOnly }),
	"PermissionsStartOnly":     boolKey(func(t *buildTarget) *bool { return &t.svc.PermissionsStartOnly }),
	"NonBlocking":              boolKey(func(t *buildTarget) *bool { return &t.svc.NonBlocking }),
	"NotifyAccess":             enumKey(func(t *buildTarget) *string { return &t.svc.NotifyAccess }, "none", "main", "exec", "all"),
	"Sockets": withSpecifiers(func(t *buildTarget, v string) error {
		var errs []error
		for _, w := range strings.Fields(v) {
			if !ValidName(w) || !strings.HasSuffix(w, ".socket") || IsTemplate(w) {
				errs = append(errs, fmt.Errorf("unit must be of type socket: %s", w))
				continue
			}
			t.svc.Sockets = append(t.svc.Sockets, w)
		}
		return errors.Join(errs...)
	}),
	"FileDescriptorStoreMax": intKey(func(t *buildTarget) *int { return &t.svc.FileDescriptorStoreMax }, 0, 1<<31-1),
	"OOMPolicy":              enumKey(func(t *buildTarget) *string { return &t.svc.OOMPolicy }, "continue", "stop", "kill"),
	// The pre-v230 names in [Service] still set the [Unit] settings.
	"StartLimitInterval": timeKey(func(t *buildTarget) *time.Duration { return &t.u.Unit.StartLimitIntervalSec }, false),
	"StartLimitBurst":    intKey(func(t *buildTarget) *int { return &t.u.Unit.StartLimitBurst }, 0, 1<<31-1),
	"StartLimitAction":   actionKey(func(t *buildTarget) *string { return &t.u.Unit.StartLimitAction }),
	"FailureAction":      actionKey(func(t *buildTarget) *string { return &t.u.Unit.FailureAction }),
	"RebootArgument":     stringKey(func(t *buildTarget) *string { return &t.u.Unit.RebootArgument }),
}

var serviceUnenforced = keySet(`RuntimeRandomizedExtraSec USBFunctionDescriptors
	USBFunctionStrings FileDescriptorStorePreserve
	SysVStartPriority OpenFile`)

// ---- [Socket] ----

func listenKey(kind ListenKind) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" { // an empty Listen*= resets every address
			t.sock.Listen = nil
			return nil
		}
		l, err := ParseListen(kind, v, t.e.Pos)
		if err != nil {
			return err
		}
		t.sock.Listen = append(t.sock.Listen, l)
		return nil
	})
}

func optIntKey(p func(t *buildTarget) *int, lo, hi int) keyDef {
	return literal(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = -1
			return nil
		}
		return intKey(p, lo, hi).set(t, v)
	})
}

var socketKeys = map[string]keyDef{
	"ListenStream":           listenKey(ListenStream),
	"ListenDatagram":         listenKey(ListenDatagram),
	"ListenSequentialPacket": listenKey(ListenSequentialPacket),
	"ListenFIFO":             listenKey(ListenFIFO),
	"ListenSpecial":          listenKey(ListenSpecial),
	"ListenNetlink":          listenKey(ListenNetlink),
	"ListenMessageQueue":     listenKey(ListenMessageQueue),
	"ListenUSBFunction":      listenKey(ListenUSBFunction),

	"Accept": boolKey(func(t *buildTarget) *bool { return &t.sock.Accept }),
	"Service": withSpecifiers(func(t *buildTarget, v string) error {
		if !strings.HasSuffix(v, ".service") || strings.HasSuffix(v, "@.service") || strings.HasPrefix(v, ".") {
			return fmt.Errorf("unit must be of type service and not a template: %s", v)
		}
		t.sock.Service = v
		return nil
	}),
	"MaxConnections":          intKey(func(t *buildTarget) *int { return &t.sock.MaxConnections }, 0, 1<<31-1),
	"MaxConnectionsPerSource": intKey(func(t *buildTarget) *int { return &t.sock.MaxConnectionsPerSource }, 0, 1<<31-1),
	"Backlog":                 intKey(func(t *buildTarget) *int { return &t.sock.Backlog }, 0, 1<<31-1),
	"BindIPv6Only": literal(func(t *buildTarget, v string) error {
		switch v {
		case "default", "both", "ipv6-only":
			t.sock.BindIPv6Only = v
			return nil
		}
		// A boolean too (systemd.socket(5)): yes is ipv6-only, no both.
		b, err := ParseBool(v)
		if err != nil {
			return fmt.Errorf("invalid value %q (expected default, both, ipv6-only or a boolean)", v)
		}
		t.sock.BindIPv6Only = "both"
		if b {
			t.sock.BindIPv6Only = "ipv6-only"
		}
		return nil
	}),
	"BindToDevice":  stringKey(func(t *buildTarget) *string { return &t.sock.BindToDevice }),
	"SocketUser":    stringKey(func(t *buildTarget) *string { return &t.sock.SocketUser }),
	"SocketGroup":   stringKey(func(t *buildTarget) *string { return &t.sock.SocketGroup }),
	"SocketMode":    modeKey(func(t *buildTarget) *uint32 { return &t.sock.SocketMode }),
	"DirectoryMode": modeKey(func(t *buildTarget) *uint32 { return &t.sock.DirectoryMode }),
	"RemoveOnStop":  boolKey(func(t *buildTarget) *bool { return &t.sock.RemoveOnStop }),
	"Symlinks": withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.sock.Symlinks = nil
			return nil
		}
		var errs []error
		for _, w := range strings.Fields(v) {
			if !strings.HasPrefix(w, "/") {
				errs = append(errs, fmt.Errorf("path is not absolute: %s", w))
				continue
			}
			t.sock.Symlinks = append(t.sock.Symlinks, w)
		}
		return errors.Join(errs...)
	}),
	"FileDescriptorName": withSpecifiers(func(t *buildTarget, v string) error {
		// sd_listen_fds_with_names(3): up to 255 printable ASCII, no ":".
		if len(v) > 255 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' }) {
			return fmt.Errorf("invalid file descriptor name %q", v)
		}
		t.sock.FileDescriptorName = v
		return nil
	}),
	"ReusePort":            boolKey(func(t *buildTarget) *bool { return &t.sock.ReusePort }),
	"KeepAlive":            boolKey(func(t *buildTarget) *bool { return &t.sock.KeepAlive }),
	"KeepAliveTimeSec":     timeKey(func(t *buildTarget) *time.Duration { return &t.sock.KeepAliveTimeSec }, false),
	"KeepAliveIntervalSec": timeKey(func(t *buildTarget) *time.Duration { return &t.sock.KeepAliveIntervalSec }, false),
	"KeepAliveProbes":      intKey(func(t *buildTarget) *int { return &t.sock.KeepAliveProbes }, 0, 1<<31-1),
	"NoDelay":              boolKey(func(t *buildTarget) *bool { return &t.sock.NoDelay }),
	"FreeBind":             boolKey(func(t *buildTarget) *bool { return &t.sock.FreeBind }),
	"Transparent":          boolKey(func(t *buildTarget) *bool { return &t.sock.Transparent }),
	"Broadcast":            boolKey(func(t *buildTarget) *bool { return &t.sock.Broadcast }),
	"PassCredentials":      boolKey(func(t *buildTarget) *bool { return &t.sock.PassCredentials }),
	"PassSecurity":         boolKey(func(t *buildTarget) *bool { return &t.sock.PassSecurity }),
	"PassPacketInfo":       boolKey(func(t *buildTarget) *bool { return &t.sock.PassPacketInfo }),
	"ReceiveBuffer":        sizeKey(func(t *buildTarget) *uint64 { return &t.sock.ReceiveBuffer }),
	"SendBuffer":           sizeKey(func(t *buildTarget) *uint64 { return &t.sock.SendBuffer }),
	"PipeSize":             sizeKey(func(t *buildTarget) *uint64 { return &t.sock.PipeSize }),
	// Mark=, IPTTL= and Priority= take any integer (the kernel judges);
	// IPTOS= takes 0..255 or the names of ip(7).
	"Mark":     optIntKey(func(t *buildTarget) *int { return &t.sock.Mark }, -1<<31, 1<<31-1),
	"IPTTL":    optIntKey(func(t *buildTarget) *int { return &t.sock.IPTTL }, -1<<31, 1<<31-1),
	"Priority": optIntKey(func(t *buildTarget) *int { return &t.sock.Priority }, -1<<31, 1<<31-1),
	"IPTOS": literal(func(t *buildTarget, v string) error {
		names := map[string]int{"low-delay": 0x10, "throughput": 0x08, "reliability": 0x04, "low-cost": 0x02}
		if n, ok := names[v]; ok {
			t.sock.IPTOS = n
			return nil
		}
		return optIntKey(func(t *buildTarget) *int { return &t.sock.IPTOS }, 0, 255).set(t, v)
	}),
	"Writable":                boolKey(func(t *buildTarget) *bool { return &t.sock.Writable }),
	"FlushPending":            boolKey(func(t *buildTarget) *bool { return &t.sock.FlushPending }),
	"MessageQueueMaxMessages": int64Key(func(t *buildTarget) *int64 { return &t.sock.MessageQueueMaxMessages }),
	"MessageQueueMessageSize": int64Key(func(t *buildTarget) *int64 { return &t.sock.MessageQueueMessageSize }),
	"TriggerLimitIntervalSec": timeKey(func(t *buildTarget) *time.Duration { return &t.sock.TriggerLimitIntervalSec }, false),
	"TriggerLimitBurst": markOnSuccess(func(t *buildTarget) *bool { return &t.triggerBurstSet },
		intKey(func(t *buildTarget) *int { return &t.sock.TriggerLimitBurst }, 0, 1<<31-1)),
	"TimeoutSec": timeKey(func(t *buildTarget) *time.Duration { return &t.sock.TimeoutSec }, true),

	"ExecStartPre":  execKey(func(t *buildTarget) *[]ExecCommand { return &t.sock.ExecStartPre }),
	"ExecStartPost": execKey(func(t *buildTarget) *[]ExecCommand { return &t.sock.ExecStartPost }),
	"ExecStopPre":   execKey(func(t *buildTarget) *[]ExecCommand { return &t.sock.ExecStopPre }),
	"ExecStopPost":  execKey(func(t *buildTarget) *[]ExecCommand { return &t.sock.ExecStopPost }),
}

// ---- [Timer] ----

// timerValueKey appends one trigger; an empty value resets every trigger,
// monotonic and calendar alike, as systemd does.
func timerValueKey(base string) keyDef {
	return literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.tmr.Values = nil
			return nil
		}
		tv := TimerValue{Base: base, Pos: t.e.Pos}
		if base == "OnCalendar" {
			c, err := ParseCalendar(v)
			if err != nil {
				return err
			}
			tv.Calendar = c
		} else {
			d, err := ParseTimespan(v)
			if err != nil {
				return err
			}
			tv.Span = d
		}
		t.tmr.Values = append(t.tmr.Values, tv)
		return nil
	})
}

var timerKeys = map[string]keyDef{
	"OnActiveSec":        timerValueKey("OnActiveSec"),
	"OnBootSec":          timerValueKey("OnBootSec"),
	"OnStartupSec":       timerValueKey("OnStartupSec"),
	"OnUnitActiveSec":    timerValueKey("OnUnitActiveSec"),
	"OnUnitInactiveSec":  timerValueKey("OnUnitInactiveSec"),
	"OnCalendar":         timerValueKey("OnCalendar"),
	"AccuracySec":        timeKey(func(t *buildTarget) *time.Duration { return &t.tmr.AccuracySec }, false),
	"RandomizedDelaySec": timeKey(func(t *buildTarget) *time.Duration { return &t.tmr.RandomizedDelaySec }, false),
	"FixedRandomDelay":   boolKey(func(t *buildTarget) *bool { return &t.tmr.FixedRandomDelay }),
	"Persistent":         boolKey(func(t *buildTarget) *bool { return &t.tmr.Persistent }),
	"WakeSystem":         boolKey(func(t *buildTarget) *bool { return &t.tmr.WakeSystem }),
	"RemainAfterElapse":  boolKey(func(t *buildTarget) *bool { return &t.tmr.RemainAfterElapse }),
	"Unit": withSpecifiers(func(t *buildTarget, v string) error {
		if !ValidName(v) || IsTemplate(v) || strings.HasSuffix(v, ".timer") {
			return fmt.Errorf("unit must be a valid non-template unit name and not a timer: %s", v)
		}
		t.tmr.Unit = v
		return nil
	}),
}

// ---- [Path] ----

// pathSpecKey appends one watched path; an empty value resets them all,
// as systemd does. A path that is not absolute is ignored with a warning
// (systemd's config_parse_path_spec).
func pathSpecKey(kind string) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.pth.Specs = nil
			return nil
		}
		if !path.IsAbs(v) {
			return fmt.Errorf("not an absolute path: %s", v)
		}
		t.pth.Specs = append(t.pth.Specs, PathSpec{Kind: kind, Path: path.Clean(v), Pos: t.e.Pos})
		return nil
	})
}

var pathKeys = map[string]keyDef{
	"PathExists":              pathSpecKey("PathExists"),
	"PathExistsGlob":          pathSpecKey("PathExistsGlob"),
	"PathChanged":             pathSpecKey("PathChanged"),
	"PathModified":            pathSpecKey("PathModified"),
	"DirectoryNotEmpty":       pathSpecKey("DirectoryNotEmpty"),
	"MakeDirectory":           boolKey(func(t *buildTarget) *bool { return &t.pth.MakeDirectory }),
	"DirectoryMode":           modeKey(func(t *buildTarget) *uint32 { return &t.pth.DirectoryMode }),
	"TriggerLimitIntervalSec": timeKey(func(t *buildTarget) *time.Duration { return &t.pth.TriggerLimitIntervalSec }, false),
	"TriggerLimitBurst":       intKey(func(t *buildTarget) *int { return &t.pth.TriggerLimitBurst }, 0, 1<<31-1),
	"Unit": withSpecifiers(func(t *buildTarget, v string) error {
		if !ValidName(v) || IsTemplate(v) || strings.HasSuffix(v, ".path") {
			return fmt.Errorf("unit must be a valid non-template unit name and not a path unit: %s", v)
		}
		t.pth.Unit = v
		return nil
	}),
}

// ---- [Mount] ----

var mountKeys = map[string]keyDef{
	"What": withSpecifiers(func(t *buildTarget, v string) error {
		t.mnt.What = v
		return nil
	}),
	"Where": withSpecifiers(func(t *buildTarget, v string) error {
		if !path.IsAbs(v) {
			return fmt.Errorf("not an absolute path: %s", v)
		}
		t.mnt.Where = path.Clean(v)
		return nil
	}),
	"Type": withSpecifiers(func(t *buildTarget, v string) error {
		t.mnt.Type = v
		return nil
	}),
	"Options": withSpecifiers(func(t *buildTarget, v string) error {
		t.mnt.Options = v
		return nil
	}),
	"SloppyOptions": boolKey(func(t *buildTarget) *bool { return &t.mnt.SloppyOptions }),
	"LazyUnmount":   boolKey(func(t *buildTarget) *bool { return &t.mnt.LazyUnmount }),
	"ReadWriteOnly": boolKey(func(t *buildTarget) *bool { return &t.mnt.ReadWriteOnly }),
	"ForceUnmount":  boolKey(func(t *buildTarget) *bool { return &t.mnt.ForceUnmount }),
	"DirectoryMode": modeKey(func(t *buildTarget) *uint32 { return &t.mnt.DirectoryMode }),
	"TimeoutSec":    timeKey(func(t *buildTarget) *time.Duration { return &t.mnt.TimeoutSec }, true),
}

// ---- [Automount] ----

var automountKeys = map[string]keyDef{
	"Where": withSpecifiers(func(t *buildTarget, v string) error {
		if !path.IsAbs(v) {
			return fmt.Errorf("not an absolute path: %s", v)
		}
		t.amt.Where = path.Clean(v)
		return nil
	}),
	"ExtraOptions": withSpecifiers(func(t *buildTarget, v string) error {
		t.amt.ExtraOptions = v
		return nil
	}),
	"DirectoryMode":  modeKey(func(t *buildTarget) *uint32 { return &t.amt.DirectoryMode }),
	"TimeoutIdleSec": timeKey(func(t *buildTarget) *time.Duration { return &t.amt.TimeoutIdle }, false),
}

// ---- [Swap] ----

var swapKeys = map[string]keyDef{
	"What": withSpecifiers(func(t *buildTarget, v string) error {
		t.swp.What = v
		return nil
	}),
	"Priority": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.swp.Priority = nil
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 || n > 32767 {
			return fmt.Errorf("invalid priority %q", v)
		}
		t.swp.Priority = &n
		return nil
	}),
	"Options": withSpecifiers(func(t *buildTarget, v string) error {
		t.swp.Options = v
		return nil
	}),
	"TimeoutSec": timeKey(func(t *buildTarget) *time.Duration { return &t.swp.TimeoutSec }, true),
}

// timerUnenforced: accepted without effect (gosd does not watch the clock
// or the timezone for them, nor wakes a suspended system).
var timerUnenforced = keySet(`OnClockChange OnTimezoneChange`)

func int64Key(p func(t *buildTarget) *int64) keyDef {
	return literal(func(t *buildTarget, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("invalid number %q", v)
		}
		*p(t) = n
		return nil
	})
}

var socketUnenforced = keySet(`DeferAcceptSec SocketProtocol TCPCongestion Timestamping
	SELinuxContextFromNet SmackLabel SmackLabelIPIn SmackLabelIPOut PassFileDescriptorsToExec
	PollLimitIntervalSec PollLimitBurst`)

// ---- exec, kill and resource-control keys (shared by [Service] and [Socket]) ----

// directoryListKey appends RuntimeDirectory= style lists: relative paths without
// "..", empty resets (systemd.exec(5) "RuntimeDirectory=").
func directoryListKey(p func(t *buildTarget) *[]string) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = nil
			return nil
		}
		for _, w := range strings.Fields(v) {
			dir, link, hasLink := strings.Cut(w, ":") // "dir:symlink" form (v250+)
			if strings.HasPrefix(dir, "/") || dir == "" || strings.Contains("/"+dir+"/", "/../") {
				return fmt.Errorf("directory %q must be a relative path without \"..\"", w)
			}
			w = SimplifyPath(dir)
			if hasLink {
				w += ":" + SimplifyPath(link)
			}
			*p(t) = append(*p(t), w)
		}
		return nil
	})
}

// resourceValue parses Memory*=/TasksMax=: "infinity", a size or count,
// or a percentage recorded in ResourceControl.Percent.
func resourceValue(name string, p func(t *buildTarget) **uint64, bytes bool) keyDef {
	return literal(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = nil
			delete(t.res.Percent, name)
			return nil
		}
		var n uint64
		var err error
		switch {
		case v == "infinity":
			n = RlimInfinity
		case strings.HasSuffix(v, "%"):
			pct, err := ParsePercent(v)
			if err != nil {
				return err
			}
			if pct > 10000 {
				return fmt.Errorf("percentage above 100%%: %s", v)
			}
			if t.res.Percent == nil {
				t.res.Percent = map[string]uint64{}
			}
			t.res.Percent[name] = pct
			*p(t) = nil
			return nil
		case bytes:
			n, err = ParseSize(v)
		default:
			n, err = strconv.ParseUint(v, 10, 64)
		}
		if err != nil {
			return err
		}
		delete(t.res.Percent, name)
		*p(t) = &n
		return nil
	})
}

func weightKey(p func(t *buildTarget) **uint64) keyDef {
	return literal(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = nil
			return nil
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 1 || n > 10000 {
			return fmt.Errorf("invalid weight %q (expected 1..10000)", v)
		}
		*p(t) = &n
		return nil
	})
}

func optionalIntKey(p func(t *buildTarget) **int, lo, hi int) keyDef {
	return literal(func(t *buildTarget, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("invalid number %q (expected %d..%d)", v, lo, hi)
		}
		*p(t) = &n
		return nil
	})
}

var execKeys = map[string]keyDef{
	"Environment": wordSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.Environment = nil
			return nil
		}
		// Specifiers are resolved in each assignment after the line is
		// split, so a value with spaces (%I) stays one (systemd).
		assign, bad, err := parseEnvironmentAssignments(v, t.expand)
		t.exec.Environment = append(t.exec.Environment, assign...)
		return errors.Join(append(bad, err)...)
	}),
	"EnvironmentFile": withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.EnvironmentFiles = nil
			return nil
		}
		f := EnvFile{Path: v}
		if strings.HasPrefix(v, "-") {
			f = EnvFile{Path: v[1:], Optional: true}
		}
		if !strings.HasPrefix(f.Path, "/") {
			return fmt.Errorf("path is not absolute: %s", f.Path)
		}
		t.exec.EnvironmentFiles = append(t.exec.EnvironmentFiles, f)
		return nil
	}),
	"PassEnvironment": envNamesKey(func(t *buildTarget) *[]string { return &t.exec.PassEnvironment }, false),
	// UnsetEnvironment= also takes KEY=VALUE: unset only that assignment.
	"UnsetEnvironment": envNamesKey(func(t *buildTarget) *[]string { return &t.exec.UnsetEnvironment }, true),

	"User":                stringKey(func(t *buildTarget) *string { return &t.exec.User }),
	"Group":               stringKey(func(t *buildTarget) *string { return &t.exec.Group }),
	"SupplementaryGroups": listKey(func(t *buildTarget) *[]string { return &t.exec.SupplementaryGroups }, true),
	"DynamicUser":         boolKey(func(t *buildTarget) *bool { return &t.exec.DynamicUser }),

	"WorkingDirectory": withSpecifiers(func(t *buildTarget, v string) error {
		optional := strings.HasPrefix(v, "-")
		dir := strings.TrimPrefix(v, "-")
		if dir != "" && dir != "~" && !strings.HasPrefix(dir, "/") {
			// systemd refuses the unit for this one (not just the line).
			return fatalError{fmt.Errorf("WorkingDirectory= path is not absolute: %s", dir)}
		}
		if dir != "~" {
			dir = SimplifyPath(dir)
		}
		t.exec.WorkingDirectory, t.exec.WorkingDirectoryOptional = dir, optional
		return nil
	}),
	"RootDirectory": pathKey(func(t *buildTarget) *string { return &t.exec.RootDirectory }),
	"UMask":         modeKey(func(t *buildTarget) *uint32 { return &t.exec.UMask }),
	"KeyringMode":   enumKey(func(t *buildTarget) *string { return &t.exec.KeyringMode }, "inherit", "private", "shared"),
	"Nice":          optionalIntKey(func(t *buildTarget) **int { return &t.exec.Nice }, -20, 19),
	"OOMScoreAdjust": optionalIntKey(func(t *buildTarget) **int { return &t.exec.OOMScoreAdjust },
		-1000, 1000),

	"StandardInput":  stdioKey("input", func(t *buildTarget) *Stdio { return &t.exec.StandardInput }),
	"StandardOutput": stdioKey("output", func(t *buildTarget) *Stdio { return &t.exec.StandardOutput }),
	"StandardError":  stdioKey("error", func(t *buildTarget) *Stdio { return &t.exec.StandardError }),
	"StandardInputText": withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.StandardInputData = nil
			return nil
		}
		// The value is C-unescaped and a newline appended
		// (systemd.exec(5) "StandardInputText=").
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] != '\\' {
				b.WriteByte(v[i])
				continue
			}
			r, n, err := cUnescape(v[i+1:])
			if err != nil {
				return err
			}
			b.WriteString(r)
			i += n
		}
		t.exec.StandardInputData = append(t.exec.StandardInputData, b.String()+"\n"...)
		return nil
	}),
	"StandardInputData": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.StandardInputData = nil
			return nil
		}
		data, err := ParseStandardInputData(v)
		if err != nil {
			return fmt.Errorf("invalid base64 data: %v", err)
		}
		t.exec.StandardInputData = append(t.exec.StandardInputData, data...)
		return nil
	}),
	"TTYPath":          pathKey(func(t *buildTarget) *string { return &t.exec.TTYPath }),
	"SyslogIdentifier": stringKey(func(t *buildTarget) *string { return &t.exec.SyslogIdentifier }),
	"SyslogLevel":      levelKey(func(t *buildTarget) **int { return &t.exec.SyslogLevel }),
	"LogLevelMax":      levelKey(func(t *buildTarget) **int { return &t.exec.LogLevelMax }),
	"SyslogFacility": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.SyslogFacility = nil
			return nil
		}
		for i, n := range syslogFacilities {
			if v == n {
				t.exec.SyslogFacility = &i
				return nil
			}
		}
		return fmt.Errorf("invalid syslog facility %q", v)
	}),
	"SyslogLevelPrefix": literal(func(t *buildTarget, v string) error {
		b, err := ParseBool(v)
		if err != nil {
			return err
		}
		t.exec.SyslogLevelPrefix = &b
		return nil
	}),
	"LogRateLimitIntervalSec": timeKey(func(t *buildTarget) *time.Duration { return &t.exec.LogRateLimitIntervalSec }, false),
	"LogRateLimitBurst":       intKey(func(t *buildTarget) *int { return &t.exec.LogRateLimitBurst }, 0, math.MaxInt32),

	"RuntimeDirectory":           directoryListKey(func(t *buildTarget) *[]string { return &t.exec.RuntimeDirectory }),
	"StateDirectory":             directoryListKey(func(t *buildTarget) *[]string { return &t.exec.StateDirectory }),
	"CacheDirectory":             directoryListKey(func(t *buildTarget) *[]string { return &t.exec.CacheDirectory }),
	"LogsDirectory":              directoryListKey(func(t *buildTarget) *[]string { return &t.exec.LogsDirectory }),
	"ConfigurationDirectory":     directoryListKey(func(t *buildTarget) *[]string { return &t.exec.ConfigurationDirectory }),
	"RuntimeDirectoryMode":       modeKey(func(t *buildTarget) *uint32 { return &t.exec.RuntimeDirectoryMode }),
	"StateDirectoryMode":         modeKey(func(t *buildTarget) *uint32 { return &t.exec.StateDirectoryMode }),
	"CacheDirectoryMode":         modeKey(func(t *buildTarget) *uint32 { return &t.exec.CacheDirectoryMode }),
	"LogsDirectoryMode":          modeKey(func(t *buildTarget) *uint32 { return &t.exec.LogsDirectoryMode }),
	"ConfigurationDirectoryMode": modeKey(func(t *buildTarget) *uint32 { return &t.exec.ConfigurationDirectoryMode }),
	"RuntimeDirectoryPreserve": literal(func(t *buildTarget, v string) error {
		if v == "restart" {
			t.exec.RuntimeDirectoryPreserve = v
			return nil
		}
		b, err := ParseBool(v)
		if err != nil {
			return fmt.Errorf("invalid value %q (expected yes, no or restart)", v)
		}
		t.exec.RuntimeDirectoryPreserve = map[bool]string{true: "yes", false: "no"}[b]
		return nil
	}),

	"ProtectSystem": literal(func(t *buildTarget, v string) error {
		return yesNoOr(&t.exec.ProtectSystem, v, "yes", "full", "strict")
	}),
	"ProtectHome": literal(func(t *buildTarget, v string) error {
		return yesNoOr(&t.exec.ProtectHome, v, "yes", "read-only", "tmpfs")
	}),
	"PrivateTmp":            boolKey(func(t *buildTarget) *bool { return &t.exec.PrivateTmp }),
	"PrivateDevices":        boolKey(func(t *buildTarget) *bool { return &t.exec.PrivateDevices }),
	"PrivateNetwork":        boolKey(func(t *buildTarget) *bool { return &t.exec.PrivateNetwork }),
	"PrivateIPC":            boolKey(func(t *buildTarget) *bool { return &t.exec.PrivateIPC }),
	"PrivateUsers":          boolKey(func(t *buildTarget) *bool { return &t.exec.PrivateUsers }),
	"PrivateMounts":         boolKey(func(t *buildTarget) *bool { return &t.exec.PrivateMounts }),
	"ProtectKernelTunables": boolKey(func(t *buildTarget) *bool { return &t.exec.ProtectKernelTunables }),
	"ProtectKernelModules":  boolKey(func(t *buildTarget) *bool { return &t.exec.ProtectKernelModules }),
	"ProtectKernelLogs":     boolKey(func(t *buildTarget) *bool { return &t.exec.ProtectKernelLogs }),
	"ProtectControlGroups":  boolKey(func(t *buildTarget) *bool { return &t.exec.ProtectControlGroups }),
	"ProtectHostname":       boolKey(func(t *buildTarget) *bool { return &t.exec.ProtectHostname }),
	"ProtectProc": literal(func(t *buildTarget, v string) error {
		if v == "default" {
			v = ""
		}
		return enumKey(func(t *buildTarget) *string { return &t.exec.ProtectProc }, "", "noaccess", "invisible", "ptraceable").set(t, v)
	}),
	"ProcSubset": literal(func(t *buildTarget, v string) error {
		if v == "all" {
			v = ""
		}
		return enumKey(func(t *buildTarget) *string { return &t.exec.ProcSubset }, "", "pid").set(t, v)
	}),
	"MountAPIVFS": literal(func(t *buildTarget, v string) error {
		b, err := ParseBool(v)
		if err != nil {
			return err
		}
		t.exec.MountAPIVFS = &b
		return nil
	}),
	"MountFlags": literal(func(t *buildTarget, v string) error {
		return enumKey(func(t *buildTarget) *string { return &t.exec.MountFlags }, "", "shared", "slave", "private").set(t, v)
	}),
	"ReadWritePaths":          pathListKey(func(t *buildTarget) *[]PathEntry { return &t.exec.ReadWritePaths }),
	"ReadOnlyPaths":           pathListKey(func(t *buildTarget) *[]PathEntry { return &t.exec.ReadOnlyPaths }),
	"InaccessiblePaths":       pathListKey(func(t *buildTarget) *[]PathEntry { return &t.exec.InaccessiblePaths }),
	"ExecPaths":               pathListKey(func(t *buildTarget) *[]PathEntry { return &t.exec.ExecPaths }),
	"NoExecPaths":             pathListKey(func(t *buildTarget) *[]PathEntry { return &t.exec.NoExecPaths }),
	"ReadWriteDirectories":    pathListKey(func(t *buildTarget) *[]PathEntry { return &t.exec.ReadWritePaths }),
	"ReadOnlyDirectories":     pathListKey(func(t *buildTarget) *[]PathEntry { return &t.exec.ReadOnlyPaths }),
	"InaccessibleDirectories": pathListKey(func(t *buildTarget) *[]PathEntry { return &t.exec.InaccessiblePaths }),
	"BindPaths":               bindPathsKey(false),
	"BindReadOnlyPaths":       bindPathsKey(true),
	"TemporaryFileSystem": withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.TemporaryFileSystem = nil
			return nil
		}
		var bad []error
		for rest := v; ; {
			w, r, ok, err := nextWord(rest, escC)
			if err != nil || !ok {
				return errors.Join(append(bad, err)...)
			}
			rest = r
			path, opts, _ := strings.Cut(w, ":")
			if !isNormalAbsPath(path) {
				bad = append(bad, fmt.Errorf("not an absolute, normalized path: %s, ignoring", path))
				continue
			}
			t.exec.TemporaryFileSystem = append(t.exec.TemporaryFileSystem, TmpfsEntry{Path: path, Options: opts})
		}
	}),
	"NetworkNamespacePath": pathKey(func(t *buildTarget) *string { return &t.exec.NetworkNamespacePath }),

	"NoNewPrivileges":       boolKey(func(t *buildTarget) *bool { return &t.exec.NoNewPrivileges }),
	"CapabilityBoundingSet": capsKey(func(t *buildTarget) *[]string { return &t.exec.CapabilityBoundingSet }, true),
	"AmbientCapabilities":   capsKey(func(t *buildTarget) *[]string { return &t.exec.AmbientCapabilities }, false),

	// systemd.kill(5)
	"KillMode": literal(func(t *buildTarget, v string) error {
		if v == "" { // empty: back to the default
			t.kill.KillMode = "control-group"
			return nil
		}
		return enumKey(func(t *buildTarget) *string { return &t.kill.KillMode }, "control-group", "mixed", "process", "none").set(t, v)
	}),
	"KillSignal": signalKey(func(t *buildTarget) *int { return &t.kill.KillSignal }),
	"RestartKillSignal": markOnSuccess(func(t *buildTarget) *bool { return &t.restartKillSet },
		signalKey(func(t *buildTarget) *int { return &t.kill.RestartKillSignal })),
	"SendSIGHUP":      boolKey(func(t *buildTarget) *bool { return &t.kill.SendSIGHUP }),
	"SendSIGKILL":     boolKey(func(t *buildTarget) *bool { return &t.kill.SendSIGKILL }),
	"FinalKillSignal": signalKey(func(t *buildTarget) *int { return &t.kill.FinalKillSignal }),
	"WatchdogSignal":  signalKey(func(t *buildTarget) *int { return &t.kill.WatchdogSignal }),

	// systemd.resource-control(5), the part gosd applies.
	"CPUWeight":        weightKey(func(t *buildTarget) **uint64 { return &t.res.CPUWeight }),
	"StartupCPUWeight": weightKey(func(t *buildTarget) **uint64 { return &t.res.StartupCPUWeight }),
	"AllowedCPUs": literal(func(t *buildTarget, v string) error {
		return cpuListKey(&t.res.AllowedCPUs, v, "CPU")
	}),
	"AllowedMemoryNodes": literal(func(t *buildTarget, v string) error {
		return cpuListKey(&t.res.AllowedMemoryNodes, v, "NUMA node")
	}),
	"CPUQuota": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.res.CPUQuota = nil
			return nil
		}
		p, err := ParsePercent(v)
		if err != nil || p == 0 {
			return fmt.Errorf("invalid CPU quota %q", v)
		}
		pct := (p + 99) / 100
		t.res.CPUQuota = &pct
		return nil
	}),
	"MemoryMin":     resourceValue("MemoryMin", func(t *buildTarget) **uint64 { return &t.res.MemoryMin }, true),
	"MemoryLow":     resourceValue("MemoryLow", func(t *buildTarget) **uint64 { return &t.res.MemoryLow }, true),
	"MemoryHigh":    resourceValue("MemoryHigh", func(t *buildTarget) **uint64 { return &t.res.MemoryHigh }, true),
	"MemoryMax":     resourceValue("MemoryMax", func(t *buildTarget) **uint64 { return &t.res.MemoryMax }, true),
	"MemorySwapMax": resourceValue("MemorySwapMax", func(t *buildTarget) **uint64 { return &t.res.MemorySwapMax }, true),
	"TasksMax":      resourceValue("TasksMax", func(t *buildTarget) **uint64 { return &t.res.TasksMax }, false),
	"IOWeight":      weightKey(func(t *buildTarget) **uint64 { return &t.res.IOWeight }),
	"Delegate": literal(func(t *buildTarget, v string) error {
		// Delegate= also takes a list of controllers, which means yes.
		if b, err := ParseBool(v); err == nil {
			t.res.Delegate = b
			return nil
		}
		var errs []error
		for _, w := range strings.Fields(v) {
			if !cgroupControllers[w] {
				errs = append(errs, fmt.Errorf("invalid controller name %q", w))
			}
		}
		// Bad names are skipped; the list still turns delegation on.
		t.res.Delegate = true
		return errors.Join(errs...)
	}),
	"Slice": withSpecifiers(func(t *buildTarget, v string) error {
		if !strings.HasSuffix(v, ".slice") {
			return fmt.Errorf("not a slice unit name: %s", v)
		}
		t.res.Slice = v
		return nil
	}),
}

func init() {
	for r := range rlimitKind {
		execKeys["Limit"+r] = limitKey(r)
	}
}

func limitKey(resource string) keyDef {
	return literal(func(t *buildTarget, v string) error {
		l, err := ParseRlimit(resource, v)
		if err != nil {
			return err
		}
		if t.exec.Limits == nil {
			t.exec.Limits = map[string]Rlimit{}
		}
		t.exec.Limits[resource] = l
		return nil
	})
}

func stdioKey(which string, p func(t *buildTarget) *Stdio) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		s, err := ParseStdio(which, v)
		if err != nil {
			return err
		}
		*p(t) = s
		return nil
	})
}

func envNamesKey(p func(t *buildTarget) *[]string, assignments bool) keyDef {
	return wordSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = nil
			return nil
		}
		// Names are unquoted, but not C-unescaped (a backslash takes the
		// next character as it is).
		var bad []error
		for rest := v; ; {
			w, r, ok, err := nextWord(rest, escLiteral)
			if err != nil {
				return errors.Join(append(bad, err)...)
			}
			if !ok {
				break
			}
			rest = r
			if t.expand != nil {
				// Resolved per word, after splitting (systemd).
				x, err := t.expand(w)
				if err != nil {
					bad = append(bad, fmt.Errorf("failed to resolve specifiers in %q, ignoring: %v", w, err))
					continue
				}
				w = x
			}
			name, _, isAssign := strings.Cut(w, "=")
			if !ValidEnvName(name) || isAssign && !assignments {
				bad = append(bad, fmt.Errorf("invalid environment variable name %q, ignoring", w))
				continue
			}
			if !slices.Contains(*p(t), w) { // systemd keeps each name once
				*p(t) = append(*p(t), w)
			}
		}
		return errors.Join(bad...)
	})
}

// capsKey parses CapabilityBoundingSet= and AmbientCapabilities= as
// systemd merges them: each line's names (or numbers) make a set, "~"
// inverts it; a line replaces the setting when it is empty, "~" alone, or
// the setting still has its initial value (all capabilities for the
// bounding set, none for ambient), else it adds to it (or, inverted,
// removes from it). The result is the capability names kept, in number
// order; a name systemd does not know is skipped, as systemd does.
func capsKey(p func(t *buildTarget) *[]string, bounding bool) keyDef {
	return literal(func(t *buildTarget, v string) error {
		invert := strings.HasPrefix(v, "~")
		var line uint64
		for _, w := range strings.Fields(strings.TrimPrefix(v, "~")) {
			if c, ok := CapabilityNumber(w); ok {
				line |= 1 << c
			}
		}
		all := uint64(1)<<len(Capabilities) - 1
		cur := capMask(*p(t))
		if *p(t) == nil && bounding {
			cur = all
		}
		initial := *p(t) == nil || bounding && cur == all
		switch {
		case line == 0 || initial:
			cur = line
			if invert {
				cur = ^line & all
			}
		case invert:
			cur &^= line
		default:
			cur |= line
		}
		*p(t) = capList(cur)
		return nil
	})
}

func capMask(names []string) uint64 {
	var m uint64
	for _, n := range names {
		if c, ok := CapabilityNumber(n); ok {
			m |= 1 << c
		}
	}
	return m
}

// capList names the capabilities of mask, in number order; never nil.
func capList(mask uint64) []string {
	out := []string{}
	for c, name := range Capabilities {
		if mask&(1<<c) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// yesNoOr sets a setting that takes a boolean or one of the named
// values: "no" (and an empty value) is "", "yes" is "yes".
func yesNoOr(p *string, v string, named ...string) error {
	if v == "" {
		*p = ""
		return nil
	}
	for _, n := range named {
		if v == n {
			*p = v
			return nil
		}
	}
	b, err := ParseBool(v)
	if err != nil {
		return fmt.Errorf("invalid value %q (expected a boolean or one of: %s)", v, strings.Join(named, ", "))
	}
	*p = ""
	if b {
		*p = "yes"
	}
	return nil
}

func isNormalAbsPath(p string) bool {
	return strings.HasPrefix(p, "/") && path.Clean(p) == p || p == "/"
}

// pathListKey parses ReadWritePaths= and its kin: absolute paths, each
// with optional "-" (ignore if missing) and "+" (relative to
// RootDirectory=) prefixes in either order; empty resets.
func pathListKey(p func(t *buildTarget) *[]PathEntry) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = nil
			return nil
		}
		var bad []error
		for rest := v; ; {
			w, r, ok, err := nextWord(rest, escC)
			if err != nil || !ok {
				return errors.Join(append(bad, err)...)
			}
			rest = r
			e := PathEntry{}
			for len(w) > 0 && (w[0] == '-' && !e.Optional || w[0] == '+' && !e.InRoot) {
				if w[0] == '-' {
					e.Optional = true
				} else {
					e.InRoot = true
				}
				w = w[1:]
			}
			if !strings.HasPrefix(w, "/") {
				bad = append(bad, fmt.Errorf("not an absolute path: %s, ignoring", w))
				continue
			}
			e.Path = path.Clean(w)
			*p(t) = append(*p(t), e)
		}
	})
}

// bindPathsKey parses BindPaths=/BindReadOnlyPaths=: "[-]SOURCE[:DEST[:OPTIONS]]"
// words; OPTIONS is rbind (the default) or norbind; empty resets both.
func bindPathsKey(readOnly bool) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.BindPaths = nil
			return nil
		}
		var bad []error
		for rest := v; ; {
			w, r, ok, err := nextWord(rest, escC)
			if err != nil || !ok {
				return errors.Join(append(bad, err)...)
			}
			rest = r
			e := BindEntry{ReadOnly: readOnly}
			if strings.HasPrefix(w, "-") {
				e.Optional, w = true, w[1:]
			}
			parts := strings.SplitN(w, ":", 3)
			e.Source, e.Dest = parts[0], parts[0]
			if len(parts) > 1 {
				e.Dest = parts[1]
			}
			if len(parts) > 2 {
				switch parts[2] {
				case "rbind", "":
				case "norbind":
					e.NonRecursive = true
				default:
					bad = append(bad, fmt.Errorf("invalid bind mount option %q, ignoring", parts[2]))
					continue
				}
			}
			if !strings.HasPrefix(e.Source, "/") || !strings.HasPrefix(e.Dest, "/") {
				bad = append(bad, fmt.Errorf("not an absolute path in %q, ignoring", w))
				continue
			}
			e.Source, e.Dest = path.Clean(e.Source), path.Clean(e.Dest)
			t.exec.BindPaths = append(t.exec.BindPaths, e)
		}
	})
}

// syslogFacilities are SyslogFacility='s names, by number (syslog(3)).
var syslogFacilities = []string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "", "", "", "", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7"}

// syslogLevels are the level names of SyslogLevel= and LogLevelMax=.
var syslogLevels = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// levelKey takes a syslog level name (or 0-7); empty resets.
func levelKey(p func(t *buildTarget) **int) keyDef {
	return literal(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = nil
			return nil
		}
		for i, n := range syslogLevels {
			if v == n || v == strconv.Itoa(i) {
				*p(t) = &i
				return nil
			}
		}
		return fmt.Errorf("invalid log level %q (expected one of: %s)", v, strings.Join(syslogLevels, ", "))
	})
}

// execUnenforced are the keys of systemd.exec(5) and
// systemd.resource-control(5) that gosd understands but does not enforce
// (mostly sandboxing); they are recorded in ExecContext.Unenforced.
var execUnenforced = keySet(`AppArmorProfile CoredumpFilter
 ExtensionDirectories ExtensionImages IPCNamespacePath
	LogExtraFields LogNamespace
	MountImages NUMAMask NUMAPolicy PAMName
	RestrictFileSystems RootHash RootHashSignature RootImage RootImageOptions RootVerity
	SELinuxContext SmackProcessLabel
	SystemCallLog TTYColumns TTYRows
 TimeoutCleanSec TimerSlackNSec
 ImportCredential Capabilities
`)

// resourceUnenforced are the keys of systemd.resource-control(5) that gosd
// understands but does not apply, in every section that takes them.
var resourceUnenforced = keySet(`BPFProgram CPUAccounting CPUQuotaPeriodSec
 DisableControllers IOAccounting IODeviceLatencyTargetSec IODeviceWeight
	IOReadBandwidthMax IOReadIOPSMax IOWriteBandwidthMax IOWriteIOPSMax IPAccounting
 IPEgressFilterPath IPIngressFilterPath
	ManagedOOMMemoryPressure ManagedOOMMemoryPressureLimit ManagedOOMPreference ManagedOOMSwap
	MemoryAccounting MemoryZSwapMax RestrictNetworkInterfaces SocketBindAllow SocketBindDeny
	StartupAllowedCPUs StartupAllowedMemoryNodes StartupIOWeight
	StartupMemoryLow StartupMemoryHigh StartupMemoryMax StartupMemorySwapMax TasksAccounting
	DefaultMemoryLow DefaultMemoryMin
	CPUShares StartupCPUShares MemoryLimit BlockIOAccounting BlockIOWeight StartupBlockIOWeight
	BlockIODeviceWeight BlockIOReadBandwidth BlockIOWriteBandwidth NetClass`)

// checkUnenforced validates the value of an unenforced key where its form
// is simple (booleans and time spans), so a typo is reported as systemd
// would report it even though gosd does not apply the setting.
func checkUnenforced(key, value string) error {
	if value == "" {
		return nil
	}
	switch {
	case unenforcedBools[key]:
		_, err := ParseBool(value)
		return err
	case unenforcedTimes[key]:
		_, err := ParseTimespan(value)
		return err
	}
	return nil
}

var unenforcedBools = keySet(`CPUAccounting IOAccounting
	MemoryAccounting TasksAccounting IPAccounting BlockIOAccounting
	PassFileDescriptorsToExec SELinuxContextFromNet`)

var unenforcedTimes = keySet(`RuntimeRandomizedExtraSec TimeoutCleanSec
	CPUQuotaPeriodSec DeferAcceptSec PollLimitIntervalSec`)

// cgroupControllers are the names Delegate= accepts
// (systemd.resource-control(5)).
var cgroupControllers = keySet(`cpu cpuacct cpuset io blkio memory devices pids bpf-firewall
	bpf-devices bpf-foreign bpf-socket-bind bpf-restrict-network-interfaces`)

// validBusName reports whether s is a well-known D-Bus name: two or more
// dot-separated elements of [A-Za-z0-9_-], none empty or starting with a
// digit, at most 255 characters.
func validBusName(s string) bool {
	elems := strings.Split(s, ".")
	if len(s) > 255 || len(elems) < 2 {
		return false
	}
	for _, e := range elems {
		if e == "" || e[0] >= '0' && e[0] <= '9' {
			return false
		}
		for _, c := range e {
			if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

func keySet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
