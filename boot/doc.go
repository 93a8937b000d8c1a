// Package boot holds the duties of PID1 that lie outside the unit state
// machine: the early-boot steps a kernel leaves to init (API filesystems,
// console stdio, hostname, loopback, machine id), reading the kernel command
// line, knowing whether gosd is the init of a whole machine or of a
// container, the signal table systemd defines for PID1, and the final
// shutdown after the manager has stopped every unit (kill what is left,
// reap, sync, unmount, reboot(2) or exit).
//
// Every step logs through the caller's Logf and goes on after a failure:
// PID1 must never die and never hang, and a half-booted machine that still
// reaches its target is worth more than a clean error. Functions that end
// the process (FinalShutdown) never return.
//
// On FreeBSD gosd runs as the init of a jail, which has no PID1 of its own:
// DetachForJail forks so that jail(8) sees exec.start finish while the child
// supervises (Detach, the same on Linux with a child subreaper, is
// gosd --detach). See docs/pid1.md and docs/jail.md.
package boot

// Logf is how boot reports progress and failures; the manager passes its
// own logger. A nil Logf discards.
type Logf func(format string, args ...any)

func (l Logf) printf(format string, args ...any) {
	if l != nil {
		l(format, args...)
	}
}
