package exec

// CapabilityNumber is the number of a Linux capability named as in
// capabilities(7) ("CAP_SYS_ADMIN", any case); ok is false for a name
// gosd does not know.
func CapabilityNumber(name string) (n int, ok bool) {
	n, err := capabilityNumber(name)
	return n, err == nil
}
