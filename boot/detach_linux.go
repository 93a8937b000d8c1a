package boot

import "golang.org/x/sys/unix"

// Detach is DetachForJail's mechanism for a gosd that backgrounds itself
// on Linux (gosd --detach): the child becomes a child subreaper
// (PR_SET_CHILD_SUBREAPER) where a jail's gosd takes procctl's reaper.
func Detach() (isChild bool, notifyParent func(), err error) {
	return detach(func() error { return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
}
