//go:build linux || darwin

package exec

import "syscall"

// Linux and darwin use an unsigned rlim_t with RLIM_INFINITY all ones, as
// gosd carries limits.
func setRlimit(resource int, l rlim) error {
	return syscall.Setrlimit(resource, &syscall.Rlimit{Cur: l.Soft, Max: l.Hard})
}

func getRlimit(resource int) (rlim, error) {
	var r syscall.Rlimit
	err := syscall.Getrlimit(resource, &r)
	return rlim{r.Cur, r.Max}, err
}
