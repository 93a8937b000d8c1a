package sockets

import (
	"fmt"
	"runtime"
)

// ListenNotify is not available on darwin: sd_notify needs the sender's
// pid with every datagram, and darwin's unix datagrams carry none.
func ListenNotify(path string) (*NotifySocket, error) {
	return nil, fmt.Errorf("notify socket: credentials unsupported on %s", runtime.GOOS)
}

func (n *NotifySocket) receive() (Message, error) {
	return Message{}, fmt.Errorf("notify socket: credentials unsupported on %s", runtime.GOOS)
}

const notifyOOBSize = 0
