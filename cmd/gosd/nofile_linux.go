package main

import (
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// liftFileLimit gives PID1 a hard open-file limit of 524288 and its
// services systemd's DefaultLimitNOFILE=1024:524288. gosd holds several
// fds per running unit (pidfd, cgroup directory and events files, output
// pipes), and the kernel's 1024/4096 for PID1 runs out at about 800
// units. The limit is set to 1024 soft with the hard one raised, and gosd
// executes itself again: Go's start-up then raises its own soft limit and
// keeps 1024:524288 as the one each child gets back (syscall's saved
// original, which a later Setrlimit or prlimit would make Go drop,
// handing children gosd's own limit). So gosd's own hard limit is the
// services' one: systemd raises its own to fs.nr_open (1048576), which
// matters only past ~100000 units, while a service's `ulimit -Hn` is what
// programs see. Without the privilege (a container) or once raised (the
// second start, a daemon-reexec) nothing changes. It returns only when it
// does not re-execute.
func liftFileLimit(args []string) {
	const want = 524288 // systemd's DefaultLimitNOFILE= hard limit
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil || lim.Max >= want {
		return
	}
	exe := args[0]
	if !strings.Contains(exe, "/") {
		exe = "/proc/self/exe"
	}
	if _, err := os.Stat(exe); err != nil {
		return
	}
	if unix.Prlimit(0, unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 1024, Max: want}, nil) != nil {
		return
	}
	syscall.Exec(exe, args, os.Environ())
	// The exec failed: gosd goes on with the raised hard limit, its own
	// soft one up to it; children then get gosd's.
	unix.Prlimit(0, unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: want, Max: want}, nil)
}
