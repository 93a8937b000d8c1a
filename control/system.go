package control

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"gosd/manager"
)

// This file is the manager-wide state: systemd's SystemState and the
// manager's environment block (systemctl set-environment and its kin).

// Environmenter is implemented by a Backend that keeps a manager
// environment block: variables every unit started afterwards gets beneath
// its own Environment= (systemctl set-environment).
type Environmenter interface {
	// Environment is the block, sorted.
	Environment() []string
	// SetEnvironment applies unset (names, or NAME=VALUE for an exact
	// assignment) then set (NAME=VALUE), both already validated.
	SetEnvironment(set, unset []string)
}

// SystemInfo answers System: what `systemctl is-system-running`,
// `show-environment` and `status` without a unit print.
type SystemInfo struct {
	// State is systemd's SystemState: initializing, starting, running,
	// degraded or stopping.
	State       string   `json:"state"`
	NJobs       int      `json:"n_jobs"`
	NFailed     int      `json:"n_failed_units"`
	NNames      int      `json:"n_names"`
	Environment []string `json:"environment"`
	// Target is the boot target; SinceUsec when gosd started (wall clock).
	Target    string `json:"target,omitempty"`
	SinceUsec int64  `json:"since_usec,omitempty"`
}

// EnvironmentParams changes the manager's environment block.
type EnvironmentParams struct {
	Set   []string `json:"set,omitempty"`
	Unset []string `json:"unset,omitempty"`
}

// systemState is systemd's SystemState for the manager behind b (on the
// reactor): initializing until a boot target is known, starting until its
// job finished, stopping once shutdown.target is under way, degraded with
// a failed unit, else running.
func systemState(b Backend) (state string, jobs, failed int) {
	list := b.List()
	for _, st := range list {
		if st.Active == "failed" {
			failed++
		}
		if st.Job != "" {
			jobs++
		}
	}
	bt := b.Boot()
	switch {
	case stopping(b):
		return "stopping", jobs, failed
	case bt.Target == "":
		return "initializing", jobs, failed
	case bt.Finish == 0:
		return "starting", jobs, failed
	case failed > 0:
		return "degraded", jobs, failed
	}
	return "running", jobs, failed
}

// stopping: the system is going down once shutdown.target is being
// started (systemd's SystemState "stopping").
func stopping(b Backend) bool {
	st, ok := b.Status("shutdown.target")
	return ok && (st.Job == manager.JobStart || st.Active == "active" || st.Active == "activating")
}

// maxEnvironment bounds the block (entries and bytes): it is copied into
// every process gosd starts.
const (
	maxEnvEntries = 4096
	maxEnvBytes   = 1 << 20
)

// validEnvName: what systemd's env_name_is_valid takes, a name of
// letters, digits and underscores not starting with a digit.
func validEnvName(n string) bool {
	if n == "" || len(n) > 4096 || n[0] >= '0' && n[0] <= '9' {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validEnvValue: no NUL and no control bytes but tab and newline (systemd's
// env_value_is_valid), and valid UTF-8.
func validEnvValue(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			return false
		}
	}
	return true
}

// checkEnvironment validates set-environment's and unset-environment's
// arguments as systemctl and the manager do; the error names the first
// bad one.
func checkEnvironment(p EnvironmentParams) error {
	for _, kv := range p.Set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !validEnvName(k) || !validEnvValue(v) {
			return fmt.Errorf("not a valid environment assignment: %q", kv)
		}
	}
	for _, u := range p.Unset {
		k, v, hasValue := strings.Cut(u, "=")
		if !validEnvName(k) || hasValue && !validEnvValue(v) {
			return fmt.Errorf("not a valid environment variable name or assignment: %q", u)
		}
	}
	return nil
}

// ApplyEnvironment is the block after p, sorted (systemd keeps it sorted);
// an error when it would outgrow its bounds.
func ApplyEnvironment(cur []string, p EnvironmentParams) ([]string, error) {
	vals := map[string]string{}
	for _, kv := range cur {
		k, v, _ := strings.Cut(kv, "=")
		vals[k] = v
	}
	for _, u := range p.Unset {
		if k, v, ok := strings.Cut(u, "="); ok {
			if vals[k] == v {
				delete(vals, k)
			}
			continue
		}
		delete(vals, u)
	}
	for _, kv := range p.Set {
		k, v, _ := strings.Cut(kv, "=")
		vals[k] = v
	}
	out := make([]string, 0, len(vals))
	size := 0
	for k, v := range vals {
		out = append(out, k+"="+v)
		size += len(k) + len(v) + 2
	}
	if len(out) > maxEnvEntries || size > maxEnvBytes {
		return nil, fmt.Errorf("the environment block would exceed %d entries or %d bytes", maxEnvEntries, maxEnvBytes)
	}
	sort.Strings(out)
	return out, nil
}
