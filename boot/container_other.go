//go:build !linux && !freebsd

package boot

// InContainer is false where gosd has no container mode (darwin): gosd is
// never a machine's init there either, and FinalShutdown only exits.
func InContainer() bool { return false }
