//go:build !linux

package reactor

import (
	"fmt"

	"gosd/manager"
	"gosd/unitfile"
)

// Log sockets need the sender's credentials, which only the Linux code
// reads so far: elsewhere gosd serves none and says so once.

type logSocket struct {
	kind, path, holder string
	fd                 int
}

func (r *Reactor) openLogSockets() {
	for _, p := range []string{r.cfg.SyslogSocket, r.cfg.NativeSocket} {
		if p != "" {
			r.logAt("", unitfile.Pos{}, manager.LevelNotice, fmt.Sprintf("Not serving %s: log sockets are served on Linux only", p))
		}
	}
}

func (r *Reactor) closeLogSockets()                                  {}
func (r *Reactor) releaseLogSockets(unit string, s *unitfile.Socket) {}
func (r *Reactor) retakeLogSockets(unit string)                      {}
func (r *Reactor) adoptLogSocket(h hoLogSocket)                      {}
func (r *Reactor) readLogSocket(ls *logSocket) bool                  { return false }
