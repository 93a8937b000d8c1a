// Package manager is gosd's pure unit state machine: units, jobs,
// transactions, dependency and ordering rules, restart and timeout policy.
// Step(now, event) returns effects; it makes no syscalls, reads no clock and
// starts no goroutines, so the same events always give the same effects.
//
// Where things live:
//
//   - api.go: the events and effects, the contract with the reactor.
//   - manager.go: units, their relations (u.deps, indexed by kind, each
//     kind with its inverse), loading, setState.
//   - state.go: the generic active states and the sub-states (enums;
//     strings only in UnitStatus, UnitChanged, Saved and the log).
//   - job.go: jobs and transactions, what a state change does to jobs and
//     dependents.
//   - unittype.go: unitVTable, the interface every unit type implements
//     (as systemd's UnitVTable: start, stop, reload, its deadlines and
//     processes, its table from sub-states to active states, save and
//     restore for daemon-reexec), and unitTypes, the table of types.
//   - one file per type, each registered in unitTypes: service.go (with
//     busname.go), socket.go, timer.go, path.go, mount.go, swap.go,
//     automount.go, slice.go, device.go, target.go (and plainUnit for
//     types gosd does not run: scope, and units without a file).
//   - gone.go: units whose file went away, and panics; reexec.go:
//     daemon-reexec.
//
// Adding a unit type is one new file here that implements unitVTable
// (embedding baseType for the hooks it does not need) and one line in
// unitTypes, plus, in the reactor, the hooks that carry out its effects
// and turn what it watches into events.
package manager
