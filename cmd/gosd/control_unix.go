//go:build linux || freebsd

package main

import (
	"io"
	"time"

	"gosd/control"
)

// startControl serves the control API (it needs the peer credentials of
// Linux and FreeBSD).
func startControl(path string, b control.Backend, now func() time.Duration) (io.Closer, error) {
	return control.Listen(path, b, control.WithClock(now))
}

// startBus serves the org.freedesktop.systemd1 D-Bus API.
func startBus(path string, b control.Backend, now func() time.Duration) (io.Closer, error) {
	return control.ListenBus(path, b, control.WithClock(now))
}
