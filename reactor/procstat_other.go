//go:build !linux

package reactor

import "golang.org/x/sys/unix"

// readProcStat asks the kernel for a process's group and session; the
// parent and zombie state are not known here (no procfs), so ancestry is
// not walked.
func readProcStat(pid int) (procStat, bool) {
	if err := unix.Kill(pid, 0); err == unix.ESRCH {
		return procStat{}, false
	}
	pgrp, err := unix.Getpgid(pid)
	if err != nil {
		return procStat{}, false
	}
	sid, err := unix.Getsid(pid)
	if err != nil {
		return procStat{}, false
	}
	return procStat{pgrp: pgrp, session: sid}, true
}
