//go:build !freebsd

package boot

import "errors"

// ErrNoJail is DetachForJail's answer outside FreeBSD.
var ErrNoJail = errors.New("boot: DetachForJail is for FreeBSD jails only")

// DetachForJail is FreeBSD's; elsewhere it returns ErrNoJail and does
// nothing. (On Linux the same mechanism is tested with a child subreaper.)
func DetachForJail() (isChild bool, notifyParent func(), err error) {
	return false, nil, ErrNoJail
}
