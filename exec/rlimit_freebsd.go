package exec

import "syscall"

func makeRlimit(soft, hard uint64) syscall.Rlimit {
	return syscall.Rlimit{Cur: clampRlim(soft), Max: clampRlim(hard)}
}

// clampRlim maps RLIM_INFINITY (all ones) to FreeBSD's signed infinity (-1).
func clampRlim(v uint64) int64 { return int64(v) }
