//go:build !linux

package boot

import "errors"

// No unmount pass outside Linux: gosd is a jail's init there, and the jail's
// filesystems belong to the host.
func unmountAll(top string, log Logf) {}

func rebootSyscall(a Action) error {
	return errors.New("reboot is not supported on this system")
}

// drainConsole: no console draining outside Linux.
func drainConsole() {}
