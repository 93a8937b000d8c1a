//go:build !linux && !freebsd

package main

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"gosd/control"
)

// startControl: the control server needs the peer credentials of Linux
// and FreeBSD (SO_PEERCRED, LOCAL_PEERCRED).
func startControl(path string, b control.Backend, now func() time.Duration) (io.Closer, error) {
	return nil, fmt.Errorf("the control server is not available on %s", runtime.GOOS)
}

// startBus: the D-Bus API needs them too.
func startBus(path string, b control.Backend, now func() time.Duration) (io.Closer, error) {
	return nil, fmt.Errorf("the D-Bus API is not available on %s", runtime.GOOS)
}
