package control

import "golang.org/x/sys/unix"

// peerUID reads the connecting process's effective uid from
// LOCAL_PEERCRED (FreeBSD's SO_PEERCRED).
func peerUID(fd int) (uid, pid int, err error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return -1, 0, err
	}
	return int(cred.Uid), 0, nil
}
