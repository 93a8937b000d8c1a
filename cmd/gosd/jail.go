package main

import (
	"runtime"

	"gosd/boot"
)

// shouldDetach says whether this gosd goes to the background once its
// target is reached (boot.Detach): when asked (--detach), and by default
// in a FreeBSD jail, where jail(8) waits for exec.start to return, unless
// --no-detach keeps it in the foreground; never in a daemon-reexec of a
// gosd that detached already. Pure, for the tests.
func shouldDetach(goos string, jailed, detach, noDetach, reexeced bool) bool {
	if reexeced || noDetach {
		return false
	}
	return detach || goos == "freebsd" && jailed
}

// detachIfAsked runs boot.Detach when shouldDetach says so. Only the
// supervising child returns; its done tells the waiting parent that the
// boot target was reached (called once, by the backend). Otherwise done
// does nothing.
func detachIfAsked(detach, noDetach, reexeced bool, log func(string, ...any)) (done func()) {
	if !shouldDetach(runtime.GOOS, boot.InContainer(), detach, noDetach, reexeced) {
		return func() {}
	}
	isChild, notify, err := boot.Detach()
	if err != nil {
		log("detach: %v", err)
	}
	if !isChild || notify == nil {
		return func() {}
	}
	return notify
}
