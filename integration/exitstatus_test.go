package integration

import (
	"strings"
	"testing"
	"time"
)

// TestPID1ExitStatus: what a container runtime reports as the container's
// exit status is what systemd would exit with: `systemctl exit N` sets it
// (an invalid N is refused by the client, nothing stops), and a
// FailureAction=exit without FailureActionExitStatus= propagates the
// failed main process's own status (systemd.unit(5)).
func TestPID1ExitStatus(t *testing.T) {
	t.Run("systemctl exit 7", func(t *testing.T) {
		in := start(t, asPID1, pid1SmallUnits())
		in.waitOutput("Reached target default.target", 20*time.Second)
		if out, code := pid1Ctl(t, in, "exit", "300"); code == 0 || !strings.Contains(out, "Invalid exit code: 300") {
			t.Errorf("exit 300: status %d, output %q; want a refusal", code, out)
		}
		if out, code := pid1Ctl(t, in, "exit", "7"); code != 0 {
			t.Fatalf("exit 7: status %d\n%s", code, out)
		}
		if st := in.wait(30 * time.Second); st != 7 {
			t.Fatalf("gosd exit status %d, want 7", st)
		}
		if got := lines(in.read("svc")); strings.Join(got, " ") != "started stopped" {
			t.Errorf("service saw %v, want an orderly stop", got)
		}
	})
	t.Run("FailureAction=exit", func(t *testing.T) {
		in := start(t, asPID1, map[string]string{
			"default.target": "[Unit]\nWants=svc.service failing.service\n",
			"svc.service":    pid1SmallUnits()["svc.service"],
			"failing.service": "[Unit]\nFailureAction=exit\n[Service]\n" +
				"ExecStart=/bin/sh -c 'while [ ! -e @T@/svc ]; do sleep 0.1; done; exit 3'\n",
		})
		if st := in.wait(30 * time.Second); st != 3 {
			t.Fatalf("gosd exit status %d, want 3 (the failed main process's)", st)
		}
		if got := lines(in.read("svc")); strings.Join(got, " ") != "started stopped" {
			t.Errorf("service saw %v, want an orderly stop", got)
		}
	})
}
