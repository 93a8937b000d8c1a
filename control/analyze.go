//go:build linux || freebsd

package control

import (
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gosd/manager"
)

// The server side of `analyze` (systemd-analyze time, blame,
// critical-chain, plot) and of the cgroup lines of `status`. Analyze is
// built from the manager's own record of state changes: nothing is
// measured at boot for it.

func runAnalyze(k *call) {
	k.reactor(func() {
		b := k.be()
		bt := b.Boot()
		rel := func(t time.Duration) int64 {
			if t == 0 {
				return 0
			}
			return (t - bt.Start).Microseconds()
		}
		list := b.List()
		after := orderingAfter(b, list)
		res := AnalyzeResult{
			Target: bt.Target, FinishUsec: rel(bt.Finish),
			StartupMonotonicUsec: bt.StartMonotonic.Microseconds(), Kernel: bt.Kernel,
			NowUsec: rel(k.c.srv.opts.now()), Units: []AnalyzeUnit{},
		}
		for _, st := range list {
			res.Units = append(res.Units, AnalyzeUnit{
				Name: st.Name, ActiveState: st.Active,
				ActivatingUsec: rel(st.InactiveExit), ActivatedUsec: rel(st.ActiveEnter),
				DeactivatingUsec: rel(st.ActiveExit), DeactivatedUsec: rel(st.InactiveEnter),
				After: after[st.Name],
			})
		}
		k.result(res)
	})
}

// orderingAfter lists, per loaded unit, the units it is ordered after: its
// After=, the Before= of others naming it, and the implicit orderings the
// manager adds (systemd.service(5), systemd.socket(5), systemd.target(5)
// "Default Dependencies"; a service after the sockets that activate it).
// On the reactor.
func orderingAfter(b Backend, list []manager.UnitStatus) map[string][]string {
	loaded := map[string]bool{}
	for _, st := range list {
		loaded[st.Name] = st.LoadState == "loaded"
	}
	sets := map[string]map[string]bool{}
	add := func(from, to string) {
		if from == to || !loaded[from] {
			return
		}
		if _, known := loaded[to]; !known {
			return
		}
		if sets[from] == nil {
			sets[from] = map[string]bool{}
		}
		sets[from][to] = true
	}
	for _, st := range list {
		u := b.Unit(st.Name)
		if u == nil || !loaded[st.Name] {
			continue
		}
		n := st.Name
		for _, a := range u.Unit.After {
			add(n, a)
		}
		for _, x := range u.Unit.Before {
			add(x, n)
		}
		dd := u.Unit.DefaultDependencies
		switch {
		case strings.HasSuffix(n, ".service"):
			if dd {
				if loaded["sysinit.target"] {
					add(n, "sysinit.target")
				}
				if loaded["basic.target"] {
					add(n, "basic.target")
				}
			}
			if u.Service != nil {
				for _, s := range u.Service.Sockets {
					add(n, s)
				}
			}
		case strings.HasSuffix(n, ".socket"):
			if dd {
				if loaded["sockets.target"] {
					add("sockets.target", n)
				}
				if loaded["sysinit.target"] {
					add(n, "sysinit.target")
				}
			}
			if sk := u.Socket; sk != nil && !sk.Accept {
				svc := sk.Service
				if svc == "" {
					svc = strings.TrimSuffix(n, ".socket") + ".service"
				}
				add(svc, n)
			}
		case strings.HasSuffix(n, ".target"):
			if dd {
				for _, w := range u.Unit.Wants {
					add(n, w)
				}
				for _, r := range u.Unit.Requires {
					add(n, r)
				}
			}
		}
	}
	out := map[string][]string{}
	for n, set := range sets {
		var l []string
		for x := range set {
			l = append(l, x)
		}
		out[n] = sortedUnique(l)
	}
	return out
}

// maxCgroupProcesses bounds the processes a status answer lists per unit.
const maxCgroupProcesses = 1000

// fillProcesses reads the command lines of the cgroups' processes. Called
// off the reactor: reading /proc/PID/cmdline takes the target's memory
// map lock and may wait for it. Command lines may hold secrets (and /proc
// may be mounted hidepid=), so a peer other than root gets each process's
// name (comm) only, as it gets no log lines.
func fillProcesses(details []UnitDetail, root bool) {
	for i := range details {
		d := &details[i]
		if d.Info.MainPID > 0 {
			d.MainComm = comm(d.Info.MainPID)
		}
		if d.Info.ControlPID > 0 {
			d.ControlComm = comm(d.Info.ControlPID)
		}
		cg := d.Cgroup
		if cg == nil {
			continue
		}
		budget := maxCgroupProcesses
		cg.Processes = processesOf(cg.Pids, root, &budget)
		fillNodes(cg.Children, root, &budget)
	}
}

// processesOf names pids (sorted in place), up to *budget of them in all.
func processesOf(pids []int, root bool, budget *int) []CgroupProcess {
	out := []CgroupProcess{}
	sort.Ints(pids)
	for _, pid := range pids {
		if *budget <= 0 {
			break
		}
		*budget--
		line := comm(pid)
		if root {
			line = cmdline(pid)
		}
		out = append(out, CgroupProcess{Pid: pid, Cmdline: line})
	}
	return out
}

// fillNodes names the processes of a slice's tree, depth first.
func fillNodes(nodes []CgroupNode, root bool, budget *int) {
	for i := range nodes {
		nodes[i].Processes = processesOf(nodes[i].Pids, root, budget)
		fillNodes(nodes[i].Children, root, budget)
	}
}

func cmdline(pid int) string {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	b, _ := readLimited(dir+"cmdline", 4096)
	s := strings.TrimRight(b, "\x00")
	if s != "" {
		// One line per process, as systemctl prints it: argument breaks
		// become spaces and control characters are escaped.
		return strings.Map(func(r rune) rune {
			switch {
			case r == 0 || r == '\n' || r == '\t':
				return ' '
			case r < 0x20 || r == 0x7f:
				return '?'
			}
			return r
		}, s)
	}
	if c := comm(pid); c != "" {
		return "[" + c + "]"
	}
	return "n/a"
}

func comm(pid int) string {
	c, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(c))
}

// detachDetails copies status answers out of manager state (through JSON,
// which is what the wire carries anyway), so they may be finished off the
// reactor.
func detachDetails(out []UnitDetail) ([]UnitDetail, error) {
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	var copied []UnitDetail
	err = json.Unmarshal(raw, &copied)
	return copied, err
}
