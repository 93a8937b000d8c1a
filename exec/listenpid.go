package exec

import "strings"

// LISTEN_PID must be the pid of the process that finally runs the
// service (sd_listen_fds(3) returns nothing otherwise), and only the child
// knows it: the environment is fixed before the fork. So a child with
// passed fds runs a step of its own between the fork and the program.
// Three ways, cheapest first (FINDINGS.md "Spawning"; measured fork to
// exit of /bin/true: about 0.07 ms more for the stub, 0.85 ms for
// /bin/sh, 1.1-1.5 ms for the Go helper):
//
//   - the stub (listenpid_linux*.go): a few dozen instructions in an ELF
//     of its own, kept in a sealed memfd, that write getpid() into the
//     first environment string, "LISTEN_PID=" with room for the digits
//     (listenPIDSlot), and execve the program; linux/amd64;
//   - /bin/sh -c 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"';
//   - the Go helper, which does it along with everything else it applies.

// listenPIDSlot is the environment string the stub fills in: room for any
// pid (PID_MAX_LIMIT is 2^22, seven digits).
const listenPIDSlot = "LISTEN_PID=0000000000"

// listenPIDArgv0 names the stub while it runs (argv[0]).
const listenPIDArgv0 = "gosd-listen-pid"

// withListenPIDSlot is env for the stub: the slot first (where the stub
// looks for it), any LISTEN_PID of the unit's own left out, as the shell
// step's assignment replaces it.
func withListenPIDSlot(env []string) []string {
	out := make([]string, 0, len(env)+1)
	out = append(out, listenPIDSlot)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "LISTEN_PID=") {
			out = append(out, kv)
		}
	}
	return out
}
