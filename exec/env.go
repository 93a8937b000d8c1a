package exec

import (
	"errors"
	"fmt"
	"gosd/sockets"
	"io/fs"
	"os"
	"strings"

	"gosd/unitfile"
)

// envList is an ordered KEY=VALUE list where a later assignment replaces an
// earlier one in place.
type envList struct {
	keys []string
	vals map[string]string
}

func (e *envList) set(kv string) {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return
	}
	if e.vals == nil {
		e.vals = map[string]string{}
	}
	if _, seen := e.vals[k]; !seen {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

func (e *envList) unset(k string) {
	if _, ok := e.vals[k]; !ok {
		return
	}
	delete(e.vals, k)
	for i, key := range e.keys {
		if key == k {
			e.keys = append(e.keys[:i], e.keys[i+1:]...)
			break
		}
	}
}

func (e *envList) list() []string {
	out := make([]string, 0, len(e.keys))
	for _, k := range e.keys {
		out = append(out, k+"="+e.vals[k])
	}
	return out
}

// buildEnv assembles the environment in systemd's order (systemd.exec(5)
// "ENVIRONMENT VARIABLES IN SPAWNED PROCESSES"): the default $PATH, the
// manager's environment block (set-environment), the
// user's $USER $LOGNAME $HOME $SHELL, the *_DIRECTORY variables,
// PassEnvironment= from gosd's own environment, Environment=,
// EnvironmentFile= (a missing file fails the start unless "-"),
// UnsetEnvironment=; then the manager's variables and the protocol
// variables, which the unit cannot override.
// maxEnvFileSize bounds one EnvironmentFile= (systemd reads at most a few
// MiB of a file the same way).
const maxEnvFileSize = 4 << 20

func buildEnv(spec Spec, ec *unitfile.ExecContext, cred *credentials, dirEnv []string) ([]string, error) {
	var e envList
	e.set("PATH=" + searchPath(ec))
	for _, kv := range spec.GlobalEnv {
		e.set(kv)
	}
	if cred != nil && cred.user != "" {
		e.set("USER=" + cred.user)
		e.set("LOGNAME=" + cred.user)
		e.set("HOME=" + cred.home)
		e.set("SHELL=" + cred.shell)
	}
	for _, kv := range dirEnv {
		e.set(kv)
	}
	for _, k := range ec.PassEnvironment {
		if v, ok := os.LookupEnv(k); ok {
			e.set(k + "=" + v)
		}
	}
	for _, kv := range ec.Environment {
		e.set(kv)
	}
	for _, f := range ec.EnvironmentFiles {
		// Non-blocking, regular files only, bounded: the file may be one a
		// user can replace (a FIFO would hang the spawning reactor, a link
		// to /dev/zero fill its memory).
		data, err := unitfile.ReadRegularFile(f.Path, maxEnvFileSize)
		if err != nil {
			if f.Optional && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("EnvironmentFile=%s: %w", f.Path, err)
		}
		kvs, err := unitfile.ParseEnvironmentFile(data)
		if err != nil {
			return nil, fmt.Errorf("EnvironmentFile=%s: %w", f.Path, err)
		}
		for _, kv := range kvs {
			e.set(kv)
		}
	}
	for _, u := range ec.UnsetEnvironment {
		if k, v, ok := strings.Cut(u, "="); ok {
			// "VAR=VALUE" removes only that exact assignment.
			if cur, set := e.vals[k]; set && cur == v {
				e.unset(k)
			}
			continue
		}
		e.unset(u)
	}
	for _, kv := range spec.Env {
		e.set(kv)
	}
	if spec.NotifySocket != "" {
		e.set("NOTIFY_SOCKET=" + spec.NotifySocket)
	}
	// One name per fd; sd_listen_fds(3) calls an unnamed fd "unknown".
	names := append([]string(nil), spec.ListenNames...)
	for len(names) < len(spec.ListenFDs) {
		names = append(names, "unknown")
	}
	for _, kv := range sockets.ListenEnv(names[:len(spec.ListenFDs)]) {
		e.set(kv)
	}
	return e.list(), nil
}
