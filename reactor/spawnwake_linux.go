package reactor

import "golang.org/x/sys/unix"

// spawnWake is how the loop wakes the spawner's thread: an eventfd the
// thread sleeps on in read(2). The kernel wakes that very thread; a
// channel receive on a locked goroutine took the Go scheduler two thread
// wake-ups (a spinning M, then the locked one) and 75-400 us on the
// socket-activation path, against 15-50 us for this (one activation's
// marks, loaded host).
type spawnWake struct{ fd int }

func newSpawnWake() (spawnWake, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC) // blocking: the thread sleeps in read
	return spawnWake{fd: fd}, err
}

// signal never blocks: the counter only saturates after 2^64-2 writes.
func (w spawnWake) signal() {
	one := [8]byte{1}
	unix.Write(w.fd, one[:])
}

// wait sleeps until signalled (and takes every signal since the last wait).
func (w spawnWake) wait() {
	var buf [8]byte
	for {
		if _, err := unix.Read(w.fd, buf[:]); err != unix.EINTR {
			return
		}
	}
}

func (w spawnWake) close() { unix.Close(w.fd) }
