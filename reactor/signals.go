package reactor

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

var signals struct {
	once sync.Once
	ch   chan os.Signal
}

// InstallSignals routes every signal gosd handles to the reactor. cmd/gosd
// calls it first thing in main, before anything is spawned: SIGCHLD must be
// caught before the first child can exit, and Go as PID1 dies on SIGTERM
// unless SIGTERM is notified (FINDINGS.md). Signals arriving before Run
// wait in a buffered channel. Safe to call more than once.
//
// As PID1 the signals that would dump core (SIGQUIT, SIGSEGV, SIGABRT,
// ...) are caught too: Go's runtime exits on them (status 2), and an init
// that exits panics the kernel or ends the container; any process of the
// container's root could send one. See onCrashSignal.
func InstallSignals() {
	signals.once.Do(func() {
		signals.ch = make(chan os.Signal, 256)
		sigs := append([]os.Signal{syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT,
			syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}, platformSignals()...)
		if os.Getpid() == 1 {
			sigs = append(sigs, crashSignals()...)
		}
		signal.Notify(signals.ch, sigs...)
	})
}

// isCrashSignal says sig is one of crashSignals.
func isCrashSignal(sig syscall.Signal) bool {
	for _, c := range crashSignals() {
		if c == sig {
			return true
		}
	}
	return false
}
