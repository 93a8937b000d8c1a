//go:build !linux

// Command floor is Linux-only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "floor: Linux only")
	os.Exit(1)
}
