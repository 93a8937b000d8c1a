//go:build (!linux && !freebsd && !darwin) || (linux && (mips || mipsle || mips64 || mips64le || sparc64))

package unitfile

// Other systems (and Linux ABIs with their own numbering): only the
// signals whose numbers POSIX fixes, so nothing is guessed wrong.
var signalNames = [...]string{
	1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 8: "FPE", 9: "KILL",
	11: "SEGV", 13: "PIPE", 14: "ALRM", 15: "TERM",
}

var signalAliases = map[string]int{"IOT": 6}

const (
	sigRTMin = 0
	sigRTMax = 0
)
