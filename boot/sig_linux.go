package boot

import "syscall"

const (
	sigRTMIN = syscall.Signal(34)
	sigPWR   = syscall.SIGPWR
)
