package reactor

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The clock watch is armed and quiet until the wall clock is set (setting
// it here would disturb the machine: the ECANCELED path is not run).
func TestClockWatchArmed(t *testing.T) {
	fd := openClockWatch()
	if fd < 0 {
		t.Fatal("no timerfd with TFD_TIMER_CANCEL_ON_SET")
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 50); err != nil || n != 0 {
		t.Fatalf("clock watch readable without a clock change: n=%d err=%v", n, err)
	}
	if !rearmClockWatch(fd) {
		t.Fatal("re-arm failed")
	}
}
