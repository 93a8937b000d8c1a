package unitfile

// RunDir is the base of runtime state (systemd's %t for the system
// manager): gosd's own sockets, RuntimeDirectory=, a relative PIDFile=.
const RunDir = "/run"
