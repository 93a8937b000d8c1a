package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 17: a running service's file is masked (a link to /dev/null in
// the unit path, as `systemctl mask` makes) or removed, daemon-reload
// runs, then stop. The stop ends, the process is gone, nothing of the
// gone file runs (its ExecStop=), and SIGTERM still stops gosd, status 0.
func TestPID1StopAfterMask(t *testing.T) {
	for _, how := range []string{"masked", "removed"} {
		t.Run(how, func(t *testing.T) {
			in := start(t, asPID1, map[string]string{
				"default.target": "[Unit]\nDescription=Default\nWants=victim.service other.service\n",
				"victim.service": "[Unit]\nDescription=Victim\n[Service]\n" +
					"ExecStart=/bin/sh -c 'echo $$$$ > @T@/victim-pid; " + loop + "'\n" +
					"ExecStop=/bin/sh -c 'echo ran > @T@/victim-execstop'\n",
				"other.service": "[Unit]\nDescription=Other\n[Service]\n" +
					"ExecStart=/bin/sh -c 'trap \"echo stopped >> @T@/other; exit 0\" TERM; echo started >> @T@/other; " + loop + "'\n",
			})
			in.waitOutput("Reached target default.target", 20*time.Second)
			in.waitState(t, "victim.service", "active", 10*time.Second)
			pid := in.hostPid(mainPID(t, in, "victim.service"))
			if !procAlive(pid) {
				t.Fatalf("victim's main pid %d not alive", pid)
			}
			p := filepath.Join(in.dir, "units", "victim.service")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if how == "masked" {
				if err := os.Symlink("/dev/null", p); err != nil {
					t.Fatal(err)
				}
			}
			ctlWant(t, in, 0, "daemon-reload")
			wantLoad := map[string]string{"masked": "masked", "removed": "not-found"}[how]
			if got := showValue(t, in, "victim.service", "LoadState"); got != wantLoad {
				t.Errorf("LoadState after reload: %q, want %q", got, wantLoad)
			}
			if got := showValue(t, in, "victim.service", "ActiveState"); got != "active" {
				t.Errorf("ActiveState after reload: %q, want active (reload stops nothing)", got)
			}
			r := ctlRun(t, in, "stop", "victim.service")
			if r.code != 0 {
				t.Fatalf("stop of a %s running service: %s", how, r)
			}
			in.waitFor("victim's process gone", 10*time.Second, func() bool { return !procAlive(pid) })
			if got := strings.TrimSpace(ctlRun(t, in, "is-active", "victim.service").out); got != "inactive" {
				t.Errorf("is-active after stop: %q", got)
			}
			if _, err := os.Stat(filepath.Join(in.dir, "victim-execstop")); err == nil {
				t.Errorf("ExecStop= of the %s file ran", how)
			}
			if strings.Contains(in.out.String(), "panic") {
				t.Errorf("gosd panicked:\n%s", in.out.String())
			}
			if st := in.stop(30 * time.Second); st != 0 {
				t.Fatalf("gosd exit status %d after SIGTERM, want 0", st)
			}
			if got := lines(in.read("other")); strings.Join(got, " ") != "started stopped" {
				t.Errorf("other service saw %v, want an orderly stop", got)
			}
		})
	}
}

// hostPid turns a pid of gosd's PID namespace (what MainPID shows when gosd
// is PID1 of one) into the pid the test sees; unchanged for a subreaper.
func (in *instance) hostPid(nsPid int) int {
	in.t.Helper()
	if !in.pid1 {
		return nsPid
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", in.gosdPid()))
	if err != nil {
		in.t.Fatal(err)
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); l != ns {
			continue
		}
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "NSpid:" && f[len(f)-1] == strconv.Itoa(nsPid) {
				return pid
			}
		}
	}
	in.t.Fatalf("no process with pid %d in gosd's namespace", nsPid)
	return 0
}
