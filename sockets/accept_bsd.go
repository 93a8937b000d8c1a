//go:build freebsd || darwin

package sockets

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// accept returns a blocking, close-on-exec connection. darwin has no
// accept4: ForkLock keeps a concurrent fork from inheriting it meanwhile.
// Accepted sockets inherit O_NONBLOCK from the listener on BSDs, so it is
// cleared explicitly.
func accept(fd int) (int, error) {
	syscall.ForkLock.RLock()
	conn, _, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(conn)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(conn, false); err != nil {
		unix.Close(conn)
		return -1, err
	}
	return conn, nil
}

// peerCred: LOCAL_PEERCRED gives the uid but, in x/sys's xucred, no pid;
// report "unknown" as systemd does without credentials.
func peerCred(conn int) (pid, uid int, ok bool) { return 0, 0, false }

func vsockInstance(conn int, local unix.Sockaddr, nr uint64) (string, bool) { return "", false }
