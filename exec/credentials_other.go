//go:build !linux

package exec

import "syscall"

const syscallNonblock = syscall.O_NONBLOCK

func mountCredentials(dir string) bool { return false }
func remountReadOnly(dir string) error { return nil }
func unmountCredentials(dir string)    {}
