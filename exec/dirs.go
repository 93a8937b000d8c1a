package exec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gosd/unitfile"
)

// DirectoryRoots are the bases of RuntimeDirectory=, StateDirectory=,
// CacheDirectory=, LogsDirectory= and ConfigurationDirectory= for system
// services (systemd.exec(5) table "Automatic directory creation").
// Variables so tests can point them elsewhere.
var DirectoryRoots = struct{ Runtime, State, Cache, Logs, Config string }{
	"/run", "/var/lib", "/var/cache", "/var/log", "/etc",
}

type dirKind struct {
	names  []string
	root   string
	mode   uint32
	env    string
	status int
}

func dirKinds(ec *unitfile.ExecContext) []dirKind {
	return []dirKind{
		{ec.RuntimeDirectory, DirectoryRoots.Runtime, ec.RuntimeDirectoryMode, "RUNTIME_DIRECTORY", exitRuntimeDir},
		{ec.StateDirectory, DirectoryRoots.State, ec.StateDirectoryMode, "STATE_DIRECTORY", exitStateDir},
		{ec.CacheDirectory, DirectoryRoots.Cache, ec.CacheDirectoryMode, "CACHE_DIRECTORY", exitCacheDir},
		{ec.LogsDirectory, DirectoryRoots.Logs, ec.LogsDirectoryMode, "LOGS_DIRECTORY", exitLogsDir},
		{ec.ConfigurationDirectory, DirectoryRoots.Config, ec.ConfigurationDirectoryMode, "CONFIGURATION_DIRECTORY", exitConfigDir},
	}
}

// makeDirectories creates the unit's directories with their mode, owned by
// the unit's user (except ConfigurationDirectory=, which stays root's), and
// returns $RUNTIME_DIRECTORY and friends (colon-separated full paths).
func makeDirectories(ec *unitfile.ExecContext, cred *credentials) ([]string, error) {
	var env []string
	for _, k := range dirKinds(ec) {
		if len(k.names) == 0 {
			continue
		}
		mode := k.mode
		if mode == 0 {
			mode = 0o755
		}
		var paths []string
		for _, name := range k.names {
			p, err := dirPath(k.root, name)
			if err != nil {
				return nil, &ExitError{Status: k.status, Err: err}
			}
			if err := os.MkdirAll(p, os.FileMode(mode)); err != nil {
				return nil, &ExitError{Status: k.status, Err: err}
			}
			// MkdirAll applies the umask; the setting's mode is exact.
			if err := os.Chmod(p, os.FileMode(mode)); err != nil {
				return nil, &ExitError{Status: k.status, Err: err}
			}
			if cred != nil && k.env != "CONFIGURATION_DIRECTORY" {
				if err := os.Lchown(p, int(cred.uid), int(cred.gid)); err != nil {
					return nil, &ExitError{Status: k.status, Err: err}
				}
			}
			paths = append(paths, p)
		}
		env = append(env, k.env+"="+strings.Join(paths, ":"))
	}
	return env, nil
}

// dirPath joins a relative directory name to its root, refusing names that
// escape it.
func dirPath(root, name string) (string, error) {
	clean := filepath.Clean(name)
	if filepath.IsAbs(name) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("directory %q must be a relative path below %s", name, root)
	}
	return filepath.Join(root, clean), nil
}

// CleanupDirectories removes RuntimeDirectory= when the unit stops, unless
// RuntimeDirectoryPreserve=yes (systemd.exec(5)). With "restart" the caller
// decides: pass restarting=true to keep it.
func CleanupDirectories(ec *unitfile.ExecContext, restarting bool) error {
	if ec == nil || len(ec.RuntimeDirectory) == 0 {
		return nil
	}
	switch ec.RuntimeDirectoryPreserve {
	case "yes":
		return nil
	case "restart":
		if restarting {
			return nil
		}
	}
	var errs []error
	for _, name := range ec.RuntimeDirectory {
		p, err := dirPath(DirectoryRoots.Runtime, name)
		if err == nil {
			err = os.RemoveAll(p)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
