//go:build freebsd || darwin

package reactor

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// spawnWake is how the loop wakes the spawner's thread (spawnwake_linux.go
// says why not a channel): a pipe whose read end the thread sleeps on.
type spawnWake struct{ r, w int }

func newSpawnWake() (spawnWake, error) {
	var p [2]int
	syscall.ForkLock.RLock() // no child between pipe and close-on-exec
	err := syscall.Pipe(p[:])
	if err == nil {
		syscall.CloseOnExec(p[0])
		syscall.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return spawnWake{}, err
	}
	// A full pipe already holds a wake-up: the loop must never wait here.
	if err := unix.SetNonblock(p[1], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return spawnWake{}, err
	}
	return spawnWake{r: p[0], w: p[1]}, nil
}

func (w spawnWake) signal() { unix.Write(w.w, []byte{1}) }

// wait sleeps until signalled (and takes the signals pending, up to 64).
func (w spawnWake) wait() {
	var buf [64]byte
	for {
		if _, err := unix.Read(w.r, buf[:]); err != unix.EINTR {
			return
		}
	}
}

func (w spawnWake) close() {
	unix.Close(w.r)
	unix.Close(w.w)
}
