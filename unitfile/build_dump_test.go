package unitfile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// systemdDump returns the "-> Unit NAME:" block of `systemd-analyze verify`
// at debug level: systemd's own parse of the unit, one "Key: value" per
// line (repeated keys in order).
func systemdDump(t *testing.T, analyze, path string) map[string][]string {
	t.Helper()
	cmd := exec.Command(analyze, "verify", "--man=no", path)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=debug")
	out, _ := cmd.CombinedOutput()
	fields := map[string][]string{}
	in := false
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "\t-> Unit ") {
			in = strings.TrimSuffix(strings.TrimPrefix(l, "\t-> Unit "), ":") == filepath.Base(path)
			continue
		}
		if !in || !strings.HasPrefix(l, "\t\t") {
			if in && !strings.HasPrefix(l, "\t") {
				in = false
			}
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(l), ": ")
		if !ok {
			k, v = strings.TrimSuffix(strings.TrimSpace(l), ":"), ""
		}
		fields[k] = append(fields[k], v)
	}
	return fields
}

func sortedWords(w []string) string {
	w = append([]string(nil), w...)
	sort.Strings(w)
	return strings.Join(w, " ")
}

func optInt(p *int) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func limit(u *Unit, res string, soft bool) string {
	l, ok := u.Service.Exec.Limits[res]
	if !ok {
		return "unset"
	}
	v := l.Hard
	if soft {
		v = l.Soft
	}
	if v == RlimInfinity {
		return "infinity"
	}
	return fmt.Sprint(v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// timeField renders a duration for comparison with systemd's text, which
// is parsed back with ParseTimespan (itself checked against systemd).
func timeField(d time.Duration) string {
	if d == Infinity {
		return "infinity"
	}
	return d.String()
}

// dumpFields maps systemd's dump keys to our settings, rendered so the
// two compare as text. Only keys with one meaning are listed.
var serviceDumpFields = map[string]func(u *Unit) string{
	"Type":                     func(u *Unit) string { return u.Service.Type },
	"Restart":                  func(u *Unit) string { return u.Service.Restart },
	"NotifyAccess":             func(u *Unit) string { return u.Service.NotifyAccess },
	"OOMPolicy":                func(u *Unit) string { return u.Service.OOMPolicy },
	"RemainAfterExit":          func(u *Unit) string { return yesNo(u.Service.RemainAfterExit) },
	"GuessMainPID":             func(u *Unit) string { return yesNo(u.Service.GuessMainPID) },
	"RootDirectoryStartOnly":   func(u *Unit) string { return yesNo(u.Service.RootDirectoryStartOnly) },
	"NonBlocking":              func(u *Unit) string { return yesNo(u.Service.NonBlocking) },
	"RestartSec":               func(u *Unit) string { return timeField(u.Service.RestartSec) },
	"TimeoutStartSec":          func(u *Unit) string { return timeField(u.Service.TimeoutStartSec) },
	"TimeoutStopSec":           func(u *Unit) string { return timeField(u.Service.TimeoutStopSec) },
	"TimeoutAbortSec":          func(u *Unit) string { return timeField(u.Service.TimeoutAbortSec) },
	"RuntimeMaxSec":            func(u *Unit) string { return timeField(u.Service.RuntimeMaxSec) },
	"WatchdogSec":              func(u *Unit) string { return timeField(u.Service.WatchdogSec) },
	"TimeoutStartFailureMode":  func(u *Unit) string { return u.Service.TimeoutStartFailureMode },
	"TimeoutStopFailureMode":   func(u *Unit) string { return u.Service.TimeoutStopFailureMode },
	"KillMode":                 func(u *Unit) string { return u.Service.Kill.KillMode },
	"KillSignal":               func(u *Unit) string { return SignalName(u.Service.Kill.KillSignal) },
	"RestartKillSignal":        func(u *Unit) string { return SignalName(u.Service.Kill.RestartKillSignal) },
	"FinalKillSignal":          func(u *Unit) string { return SignalName(u.Service.Kill.FinalKillSignal) },
	"SendSIGKILL":              func(u *Unit) string { return yesNo(u.Service.Kill.SendSIGKILL) },
	"SendSIGHUP":               func(u *Unit) string { return yesNo(u.Service.Kill.SendSIGHUP) },
	"UMask":                    func(u *Unit) string { return fmt.Sprintf("%04o", u.Service.Exec.UMask) },
	"RuntimeDirectoryPreserve": func(u *Unit) string { return u.Service.Exec.RuntimeDirectoryPreserve },
	"RuntimeDirectoryMode":     func(u *Unit) string { return fmt.Sprintf("%04o", u.Service.Exec.RuntimeDirectoryMode) },
	"StateDirectoryMode":       func(u *Unit) string { return fmt.Sprintf("%04o", u.Service.Exec.StateDirectoryMode) },
	"StandardInput":            func(u *Unit) string { return u.Service.Exec.StandardInput.Kind },
	"OOMScoreAdjust":           func(u *Unit) string { return optInt(u.Service.Exec.OOMScoreAdjust) },
	"Nice":                     func(u *Unit) string { return optInt(u.Service.Exec.Nice) },
	"LimitNOFILE":              func(u *Unit) string { return limit(u, "NOFILE", false) },
	"LimitNOFILESoft":          func(u *Unit) string { return limit(u, "NOFILE", true) },
	"LimitCORE":                func(u *Unit) string { return limit(u, "CORE", false) },
	"LimitNPROC":               func(u *Unit) string { return limit(u, "NPROC", false) },
	"LimitMEMLOCK":             func(u *Unit) string { return limit(u, "MEMLOCK", false) },
	"RuntimeDirectory":         func(u *Unit) string { return sortedWords(u.Service.Exec.RuntimeDirectory) },
	"StateDirectory":           func(u *Unit) string { return sortedWords(u.Service.Exec.StateDirectory) },
	"DefaultDependencies":      func(u *Unit) string { return yesNo(u.Unit.DefaultDependencies) },
	"RefuseManualStart":        func(u *Unit) string { return yesNo(u.Unit.RefuseManualStart) },
	"RefuseManualStop":         func(u *Unit) string { return yesNo(u.Unit.RefuseManualStop) },
	"StopWhenUnneeded":         func(u *Unit) string { return yesNo(u.Unit.StopWhenUnneeded) },
	"IgnoreOnIsolate":          func(u *Unit) string { return yesNo(u.Unit.IgnoreOnIsolate) },
	"OnFailureJobMode":         func(u *Unit) string { return u.Unit.OnFailureJobMode },
}

var socketDumpFields = map[string]func(u *Unit) string{
	"BindIPv6Only":            func(u *Unit) string { return u.Socket.BindIPv6Only },
	"SocketMode":              func(u *Unit) string { return fmt.Sprintf("%04o", u.Socket.SocketMode) },
	"DirectoryMode":           func(u *Unit) string { return fmt.Sprintf("%04o", u.Socket.DirectoryMode) },
	"KeepAlive":               func(u *Unit) string { return yesNo(u.Socket.KeepAlive) },
	"NoDelay":                 func(u *Unit) string { return yesNo(u.Socket.NoDelay) },
	"FreeBind":                func(u *Unit) string { return yesNo(u.Socket.FreeBind) },
	"Transparent":             func(u *Unit) string { return yesNo(u.Socket.Transparent) },
	"Broadcast":               func(u *Unit) string { return yesNo(u.Socket.Broadcast) },
	"PassCredentials":         func(u *Unit) string { return yesNo(u.Socket.PassCredentials) },
	"PassSecurity":            func(u *Unit) string { return yesNo(u.Socket.PassSecurity) },
	"PassPacketInfo":          func(u *Unit) string { return yesNo(u.Socket.PassPacketInfo) },
	"RemoveOnStop":            func(u *Unit) string { return yesNo(u.Socket.RemoveOnStop) },
	"Writable":                func(u *Unit) string { return yesNo(u.Socket.Writable) },
	"FlushPending":            func(u *Unit) string { return yesNo(u.Socket.FlushPending) },
	"FileDescriptorName":      func(u *Unit) string { return u.Socket.FileDescriptorName },
	"IPTTL":                   func(u *Unit) string { return fmt.Sprint(max(u.Socket.IPTTL, 0)) },
	"Mark":                    func(u *Unit) string { return fmt.Sprint(u.Socket.Mark) },
	"Priority":                func(u *Unit) string { return fmt.Sprint(u.Socket.Priority) },
	"TriggerLimitIntervalSec": func(u *Unit) string { return timeField(u.Socket.TriggerLimitIntervalSec) },
	"TriggerLimitBurst":       func(u *Unit) string { return fmt.Sprint(u.Socket.TriggerLimitBurst) },
	"TimeoutSec":              func(u *Unit) string { return timeField(u.Socket.TimeoutSec) },
	"Accept":                  func(u *Unit) string { return yesNo(u.Socket.Accept) },
}

// normalise turns systemd's rendering of a value into ours: time spans
// through ParseTimespan.
func normalise(key, v string) string {
	if strings.HasSuffix(key, "Sec") {
		if d, err := ParseTimespan(v); err == nil {
			return timeField(d)
		}
	}
	return v
}

// TestBuildAgainstSystemdDump compares, for every good oracle unit, the
// settings systemd 252 prints for it with ours.
func TestBuildAgainstSystemdDump(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	files, _ := filepath.Glob("testdata/build_oracle/good-*")
	compared := 0
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		compared += compareWithDump(t, analyze, abs, f)
	}
	if compared < 100 {
		t.Errorf("only %d fields compared", compared)
	}
}

// TestBuildDebianAgainstSystemdDump does the same for every service and
// socket unit Debian installs.
func TestBuildDebianAgainstSystemdDump(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	files, _ := filepath.Glob("/lib/systemd/system/*.s[eo]*")
	compared := 0
	for _, f := range files {
		st, err := os.Lstat(f)
		if err != nil || !st.Mode().IsRegular() || st.Size() == 0 || strings.Contains(f, "@") {
			continue // aliases, masks, drop-in folders, templates
		}
		compared += compareWithDump(t, analyze, f, f)
	}
	if compared < 500 {
		t.Errorf("only %d fields compared", compared)
	}
}

// compareWithDump builds file and compares it with systemd's dump of abs;
// it returns how many fields it compared.
func compareWithDump(t *testing.T, analyze, abs, file string) int {
	dump := systemdDump(t, analyze, abs)
	if len(dump) == 0 {
		t.Errorf("%s: no dump from systemd-analyze", file)
		return 0
	}
	u := buildFile(t, file)
	fields := serviceDumpFields
	if u.Socket != nil {
		fields = socketDumpFields
	}
	compared := 0
	for key, ours := range fields {
		vals, ok := dump[key]
		if !ok {
			continue // systemd prints some settings only when set
		}
		compared++
		want := normalise(key, vals[0])
		if strings.HasSuffix(key, "Directory") { // one line per entry, sorted
			want = strings.Join(vals, " ")
		}
		if got := ours(u); got != want {
			t.Errorf("%s: %s = %q, systemd %q", file, key, got, want)
		}
	}
	// Listen addresses, in order and by kind.
	if u.Socket != nil {
		var sd, ourL []string
		for _, kind := range []ListenKind{ListenStream, ListenDatagram, ListenSequentialPacket, ListenFIFO, ListenSpecial, ListenNetlink} {
			for _, v := range dump["Listen"+string(kind)] {
				sd = append(sd, string(kind)+" "+v)
			}
			for _, l := range u.Socket.Listen {
				if l.Kind == kind {
					ourL = append(ourL, string(kind)+" "+listenText(l))
				}
			}
		}
		if strings.Join(sd, "\n") != strings.Join(ourL, "\n") {
			t.Errorf("%s: listen\n ours    %q\n systemd %q", file, ourL, sd)
		}
		compared++
	}
	return compared
}

// listenText renders a Listen as systemd's dump prints it.
func listenText(l Listen) string {
	switch l.Family {
	case "unix":
		if l.Abstract {
			return "@" + l.Path
		}
		return l.Path
	case "inet":
		switch {
		case l.Host == "":
			return fmt.Sprintf("[::]:%d", l.Port)
		case strings.Contains(l.Host, ":"):
			return fmt.Sprintf("[%s]:%d", l.Host, l.Port)
		}
		return fmt.Sprintf("%s:%d", l.Host, l.Port)
	case "vsock":
		return fmt.Sprintf("vsock:%d:%d", l.CID, l.Port)
	case "netlink":
		return fmt.Sprintf("%s %d", l.Path, l.Group)
	}
	return l.Path
}
