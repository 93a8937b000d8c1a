//go:build freebsd || darwin

package reactor

// No cheap notice of wall-clock changes here (see clock.go).
func openClockWatch() int         { return -1 }
func rearmClockWatch(fd int) bool { return false }
