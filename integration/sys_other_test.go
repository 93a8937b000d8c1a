//go:build !linux

package integration

import "syscall"

// FreeBSD's FIONREAD; there is no SIGSTKFLT (0 is "no signal").
const (
	ioctlInQueue = 0x4004667f
	sigSTKFLT    = syscall.Signal(0)
)
