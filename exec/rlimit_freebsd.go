package exec

import "syscall"

// FreeBSD's rlim_t is signed and its RLIM_INFINITY is the largest value
// (1<<63 - 1); setrlimit(2) also takes a negative value as infinity.
const freebsdRlimInfinity = 1<<63 - 1

func toFreeBSD(v uint64) int64 {
	if v >= freebsdRlimInfinity {
		return freebsdRlimInfinity
	}
	return int64(v)
}

func fromFreeBSD(v int64) uint64 {
	if v < 0 || v >= freebsdRlimInfinity {
		return rlimInfinity
	}
	return uint64(v)
}

func setRlimit(resource int, l rlim) error {
	return syscall.Setrlimit(resource, &syscall.Rlimit{Cur: toFreeBSD(l.Soft), Max: toFreeBSD(l.Hard)})
}

func getRlimit(resource int) (rlim, error) {
	var r syscall.Rlimit
	err := syscall.Getrlimit(resource, &r)
	return rlim{fromFreeBSD(r.Cur), fromFreeBSD(r.Max)}, err
}
