package boot

import (
	"os"
	"runtime"
	"syscall"
	"testing"
)

func TestActionForSignal(t *testing.T) {
	rt := func(n int) syscall.Signal { return syscall.Signal(int(SIGRTMIN) + n) }
	type row struct {
		sig     syscall.Signal
		machine bool
		want    SignalAction
		ok      bool
	}
	rows := []row{
		{syscall.SIGTERM, true, SignalAction{}, false},
		{syscall.SIGTERM, false, SignalAction{Action: Exit}, true},
		{syscall.SIGINT, true, SignalAction{Action: Reboot}, true},
		{syscall.SIGINT, false, SignalAction{Action: Exit}, true},
		{syscall.SIGHUP, true, SignalAction{}, false},
		{syscall.SIGUSR1, true, SignalAction{}, false},
	}
	if runtime.GOOS == "linux" {
		if SIGRTMIN != 34 {
			t.Fatalf("SIGRTMIN = %d, want 34 (glibc's, which systemctl and kill(1) use)", SIGRTMIN)
		}
		rows = append(rows,
			row{syscall.Signal(30), true, SignalAction{Action: PowerOff}, true}, // SIGPWR
			row{rt(0), true, SignalAction{}, false},
			row{rt(3), true, SignalAction{Action: Halt}, true},
			row{rt(4), true, SignalAction{Action: PowerOff}, true},
			row{rt(4), false, SignalAction{Action: PowerOff}, true},
			row{rt(5), true, SignalAction{Action: Reboot}, true},
			row{rt(6), true, SignalAction{}, false},
			row{rt(13), true, SignalAction{Action: Halt, Immediate: true}, true},
			row{rt(14), true, SignalAction{Action: PowerOff, Immediate: true}, true},
			row{rt(15), true, SignalAction{Action: Reboot, Immediate: true}, true},
			row{rt(16), true, SignalAction{}, false},
		)
	}
	for _, r := range rows {
		got, ok := ActionForSignal(r.sig, r.machine)
		if got != r.want || ok != r.ok {
			t.Errorf("ActionForSignal(%d %v, machine=%v) = %+v, %v; want %+v, %v", int(r.sig), r.sig, r.machine, got, ok, r.want, r.ok)
		}
	}
	// Every signal in Signals() has a row for a machine or elsewhere.
	for _, s := range Signals() {
		_, ok1 := ActionForSignal(s, true)
		_, ok2 := ActionForSignal(s, false)
		if !ok1 && !ok2 {
			t.Errorf("Signals() lists %v, which maps to nothing", s)
		}
	}
	if _, ok := ActionForSignal(os.Interrupt, true); !ok {
		t.Error("os.Interrupt is SIGINT")
	}
	if PowerOff.Target() != "poweroff.target" || Exit.Target() != "" {
		t.Error("Target")
	}
}
