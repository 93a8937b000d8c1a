// Package manager is gosd's pure unit state machine: units, jobs,
// transactions, dependency and ordering rules, restart and timeout policy.
// Step(now, event) returns effects; it makes no syscalls, reads no clock and
// starts no goroutines, so the same events always give the same effects.
package manager
