package exec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"gosd/unitfile"
)

// DirectoryRoots are the bases of RuntimeDirectory=, StateDirectory=,
// CacheDirectory=, LogsDirectory= and ConfigurationDirectory= for system
// services (systemd.exec(5) table "Automatic directory creation").
// Variables so tests can point them elsewhere.
var DirectoryRoots = struct{ Runtime, State, Cache, Logs, Config string }{
	unitfile.RunDir, "/var/lib", "/var/cache", "/var/log", "/etc",
}

type dirKind struct {
	names  []string
	root   string
	mode   uint32
	env    string
	status int
	// private: with DynamicUser= the directory lives in ROOT/private/
	// and ROOT/NAME is a symlink to it.
	private bool
}

func dirKinds(ec *unitfile.ExecContext) []dirKind {
	return []dirKind{
		{ec.RuntimeDirectory, DirectoryRoots.Runtime, ec.RuntimeDirectoryMode, "RUNTIME_DIRECTORY", exitRuntimeDir, false},
		{ec.StateDirectory, DirectoryRoots.State, ec.StateDirectoryMode, "STATE_DIRECTORY", exitStateDir, true},
		{ec.CacheDirectory, DirectoryRoots.Cache, ec.CacheDirectoryMode, "CACHE_DIRECTORY", exitCacheDir, true},
		{ec.LogsDirectory, DirectoryRoots.Logs, ec.LogsDirectoryMode, "LOGS_DIRECTORY", exitLogsDir, true},
		{ec.ConfigurationDirectory, DirectoryRoots.Config, ec.ConfigurationDirectoryMode, "CONFIGURATION_DIRECTORY", exitConfigDir, false},
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
		var links [][2]string // symlink, directory ("dir:symlink" form)
		for _, name := range dirNames(k.names) {
			p, err := dirPath(k.root, name)
			if err != nil {
				return nil, &ExitError{Status: k.status, Err: err}
			}
			real := p
			if ec.DynamicUser && k.private {
				if real, err = privateDirectory(k.root, name, p); err != nil {
					return nil, &ExitError{Status: k.status, Err: err}
				}
			} else if err := unprivateDirectory(k.root, name, p); err != nil {
				return nil, &ExitError{Status: k.status, Err: err}
			}
			if err := os.MkdirAll(real, os.FileMode(mode)); err != nil {
				return nil, &ExitError{Status: k.status, Err: err}
			}
			// MkdirAll applies the umask; the setting's mode is exact,
			// its set-group-ID and sticky bits too (RuntimeDirectoryMode=
			// 2755 of Debian's redis-server.service), which os.Chmod
			// would drop from a plain number.
			if err := syscall.Chmod(real, mode); err != nil {
				return nil, &ExitError{Status: k.status, Err: err}
			}
			if cred != nil && k.env != "CONFIGURATION_DIRECTORY" {
				if err := chownTree(real, cred.uid, cred.gid); err != nil {
					return nil, &ExitError{Status: k.status, Err: err}
				}
			}
			paths = append(paths, p)
		}
		for _, w := range k.names {
			dir, link, ok := strings.Cut(w, ":")
			if !ok || link == "" {
				continue
			}
			lp, err := dirPath(k.root, link)
			if err != nil {
				return nil, &ExitError{Status: k.status, Err: err}
			}
			links = append(links, [2]string{lp, filepath.Join(k.root, filepath.Clean(dir))})
		}
		for _, l := range links {
			if err := linkDirectory(l[0], l[1]); err != nil {
				return nil, &ExitError{Status: k.status, Err: err}
			}
		}
		env = append(env, k.env+"="+strings.Join(paths, ":"))
	}
	return env, nil
}

// dirNames are the directories of a *Directory= list without their
// ":symlink" parts, sorted and without repeats, so parents come first (as
// systemd orders them, $STATE_DIRECTORY and friends too).
func dirNames(words []string) []string {
	var out []string
	for _, w := range words {
		dir, _, _ := strings.Cut(w, ":")
		out = append(out, filepath.Clean(dir))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// linkDirectory makes link a symlink to dir ("dir:symlink" form of
// StateDirectory= and friends); an existing symlink is replaced, anything
// else is left and refused.
func linkDirectory(link, dir string) error {
	if cur, err := os.Readlink(link); err == nil {
		if cur == dir {
			return nil
		}
		os.Remove(link)
	} else if _, err := os.Lstat(link); err == nil {
		return fmt.Errorf("%s exists and is not a symlink", link)
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	return os.Symlink(dir, link)
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

// privateDirectory sets up ROOT/private/NAME for a DynamicUser= unit
// (systemd.exec(5) "StateDirectory="): ROOT/private is 0700 root, so a
// recycled uid cannot reach an earlier owner's files except through the
// symlink ROOT/NAME -> private/NAME. A plain directory ROOT/NAME left
// from before DynamicUser= was turned on is moved there. It returns the
// real directory.
func privateDirectory(root, name, p string) (string, error) {
	priv := filepath.Join(root, "private")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	if err := os.MkdirAll(priv, 0o700); err != nil {
		return "", err
	}
	if err := os.Chmod(priv, 0o700); err != nil {
		return "", err
	}
	real := filepath.Join(priv, filepath.Clean(name))
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		return "", err
	}
	st, err := os.Lstat(p)
	if err == nil && st.IsDir() {
		if _, err := os.Lstat(real); os.IsNotExist(err) {
			if err := os.Rename(p, real); err != nil {
				return "", fmt.Errorf("moving %s to %s: %w", p, real, err)
			}
		}
	}
	if err := os.MkdirAll(real, 0o755); err != nil {
		return "", err
	}
	// Below a directory that is itself private (aaa/bbb after aaa), the
	// path already leads there through the parent's symlink.
	if pst, err := os.Stat(p); err == nil {
		if rst, err := os.Stat(real); err == nil && os.SameFile(pst, rst) {
			return real, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	target, err := filepath.Rel(filepath.Dir(p), real)
	if err != nil {
		return "", err
	}
	if cur, err := os.Readlink(p); err == nil && cur == target {
		return real, nil
	}
	if st, err := os.Lstat(p); err == nil && st.Mode()&os.ModeSymlink == 0 {
		return "", fmt.Errorf("%s exists and is not a symlink to %s", p, target)
	}
	os.Remove(p) // a symlink pointing elsewhere
	if err := os.Symlink(target, p); err != nil {
		return "", err
	}
	return real, nil
}

// unprivateDirectory moves a directory back from ROOT/private/NAME when
// DynamicUser= was turned off (ROOT/NAME is still the symlink to it), so
// the unit keeps its data.
func unprivateDirectory(root, name, p string) error {
	real := filepath.Join(root, "private", filepath.Clean(name))
	target, err := filepath.Rel(filepath.Dir(p), real)
	if err != nil {
		return nil
	}
	if cur, err := os.Readlink(p); err != nil || cur != target {
		return nil
	}
	if err := os.Remove(p); err != nil {
		return err
	}
	return os.Rename(real, p)
}

// chownTree gives dir to uid:gid; when it was not theirs already, every
// file below too (systemd.exec(5): ownership is changed recursively only
// when the directory itself does not match). Links are not followed.
func chownTree(dir string, uid, gid uint32) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid == uid && sys.Gid == gid {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(uid), int(gid))
	})
}

// privateRoots are the DynamicUser= directories the child must reach
// through ROOT/private (mountPrivateDirs).
func privateRoots(ec *unitfile.ExecContext) []privateRoot {
	if !ec.DynamicUser {
		return nil
	}
	var out []privateRoot
	for _, k := range dirKinds(ec) {
		if k.private && len(k.names) > 0 {
			r := privateRoot{Root: k.root, Names: dirNames(k.names)}
			out = append(out, r)
		}
	}
	return out
}
