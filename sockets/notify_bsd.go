//go:build freebsd || darwin

package sockets

import (
	"fmt"
	"runtime"
)

// ListenNotify is not available here: sd_notify needs the sender's pid
// with every datagram. FreeBSD delivers it only as SCM_CREDS (struct
// cmsgcred, when the sender attaches it, which sd_notify clients do not) or
// LOCAL_CREDS_PERSISTENT (struct sockcred2), neither of which x/sys
// decodes; darwin has no per-datagram credentials at all.
func ListenNotify(path string) (*NotifySocket, error) {
	return nil, fmt.Errorf("notify socket: credentials unsupported on %s", runtime.GOOS)
}

func (n *NotifySocket) receive() (Message, error) {
	return Message{}, fmt.Errorf("notify socket: credentials unsupported on %s", runtime.GOOS)
}

const notifyOOBSize = 0
