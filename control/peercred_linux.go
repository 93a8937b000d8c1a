package control

import "golang.org/x/sys/unix"

// peerUID reads the connecting process's uid from SO_PEERCRED (the
// credentials at connect time, which the peer cannot forge).
func peerUID(fd int) (uid, pid int, err error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return -1, 0, err
	}
	return int(cred.Uid), int(cred.Pid), nil
}
