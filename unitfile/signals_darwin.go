//go:build darwin

package unitfile

// macOS has only signals 1..31 and no real-time signals.
const (
	signal32 = ""
	signal33 = ""
	sigRTMin = 0
	sigRTMax = 0
)
