//go:build !linux && !freebsd

package boot

import "syscall"

// No SIGPWR and no real-time signals (darwin).
const (
	sigRTMIN = syscall.Signal(0)
	sigPWR   = syscall.Signal(0)
)
