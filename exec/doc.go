// Package exec starts a unit's process exactly as the unit says (argv,
// environment, credentials, directories, limits, stdio, passed fds, session
// and cgroup placement) and signals it. It never waits for a child: the
// reactor is the one reaper.
package exec
