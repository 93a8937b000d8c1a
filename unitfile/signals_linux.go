//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !sparc64

package unitfile

// Linux signal numbers of the generic ABI (x86, arm, riscv, ...; signal(7)).
// SIGRTMIN is 34, not the kernel's 32: glibc reserves two real-time signals,
// and systemd numbers SIGRTMIN+n from glibc's SIGRTMIN.
var signalNames = [...]string{
	1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE",
	9: "KILL", 10: "USR1", 11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM",
	16: "STKFLT", 17: "CHLD", 18: "CONT", 19: "STOP", 20: "TSTP", 21: "TTIN", 22: "TTOU",
	23: "URG", 24: "XCPU", 25: "XFSZ", 26: "VTALRM", 27: "PROF", 28: "WINCH", 29: "IO",
	30: "PWR", 31: "SYS",
}

var signalAliases = map[string]int{"IOT": 6, "POLL": 29, "CLD": 17}

const (
	sigRTMin = 34
	sigRTMax = 64
)
