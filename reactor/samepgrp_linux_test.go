package reactor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/manager"
	"gosd/unitfile"
)

// A mount unit's control process stays in gosd's process group and
// session (SamePgrp, systemd's same_pgrp: autofs lets that group through
// an automount point). Without cgroups a group kill of the unit still ends
// it, by its pid, and does not make gosd's own group the unit's.
func TestSamePgrpControlProcess(t *testing.T) {
	dir := t.TempDir()
	ids := filepath.Join(dir, "ids")
	var exitedSig, spawnedPid int
	m := script(func(now time.Duration, ev manager.Event) []manager.Effect {
		switch e := ev.(type) {
		case manager.Request:
			return []manager.Effect{manager.Spawn{ID: 1, Unit: "x.mount", Role: "control",
				Cmd:  shell("cut -d' ' -f5,6 /proc/$$/stat > " + ids + ".tmp; mv " + ids + ".tmp " + ids + "; exec sleep 100"),
				Exec: &unitfile.ExecContext{UMask: 0o022, SamePgrp: true}, Conn: -1},
				manager.SetTimer{ID: manager.TimerID{Unit: "x.mount", Kind: "wait"}, At: now + 100*time.Millisecond}}
		case manager.TimerFired:
			if _, err := os.Stat(ids); err != nil {
				return []manager.Effect{manager.SetTimer{ID: e.ID, At: now + 100*time.Millisecond}}
			}
			return []manager.Effect{manager.Kill{Unit: "x.mount", Pid: spawnedPid, Group: true, Signal: int(syscall.SIGTERM)}}
		case manager.Spawned:
			spawnedPid = e.Pid
		case manager.Exited:
			exitedSig = e.Status.Signal
			return []manager.Effect{manager.Exit{}}
		}
		return nil
	})
	r := newReactor(t, Config{Manager: m, CgroupRoot: "-"})
	runWithin(t, r, 30*time.Second)
	b, err := os.ReadFile(ids)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	want := []string{strconv.Itoa(syscall.Getpgrp()), strconv.Itoa(mustSid(t))}
	if len(f) != 2 || f[0] != want[0] || f[1] != want[1] {
		t.Fatalf("control process pgrp/session %q, want gosd's %q", f, want)
	}
	if exitedSig != int(syscall.SIGTERM) {
		t.Fatalf("the control process ended with signal %d, want SIGTERM", exitedSig)
	}
	if g := r.groups["x.mount"]; g[syscall.Getpgrp()] {
		t.Fatal("gosd's own process group was recorded as the unit's")
	}
}

func mustSid(t *testing.T) int {
	sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	return int(sid)
}
