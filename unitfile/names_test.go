package unitfile

import (
	"os/exec"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name                    string
		valid, template, instnc bool
	}{
		{"foo.service", true, false, false},
		{"foo@.service", true, true, false},
		{"foo@bar.service", true, false, true},
		{"foo@bar@baz.service", true, false, true},
		{"a:b_c-d.e\\x2d.socket", true, false, false},
		{"dev-sda1.device", true, false, false},
		{"-.mount", true, false, false},
		{"-.slice", true, false, false},
		{"foo.automount", true, false, false},
		{"x.swap", true, false, false},
		{"x.timer", true, false, false},
		{"x.path", true, false, false},
		{"x.scope", true, false, false},
		{"x.target", true, false, false},
		{"foo", false, false, false},
		{"foo.conf", false, false, false},
		{".service", false, false, false},
		{"@.service", false, false, false},
		{"@x.service", false, false, false},
		{"foo bar.service", false, false, false},
		{"föö.service", false, false, false},
		{"foo/bar.service", false, false, false},
		{"", false, false, false},
		{strings.Repeat("a", 247) + ".service", true, false, false},
		{strings.Repeat("a", 248) + ".service", false, false, false},
	}
	for _, tc := range tests {
		if got := ValidName(tc.name); got != tc.valid {
			t.Errorf("ValidName(%q) = %v", tc.name, got)
		}
		if got := IsTemplate(tc.name); got != tc.template {
			t.Errorf("IsTemplate(%q) = %v", tc.name, got)
		}
		if got := IsInstance(tc.name); got != tc.instnc {
			t.Errorf("IsInstance(%q) = %v", tc.name, got)
		}
	}
}

func TestSplitAndInstance(t *testing.T) {
	for _, tc := range []struct{ name, p, i, s string }{
		{"foo.service", "foo", "", "service"},
		{"foo@.service", "foo", "", "service"},
		{"foo@bar.baz.service", "foo", "bar.baz", "service"},
		{"a-b@c@d.socket", "a-b", "c@d", "socket"},
	} {
		p, i, s := SplitName(tc.name)
		if p != tc.p || i != tc.i || s != tc.s {
			t.Errorf("SplitName(%q) = %q %q %q", tc.name, p, i, s)
		}
	}
	if n, err := InstanceOf("getty@.service", "tty1"); err != nil || n != "getty@tty1.service" {
		t.Errorf("InstanceOf = %q, %v", n, err)
	}
	if _, err := InstanceOf("getty.service", "tty1"); err == nil {
		t.Error("InstanceOf of a non-template succeeded")
	}
	if _, err := InstanceOf("getty@.service", "a b"); err == nil {
		t.Error("InstanceOf with an unescaped instance succeeded")
	}
	if got := TemplateOf("getty@tty1.service"); got != "getty@.service" {
		t.Errorf("TemplateOf = %q", got)
	}
}

// runEscape runs the real systemd-escape; ok is false when it refuses.
func runEscape(t *testing.T, flags []string, in string) (string, bool) {
	t.Helper()
	args := append(append([]string(nil), flags...), "--", in)
	out, err := exec.Command("systemd-escape", args...).Output()
	if err != nil {
		if _, isExit := err.(*exec.ExitError); !isExit {
			t.Fatalf("systemd-escape: %v", err)
		}
		return "", false
	}
	return strings.TrimSuffix(string(out), "\n"), true
}

var escapeInputs = []string{
	"", "/", "//", "/.", ".", "./", "./a", "a/.", "..", "...", "/...", "/a/../b", "a/..",
	".a", "/.a", "a-b", "a\\b", "foo@bar", "a//b/", "/dev/sda1", "/home/user name",
	"héllo wörld", "日本", "tab\there", "~x", "a:b_c.d", "/var/lib/machines/.hidden/x",
	"\\x2d", "-", "--", "-a-", "a--b", "\\x2e", "-.", "a-.-b", "a-..-b", "a\\x2fb",
	"foo\\x40bar", "h\\xc3\\xa9", "\\x4", "\\y41", "\\X41", "\\x4G", "trailing\\",
}

func TestEscapeMatchesSystemd(t *testing.T) {
	for _, in := range escapeInputs {
		want, _ := runEscape(t, nil, in)
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, systemd-escape %q", in, got, want)
		}
		want, ok := runEscape(t, []string{"--path"}, in)
		got, err := EscapePath(in)
		if ok != (err == nil) || ok && got != want {
			t.Errorf("EscapePath(%q) = %q, %v; systemd-escape --path %q ok=%v", in, got, err, want, ok)
		}
		want, ok = runEscape(t, []string{"--unescape"}, in)
		got, err = Unescape(in)
		if ok != (err == nil) || ok && got != want {
			t.Errorf("Unescape(%q) = %q, %v; systemd-escape --unescape %q ok=%v", in, got, err, want, ok)
		}
		want, ok = runEscape(t, []string{"--unescape", "--path"}, in)
		got, err = UnescapePath(in)
		if ok != (err == nil) || ok && got != want {
			t.Errorf("UnescapePath(%q) = %q, %v; systemd-escape --unescape --path %q ok=%v", in, got, err, want, ok)
		}
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, in := range []string{"/", "/dev/sda1", "/a b/c-d/.e", "/日本/x"} {
		e, err := EscapePath(in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnescapePath(e)
		if err != nil || back != in {
			t.Errorf("UnescapePath(EscapePath(%q)) = %q, %v", in, back, err)
		}
		if !ValidName(e + ".mount") {
			t.Errorf("escaped %q gives invalid unit name %q", in, e+".mount")
		}
	}
	// systemd's C strings stop at an escaped NUL; gosd refuses it instead.
	if _, err := Unescape(`a\x00b`); err == nil {
		t.Error(`Unescape("a\x00b") succeeded`)
	}
}
