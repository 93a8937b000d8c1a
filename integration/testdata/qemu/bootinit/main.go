// Command bootinit is a minimal init built on package boot alone, for the
// qemu test: it proves EarlyBoot, the signal table and FinalShutdown in a
// real kernel independently of the manager. It runs the scripts the gosd
// test's units run, in the same order, and powers off on SIGRTMIN+4.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"time"

	"gosd/boot"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, boot.Signals()...)
	log := func(format string, args ...any) {
		fmt.Fprintf(os.Stdout, "bootinit: "+format+"\n", args...)
	}
	start := time.Now()
	if err := boot.EarlyBoot(log); err != nil {
		log("early boot had failures (going on)")
	}
	machine := os.Getpid() == 1 && !boot.InContainer()
	cmd := boot.ParseKernelCmdline(boot.ReadKernelCmdline())
	log("early boot done in %v; machine=%v unit=%s", time.Since(start).Round(time.Millisecond), machine, cmd.Unit)

	run := func(script string) {
		// Nobody waits here: FinalShutdown reaps what is left.
		if _, err := os.StartProcess("/bin/sh", []string{"sh", script},
			&os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}); err != nil {
			log("%s: %v", script, err)
		}
	}
	run("/bin/marker.sh")
	run("/bin/sleeper.sh")
	run("/bin/trigger.sh")
	log("Reached target %s", cmd.Unit)
	for sig := range sigs {
		a, ok := boot.ActionForSignal(sig, machine)
		if !ok {
			log("signal %v ignored", sig)
			continue
		}
		log("signal %v: %s", sig, a.Action)
		boot.FinalShutdown(a.Action, 0, log)
	}
}
