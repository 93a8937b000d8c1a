//go:build gosd_pprof

package main

// A CPU profile for performance work, only in a build with
// `-tags gosd_pprof` (runtime/pprof would add to the static binary):
// GOSD_CPUPROFILE=FILE writes the profile of the whole run to FILE when
// gosd exits normally (SIGTERM included).

import (
	"os"
	"runtime/pprof"
)

func init() {
	path := os.Getenv("GOSD_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		return
	}
	if pprof.StartCPUProfile(f) != nil {
		f.Close()
		return
	}
	stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
}
