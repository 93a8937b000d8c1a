package unitfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testExpand resolves a few specifiers the way the loader would, and
// fails on unknown ones, so Build's handling of both can be tested.
func testExpand(name string) func(string) (string, error) {
	return func(s string) (string, error) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] != '%' {
				b.WriteByte(s[i])
				continue
			}
			if i+1 >= len(s) {
				return "", errors.New("trailing %")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteString(name)
			case 'N', 'p':
				b.WriteString(strings.TrimSuffix(name, filepath.Ext(name)))
			case 'i', 'I':
				_, inst, _ := strings.Cut(strings.TrimSuffix(name, filepath.Ext(name)), "@")
				b.WriteString(inst)
			case '%':
				b.WriteByte('%')
			default:
				return "", errors.New("unknown specifier %" + string(s[i]))
			}
		}
		return b.String(), nil
	}
}

// buildText parses text with the package's Parse and builds it.
func buildText(t *testing.T, name, text string) *Unit {
	t.Helper()
	entries, diags := Parse("/test/"+name, []byte(text))
	for _, d := range diags {
		t.Fatalf("parse: %s", d)
	}
	return Build(name, entries, BuildInfo{FragmentPath: "/test/" + name, Expand: testExpand(name)})
}

func buildFile(t *testing.T, path string) *Unit {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := Parse(path, data)
	name := filepath.Base(path)
	return Build(name, entries, BuildInfo{FragmentPath: path, Expand: testExpand(name)})
}

func diagsText(u *Unit) string {
	var s []string
	for _, d := range u.Diags {
		s = append(s, d.String())
	}
	return strings.Join(s, "\n")
}

func TestBuildTargetWithoutEntries(t *testing.T) {
	u := Build("multi-user.target", nil, BuildInfo{})
	if u.LoadState != Loaded || len(u.Diags) != 0 || u.Service != nil || u.Socket != nil {
		t.Fatalf("got %+v", u)
	}
	if u.Type != "target" || !u.Unit.DefaultDependencies || u.Unit.JobTimeoutSec != Infinity ||
		u.Unit.StartLimitIntervalSec != 10*time.Second || u.Unit.StartLimitBurst != 5 ||
		u.Unit.OnFailureJobMode != "replace" || u.Unit.FailureActionExitStatus != -1 {
		t.Errorf("unit defaults wrong: %+v", u.Unit)
	}
}

func TestBuildServiceDefaults(t *testing.T) {
	u := buildText(t, "d.service", "[Service]\nExecStart=/bin/true\n")
	if u.LoadState != Loaded || len(u.Diags) != 0 {
		t.Fatalf("%s: %s", u.LoadState, diagsText(u))
	}
	s := u.Service
	want := map[string][2]any{
		"Type":            {s.Type, "simple"},
		"GuessMainPID":    {s.GuessMainPID, true},
		"RestartSec":      {s.RestartSec, 100 * time.Millisecond},
		"TimeoutStartSec": {s.TimeoutStartSec, 90 * time.Second},
		"TimeoutStopSec":  {s.TimeoutStopSec, 90 * time.Second},
		"TimeoutAbortSec": {s.TimeoutAbortSec, 90 * time.Second},
		"RuntimeMaxSec":   {s.RuntimeMaxSec, Infinity},
		"Restart":         {s.Restart, "no"},
		"NotifyAccess":    {s.NotifyAccess, "none"},
		"KillMode":        {s.Kill.KillMode, "control-group"},
		"KillSignal":      {s.Kill.KillSignal, sigTERM},
		"RestartKill":     {s.Kill.RestartKillSignal, sigTERM},
		"SendSIGKILL":     {s.Kill.SendSIGKILL, true},
		"FinalKillSignal": {s.Kill.FinalKillSignal, sigKILL},
		"WatchdogSignal":  {s.Kill.WatchdogSignal, sigABRT},
		"UMask":           {s.Exec.UMask, uint32(0o022)},
		"StateDirMode":    {s.Exec.StateDirectoryMode, uint32(0o755)},
		"StandardInput":   {s.Exec.StandardInput, Stdio{Kind: "null"}},
		"StandardOutput":  {s.Exec.StandardOutput, Stdio{Kind: "journal"}},
		"StandardError":   {s.Exec.StandardError, Stdio{Kind: "inherit"}},
	}
	for k, v := range want {
		if !reflect.DeepEqual(v[0], v[1]) {
			t.Errorf("%s = %v, want %v", k, v[0], v[1])
		}
	}
}

func TestBuildDerivedServiceDefaults(t *testing.T) {
	u := buildText(t, "o.service", "[Service]\nExecStart=/bin/true\nExecStart=/bin/true\n")
	if u.Service.Type != "simple" || u.LoadState != BadSetting {
		t.Errorf("ExecStart= without Type= is simple, and two are refused: %s %s", u.Service.Type, u.LoadState)
	}
	u = buildText(t, "o.service", "[Service]\nExecStop=/bin/true\nRemainAfterExit=yes\n")
	if u.Service.Type != "oneshot" || u.Service.TimeoutStartSec != Infinity || u.LoadState != Loaded {
		t.Errorf("without ExecStart= the type is oneshot with no start timeout: %+v %s", u.Service.Type, diagsText(u))
	}
	u = buildText(t, "o.service", "[Service]\nType=oneshot\nTimeoutSec=5\nExecStart=/bin/true\n")
	if u.Service.TimeoutStartSec != 5*time.Second || u.Service.TimeoutStopSec != 5*time.Second {
		t.Errorf("TimeoutSec= sets both: %v %v", u.Service.TimeoutStartSec, u.Service.TimeoutStopSec)
	}
	u = buildText(t, "n.service", "[Service]\nType=notify\nExecStart=/bin/true\nTimeoutStopSec=0\nKillSignal=SIGINT\n")
	if u.Service.NotifyAccess != "main" || u.Service.TimeoutStopSec != Infinity || u.Service.TimeoutAbortSec != Infinity ||
		u.Service.Kill.RestartKillSignal != 2 {
		t.Errorf("notify defaults: %+v", u.Service)
	}
	u = buildText(t, "b.service", "[Service]\nBusName=org.x\nExecStart=/bin/true\n")
	if u.Service.Type != "dbus" {
		t.Errorf("BusName= without Type= is dbus, got %s", u.Service.Type)
	}
	u = buildText(t, "t.service", "[Service]\nExecStart=/bin/true\nStandardInput=tty\n")
	if u.Service.Exec.StandardOutput.Kind != "inherit" {
		t.Errorf("StandardInput=tty makes output inherit, got %v", u.Service.Exec.StandardOutput)
	}
}

// Which empty assignments reset a list (FINDINGS.md, systemd.unit(5),
// systemd.service(5), systemd.exec(5)).
func TestBuildResets(t *testing.T) {
	u := buildFile(t, "testdata/build_oracle/good-simple.service")
	if u.LoadState != Loaded {
		t.Fatal(diagsText(u))
	}
	if !reflect.DeepEqual(u.Unit.After, []string{"a.service"}) || !reflect.DeepEqual(u.Unit.Wants, []string{"b.service"}) {
		t.Errorf("an empty After= must not reset: %v %v", u.Unit.After, u.Unit.Wants)
	}
	if !reflect.DeepEqual(u.Service.Exec.Environment, []string{"B=2", "C=3 4"}) {
		t.Errorf("Environment= resets: %q", u.Service.Exec.Environment)
	}
	if len(u.Service.ExecStart) != 1 || !reflect.DeepEqual(u.Service.ExecStart[0].Argv, []string{"/bin/echo", "good-simple.service"}) {
		t.Errorf("ExecStart= resets, %%n expands: %+v", u.Service.ExecStart)
	}
	if u.Service.TimeoutStopSec != 90*time.Second || u.Service.Kill.KillSignal != sigTERM {
		t.Errorf("bad values keep defaults: %v %v", u.Service.TimeoutStopSec, u.Service.Kill.KillSignal)
	}
	var unenforced []string
	for _, e := range u.Service.Exec.Unenforced {
		unenforced = append(unenforced, e.Key+"="+e.Value)
	}
	if len(unenforced) != 0 || u.Service.Exec.ProtectSystem != "strict" || !u.Service.Exec.PrivateTmp {
		t.Errorf("ProtectSystem=strict and PrivateTmp=yes are typed settings: unenforced %v, %+v", unenforced, u.Service.Exec)
	}
	var extra []string
	for _, e := range u.Extra {
		extra = append(extra, e.Section+"."+e.Key)
	}
	if !reflect.DeepEqual(extra, []string{"Service.X-Custom", "Frobnicate.Foo"}) {
		t.Errorf("extra: %v", extra)
	}
	want := []string{
		`/test/x:14: warning: Invalid TimeoutStopSec=bogus, ignoring`,
		`/test/x:15: warning: Invalid KillSignal=SIGNOPE, ignoring`,
		`/test/x:18: warning: Unknown key "BogusKey" in section [Service], ignoring.`,
		`/test/x:22: warning: Unknown section 'Frobnicate'. Ignoring.`,
	}
	got := strings.ReplaceAll(diagsText(u), "testdata/build_oracle/good-simple.service", "/test/x")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing diag %q in\n%s", w, got)
		}
	}
	if len(u.Diags) != len(want) {
		t.Errorf("want %d diags, got\n%s", len(want), got)
	}
}

func TestBuildExecForms(t *testing.T) {
	// Expected argv as systemd 252 prints it for this file ("Command Line:"
	// of `SYSTEMD_LOG_LEVEL=debug systemd-analyze verify`).
	u := buildFile(t, "testdata/build_oracle/good-exec-forms.service")
	if u.LoadState != Loaded {
		t.Fatal(diagsText(u))
	}
	var got [][]string
	for _, c := range append(u.Service.ExecStart, u.Service.ExecStartPost...) {
		got = append(got, c.Argv)
	}
	want := [][]string{
		{"/bin/echo", "a b", "cA", "de fg", ";", "A", "$$X", "${Y}"},
		{"mysh", "-c", "exit 0"},
		{"/bin/echo", "$A", `-p -- \u`, "x y"},
		{"/bin/e", "", "a", "x'y", `p"q`, "ABé", "a b", "tab\there"},
		{"/bin/e", `a\ b`, "semi;", ";x", `\;y`},
		{"/bin/e", "%", "good-exec-forms.service", "its", `\$`, "abcd"},
		{"/bin/e", "$X${Y}z", "$$", "${}"},
		{"/bin/e"},
		{"/bin/e2"},
		{"/bin/e", "a", ";/bin/f"},
		{"/bin/true"},
	}
	if x := u.Service.Exec; !reflect.DeepEqual(x.Environment, []string{"C=1"}) || !reflect.DeepEqual(x.PassEnvironment, []string{"XqY", "Z"}) {
		t.Errorf("environment as systemd reads it: %q %q", x.Environment, x.PassEnvironment)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	s := u.Service
	if !s.ExecStart[0].IgnoreFailure || s.ExecStart[1].Path != "/bin/sh" || !s.ExecStart[2].NoEnvExpand || !s.ExecStartPost[0].AmbientOnly {
		t.Errorf("prefixes lost: %+v", s.ExecStart)
	}
	if s.ExecStart[0].Pos.Line != 3 || s.ExecStart[2].Pos.Line != 4 {
		t.Errorf("positions: %+v", s.ExecStart)
	}
}

func TestBuildFatal(t *testing.T) {
	files, _ := filepath.Glob("testdata/build_oracle/*")
	if len(files) < 10 {
		t.Fatal("testdata missing")
	}
	for _, f := range files {
		u := buildFile(t, f)
		wantBad := strings.HasPrefix(filepath.Base(f), "bad-")
		if (u.LoadState == BadSetting) != wantBad {
			t.Errorf("%s: LoadState %s\n%s", f, u.LoadState, diagsText(u))
		}
		for _, d := range u.Diags {
			if d.Pos.File != f {
				t.Errorf("%s: diag without the file: %s", f, d)
			}
		}
	}
}

// systemd-analyze is the oracle: the same files are bad for it, and it
// warns on the same lines.
func TestBuildAgainstSystemdAnalyze(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed; the good-/bad- file names still carry its verdict")
	}
	files, _ := filepath.Glob("testdata/build_oracle/*")
	lineRe := regexp.MustCompile(`^(\d+): (.*)$`)
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		cmd := exec.Command(analyze, "verify", "--man=no", abs)
		cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=debug")
		out, _ := cmd.CombinedOutput()
		text := string(out)
		sdBad := strings.Contains(text, "has a bad unit file setting")
		if sdBad != strings.HasPrefix(filepath.Base(f), "bad-") {
			t.Errorf("%s: systemd says bad=%v; the file name disagrees", f, sdBad)
		}
		u := buildFile(t, f)
		if (u.LoadState == BadSetting) != sdBad {
			t.Errorf("%s: systemd bad=%v, gosd %s:\n%s", f, sdBad, u.LoadState, diagsText(u))
		}
		if sdBad {
			continue
		}
		var sdLines, ourLines []int
		for _, l := range strings.Split(text, "\n") {
			if !strings.HasPrefix(l, abs+":") {
				continue
			}
			m := lineRe.FindStringSubmatch(strings.TrimPrefix(l, abs+":"))
			if m != nil && !strings.Contains(m[2], "Unknown section") {
				n, _ := strconv.Atoi(m[1])
				sdLines = append(sdLines, n)
			}
		}
		for _, d := range u.Diags {
			if !strings.Contains(d.Msg, "Unknown section") {
				ourLines = append(ourLines, d.Pos.Line)
			}
		}
		sort.Ints(sdLines)
		sort.Ints(ourLines)
		if len(sdLines) == 0 && strings.Contains(f, "warning") {
			t.Errorf("%s: systemd output not understood:\n%s", f, text)
		}
		if !reflect.DeepEqual(sdLines, ourLines) {
			t.Errorf("%s: systemd warns on lines %v, gosd on %v\n%s", f, sdLines, ourLines, diagsText(u))
		}
	}
}

func TestBuildSockets(t *testing.T) {
	u := buildText(t, "foo.socket", "[Socket]\nListenStream=/run/foo.sock\nListenDatagram=[::1]:53\nSocketMode=0600\nMark=\nIPTTL=5\n")
	s := u.Socket
	if u.LoadState != Loaded || s.Service != "foo.service" || s.FileDescriptorName != "foo.socket" ||
		s.TriggerLimitBurst != 20 || s.TriggerLimitIntervalSec != 2*time.Second || s.Backlog != SomaxconnDeluxe ||
		s.MaxConnections != 64 || s.MaxConnectionsPerSource != 0 || s.SocketMode != 0o600 ||
		s.DirectoryMode != 0o755 || s.Mark != -1 || s.IPTTL != 5 || s.IPTOS != -1 || len(s.Listen) != 2 ||
		s.Listen[1].Host != "::1" || s.Listen[1].Kind != ListenDatagram {
		t.Errorf("%s %s %+v", u.LoadState, diagsText(u), s)
	}
	u = buildText(t, "bar.socket", "[Socket]\nListenStream=80\nAccept=yes\nMaxConnections=10\n")
	s = u.Socket
	if u.LoadState != Loaded || s.Service != "bar@.service" || s.TriggerLimitBurst != 200 || s.MaxConnectionsPerSource != 0 {
		t.Errorf("%s %+v", diagsText(u), s)
	}
	u = buildText(t, "baz.socket", "[Socket]\nListenStream=80\nListenStream=\nListenFIFO=/run/f\nService=other.service\nFileDescriptorName=%p\n")
	s = u.Socket
	if len(s.Listen) != 1 || s.Listen[0].Kind != ListenFIFO || s.Service != "other.service" || s.FileDescriptorName != "baz" {
		t.Errorf("%s %+v", diagsText(u), s)
	}
	u = buildText(t, "q.socket", "[Socket]\nListenStream=80\nService=x@.service\nFileDescriptorName=a:b\n")
	if len(u.Diags) != 2 || u.Socket.Service != "q.service" || u.Socket.FileDescriptorName != "q.socket" {
		t.Errorf("template Service= and ':' in the name are warnings: %s %+v", diagsText(u), u.Socket)
	}
}

func TestBuildUnitSection(t *testing.T) {
	u := buildText(t, "u.service", `[Unit]
Description=Hello %n
Documentation=man:a(8) https://x
Requires=a.service b.service
BindTo=c.service
PropagateReloadTo=d.service
ConditionPathExists=/etc
ConditionPathExists=|!/nonexistent
AssertVirtualization=!container
ConditionFoo=1
StartLimitIntervalSec=1min
StartLimitBurst=3
SuccessAction=exit
SuccessActionExitStatus=7
JobTimeoutSec=0
JobRunningTimeoutSec=5
CollectMode=inactive
[Service]
ExecStart=/bin/true
StartLimitBurst=9
[Install]
WantedBy=multi-user.target
WantedBy=
WantedBy=default.target
Alias=v.service
`)
	us := u.Unit
	if us.Description != "Hello u.service" || len(us.Documentation) != 2 || len(us.Requires) != 2 ||
		us.BindsTo[0] != "c.service" || us.PropagatesReloadTo[0] != "d.service" ||
		us.StartLimitIntervalSec != time.Minute || us.StartLimitBurst != 9 || us.SuccessAction != "exit" ||
		us.SuccessActionExitStatus != 7 || us.JobTimeoutSec != Infinity || us.JobRunningTimeoutSec != 5*time.Second {
		t.Errorf("%+v", us)
	}
	wantConds := []Condition{
		{Kind: "PathExists", Value: "/etc", Pos: Pos{"/test/u.service", 7}},
		{Kind: "PathExists", Trigger: true, Negate: true, Value: "/nonexistent", Pos: Pos{"/test/u.service", 8}},
	}
	if !reflect.DeepEqual(us.Conditions, wantConds) || len(us.Asserts) != 1 || !us.Asserts[0].Negate {
		t.Errorf("conditions %+v asserts %+v", us.Conditions, us.Asserts)
	}
	if len(us.Unenforced) != 1 || us.Unenforced[0].Key != "CollectMode" {
		t.Errorf("unenforced %+v", us.Unenforced)
	}
	if !reflect.DeepEqual(u.Install.WantedBy, []string{"default.target"}) || u.Install.Alias[0] != "v.service" {
		t.Errorf("install %+v", u.Install)
	}
	if d := diagsText(u); !strings.Contains(d, `:10: warning: Unknown key "ConditionFoo" in section [Unit]`) || len(u.Diags) != 1 {
		t.Errorf("diags:\n%s", d)
	}
	u = buildText(t, "r.service", "[Unit]\nConditionPathExists=/a\nAssertPathExists=/b\nConditionPathExists=\n[Service]\nExecStart=/bin/true\n")
	if len(u.Unit.Conditions) != 0 || len(u.Unit.Asserts) != 1 {
		t.Errorf("an empty Condition*= resets conditions only: %+v %+v", u.Unit.Conditions, u.Unit.Asserts)
	}
}

func TestBuildExecContext(t *testing.T) {
	u := buildText(t, "e.service", `[Service]
ExecStart=/bin/true
EnvironmentFile=-/etc/default/e
EnvironmentFile=/etc/e.env
PassEnvironment=TERM LANG 1BAD
WorkingDirectory=-~
LimitNOFILE=1024:4096
LimitCORE=infinity
Nice=-5
OOMScoreAdjust=-900
StandardOutput=append:/var/log/e.log
StandardError=fd:errs
StandardInputText=line\tone
StandardInputText=two
StandardInputData=dGhyZWUK
RuntimeDirectory=e e/sub
RuntimeDirectoryMode=0700
StateDirectory=../escape
CapabilityBoundingSet=CAP_NET_ADMIN cap_chown
AmbientCapabilities=~CAP_SYS_ADMIN
MemoryMax=50%
MemoryHigh=1G
TasksMax=infinity
CPUQuota=150%
CPUWeight=20000
Delegate=cpu memory
Slice=system.slice
SendSIGHUP=yes
SuccessExitStatus=SIGUSR1 3
`)
	x := u.Service.Exec
	if !reflect.DeepEqual(x.EnvironmentFiles, []EnvFile{{"/etc/default/e", true}, {"/etc/e.env", false}}) ||
		!reflect.DeepEqual(x.PassEnvironment, []string{"TERM", "LANG"}) || x.WorkingDirectory != "~" ||
		!x.WorkingDirectoryOptional || x.Limits["NOFILE"] != (Rlimit{1024, 4096}) ||
		x.Limits["CORE"].Soft != RlimInfinity || *x.Nice != -5 || *x.OOMScoreAdjust != -900 ||
		x.StandardOutput != (Stdio{Kind: "append", Path: "/var/log/e.log"}) ||
		x.StandardError != (Stdio{Kind: "fd", Name: "errs"}) ||
		string(x.StandardInputData) != "line\tone\ntwo\nthree\n" ||
		!reflect.DeepEqual(x.RuntimeDirectory, []string{"e", "e/sub"}) || x.RuntimeDirectoryMode != 0o700 ||
		len(x.StateDirectory) != 0 ||
		!reflect.DeepEqual(x.CapabilityBoundingSet, []string{"CAP_CHOWN", "CAP_NET_ADMIN"}) ||
		len(x.AmbientCapabilities) != len(Capabilities)-1 || slices.Contains(x.AmbientCapabilities, "CAP_SYS_ADMIN") {
		t.Errorf("%+v", x)
	}
	r := u.Service.Resources
	if r.MemoryMax != nil || r.Percent["MemoryMax"] != 5000 || *r.MemoryHigh != 1<<30 || *r.TasksMax != RlimInfinity ||
		*r.CPUQuota != 150 || r.CPUWeight != nil || !r.Delegate || r.Slice != "system.slice" {
		t.Errorf("%+v", r)
	}
	usr1, _ := ParseSignal("SIGUSR1")
	if !u.Service.Kill.SendSIGHUP || !reflect.DeepEqual(u.Service.SuccessExitStatus, ExitStatusSet{Codes: []int{3}, Signals: []int{usr1}}) {
		t.Errorf("%+v %+v", u.Service.Kill, u.Service.SuccessExitStatus)
	}
	d := diagsText(u)
	for _, line := range []string{":5:", ":18:", ":25:"} { // 1BAD, ../escape, CPUWeight
		if !strings.Contains(d, line) {
			t.Errorf("want a warning at %s in\n%s", line, d)
		}
	}
	if len(u.Diags) != 3 || u.LoadState != Loaded {
		t.Errorf("%s\n%s", u.LoadState, d)
	}
}

// Real Debian units from /lib/systemd/system, checked field by field.
func TestBuildDebianUnits(t *testing.T) {
	const dir = "/lib/systemd/system/"
	if _, err := os.Stat(dir + "getty@.service"); err != nil {
		t.Skip("Debian units not installed")
	}
	g := buildFile(t, dir+"getty@.service")
	if g.LoadState != Loaded || len(g.Diags) != 0 {
		t.Fatalf("getty@.service: %s", diagsText(g))
	}
	gs := g.Service
	if gs.Type != "idle" || gs.Restart != "always" || gs.RestartSec != 0 || !gs.Kill.SendSIGHUP ||
		gs.Exec.StandardInput.Kind != "tty" || gs.Exec.StandardOutput.Kind != "tty" ||
		gs.Exec.StandardError.Kind != "inherit" || len(gs.Exec.UnsetEnvironment) != 14 ||
		g.Install.DefaultInstance != "tty1" || g.Install.WantedBy[0] != "getty.target" ||
		!g.Unit.IgnoreOnIsolate || len(g.Unit.Conditions) != 1 {
		t.Errorf("getty@.service: %+v", g)
	}
	if want := []string{"/sbin/agetty", "-o", `-p -- \u`, "--noclear", "-", "$TERM"}; !reflect.DeepEqual(gs.ExecStart[0].Argv, want) || !gs.ExecStart[0].IgnoreFailure {
		t.Errorf("getty ExecStart %q", gs.ExecStart[0].Argv)
	}
	if got := ExpandArgv(gs.ExecStart[0], []string{"TERM=linux"}); got[5] != "linux" {
		t.Errorf("expanded %q", got)
	}

	j := buildFile(t, dir+"systemd-journald.service")
	js := j.Service
	if j.LoadState != Loaded || len(j.Diags) != 0 || js.Type != "notify" || js.WatchdogSec != 3*time.Minute ||
		js.NotifyAccess != "main" || js.FileDescriptorStoreMax != 4224 || *js.Exec.OOMScoreAdjust != -250 ||
		js.Exec.Limits["NOFILE"] != (Rlimit{524288, 524288}) || js.Exec.RuntimeDirectoryPreserve != "yes" ||
		len(js.Sockets) != 3 || j.Unit.DefaultDependencies || !js.Exec.NoNewPrivileges ||
		js.Exec.StandardOutput.Kind != "null" || js.Exec.SystemCallFilter == nil || !js.Exec.LockPersonality {
		t.Errorf("systemd-journald.service: %s %+v", diagsText(j), js)
	}
	for _, e := range js.Exec.Unenforced { // what gosd does not apply yet, and only that
		if !execUnenforced[e.Key] {
			t.Errorf("journald: %s= listed as not enforced", e.Key)
		}
	}

	s := buildFile(t, dir+"systemd-journald.socket")
	ss := s.Socket
	if s.LoadState != Loaded || len(s.Diags) != 0 || len(ss.Listen) != 2 || ss.Listen[0].Kind != ListenDatagram ||
		ss.Listen[0].Path != "/run/systemd/journal/socket" || ss.Listen[1].Kind != ListenStream ||
		ss.SocketMode != 0o666 || !ss.PassCredentials || !ss.PassSecurity || ss.ReceiveBuffer != 8<<20 ||
		ss.Service != "systemd-journald.service" {
		t.Errorf("systemd-journald.socket: %s %+v", diagsText(s), ss)
	}

	n := buildFile(t, dir+"systemd-networkd.socket")
	if n.LoadState != Loaded || len(n.Diags) != 0 || n.Socket.Listen[0].Family != "netlink" ||
		n.Socket.Listen[0].Path != "route" || n.Socket.Listen[0].Group != 1361 || n.Socket.ReceiveBuffer != 128<<20 {
		t.Errorf("systemd-networkd.socket: %s %+v", diagsText(n), n.Socket)
	}

	// Every Debian unit builds without an unknown-key warning.
	files, _ := filepath.Glob(dir + "*.s[oe]*")
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 || st.IsDir() {
			continue // masked (/dev/null)
		}
		u := buildFile(t, f)
		for _, d := range u.Diags {
			if strings.Contains(d.Msg, "Unknown key") {
				t.Errorf("%s", d)
			}
		}
	}
}

func BenchmarkBuildJournald(b *testing.B) {
	data, err := os.ReadFile("/lib/systemd/system/systemd-journald.service")
	if err != nil {
		b.Skip(err)
	}
	entries, _ := Parse("j", data)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Build("systemd-journald.service", entries, BuildInfo{})
	}
}

func TestBuildDependencyNames(t *testing.T) {
	u := buildText(t, "w.service", "[Unit]\nWants=a.service foo@.service no-suffix b@x.service\nAfter=\n[Service]\nExecStart=/bin/true\nStandardInputText=hi\n")
	if !reflect.DeepEqual(u.Unit.Wants, []string{"a.service", "foo@w.service", "b@x.service"}) {
		t.Errorf("wants %q", u.Unit.Wants)
	}
	if d := diagsText(u); len(u.Diags) != 1 || !strings.Contains(d, ":2: warning:") || !strings.Contains(d, `"no-suffix"`) {
		t.Errorf("diags:\n%s", d)
	}
	if i := buildText(t, "getty@tty1.service", "[Unit]\nWants=foo@.service\n[Service]\nExecStart=/bin/true\n"); !reflect.DeepEqual(i.Unit.Wants, []string{"foo@tty1.service"}) {
		t.Errorf("a template dependency of an instance takes its instance: %q", i.Unit.Wants)
	}
	if u.Service.Exec.StandardInput.Kind != "data" || string(u.Service.Exec.StandardInputData) != "hi\n" {
		t.Errorf("input data alone selects StandardInput=data: %+v", u.Service.Exec.StandardInput)
	}
}

func TestBuildServiceValueForms(t *testing.T) {
	u := buildText(t, "p.service", "[Service]\nExecStart=/bin/true\nPIDFile=p.pid\nBusName=org.example.P\nSockets=a.socket b.service\nKillMode=process\nKillMode=\nDelegate=memory bogus\n")
	s := u.Service
	if s.PIDFile != "/run/p.pid" || s.BusName != "org.example.P" || !reflect.DeepEqual(s.Sockets, []string{"a.socket"}) ||
		s.Kill.KillMode != "control-group" || !s.Resources.Delegate {
		t.Errorf("%+v", s)
	}
	if len(u.Diags) != 2 {
		t.Errorf("want warnings for b.service and bogus:\n%s", diagsText(u))
	}
}

func TestReloadSignal(t *testing.T) {
	u := Build("r.service", []Entry{
		{Section: "Service", Key: "Type", Value: "notify-reload", Pos: Pos{File: "r.service", Line: 2}},
		{Section: "Service", Key: "ExecStart", Value: "/bin/true", Pos: Pos{File: "r.service", Line: 3}},
		{Section: "Service", Key: "ReloadSignal", Value: "SIGUSR1", Pos: Pos{File: "r.service", Line: 4}},
	}, BuildInfo{})
	if u.Service.ReloadSignal != int(syscall.SIGUSR1) {
		t.Fatalf("ReloadSignal=%d", u.Service.ReloadSignal)
	}
	for _, e := range u.Service.Exec.Unenforced {
		if e.Key == "ReloadSignal" {
			t.Fatal("ReloadSignal listed as not enforced")
		}
	}
	if d := Build("d.service", []Entry{{Section: "Service", Key: "ExecStart", Value: "/bin/true"}}, BuildInfo{}); d.Service.ReloadSignal != int(syscall.SIGHUP) {
		t.Fatalf("default ReloadSignal=%d", d.Service.ReloadSignal)
	}
}
