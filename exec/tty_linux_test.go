package exec

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TTYReset= puts a terminal left in raw mode back to cooked mode.
func TestTTYReset(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo terminals: %v", err)
	}
	defer ptmx.Close()
	unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0)
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave := "/dev/pts/" + strconv.Itoa(n)
	fd, err := unix.Open(slave, unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	raw, _ := unix.IoctlGetTermios(fd, unix.TCGETS)
	raw.Lflag &^= unix.ICANON | unix.ECHO
	unix.IoctlSetTermios(fd, unix.TCSETS, raw)
	ec := ctx()
	ec.TTYPath, ec.TTYReset = slave, true
	if err := ResetTTY(ec); err != nil {
		t.Fatal(err)
	}
	got, _ := unix.IoctlGetTermios(fd, unix.TCGETS)
	if got.Lflag&(unix.ICANON|unix.ECHO) != unix.ICANON|unix.ECHO {
		t.Errorf("lflag %#x after TTYReset=", got.Lflag)
	}
	ec.TTYPath = "/etc/passwd"
	if err := ResetTTY(ec); err == nil {
		t.Error("a file that is not a terminal was taken for one")
	}
}

// UtmpIdentifier= records the process (INIT_PROCESS, its own pid) in
// utmp and wtmp before it runs, and DEAD_PROCESS after the unit stops.
func TestUtmp(t *testing.T) {
	dir := t.TempDir()
	oldU, oldW := utmpFile, wtmpFile
	utmpFile, wtmpFile = filepath.Join(dir, "utmp"), filepath.Join(dir, "wtmp")
	defer func() { utmpFile, wtmpFile = oldU, oldW }()
	os.WriteFile(wtmpFile, nil, 0o664)
	ec := ctx()
	ec.UtmpIdentifier, ec.TTYPath = "tst1", "/dev/tty9"
	out, ws := run(t, Spec{Cmd: shell(`echo $$`), Exec: ec})
	pid, _ := strconv.Atoi(string(bytes.TrimSpace([]byte(out))))
	read := func(file string) []utmpRecord {
		data, _ := os.ReadFile(file)
		var recs []utmpRecord
		for len(data) >= 384 {
			var r utmpRecord
			binary.Read(bytes.NewReader(data[:384]), binary.LittleEndian, &r)
			recs = append(recs, r)
			data = data[384:]
		}
		return recs
	}
	u := read(utmpFile)
	if ws.ExitStatus() != 0 || len(u) != 1 || u[0].Type != utmpInit || int(u[0].Pid) != pid ||
		string(u[0].ID[:]) != "tst1" || string(bytes.TrimRight(u[0].Line[:], "\x00")) != "tty9" {
		t.Fatalf("utmp %+v (pid %d, %v)", u, pid, ws)
	}
	if err := UtmpDead(ec); err != nil {
		t.Fatal(err)
	}
	if u := read(utmpFile); len(u) != 1 || u[0].Type != utmpDead {
		t.Errorf("after stop: %+v", u)
	}
	if w := read(wtmpFile); len(w) != 2 {
		t.Errorf("wtmp has %d records", len(w))
	}
}
