//go:build linux && !amd64

package exec

// No stub for this machine yet: the shell step sets LISTEN_PID.
var listenPIDCode []byte

const listenPIDMachine = 0
