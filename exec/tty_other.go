//go:build !linux

package exec

import (
	"errors"

	"gosd/unitfile"
)

type utmpEntry struct{ ID, Line, Mode, User string }

func utmpFor(ec *unitfile.ExecContext, cred *credentials) *utmpEntry { return nil }

func writeUtmp(e *utmpEntry, pid int, dead bool) error { return nil }

// UtmpDead is Linux's.
func UtmpDead(ec *unitfile.ExecContext) error { return nil }

// ResetTTY: the TTY settings are Linux's.
func ResetTTY(ec *unitfile.ExecContext) error {
	if ec.TTYReset || ec.TTYVHangup || ec.TTYVTDisallocate || ec.UtmpIdentifier != "" {
		return errors.New("TTYReset=, TTYVHangup=, TTYVTDisallocate= and UtmpIdentifier= are Linux's")
	}
	return nil
}
