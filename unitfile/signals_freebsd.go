//go:build freebsd

package unitfile

// FreeBSD adds SIGTHR and SIGLIBRT and real-time signals 65..126
// (<sys/signal.h>).
const (
	signal32 = "THR"
	signal33 = "LIBRT"
	sigRTMin = 65
	sigRTMax = 126
)
