//go:build linux && (amd64 || arm64)

package unitfile

import (
	"syscall"
	"testing"
)

func TestParseSignalLinux(t *testing.T) {
	good := map[string]int{
		"SIGTERM": int(syscall.SIGTERM), "TERM": int(syscall.SIGTERM), "15": 15,
		"SIGKILL": int(syscall.SIGKILL), "SIGHUP": 1, "SIGUSR1": int(syscall.SIGUSR1),
		"SIGCHLD": int(syscall.SIGCHLD), "SIGWINCH": int(syscall.SIGWINCH), "SIGPWR": int(syscall.SIGPWR),
		"SIGIOT": 6, "SIGRTMIN": 34, "SIGRTMIN+3": 37, "RTMIN+0": 34, "SIGRTMAX": 64,
		"SIGRTMAX-1": 63, "64": 64, " SIGINT ": 2,
	}
	for in, want := range good {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "65", "-1", "SIGFOO", "sigterm", "SIGRTMIN+31", "SIGRTMAX+1", "SIGRTMIN-1", "SIG"} {
		if got, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) = %d, want error", in, got)
		}
	}
	names := map[int]string{15: "SIGTERM", 9: "SIGKILL", 10: "SIGUSR1", 34: "SIGRTMIN", 37: "SIGRTMIN+3", 64: "SIGRTMIN+30", 99: "99"}
	for n, want := range names {
		if got := SignalName(n); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", n, got, want)
		}
	}
	// Every named signal round-trips, and the number is the kernel's.
	for n := 1; n <= 64; n++ {
		if back, err := ParseSignal(SignalName(n)); err != nil || back != n {
			t.Errorf("round trip of %d via %q: %d, %v", n, SignalName(n), back, err)
		}
	}
	for n, name := range signalNames {
		if name != "" && syscall.Signal(n).String() == "" {
			t.Errorf("signal %d (%s) unknown to the kernel tables", n, name)
		}
	}
}
