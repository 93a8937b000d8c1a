package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// bootGC raises the collector's percent for the boot and puts back what
// was there; a GOGC of the environment is left alone.
func TestBootGC(t *testing.T) {
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	end := bootGC()
	if got := debug.SetGCPercent(bootGCPercent); got != bootGCPercent {
		t.Errorf("during the boot: GOGC %d, want %d", got, bootGCPercent)
	}
	end()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after the boot: GOGC %d, want 100", got)
	}

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	end = bootGC()
	if got := debug.SetGCPercent(50); got != 50 {
		t.Errorf("GOGC=50 in the environment: %d during the boot", got)
	}
	end()
}
