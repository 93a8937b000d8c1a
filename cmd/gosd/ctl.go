package main

import (
	"os"

	"gosd/control"
)

// ctlMain is the systemctl-compatible client (gosdctl VERB, systemctl
// VERB, gosd ctl VERB).
func ctlMain(name string, args []string) int {
	return control.Main(name, args, os.Stdout, os.Stderr)
}
