package boot

import "golang.org/x/sys/unix"

// InContainer reports whether gosd runs inside a jail
// (security.jail.jailed), where there is no machine to reboot.
func InContainer() bool {
	v, err := unix.SysctlUint32("security.jail.jailed")
	return err == nil && v != 0
}
