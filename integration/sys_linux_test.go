package integration

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Linux's names the tests use; sys_other_test.go gives the package the
// same names elsewhere so it still compiles (FreeBSD vet and test builds).
const (
	ioctlInQueue = unix.TIOCINQ // bytes waiting in a pipe or socket
	sigSTKFLT    = syscall.SIGSTKFLT
)
