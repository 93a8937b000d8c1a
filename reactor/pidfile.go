package reactor

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A PID file is named by the unit and written by its (often unprivileged)
// daemon, and read on the reactor thread: nothing in it may block, bloat
// or steer PID1 (issue 18). So, as systemd reads one
// (systemd.service(5) PIDFile=):
//   - the path is followed one component at a time without following
//     links implicitly; every step must be a safe transition (from a
//     root-owned node anywhere, from another node only to one of the same
//     owner: systemd's CHASE_SAFE). An unsafe path is still read, but its
//     pid is not trusted;
//   - only a regular file is opened, never a FIFO, device or socket (a
//     FIFO would block the open, /dev/zero would never end), and it is
//     opened non-blocking, without acquiring a terminal;
//   - at most one short line is read;
//   - a pid outside the unit is taken only from a trusted file: owned by
//     root and reached through safe transitions (the manager decides).

// maxPIDFileLine bounds what is read of a PID file: one line with a pid.
const maxPIDFileLine = 64

// maxPIDFileLinks bounds the symbolic links followed (systemd: 32).
const maxPIDFileLinks = 32

// readPIDFile reads the pid in path. trusted: the file is owned by root
// and was reached through safe transitions only.
func readPIDFile(path string) (pid int, trusted bool, err error) {
	fd, trusted, err := openPIDFile(path)
	if err != nil {
		return 0, false, err
	}
	defer unix.Close(fd)
	buf := make([]byte, maxPIDFileLine+1)
	n := 0
	for n < len(buf) {
		k, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("PID file %s: %w", path, err)
		}
		if k == 0 {
			break
		}
		n += k
	}
	line := buf[:n]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	} else if n > maxPIDFileLine {
		return 0, false, fmt.Errorf("PID file %s: first line longer than %d bytes", path, maxPIDFileLine)
	}
	text := strings.TrimSpace(string(line))
	pid, err = strconv.Atoi(text)
	if err != nil || pid <= 0 {
		return 0, false, fmt.Errorf("PID file %s: no valid pid in %q", path, text)
	}
	return pid, trusted, nil
}

// unsafeTransition is systemd's rule for following a path: from a node
// owned by root anything may follow; otherwise only a node of the same
// owner (a user's link or directory must not lead to root's or another
// user's file).
func unsafeTransition(from, to *unix.Stat_t) bool {
	return from.Uid != 0 && from.Uid != to.Uid
}

// openPIDFile opens the regular file at path for reading, following the
// path itself (see the comment at the top of this file).
func openPIDFile(path string) (fd int, trusted bool, err error) {
	fail := func(e error) (int, bool, error) {
		return -1, false, &pathError{path: path, err: e}
	}
	if !strings.HasPrefix(path, "/") {
		return fail(errors.New("not an absolute path"))
	}
	dir, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	defer func() { unix.Close(dir) }()
	var prev unix.Stat_t
	if err := unix.Fstat(dir, &prev); err != nil {
		return fail(err)
	}
	unsafe := false
	links := 0
	rest := strings.Split(path, "/")
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		if name == "" || name == "." {
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fail(err)
		}
		if unsafeTransition(&prev, &st) {
			unsafe = true
		}
		switch uint32(st.Mode) & unix.S_IFMT {
		case unix.S_IFLNK:
			if links++; links > maxPIDFileLinks {
				return fail(unix.ELOOP)
			}
			target, err := readLinkAt(dir, name)
			if err != nil {
				return fail(err)
			}
			prev = st // the link's owner decides what it may lead to
			if strings.HasPrefix(target, "/") {
				root, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
				if err != nil {
					return fail(err)
				}
				unix.Close(dir)
				dir = root
				var rst unix.Stat_t
				if err := unix.Fstat(dir, &rst); err != nil {
					return fail(err)
				}
				if unsafeTransition(&prev, &rst) {
					unsafe = true
				}
				prev = rst
			}
			rest = append(strings.Split(target, "/"), rest...)
		case unix.S_IFDIR:
			next, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
			if err != nil {
				return fail(err)
			}
			unix.Close(dir)
			dir = next
			if err := sameNode(dir, &st); err != nil {
				return fail(err)
			}
			prev = st
		case unix.S_IFREG:
			if !onlyDots(rest) {
				return fail(unix.ENOTDIR)
			}
			f, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return fail(err)
			}
			if err := sameNode(f, &st); err != nil {
				unix.Close(f)
				return fail(err)
			}
			return f, !unsafe && st.Uid == 0, nil
		default:
			// Never opened: a FIFO would block, a device never end.
			return fail(errors.New("not a regular file"))
		}
	}
	return fail(errors.New("is a directory"))
}

// sameNode checks that fd is still the regular file or directory st
// described (the entry may have been replaced since it was looked at).
func sameNode(fd int, st *unix.Stat_t) error {
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil {
		return err
	}
	if now.Dev != st.Dev || now.Ino != st.Ino || uint32(now.Mode)&unix.S_IFMT != uint32(st.Mode)&unix.S_IFMT {
		return errors.New("changed while it was opened")
	}
	return nil
}

func onlyDots(rest []string) bool {
	for _, c := range rest {
		if c != "" && c != "." {
			return false
		}
	}
	return true
}

// readLinkAt reads a symbolic link's target, bounded to PATH_MAX.
func readLinkAt(dir int, name string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return "", err
	}
	if n >= len(buf) {
		return "", unix.ENAMETOOLONG
	}
	if n == 0 {
		return "", unix.ENOENT
	}
	return string(buf[:n]), nil
}

type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return "PID file " + e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }
