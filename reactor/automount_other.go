//go:build !linux

package reactor

import (
	"errors"

	"gosd/manager"
)

// autofsPoint: automount points need Linux's autofs; elsewhere a start
// ends "unsupported", as under systemd where the kernel lacks it.
type autofsPoint struct{}

func (r *Reactor) startAutomount(e manager.StartAutomount) manager.AutomountStarted {
	return manager.AutomountStarted{Unit: e.Unit, Unsupported: true,
		Err: errors.New("automount points need Linux's autofs file system")}
}

func (r *Reactor) replyAutomount(manager.AutomountReply)   {}
func (r *Reactor) expireAutomount(manager.ExpireAutomount) {}
func (r *Reactor) stopAutomount(string)                    {}
func (r *Reactor) onAutofsPacket(string)                   {}

// Without autofs no point is set up, so none is handed over.
func (r *Reactor) freezeAutomounts()             {}
func (r *Reactor) thawAutomounts()               {}
func (r *Reactor) saveAutomounts() []hoAutomount { return nil }
func (r *Reactor) adoptAutomount(e manager.AdoptAutomount) {
	r.Feed(manager.AutomountRequest{Unit: e.Unit, Err: errors.New("automount points need Linux's autofs file system")})
}
func (r *Reactor) dropHandedPoints() { r.handedPoints = nil }
