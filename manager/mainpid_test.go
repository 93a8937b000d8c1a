package manager

import (
	"gosd/unitfile"
	"strconv"
	"testing"
)

// Issue 18 item 1: MAINPID= and PIDFile= under systemd's rules.
func TestMainPIDRules(t *testing.T) {
	const victimPid, gosdPid, strayPid, childPid = 0, 4000, 5000, 6000 // victimPid filled below
	cases := []struct {
		name       string
		pid        int // 0: the victim's main pid
		who        PidOwner
		privileged bool
		want       bool
	}{
		{"another unit's process (known to the manager)", 0, PidOwner{}, false, false},
		{"another unit's process, root sender", 0, PidOwner{}, true, false},
		{"another unit's process by its cgroup, root sender", strayPid, PidOwner{Unit: "victim.service"}, true, false},
		{"gosd itself", gosdPid, PidOwner{Manager: true}, false, false},
		{"gosd itself, root sender", gosdPid, PidOwner{Manager: true}, true, false},
		{"pid 1, root sender", 1, PidOwner{}, true, false},
		{"a dead process, root sender", strayPid, PidOwner{Gone: true}, true, false},
		{"a process of no unit", strayPid, PidOwner{}, false, false},
		{"a process of no unit, root sender", strayPid, PidOwner{}, true, true},
		{"a process in the unit's own cgroup", childPid, PidOwner{Unit: "n.service"}, false, true},
		{"what the reactor found was about another pid", childPid, PidOwner{Pid: 1234, Unit: "n.service"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := svc("n.service", "notify")
			n.Service.WatchdogSec = 1e9
			h := newHarness(t, memSource{}.add(n, svc("victim.service", "simple")))
			vp, _ := h.spawnAll(h.start("victim.service"))
			victim := vp["victim.service/main"]
			np, _ := h.spawnAll(h.start("n.service"))
			attacker := np["n.service/main"]
			h.step(Notify{Pid: attacker, Fields: [][2]string{{"READY", "1"}}})
			h.wantState("n.service", "active/running")
			pid := c.pid
			if pid == victimPid {
				pid = victim
			}
			who := c.who
			if who.Pid == 0 {
				who.Pid = pid
			}
			h.all = nil
			h.step(Notify{Pid: attacker, Privileged: c.privileged, MainPID: who,
				Fields: [][2]string{{"MAINPID", strconv.Itoa(pid)}}})
			st, _ := h.m.Status("n.service")
			if got := st.MainPID == pid; got != c.want {
				t.Fatalf("MAINPID=%d accepted=%v, want %v\n%s", pid, got, c.want, dump(h.all))
			}
			if !c.want && !hasLog(h.all, "refusing it (MAINPID=)") {
				t.Fatalf("refusal not logged:\n%s", dump(h.all))
			}
			// WATCHDOG=trigger signals the unit's main process, never
			// anything the refused MAINPID= named.
			effs := h.step(Notify{Pid: attacker, Fields: [][2]string{{"WATCHDOG", "trigger"}}})
			for _, k := range find[Kill](effs) {
				if !c.want && k.Pid == pid {
					t.Fatalf("refused pid %d signalled: %+v", pid, k)
				}
				if k.Unit != "n.service" {
					t.Fatalf("another unit signalled: %+v", k)
				}
			}
			if s, _ := h.m.Status("victim.service"); s.MainPID != victim || s.Active != "active" {
				t.Fatalf("victim disturbed: %+v", s)
			}
		})
	}
}

// The control process is never the main process.
func TestMainPIDNotTheControlProcess(t *testing.T) {
	n := svc("n.service", "notify")
	n.Service.NotifyAccess = "all"
	n.Service.ExecStartPost = []unitfile.ExecCommand{cmd("/bin/post")}
	h := newHarness(t, memSource{}.add(n))
	pids, _ := h.spawnAll(h.start("n.service"))
	h.step(Notify{Pid: pids["n.service/main"], Fields: [][2]string{{"READY", "1"}}})
	ctl := 0
	for _, sp := range spawnsOf(h.all, "n.service") {
		if sp.Role == "control" {
			ctl = h.pid + 1
			h.step(Spawned{ID: sp.ID, Pid: ctl})
			h.pid++
		}
	}
	if ctl == 0 {
		t.Fatalf("no ExecStartPost=:\n%s", dump(h.all))
	}
	h.step(Notify{Pid: ctl, Privileged: true, MainPID: PidOwner{Pid: ctl, Unit: "n.service"},
		Fields: [][2]string{{"MAINPID", strconv.Itoa(ctl)}}})
	if st, _ := h.m.Status("n.service"); st.MainPID == ctl {
		t.Fatal("the control process became the main process")
	}
}

func TestPIDFileRules(t *testing.T) {
	cases := []struct {
		name    string
		who     PidOwner
		trusted bool
		want    bool
	}{
		{"in the unit, untrusted file", PidOwner{Unit: "f.service"}, false, true},
		{"outside every unit, root-owned file", PidOwner{}, true, true},
		{"outside every unit, file not root's (or unsafe path)", PidOwner{}, false, false},
		{"another unit's process, root-owned file", PidOwner{Unit: "victim.service"}, true, false},
		{"gosd itself, root-owned file", PidOwner{Manager: true}, true, false},
		{"dead", PidOwner{Gone: true}, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := svc("f.service", "forking")
			f.Service.PIDFile = "/run/f.pid"
			h := newHarness(t, memSource{}.add(f, svc("victim.service", "simple")))
			h.spawnAll(h.start("victim.service"))
			pids, _ := h.spawnAll(h.start("f.service"))
			h.step(Exited{Pid: pids["f.service/main"], Status: exited(0)})
			who := c.who
			who.Pid = 777
			h.step(PIDFileRead{Unit: "f.service", Pid: 777, Owner: who, Trusted: c.trusted})
			if c.want {
				h.wantState("f.service", "active/running")
				return
			}
			h.wantState("f.service", "failed/failed")
			if s, _ := h.m.Status("f.service"); s.Result != "protocol" {
				t.Fatalf("result %q, want protocol", s.Result)
			}
			for _, k := range find[Kill](h.all) {
				if k.Pid == 777 {
					t.Fatalf("refused pid signalled: %+v", k)
				}
			}
		})
	}
}

// MAINPID= counts only while the service starts, runs, reloads or
// stops: an ExecStartPre= process (NotifyAccess=all) or a process left in
// the cgroup of a dead service cannot hand the unit a main process.
func TestMainPIDOnlyWhileItRuns(t *testing.T) {
	n := svc("n.service", "notify")
	n.Service.NotifyAccess = "all"
	n.Service.ExecStartPre = []unitfile.ExecCommand{cmd("/bin/pre")}
	h := newHarness(t, memSource{}.add(n))
	effs := h.start("n.service")
	var pre Spawn
	for _, sp := range find[Spawn](effs) {
		pre = sp
	}
	if pre.Role != "control" {
		t.Fatalf("want the ExecStartPre= spawn first:\n%s", dump(h.all))
	}
	ctl := 7100
	h.step(Spawned{ID: pre.ID, Pid: ctl})
	h.wantState("n.service", "activating/start-pre")
	// The pre process names a child of its own, in the unit's cgroup.
	const child = 7101
	h.step(Notify{Pid: ctl, Privileged: true, MainPID: PidOwner{Pid: child, Unit: "n.service"},
		Fields: [][2]string{{"MAINPID", strconv.Itoa(child)}}})
	if st, _ := h.m.Status("n.service"); st.MainPID != 0 {
		t.Fatalf("MAINPID= taken in start-pre: %d", st.MainPID)
	}

	// The unit runs, stops and is dead; a process left in its cgroup speaks.
	d := svc("d.service", "notify")
	d.Service.NotifyAccess = "all"
	h2 := newHarness(t, memSource{}.add(d))
	pids, _ := h2.spawnAll(h2.start("d.service"))
	main := pids["d.service/main"]
	h2.step(Notify{Pid: main, Fields: [][2]string{{"READY", "1"}}})
	h2.wantState("d.service", "active/running")
	h2.step(Exited{Pid: main, Status: exited(0)})
	h2.step(CgroupEmpty{Unit: "d.service"})
	h2.wantState("d.service", "inactive/dead")
	const stray = 7200
	h2.all = nil
	h2.step(Notify{Pid: stray, Unit: "d.service", Privileged: true, MainPID: PidOwner{Pid: stray, Unit: "d.service"},
		Fields: [][2]string{{"MAINPID", strconv.Itoa(stray)}}})
	if st, _ := h2.m.Status("d.service"); st.MainPID != 0 {
		t.Fatalf("MAINPID= taken by a dead unit: %d\n%s", st.MainPID, dump(h2.all))
	}
	if !hasLog(h2.all, "Ignoring MAINPID=") {
		t.Fatalf("not logged:\n%s", dump(h2.all))
	}
}
