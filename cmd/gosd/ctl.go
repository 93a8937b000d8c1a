package main

import (
	"os"

	"gosd/control"
)

// ctlMainImpl is the systemctl-compatible client (gosdctl VERB, systemctl
// VERB, gosd ctl VERB). It becomes ctlMain once the placeholder in main.go
// is removed.
func ctlMainImpl(name string, args []string) int {
	return control.Main(name, args, os.Stdout, os.Stderr)
}
