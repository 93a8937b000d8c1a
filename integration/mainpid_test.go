package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// attackerPy is a Type=notify service run as nobody: it reports ready,
// then names another unit's process and gosd itself as its main process,
// then asks for the watchdog action (systemd.service(5): SIGABRT to the
// main process). gosd must refuse both MAINPID= (sd_notify(3), issue 18
// item 1) and abort only the attacker.
const attackerPy = `import os, socket, time
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(addr)
victim = int(open(os.path.join(os.path.dirname(__file__), "victim.pid")).read())
s.send(b"READY=1")
s.send(b"MAINPID=%d" % victim)
s.send(b"MAINPID=%d" % os.getppid())
time.sleep(0.3)
s.send(b"WATCHDOG=trigger")
time.sleep(1000)
`

func TestHostileMainPID(t *testing.T) {
	needPython(t)
	for _, cg := range []string{"cgroups", "process-groups"} {
		for _, m := range []mode{asSubreaper, asPID1} {
			t.Run(cg+"/"+m.String(), func(t *testing.T) {
				if cg == "process-groups" {
					t.Setenv("GOSD_CGROUP_ROOT", "-")
				}
				in := start(t, m, map[string]string{
					"default.target": "[Unit]\nWants=victim.service\n",
					"victim.service": "[Service]\nExecStart=/bin/sh -c 'echo $$$$ > @T@/victim.pid; exec sleep 1000'\n",
					"attacker.service": "[Service]\nType=notify\nUser=nobody\n" +
						"ExecStart=/usr/bin/python3 @T@/pub/attacker.py\n",
				})
				in.waitOutput("Reached target default.target", 20*time.Second)
				nsVictim, _ := strconv.Atoi(strings.TrimSpace(in.waitFile("victim.pid", 10*time.Second)))
				victim := in.hostPid(nsVictim)
				gosd := in.gosdPid()
				pub := filepath.Join(in.dir, "pub")
				os.Chmod(filepath.Dir(in.dir), 0o755) // t.TempDir makes both 0700
				os.Chmod(in.dir, 0o755)
				os.Mkdir(pub, 0o755)
				os.WriteFile(filepath.Join(pub, "attacker.py"), []byte(attackerPy), 0o644)
				os.WriteFile(filepath.Join(pub, "victim.pid"), []byte(strconv.Itoa(nsVictim)), 0o644)

				ctlWant(t, in, 0, "start", "attacker.service")
				in.waitState(t, "attacker.service", "failed", 20*time.Second)
				if got := showValue(t, in, "attacker.service", "Result"); got != "watchdog" {
					t.Errorf("attacker result %q, want watchdog", got)
				}
				out := in.out.String()
				for _, want := range []string{
					"New main PID " + strconv.Itoa(nsVictim) + " belongs to victim.service, refusing it (MAINPID=)",
					"refusing it (MAINPID=)",
				} {
					if !strings.Contains(out, want) {
						t.Errorf("log lacks %q", want)
					}
				}
				if strings.Count(out, "refusing it (MAINPID=)") != 2 {
					t.Errorf("want both MAINPID= refused:\n%s", out)
				}
				if !procAlive(victim) {
					t.Fatalf("the victim process %d was signalled", victim)
				}
				if got := showValue(t, in, "victim.service", "MainPID"); got != strconv.Itoa(nsVictim) {
					t.Errorf("victim's MainPID %s, want %d", got, nsVictim)
				}
				if err := syscall.Kill(gosd, 0); err != nil {
					t.Fatalf("gosd is gone: %v", err)
				}
				if st := in.stop(30 * time.Second); st != 0 {
					t.Fatalf("gosd exit status %d", st)
				}
			})
		}
	}
}

// Issue 18 items 2 and 3: a forking service run as nobody leaves at its
// PIDFile= path a FIFO (which blocked gosd in open()), a link to
// /dev/zero (read without bound: OOM), or another unit's pid. gosd stays
// responsive, the unit fails cleanly with result protocol, and nothing
// of the other unit is touched. A well-behaved nobody service is the
// control: its own daemon's pid is taken.
func TestHostilePIDFile(t *testing.T) {
	forking := func(body string) string {
		return "[Service]\nType=forking\nUser=nobody\nPIDFile=@T@/pub/" + body[:strings.IndexByte(body, ' ')] + "\n" +
			"ExecStart=/bin/sh -c 'sleep 1000 </dev/null >/dev/null 2>&1 & " + body[strings.IndexByte(body, ' ')+1:] + "'\n"
	}
	for _, c := range []struct {
		cg string
		m  mode
	}{{"cgroups", asPID1}, {"process-groups", asSubreaper}} {
		t.Run(c.cg+"/"+c.m.String(), func(t *testing.T) {
			if c.cg == "process-groups" {
				t.Setenv("GOSD_CGROUP_ROOT", "-")
			}
			in := start(t, c.m, map[string]string{
				"default.target": "[Unit]\nWants=victim.service\n",
				"victim.service": "[Service]\nExecStart=/bin/sh -c 'echo $$$$ > @T@/victim.pid; exec sleep 1000'\n",
				"fifo.service":   forking("fifo.pid rm -f @T@/pub/fifo.pid; mkfifo @T@/pub/fifo.pid"),
				"zero.service":   forking("zero.pid ln -sf /dev/zero @T@/pub/zero.pid"),
				"steal.service":  forking("steal.pid cat @T@/pub/victim.pid > @T@/pub/steal.pid"),
				"good.service":   forking("good.pid echo $$! > @T@/pub/good.pid"),
			})
			in.waitOutput("Reached target default.target", 20*time.Second)
			nsVictim, _ := strconv.Atoi(strings.TrimSpace(in.waitFile("victim.pid", 10*time.Second)))
			victim := in.hostPid(nsVictim)
			pub := filepath.Join(in.dir, "pub")
			os.Chmod(filepath.Dir(in.dir), 0o755)
			os.Chmod(in.dir, 0o755)
			os.Mkdir(pub, 0o755)
			os.WriteFile(filepath.Join(pub, "victim.pid"), []byte(strconv.Itoa(nsVictim)+"\n"), 0o644)
			os.Chown(pub, 65534, 65534)

			for _, unit := range []string{"fifo", "zero", "steal"} {
				r := ctlRun(t, in, "start", unit+".service")
				if r.code == 0 {
					t.Errorf("start %s succeeded:\n%s", unit, r)
				}
				// gosd answers at once: the loop is not stuck on the file.
				if got := strings.TrimSpace(ctlRun(t, in, "is-active", unit+".service").out); got != "failed" {
					t.Errorf("%s: is-active %q, want failed", unit, got)
				}
				if got := showValue(t, in, unit+".service", "Result"); got != "protocol" {
					t.Errorf("%s: result %q, want protocol", unit, got)
				}
			}
			out := in.out.String()
			for _, want := range []string{
				"fifo.pid: not a regular file",
				"zero.pid: not a regular file",
				"New main PID " + strconv.Itoa(nsVictim) + " belongs to victim.service, refusing it (from PID file",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q", want)
				}
			}
			if !procAlive(victim) || strings.TrimSpace(ctlRun(t, in, "is-active", "victim.service").out) != "active" {
				t.Fatalf("the victim was touched")
			}
			ctlWant(t, in, 0, "start", "good.service")
			good, _ := strconv.Atoi(strings.TrimSpace(in.read("pub/good.pid")))
			if got := showValue(t, in, "good.service", "MainPID"); got != strconv.Itoa(good) || good == 0 {
				t.Errorf("good.service MainPID %s, want %d from its PID file", got, good)
			}
			if st := in.stop(30 * time.Second); st != 0 {
				t.Fatalf("gosd exit status %d", st)
			}
		})
	}
}
