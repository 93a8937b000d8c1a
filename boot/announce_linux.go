package boot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Announce does, as PID1, what tells programs that a systemd-compatible
// service manager runs, the way systemd's PID1 tells them:
//
//   - /run/systemd/system exists: sd_booted(3) is true, and with it
//     systemctl, Debian's service, invoke-rc.d and deb-systemd-invoke
//     (each tests [ -d /run/systemd/system ]) and Ansible's service_mgr
//     fact treat the system as systemd's. It is also the runtime unit
//     directory of the search path.
//   - /run/systemd/container names the container manager in a container
//     (ContainerName): what systemd-detect-virt and ConditionVirtualization=
//     read in every process but PID1.
//   - PID1's comm (/proc/1/comm) is "systemd", as systemd names itself
//     whatever it was started as (/sbin/init): Ansible's service_facts
//     lists services only when /proc/1/comm contains "systemd", and its
//     service_mgr fact is "systemd" only when comm is exactly that (any
//     other name is taken as the name of another init). gosd answers
//     yes to sd_booted already, the documented test of the same question;
//     the comm says nothing more. /proc/1/cmdline and /proc/1/exe still
//     name gosd.
//
// root is "" for the real system (tests pass a scratch directory). Each
// step is independent; the error joins the failures, for the log.
func Announce(root string, log Logf) error {
	var errs []error
	if err := os.MkdirAll(root+"/run/systemd/system", 0o755); err != nil {
		errs = append(errs, fmt.Errorf("sd_booted marker: %w", err))
	}
	if name := ContainerName(); name != "" {
		p := root + "/run/systemd/container"
		if err := writeFileAtomic(p, name+"\n", 0o444); err != nil {
			errs = append(errs, fmt.Errorf("container marker: %w", err))
		} else {
			log.printf("boot: container %s, recorded in /run/systemd/container", name)
		}
	}
	if root == "" && os.Getpid() == 1 {
		// Writing /proc/self/comm names the thread group's leader, the
		// thread /proc/1/comm reads, whichever thread runs this.
		if err := os.WriteFile("/proc/self/comm", []byte("systemd"), 0); err != nil {
			errs = append(errs, fmt.Errorf("naming PID1 systemd: %w", err))
		}
	}
	return errors.Join(errs...)
}

// writeFileAtomic replaces p with data (never a half-written file, and
// never through a link someone left at p).
func writeFileAtomic(p, data string, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".gosd-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// ContainerName is the container manager gosd runs under, as systemd
// names it ("" outside a container): $container as the manager passed it
// to init (docker, podman, lxc, systemd-nspawn...; set but empty: none),
// else podman's /run/.containerenv or docker's /.dockerenv, else
// "container-other" in any PID namespace but the initial one (InContainer:
// unshare -p, runtimes that set nothing).
func ContainerName() string {
	if v, ok := os.LookupEnv("container"); ok {
		return strings.TrimSpace(v)
	}
	for _, f := range [][2]string{{"/run/.containerenv", "podman"}, {"/.dockerenv", "docker"}} {
		if _, err := os.Stat(f[0]); err == nil {
			return f[1]
		}
	}
	if InContainer() {
		return "container-other"
	}
	return ""
}
