//go:build !linux

package main

// liftFileLimit: the BSDs start a process with kern.maxfilesperproc as
// its limit already.
func liftFileLimit(args []string) {}
