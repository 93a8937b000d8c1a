package exec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// ResetTTY applies TTYReset=, TTYVHangup= and TTYVTDisallocate= to the
// unit's terminal (systemd.exec(5): before the process starts and after
// the unit stops). The terminal is opened without becoming gosd's
// controlling terminal and without blocking.
func ResetTTY(ec *unitfile.ExecContext) error {
	if !ec.TTYReset && !ec.TTYVHangup && !ec.TTYVTDisallocate {
		return nil
	}
	path := ec.TTYPath
	if path == "" {
		path = "/dev/console"
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer unix.Close(fd)
	if !isTerminal(fd) {
		return fmt.Errorf("%s is not a terminal", path)
	}
	if ec.TTYReset {
		resetTerminal(fd)
	}
	if ec.TTYVHangup {
		unix.IoctlSetInt(fd, unix.TIOCVHANGUP, 0)
	}
	if ec.TTYVTDisallocate {
		disallocateVT(path, fd)
	}
	return nil
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// resetTerminal puts sane settings back (as systemd's reset_terminal_fd):
// not exclusive, unicode keyboard, cooked mode with the usual control
// characters, pending input dropped.
func resetTerminal(fd int) {
	unix.IoctlSetInt(fd, unix.TIOCNXCL, 0)
	const kdskbmode, kUnicode = 0x4B45, 0x03
	unix.IoctlSetInt(fd, kdskbmode, kUnicode)
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.IUCLC
	t.Iflag |= unix.ICRNL | unix.IMAXBEL | unix.IUTF8
	t.Oflag |= unix.ONLCR | unix.OPOST
	t.Cflag |= unix.CREAD
	t.Lflag = unix.ISIG | unix.ICANON | unix.IEXTEN | unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHOCTL | unix.ECHOKE
	for i, c := range map[int]byte{unix.VINTR: 3, unix.VQUIT: 28, unix.VERASE: 127, unix.VKILL: 21, unix.VEOF: 4,
		unix.VSTART: 17, unix.VSTOP: 19, unix.VSUSP: 26, unix.VLNEXT: 22, unix.VWERASE: 23, unix.VREPRINT: 18,
		unix.VEOL: 0, unix.VEOL2: 0, unix.VTIME: 0, unix.VMIN: 1} {
		t.Cc[i] = c
	}
	unix.IoctlSetTermios(fd, unix.TCSETSW, t)
	unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH)
}

// disallocateVT frees a virtual console (/dev/ttyN), or, while something
// still holds it, clears its screen and scrollback.
func disallocateVT(path string, fd int) {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(path), "tty"))
	if err != nil || !strings.HasPrefix(filepath.Base(path), "tty") || n < 1 {
		return
	}
	if vt, err := unix.Open("/dev/tty0", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
		const vtDisallocate = 0x5608
		err = unix.IoctlSetInt(vt, vtDisallocate, n)
		unix.Close(vt)
		if err == nil {
			return
		}
	}
	unix.Write(fd, []byte("\033[r\033[H\033[3J\033c"))
}

// utmp records (utmp(5), x86-64 glibc layout, 384 bytes).
type utmpRecord struct {
	Type    int16
	_       [2]byte
	Pid     int32
	Line    [32]byte
	ID      [4]byte
	User    [32]byte
	Host    [256]byte
	Exit    [2]int16
	Session int32
	Sec     int32
	Usec    int32
	Addr    [4]int32
	_       [20]byte
}

const (
	utmpInit  = 5 // INIT_PROCESS
	utmpLogin = 6 // LOGIN_PROCESS
	utmpUser  = 7 // USER_PROCESS
	utmpDead  = 8 // DEAD_PROCESS
)

// utmp files; variables so tests can point them elsewhere.
var utmpFile, wtmpFile = "/run/utmp", "/var/log/wtmp"

// utmpEntry is what the helper records for UtmpIdentifier=.
type utmpEntry struct {
	ID, Line, Mode, User string
	Utmp, Wtmp           string // the files (utmpFile, wtmpFile when made)
}

func utmpFor(ec *unitfile.ExecContext, cred *credentials) *utmpEntry {
	if ec.UtmpIdentifier == "" {
		return nil
	}
	line := strings.TrimPrefix(ec.TTYPath, "/dev/")
	e := &utmpEntry{ID: ec.UtmpIdentifier, Line: line, Mode: ec.UtmpMode, Utmp: utmpFile, Wtmp: wtmpFile}
	if cred != nil {
		e.User = cred.user
	}
	return e
}

// writeUtmp records pid under the entry's id: INIT_PROCESS (UtmpMode=init,
// the default), LOGIN_PROCESS as "LOGIN", USER_PROCESS as the user; or,
// with dead, DEAD_PROCESS. The utmp slot of the same id is reused; wtmp
// gets every record appended.
func writeUtmp(e *utmpEntry, pid int, dead bool) error {
	var r utmpRecord
	r.Type, r.Pid = utmpInit, int32(pid)
	switch {
	case dead:
		r.Type = utmpDead
	case e.Mode == "login":
		r.Type = utmpLogin
		copy(r.User[:], "LOGIN")
	case e.Mode == "user":
		r.Type = utmpUser
		copy(r.User[:], e.User)
	}
	id := e.ID
	if len(id) > len(r.ID) {
		id = id[len(id)-len(r.ID):] // systemd keeps the terminal characters
	}
	copy(r.ID[:], id)
	copy(r.Line[:], e.Line)
	now := time.Now()
	r.Sec, r.Usec = int32(now.Unix()), int32(now.Nanosecond()/1000)
	r.Session = int32(pid)
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, &r)
	rec := buf.Bytes()

	f, err := os.OpenFile(e.Utmp, os.O_RDWR|os.O_CREATE, 0o664)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLKW, &unix.Flock_t{Type: unix.F_WRLCK}); err != nil {
		return err
	}
	data, err := os.ReadFile(e.Utmp)
	if err != nil {
		return err
	}
	at := int64(len(data) / len(rec) * len(rec))
	for off := 0; off+len(rec) <= len(data); off += len(rec) {
		if bytes.Equal(data[off+40:off+44], r.ID[:]) { // ut_id
			at = int64(off)
			break
		}
	}
	if _, err := f.WriteAt(rec, at); err != nil {
		return err
	}
	if w, err := os.OpenFile(e.Wtmp, os.O_WRONLY|os.O_APPEND, 0); err == nil {
		w.Write(rec)
		w.Close()
	}
	return nil
}

// UtmpDead records the end of a unit's process under its UtmpIdentifier=.
func UtmpDead(ec *unitfile.ExecContext) error {
	if ec.UtmpIdentifier == "" {
		return nil
	}
	return writeUtmp(utmpFor(ec, nil), 0, true)
}
