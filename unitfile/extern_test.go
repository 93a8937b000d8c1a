package unitfile

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestSerialGettys(t *testing.T) {
	got := SerialGettys("tty0 ttyS0 hvc0 tty1 ttyS0\n")
	want := []string{"serial-getty@ttyS0.service", "serial-getty@hvc0.service"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// A device unit has no file: it loads with the default job timeout of
// devices (90 s once running) and its drop-ins; where gosd follows no
// devices, with an assert on its node. A mount unit loads as the file
// says (gosd mounts it).
func TestExternalUnits(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dev-hugepages.mount"), []byte("[Mount]\nWhat=hugetlbfs\nWhere=/dev/hugepages\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "dev-vdb.device.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "dev-vdb.device.d", "50-device-timeout.conf"), []byte("[Unit]\nJobRunningTimeoutSec=3\n"), 0o644)
	s := Load(Options{SearchPath: []string{dir}})
	d := s.Get("dev-ttyS0.device")
	if d.LoadState != Loaded || d.Unit.Description != "/dev/ttyS0" || d.Unit.JobRunningTimeoutSec != 90*time.Second {
		t.Fatalf("device: %+v", d)
	}
	if FollowsDevices != (len(d.Unit.Asserts) == 0) {
		t.Fatalf("device asserts where gosd follows devices=%v: %+v", FollowsDevices, d.Unit.Asserts)
	}
	if !FollowsDevices && (d.Unit.Asserts[0].Value != "/dev/ttyS0" || d.Unit.Asserts[0].Pos.File != ExternalCheck) {
		t.Fatalf("device: %+v", d)
	}
	if n := s.Get("sys-subsystem-net-devices-eth0.device"); n.Unit.Description != "/sys/class/net/eth0" {
		t.Fatalf("net device: %+v", n.Unit)
	}
	if v := s.Get("dev-vdb.device"); v.Unit.JobRunningTimeoutSec != 3*time.Second || len(v.DropIns) != 1 {
		t.Fatalf("device drop-in: %+v %v", v.Unit, v.DropIns)
	}
	m := s.Get("dev-hugepages.mount")
	if m.LoadState != Loaded || len(m.Unit.Conditions) != 0 || m.Mount == nil || m.Mount.What != "hugetlbfs" ||
		m.Mount.Where != "/dev/hugepages" {
		t.Fatalf("mount: %+v %+v", m.Unit.Conditions, m.Mount)
	}
	if s.Get("nope.service").LoadState != NotFound {
		t.Fatal("a missing service must stay not-found")
	}
}

// A slice loads without a file, as under systemd, described as systemd
// describes it; its drop-ins apply; a file wins.
func TestSlicesWithoutFile(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "system-getty.slice.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "system-getty.slice.d", "limit.conf"), []byte("[Slice]\nTasksMax=7\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "user.slice"), []byte("[Unit]\nDescription=User and Session Slice\n"), 0o644)
	s := Load(Options{SearchPath: []string{dir}})
	for name, desc := range map[string]string{
		"-.slice": "Root Slice", "system.slice": "System Slice", "system-getty.slice": "Slice /system/getty",
		"system-serial\\x2dgetty.slice": "Slice /system/serial-getty", "user.slice": "User and Session Slice",
	} {
		u := s.Get(name)
		if u.LoadState != Loaded || u.Slice == nil || u.Unit.Description != desc {
			t.Errorf("%s: %s %q slice=%v", name, u.LoadState, u.Unit.Description, u.Slice != nil)
		}
	}
	if g := s.Get("system-getty.slice"); g.Slice.Resources.TasksMax == nil || len(g.DropIns) != 1 {
		t.Errorf("drop-in of a slice without a file: %+v %v", g.Slice.Resources.TasksMax, g.DropIns)
	}
}
