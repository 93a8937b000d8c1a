package reactor

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"gosd/manager"
)

// Spawns run on the spawner thread while the loop goes on; children that
// exit at once (true) are reaped by the loop before their Spawned can be
// fed. The manager must still see, for every process, Spawned before its
// Exited, and a unit's CgroupEmpty only after the Spawned of its process:
// 200 units started in one step, each with its own cgroup.
func TestSpawnedBeforeExitAndEmpty(t *testing.T) {
	const n = 200
	root := fmt.Sprintf("gosd-spawner-test-%d", os.Getpid())
	spawnedAt := map[int]int{} // pid -> event index of its Spawned
	unitSpawned := map[string]bool{}
	var problems []string
	emptied := map[string]bool{}
	exits, step := 0, 0
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		step++
		switch e := ev.(type) {
		case manager.Request:
			var effs []manager.Effect
			for i := range n {
				effs = append(effs, spawn(uint64(i+1), fmt.Sprintf("s%03d.service", i), "exec true"))
			}
			return effs
		case manager.Spawned:
			if e.Err != nil {
				problems = append(problems, fmt.Sprintf("spawn %d: %v", e.ID, e.Err))
				exits++
			}
			spawnedAt[e.Pid] = step
			unitSpawned[fmt.Sprintf("s%03d.service", e.ID-1)] = true
		case manager.Exited:
			if _, ok := spawnedAt[e.Pid]; !ok {
				problems = append(problems, fmt.Sprintf("Exited %d before its Spawned", e.Pid))
			}
			exits++
		case manager.CgroupEmpty:
			if !unitSpawned[e.Unit] {
				problems = append(problems, "CgroupEmpty of "+e.Unit+" before its Spawned")
			}
			emptied[e.Unit] = true
		case manager.TimerFired:
			return []manager.Effect{manager.Exit{}}
		}
		if _, ok := ev.(manager.Exited); ok && exits == n {
			// The last cgroup.events may come a little later.
			return []manager.Effect{manager.SetTimer{ID: manager.TimerID{Kind: "end"}, At: now + 500*time.Millisecond}}
		}
		return nil
	})
	var log syncBuffer
	r := newReactor(t, Config{Manager: m, Subreaper: true, CgroupRoot: root, Log: &log})
	runWithin(t, r, 60*time.Second)
	if !strings.Contains(log.String(), "cgroups: using cgroup v2") {
		t.Fatalf("cgroups not in use: %s", log.String())
	}
	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %s", len(problems), strings.Join(problems[:min(5, len(problems))], "; "))
	}
	if len(spawnedAt) != n || exits != n || len(emptied) != n {
		t.Fatalf("spawned %d, exited %d, emptied %d; want %d each", len(spawnedAt), exits, len(emptied), n)
	}
}
