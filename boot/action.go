package boot

import (
	"os"
	"syscall"
)

// Action is what the machine does once the manager has stopped every unit.
type Action string

const (
	PowerOff Action = "poweroff"
	Reboot   Action = "reboot"
	Halt     Action = "halt"
	// Exit ends gosd's process: the action of a container's PID1 and of a
	// gosd that is not PID1 at all. FinalShutdown turns every action into
	// Exit when reboot(2) would not reach a machine (InContainer).
	Exit Action = "exit"
)

// Target is the unit systemd starts for the action (poweroff.target, ...);
// empty for Exit.
func (a Action) Target() string {
	switch a {
	case PowerOff, Reboot, Halt:
		return string(a) + ".target"
	}
	return ""
}

// SignalAction is one row of the PID1 signal table.
type SignalAction struct {
	Action Action
	// Immediate skips the orderly stop of units: straight to FinalShutdown
	// (systemd's SIGRTMIN+13..15).
	Immediate bool
}

// ActionForSignal maps a signal received by gosd to what it should do, as
// systemd(1) SIGNALS describes for the system manager, with two deliberate
// differences (docs/pid1.md):
//
//   - SIGTERM: systemd re-executes itself; gosd has no re-exec, so as the init
//     of a machine (machine true) SIGTERM is ignored (ok false: a stray
//     `kill -TERM 1` must not stop a machine), and everywhere else (container
//     PID1, not PID1) it is the orderly stop-and-exit that container
//     runtimes mean by it (docker stop, podman stop send SIGTERM).
//   - SIGPWR: systemd starts sigpwr.target, which is empty by default; gosd
//     powers off, as sysvinit did and as lxc-stop expects.
//
// SIGINT is ctrl-alt-del (ctrl-alt-del.target is an alias of reboot.target):
// reboot on a machine, exit elsewhere (Ctrl-C in a terminal).
func ActionForSignal(sig os.Signal, machine bool) (a SignalAction, ok bool) {
	s, isSys := sig.(syscall.Signal)
	if !isSys {
		return SignalAction{}, false
	}
	switch s {
	case syscall.SIGTERM:
		if machine {
			return SignalAction{}, false
		}
		return SignalAction{Action: Exit}, true
	case syscall.SIGINT:
		if machine {
			return SignalAction{Action: Reboot}, true
		}
		return SignalAction{Action: Exit}, true
	case sigPWR:
		if sigPWR == 0 {
			break
		}
		return SignalAction{Action: PowerOff}, true
	}
	if sigRTMIN == 0 || int(s) < int(sigRTMIN) {
		return SignalAction{}, false
	}
	switch int(s) - int(sigRTMIN) {
	case 3:
		return SignalAction{Action: Halt}, true
	case 4:
		return SignalAction{Action: PowerOff}, true
	case 5:
		return SignalAction{Action: Reboot}, true
	case 13:
		return SignalAction{Action: Halt, Immediate: true}, true
	case 14:
		return SignalAction{Action: PowerOff, Immediate: true}, true
	case 15:
		return SignalAction{Action: Reboot, Immediate: true}, true
	}
	return SignalAction{}, false
}

// Signals lists every signal ActionForSignal knows, for signal.Notify.
func Signals() []os.Signal {
	sigs := []os.Signal{syscall.SIGTERM, syscall.SIGINT}
	if sigPWR != 0 {
		sigs = append(sigs, sigPWR)
	}
	if sigRTMIN != 0 {
		for _, n := range []int{3, 4, 5, 13, 14, 15} {
			sigs = append(sigs, syscall.Signal(int(sigRTMIN)+n))
		}
	}
	return sigs
}

// SIGRTMIN is the first real-time signal as C programs see it (glibc keeps
// the kernel's first two for itself, so SIGRTMIN+4 is 38 on Linux, the
// number `kill -s SIGRTMIN+4` and systemctl use). 0 where there is none.
const SIGRTMIN = sigRTMIN
