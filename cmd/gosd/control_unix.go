//go:build linux || freebsd

package main

import (
	"io"
	"time"

	"gosd/control"
)

// startControl serves the control API (netpoll builds on Linux and FreeBSD).
func startControl(path string, b control.Backend, now func() time.Duration) (io.Closer, error) {
	return control.Listen(path, b, control.WithClock(now))
}
