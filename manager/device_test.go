package manager

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gosd/unitfile"
)

// devSource adds to a memSource what unitfile.Set does for device units
// without a file: a loaded unit, its job bounded 90 s once running.
type devSource struct{ memSource }

func (s devSource) Get(name string) *unitfile.Unit {
	if u := s.memSource[name]; u != nil || !strings.HasSuffix(name, ".device") {
		return s.memSource.Get(name)
	}
	u := baseUnit(name)
	u.Unit.JobRunningTimeoutSec = 90 * time.Second
	u.Unit.Description = name
	return u
}

func newDevHarness(t *testing.T, units ...*unitfile.Unit) *harness {
	return &harness{t: t, m: New(devSource{memSource{}.add(units...)}), pid: 100}
}

func bound(name, dev string) *unitfile.Unit {
	s := svc(name, "simple")
	s.Unit.BindsTo = []string{dev}
	s.Unit.After = []string{dev}
	return s
}

func disk(sys, node string, links ...string) Device {
	return Device{SysPath: sys, Ready: true, Node: node, Links: links}
}

func timerOf(effs []Effect, unit, kind string) (SetTimer, bool) {
	var last SetTimer
	var ok bool
	for _, st := range find[SetTimer](effs) {
		if st.ID.Unit == unit && st.ID.Kind == kind {
			last, ok = st, true
		}
	}
	return last, ok
}

// A start job for a device that is not there waits (the job runs, the
// unit stays dead) until the device appears; then the device unit is
// plugged and the service bound to it starts. systemd.device(5).
func TestDeviceJobWaitsForPlug(t *testing.T) {
	h := newDevHarness(t, bound("use.service", "dev-sdz.device"))
	h.step(DevicesChanged{Coldplug: true})
	effs := h.start("use.service")
	if len(spawnsOf(effs, "use.service")) != 0 {
		t.Fatalf("started before its device:\n%s", dump(effs))
	}
	st, ok := timerOf(effs, "dev-sdz.device", "jobrun")
	if !ok || st.At != 90*time.Second {
		t.Fatalf("no 90 s running timeout for the device job:\n%s", dump(effs))
	}
	h.wantState("dev-sdz.device", "inactive/dead")
	h.advance(time.Second)
	effs = h.step(DevicesChanged{Devices: []Device{disk("/sys/devices/virtual/block/sdz", "/dev/sdz")}})
	h.wantState("dev-sdz.device", "active/plugged")
	h.wantState("sys-devices-virtual-block-sdz.device", "active/plugged")
	h.wantJob("dev-sdz.device", ResultDone)
	if len(spawnsOf(effs, "use.service")) != 1 {
		t.Fatalf("not started once its device came:\n%s", dump(effs))
	}
	if len(find[CancelTimer](effs)) == 0 {
		t.Fatalf("device job timer left armed:\n%s", dump(effs))
	}
	if s, _ := h.m.Status("dev-sdz.device"); s.SysFSPath != "/sys/devices/virtual/block/sdz" {
		t.Fatalf("SysFSPath %q", s.SysFSPath)
	}
}

// A device that never appears: the job ends with "timeout" when
// JobRunningTimeoutSec= passes, and the service that requires it fails
// with "dependency" ("Dependency failed for ...").
func TestDeviceJobTimesOut(t *testing.T) {
	use := bound("use.service", "dev-never.device")
	dev := baseUnit("dev-never.device")
	dev.Unit.JobRunningTimeoutSec = 2 * time.Second // a drop-in's
	h := newDevHarness(t, use, dev)
	h.step(DevicesChanged{Coldplug: true})
	effs := h.start("use.service")
	st, ok := timerOf(effs, "dev-never.device", "jobrun")
	if !ok || st.At != 2*time.Second {
		t.Fatalf("timer %+v %v\n%s", st, ok, dump(effs))
	}
	h.advance(2 * time.Second)
	h.step(TimerFired{ID: st.ID})
	h.wantJob("dev-never.device", ResultTimeout)
	h.wantJob("use.service", ResultDependency)
	h.wantState("dev-never.device", "inactive/dead")
	h.wantState("use.service", "inactive/dead")
	if !hasLog(h.all, "Dependency failed for use.service") || !hasLog(h.all, "Job dev-never.device/start timed out") {
		t.Fatalf("no timeout or dependency log:\n%s", dump(h.all))
	}
	// JobTimeoutSec= counts too (from the job's start, waiting included).
	dev2 := baseUnit("dev-other.device")
	dev2.Unit.JobTimeoutSec = time.Second
	h2 := newDevHarness(t, dev2)
	h2.step(DevicesChanged{Coldplug: true})
	effs = h2.start("dev-other.device")
	st, ok = timerOf(effs, "dev-other.device", "job")
	if !ok {
		t.Fatalf("no JobTimeoutSec timer:\n%s", dump(effs))
	}
	h2.step(TimerFired{ID: st.ID})
	h2.wantJob("dev-other.device", ResultTimeout)
}

// A device that goes stops the units bound to it (BindsTo=), whichever of
// its names they use; a device already there at start is plugged at once.
func TestDeviceUnplugStopsBound(t *testing.T) {
	h := newDevHarness(t, bound("net.service", "sys-subsystem-net-devices-gx0.device"),
		bound("uuid.service", "dev-disk-by\\x2duuid-1234.device"))
	h.step(DevicesChanged{Coldplug: true, Devices: []Device{
		{SysPath: "/sys/devices/virtual/net/gx0", Ready: true, Aliases: []string{"/sys/subsystem/net/devices/gx0"}},
		disk("/sys/devices/virtual/block/loop9", "/dev/loop9", "/dev/disk/by-uuid/1234"),
	}})
	h.wantState("sys-subsystem-net-devices-gx0.device", "active/plugged")
	h.wantState("dev-disk-by\\x2duuid-1234.device", "active/plugged")
	_, effs := h.spawnAll(append(h.start("net.service"), h.start("uuid.service")...))
	_ = effs
	h.wantState("net.service", "active/running")
	h.wantState("uuid.service", "active/running")
	effs = h.step(DevicesChanged{Devices: []Device{{SysPath: "/sys/devices/virtual/net/gx0"}}})
	h.wantState("sys-subsystem-net-devices-gx0.device", "inactive/dead")
	if !hasLog(effs, "Unit net.service is bound to inactive unit sys-subsystem-net-devices-gx0.device. Stopping, too.") {
		t.Fatalf("bound service not stopped:\n%s", dump(effs))
	}
	h.wantState("net.service", "deactivating/stop-sigterm")
	h.wantState("uuid.service", "active/running")
	// A change that drops the by-uuid link (new file system) unplugs that
	// name only: dev-loop9.device stays.
	effs = h.step(DevicesChanged{Devices: []Device{disk("/sys/devices/virtual/block/loop9", "/dev/loop9")}})
	h.wantState("dev-disk-by\\x2duuid-1234.device", "inactive/dead")
	h.wantState("dev-loop9.device", "active/plugged")
	h.wantState("uuid.service", "deactivating/stop-sigterm")
}

// SYSTEMD_WANTS= starts its units when the device comes after start-up,
// templates instantiated with the escaped /sys path; a device present at
// the first report (coldplug) starts nothing, as systemd's enumeration.
// A name that is not a unit name is ignored with a warning.
func TestDeviceWants(t *testing.T) {
	h := newDevHarness(t, svc("on-plug.service", "simple"), svc("bl@.service", "simple"),
		svc("cold.service", "simple"))
	h.step(DevicesChanged{Coldplug: true, Devices: []Device{{SysPath: "/sys/devices/c", Ready: true,
		Wants: []string{"cold.service"}}}})
	if len(find[Spawn](h.all)) != 0 {
		t.Fatalf("coldplug started something:\n%s", dump(h.all))
	}
	effs := h.step(DevicesChanged{Devices: []Device{{SysPath: "/sys/devices/pci0/bl-x", Ready: true, Node: "/dev/blx",
		Wants: []string{"on-plug.service", "bl@.service", "../../etc/passwd", "x y.service"}}}})
	if len(spawnsOf(effs, "on-plug.service")) != 1 || len(spawnsOf(effs, "bl@sys-devices-pci0-bl\\x2dx.service")) != 1 {
		t.Fatalf("wants not started:\n%s", dump(effs))
	}
	if !hasLog(effs, `names "../../etc/passwd", which is not a unit name`) {
		t.Fatalf("bad name not reported:\n%s", dump(effs))
	}
	// Wants that grow on a plugged device start then.
	effs = h.step(DevicesChanged{Devices: []Device{{SysPath: "/sys/devices/c", Ready: true,
		Wants: []string{"cold.service", "on-plug.service"}}}})
	if len(spawnsOf(effs, "cold.service")) != 0 {
		t.Fatalf("a want seen before started again:\n%s", dump(effs))
	}
	// SYSTEMD_READY=0: not ready, the unit is dead.
	h.step(DevicesChanged{Devices: []Device{{SysPath: "/sys/devices/pci0/bl-x", Ready: false}}})
	h.wantState("dev-blx.device", "unknown") // unloaded: nothing refers to it
}

// The first report is complete: a unit plugged before it whose device is
// gone is dead after it. Shutdown leaves device units plugged, as
// systemd's, and completes without them.
func TestDeviceColdplugAndStop(t *testing.T) {
	h := newDevHarness(t, bound("a.service", "dev-vdx.device"), bound("b.service", "dev-vdy.device"))
	h.step(DevicesChanged{Coldplug: true, Devices: []Device{disk("/sys/devices/vdx", "/dev/vdx"), disk("/sys/devices/vdy", "/dev/vdy")}})
	h.wantState("dev-vdx.device", "active/plugged")
	h.step(DevicesChanged{Coldplug: true, Devices: []Device{disk("/sys/devices/vdy", "/dev/vdy")}})
	h.wantState("dev-vdx.device", "inactive/dead")
	h.wantState("dev-vdy.device", "active/plugged")
	h.step(Shutdown{})
	h.wantState("dev-vdy.device", "active/plugged")
	if len(find[Exit](h.all)) != 1 {
		t.Fatalf("shutdown did not finish:\n%s", dump(h.all))
	}
	// After shutdown began, a device that comes plugs nothing.
	h.step(DevicesChanged{Devices: []Device{disk("/sys/devices/vdx", "/dev/vdx")}})
	h.wantState("dev-vdx.device", "inactive/dead")
	// A stop job of a plugged device ends at once.
	h2 := newDevHarness(t)
	h2.step(DevicesChanged{Coldplug: true, Devices: []Device{disk("/sys/devices/vdy", "/dev/vdy")}})
	h2.step(Request{ID: 2, Unit: "dev-vdy.device", Kind: JobStop})
	h2.wantJob("dev-vdy.device", ResultDone)
	h2.wantState("dev-vdy.device", "inactive/dead")
}

// Two devices that want one link (two disks with the same label): the
// link follows the device that has it now, and the other device going
// does not unplug it.
func TestDeviceLinkMoves(t *testing.T) {
	h := newDevHarness(t, bound("l.service", "dev-disk-by\\x2dlabel-data.device"))
	h.step(DevicesChanged{Coldplug: true, Devices: []Device{disk("/sys/devices/a", "/dev/a", "/dev/disk/by-label/data")}})
	h.step(DevicesChanged{Devices: []Device{disk("/sys/devices/b", "/dev/b", "/dev/disk/by-label/data")}})
	h.step(DevicesChanged{Devices: []Device{{SysPath: "/sys/devices/a"}}})
	h.wantState("dev-disk-by\\x2dlabel-data.device", "active/plugged")
	if s, _ := h.m.Status("dev-disk-by\\x2dlabel-data.device"); s.SysFSPath != "/sys/devices/b" {
		t.Fatalf("link follows %q", s.SysFSPath)
	}
	h.step(DevicesChanged{Devices: []Device{{SysPath: "/sys/devices/b"}}})
	h.wantState("dev-disk-by\\x2dlabel-data.device", "inactive/dead")
}

// Devices that come and go without anything referring to them are
// unloaded, so churn (loop devices, veth pairs) does not grow the manager;
// hostile paths name no unit.
func TestDeviceChurnBounded(t *testing.T) {
	h := newDevHarness(t, target("t.target"))
	h.step(DevicesChanged{Coldplug: true})
	base := len(h.m.List())
	for i := 0; i < 2000; i++ {
		sys := fmt.Sprintf("/sys/devices/virtual/net/veth%d", i)
		h.step(DevicesChanged{Devices: []Device{{SysPath: sys, Ready: true, Aliases: []string{"/sys/subsystem/net/devices/veth" + fmt.Sprint(i)}}}})
		h.step(DevicesChanged{Devices: []Device{{SysPath: sys}}})
	}
	if n := len(h.m.List()); n != base || len(h.m.devNames) != 0 || len(h.m.devOwner) != 0 {
		t.Fatalf("%d units (was %d), %d/%d device entries left", n, base, len(h.m.devNames), len(h.m.devOwner))
	}
	h.step(DevicesChanged{Devices: []Device{
		{SysPath: "relative/path", Ready: true},
		{SysPath: "/sys/../etc", Ready: true},
		{SysPath: "/sys/devices/" + strings.Repeat("x", 300), Ready: true},
		{SysPath: "", Ready: true},
	}})
	if n := len(h.m.List()); n != base {
		t.Fatalf("hostile paths made units: %d", n)
	}
}

// Where nothing reports devices (no DevicesChanged: FreeBSD, darwin), a
// device unit whose start passed its checks is plugged at once.
func TestDeviceNotFollowed(t *testing.T) {
	h := newDevHarness(t)
	h.start("dev-ttyS0.device")
	h.wantState("dev-ttyS0.device", "active/plugged")
	h.wantJob("dev-ttyS0.device", ResultDone)
}
