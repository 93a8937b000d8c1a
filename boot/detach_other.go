//go:build !freebsd && !linux

package boot

import "errors"

// ErrNoJail is DetachForJail's (and Detach's) answer where gosd cannot
// detach (darwin).
var ErrNoJail = errors.New("boot: detaching is for FreeBSD jails and Linux only")

// DetachForJail is FreeBSD's; here it returns ErrNoJail and does nothing.
func DetachForJail() (isChild bool, notifyParent func(), err error) {
	return false, nil, ErrNoJail
}

// Detach returns ErrNoJail here.
func Detach() (isChild bool, notifyParent func(), err error) { return DetachForJail() }
