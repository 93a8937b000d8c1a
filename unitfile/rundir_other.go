//go:build !linux

package unitfile

// RunDir is the base of runtime state: FreeBSD (and darwin) have no /run,
// their runtime state lives in /var/run (hier(7)).
const RunDir = "/var/run"
