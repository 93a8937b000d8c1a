package exec

import (
	"os"
	osexec "os/exec"
	"strings"
	"syscall"
	"testing"

	"gosd/unitfile"
)

// A limit above the hard limit, without CAP_SYS_RESOURCE (as in a Docker
// container, where Debian's redis-server.service asks LimitNOFILE=65535):
// the service starts with the closest limit allowed and a notice on its
// stderr, as systemd's setrlimit_closest does; a limit within the hard
// limit is set as asked. The spawning gosd is this test binary re-run by
// setpriv without CAP_SYS_RESOURCE and with its hard NOFILE lowered to 2000.
func TestLimitAboveHardWithoutCapSysResource(t *testing.T) {
	if os.Getenv("GOSD_RLIMIT_CHILD") == "" {
		if os.Geteuid() != 0 {
			t.Skip("needs root (the helper sets limits as root; setpriv drops CAP_SYS_RESOURCE)")
		}
		setpriv, err := osexec.LookPath("setpriv")
		if err != nil {
			t.Fatalf("setpriv (util-linux) is needed: %v", err)
		}
		cmd := osexec.Command(setpriv, "--bounding-set", "-sys_resource", "--inh-caps", "-all",
			os.Args[0], "-test.run", "^TestLimitAboveHardWithoutCapSysResource$", "-test.v")
		cmd.Env = append(os.Environ(), "GOSD_RLIMIT_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	status, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "CapEff:") && capSet(l)&(1<<24) != 0 {
			t.Fatalf("CAP_SYS_RESOURCE still effective: %s", l)
		}
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 1000, Max: 2000}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		limit  unitfile.Rlimit
		want   string
		notice string
	}{
		{unitfile.Rlimit{Soft: 65535, Hard: 65535}, "2000 2000\n",
			"gosd-exec-helper: LimitNOFILE=65535:65535 is above the hard limit 2000 and raising it is not permitted (no CAP_SYS_RESOURCE): using 2000:2000\n"},
		{unitfile.Rlimit{Soft: 1500, Hard: unitfile.RlimInfinity}, "1500 2000\n",
			"gosd-exec-helper: LimitNOFILE=1500:infinity is above the hard limit 2000 and raising it is not permitted (no CAP_SYS_RESOURCE): using 1500:2000\n"},
		{unitfile.Rlimit{Soft: 100, Hard: 1800}, "100 1800\n", ""},
	} {
		ec := ctx()
		ec.Limits = map[string]unitfile.Rlimit{"NOFILE": c.limit}
		out, ws := run(t, Spec{Cmd: shell(`echo $(ulimit -Sn) $(ulimit -Hn)`), Exec: ec})
		if ws.ExitStatus() != 0 || out != c.notice+c.want {
			t.Errorf("LimitNOFILE=%d:%d: status %v, output %q, want %q", c.limit.Soft, c.limit.Hard, ws, out, c.notice+c.want)
		}
	}
	// Any other refusal still fails the spawn with 205/LIMITS (a soft
	// limit above the hard one: EINVAL).
	ec := ctx()
	ec.Limits = map[string]unitfile.Rlimit{"NOFILE": {Soft: 1900, Hard: 100}}
	out, ws := run(t, Spec{Cmd: shell(`echo started`), Exec: ec})
	if ws.ExitStatus() != exitLimits || !strings.Contains(out, "LimitNOFILE=1900:100: invalid argument") {
		t.Errorf("LimitNOFILE=1900:100: status %v, output %q, want 205 and the error", ws, out)
	}
}

func capSet(line string) uint64 {
	var v uint64
	for _, r := range strings.TrimSpace(strings.TrimPrefix(line, "CapEff:")) {
		v <<= 4
		switch {
		case r >= '0' && r <= '9':
			v |= uint64(r - '0')
		case r >= 'a' && r <= 'f':
			v |= uint64(r-'a') + 10
		}
	}
	return v
}
