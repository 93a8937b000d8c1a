package exec

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"gosd/unitfile"
)

// stdio opens fds 0, 1, 2 for the child as StandardInput=, StandardOutput=
// and StandardError= say (systemd.exec(5) "LOGGING AND STANDARD INPUT/OUTPUT").
// The returned files are the parent's copies, closed after the fork.
func stdio(spec Spec, ec *unitfile.ExecContext) ([]uintptr, []*os.File, error) {
	var opened []*os.File
	open := func(path string, flag int) (uintptr, error) {
		// Opened here, on the spawning reactor thread (systemd opens them in
		// the child): non-blocking, so a FIFO put at the path (a file in
		// /tmp is anyone's) cannot hang PID1 until a peer opens it. A FIFO
		// for writing without a reader fails (ENXIO); one for reading opens
		// at once. The child gets the fd in blocking mode.
		f, err := os.OpenFile(path, flag|syscall.O_CLOEXEC|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0o644)
		if errors.Is(err, syscall.ENXIO) {
			return 0, fmt.Errorf("%s: a FIFO nobody reads", path)
		}
		if err != nil {
			return 0, err
		}
		opened = append(opened, f)
		fd := f.Fd()
		if err := syscall.SetNonblock(int(fd), false); err != nil {
			return 0, err
		}
		return fd, nil
	}
	devNull := func(flag int) (uintptr, error) {
		if fd, err := nullFD(flag); err == nil {
			return fd, nil
		}
		return open(os.DevNull, flag)
	}
	ttyPath := ec.TTYPath
	if ttyPath == "" {
		ttyPath = "/dev/console"
	}

	// stdin
	var in uintptr
	var err error
	switch k := ec.StandardInput.Kind; {
	case k == "" || k == "null":
		in, err = devNull(os.O_RDONLY)
	case k == "tty" || strings.HasPrefix(k, "tty-"):
		in, err = open(ttyPath, os.O_RDWR)
	case k == "socket":
		if spec.Conn < 0 {
			err = fmt.Errorf("StandardInput=socket without a connection")
		}
		in = uintptr(spec.Conn)
	case k == "file":
		in, err = open(ec.StandardInput.Path, os.O_RDONLY)
	case k == "data":
		in, err = dataFile(ec.StandardInputData, &opened)
	default:
		err = fmt.Errorf("StandardInput=%s is not supported", k)
	}
	if err != nil {
		return nil, opened, &ExitError{Status: exitStdin, Err: err}
	}

	output := func(s unitfile.Stdio, pipe int, def string) (uintptr, error) {
		k := s.Kind
		if k == "" {
			k = def
		}
		switch {
		case k == "null":
			return devNull(os.O_WRONLY)
		case k == "inherit":
			return 0, nil // resolved by the caller
		case k == "tty" || k == "console":
			return open(ttyPath, os.O_WRONLY)
		case k == "socket":
			if spec.Conn < 0 {
				return 0, fmt.Errorf("StandardOutput=socket without a connection")
			}
			return uintptr(spec.Conn), nil
		case k == "file":
			return open(s.Path, os.O_WRONLY|os.O_CREATE)
		case k == "append":
			return open(s.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND)
		case k == "truncate":
			return open(s.Path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		case strings.HasPrefix(k, "journal") || strings.HasPrefix(k, "syslog") || strings.HasPrefix(k, "kmsg"):
			if pipe < 0 {
				return devNull(os.O_WRONLY)
			}
			return uintptr(pipe), nil
		}
		return 0, fmt.Errorf("output %s is not supported", k)
	}
	out, err := output(ec.StandardOutput, spec.Stdout, "journal")
	if err != nil {
		return nil, opened, &ExitError{Status: exitStdout, Err: err}
	}
	if k := ec.StandardOutput.Kind; k == "inherit" {
		// StandardOutput=inherit duplicates standard input.
		out = in
	}
	errFD, err := output(ec.StandardError, spec.Stderr, "inherit")
	if err != nil {
		return nil, opened, &ExitError{Status: exitStdout, Err: err}
	}
	if k := ec.StandardError.Kind; k == "" || k == "inherit" {
		// StandardError=inherit (the default) duplicates standard output.
		errFD = out
	}
	return []uintptr{in, out, errFD}, opened, nil
}

// dataFile holds StandardInputText=/StandardInputData= in an unlinked file,
// so a large text cannot block the spawn the way a pipe would.
func dataFile(data []byte, opened *[]*os.File) (uintptr, error) {
	f, err := os.CreateTemp("", "gosd-stdin-")
	if err != nil {
		return 0, err
	}
	*opened = append(*opened, f)
	os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		return 0, err
	}
	if _, err := f.Seek(0, 0); err != nil {
		return 0, err
	}
	return f.Fd(), nil
}

// nullFDs are /dev/null opened once for reading and once for writing
// (close-on-exec, never closed): the default stdin of every service, and
// the output of StandardOutput=null, no longer cost an open and a close
// per spawn. Opened on first use, so PID1 can mount /dev first.
var nullFDs struct {
	sync.Mutex
	rd, wr int // 0: not open yet
}

// OpenNullFDs opens the shared /dev/null fds now rather than on first
// use. A caller about to fork from a thread with a copy of the fd table
// (the reactor's fork thread) calls it first, so that the copy holds them
// at the same numbers; it must not use that thread when this fails.
func OpenNullFDs() error {
	if _, err := nullFD(os.O_RDONLY); err != nil {
		return err
	}
	_, err := nullFD(os.O_WRONLY)
	return err
}

func nullFD(flag int) (uintptr, error) {
	nullFDs.Lock()
	defer nullFDs.Unlock()
	p := &nullFDs.rd
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		p = &nullFDs.wr
		flag = os.O_WRONLY
	}
	if *p <= 2 { // never keep one of the standard fds
		fd, err := syscall.Open(os.DevNull, flag|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
		if err != nil {
			return 0, err
		}
		if fd <= 2 {
			syscall.Close(fd)
			return 0, fmt.Errorf("/dev/null opened as fd %d", fd)
		}
		*p = fd
	}
	return uintptr(*p), nil
}
