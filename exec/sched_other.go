//go:build !linux

package exec

import (
	"errors"

	"gosd/unitfile"
)

type schedSettings struct{}

func schedFrom(sec *unitfile.ProcessSecurity) *schedSettings {
	if !sec.ProcessSettings() {
		return nil
	}
	return &schedSettings{}
}

func applySched(s *schedSettings) (int, error) {
	if s == nil {
		return 0, nil
	}
	return exitSetScheduler, errors.New("CPUAffinity=, IOSchedulingClass= and CPUSchedulingPolicy= are Linux's")
}

func applyPersonality(s *schedSettings) (int, error) { return 0, nil }
func applySecureBits(s *schedSettings) (int, error)  { return 0, nil }
