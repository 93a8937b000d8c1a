package manager

import (
	"strings"

	"gosd/unitfile"
	"syscall"
	"time"
)

// socketRun is the runtime state of a socket unit.
type socketRun struct {
	baseType
	control
	open         bool // OpenSockets succeeded and CloseSockets not yet sent
	triggerStart time.Duration
	triggerCount int
	nConn        int // running Accept=yes instances
}

// socketType registers socket units (unitTypes).
var socketType = typeEntry{
	has:       func(d *unitfile.Unit) bool { return d.Socket != nil },
	make:      func(u *unit) unitVTable { u.sock = &socketRun{}; return u.sock },
	processes: true,
}

// activeOf: socket units use the service's table (listening is active,
// stop-pre deactivating).
func (*socketRun) activeOf(sub SubState) ActiveState { return serviceActive(sub) }

func (*socketRun) addDeps(m *Manager, u *unit, implicit func(string, ...dep)) {
	if u.def.Unit.DefaultDependencies {
		// systemd.socket(5): Before=sockets.target; plus sysinit/shutdown
		// like every default-dependency unit.
		implicit("sockets.target", depBefore)
		implicit("sysinit.target", depRequires, depAfter)
		implicit("shutdown.target", depConflicts, depBefore)
	}
	if sk := u.def.Socket; sk != nil && !sk.Accept {
		// systemd.socket(5): a socket is Before= the service it
		// activates; systemd.service(5): the service is After= it.
		svc := m.load(socketServiceName(u))
		m.edge(svc, u, depAfter)
		m.edge(u, svc, depTriggers)
	}
}

func (*socketRun) startable(m *Manager, u *unit) bool     { return u.sub == SubDead || u.sub == SubFailed }
func (*socketRun) startLimited() bool                     { return true }
func (*socketRun) start(m *Manager, u *unit)              { m.socketStart(u) }
func (*socketRun) stop(m *Manager, u *unit, restart bool) { m.socketStop(u) }
func (k *socketRun) ctl() *control                        { return &k.control }

func (*socketRun) fillControl(m *Manager, u *unit, sp *Spawn) {
	if u.def.Socket != nil {
		sp.Exec, sp.Resources = &u.def.Socket.Exec, &u.def.Socket.Resources
	}
}

func (k *socketRun) status(m *Manager, u *unit, st *UnitStatus) { st.ControlPID = k.controlPID }

// triggerDown: the socket's service went down; listen again.
func (*socketRun) triggerDown(m *Manager, u, target *unit) { m.socketRearm(u) }

func (m *Manager) socketStart(u *unit) {
	d := u.def.Socket
	m.setTimeout(u, "state", d.TimeoutSec)
	if len(d.ExecStartPre) > 0 {
		m.runControl(u, SubStartPre, d.ExecStartPre)
		return
	}
	m.socketOpen(u)
}

func (m *Manager) socketOpen(u *unit) {
	m.setState(u, SubStartPre)
	m.emit(OpenSockets{Unit: u.name, Socket: u.def.Socket})
}

func (m *Manager) onSocketsOpened(e SocketsOpened) {
	u := m.units[e.Unit]
	if u == nil || u.sock == nil || u.sub != SubStartPre || u.sock.controlPID != 0 || u.sock.controlSpawn != 0 {
		m.logf(u, LevelDebug, "ignoring SocketsOpened for %s", e.Unit)
		return
	}
	if e.Err != nil {
		m.logf(u, LevelError, "Failed to create listening socket: %v", e.Err)
		m.setResult(u, "resources")
		m.socketStopPost(u)
		return
	}
	u.sock.open = true
	if cmds := u.def.Socket.ExecStartPost; len(cmds) > 0 {
		m.runControl(u, SubStartPost, cmds)
		return
	}
	m.socketListening(u)
}

func (m *Manager) socketListening(u *unit) {
	m.cancelTimer(u, "state")
	m.setState(u, SubListening)
	m.emit(WatchSocket{Unit: u.name, Watch: true})
}

func (m *Manager) socketStop(u *unit) {
	switch u.sub {
	case SubDead, SubFailed:
		m.setState(u, u.sub)
		return
	case SubStopPre, SubStopPost:
		return
	}
	m.setTimeout(u, "state", u.def.Socket.TimeoutSec)
	if c := u.sock.controlPID; c != 0 {
		m.emit(Kill{Unit: u.name, Pid: c, Signal: int(syscall.SIGTERM)})
		m.forgetProcesses(u)
	}
	if cmds := u.def.Socket.ExecStopPre; len(cmds) > 0 && u.sock.open {
		m.runControl(u, SubStopPre, cmds)
		return
	}
	m.socketStopPost(u)
}

// socketStopPost closes the sockets, runs ExecStopPost= and ends.
func (m *Manager) socketStopPost(u *unit) {
	if u.sock.open {
		u.sock.open = false
		m.emit(CloseSockets{Unit: u.name, RemoveOnStop: u.def.Socket.RemoveOnStop})
	}
	if cmds := u.def.Socket.ExecStopPost; len(cmds) > 0 {
		m.runControl(u, SubStopPost, cmds)
		return
	}
	m.socketDead(u)
}

func (m *Manager) socketDead(u *unit) {
	m.cancelTimer(u, "state")
	if u.def.Socket.RemoveOnStop {
		m.emit(Cleanup{Unit: u.name, Exec: &u.def.Socket.Exec})
	}
	if u.result == "" || u.result == "success" {
		u.result = "success"
		m.setState(u, SubDead)
		return
	}
	m.logf(u, LevelWarning, "Failed with result '%s'.", u.result)
	m.setState(u, SubFailed)
}

func (*socketRun) controlDone(m *Manager, u *unit, phase SubState, ok bool, st WaitStatus, res string) {
	if !ok {
		m.setResult(u, res)
	}
	switch phase {
	case SubStartPre:
		if !ok {
			m.socketStopPost(u)
			return
		}
		m.socketOpen(u)
	case SubStartPost:
		if !ok {
			m.socketStopPost(u)
			return
		}
		m.socketListening(u)
	case SubStopPre:
		m.socketStopPost(u)
	case SubStopPost:
		m.socketDead(u)
	}
}

func (*socketRun) timer(m *Manager, u *unit, kind string) {
	if kind != "state" {
		return
	}
	m.logAt(u, "TimeoutSec", LevelWarning, "%s operation timed out. Terminating.", u.sub)
	m.setResult(u, "timeout")
	if c := u.sock.controlPID; c != 0 {
		m.emit(Kill{Unit: u.name, Pid: c, Group: true, Signal: int(syscall.SIGKILL)})
	}
	m.forgetProcesses(u)
	switch u.sub {
	case SubStopPost:
		m.socketDead(u)
	default:
		m.socketStopPost(u)
	}
}

// triggerLimitHit applies TriggerLimitIntervalSec=/TriggerLimitBurst=
// (systemd.socket(5)): the socket unit fails with trigger-limit-hit.
func (m *Manager) triggerLimitHit(u *unit) bool {
	d, r := u.def.Socket, u.sock
	if d.TriggerLimitIntervalSec <= 0 || d.TriggerLimitBurst <= 0 {
		return false
	}
	if r.triggerCount == 0 || m.now-r.triggerStart >= d.TriggerLimitIntervalSec {
		r.triggerStart, r.triggerCount = m.now, 0
	}
	r.triggerCount++
	if r.triggerCount <= d.TriggerLimitBurst {
		return false
	}
	m.logAt(u, "TriggerLimitBurst", LevelWarning, "Trigger limit hit, refusing further activation.")
	m.emit(WatchSocket{Unit: u.name, Watch: false})
	u.result = "trigger-limit-hit"
	m.socketStopPost(u)
	return true
}

// onSocketReady: traffic on an Accept=no socket starts its service.
func (m *Manager) onSocketReady(name string) {
	u := m.units[name]
	if u == nil || u.sock == nil || u.sub != SubListening {
		m.logf(u, LevelDebug, "ignoring socket activity on %s", name)
		return
	}
	if m.triggerLimitHit(u) {
		return
	}
	svc := m.load(socketServiceName(u))
	m.emit(WatchSocket{Unit: u.name, Watch: false})
	m.setState(u, SubRunning)
	if isActive(svc) || (svc.job != nil && svc.job.kind != JobStop) {
		return
	}
	m.logf(u, LevelDebug, "Incoming traffic, starting %s", svc.name)
	m.request(0, svc.name, JobStart, ModeReplace)
	if svc.job == nil && !isActive(svc) {
		// The start was refused: listen again rather than spin.
		m.socketRearm(u)
	}
}

// socketRearm watches a socket again once its service is down.
func (m *Manager) socketRearm(s *unit) {
	if s.sock != nil && s.sub == SubRunning {
		m.setState(s, SubListening)
		m.emit(WatchSocket{Unit: s.name, Watch: true})
	}
}

// onConnection instantiates the template service of an Accept=yes socket.
func (m *Manager) onConnection(e Connection) {
	u := m.units[e.Unit]
	if u == nil || u.sock == nil || !u.def.Socket.Accept || u.sub != SubListening {
		m.logf(u, LevelWarning, "Refusing connection on %s: not listening", e.Unit)
		m.emit(CloseFD{Unit: e.Unit, FD: e.FD})
		return
	}
	if m.triggerLimitHit(u) {
		m.emit(CloseFD{Unit: e.Unit, FD: e.FD})
		return
	}
	if max := u.def.Socket.MaxConnections; max > 0 && u.sock.nConn >= max {
		m.logAt(u, "MaxConnections", LevelWarning, "Too many incoming connections (%d), dropping connection.", u.sock.nConn)
		m.emit(CloseFD{Unit: u.name, FD: e.FD})
		return
	}
	prefix := strings.TrimSuffix(u.name, ".socket")
	if i := strings.IndexByte(prefix, '@'); i >= 0 {
		prefix = prefix[:i]
	}
	name := prefix + "@" + e.Instance + ".service"
	inst := m.load(name)
	if inst.svc == nil || inst.def.Service == nil || !isInactive(inst) || inst.job != nil {
		m.logf(u, LevelWarning, "Cannot start %s for connection", name)
		m.emit(CloseFD{Unit: u.name, FD: e.FD})
		return
	}
	inst.acceptOf = u
	inst.svc.conn, inst.svc.hasConn = e.FD, true
	u.sock.nConn++
	m.request(0, inst.name, JobStart, ModeReplace)
	if inst.job == nil && isInactive(inst) {
		m.acceptInstanceGone(inst)
	}
}

// acceptInstanceGone releases the connection of an Accept=yes instance.
func (m *Manager) acceptInstanceGone(inst *unit) {
	s := inst.acceptOf
	if s == nil {
		return
	}
	inst.acceptOf = nil
	if inst.svc != nil && inst.svc.hasConn {
		// The connection never reached a process (the start failed before
		// ExecStart=): the manager still owns it.
		m.emit(CloseFD{Unit: inst.name, FD: inst.svc.conn})
		inst.svc.hasConn, inst.svc.conn = false, -1
	}
	if s.sock.nConn > 0 {
		s.sock.nConn--
	}
}
