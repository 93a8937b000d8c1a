//go:build !linux

package exec

import (
	"errors"
	"gosd/unitfile"
)

type seccompSettings struct {
	Sec     unitfile.ProcessSecurity
	Persona uint32
	Implied impliedFilters
}

func seccompPrograms(s *seccompSettings) ([][]byte, int, error) {
	return nil, exitSeccomp, errors.New("system call filters need Linux seccomp")
}

func currentPersona() uint32 { return 0 }

func execFiltered(path string, argv, env []string, progs [][]byte) (int, error) {
	return exitSeccomp, errors.New("system call filters need Linux seccomp")
}
