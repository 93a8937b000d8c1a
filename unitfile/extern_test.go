package unitfile

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSerialGettys(t *testing.T) {
	got := SerialGettys("tty0 ttyS0 hvc0 tty1 ttyS0\n")
	want := []string{"serial-getty@ttyS0.service", "serial-getty@hvc0.service"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// A device unit has no file: it loads with an assert on its node; a mount
// unit loads as the file says (gosd mounts it).
func TestExternalUnits(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dev-hugepages.mount"), []byte("[Mount]\nWhat=hugetlbfs\nWhere=/dev/hugepages\n"), 0o644)
	s := Load(Options{SearchPath: []string{dir}})
	d := s.Get("dev-ttyS0.device")
	if d.LoadState != Loaded || len(d.Unit.Asserts) != 1 || d.Unit.Asserts[0].Value != "/dev/ttyS0" ||
		d.Unit.Asserts[0].Pos.File != ExternalCheck {
		t.Fatalf("device: %+v", d)
	}
	if n := s.Get("sys-subsystem-net-devices-eth0.device"); n.Unit.Asserts[0].Value != "/sys/class/net/eth0" {
		t.Fatalf("net device: %+v", n.Unit.Asserts)
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
