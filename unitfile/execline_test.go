package unitfile

import (
	"reflect"
	"testing"
)

func TestParseExecLines(t *testing.T) {
	pos := Pos{"a.service", 7}
	cmd := func(path string, argv ...string) ExecCommand {
		return ExecCommand{Path: path, Argv: argv, Pos: pos}
	}
	cases := []struct {
		in   string
		want []ExecCommand
	}{
		{`/bin/echo hello`, []ExecCommand{cmd("/bin/echo", "/bin/echo", "hello")}},
		{`echo`, []ExecCommand{cmd("echo", "echo")}},
		// systemd.service(5) "COMMAND LINES" examples.
		{`echo one ; echo "two two"`, []ExecCommand{cmd("echo", "echo", "one"), cmd("echo", "echo", "two two")}},
		{`echo / >/dev/null & \; ls`, []ExecCommand{cmd("echo", "echo", "/", ">/dev/null", "&", ";", "ls")}},
		{`sh -c 'dmesg | tac'`, []ExecCommand{cmd("sh", "sh", "-c", "dmesg | tac")}},
		// A ";" that is part of a word, or quoted, is no separator.
		{`/bin/a x; /bin/b ";"`, []ExecCommand{cmd("/bin/a", "/bin/a", "x;", "/bin/b", ";")}},
		{`/bin/a ;`, []ExecCommand{cmd("/bin/a", "/bin/a")}},
		{`/bin/a ; ; /bin/b`, []ExecCommand{cmd("/bin/a", "/bin/a"), cmd("/bin/b", "/bin/b")}},
		{`/bin/echo 'a\tb' "c\x41" d"e f"g \101`, []ExecCommand{cmd("/bin/echo", "/bin/echo", "a\tb", "cA", "de fg", "A")}},
		// Unknown escapes are kept as written (systemd warns and goes on).
		{`/bin/e a\ b \;y \q`, []ExecCommand{cmd("/bin/e", "/bin/e", `a\ b`, `\;y`, `\q`)}},
		{`/bin/echo $FOO ${BAR} $$`, []ExecCommand{cmd("/bin/echo", "/bin/echo", "$FOO", "${BAR}", "$$")}},
		{"", nil},
		{"   ", nil},
	}
	for _, c := range cases {
		got, err := ParseExecLines(c.in, pos)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseExecLines(%q) =\n %+v, %v\nwant\n %+v", c.in, got, err, c.want)
		}
	}
}

func TestParseExecLinePrefixes(t *testing.T) {
	cases := []struct {
		in   string
		want ExecCommand
	}{
		{`-/bin/false`, ExecCommand{Path: "/bin/false", Argv: []string{"/bin/false"}, IgnoreFailure: true}},
		{`@/bin/sleep mysleep 5`, ExecCommand{Path: "/bin/sleep", Argv: []string{"mysleep", "5"}, ArgvZero: true}},
		{`-@:+/bin/x a b`, ExecCommand{Path: "/bin/x", Argv: []string{"a", "b"}, IgnoreFailure: true, ArgvZero: true, NoEnvExpand: true, FullPrivileges: true}},
		{`!/bin/x`, ExecCommand{Path: "/bin/x", Argv: []string{"/bin/x"}, NoSetuid: true}},
		{`!!/bin/x`, ExecCommand{Path: "/bin/x", Argv: []string{"/bin/x"}, AmbientOnly: true}},
		{`-!!:/bin/x`, ExecCommand{Path: "/bin/x", Argv: []string{"/bin/x"}, IgnoreFailure: true, AmbientOnly: true, NoEnvExpand: true}},
		{`:echo $X`, ExecCommand{Path: "echo", Argv: []string{"echo", "$X"}, NoEnvExpand: true}},
	}
	for _, c := range cases {
		got, err := ParseExecLine(c.in, Pos{})
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseExecLine(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []string{
		`--/bin/x`,        // a repeated prefix is left in the path, which is then relative
		`+!/bin/x`,        // "+" and "!" exclude each other
		`!+/bin/x`,        //
		`!!!/bin/x`,       //
		`@/bin/x`,         // "@" needs argv[0]
		`-`,               // no path
		`bin/x`,           // relative path with a slash
		`|/bin/sh -c x`,   // "|" is not a prefix in systemd 252
		`/usr/bin/`,       // a directory
		`"/bin/x\x01"`,    // control character
		`/bin/echo "open`, // unbalanced quote
		`/bin/a ; /bin/b`, // two commands where one is expected
	}
	for _, in := range bad {
		if got, err := ParseExecLine(in, Pos{}); err == nil {
			t.Errorf("ParseExecLine(%q) = %+v, want error", in, got)
		}
	}
}
