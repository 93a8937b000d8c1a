package main

import (
	"fmt"
	"strings"

	"gosd/bench/spec"
)

// The peers suite runs the same generated tree under gosd, the floor and other
// supervisors (runit's runsvdir, s6-svscan, supervisord). Every service is
// `helper up FIFO NAME MODE`: it signals readiness the way its supervisor
// understands (if at all), then writes "NAME PID" to a FIFO the harness reads;
// a run is "up" when the harness has read all N markers. This file holds the
// translations, which are plain text and tested without running anything.

// peerInfo says what a side does and does not do, for the report.
type peerInfo struct {
	name, pkg, bin string
	types          map[string]bool // service types with an equivalent
	does           string
}

var peerSides = []peerInfo{
	{name: "floor", types: map[string]bool{"simple": true, "notify": true, "oneshot": true},
		does: "After= ordering; waits for up before starting dependents (simple: spawned, notify: READY=1, oneshot: exited); stops in the reverse order"},
	{name: "gosd", types: map[string]bool{"simple": true, "notify": true, "oneshot": true},
		does: "unit files as generated; After= ordering, Wants=; waits for up before starting dependents (as the floor)"},
	{name: "runit", pkg: "runit", bin: "runsvdir", types: map[string]bool{"simple": true},
		does: "`runsvdir DIR`, one runsv per service dir, `run` = `#!/bin/sh` + `exec helper`; **no ordering** (all start at once; the `sv start dep` idiom in run scripts not used), **no readiness** protocol, no oneshot (runsv restarts exited services)"},
	{name: "s6", pkg: "s6", bin: "s6-svscan", types: map[string]bool{"simple": true, "notify": true},
		does: "`s6-svscan DIR`, one s6-supervise per service dir, `run` = `#!/bin/sh` + `exec helper`; notify = `notification-fd` 3 (helper writes a newline there first); **no ordering** (s6-rc would add dependencies: not packaged in Debian 12, not used), no oneshot without s6-rc"},
	{name: "supervisor", pkg: "supervisor", bin: "supervisord", types: map[string]bool{"simple": true, "oneshot": true},
		does: "`supervisord -n -c CONF`, one [program:x] each, autostart, startsecs=0, logs to NONE; chain = `priority=` by position (start order only, **no wait** for the previous to be up); oneshot = autorestart=false; **no readiness** protocol"},
}

func peerByName(name string) peerInfo {
	for _, p := range peerSides {
		if p.name == name {
			return p
		}
	}
	panic("unknown peer " + name)
}

func shortName(s spec.Service) string { return strings.TrimSuffix(s.Name, ".service") }

// markerTree is the tree with every service running `helper up FIFO NAME MODE`
// (MODE = the service type), for gosd and the floor.
func markerTree(t spec.Tree, helper, fifo string) spec.Tree {
	out := spec.Tree{Services: make([]spec.Service, len(t.Services))}
	for i, s := range t.Services {
		s.Argv = []string{helper, "up", fifo, shortName(s), s.Type}
		out.Services[i] = s
	}
	return out
}

// serviceDirs renders a runit or s6 scan directory: DIR/NAME/run (mode 0755)
// plus, for s6 and notify services, DIR/NAME/notification-fd. Keys are paths
// relative to the scan directory.
func serviceDirs(peer string, t spec.Tree, helper, fifo string) map[string]string {
	files := map[string]string{}
	for _, s := range t.Services {
		mode := s.Type
		if peer == "s6" && s.Type == "notify" {
			mode = "s6notify"
			files[shortName(s)+"/notification-fd"] = "3\n"
		}
		files[shortName(s)+"/run"] = fmt.Sprintf("#!/bin/sh\nexec %s up %s %s %s\n", helper, fifo, shortName(s), mode)
	}
	return files
}

// supervisorConf renders a supervisord.conf: one [program:x] per service,
// priority by position in the tree when any service has After= (start order
// only), oneshot as autorestart=false.
func supervisorConf(t spec.Tree, helper, fifo, dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[supervisord]\nnodaemon=true\nuser=root\nloglevel=warn\nlogfile=%s/supervisord.log\npidfile=%s/supervisord.pid\nchildlogdir=%s\n", dir, dir, dir)
	ordered := false
	for _, s := range t.Services {
		if len(s.After) > 0 {
			ordered = true
		}
	}
	for i, s := range t.Services {
		fmt.Fprintf(&b, "\n[program:%s]\ncommand=%s up %s %s %s\nautostart=true\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n",
			shortName(s), helper, fifo, shortName(s), s.Type)
		if ordered {
			fmt.Fprintf(&b, "priority=%d\n", i+1)
		}
		if s.Type == "oneshot" {
			b.WriteString("autorestart=false\n")
		}
	}
	return b.String()
}
