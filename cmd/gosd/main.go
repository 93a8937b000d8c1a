// Command gosd is the service manager (the default command, also as PID1),
// `gosd verify`, and the control client when called as gosdctl or systemctl.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "gosd: not built yet")
	os.Exit(1)
}
