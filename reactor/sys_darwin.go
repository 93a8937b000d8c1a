package reactor

import "errors"

func becomeSubreaper() error { return errors.New("darwin has no subreaper") }

// raiseDgramQueue: the unix datagram queue length is a Linux sysctl.
func raiseDgramQueue() error { return nil }
