package unitfile

import (
	"fmt"
	"strings"
	"time"
)

// BuildInfo is what Build needs besides the entries.
type BuildInfo struct {
	FragmentPath string
	DropIns      []string
	// Expand resolves specifiers (%n, %i, ...) in one value for this unit;
	// the loader sets it. nil means "no specifiers".
	Expand func(string) (string, error)
}

// Build turns the effective entries of one unit (fragment then drop-ins, in
// order) into typed settings. It sets Unit/Install/Service/Socket, Extra,
// Entries, Diags and LoadState (Loaded, or BadSetting when a setting that
// systemd treats as fatal is wrong). The loader fills Name, Type, Template,
// Instance, FragmentPath, DropIns and Names (Build sets Name, Type,
// FragmentPath and DropIns from its arguments too, so it can be used on
// its own).
//
// The unit type comes from the name's suffix: .service fills Service,
// .socket fills Socket; [Unit] and [Install] apply to every type. Every
// setting starts at systemd's default, so nil entries give a valid empty
// unit (a target with no file). Unknown keys and the sections of other
// unit types are warnings; keys starting with "X-" and unknown sections
// are kept in Extra. Keys gosd understands but does not enforce are
// recorded in ExecContext.Unenforced (or UnitSection.Unenforced).
func Build(name string, entries []Entry, info BuildInfo) *Unit {
	u := &Unit{
		Name:         name,
		Type:         name[strings.LastIndexByte(name, '.')+1:],
		FragmentPath: info.FragmentPath,
		DropIns:      info.DropIns,
		LoadState:    Loaded,
		Unit:         defaultUnitSection(),
	}
	switch u.Type {
	case "mount", "automount", "swap", "slice", "scope", "device":
		// Units of the system's own state are kept by an isolate unless
		// IgnoreOnIsolate=no (systemd sets this for these types).
		u.Unit.IgnoreOnIsolate = true
	}
	if u.Type == "device" {
		// systemd.device(5): jobs of device units time out by default
		// (DefaultTimeoutStartSec=, 90 s) once they run, since nothing
		// else bounds the wait for a device that never appears.
		u.Unit.JobRunningTimeoutSec = 90 * time.Second
	}
	b := &builder{u: u, info: info, t: &buildTarget{u: u, expand: info.Expand}, warnedSections: map[string]bool{}}
	switch u.Type {
	case "service":
		u.Service = defaultService()
		b.t.svc, b.t.exec, b.t.kill, b.t.res = u.Service, &u.Service.Exec, &u.Service.Kill, &u.Service.Resources
	case "socket":
		u.Socket = defaultSocket()
		b.t.sock, b.t.exec, b.t.kill, b.t.res = u.Socket, &u.Socket.Exec, &u.Socket.Kill, &u.Socket.Resources
	case "timer":
		u.Timer = &Timer{AccuracySec: time.Minute, RemainAfterElapse: true}
		b.t.tmr = u.Timer
	case "mount":
		u.Mount = &Mount{DirectoryMode: 0o755, TimeoutSec: 90 * time.Second, Exec: defaultExec(), Kill: defaultKill()}
		u.Mount.Exec.SamePgrp = true
		b.t.mnt, b.t.exec, b.t.kill = u.Mount, &u.Mount.Exec, &u.Mount.Kill
	case "swap":
		u.Swap = &Swap{TimeoutSec: 90 * time.Second, Exec: defaultExec(), Kill: defaultKill()}
		b.t.swp, b.t.exec, b.t.kill = u.Swap, &u.Swap.Exec, &u.Swap.Kill
	case "slice":
		u.Slice = &Slice{}
		b.t.res = &u.Slice.Resources
	case "automount":
		u.Automount = &Automount{DirectoryMode: 0o755}
		b.t.amt = u.Automount
	case "path":
		u.Path = &Path{DirectoryMode: 0o755, TriggerLimitIntervalSec: 2 * time.Second, TriggerLimitBurst: 200}
		b.t.pth = u.Path
	}
	if len(entries) > 0 {
		u.Entries = make([]Entry, 0, len(entries))
	}
	for _, e := range entries {
		b.apply(e)
	}
	switch {
	case u.Service != nil:
		b.finishService()
	case u.Socket != nil:
		b.finishSocket()
	case u.Timer != nil:
		b.finishTimer()
	case u.Path != nil:
		b.finishPath()
	case u.Mount != nil:
		b.finishMount()
	case u.Swap != nil:
		b.finishSwap()
	case u.Automount != nil:
		b.finishAutomount()
	}
	return u
}

type builder struct {
	u              *Unit
	info           BuildInfo
	t              *buildTarget
	warnedSections map[string]bool
	// firstPos is the first entry of the unit's own type section, where
	// unit-wide refusals point.
	firstPos Pos
}

func (b *builder) diag(pos Pos, sev Severity, format string, args ...any) {
	b.u.Diags = append(b.u.Diags, Diag{Pos: pos, Unit: b.u.Name, Severity: sev, Msg: fmt.Sprintf(format, args...)})
	if sev == Error {
		b.u.LoadState = BadSetting
	}
}

// typeSections are the type-specific sections of systemd's unit types;
// for the types gosd does not run, that section is kept in Extra quietly.
var typeSections = map[string]string{
	"service": "Service", "socket": "Socket", "target": "", "device": "", "scope": "Scope",
	"slice": "Slice", "mount": "Mount", "automount": "Automount", "swap": "Swap",
	"timer": "Timer", "path": "Path",
}

// lookup finds the key's definition for the entry's section. unenforced
// is set for keys accepted without effect; extra for entries kept as
// written.
func (b *builder) lookup(e Entry) (def keyDef, found, unenforced, extra bool) {
	section := e.Section
	if strings.HasPrefix(e.Key, "X-") {
		return keyDef{}, false, false, true
	}
	switch {
	case section == "Unit":
		if def, ok := unitKeys[e.Key]; ok {
			return def, true, false, false
		}
		return keyDef{}, false, unitUnenforced[e.Key], false
	case section == "Install":
		def, ok := installKeys[e.Key]
		return def, ok, false, false
	case section == "Service" && b.u.Service != nil:
		if def, ok := serviceKeys[e.Key]; ok {
			return def, true, false, false
		}
		if def, ok := execKeys[e.Key]; ok {
			return def, true, false, false
		}
		return keyDef{}, false, serviceUnenforced[e.Key] || execUnenforced[e.Key] || resourceUnenforced[e.Key], false
	case section == "Socket" && b.u.Socket != nil:
		if def, ok := socketKeys[e.Key]; ok {
			return def, true, false, false
		}
		if def, ok := execKeys[e.Key]; ok {
			return def, true, false, false
		}
		return keyDef{}, false, socketUnenforced[e.Key] || execUnenforced[e.Key] || resourceUnenforced[e.Key], false
	case section == "Mount" && b.u.Mount != nil:
		if def, ok := mountKeys[e.Key]; ok {
			return def, true, false, false
		}
		if _, _, un := resourceKey("mount", e.Key); un {
			return keyDef{}, false, true, false // mounts get no cgroup of their own here
		}
		if def, ok := execKeys[e.Key]; ok {
			return def, true, false, false
		}
		return keyDef{}, false, execUnenforced[e.Key], false
	case section == "Swap" && b.u.Swap != nil:
		if def, ok := swapKeys[e.Key]; ok {
			return def, true, false, false
		}
		if _, _, un := resourceKey("swap", e.Key); un {
			return keyDef{}, false, true, false
		}
		if def, ok := execKeys[e.Key]; ok {
			return def, true, false, false
		}
		return keyDef{}, false, execUnenforced[e.Key], false
	case section == "Slice" && b.u.Slice != nil:
		def, applied, un := resourceKey("slice", e.Key)
		return def, applied, un, false
	case section == "Automount" && b.u.Automount != nil:
		def, ok := automountKeys[e.Key]
		return def, ok, false, false
	case section == "Path" && b.u.Path != nil:
		def, ok := pathKeys[e.Key]
		return def, ok, false, false
	case section == "Timer" && b.u.Timer != nil:
		def, ok := timerKeys[e.Key]
		return def, ok, timerUnenforced[e.Key], false
	}
	// A section this unit type does not have.
	own := typeSections[b.u.Type]
	if section != own && !strings.HasPrefix(section, "X-") && !b.warnedSections[section] {
		b.warnedSections[section] = true
		b.diag(e.Pos, Warning, "Unknown section '%s'. Ignoring.", section)
	}
	return keyDef{}, false, false, true
}

func (b *builder) apply(e Entry) {
	if b.firstPos == (Pos{}) && e.Section == typeSections[b.u.Type] {
		b.firstPos = e.Pos
	}
	def, found, unenforced, extra := b.lookup(e)
	if !found && e.Section == "Unit" && b.condition(e) {
		return
	}
	switch {
	case extra:
		b.u.Extra = append(b.u.Extra, e)
		b.u.Entries = append(b.u.Entries, e)
		return
	case unenforced:
		if err := checkUnenforced(e.Key, e.Value); err != nil {
			b.diag(e.Pos, Warning, "Invalid %s=%s, ignoring: %v", e.Key, e.Value, err)
			return
		}
		b.u.Entries = append(b.u.Entries, e)
		if e.Section == "Unit" || b.t.exec == nil {
			b.u.Unit.Unenforced = append(b.u.Unit.Unenforced, e)
		} else {
			b.t.exec.Unenforced = append(b.t.exec.Unenforced, e)
		}
		return
	case !found:
		b.diag(e.Pos, Warning, "Unknown key %q in section [%s], ignoring.", e.Key, e.Section)
		return
	}
	v := e.Value
	if def.specifiers && b.info.Expand != nil {
		x, err := b.info.Expand(v)
		if err != nil {
			// An unresolvable specifier fails an Exec*= line (and with it
			// the unit); elsewhere systemd ignores the assignment.
			if strings.HasPrefix(e.Key, "Exec") {
				b.diag(e.Pos, Error, "Failed to resolve specifiers in %s=%s: %v", e.Key, e.Value, err)
			} else {
				b.diag(e.Pos, Warning, "Failed to resolve specifiers in %s=%s, ignoring: %v", e.Key, e.Value, err)
			}
			return
		}
		v = x
	}
	e.Value = v
	if def.perWord && b.info.Expand != nil {
		if x, err := b.info.Expand(v); err == nil {
			e.Value = x
		}
	}
	b.u.Entries = append(b.u.Entries, e)
	b.t.e = e
	err := def.set(b.t, v)
	if f, ok := err.(fatalError); ok {
		b.diag(e.Pos, Error, "Invalid %s=%s: %v", e.Key, v, f.err)
		return
	}
	// Several problems in one value (bad words of a list) are warned
	// about one by one, as systemd does.
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, err := range errs {
		if err != nil {
			b.diag(e.Pos, Warning, "Invalid %s=%s, ignoring: %v", e.Key, v, err)
		}
	}
}

// condition applies a Condition*= or Assert*= entry; false if the key is
// not one. An empty value resets every condition of that list
// (systemd.unit(5) "Conditions and Asserts").
func (b *builder) condition(e Entry) bool {
	list, kind := &b.u.Unit.Conditions, strings.TrimPrefix(e.Key, "Condition")
	if kind == e.Key {
		list, kind = &b.u.Unit.Asserts, strings.TrimPrefix(e.Key, "Assert")
		if kind == e.Key {
			return false
		}
	}
	if !conditionKinds[kind] {
		return false
	}
	v := e.Value
	if b.info.Expand != nil {
		x, err := b.info.Expand(v)
		if err != nil {
			b.diag(e.Pos, Warning, "Failed to resolve specifiers in %s=%s, ignoring: %v", e.Key, e.Value, err)
			return true
		}
		v = x
	}
	e.Value = v
	b.u.Entries = append(b.u.Entries, e)
	if v == "" {
		*list = nil
		return true
	}
	c, err := ParseCondition(kind, v, e.Pos)
	if err != nil {
		b.diag(e.Pos, Warning, "Invalid %s=%s, ignoring: %v", e.Key, v, err)
		return true
	}
	*list = append(*list, c)
	return true
}

func defaultUnitSection() UnitSection {
	return UnitSection{
		DefaultDependencies:     true,
		OnFailureJobMode:        "replace",
		JobTimeoutSec:           Infinity,
		JobRunningTimeoutSec:    Infinity,
		JobTimeoutAction:        "none",
		StartLimitIntervalSec:   10 * time.Second,
		StartLimitBurst:         5,
		StartLimitAction:        "none",
		FailureAction:           "none",
		SuccessAction:           "none",
		FailureActionExitStatus: -1,
		SuccessActionExitStatus: -1,
	}
}

func defaultExec() ExecContext {
	return ExecContext{
		UMask:                      0o022,
		StandardInput:              Stdio{Kind: "null"},
		StandardOutput:             Stdio{Kind: "journal"},
		StandardError:              Stdio{Kind: "inherit"},
		RuntimeDirectoryMode:       0o755,
		StateDirectoryMode:         0o755,
		CacheDirectoryMode:         0o755,
		LogsDirectoryMode:          0o755,
		ConfigurationDirectoryMode: 0o755,
		RuntimeDirectoryPreserve:   "no",
		ProcessSecurity:            ProcessSecurity{IgnoreSIGPIPE: true},
	}
}

// Signal numbers POSIX fixes on every system gosd builds for.
const (
	sigHUP  = 1
	sigABRT = 6
	sigKILL = 9
	sigTERM = 15
)

func defaultKill() KillContext {
	return KillContext{
		KillMode:        "control-group",
		KillSignal:      sigTERM,
		SendSIGKILL:     true,
		FinalKillSignal: sigKILL,
		WatchdogSignal:  sigABRT,
	}
}

func defaultService() *Service {
	return &Service{
		ExitType:                "main",
		GuessMainPID:            true,
		RestartSec:              100 * time.Millisecond,
		ReloadSignal:            sigHUP,
		TimeoutStartSec:         90 * time.Second,
		TimeoutStopSec:          90 * time.Second,
		TimeoutStartFailureMode: "terminate",
		TimeoutStopFailureMode:  "terminate",
		RuntimeMaxSec:           Infinity,
		Restart:                 "no",
		Exec:                    defaultExec(),
		Kill:                    defaultKill(),
	}
}

// DefaultService is a [Service] section with nothing set, as systemd fills
// one in: what the manager gives a running service whose file is gone.
func DefaultService() *Service { return defaultService() }

// DefaultSocket is a [Socket] section with nothing set (see DefaultService).
func DefaultSocket() *Socket { return defaultSocket() }

func defaultSocket() *Socket {
	return &Socket{
		MaxConnections:          64,
		Backlog:                 SomaxconnDeluxe,
		BindIPv6Only:            "default",
		SocketMode:              0o666,
		DirectoryMode:           0o755,
		Mark:                    -1,
		IPTOS:                   -1,
		IPTTL:                   -1,
		Priority:                -1,
		TriggerLimitIntervalSec: 2 * time.Second,
		TimeoutSec:              90 * time.Second,
		Exec:                    defaultExec(),
		Kill:                    defaultKill(),
	}
}

// finishExec applies the defaults that depend on other settings.
func (b *builder) finishExec() {
	t := b.t
	if t.res.Slice == "" && IsInstance(b.u.Name) {
		// The instances of a template share a slice of their own under
		// system.slice, as systemd puts them (systemd.special(7)).
		prefix, _, _ := SplitName(b.u.Name)
		t.res.Slice = "system-" + Escape(prefix) + ".slice"
	}
	if !t.restartKillSet {
		t.kill.RestartKillSignal = t.kill.KillSignal
	}
	// Input data alone selects StandardInput=data (systemd.exec(5)
	// "StandardInputText=").
	if len(t.exec.StandardInputData) > 0 && !b.wasSet("StandardInput") {
		t.exec.StandardInput = Stdio{Kind: "data"}
	}
	// StandardOutput= defaults to inherit when the input is a terminal or
	// the socket (systemd.exec(5) "StandardOutput=").
	if !b.wasSet("StandardOutput") {
		switch t.exec.StandardInput.Kind {
		case "tty", "tty-force", "tty-fail", "socket", "fd":
			t.exec.StandardOutput = Stdio{Kind: "inherit"}
		}
	}
	b.finishDynamicUser()
	// The warnings systemd gives for settings that work but are unsafe.
	if t.exec.User == "nobody" || t.exec.User == "65534" {
		b.diag(settingPosOf(b.u, "User"), Warning, "Special user %s configured, this is not safe!", t.exec.User)
	}
	if t.kill.KillMode == "none" {
		b.diag(settingPosOf(b.u, "KillMode"), Warning, "Unit uses KillMode=none. This is unsafe, as it disables the process lifecycle management for the service. Please update the service to use a safer KillMode=, such as 'mixed' or 'control-group'.")
	}
}

// wasSet reports whether an entry of the unit's own section set key.
func (b *builder) wasSet(key string) bool {
	for _, e := range b.u.Entries {
		if e.Key == key && e.Section == typeSections[b.u.Type] {
			return true
		}
	}
	return false
}

// refusalPos is where a unit-wide refusal points: the first line of the
// unit's own section, else its first line at all, else the file.
func (b *builder) refusalPos() Pos {
	switch {
	case b.firstPos != (Pos{}):
		return b.firstPos
	case len(b.u.Entries) > 0:
		return b.u.Entries[0].Pos
	}
	return Pos{File: b.info.FragmentPath}
}

// finishService applies derived defaults and the checks systemd's
// service_verify() makes; those failures make the unit BadSetting.
func (b *builder) finishService() {
	s := b.u.Service
	b.finishExec()
	if s.Type == "" {
		// No Type=: dbus with BusName=, simple with ExecStart=, else oneshot.
		switch {
		case s.BusName != "":
			s.Type = "dbus"
		case len(s.ExecStart) > 0:
			s.Type = "simple"
		default:
			s.Type = "oneshot"
		}
	}
	if s.Type == "oneshot" && !b.t.startTimeoutSet {
		s.TimeoutStartSec = Infinity // oneshot services have no start timeout by default
	}
	if s.OOMPolicy == "" {
		// systemd.service(5): stop, but continue for delegated services.
		s.OOMPolicy = "stop"
		if s.Resources.Delegate {
			s.OOMPolicy = "continue"
		}
	}
	if !b.t.abortTimeoutSet {
		s.TimeoutAbortSec = s.TimeoutStopSec
	}
	if s.NotifyAccess == "" {
		s.NotifyAccess = "none"
		if s.Type == "notify" || s.Type == "notify-reload" || s.WatchdogSec > 0 || s.FileDescriptorStoreMax > 0 {
			s.NotifyAccess = "main"
		}
	}
	pos := b.refusalPos()
	noSuccessAction := b.u.Unit.SuccessAction == "none"
	switch {
	case len(s.ExecStart) == 0 && len(s.ExecStop) == 0 && noSuccessAction:
		b.diag(pos, Error, "Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.")
	case s.Type != "oneshot" && len(s.ExecStart) == 0:
		b.diag(pos, Error, "Service has no ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.")
	case !s.RemainAfterExit && len(s.ExecStart) == 0 && noSuccessAction:
		b.diag(pos, Error, "Service has no ExecStart= and no SuccessAction= settings and does not have RemainAfterExit=yes set. Refusing.")
	case s.Type != "oneshot" && len(s.ExecStart) > 1:
		b.diag(s.ExecStart[1].Pos, Error, "Service has more than one ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.")
	case s.Type == "oneshot" && (s.Restart == "always" || s.Restart == "on-success"):
		b.diag(pos, Error, "Service has Restart= set to either always or on-success, which isn't allowed for Type=oneshot services. Refusing.")
	case s.Type == "oneshot" && s.ExitType == "cgroup":
		b.diag(pos, Error, "Service has ExitType=cgroup set, which isn't allowed for Type=oneshot services. Refusing.")
	case s.Type == "dbus" && s.BusName == "":
		b.diag(pos, Error, "Service is of type D-Bus but no D-Bus service name has been specified. Refusing.")
	}
	if s.Type == "oneshot" && s.RuntimeMaxSec != Infinity {
		b.diag(pos, Warning, "RuntimeMaxSec= has no effect in combination with Type=oneshot. Ignoring.")
	}
	if s.ExitType == "cgroup" {
		// The manager ends the service with its main process (ExitType=
		// main) either way: say so rather than wait for a cgroup silently.
		b.u.Unit.Unenforced = append(b.u.Unit.Unenforced, Entry{Section: "Service", Key: "ExitType", Value: "cgroup", Pos: settingPosOf(b.u, "ExitType")})
	}
}

// finishSocket applies derived defaults and systemd's socket_verify()
// checks.
func (b *builder) finishSocket() {
	s := b.u.Socket
	b.finishExec()
	pos := b.refusalPos()
	prefix := strings.TrimSuffix(b.u.Name, ".socket")
	if s.FileDescriptorName == "" {
		s.FileDescriptorName = b.u.Name
	}
	if !b.t.triggerBurstSet {
		s.TriggerLimitBurst = 20
		if s.Accept {
			s.TriggerLimitBurst = 200
		}
	}
	if s.MaxConnectionsPerSource > 0 {
		// Accepted, not applied: gosd counts connections per socket only.
		s.Exec.Unenforced = append(s.Exec.Unenforced, Entry{Section: "Socket", Key: "MaxConnectionsPerSource",
			Value: fmt.Sprint(s.MaxConnectionsPerSource), Pos: settingPosOf(b.u, "MaxConnectionsPerSource")})
	}
	if len(s.Listen) == 0 {
		b.diag(pos, Error, "Unit has no Listen setting (ListenStream=, ListenDatagram=, ListenFIFO=, ...). Refusing.")
		return
	}
	if s.Accept {
		for _, l := range s.Listen {
			if l.Kind != ListenStream && l.Kind != ListenSequentialPacket || l.Family == "netlink" {
				b.diag(l.Pos, Error, "Unit configured for accepting sockets, but sockets are non-accepting. Refusing.")
				return
			}
		}
		if s.Service != "" {
			b.diag(pos, Error, "Explicit service configuration for accepting socket units not supported. Refusing.")
			return
		}
		// Each connection gets an instance of the template foo@.service.
		s.Service = prefix + "@.service"
		if i := strings.IndexByte(prefix, '@'); i >= 0 {
			s.Service = prefix[:i] + "@.service"
		}
	} else if s.Service == "" {
		s.Service = prefix + ".service"
	}
}

// finishTimer applies the default Unit= and systemd's timer_verify():
// a timer without any trigger is refused.
func (b *builder) finishTimer() {
	t := b.u.Timer
	if t.Unit == "" {
		t.Unit = strings.TrimSuffix(b.u.Name, ".timer") + ".service"
	}
	if len(t.Values) == 0 && !b.wasSet("OnClockChange") && !b.wasSet("OnTimezoneChange") {
		b.diag(b.refusalPos(), Error, "Timer unit lacks value setting. Refusing.")
	}
	if t.WakeSystem {
		b.u.Unit.Unenforced = append(b.u.Unit.Unenforced, Entry{Section: "Timer", Key: "WakeSystem", Value: "yes", Pos: settingPosOf(b.u, "WakeSystem")})
	}
}

// finishPath applies the default Unit= and systemd's path_verify(): a
// path unit without any path to watch is refused.
func (b *builder) finishPath() {
	p := b.u.Path
	if p.Unit == "" {
		p.Unit = strings.TrimSuffix(b.u.Name, ".path") + ".service"
	}
	if len(p.Specs) == 0 {
		b.diag(b.refusalPos(), Error, "Path unit lacks path setting. Refusing.")
	}
}

// finishMount is systemd's mount_verify(): Where= is the unit's name
// unescaped (set from it when missing) and What= is needed. A unit built
// without entries (no file) is left alone: its mount comes from elsewhere.
func (b *builder) finishMount() {
	m := b.u.Mount
	if !b.t.restartKillSet {
		m.Kill.RestartKillSignal = m.Kill.KillSignal // as for services
	}
	if len(b.u.Entries) == 0 {
		return
	}
	prefix, _, _ := SplitName(b.u.Name)
	where, err := UnescapePath(prefix)
	switch {
	case err != nil:
		b.diag(b.refusalPos(), Error, "Cannot generate mount point path from unit name. Refusing.")
	case m.Where == "":
		m.Where = where
	case m.Where != where:
		b.diag(settingPosOf(b.u, "Where"), Error, "Where= setting doesn't match unit name. Refusing.")
	}
	if m.What == "" {
		b.diag(b.refusalPos(), Error, "What= setting is missing. Refusing.")
	}
}

// finishAutomount is systemd's automount_verify(): Where= is the unit's
// name unescaped (set from it when missing), never the root directory. A
// unit built without entries (no file) is left alone.
func (b *builder) finishAutomount() {
	a := b.u.Automount
	if len(b.u.Entries) == 0 {
		return
	}
	prefix, _, _ := SplitName(b.u.Name)
	where, err := UnescapePath(prefix)
	switch {
	case err != nil:
		b.diag(b.refusalPos(), Error, "Cannot generate automount point path from unit name. Refusing.")
		return
	case a.Where == "":
		a.Where = where
	case a.Where != where:
		b.diag(settingPosOf(b.u, "Where"), Error, "Where= setting doesn't match unit name. Refusing.")
		return
	}
	if a.Where == "/" {
		b.diag(b.refusalPos(), Error, "Cannot have an automount unit for the root directory. Refusing.")
	}
	// The options gosd sets itself on the autofs mount: one given here
	// would point the kernel at another pipe or process group.
	for _, o := range strings.Split(a.ExtraOptions, ",") {
		name, _, _ := strings.Cut(o, "=")
		switch name {
		case "fd", "pgrp", "minproto", "maxproto", "direct", "indirect":
			b.diag(settingPosOf(b.u, "ExtraOptions"), Error, "ExtraOptions= setting may not contain reserved option %s. Refusing.", name)
			return
		}
	}
}

// finishSwap is systemd's swap_verify(): What= is the unit's name
// unescaped (set from it when missing; a swap unit's name is its device
// or file). A unit built without entries is left alone.
func (b *builder) finishSwap() {
	s := b.u.Swap
	if len(b.u.Entries) == 0 {
		return
	}
	prefix, _, _ := SplitName(b.u.Name)
	what, err := UnescapePath(prefix)
	switch {
	case err != nil:
		b.diag(b.refusalPos(), Error, "Cannot generate swap path from unit name. Refusing.")
	case s.What == "":
		s.What = what
	case s.What != what && !strings.Contains(s.What, "="):
		b.diag(settingPosOf(b.u, "What"), Error, "Value of What= and unit name do not match, not loading.")
	}
}

func settingPosOf(u *Unit, key string) Pos {
	for i := len(u.Entries) - 1; i >= 0; i-- {
		if u.Entries[i].Key == key {
			return u.Entries[i].Pos
		}
	}
	return Pos{}
}
