package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"gosd/boot"
	"gosd/control"
	"gosd/logstore"
	"gosd/reactor"
	"gosd/unitfile"
)

// LogConfig is gosd.toml's [log] table: gosd's own log, kept when no
// systemd-journald runs (package logstore). Names follow journald.conf(5)
// where the setting is journald's.
type LogConfig struct {
	// Storage: "auto" (default; the persistent log is written when
	// Directory exists, journald's Storage=auto), "persistent" (Directory is
	// created), "volatile" (memory only).
	Storage   string `toml:"storage"`
	Directory string `toml:"directory"` // default /var/log/gosd
	// MaxUse caps the persistent log's files together (default 16M);
	// MaxFiles is how many files that is split into (default 4).
	MaxUse   string `toml:"max_use"`
	MaxFiles int    `toml:"max_files"`
	// MemoryMax caps the in-memory store (default 4M).
	MemoryMax string `toml:"memory_max"`
	// RateLimitInterval and RateLimitBurst: journald's RateLimitIntervalSec=
	// and RateLimitBurst= (30s, 10000), per unit; "0" turns the limit off.
	RateLimitInterval string `toml:"rate_limit_interval"`
	RateLimitBurst    int    `toml:"rate_limit_burst"`
	// Listen: serve SyslogSocket and NativeSocket in journald's place —
	// "auto" (default: as PID1), "yes", "no". A path an enabled socket unit
	// provides (systemd-journald-dev-log.socket for /dev/log...) is left to
	// that unit.
	Listen       string `toml:"listen"`
	SyslogSocket string `toml:"syslog_socket"` // default /dev/log
	// Kernel: read the kernel's messages into the log, as journald does:
	// "auto" (default: as the init of a machine, not in a container),
	// "yes", "no".
	Kernel       string `toml:"kernel"`
	NativeSocket string `toml:"native_socket"` // default /run/systemd/journal/socket
}

// logSettings are LogConfig's values as the reactor takes them.
type logSettings struct {
	memoryMax          int
	persist            *logstore.PersistConfig
	rateInterval       time.Duration
	rateBurst          int
	syslogPath, native string
	readKmsg           bool
	notes              []string // what was decided, for gosd's log
}

// settings checks the table and applies the defaults; units and unitPath
// say which socket units are there to provide the log sockets.
func (c LogConfig) settings(pid1 bool, units *unitfile.Set, unitPath []string) (logSettings, error) {
	var s logSettings
	size := func(key, v string) (int64, error) {
		if v == "" {
			return 0, nil
		}
		n, err := unitfile.ParseSize(v)
		if err != nil || n > 1<<40 {
			return 0, fmt.Errorf("[log] %s = %q: not a size (like 16M)", key, v)
		}
		return int64(n), nil
	}
	mem, err := size("memory_max", c.MemoryMax)
	if err != nil {
		return s, err
	}
	s.memoryMax = int(mem)
	maxUse, err := size("max_use", c.MaxUse)
	if err != nil {
		return s, err
	}
	if c.MaxFiles < 0 || c.MaxFiles == 1 {
		return s, fmt.Errorf("[log] max_files = %d: at least 2 (the file written and one rotated)", c.MaxFiles)
	}
	dir := c.Directory
	if dir == "" {
		dir = logstore.DefaultDir
	} else if !filepath.IsAbs(dir) {
		return s, fmt.Errorf("[log] directory = %q: not an absolute path", dir)
	}
	switch c.Storage {
	case "", "auto":
		s.persist = &logstore.PersistConfig{Dir: dir, MaxUse: maxUse, MaxFiles: c.MaxFiles}
	case "persistent":
		s.persist = &logstore.PersistConfig{Dir: dir, MaxUse: maxUse, MaxFiles: c.MaxFiles, Create: true}
	case "volatile":
	default:
		return s, fmt.Errorf("[log] storage = %q: auto, persistent or volatile", c.Storage)
	}
	if c.RateLimitInterval != "" {
		d, err := unitfile.ParseTimespan(c.RateLimitInterval)
		if err != nil {
			return s, fmt.Errorf("[log] rate_limit_interval: %v", err)
		}
		s.rateInterval = d
		if d == 0 {
			s.rateInterval = -1 // off, as journald's 0
		}
	}
	if c.RateLimitBurst < 0 {
		return s, fmt.Errorf("[log] rate_limit_burst = %d: not a count", c.RateLimitBurst)
	}
	s.rateBurst = c.RateLimitBurst
	kernelAuto := false
	switch c.Kernel {
	case "", "auto":
		kernelAuto = true
		s.readKmsg = pid1 && !boot.InContainer()
	case "yes":
		s.readKmsg = true
	case "no":
	default:
		return s, fmt.Errorf("[log] kernel = %q: auto, yes or no", c.Kernel)
	}
	serve := false
	switch c.Listen {
	case "", "auto":
		serve = pid1
	case "yes":
		serve = true
	case "no":
	default:
		return s, fmt.Errorf("[log] listen = %q: auto, yes or no", c.Listen)
	}
	for _, p := range []string{c.SyslogSocket, c.NativeSocket} {
		if p != "" && !filepath.IsAbs(p) {
			return s, fmt.Errorf("[log] socket path %q: not an absolute path", p)
		}
	}
	if !serve {
		return s, nil
	}
	s.syslogPath, s.native = or(c.SyslogSocket, "/dev/log"), or(c.NativeSocket, DefaultJournalSocket)
	for _, p := range []*string{&s.syslogPath, &s.native} {
		if unit := providedBy(units, unitPath, *p); unit != "" {
			s.notes = append(s.notes, fmt.Sprintf("%s is enabled and provides %s: gosd leaves it to it", unit, *p))
			*p = ""
			if p == &s.native && kernelAuto && s.readKmsg {
				// journald reads /dev/kmsg itself, from the oldest
				// record: a second copy in gosd's store would cost
				// PID1 what systemd's does not spend (2% of PID1's
				// CPU in the Debian boot).
				s.readKmsg = false
				s.notes = append(s.notes, fmt.Sprintf("%s is enabled: gosd leaves the kernel's log to journald", unit))
			}
		}
	}
	return s, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// providedBy names an enabled socket unit that listens on path (or links
// it, Symlinks=), "" when none: gosd then never takes the path. A unit
// that is there but not enabled may still start; the reactor hands the
// path over then (reactor/logsockets_linux.go).
func providedBy(units *unitfile.Set, unitPath []string, path string) string {
	if units == nil {
		return ""
	}
	files := control.NewUnitFileSet("", unitPath)
	for _, name := range units.Names() {
		if !strings.HasSuffix(name, ".socket") || strings.Contains(name, "@.") {
			continue
		}
		u := units.Get(name)
		if u == nil || u.LoadState != unitfile.Loaded || !reactor.SocketProvides(u.Socket, path) {
			continue
		}
		switch files.State(name) {
		case "enabled", "enabled-runtime", "alias", "generated":
			return name
		}
	}
	return ""
}
