//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: the harness needs Linux (/proc, PR_SET_CHILD_SUBREAPER)")
	os.Exit(1)
}
