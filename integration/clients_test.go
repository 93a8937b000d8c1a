package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Real clients drive gosd as they drive systemd: systemd's own systemctl
// through the D-Bus API, Debian's service(8), and Ansible's systemd,
// systemd_service, service and service_facts modules. gosd runs as PID1 of
// a PID namespace with a private mount namespace and a fresh /run, so
// /run/systemd (sd_booted, the private bus socket) is its own and the
// host's is never touched; every client runs inside both namespaces
// (nsenter), where /proc/1 is gosd.

// clientUnits: a service that reloads, a socket and its service, a timer,
// a template, and units in the states the clients change: one running to
// be masked, one masked to be unmasked, one enabled to be disabled, one
// without ExecReload= (force-reload restarts it).
func clientUnits() map[string]string {
	return map[string]string{
		"default.target":    "[Unit]\nDescription=Default\nWants=multi-user.target sockets.target timers.target legacy.service plain.service\n",
		"multi-user.target": "[Unit]\nDescription=Multi-User System\n",
		"sockets.target":    "[Unit]\nDescription=Sockets\n",
		"timers.target":     "[Unit]\nDescription=Timers\n",
		"web.service": "[Unit]\nDescription=Web\n[Service]\n" +
			"ExecStart=/bin/sh -c 'echo \"started V=$V\" >> @T@/web.log; exec sleep 1000'\n" +
			"ExecReload=/bin/sh -c 'echo reloaded >> @T@/web.log'\n[Install]\nWantedBy=multi-user.target\n",
		"echo.socket":  "[Unit]\nDescription=Echo socket\n[Socket]\nListenStream=@T@/echo.sock\n[Install]\nWantedBy=sockets.target\n",
		"echo.service": "[Unit]\nDescription=Echo\n[Service]\nExecStart=/bin/sleep 1000\n",
		"tick.timer":   "[Unit]\nDescription=Tick timer\n[Timer]\nOnActiveSec=1h\n[Install]\nWantedBy=timers.target\n",
		"tick.service": "[Unit]\nDescription=Tick\n[Service]\nType=oneshot\nExecStart=/bin/true\n",
		"inst@.service": "[Unit]\nDescription=Instance %i\n[Service]\nExecStart=/bin/sh -c 'echo %i >> @T@/inst.log; exec sleep 1000'\n" +
			"[Install]\nWantedBy=multi-user.target\n",
		"legacy.service": "[Unit]\nDescription=To be masked\n[Service]\nExecStart=/bin/sleep 1000\n",
		"hidden.service": "[Unit]\nDescription=Masked, to be unmasked\n[Service]\nExecStart=/bin/sleep 1000\n",
		"old.service": "[Unit]\nDescription=Enabled, to be disabled\n[Service]\nExecStart=/bin/sleep 1000\n" +
			"[Install]\nWantedBy=multi-user.target\n",
		"plain.service":      "[Unit]\nDescription=No reload\n[Service]\nExecStart=/bin/sh -c 'echo started >> @T@/plain.log; exec sleep 1000'\n",
		"cond.service":       "[Unit]\nConditionPathExists=!/\nConditionPathExists=/nonexistent\n[Service]\nExecStart=/bin/true\n",
		"prefail.service":    "[Service]\nExecStartPre=/bin/true\nExecStartPre=/bin/sh -c 'exit 2'\nExecStart=/bin/sleep 1000\n",
		"grp.slice":          "[Unit]\nDescription=Group\n[Slice]\nTasksMax=50\n",
		"grp-member.service": "[Unit]\nDescription=Member\n[Service]\nSlice=grp.slice\nExecStart=/bin/sleep 1000\n",
		"envprobe.service": "[Service]\nType=oneshot\nEnvironment=OWN=unit\n" +
			"ExecStart=/bin/sh -c 'echo \"$GREETING $OWN\" > @T@/env'\n",
	}
}

// clientEnv is a gosd started for clients: in its namespaces, with the
// vendor units in units/ and the link directory etc/ first in the path
// (as /etc/systemd/system before /lib/systemd/system).
type clientEnv struct {
	*instance
	etc, vendor string
	pid         string // gosd's pid, as the host sees it
}

func startForClients(t *testing.T) *clientEnv {
	t.Helper()
	needRoot(t)
	needTools(t, "unshare", "nsenter")
	scratch := t.TempDir()
	vendor := writeUnits(t, scratch, clientUnits())
	etc := filepath.Join(scratch, "etc")
	// Before gosd starts: old.service enabled, hidden.service masked.
	os.MkdirAll(filepath.Join(etc, "multi-user.target.wants"), 0o755)
	os.Symlink(filepath.Join(vendor, "old.service"), filepath.Join(etc, "multi-user.target.wants", "old.service"))
	os.Symlink("/dev/null", filepath.Join(etc, "hidden.service"))
	// sh mounts the fresh /run and becomes gosd: gosd is PID1.
	script := fmt.Sprintf("mount -t tmpfs tmpfs /run && exec %s --unit-path %s --unit-path %s --notify-socket %s/notify.sock --private-bus-socket /run/systemd/private",
		gosdBin, etc, vendor, scratch)
	cmd := exec.Command("unshare", "-p", "-f", "-m", "--mount-proc", "--propagation", "private", "sh", "-c", script)
	in := launch(t, cmd, scratch, true)
	in.waitOutput("Reached target default.target", 20*time.Second)
	return &clientEnv{instance: in, etc: etc, vendor: vendor, pid: strconv.Itoa(in.gosdPid())}
}

// run runs a command inside gosd's namespaces, with extra environment.
func (e *clientEnv) run(env []string, name string, args ...string) ctlResult {
	e.t.Helper()
	return e.runFor(30*time.Second, env, name, args...)
}

// runFor is run with a time limit (ansible-playbook takes a while on a
// busy machine).
func (e *clientEnv) runFor(limit time.Duration, env []string, name string, args ...string) ctlResult {
	e.t.Helper()
	full := append([]string{"-t", e.pid, "-p", "-m", "env"}, env...)
	cmd := exec.Command("nsenter", append(append(full, name), args...)...)
	var o, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &errb
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		e.t.Fatalf("%s %v did not finish within %v\n%s\n%s", name, args, limit, o.String(), errb.String())
	}
	r := ctlResult{out: o.String(), err: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("%s %v: %v", name, args, err)
	}
	return r
}

// gosdctl is gosd's own client inside the namespaces, on its default
// socket (/run/gosd/control.sock of the private /run).
func (e *clientEnv) gosdctl(args ...string) ctlResult {
	e.t.Helper()
	return e.run(nil, gosdBin, append([]string{"ctl"}, args...)...)
}

// state is a unit's ActiveState/UnitFileState as gosd itself reports them.
func (e *clientEnv) state(unit string) string {
	e.t.Helper()
	r := e.gosdctl("show", "-p", "ActiveState,UnitFileState", "--value", unit)
	return strings.Join(strings.Fields(r.out), "/")
}

// TestSystemdSystemctlDrivesGosd: Debian's /bin/systemctl (systemd 252),
// which speaks D-Bus to /run/systemd/private, does its everyday verbs
// against gosd; so does Debian's service(8), which turns into systemctl
// calls once /run/systemd/system exists.
func TestSystemdSystemctlDrivesGosd(t *testing.T) {
	needTools(t, "systemctl", "service", "deb-systemd-invoke")
	e := startForClients(t)
	sc := func(want int, args ...string) ctlResult {
		t.Helper()
		r := e.run(nil, "systemctl", append([]string{"--no-pager"}, args...)...)
		if r.code != want {
			t.Errorf("systemctl %v: want exit %d, got %s", args, want, r)
		}
		return r
	}
	contains := func(r ctlResult, want string) {
		t.Helper()
		if !strings.Contains(r.out+r.err, want) {
			t.Errorf("want %q in:\n%s", want, r)
		}
	}

	contains(sc(0, "is-system-running"), "running")
	contains(sc(0, "get-default"), "default.target")
	contains(sc(3, "status", "web"), "Loaded: loaded ("+filepath.Join(e.vendor, "web.service")+"; disabled")
	contains(sc(0, "list-units", "--all"), "legacy.service")
	contains(sc(0, "list-unit-files"), "old.service")

	// enable --now, is-enabled, and the link it made.
	contains(sc(0, "enable", "--now", "web"), "Created symlink "+filepath.Join(e.etc, "multi-user.target.wants", "web.service"))
	contains(sc(0, "is-enabled", "web"), "enabled")
	contains(sc(0, "is-enabled", "--full", "web"), filepath.Join(e.etc, "multi-user.target.wants", "web.service"))
	contains(sc(0, "is-active", "web"), "active")
	if st := e.state("web"); st != "active/enabled" {
		t.Errorf("web after enable --now: %s", st)
	}
	sc(0, "reload", "web")
	sc(0, "restart", "web")
	e.waitFor("web reloaded and restarted", 10*time.Second, func() bool {
		return strings.Count(e.read("web.log"), "started") == 2 && strings.Contains(e.read("web.log"), "reloaded")
	})
	contains(sc(0, "show", "-p", "CanReload,MainPID", "web"), "CanReload=yes")
	sc(0, "disable", "web")
	contains(sc(1, "is-enabled", "web"), "disabled")

	// mask a running unit and stop it (stop after mask), unmask another.
	contains(sc(0, "mask", "legacy"), "Created symlink "+filepath.Join(e.etc, "legacy.service")+" → /dev/null")
	sc(0, "daemon-reload")
	sc(0, "stop", "legacy")
	contains(sc(1, "is-enabled", "legacy"), "masked")
	if st := e.state("legacy"); !strings.HasPrefix(st, "inactive") {
		t.Errorf("legacy after mask and stop: %s", st)
	}
	contains(sc(0, "unmask", "hidden"), "Removed")
	sc(0, "start", "hidden")
	contains(sc(0, "is-active", "hidden"), "active")

	// A socket, a timer, a template instance.
	sc(0, "enable", "--now", "echo.socket", "tick.timer", "inst@one.service")
	contains(sc(0, "is-active", "echo.socket", "tick.timer", "inst@one"), "active\nactive\nactive")
	contains(sc(0, "show", "-p", "Triggers", "echo.socket"), "Triggers=echo.service")
	// Stopping a service its socket can start again: both clients warn.
	const warning = "Warning: Stopping echo.service, but it can still be activated by:\n  echo.socket"
	contains(sc(0, "stop", "echo.service"), warning)
	if r := e.gosdctl("stop", "echo.service"); r.code != 0 || !strings.Contains(r.err, warning) {
		t.Errorf("gosd's stop of a socket-activated service: %s", r)
	}
	contains(sc(0, "list-timers"), "tick.timer")
	e.waitFor("inst@one ran", 10*time.Second, func() bool { return strings.Contains(e.read("inst.log"), "one") })

	// gosd's status prints what systemd's prints for the same units (up to
	// the process figures, which change between two calls).
	head := func(out string) string {
		var keep []string
		rel := regexp.MustCompile(`; [0-9][^;]* (ago|left)$`)
		for _, l := range strings.Split(out, "\n") {
			t := strings.TrimSpace(l)
			if t == "" || strings.HasPrefix(t, "Main PID:") || strings.HasPrefix(t, "Tasks:") || strings.HasPrefix(t, "CGroup:") {
				break
			}
			keep = append(keep, rel.ReplaceAllString(l, "; REL"))
		}
		return strings.Join(keep, "\n")
	}
	sc(0, "start", "cond") // skipped: a condition does not hold
	for _, u := range []string{"echo.socket", "tick.timer", "legacy.service", "web.service", "cond.service"} {
		theirs, ours := head(e.run(nil, "systemctl", "status", "--no-pager", u).out), head(e.gosdctl("status", u).out)
		if theirs != ours || theirs == "" {
			t.Errorf("status %s differs\nsystemd's systemctl:\n%s\ngosd's:\n%s", u, theirs, ours)
		}
	}

	// A slice: both clients draw its members' tree under its CGroup:
	// line (systemd's from GetUnitProcesses).
	sc(0, "start", "grp-member")
	memberPid := strings.TrimSpace(e.gosdctl("show", "-p", "MainPID", "--value", "grp-member").out)
	tree := regexp.MustCompile(`(?m)^\s+CGroup: /\S*grp\.slice\n\s+└─grp-member\.service\n\s+└─` + memberPid + ` /bin/sleep 1000\n`)
	theirSlice, ourSlice := e.run(nil, "systemctl", "status", "--no-pager", "grp.slice").out, e.gosdctl("status", "grp.slice").out
	t.Logf("systemd's systemctl status grp.slice:\n%s", theirSlice)
	if !tree.MatchString(theirSlice) || !tree.MatchString(ourSlice) || head(theirSlice) != head(ourSlice) {
		t.Errorf("status grp.slice\nsystemd's systemctl:\n%s\ngosd's:\n%s", theirSlice, ourSlice)
	}

	// A failed ExecStartPre=: systemd's systemctl and gosd's print the
	// same Process: lines, from the same Exec*= records.
	sc(1, "start", "prefail")
	processLines := func(out string) string {
		var l []string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "Process:") {
				l = append(l, strings.TrimSpace(line))
			}
		}
		return strings.Join(l, "\n")
	}
	theirs := processLines(sc(3, "status", "prefail").out)
	ours := processLines(e.gosdctl("status", "prefail").out)
	if !regexp.MustCompile(`^Process: \d+ ExecStartPre=/bin/true \(code=exited, status=0/SUCCESS\)\nProcess: \d+ ExecStartPre=/bin/sh -c exit 2 \(code=exited, status=2\)$`).MatchString(theirs) || ours != theirs {
		t.Errorf("Process: lines of a failed ExecStartPre=\nsystemd's systemctl:\n%s\ngosd's:\n%s", theirs, ours)
	}
	contains(sc(0, "show", "-p", "ExecStartPre", "prefail"), "code=exited ; status=2 }")
	if r := e.gosdctl("status", "echo.service"); !strings.Contains(r.out, "TriggeredBy: ● echo.socket") {
		t.Errorf("gosd's status of a socket-activated service:\n%s", r)
	}

	// Debian's deb-systemd-invoke (what maintainer scripts call) restarts
	// an enabled unit, through systemd's systemctl and through gosd's.
	// An image's policy-rc.d that forbids every action (Docker's) is
	// hidden in gosd's mount namespace only.
	if _, err := os.Stat("/usr/sbin/policy-rc.d"); err == nil {
		if r := e.run(nil, "mount", "--bind", "/dev/null", "/usr/sbin/policy-rc.d"); r.code != 0 {
			t.Fatalf("hiding policy-rc.d: %s", r)
		}
	}
	gosdBinDir := filepath.Join(e.dir, "bin")
	os.MkdirAll(gosdBinDir, 0o755)
	os.Symlink(gosdBin, filepath.Join(gosdBinDir, "systemctl"))
	for i, env := range [][]string{nil, {"PATH=" + gosdBinDir + ":" + os.Getenv("PATH")}} {
		if r := e.run(env, "deb-systemd-invoke", "restart", "inst@one.service"); r.code != 0 {
			t.Errorf("deb-systemd-invoke restart: %s", r)
		}
		e.waitFor("inst@one restarted", 10*time.Second, func() bool { return strings.Count(e.read("inst.log"), "one") == i+2 })
	}

	// kill, set-environment, set-default, reset-failed, exit codes.
	sc(0, "kill", "--signal=KILL", "inst@one")
	e.waitFor("inst@one killed", 10*time.Second, func() bool { return strings.HasPrefix(e.state("inst@one"), "failed") })
	contains(sc(3, "status", "inst@one"), "(code=killed, signal=KILL)")
	sc(0, "reset-failed")
	contains(sc(0, "is-system-running"), "running")
	sc(0, "set-environment", "GREETING=hello", "OWN=manager")
	contains(sc(0, "show-environment"), "GREETING=hello")
	// The block reaches what starts afterwards, beneath the unit's own.
	sc(0, "start", "envprobe")
	if got := strings.TrimSpace(e.read("env")); got != "hello unit" {
		t.Errorf("environment of a unit started after set-environment: %q, want \"hello unit\"", got)
	}
	// The invocation id, as both clients show it and the unit saw it.
	theirID := strings.TrimSpace(sc(0, "show", "-p", "InvocationID", "--value", "envprobe").out)
	ourID := strings.TrimSpace(e.gosdctl("show", "-p", "InvocationID", "--value", "envprobe").out)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(theirID) || ourID != theirID {
		t.Errorf("InvocationID: systemd's systemctl %q, gosd's %q", theirID, ourID)
	}
	sc(0, "unset-environment", "OWN")
	if r := sc(0, "show-environment"); strings.Contains(r.out, "OWN=") {
		t.Errorf("unset-environment left OWN:\n%s", r)
	}

	// A unit file changed on disk: NeedDaemonReload until daemon-reload.
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(filepath.Join(e.vendor, "plain.service"), []byte("[Unit]\nDescription=No reload, changed\n[Service]\nExecStart=/bin/sh -c 'echo started >> "+e.dir+"/plain.log; exec sleep 1000'\n"), 0o644)
	contains(sc(0, "show", "-p", "NeedDaemonReload", "plain"), "NeedDaemonReload=yes")
	sc(0, "daemon-reload")
	contains(sc(0, "show", "-p", "NeedDaemonReload,Description", "plain"), "Description=No reload, changed\nNeedDaemonReload=no")
	sc(0, "set-default", "multi-user.target")
	contains(sc(0, "get-default"), "multi-user.target")
	if l, _ := os.Readlink(filepath.Join(e.etc, "default.target")); l != filepath.Join(e.vendor, "multi-user.target") {
		t.Errorf("default.target -> %q", l)
	}
	sc(5, "start", "nosuch")
	sc(1, "kill", "nosuch")
	sc(1, "is-enabled", "nosuch")

	// Debian's service(8): start, force-reload (restarts a unit that
	// cannot reload, reloads one that can), stop.
	svc := func(args ...string) {
		t.Helper()
		if r := e.run(nil, "service", args...); r.code != 0 {
			t.Errorf("service %v: %s", args, r)
		}
	}
	svc("web", "start")
	before := strings.Count(e.read("web.log"), "started")
	svc("web", "force-reload")
	svc("plain", "force-reload")
	e.waitFor("plain restarted", 10*time.Second, func() bool { return strings.Count(e.read("plain.log"), "started") == 2 })
	if n := strings.Count(e.read("web.log"), "started"); n != before {
		t.Errorf("force-reload of a unit with ExecReload= restarted it (%d starts, was %d)", n, before)
	}
	svc("plain", "stop")
	if st := e.state("plain"); !strings.HasPrefix(st, "inactive") {
		t.Errorf("plain after service stop: %s", st)
	}

	// daemon-reexec through D-Bus keeps the units.
	sc(0, "daemon-reexec")
	e.waitFor("gosd back after reexec", 20*time.Second, func() bool {
		return e.run(nil, "systemctl", "is-active", "hidden").code == 0
	})
	contains(sc(0, "show-environment"), "GREETING=hello")
	// systemctl exit N (SetExitCode, then StartUnit exit.target in mode
	// replace-irreversibly): an orderly stop, and gosd exits with N.
	// (systemctl may not outlive the reply by much: when gosd, the
	// namespace's init, is done first, the kernel kills what is left in
	// the namespace, systemctl too.)
	if r := e.run(nil, "systemctl", "exit", "7"); r.code != 0 && r.code != -1 {
		t.Errorf("systemctl exit 7: %s", r)
	}
	if code := e.wait(30 * time.Second); code != 7 {
		t.Errorf("gosd exit %d after systemctl exit 7", code)
	}
	if !strings.Contains(e.out.String(), "Stopped web.service") {
		t.Errorf("no orderly stop before the exit")
	}
}

// ansiblePlay runs the playbook in gosd's namespaces and returns the
// PLAY RECAP's ok, changed and failed counts.
func ansiblePlay(t *testing.T, e *clientEnv, book string, env []string) (ok, changed, failed int, out string) {
	t.Helper()
	env = append(env, "ANSIBLE_LOCAL_TEMP="+filepath.Join(e.dir, "ansible-tmp"), "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_RETRY_FILES_ENABLED=0", "HOME="+e.dir)
	r := e.runFor(5*time.Minute, env, "ansible-playbook", "-i", "localhost,", book)
	m := regexp.MustCompile(`localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)`).FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("no PLAY RECAP:\n%s", r)
	}
	ok, _ = strconv.Atoi(m[1])
	changed, _ = strconv.Atoi(m[2])
	failed, _ = strconv.Atoi(m[3])
	return ok, changed, failed, r.out + r.err
}

// clientPlaybook exercises the four modules on every kind of unit:
// start, stop, restart and reload (as handlers, so that a second run has
// nothing to do), enable, disable, mask, unmask and daemon_reload.
const clientPlaybook = `- hosts: localhost
  connection: local
  gather_facts: true
  gather_subset: ['!all']
  handlers:
    - name: reload web
      ansible.builtin.systemd: {name: web, state: reloaded}
    - name: restart web
      ansible.builtin.systemd_service: {name: web.service, state: restarted, daemon_reload: true}
  tasks:
    - name: the manager is systemd-compatible
      ansible.builtin.assert:
        that: ansible_service_mgr == 'systemd'
    - ansible.builtin.systemd: {daemon_reload: true}
    - name: a service started and enabled
      ansible.builtin.systemd: {name: web, state: started, enabled: true}
    - name: its configuration changes
      ansible.builtin.copy: {dest: @T@/web.conf, content: "v1\n"}
      notify: reload web
    - ansible.builtin.file: {path: @ETC@/web.service.d, state: directory}
    - name: a drop-in changes
      ansible.builtin.copy: {dest: @ETC@/web.service.d/env.conf, content: "[Service]\nEnvironment=V=2\n"}
      notify: restart web
    - name: a socket
      ansible.builtin.systemd_service: {name: echo.socket, state: started, enabled: true}
    - name: a timer, through the service module
      ansible.builtin.service: {name: tick.timer, state: started, enabled: true}
    - name: a template instance
      ansible.builtin.systemd: {name: inst@one.service, state: started, enabled: true}
    - name: stop and mask a running service
      ansible.builtin.systemd: {name: legacy, state: stopped, masked: true}
    - name: unmask a masked one and start it
      ansible.builtin.systemd: {name: hidden, masked: false, state: started}
    - name: disable and stop an enabled one, through the service module
      ansible.builtin.service: {name: old, state: stopped, enabled: false}
    - ansible.builtin.service_facts:
    - name: service_facts sees the services as systemctl shows them
      ansible.builtin.assert:
        that:
          - ansible_facts.services['web.service'].state == 'running'
          - ansible_facts.services['web.service'].status == 'enabled'
          - ansible_facts.services['old.service'].status == 'disabled'
          - ansible_facts.services['legacy.service'].status == 'masked'
          - ansible_facts.services['inst@one.service'].state == 'running'
`

// TestAnsibleAgainstGosd runs the playbook twice, with systemd's
// systemctl (D-Bus) and with gosd's own as systemctl: every task ok, the
// second run changes nothing, and gosd's own view agrees with what the
// play asked for.
func TestAnsibleAgainstGosd(t *testing.T) {
	needTools(t, "ansible-playbook", "systemctl")
	for _, client := range []string{"systemd's systemctl", "gosd's systemctl"} {
		t.Run(strings.ReplaceAll(client, " ", "_"), func(t *testing.T) {
			e := startForClients(t)
			var env []string
			if client == "gosd's systemctl" {
				// gosd as /usr/bin/systemctl would be: first in $PATH.
				bin := filepath.Join(e.dir, "bin")
				os.MkdirAll(bin, 0o755)
				if err := os.Symlink(gosdBin, filepath.Join(bin, "systemctl")); err != nil {
					t.Fatal(err)
				}
				env = append(env, "PATH="+bin+":"+os.Getenv("PATH"))
			}
			book := filepath.Join(e.dir, "play.yml")
			text := strings.NewReplacer("@T@", e.dir, "@ETC@", e.etc).Replace(clientPlaybook)
			if err := os.WriteFile(book, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			ok, changed, failed, out := ansiblePlay(t, e, book, env)
			if failed != 0 || changed == 0 {
				t.Fatalf("first run: ok=%d changed=%d failed=%d\n%s", ok, changed, failed, out)
			}
			t.Logf("first run: ok=%d changed=%d", ok, changed)
			ok, changed, failed, out = ansiblePlay(t, e, book, env)
			if failed != 0 || changed != 0 {
				t.Fatalf("second run: ok=%d changed=%d failed=%d (want nothing changed)\n%s", ok, changed, failed, out)
			}
			for unit, want := range map[string]string{
				"web": "active/enabled", "echo.socket": "active/enabled", "tick.timer": "active/enabled",
				"inst@one": "active/enabled", "legacy": "inactive/masked", "hidden": "active/static",
				"old": "inactive/disabled",
			} {
				if got := e.state(unit); got != want {
					t.Errorf("%s: %s, want %s", unit, got, want)
				}
			}
			// The handlers ran once: reloaded, then restarted with the drop-in.
			if log := e.read("web.log"); !strings.Contains(log, "reloaded") || !strings.Contains(log, "started V=2") {
				t.Errorf("web.log:\n%s", log)
			}
			if code := e.stop(20 * time.Second); code != 0 {
				t.Errorf("gosd exit %d", code)
			}
		})
	}
}
