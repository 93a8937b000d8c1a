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
func InstallSignals() {
	signals.once.Do(func() {
		signals.ch = make(chan os.Signal, 256)
		sigs := append([]os.Signal{syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT,
			syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}, platformSignals()...)
		signal.Notify(signals.ch, sigs...)
	})
}
