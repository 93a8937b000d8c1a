//go:build linux && !amd64

package main

import (
	"errors"
	"os/exec"
)

// The recorder reads x86-64 registers; elsewhere the hardened floor row is
// skipped.

type recording struct {
	unknown map[string]int
	calls   []struct{}
}

func recordHelper(self string, env []string) (*recording, error) {
	return nil, errors.New("the recorder reads x86-64 registers only")
}

type sysCall struct{}

func floorSource(*recording) (string, []sysCall) { return "", nil }

func floorSummary(*recording, []sysCall) []string { return nil }

func buildC(dir, name, src string) (string, error) {
	_, err := exec.LookPath("gcc")
	return "", errors.Join(err, errors.New("the hardened floor is x86-64 only"))
}
