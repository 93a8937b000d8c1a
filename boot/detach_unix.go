//go:build linux || freebsd

package boot

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// detachEnv tells the re-executed child which fd leads to its parent.
const detachEnv = "GOSD_DETACH_NOTIFY_FD"

// detach is DetachForJail's mechanism; acquire makes the child the reaper
// of its descendants. Go cannot fork without exec, so the "fork" is a
// re-exec of our own binary with the same arguments and the write end of a
// pipe at fd 3. The parent blocks reading the pipe: one byte means the
// child reached its target, and the parent exits 0 so jail(8)'s exec.start
// returns; EOF without it means the child died first, and the parent exits
// 1 so jail(8) reports the failure. The parent waits as long as the child
// takes: jail(8)'s exec.timeout is the bound, as for any exec.start.
func detach(acquire func() error) (isChild bool, notifyParent func(), err error) {
	if v, ok := os.LookupEnv(detachEnv); ok {
		return detachChild(v, acquire)
	}
	exe, err := os.Executable()
	if err != nil {
		return false, nil, fmt.Errorf("detach: %w", err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return false, nil, fmt.Errorf("detach: %w", err)
	}
	r, w := os.NewFile(uintptr(p[0]), "detach-r"), os.NewFile(uintptr(p[1]), "detach-w")
	proc, err := os.StartProcess(exe, os.Args, &os.ProcAttr{
		Env:   append(os.Environ(), detachEnv+"=3"),
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr, w},
		// Its own session: jail(8)'s session ends when exec.start returns.
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	w.Close()
	if err != nil {
		r.Close()
		return false, nil, fmt.Errorf("detach: %w", err)
	}
	// The parent only waits: jail(8) may end it (exec.timeout) with any
	// signal gosd's main caught for the reactor it will never run.
	signal.Reset()
	var b [1]byte
	n, _ := r.Read(b[:])
	if n == 1 {
		os.Exit(0)
	}
	// The parent never runs a reactor, so waiting here steals no status.
	st, werr := proc.Wait()
	fmt.Fprintf(os.Stderr, "gosd: supervisor exited before reaching its target: %v%v\n", st, werr)
	os.Exit(1)
	return false, nil, nil // not reached
}

func detachChild(v string, acquire func() error) (bool, func(), error) {
	os.Unsetenv(detachEnv) // services must not inherit it
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return true, func() {}, fmt.Errorf("detach: bad %s=%q", detachEnv, v)
	}
	// Inherited without close-on-exec; no service may hold it open, or
	// the parent would see no EOF if we died.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		return true, func() {}, fmt.Errorf("detach: notify fd %d: %w", fd, err)
	}
	// jail(8) may close what exec.start's output went to once the parent
	// returned: a write to a broken stdout or stderr must not end the
	// supervisor (Go exits on SIGPIPE for fds 1 and 2 unless it is
	// notified; a caught signal is reset at exec, so services keep theirs).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	var errs []error
	if err := acquire(); err != nil {
		errs = append(errs, fmt.Errorf("detach: becoming the reaper: %w", err))
	}
	var once sync.Once
	notify := func() {
		once.Do(func() {
			unix.Write(fd, []byte{'R'})
			unix.Close(fd)
		})
	}
	return true, notify, errors.Join(errs...)
}
