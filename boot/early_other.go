//go:build !linux

package boot

// EarlyBoot has nothing to do outside Linux: a FreeBSD jail gets its
// filesystems, hostname and network from jail(8).
func EarlyBoot(log Logf) error {
	log.printf("boot: no early-boot steps on this system")
	return nil
}
