package sockets

import (
	"strconv"
	"strings"
)

// ListenEnv returns the fd-passing environment for fds passed at 3, 4, ...
// (sd_listen_fds(3)): LISTEN_FDS=<n> and LISTEN_FDNAMES=<names joined by
// ':'>. It returns nil for no fds. LISTEN_PID is not included: it must be
// the child's own pid, which only the exec layer knows after fork, and
// sd_listen_fds(3) ignores the other two variables without it.
func ListenEnv(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	return []string{
		"LISTEN_FDS=" + strconv.Itoa(len(names)),
		"LISTEN_FDNAMES=" + strings.Join(names, ":"),
	}
}
