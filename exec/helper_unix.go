//go:build linux || freebsd || darwin

package exec

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// applyAndExec runs in the helper: the sandbox first (namespaces, mounts),
// then root-only steps (limits, nice,
// oom_score_adj, chroot, the bounding set), then the credentials, then
// no_new_privs, then execve. It returns only on failure.
func applyAndExec(ins *instructions) (int, error) {
	env := os.Environ()
	if len(env) > 0 && env[0] == helperGODEBUG {
		env = env[1:] // the helper's own (startHelper)
	}
	if ins.NListen > 0 {
		// sd_listen_fds(3) checks LISTEN_PID == getpid(); this process
		// becomes the target, so its pid is the right one.
		env = append(env, "LISTEN_PID="+strconv.Itoa(os.Getpid()))
	}
	if ins.Sandbox != nil {
		// First: the namespace fds are beyond the listening ones, and
		// the next step closes those.
		if status, err := joinSharedNamespaces(ins.Sandbox); err != nil {
			return status, err
		}
	}
	if err := closeStrayFDs(3 + ins.NListen); err != nil {
		return exitFDs, err
	}
	if ins.Sandbox != nil {
		// Before the umask: directories made for mount points are 0755.
		if status, err := applySandbox(ins.Sandbox); err != nil {
			return status, err
		}
	}
	syscall.Umask(ins.Umask)
	for _, l := range ins.Limits {
		notice, err := setRlimitClosest(l)
		if err != nil {
			return exitLimits, fmt.Errorf("Limit%s=%s:%s: %w", l.Name, fmtRlim(l.Soft), fmtRlim(l.Hard), err)
		}
		if notice != "" {
			// The service's stderr, as for the helper's errors: its log.
			fmt.Fprintf(os.Stderr, "%s: %s\n", HelperArgv0, notice)
		}
	}
	if ins.Nice != nil {
		if err := setNice(*ins.Nice); err != nil {
			return exitNice, fmt.Errorf("nice %d: %w", *ins.Nice, err)
		}
	}
	if ins.OOMScoreAdjust != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*ins.OOMScoreAdjust)), 0); err != nil {
			return exitOOMAdjust, err
		}
	}
	if ins.Keyring != nil {
		if err := setupKeyring(ins.Keyring, env); err != nil {
			return exitKeyring, err
		}
	}
	if ins.Utmp != nil {
		// While still root; a failure is no reason not to start (systemd
		// only logs it).
		if err := writeUtmp(ins.Utmp, os.Getpid(), false); err != nil {
			fmt.Fprintf(os.Stderr, "gosd-exec-helper: utmp: %v\n", err)
		}
	}
	if status, err := applySched(ins.Sched); err != nil {
		return status, err
	}
	if status, err := applyPersonality(ins.Sched); err != nil {
		return status, err
	}
	if err := mountPrivateDirs(ins.PrivateDirs); err != nil {
		return exitNamespace, err
	}
	if ins.Chroot != "" {
		if err := syscall.Chroot(ins.Chroot); err != nil {
			return exitChroot, err
		}
	}
	if ins.Dir != "" {
		if err := syscall.Chdir(ins.Dir); err != nil {
			return exitChdir, err
		}
	}
	if ins.SetBounding {
		if err := dropBoundingSet(ins.BoundingSet); err != nil {
			return exitCapabilities, err
		}
	}
	if status, err := applySecureBits(ins.Sched); err != nil {
		return status, err
	}
	if ins.Cred != nil {
		if status, err := setCredentials(ins.Cred, ins.Ambient); err != nil {
			return status, err
		}
	} else if len(ins.Ambient) > 0 {
		if err := raiseAmbient(ins.Ambient); err != nil {
			return exitCapabilities, err
		}
	}
	if ins.NoNewPrivileges {
		if err := setNoNewPrivs(); err != nil {
			return exitNoNewPrivs, err
		}
	}
	if ins.IgnoreSIGPIPE {
		// The Go runtime of this helper handles SIGPIPE, and execve
		// resets handled signals to the default: ignoring survives it.
		signal.Ignore(syscall.SIGPIPE)
	}
	if ins.Seccomp != nil {
		// Last, as in systemd: the filters may forbid what came before.
		return execFiltered(ins.Path, ins.Argv, env, ins.Seccomp)
	}
	err := syscall.Exec(ins.Path, ins.Argv, env)
	return exitExec, fmt.Errorf("%s: %w", ins.Path, err)
}
