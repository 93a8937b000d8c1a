package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// This file is systemctl's manager-wide verbs and the flags gosd refuses.

// followFlag keeps `logs -f` meaning --follow: everywhere else -f is
// systemctl's --force.
func followFlag(args []string) []string {
	// Flags whose value is the next word, which is then no verb.
	valued := map[string]bool{"--socket": true, "-o": true, "--output": true, "-t": true, "--type": true,
		"--state": true, "-p": true, "--property": true, "-s": true, "--signal": true, "--kill-whom": true,
		"-n": true, "--lines": true, "-u": true, "--unit": true, "--job-mode": true, "--root": true,
		"--unit-path": true, "-S": true, "--since": true, "-U": true, "--until": true, "-P": true, "-H": true, "--host": true, "-M": true, "--machine": true}
	verb := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if valued[a] {
			i++
			continue
		}
		if !strings.HasPrefix(a, "-") {
			verb = a
			break
		}
	}
	if verb != "logs" {
		return args
	}
	out := make([]string, len(args))
	for i, a := range args {
		if a == "-f" {
			a = "--follow"
		}
		out[i] = a
	}
	return out
}

// refuseOrVersion answers --version, and refuses what gosd does not have
// (another host, a container's manager, per-user managers) with a
// sentence instead of acting on the local system.
func (c *ctl) refuseOrVersion() (int, bool) {
	switch {
	case c.Version:
		v := "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		fmt.Fprintf(c.out, "gosd %s (systemctl-compatible client of the gosd service manager)\n", v)
		return ExitOK, true
	case c.Host != "":
		c.errf("gosd controls the system it runs on only: -H/--host (a remote system over ssh) is not supported.")
		return ExitFailure, true
	case c.Machine != "":
		c.errf("gosd controls the system it runs on only: -M/--machine (a container's manager) is not supported.")
		return ExitFailure, true
	case c.User || c.Global:
		c.errf("gosd has no per-user service managers: --user and --global are not supported (only --system).")
		return ExitFailure, true
	}
	if len(c.PropValue) > 0 {
		c.Property = append(c.Property, c.PropValue...)
		c.Value = true
	}
	if c.Failed {
		c.State = append(c.State, "failed")
	}
	if c.Runtime && len(c.UnitPath) == 0 {
		// --runtime: links go below /run, gone at the next boot.
		c.UnitPath = []string{filepath.Join(c.Root, "/run/systemd/system")}
		for _, p := range DefaultUnitPath {
			if p != "/run/systemd/system" {
				c.UnitPath = append(c.UnitPath, filepath.Join(c.Root, p))
			}
		}
		c.runtimeLinks = true
	}
	return 0, false
}

func (c *ctl) systemInfo() (SystemInfo, error) {
	var si SystemInfo
	err := c.call(MethodSystem, nil, &si)
	return si, err
}

// isSystemRunning prints the state; exit 0 only for "running"
// (systemctl(1)). Without a manager to ask: "offline", as systemctl.
func (c *ctl) isSystemRunning() int {
	si, err := c.systemInfo()
	if err != nil {
		if !c.Quiet {
			fmt.Fprintln(c.out, "offline")
		}
		return ExitFailure
	}
	if !c.Quiet {
		fmt.Fprintln(c.out, si.State)
	}
	if si.State != "running" {
		return ExitFailure
	}
	return ExitOK
}

// getDefault follows the default.target link of the search path.
func (c *ctl) getDefault() int {
	set := c.fileSet()
	file, err := set.find("default.target")
	if err != nil {
		c.errf("Failed to get default target: No such file or directory")
		return ExitFailure
	}
	name := "default.target"
	if t, err := os.Readlink(file); err == nil {
		name = filepath.Base(t)
	}
	fmt.Fprintln(c.out, name)
	return ExitOK
}

// setDefault links default.target to the target's file in the link
// directory (replacing the link that is there), then reloads.
func (c *ctl) setDefault(target string) int {
	if !strings.Contains(target, ".") {
		target += ".target"
	}
	if strings.ContainsAny(target, "/\x00") {
		c.errf("Failed to set default target: %s is not a unit name.", target)
		return ExitFailure
	}
	set := c.fileSet()
	changes, err := set.SetDefault(target)
	if !c.Quiet {
		for _, ch := range changes {
			fmt.Fprintln(c.errw, ch)
		}
	}
	if err != nil {
		c.errf("Failed to set default target: %v", err)
		if errors.Is(err, ErrNoUnitFile) {
			return ExitNoSuchUnit
		}
		return ExitFailure
	}
	c.reloadAfterFiles(changes)
	return ExitOK
}

// SetDefault points default.target at target's file.
func (s *UnitFileSet) SetDefault(target string) ([]Change, error) {
	file, err := s.find(target)
	if err != nil {
		return nil, err
	}
	if isMaskLink(file) {
		return nil, fmt.Errorf("unit %s is masked", target)
	}
	dir := s.LinkDir()
	l := filepath.Join(dir, "default.target")
	dest := s.linkTarget(file)
	if cur, err := os.Readlink(l); err == nil && cur == dest {
		return nil, nil
	}
	var changes []Change
	if fi, err := os.Lstat(l); err == nil {
		if fi.Mode()&fs.ModeSymlink == 0 {
			return nil, fmt.Errorf("file %s exists and is not a link", l)
		}
		if err := os.Remove(l); err != nil {
			return nil, err
		}
		changes = append(changes, Change{Removed: true, Path: s.display(l)})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return changes, err
	}
	if err := os.Symlink(dest, l); err != nil {
		return changes, err
	}
	return append(changes, Change{Path: s.display(l), Target: dest}), nil
}

func (c *ctl) showEnvironment() int {
	si, err := c.systemInfo()
	if err != nil {
		return c.fail("get environment", err)
	}
	for _, kv := range si.Environment {
		fmt.Fprintln(c.out, kv)
	}
	return ExitOK
}

func (c *ctl) changeEnvironment(verb string, args []string) int {
	p := EnvironmentParams{}
	if verb == "set-environment" {
		for _, a := range args {
			if !strings.Contains(a, "=") {
				c.errf("Not a valid environment assignment: %s", a)
				return ExitFailure
			}
		}
		p.Set = args
	} else {
		p.Unset = args
	}
	if err := checkEnvironment(p); err != nil {
		c.errf("Failed to %s: %v", verb, err)
		return ExitFailure
	}
	return c.simple(MethodSetEnv, p)
}

// systemStatus is `systemctl status` without a unit: the system's state.
func (c *ctl) systemStatus() int {
	si, err := c.systemInfo()
	if err != nil {
		return c.fail("get system status", err)
	}
	if c.Output == "json" {
		return c.printJSON(si)
	}
	host, _ := os.Hostname()
	dot := c.paint(colGreen, "●")
	if si.State != "running" {
		dot = c.paint(colRed, "●")
	}
	fmt.Fprintf(c.out, "%s %s\n", dot, host)
	fmt.Fprintf(c.out, "    State: %s\n", c.paint(c.stateColor(map[bool]string{true: "active"}[si.State == "running"]), si.State))
	fmt.Fprintf(c.out, "    Units: %d loaded\n", si.NNames)
	fmt.Fprintf(c.out, "     Jobs: %d queued\n", si.NJobs)
	fmt.Fprintf(c.out, "   Failed: %d units\n", si.NFailed)
	if si.SinceUsec > 0 {
		fmt.Fprintf(c.out, "    Since: %s; %s\n", fmtTime(si.SinceUsec), formatAgo(time.Since(time.UnixMicro(si.SinceUsec)), "ago"))
	}
	return ExitOK
}
