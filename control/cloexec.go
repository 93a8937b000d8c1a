//go:build linux || freebsd

package control

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// markPollerFdsCloexec sets FD_CLOEXEC on every epoll and eventfd fd of
// the process. netpoll creates its poller's epoll fd and wake-up eventfd
// without it, so every service gosd spawns would inherit them. Other
// owners of such fds (the Go runtime, the reactor) want close-on-exec too,
// so marking all of them is safe. On FreeBSD there is usually no
// /proc/self/fd, and nothing to do: kqueue fds are not inherited by fork.
func markPollerFdsCloexec() error {
	dir := "/proc/self/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		target, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue // the ReadDir fd itself, closed by now
		}
		if target == "anon_inode:[eventpoll]" || target == "anon_inode:[eventfd]" {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
				return err
			}
		}
	}
	return nil
}
