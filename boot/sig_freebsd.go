package boot

import "syscall"

// FreeBSD has no SIGPWR; its real-time signals start at 65.
const (
	sigRTMIN = syscall.Signal(65)
	sigPWR   = syscall.Signal(0)
)
