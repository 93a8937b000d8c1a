package reactor

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/manager"
)

// A unit's processes are spawned into its cgroup; a setsid'ed grandchild
// stays there; a group SIGKILL goes through cgroup.kill and ends with a
// CgroupEmpty event; the cgroup and gosd's private root are gone after Run.
func TestCgroupPlacementKillAndEmpty(t *testing.T) {
	root := fmt.Sprintf("gosd-reactor-test-%d", os.Getpid())
	dir := t.TempDir()
	var info CgroupInfo
	var haveInfo, available bool
	var created string
	var r *Reactor
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.CgroupsAvailable:
			available = true
		case manager.Request:
			return []manager.Effect{spawn(1, "cg.service",
				"setsid sh -c 'echo $$ > "+dir+"/daemon; exec sleep 100' </dev/null >/dev/null 2>&1 & exec sleep 100")}
		case manager.CgroupCreated:
			created = e.Path
		case manager.Spawned:
			if e.Err != nil {
				t.Error(e.Err)
			}
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "cg.service", Kind: "k"}, At: now + 200*time.Millisecond}}
		case manager.TimerFired:
			info, haveInfo = r.CgroupInfo("cg.service")
			return []manager.Effect{manager.Kill{Unit: "cg.service", Group: true, Signal: int(syscall.SIGKILL)}}
		case manager.CgroupEmpty:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	var log syncBuffer
	r = newReactor(t, Config{Manager: m, Subreaper: true, CgroupRoot: root, Log: &log})
	runWithin(t, r, 10*time.Second)
	daemon, _ := strconv.Atoi(strings.TrimSpace(readFile(dir + "/daemon")))
	t.Cleanup(func() {
		if daemon > 0 {
			syscall.Kill(daemon, syscall.SIGKILL)
		}
	})
	if !available || !strings.Contains(log.String(), "cgroups: using cgroup v2") {
		t.Fatalf("cgroups not in use (this machine has cgroup v2): %s", log.String())
	}
	if !strings.HasSuffix(created, "/"+root+"/system.slice/cg.service") {
		t.Fatalf("CgroupCreated path %q", created)
	}
	if !haveInfo || info.Path != created || len(info.Pids) != 2 || info.TasksCurrent != 2 {
		t.Fatalf("CgroupInfo %+v (ok %v), want 2 pids in %s", info, haveInfo, created)
	}
	found := false
	for _, p := range info.Pids {
		found = found || p == daemon
	}
	if !found {
		t.Fatalf("setsid'ed daemon %d not in the unit's cgroup %v", daemon, info.Pids)
	}
	time.Sleep(50 * time.Millisecond)
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", daemon)); len(b) > 0 && !strings.Contains(string(b), ") Z") {
		t.Fatalf("daemon %d still alive after group SIGKILL", daemon)
	}
	if _, ok := r.CgroupInfo("cg.service"); ok {
		t.Fatalf("cgroup still known after Run")
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// CgroupRoot "-": process groups, one clear line, no cgroup events.
func TestCgroupsDisabled(t *testing.T) {
	available := false
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch ev.(type) {
		case manager.CgroupsAvailable, manager.CgroupCreated:
			available = true
		case manager.Request:
			return []manager.Effect{spawn(1, "pg.service", "cat /proc/self/cgroup")}
		case manager.Exited:
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	var log syncBuffer
	r := newReactor(t, Config{Manager: m, Subreaper: true, CgroupRoot: "-", Log: &log})
	runWithin(t, r, 10*time.Second)
	out := log.String()
	if available || strings.Count(out, "cgroups: disabled by configuration; running on process groups") != 1 ||
		strings.Contains(out, "pg.service") && strings.Contains(out, "system.slice") {
		t.Fatalf("fallback: available=%v log:\n%s", available, out)
	}
}

// A group kill that names the main process signals it at once and the
// rest of the cgroup at the end of the loop turn (killGroup,
// signalGroups): every process, a setsid'ed one too, gets the SIGTERM,
// and the group empties without a SIGKILL.
func TestCgroupGroupSignalReachesEveryProcess(t *testing.T) {
	root := fmt.Sprintf("gosd-reactor-term-%d", os.Getpid())
	dir := t.TempDir()
	log := dir + "/terms"
	var mainPid int
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{spawn(1, "term.service",
				"setsid sh -c 'trap \"echo child >> "+log+"; exit 0\" TERM; echo $$ > "+dir+"/child; while :; do sleep 0.05; done' </dev/null >/dev/null 2>&1 & "+
					"trap 'echo main >> "+log+"; exit 0' TERM; while :; do sleep 0.05; done")}
		case manager.Spawned:
			if e.Err != nil {
				t.Error(e.Err)
			}
			mainPid = e.Pid
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Unit: "term.service", Kind: "k"}, At: now + 300*time.Millisecond}}
		case manager.TimerFired:
			if e.ID.Kind == "end" {
				return []manager.Effect{manager.Exit{}}
			}
			return []manager.Effect{manager.Kill{Unit: "term.service", Pid: mainPid, Group: true, Signal: int(syscall.SIGTERM)}}
		case manager.CgroupEmpty:
			// Every process has exited; a moment for the loop to reap
			// them all, so that no zombie is left to the next test.
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Kind: "end"}, At: now + 300*time.Millisecond}}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, Subreaper: true, CgroupRoot: root})
	runWithin(t, r, 10*time.Second)
	child, _ := strconv.Atoi(strings.TrimSpace(readFile(dir + "/child")))
	t.Cleanup(func() {
		if child > 0 {
			syscall.Kill(child, syscall.SIGKILL)
		}
	})
	got := strings.Fields(readFile(log))
	if len(got) != 2 || !slices.Contains(got, "main") || !slices.Contains(got, "child") {
		t.Fatalf("SIGTERM seen by %v, want main and child", got)
	}
}
