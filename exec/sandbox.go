package exec

import "gosd/unitfile"

// unsandboxed is ec without the privilege restrictions that the "+"
// prefix lifts (systemd.service(5) "Table 1. Special executable
// prefixes"); the process environment (umask, limits, nice, directories)
// stays.
func unsandboxed(ec *unitfile.ExecContext) *unitfile.ExecContext {
	e := *ec
	e.CapabilityBoundingSet = nil
	e.AmbientCapabilities = nil
	e.NoNewPrivileges = false
	e.ProcessSecurity = unitfile.ProcessSecurity{IgnoreSIGPIPE: ec.IgnoreSIGPIPE}
	return &e
}
