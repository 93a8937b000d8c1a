package unitfile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type kv struct {
	Section, Key, Value string
	Line                int
}

func simplify(es []Entry) []kv {
	out := []kv{}
	for _, e := range es {
		out = append(out, kv{e.Section, e.Key, e.Value, e.Pos.Line})
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  []kv
		diags []string // substrings, in order
	}{
		{"sections and trimming", "[Unit]\n  Description =  hello world  \n[Service]\nExecStart=/bin/true\n",
			[]kv{{"Unit", "Description", "hello world", 2}, {"Service", "ExecStart", "/bin/true", 4}}, nil},
		{"comments", "# c\n; c\n[Unit]\n   # indented comment\nA=1 # not a comment\n",
			[]kv{{"Unit", "A", "1 # not a comment", 5}}, nil},
		{"continuation keeps leading blanks", "[S]\nExecStart=/bin/echo one \\\n   two \\\nthree\n",
			[]kv{{"S", "ExecStart", "/bin/echo one     two  three", 2}}, nil},
		{"comment inside continuation dropped", "[S]\nA=x\\\n# comment\n; other\ny\nB=2\n",
			[]kv{{"S", "A", "x y", 2}, {"S", "B", "2", 6}}, nil},
		{"escaped backslash is not continuation", "[S]\nA=x\\\\\nB=y\n",
			[]kv{{"S", "A", `x\\`, 2}, {"S", "B", "y", 3}}, nil},
		{"blank after backslash is not continuation", "[S]\nA=x \\ \nB=y\n",
			[]kv{{"S", "A", `x \`, 2}, {"S", "B", "y", 3}}, nil},
		{"continuation at EOF", "[S]\nA=x\\", []kv{{"S", "A", "x", 2}}, nil},
		{"no quoting or escapes", "[S]\nA=\"a b\" 'c' \\n %i $X\n",
			[]kv{{"S", "A", `"a b" 'c' \n %i $X`, 2}}, nil},
		{"empty value", "[S]\nA=\n", []kv{{"S", "A", "", 2}}, nil},
		{"value with =", "[S]\nEnvironment=A=B C=D\n", []kv{{"S", "Environment", "A=B C=D", 2}}, nil},
		{"CRLF and CR", "[S]\r\nA=1\r\nB=2\rC=3\n", []kv{{"S", "A", "1", 2}, {"S", "B", "2", 3}, {"S", "C", "3", 4}}, nil},
		{"BOM", "\xEF\xBB\xBF[S]\nA=1\n", []kv{{"S", "A", "1", 2}}, nil},
		{"outside section", "A=1\n[S]\nB=2\n", []kv{{"S", "B", "2", 3}}, []string{"t:1: warning: assignment outside"}},
		{"missing =", "[S]\nfoo\nB=2\n", []kv{{"S", "B", "2", 3}}, []string{"t:2: warning: missing '='"}},
		{"missing key", "[S]\n=foo\n", []kv{}, []string{"t:2: warning: missing key name"}},
		{"bad header", "[S\nA=1\n[T]\nB=2\n", []kv{{"T", "B", "2", 4}}, []string{"t:1: invalid section header"}},
		{"NUL", "[S]\nA=1\x002\nB=2\n", []kv{}, []string{"t:2: NUL byte: binary data"}},
		{"invalid UTF-8", "[S]\nA=\xff\xfe\nB=2\n", []kv{{"S", "B", "2", 3}}, []string{"t:2: warning: line is not valid UTF-8"}},
		{"repeated keys kept in order", "[S]\nA=1\nA=\nA=2\n", []kv{{"S", "A", "1", 2}, {"S", "A", "", 3}, {"S", "A", "2", 4}}, nil},
		{"section ] inside", "[a]b]\nA=1\n", []kv{{"a]b", "A", "1", 2}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, ds := Parse("t", []byte(tc.in))
			if got := simplify(es); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("entries\n got %v\nwant %v", got, tc.want)
			}
			if len(ds) != len(tc.diags) {
				t.Fatalf("diags %v, want %v", ds, tc.diags)
			}
			for i, d := range ds {
				if !strings.Contains(d.String(), tc.diags[i]) {
					t.Errorf("diag %q does not contain %q", d.String(), tc.diags[i])
				}
			}
		})
	}
}

func TestParseLongLines(t *testing.T) {
	long := strings.Repeat("x", MaxLineSize+1)
	es, ds := Parse("t", []byte("[S]\nA="+long+"\nB=2\n"))
	if got := simplify(es); !reflect.DeepEqual(got, []kv{{"S", "B", "2", 3}}) {
		t.Errorf("entries %v", got)
	}
	if len(ds) != 1 || ds[0].Severity != Error || ds[0].Pos.Line != 2 || !strings.Contains(ds[0].Msg, "longer than") {
		t.Errorf("diags %v", ds)
	}
	half := strings.Repeat("y", MaxLineSize/2+10)
	_, ds = Parse("t", []byte("[S]\nA="+half+"\\\n"+half+"\nB=2\n"))
	if len(ds) != 1 || ds[0].Severity != Error || !strings.Contains(ds[0].Msg, "continued line") {
		t.Errorf("continuation diags %v", ds)
	}
	_, ds = Parse("t", make([]byte, MaxFileSize+1))
	if len(ds) != 1 || ds[0].Severity != Error || !strings.Contains(ds[0].Msg, "limit") {
		t.Errorf("huge file diags %v", ds)
	}
}

func TestParseBinaryGarbage(t *testing.T) {
	data, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	es, ds := Parse("/bin/true", data)
	if len(ds) == 0 {
		t.Fatalf("no diagnostics for an ELF binary (%d entries)", len(es))
	}
}

// TestSystemdAgrees checks a few parses against systemd's own parser via
// `systemd-analyze cat-config`-free means: systemd-analyze verify must
// accept what we accept without warnings.
func TestSystemdAgrees(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "agree.service")
	src := "[Unit]\nDescription=x \\\n  y\n# c\n[Service]\nType=oneshot\nExecStart=/bin/true \\\n# dropped\n  --version\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, ds := Parse(p, []byte(src))
	if len(ds) != 0 {
		t.Fatalf("diags %v", ds)
	}
	out := runVerify(t, p)
	if bytes.Contains(out, []byte("agree.service:")) {
		t.Errorf("systemd-analyze complains:\n%s", out)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("[Unit]\nDescription=a\\\n b\n#c\n[Service]\nExecStart=/bin/x \\ \n"))
	f.Add([]byte("A=1\n[S\n=x\n[T]\nk\\\\\n\r\n\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, _ := Parse("f", data)
		again, ds := Parse("f", Format(es))
		a, b := stripPos(es), stripPos(again)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed entries\n%q\n%q\ndiags %v", a, b, ds)
		}
	})
}

func stripPos(es []Entry) []Entry {
	out := []Entry{}
	for _, e := range es {
		e.Pos = Pos{}
		out = append(out, e)
	}
	return out
}

// runVerify runs systemd's parser on a file; its messages name the file.
func runVerify(t *testing.T, path string) []byte {
	t.Helper()
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", path)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
	out, _ := cmd.CombinedOutput()
	return out
}
