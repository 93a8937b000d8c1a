// Package kcmdline owns where gosd reads the kernel command line's
// options from: /proc/cmdline on a machine, and in a container the
// options gosd itself was given, as systemd(1) does ("If run inside a
// Linux container, these options are parsed from the command line
// arguments passed to systemd itself"): a container's /proc/cmdline is
// the host's, and its quiet or systemd.unit= are not the container's.
package kcmdline

import (
	"os"
	"strings"
	"sync/atomic"
)

var own atomic.Pointer[string]

// UseOwn makes Read return options (gosd's own arguments in a
// container) instead of /proc/cmdline. gosd calls it once, at start.
func UseOwn(options []string) {
	s := strings.Join(options, " ")
	own.Store(&s)
}

// Read returns the kernel command line's options, "" where there are none.
func Read() string {
	if s := own.Load(); s != nil {
		return *s
	}
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
