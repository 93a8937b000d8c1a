//go:build !linux

package boot

// Announce has nothing to do outside Linux: sd_booted(3), /run/systemd
// and /proc/1/comm are Linux conventions.
func Announce(root string, log Logf) error { return nil }
