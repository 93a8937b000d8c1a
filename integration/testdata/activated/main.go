// Command activated is a socket-activated test service written the way Go
// daemons use systemd's protocols: go-systemd's activation.Files and
// activation.Listeners for the passed fds, daemon.SdNotify for readiness.
// It answers every connection with "<fd name> <pid>\n".
package main

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"
)

func main() {
	// Files(false) keeps the environment so Listeners can read it again.
	files := activation.Files(false)
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "activated: no fds passed (LISTEN_PID/LISTEN_FDS wrong?)")
		os.Exit(1)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	listeners, err := activation.Listeners()
	if err != nil || len(listeners) != len(files) {
		fmt.Fprintln(os.Stderr, "activated: listeners:", err, len(listeners))
		os.Exit(1)
	}
	sent, err := daemon.SdNotify(false, "READY=1\nSTATUS=serving "+strings.Join(names, ","))
	if err != nil || !sent {
		fmt.Fprintln(os.Stderr, "activated: sd_notify failed:", sent, err)
		os.Exit(1)
	}
	fmt.Println("activated: ready with", strings.Join(names, ","))
	done := make(chan struct{})
	for i, l := range listeners {
		go func(name string, l net.Listener) {
			for {
				c, err := l.Accept()
				if err != nil {
					close(done)
					return
				}
				fmt.Fprintf(c, "%s %d\n", name, os.Getpid())
				c.Close()
			}
		}(names[i], l)
	}
	<-done
}
