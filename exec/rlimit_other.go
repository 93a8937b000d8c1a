//go:build linux || darwin

package exec

import "syscall"

func makeRlimit(soft, hard uint64) syscall.Rlimit { return syscall.Rlimit{Cur: soft, Max: hard} }
