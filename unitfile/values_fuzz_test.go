package unitfile

import (
	"strings"
	"testing"
)

// The parsers take untrusted file content: whatever the input, they must
// not panic, and what they accept must be well formed.

func FuzzParseExecLines(f *testing.F) {
	for _, s := range []string{`/bin/echo "a b" 'c' \x41 ; -@/bin/x y`, `\`, `"`, `'\u12'`, `!!+/x`, `\;`, ";;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmds, _, err := parseExecLines(s, Pos{}, nil)
		if err != nil {
			return
		}
		for _, c := range cmds {
			if c.Path == "" || len(c.Argv) == 0 || strings.Contains(c.Path, "/") && c.Path[0] != '/' {
				t.Fatalf("%q: bad command %+v", s, c)
			}
		}
	})
}

func FuzzParseEnvironmentFile(f *testing.F) {
	for _, s := range []string{"A=1\n", "A='x\n", "A=\"\\\n", "#\\\n", "A=\\", "\xff=1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kvs, _ := ParseEnvironmentFile(data)
		for _, kv := range kvs {
			if k, _, ok := strings.Cut(kv, "="); !ok || !ValidEnvName(k) {
				t.Fatalf("bad assignment %q", kv)
			}
		}
	})
}

func FuzzParseTimespan(f *testing.F) {
	for _, s := range []string{"1min 30s", "5.5s", "infinity", "1e400s", ".", "9999999999999999999y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseTimespan(s); err == nil && d < 0 {
			t.Fatalf("%q: negative %v", s, d)
		}
	})
}

func FuzzParseListen(f *testing.F) {
	for _, s := range []string{"80", "[::1]:80", "vsock::1", "@x", "/a", "1.2.3.4:0", "[%]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseListen(ListenStream, s, Pos{})
		if err == nil && l.Family == "inet" && (l.Port < 1 || l.Port > 65535) {
			t.Fatalf("%q: port %d", s, l.Port)
		}
	})
}
