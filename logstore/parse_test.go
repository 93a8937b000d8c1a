package logstore

import (
	"encoding/binary"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestParseSyslogForms(t *testing.T) {
	for _, c := range []struct {
		in         string
		prio, fac  int
		ident, txt string
		pid        int
	}{
		{"<30>Dec  7 18:00:01 myd[42]: hello world\n", 6, 3, "myd", "hello world", 42},
		{"<11>Dec 17 18:00:01 cron: job failed", 3, 1, "cron", "job failed", 0},
		{"<13>1 2026-12-07T18:00:01.123Z host app 99 ID47 - structured\x00", 5, 1, "app", "structured", 99},
		{`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\]ication"] An application event`, 5, 20, "evntslog", "An application event", 0},
		{"<14>1 - - - - - - \xef\xbb\xbfbom", 6, 1, "", "bom", 0},
		{"no header at all", 6, 1, "", "no header at all", 0},
		{"<999>bad pri", 6, 1, "", "<999>bad pri", 0},
		{"<6>kernel-ish: text", 6, 0, "kernel-ish", "text", 0},
	} {
		m := ParseSyslog([]byte(c.in))
		if m.Priority != c.prio || m.Facility != c.fac || m.Ident != c.ident || m.Text != c.txt || m.Pid != c.pid {
			t.Errorf("ParseSyslog(%q) = %+v, want prio %d fac %d ident %q pid %d text %q", c.in, m, c.prio, c.fac, c.ident, c.pid, c.txt)
		}
	}
}

// TestParseSyslogFromLogger parses what util-linux logger(1) really sends
// to a local socket, in its default form and both RFC forms.
func TestParseSyslogFromLogger(t *testing.T) {
	if _, err := exec.LookPath("logger"); err != nil {
		t.Fatal("logger(1) (util-linux, bsdutils on Debian) is needed")
	}
	path := filepath.Join(t.TempDir(), "log")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, form := range [][]string{nil, {"--rfc3164"}, {"--rfc5424"}} {
		args := append([]string{"-u", path, "-t", "tagged", "-p", "daemon.warning", "--id=4242"}, form...)
		out, err := exec.Command("logger", append(args, "a message  with spaces")...).CombinedOutput()
		if err != nil {
			t.Fatalf("logger %v: %v %s", form, err, out)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		m := ParseSyslog(buf[:n])
		if m.Priority != 4 || m.Facility != 3 || m.Ident != "tagged" || m.Pid != 4242 || m.Text != "a message  with spaces" {
			t.Errorf("logger %v sent %q, parsed %+v", form, buf[:n], m)
		}
	}
}

func TestParseNative(t *testing.T) {
	bin := []byte("MESSAGE\n")
	bin = binary.LittleEndian.AppendUint64(bin, 11)
	bin = append(bin, "two\nlines\x00!\n"...)
	msg := append([]byte("PRIORITY=3\nSYSLOG_IDENTIFIER=prog\nCODE_FILE=x.c\nSYSLOG_PID=77\n"), bin...)
	m, err := ParseNative(msg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Priority != 3 || m.Ident != "prog" || m.Pid != 77 || m.Text != "two\nlines\x00!" {
		t.Fatalf("%+v", m)
	}
	if m, err := ParseNative([]byte("MESSAGE=no newline at the end")); err != nil || m.Text != "no newline at the end" {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"lower=case\n", "MESSAGE\n\x05\x00\x00", "MESSAGE\n\xff\x00\x00\x00\x00\x00\x00\x00abc\n", "MESSAGE\n\x02\x00\x00\x00\x00\x00\x00\x00abc\n"} {
		if _, err := ParseNative([]byte(bad)); err == nil {
			t.Errorf("ParseNative(%q) accepted", bad)
		}
	}
}

func FuzzParsers(f *testing.F) {
	f.Add([]byte("<30>Dec  7 18:00:01 myd[42]: hello"))
	f.Add([]byte("<13>1 2026-12-07T18:00:01Z h a 1 - [x y=\"\\]\"] m"))
	f.Add([]byte("MESSAGE\n\x01\x00\x00\x00\x00\x00\x00\x00a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseSyslog(b)
		ParseNative(b)
	})
}
