package manager

// Type=dbus (systemd.service(5)): "the service manager will consider the
// unit up when the specified bus name has been acquired ... considered to
// be in the activating state until the specified bus name is acquired. It
// is considered activated while the bus name is taken. Once the bus name
// is released the service is considered being no longer functional".
// The reactor follows the name on the system bus (WatchBusName) and
// reports its owner (BusNameOwner); the decisions are systemd's
// (service.c: the owner change handler and service_enter_running).

// isDBus says whether u is a Type=dbus service (the loader makes BusName=
// without Type= one, and refuses Type=dbus without BusName=).
func isDBus(u *unit) bool {
	return u.svc != nil && u.def.Service != nil && u.def.Service.Type == "dbus" && u.def.Service.BusName != ""
}

// watchBusName starts following u's BusName= (its owner is unknown until
// the reactor answers).
func (m *Manager) watchBusName(u *unit) {
	s, name := u.svc, u.def.Service.BusName
	if s.busName == name && m.busNames[name] == u {
		return
	}
	m.unwatchBusName(u)
	if o := m.busNames[name]; o != nil && o != u {
		// systemd refuses to load the second one; gosd lets the later
		// start have the name and says so.
		m.logAt(u, "BusName", LevelWarning, "Two services allocated for the same bus name %s (%s and %s); following it for %s only.", name, o.name, u.name, u.name)
		o.svc.busName, o.svc.busOwner = "", ""
	}
	m.busNames[name] = u
	s.busName, s.busOwner = name, ""
	m.emit(WatchBusName{Unit: u.name, Name: name})
}

// unwatchBusName stops following u's bus name (the service is inactive).
func (m *Manager) unwatchBusName(u *unit) {
	s := u.svc
	if s == nil || s.busName == "" {
		return
	}
	name := s.busName
	s.busName, s.busOwner = "", ""
	if m.busNames[name] == u {
		delete(m.busNames, name)
		m.emit(UnwatchBusName{Unit: u.name, Name: name})
	}
}

// rewatchBusName follows the name u's definition now gives, after a
// daemon-reload: a changed BusName= is watched instead of the old one, and
// a service that is no longer Type=dbus is not followed any more.
func (m *Manager) rewatchBusName(u *unit) {
	switch {
	case !isDBus(u):
		m.unwatchBusName(u)
	case u.svc.busName != u.def.Service.BusName:
		m.watchBusName(u)
	}
}

// busNameGood is systemd's bus_name_good: a Type=dbus service is only up
// while its name has an owner.
func busNameGood(u *unit) bool { return !isDBus(u) || u.svc.busOwner != "" }

func (m *Manager) onBusNameOwner(e BusNameOwner) {
	u := m.busNames[e.Name]
	if u == nil || u.svc == nil {
		m.logf(nil, LevelDebug, "ignoring owner of bus name %s nobody watches", e.Name)
		return
	}
	s := u.svc
	if s.busOwner == e.Owner {
		return // the answer to GetNameOwner and the change signal may both say it
	}
	s.busOwner = e.Owner
	if e.Owner != "" {
		m.logf(u, LevelDebug, "D-Bus name %s now owned by %s", e.Name, e.Owner)
	} else {
		m.logf(u, LevelDebug, "D-Bus name %s now not owned by anyone.", e.Name)
	}
	if !isDBus(u) {
		return
	}
	switch {
	case u.sub == SubStart && e.Owner != "":
		m.logf(u, LevelInfo, "Bus name %s acquired (by %s): the service is up.", e.Name, e.Owner)
		m.serviceStartPost(u)
	case u.sub == SubRunning && e.Owner == "":
		m.logAt(u, "BusName", LevelNotice, "Bus name %s released: the service is no longer functional, stopping it.", e.Name)
		m.notGood(u)
	}
}

// notGood is systemd's service_enter_running for a service that is no
// longer good (its name is gone): RemainAfterExit= keeps it active
// (exited), else it is stopped with result success.
func (m *Manager) notGood(u *unit) {
	if u.def.Service.RemainAfterExit {
		m.cancelTimer(u, "runtime")
		m.cancelTimer(u, "watchdog")
		m.setState(u, SubExited)
		return
	}
	m.serviceStop(u)
}
