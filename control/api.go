package control

import (
	"gosd/manager"
	"gosd/unitfile"
)

// Backend is what the control server needs from the running manager. The
// reactor implements it. Every method is called ON THE REACTOR GOROUTINE
// (the server hands each request over with Submit), so implementations need
// no locking; none of them may block.
type Backend interface {
	// Submit runs fn on the reactor goroutine (safe to call from any goroutine).
	Submit(fn func())

	// List returns every loaded unit's status.
	List() []manager.UnitStatus
	// Status returns one unit's status (ok=false if the manager has never
	// heard of it and it cannot be loaded).
	Status(name string) (manager.UnitStatus, bool)
	// Unit returns the unit definition (never nil; LoadState says if missing).
	Unit(name string) *unitfile.Unit
	// Logs returns up to n of the last captured output lines of a unit
	// (n <= 0: all kept).
	Logs(name string, n int) []string
	// FollowLogs calls fn for every new line of unit ("" = every unit) until
	// cancel is called.
	FollowLogs(name string, fn func(unit, line string)) (cancel func())
	// Enqueue submits a job. done (may be nil) is called on the reactor
	// goroutine when the job finishes.
	Enqueue(unit string, kind manager.JobKind, mode manager.JobMode, done func(manager.JobResult))
	// Kill signals a unit's processes (whom: "main", "control", "all").
	Kill(unit string, whom string, signal int) error
	// ResetFailed clears the failed state of a unit ("" = all).
	ResetFailed(unit string)
	// Reload re-reads unit files (daemon-reload).
	Reload() error
	// PowerOff asks for an orderly shutdown: action is poweroff, reboot,
	// halt or exit.
	PowerOff(action string)
	// UnitPaths is the unit search path in use (enable/disable links).
	UnitPaths() []string
}
