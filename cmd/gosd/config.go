package main

import (
	"errors"
	"fmt"
	"gosd/exec"
	"io/fs"
	"os"

	"github.com/BurntSushi/toml"

	"gosd/control"
	"gosd/manager"
	"gosd/reactor"
	"gosd/unitfile"
)

// defaultConfigPath is read when present; an explicit --config must exist.
const defaultConfigPath = "/etc/gosd/gosd.toml"

// Config is gosd's own configuration file (TOML). Command-line flags win
// over it; it wins over the built-in defaults.
type Config struct {
	// UnitPath replaces systemd's unit search path when non-empty.
	UnitPath []string `toml:"unit_path"`
	// Target is the unit started at boot (default.target).
	Target string `toml:"target"`
	// ControlSocket is the control API's unix socket.
	ControlSocket string `toml:"control_socket"`
	// NotifySocket is where services send sd_notify datagrams.
	NotifySocket string `toml:"notify_socket"`
	// LogLevel: debug, info, notice, warning, err.
	LogLevel string `toml:"log_level"`
	// JournalSocket is systemd-journald's native socket, where service
	// output goes (StandardOutput=journal) while journald runs. Empty: the
	// default, /run/systemd/journal/socket as PID1 and none otherwise
	// (service output then goes to gosd's own log); "-": never.
	JournalSocket string `toml:"journal_socket"`
	// PrivateBusSocket is where the org.freedesktop.systemd1 D-Bus API is
	// served to peers that talk to PID1 directly (systemd-update-utmp,
	// busctl --address). Empty: the default, /run/systemd/private as PID1
	// (only systemd's system manager has it) and none otherwise, so a
	// gosd beside a real systemd never takes its socket; "-": never.
	PrivateBusSocket string `toml:"private_bus_socket"`
	// UserDBSocket is where the dynamic users (DynamicUser=) are served
	// to nss-systemd (varlink io.systemd.UserDatabase). Empty: the
	// default, /run/systemd/userdb/io.systemd.DynamicUser as PID1 and
	// none otherwise (beside a real systemd it is systemd's); "-": never.
	UserDBSocket string `toml:"userdb_socket"`
	// Log is gosd's own log when no journald runs ([log], logconfig.go).
	Log LogConfig `toml:"log"`
}

// Built-in defaults (DESIGN.md "Command-line contract").
var builtinConfig = Config{
	Target:        "default.target",
	ControlSocket: control.DefaultSocket,
	NotifySocket:  reactor.DefaultNotifySocket,
	LogLevel:      "info",
}

// loadConfig reads path (or the default path when empty) over the built-in
// defaults. Unknown keys are an error: a typo must not pass silently.
func loadConfig(path string) (Config, error) {
	cfg := builtinConfig
	explicit := path != ""
	if !explicit {
		path = defaultConfigPath
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return cfg, fmt.Errorf("config %s: unknown key %q", path, undecoded[0].String())
	}
	return cfg, nil
}

// parseLogLevel maps log_level (and systemd.log_level=) names to the
// manager's levels; systemd's numeric levels 0-7 are accepted too.
func parseLogLevel(s string) (manager.Level, error) {
	switch s {
	case "debug", "7":
		return manager.LevelDebug, nil
	case "info", "6", "":
		return manager.LevelInfo, nil
	case "notice", "5":
		return manager.LevelNotice, nil
	case "warning", "4":
		return manager.LevelWarning, nil
	case "err", "error", "crit", "alert", "emerg", "3", "2", "1", "0":
		return manager.LevelError, nil
	}
	return manager.LevelInfo, fmt.Errorf("unknown log level %q (debug, info, notice, warning, err)", s)
}

// DefaultJournalSocket is systemd-journald's native protocol socket.
const DefaultJournalSocket = unitfile.RunDir + "/systemd/journal/socket"

// journalSocket applies JournalSocket's default rule.
func (c Config) journalSocket(pid1 bool) string {
	switch {
	case c.JournalSocket == "-":
		return ""
	case c.JournalSocket != "":
		return c.JournalSocket
	case pid1:
		return DefaultJournalSocket
	}
	return ""
}

// DefaultPrivateBusSocket is systemd's private D-Bus socket.
const DefaultPrivateBusSocket = unitfile.RunDir + "/systemd/private"

// privateBusSocket applies PrivateBusSocket's default rule.
func (c Config) privateBusSocket(pid1 bool) string {
	switch {
	case c.PrivateBusSocket == "-":
		return ""
	case c.PrivateBusSocket != "":
		return c.PrivateBusSocket
	case pid1:
		return DefaultPrivateBusSocket
	}
	return ""
}

// userDBSocket applies UserDBSocket's default rule (as PrivateBusSocket's).
func (c Config) userDBSocket(pid1 bool) string {
	switch {
	case c.UserDBSocket == "-":
		return ""
	case c.UserDBSocket != "":
		return c.UserDBSocket
	case pid1:
		return exec.DefaultUserDBSocket
	}
	return ""
}
