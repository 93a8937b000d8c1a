package unitfile

import (
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseBool(t *testing.T) {
	for _, s := range []string{"1", "yes", "Y", "true", "T", "on", "ON", "YeS"} {
		if b, err := ParseBool(s); err != nil || !b {
			t.Errorf("ParseBool(%q) = %v, %v; want true", s, b, err)
		}
	}
	for _, s := range []string{"0", "no", "N", "false", "f", "off", "OFF"} {
		if b, err := ParseBool(s); err != nil || b {
			t.Errorf("ParseBool(%q) = %v, %v; want false", s, b, err)
		}
	}
	for _, s := range []string{"", "2", "yess", "enable"} {
		if _, err := ParseBool(s); err == nil {
			t.Errorf("ParseBool(%q) accepted", s)
		}
	}
}

// Examples from systemd.time(7) "PARSING TIME SPANS".
func TestParseTimespan(t *testing.T) {
	good := map[string]time.Duration{
		"2 h":            2 * time.Hour,
		"2hours":         2 * time.Hour,
		"48hr":           48 * time.Hour,
		"1y 12month":     31557600*time.Second + 12*2629800*time.Second,
		"55s500ms":       55*time.Second + 500*time.Millisecond,
		"300ms20s 5day":  300*time.Millisecond + 20*time.Second + 5*24*time.Hour,
		"1min 30s":       90 * time.Second,
		"5.5s":           5500 * time.Millisecond,
		"500ms":          500 * time.Millisecond,
		"90":             90 * time.Second,
		"0":              0,
		"10us":           10 * time.Microsecond,
		"10µs":           10 * time.Microsecond,
		"3usec":          3 * time.Microsecond,
		"1w":             7 * 24 * time.Hour,
		"2m":             2 * time.Minute,
		" 1 min ":        time.Minute,
		"infinity":       Infinity,
		"1.5h":           90 * time.Minute,
		"1d 2h 3min 4s":  26*time.Hour + 3*time.Minute + 4*time.Second,
		"100000000000y":  Infinity,
		"0.000001s":      time.Microsecond,
		"1 seconds":      time.Second,
		"1 minute 1 sec": 61 * time.Second,
	}
	for in, want := range good {
		got, err := ParseTimespan(in)
		if err != nil || got != want {
			t.Errorf("ParseTimespan(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "5 parsecs", "-5s", "1.2.3s", "s", "infinity5", "5ss"} {
		if got, err := ParseTimespan(in); err == nil {
			t.Errorf("ParseTimespan(%q) = %v, want error", in, got)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]uint64{
		"0": 0, "512": 512, "1K": 1024, "4M": 4 << 20, "16G": 16 << 30, "2T": 2 << 40,
		"1P": 1 << 50, "1E": 1 << 60, "1.5G": 3 << 29, "100B": 100, "8M ": 8 << 20,
	}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1X", "K", "abc", "16E"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %v, want error", in, got)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]uint64{"20%": 2000, "12.5%": 1250, "150%": 15000, "0%": 0} {
		if got, err := ParsePercent(in); err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"20", "%", "-5%", "x%"} {
		if _, err := ParsePercent(in); err == nil {
			t.Errorf("ParsePercent(%q) accepted", in)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]uint32{"0022": 0o22, "022": 0o22, "0755": 0o755, "7777": 0o7777, "0": 0} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %o, %v; want %o", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0888", "17777", "rwx", "-1"} {
		if _, err := ParseMode(in); err == nil {
			t.Errorf("ParseMode(%q) accepted", in)
		}
	}
}

// Units per resource as systemd.exec(5) Table 1 lists them.
func TestParseRlimit(t *testing.T) {
	cases := []struct {
		res, in string
		want    Rlimit
	}{
		{"NOFILE", "1024", Rlimit{1024, 1024}},
		{"NOFILE", "1024:524288", Rlimit{1024, 524288}},
		{"NOFILE", "infinity", Rlimit{RlimInfinity, RlimInfinity}},
		{"NOFILE", "1024:infinity", Rlimit{1024, RlimInfinity}},
		{"AS", "4G:16G", Rlimit{4 << 30, 16 << 30}},
		{"CORE", "0", Rlimit{0, 0}},
		{"MEMLOCK", "64K", Rlimit{64 << 10, 64 << 10}},
		{"CPU", "30", Rlimit{30, 30}},
		{"CPU", "1min", Rlimit{60, 60}},
		{"CPU", "1500ms", Rlimit{2, 2}},     // rounded up to whole seconds
		{"RTTIME", "200", Rlimit{200, 200}}, // bare number is microseconds
		{"RTTIME", "1s", Rlimit{1000000, 1000000}},
		{"NICE", "-10", Rlimit{30, 30}},
		{"NICE", "+19", Rlimit{1, 1}},
		{"NICE", "40", Rlimit{40, 40}},
	}
	for _, c := range cases {
		got, err := ParseRlimit(c.res, c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRlimit(%s, %q) = %v, %v; want %v", c.res, c.in, got, err, c.want)
		}
	}
	for _, c := range [][2]string{{"NOFILE", "10:5"}, {"NOFILE", "1K"}, {"NOFILE", "x"}, {"NICE", "-21"},
		{"NICE", "41"}, {"BOGUS", "1"}, {"AS", "1Q"}, {"NOFILE", ""}} {
		if got, err := ParseRlimit(c[0], c[1]); err == nil {
			t.Errorf("ParseRlimit(%s, %q) = %v, want error", c[0], c[1], got)
		}
	}
}

func TestParseExitStatusSet(t *testing.T) {
	// The example of systemd.service(5) "SuccessExitStatus=".
	var s ExitStatusSet
	if err := ParseExitStatusSet(&s, "TEMPFAIL 250 SIGKILL"); err != nil {
		t.Fatal(err)
	}
	want := ExitStatusSet{Codes: []int{75, 250}, Signals: []int{sigKILL}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v, want %+v", s, want)
	}
	if err := ParseExitStatusSet(&s, "1 SIGTERM"); err != nil || len(s.Codes) != 3 || len(s.Signals) != 2 {
		t.Errorf("second assignment must merge: %+v %v", s, err)
	}
	var bad ExitStatusSet
	err := ParseExitStatusSet(&bad, "256 TERM 3 bogus")
	if err == nil || !strings.Contains(err.Error(), "256") || !strings.Contains(err.Error(), "TERM") {
		t.Errorf("want error naming 256 and TERM, got %v", err)
	}
	if !reflect.DeepEqual(bad.Codes, []int{3}) {
		t.Errorf("valid words must still be taken: %+v", bad)
	}
}

func TestParseEnvironmentAssignments(t *testing.T) {
	// The examples of systemd.exec(5) "Environment=".
	got, bad, err := ParseEnvironmentAssignments(`"VAR1=word1 word2" VAR2=word3 "VAR3=$word 5 6"`)
	want := []string{"VAR1=word1 word2", "VAR2=word3", "VAR3=$word 5 6"}
	if err != nil || len(bad) != 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q %v %v", got, bad, err)
	}
	got, bad, err = ParseEnvironmentAssignments(`A=1 =bad 1X=2 B= C "D=x\ty" 'E=it''s'`)
	want = []string{"A=1", "B=", "D=x\ty", "E=its"}
	if err != nil || len(bad) != 3 || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, bad %v, err %v", got, bad, err)
	}
	if _, _, err := ParseEnvironmentAssignments(`"A=unterminated`); err == nil {
		t.Error("unbalanced quote accepted")
	}
}

func TestSplitQuoted(t *testing.T) {
	cases := map[string][]string{
		`a b  c`:                 {"a", "b", "c"},
		`"a b" 'c d'`:            {"a b", "c d"},
		`a"b c"d`:                {"ab cd"},
		`'a\tb' "c\x41"`:         {"a\tb", "cA"},
		`\101\s\u00e9\U0001F600`: {"A é😀"},
		`"x\"y" 'it\'s'`:         {`x"y`, "it's"},
		`\\ \n`:                  {`\`, "\n"},
		``:                       nil,
		`  `:                     nil,
		`""`:                     {""},
	}
	for in, want := range cases {
		got, err := SplitQuoted(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitQuoted(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`"open`, `'open`, `trail\`, `\q`, `\x0`, `\x00`, `\000`, `\xZZ`, `\u12`} {
		if got, err := SplitQuoted(in); err == nil {
			t.Errorf("SplitQuoted(%q) = %q, want error", in, got)
		}
	}
}

func TestParseCondition(t *testing.T) {
	pos := Pos{"f", 3}
	cases := []struct {
		kind, in string
		want     Condition
	}{
		{"PathExists", "/etc/x", Condition{Kind: "PathExists", Value: "/etc/x", Pos: pos}},
		{"PathExists", "!/etc/x", Condition{Kind: "PathExists", Negate: true, Value: "/etc/x", Pos: pos}},
		{"PathExists", "|!/etc/x", Condition{Kind: "PathExists", Trigger: true, Negate: true, Value: "/etc/x", Pos: pos}},
		{"Virtualization", "| ! container", Condition{Kind: "Virtualization", Trigger: true, Negate: true, Value: "container", Pos: pos}},
		{"KernelCommandLine", "|quiet", Condition{Kind: "KernelCommandLine", Trigger: true, Value: "quiet", Pos: pos}},
	}
	for _, c := range cases {
		got, err := ParseCondition(c.kind, c.in, pos)
		if err != nil || got != c.want {
			t.Errorf("ParseCondition(%s, %q) = %+v, %v; want %+v", c.kind, c.in, got, err, c.want)
		}
	}
	if _, err := ParseCondition("Bogus", "x", pos); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := ParseCondition("PathExists", "|!relative", pos); err == nil {
		t.Error("relative path accepted")
	}
	if c, err := ParseCondition("Virtualization", "!", pos); err != nil || !c.Negate || c.Value != "" {
		t.Errorf("systemd accepts an empty negated value: %+v %v", c, err)
	}
}

func TestParseStdio(t *testing.T) {
	good := []struct {
		which, in string
		want      Stdio
	}{
		{"input", "null", Stdio{Kind: "null"}},
		{"input", "tty-force", Stdio{Kind: "tty-force"}},
		{"input", "socket", Stdio{Kind: "socket"}},
		{"input", "data", Stdio{Kind: "data"}},
		{"input", "file:/dev/zero", Stdio{Kind: "file", Path: "/dev/zero"}},
		{"input", "fd:stdin", Stdio{Kind: "fd", Name: "stdin"}},
		{"output", "journal+console", Stdio{Kind: "journal+console"}},
		{"output", "kmsg", Stdio{Kind: "kmsg"}},
		{"output", "append:/var/log/x.log", Stdio{Kind: "append", Path: "/var/log/x.log"}},
		{"output", "truncate:/tmp/o", Stdio{Kind: "truncate", Path: "/tmp/o"}},
		{"error", "inherit", Stdio{Kind: "inherit"}},
		{"input", "fd", Stdio{Kind: "fd", Name: "stdin"}},
		{"error", "fd", Stdio{Kind: "fd", Name: "stderr"}},
		{"error", "syslog+console", Stdio{Kind: "syslog+console"}},
	}
	for _, c := range good {
		got, err := ParseStdio(c.which, c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseStdio(%s, %q) = %+v, %v; want %+v", c.which, c.in, got, err, c.want)
		}
	}
	for _, c := range [][2]string{{"input", "journal"}, {"input", "inherit"}, {"input", "append:/x"},
		{"output", "data"}, {"output", "file:relative"}, {"output", "fd:"}, {"error", "bogus"}} {
		if got, err := ParseStdio(c[0], c[1]); err == nil {
			t.Errorf("ParseStdio(%s, %q) = %+v, want error", c[0], c[1], got)
		}
	}
}

func TestParseStandardInputData(t *testing.T) {
	got, err := ParseStandardInputData("aGVs\n bG8=")
	if err != nil || string(got) != "hello" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := ParseStandardInputData("!!!"); err == nil {
		t.Error("bad base64 accepted")
	}
}

// `systemd-analyze timespan` prints systemd's own parse of a time span.
func TestParseTimespanAgainstSystemd(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	inputs := []string{"1min 30s", "5.5s", "2h30min", "1y 12month", "55s500ms", "300ms20s 5day",
		"10us", "10µs", "1w", "2m", "0", "90", "1.5h", "1 minute 1 sec", "0.000001s", "3 usec",
		"1d 2h 3min 4s", "48hr", "1M", "1y", "1.25d", "5 parsecs", "-5s", "1.2.3s", "s", "5ss", "abc"}
	for _, in := range inputs {
		out, err := exec.Command(analyze, "timespan", in).CombinedOutput()
		want := time.Duration(-1)
		if err == nil {
			_, rest, ok := strings.Cut(string(out), "μs: ")
			usec, perr := strconv.ParseUint(strings.Fields(rest)[0], 10, 64)
			if !ok || perr != nil {
				t.Fatalf("%q: cannot read %s", in, out)
			}
			want = time.Duration(usec) * time.Microsecond
		}
		got, gerr := ParseTimespan(in)
		if gerr != nil {
			got = -1
		}
		// systemd counts in microseconds; compare at that resolution.
		if got != want && got.Truncate(time.Microsecond) != want {
			t.Errorf("ParseTimespan(%q) = %v, systemd says %v", in, got, want)
		}
	}
}
