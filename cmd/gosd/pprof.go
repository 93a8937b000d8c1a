//go:build gosd_pprof

package main

// A CPU profile for performance work, only in a build with
// `-tags gosd_pprof` (runtime/pprof would add to the static binary):
// GOSD_CPUPROFILE=FILE writes the profile of the whole run to FILE when
// gosd exits normally (SIGTERM included). As PID1 gosd never exits, so
// GOSD_CPUPROFILE_FOR=DURATION ends the profile after that long instead;
// the profile is written to FILE.tmp and renamed to FILE when complete.

import (
	"os"
	"runtime/pprof"
	"sync"
	"time"
)

func init() {
	path := os.Getenv("GOSD_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return
	}
	if pprof.StartCPUProfile(f) != nil {
		f.Close()
		return
	}
	var once sync.Once
	stopProfile = func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
			os.Rename(path+".tmp", path)
		})
	}
	if d, err := time.ParseDuration(os.Getenv("GOSD_CPUPROFILE_FOR")); err == nil {
		time.AfterFunc(d, stopProfile)
	}
}
