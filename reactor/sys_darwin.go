package reactor

import (
	"errors"
	"syscall"
)

func becomeSubreaper() error { return errors.New("darwin has no subreaper") }

// raiseDgramQueue: the unix datagram queue length is a Linux sysctl.
func raiseDgramQueue() error { return nil }

// killSubtree: darwin has no reaper subtrees; process groups only.
func killSubtree(subtree int, sig syscall.Signal) (bool, error) { return false, nil }
