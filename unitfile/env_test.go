package unitfile

import (
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func mustExec(t *testing.T, line string) ExecCommand {
	t.Helper()
	c, err := ParseExecLine(line, Pos{})
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return c
}

// The two examples of systemd.service(5) "COMMAND LINES".
func TestExpandArgvManPageExamples(t *testing.T) {
	env, _, _ := ParseEnvironmentAssignments(`"ONE=one" 'TWO=two two'`)
	got := ExpandArgv(mustExec(t, `echo $ONE $TWO ${TWO}`), env)
	if want := []string{"echo", "one", "two", "two", "two two"}; !reflect.DeepEqual(got, want) {
		t.Errorf("example 1: got %q, want %q", got, want)
	}

	env, _, _ = ParseEnvironmentAssignments(`ONE='one' "TWO='two two' too" THREE=`)
	got = ExpandArgv(mustExec(t, `/bin/echo ${ONE} ${TWO} ${THREE}`), env)
	if want := []string{"/bin/echo", "one", "'two two' too", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("example 2a: got %q, want %q", got, want)
	}
	got = ExpandArgv(mustExec(t, `/bin/echo $ONE $TWO $THREE`), env)
	if want := []string{"/bin/echo", "one", "two two", "too"}; !reflect.DeepEqual(got, want) {
		t.Errorf("example 2b: got %q, want %q", got, want)
	}
}

func TestExpandArgv(t *testing.T) {
	env := []string{"A=x", "B=  p  q ", "A=last", "E="}
	cases := map[string][]string{
		`/bin/e $A`:          {"/bin/e", "last"},    // the last assignment wins
		`/bin/e $B`:          {"/bin/e", "p", "q"},  // split at whitespace
		`/bin/e ${B}`:        {"/bin/e", "  p  q "}, // kept whole
		`/bin/e pre${A}post`: {"/bin/e", "prelastpost"},
		`/bin/e $UNSET x`:    {"/bin/e", "x"},     // zero words
		`/bin/e ${UNSET} x`:  {"/bin/e", "", "x"}, // one empty word
		`/bin/e $E`:          {"/bin/e"},
		`/bin/e $$ $$A a$$b`: {"/bin/e", "$", "$A", "a$b"},
		`/bin/e a$A ${A`:     {"/bin/e", "a$A", "${A"}, // not expanded
		`/bin/e $A-x $1 $ y`: {"/bin/e", "y"},          // whole-word names that are unset
		`/bin/e ${A:-d}${A}`: {"/bin/e", "${A:-d}last"},
		`/bin/e "${A B}"`:    {"/bin/e", ""},
		`:/bin/e $A ${A} $$`: {"/bin/e", "$A", "${A}", "$$"},
		`@/bin/e zero $B`:    {"zero", "p", "q"},
	}
	for line, want := range cases {
		if got := ExpandArgv(mustExec(t, line), env); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q, want %q", line, got, want)
		}
	}
}

// The expanded argv reaches a real process word for word.
func TestExpandArgvRealProcess(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := mustExec(t, sh+` -c 'printf "[%s]" "$@"' argv0 $WORDS ${WHOLE} $$`)
	argv := ExpandArgv(cmd, []string{"WORDS=a 'b c'", "WHOLE=d  e"})
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "[a][b c][d  e][$]"; string(out) != want {
		t.Errorf("process saw %s, want %s", out, want)
	}
}

// The EnvironmentFile= format, rules of systemd.exec(5) and systemd's
// env-file parser.
func TestParseEnvironmentFile(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"plain", "A=1\nB=two words\n", []string{"A=1", "B=two words"}},
		{"comments", "# c\n; c\n  # indented\nA=1 # not a comment\n", []string{"A=1 # not a comment"}},
		{"spaces", "  A  =  spaced value  \n", []string{"A=spaced value"}},
		{"empty value", "A=\nB=   \n", []string{"A=", "B="}},
		{"no equals", "JUSTAWORD\nA=1\n", []string{"A=1"}},
		{"single quotes", `A='it is $HOME \n'` + "\n", []string{`A=it is $HOME \n`}},
		{"double quotes", `A="say \"hi\" \$x \\ \q"` + "\n", []string{`A=say "hi" $x \ \q`}},
		{"concat", `A="a"'b'c` + "\n", []string{"A=abc"}},
		{"quoted newline", "A='line1\nline2'\n", []string{"A=line1\nline2"}},
		{"continuation", "A=one \\\ntwo\nB=x\n", []string{"A=one two", "B=x"}},
		{"dq continuation", "A=\"one \\\ntwo\"\n", []string{"A=one two"}},
		{"escape", `A=a\ b\\c\"` + "\n", []string{`A=a b\c"`}},
		{"comment continuation", "# c \\\nA=hidden\nB=1\n", []string{"B=1"}},
		{"no final newline", "A=1\nB=2", []string{"A=1", "B=2"}},
		{"crlf", "A=1\r\nB=2\r\n", []string{"A=1", "B=2"}},
		{"later wins kept in order", "A=1\nA=2\n", []string{"A=1", "A=2"}},
		{"quote then spaces", `A="x"  ` + "\n", []string{"A=x"}},
	}
	for _, c := range cases {
		got, err := ParseEnvironmentFile([]byte(c.in))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	got, err := ParseEnvironmentFile([]byte("1BAD=x\nGOOD=y\nBAD-NAME=z\n"))
	if !reflect.DeepEqual(got, []string{"GOOD=y"}) || err != nil {
		t.Errorf("invalid names are dropped: got %q, %v", got, err)
	}
}

// A real Debian environment file parses without complaint.
func TestParseEnvironmentFileReal(t *testing.T) {
	data, err := os.ReadFile("/etc/default/locale")
	if err != nil {
		data = []byte("LANG=C.UTF-8\n")
	}
	if _, err := ParseEnvironmentFile(data); err != nil {
		t.Error(err)
	}
}

func TestParseEnvironmentFileUTF8(t *testing.T) {
	got, err := ParseEnvironmentFile([]byte("A=é ü\nB=\xff\xfe\n"))
	if !reflect.DeepEqual(got, []string{"A=é ü"}) || err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("got %q, %v", got, err)
	}
}

// systemd's own env-file parser is reachable without a running systemd
// through systemd-environment-d-generator, which reads environment.d files
// with the same parser and prints the result. Values here hold no "$" (the
// generator also expands variables, EnvironmentFile= does not).
func TestParseEnvironmentFileAgainstSystemd(t *testing.T) {
	const gen = "/lib/systemd/user-environment-generators/30-systemd-environment-d-generator"
	if _, err := os.Stat(gen); err != nil {
		t.Skip("systemd's environment.d generator is not installed")
	}
	data, err := os.ReadFile("testdata/values_envfile/oracle.conf")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	dir := home + "/.config/environment.d"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/oracle.conf", data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gen)
	cmd.Env = []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config", "SYSTEMD_LOG_LEVEL=debug"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	// Its debug log has "FILE:LINE: setting KEY=VALUE" for each variable,
	// the raw value (a value with a newline continues on the next lines).
	var sd []string
	inFile := false
	for _, l := range strings.Split(stderr.String(), "\n") {
		if _, kv, ok := strings.Cut(l, ": setting "); ok && strings.HasPrefix(l, dir) {
			sd, inFile = append(sd, kv), true
			continue
		}
		if l == "" || strings.Contains(l, ": ") || strings.HasPrefix(l, "Reading ") || !inFile || len(sd) == 0 {
			inFile = inFile && strings.HasPrefix(l, dir)
			continue
		}
		sd[len(sd)-1] += "\n" + l
	}
	ours, _ := ParseEnvironmentFile(data)
	fromFile := sd
	// systemd drops "E=" in the generator (its push refuses empty values);
	// EnvironmentFile= keeps it, so compare without it.
	var oursCmp []string
	for _, kv := range ours {
		if kv != "E=" {
			oursCmp = append(oursCmp, kv)
		}
	}
	if !reflect.DeepEqual(oursCmp, fromFile) {
		t.Errorf("ours:    %q\nsystemd: %q", oursCmp, fromFile)
	}
	if len(fromFile) < 12 {
		t.Errorf("too few variables compared: %q", fromFile)
	}
}
