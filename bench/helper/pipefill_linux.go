package main

import "syscall"

// pipeFill is the number of unread bytes in the pipe on fd (FIONREAD), or -1.
func pipeFill(fd int) int {
	var n int32
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCINQ, uintptrOf(&n))
	if e != 0 {
		return -1
	}
	return int(n)
}
