package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Type=dbus services against a real dbus-daemon (as Debian runs it: a
// dbus.socket unit and a Type=notify dbus.service with --address=systemd:)
// and real clients (python3-dbus) that take their name late.

// busConfig is a minimal system-bus configuration: EXTERNAL auth, every
// name may be owned and every message sent.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=@T@/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="*"/>
  </policy>
</busconfig>
`

// holderScript is a bus client (python3-dbus): it waits $2 seconds,
// writes $3.owned with the time (ns) and takes name $1, then holds it
// until SIGUSR1, when it writes $3.released, releases it and keeps
// running (until gosd stops the unit).
const holderScript = `import dbus, os, signal, sys, time
name, delay, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
time.sleep(delay)
bus = dbus.bus.BusConnection(os.environ["BUS"])
released = []
signal.signal(signal.SIGUSR1, lambda *a: released.append(1))
with open(out + ".owned", "w") as f:
    f.write(str(time.time_ns()))
bus.request_name(name, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
while not released:
    time.sleep(0.05)
open(out + ".released", "w").write(str(time.time_ns()))
bus.release_name(name)
while True:
    time.sleep(1)
`

// bigSignalScript finds the bus connection of process $1 (gosd) and sends
// it a 2 MiB signal, as any client of the system bus may.
const bigSignalScript = `import dbus, dbus.lowlevel, os, sys
bus = dbus.bus.BusConnection(os.environ["BUS"])
d = bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus")
target = None
for n in d.ListNames(dbus_interface="org.freedesktop.DBus"):
    if n.startswith(":") and d.GetConnectionUnixProcessID(n, dbus_interface="org.freedesktop.DBus") == int(sys.argv[1]):
        target = n
if target is None:
    sys.exit("no bus connection of pid " + sys.argv[1])
m = dbus.lowlevel.SignalMessage("/org/gosd/Hostile", "org.gosd.Hostile", "Big")
m.set_destination(target)
m.append(dbus.ByteArray(b"x" * (2 << 20)), signature="ay")
bus.send_message(m)
bus.flush()
print(target)
`

func needBusTools(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Fatal("dbus-daemon is needed (Debian package dbus-daemon; .ci/run installs it)")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import dbus").Run(); err != nil {
		t.Fatal("python3-dbus is needed (.ci/run installs it)")
	}
}

func TestDBusTypeService(t *testing.T) {
	needRoot(t)
	needBusTools(t)
	scratch := t.TempDir() // the units' own scratch dir is made by start; this one holds the bus
	bus := filepath.Join(scratch, "bus")
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+bus)
	if err := os.WriteFile(filepath.Join(scratch, "bus.conf"), []byte(strings.ReplaceAll(busConfig, "@T@", scratch)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(scratch, "holder.py"), []byte(holderScript), 0o644); err != nil {
		t.Fatal(err)
	}
	env := "Environment=BUS=unix:path=" + bus + "\n"
	in := start(t, asSubreaper, map[string]string{
		"default.target": "[Unit]\nWants=named.service after.service\n",
		"dbus.socket":    "[Socket]\nListenStream=" + bus + "\n",
		"dbus.service": "[Unit]\nRequires=dbus.socket\n[Service]\nType=notify\nNotifyAccess=main\n" +
			"ExecStart=/usr/bin/dbus-daemon --config-file=" + scratch + "/bus.conf --address=systemd: --nofork --nopidfile\n",
		// No Type=: BusName= makes it Type=dbus, as systemd does. A second
		// process of the unit outlives the name.
		"named.service": "[Service]\nBusName=org.gosd.Test\n" + env +
			"ExecStart=/bin/sh -c 'sleep 600 & exec /usr/bin/python3 " + scratch + "/holder.py org.gosd.Test 1.5 @T@/named'\n",
		"after.service": "[Unit]\nAfter=named.service\n[Service]\nType=oneshot\nRemainAfterExit=yes\n" +
			"ExecStart=/bin/sh -c 'date +%%s%%N > @T@/after.tmp; mv @T@/after.tmp @T@/after'\n",
	})
	start0 := time.Now()
	in.waitOutput("Waiting for bus name org.gosd.Test", 10*time.Second)
	if s := activeState(t, in, "named.service"); s != "activating" {
		t.Fatalf("named.service is %q while its name is not taken, want activating", s)
	}
	after := in.waitFile("after", 20*time.Second)
	owned := in.read("named.owned")
	if owned == "" {
		t.Fatalf("after.service ran before the name was taken (after=%s)", after)
	}
	tAfter, _ := strconv.ParseInt(strings.TrimSpace(after), 10, 64)
	tOwned, _ := strconv.ParseInt(strings.TrimSpace(owned), 10, 64)
	if tAfter < tOwned {
		t.Fatalf("after.service started at %d, before the name was requested at %d", tAfter, tOwned)
	}
	if time.Since(start0) < 1500*time.Millisecond {
		t.Fatalf("after.service ran %v after start, before the holder's 1.5 s delay", time.Since(start0))
	}
	if s := activeState(t, in, "named.service"); s != "active" {
		t.Fatalf("named.service is %q with its name taken, want active", s)
	}

	// Any user may send gosd's bus connection a signal, of any size the bus
	// allows (32 MiB): one beyond what gosd reads is skipped, and the
	// connection keeps following the name (the release below must still
	// be seen).
	if err := os.WriteFile(filepath.Join(scratch, "big.py"), []byte(bigSignalScript), 0o644); err != nil {
		t.Fatal(err)
	}
	big := exec.Command("/usr/bin/python3", filepath.Join(scratch, "big.py"), strconv.Itoa(in.cmd.Process.Pid))
	big.Env = append(os.Environ(), "BUS=unix:path="+bus)
	if out, err := big.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), ":") {
		t.Fatalf("sending gosd a 2 MiB signal: %v\n%s", err, out)
	}

	// The holder releases the name but keeps running (and so does its
	// sleep): the unit is stopped, every process of it ends.
	main := mainPID(t, in, "named.service")
	if err := exec.Command("kill", "-USR1", strconv.Itoa(main)).Run(); err != nil {
		t.Fatal(err)
	}
	in.waitFile("named.released", 10*time.Second)
	in.waitOutput("Bus name org.gosd.Test released", 10*time.Second)
	in.waitFor("named.service inactive", 10*time.Second, func() bool {
		return activeState(t, in, "named.service") == "inactive"
	})
	if _, err := os.Stat("/proc/" + strconv.Itoa(main)); err == nil {
		t.Fatalf("the name holder %d still runs after its unit stopped", main)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

// A name that never appears: TimeoutStartSec= fails the unit.
func TestDBusTypeNameNeverAppears(t *testing.T) {
	needRoot(t)
	needBusTools(t)
	scratch := t.TempDir()
	bus := filepath.Join(scratch, "bus")
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+bus)
	if err := os.WriteFile(filepath.Join(scratch, "bus.conf"), []byte(strings.ReplaceAll(busConfig, "@T@", scratch)), 0o644); err != nil {
		t.Fatal(err)
	}
	in := start(t, asSubreaper, map[string]string{
		"default.target": "[Unit]\nWants=never.service\n",
		"dbus.socket":    "[Socket]\nListenStream=" + bus + "\n",
		"dbus.service": "[Unit]\nRequires=dbus.socket\n[Service]\nType=notify\nNotifyAccess=main\n" +
			"ExecStart=/usr/bin/dbus-daemon --config-file=" + scratch + "/bus.conf --address=systemd: --nofork --nopidfile\n",
		"never.service": "[Service]\nType=dbus\nBusName=org.gosd.Never\nTimeoutStartSec=2\nExecStart=/bin/sleep 600\n",
	})
	in.waitOutput("Connected to the system bus", 10*time.Second)
	in.waitOutput("Bus name org.gosd.Never was not acquired within TimeoutStartSec=", 10*time.Second)
	in.waitFor("never.service failed", 10*time.Second, func() bool {
		return activeState(t, in, "never.service") == "failed"
	})
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

// No bus at all: the unit waits, the log says why, and the start timeout
// fails it.
func TestDBusTypeNoBus(t *testing.T) {
	needRoot(t)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus-here"))
	in := start(t, asSubreaper, map[string]string{
		"default.target": "[Unit]\nWants=nobus.service\n",
		"nobus.service":  "[Service]\nType=dbus\nBusName=org.gosd.NoBus\nTimeoutStartSec=2\nExecStart=/bin/sleep 600\n",
	})
	in.waitOutput("Cannot reach the system bus at unix:path=", 10*time.Second)
	in.waitOutput("nobus.service wait for their bus names", 1*time.Second)
	if s := activeState(t, in, "nobus.service"); s != "activating" {
		t.Fatalf("nobus.service is %q without a bus, want activating", s)
	}
	in.waitFor("nobus.service failed", 10*time.Second, func() bool {
		return activeState(t, in, "nobus.service") == "failed"
	})
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

func activeState(t *testing.T, in *instance, unit string) string {
	t.Helper()
	return strings.TrimSpace(ctl(t, in, "is-active", unit))
}

// The bus comes up after the Type=dbus service started: the first
// connection attempt fails, dbus.service becoming active brings the next
// one (no timer), and the unit becomes active once its name is taken.
func TestDBusTypeBusComesLater(t *testing.T) {
	needRoot(t)
	needBusTools(t)
	scratch := t.TempDir()
	bus := filepath.Join(scratch, "bus")
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+bus)
	if err := os.WriteFile(filepath.Join(scratch, "bus.conf"), []byte(strings.ReplaceAll(busConfig, "@T@", scratch)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(scratch, "holder.py"), []byte(holderScript), 0o644); err != nil {
		t.Fatal(err)
	}
	in := start(t, asSubreaper, map[string]string{
		"default.target": "[Unit]\nWants=late.service dbus.service\n",
		"pause.service":  "[Service]\nType=oneshot\nExecStart=/bin/sleep 1\n",
		// dbus-daemon listens itself (no socket unit) and says READY=1 once
		// it does.
		"dbus.service": "[Unit]\nWants=pause.service\nAfter=pause.service\n[Service]\nType=notify\nNotifyAccess=main\n" +
			"ExecStart=/usr/bin/dbus-daemon --config-file=" + scratch + "/bus.conf --nofork --nopidfile\n",
		// The holder retries until the bus is there, then takes the name.
		"late.service": "[Service]\nType=dbus\nBusName=org.gosd.Late\nEnvironment=BUS=unix:path=" + bus + "\n" +
			"ExecStart=/bin/sh -c 'until [ -S " + bus + " ]; do sleep 0.1; done; exec /usr/bin/python3 " + scratch + "/holder.py org.gosd.Late 0.5 @T@/late'\n",
	})
	in.waitOutput("Cannot reach the system bus", 10*time.Second)
	if s := activeState(t, in, "late.service"); s != "activating" {
		t.Fatalf("late.service is %q before the bus is up, want activating", s)
	}
	in.waitOutput("Connected to the system bus", 10*time.Second)
	in.waitFor("late.service active", 10*time.Second, func() bool { return activeState(t, in, "late.service") == "active" })
	out := in.out.String()
	started, connected := strings.Index(out, "Started dbus.service"), strings.Index(out, "Connected to the system bus")
	if started < 0 || started > connected {
		t.Fatalf("connected before dbus.service was active:\n%s", out)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}
