// Package exec starts a unit's process exactly as the unit says (argv,
// environment, credentials, directories, limits, stdio, passed fds, session
// placement) and signals it. It never waits for a child: the reactor is the
// one reaper.
//
// Two spawn paths: syscall.ForkExec with SysProcAttr when that covers the
// unit, else gosd's own binary re-exec'd as an in-child helper (argv[0]
// HelperArgv0) that applies LISTEN_PID, umask, rlimits, nice,
// oom_score_adj, the capability bounding set and no_new_privs, then
// execve's the target. main must call RunHelperIfRequested first.
package exec
