package reactor

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gosd/internal/uevent"
	"gosd/manager"
)

// fakeDeviceFS lays out a /sys, a /run/udev and a /dev under a temporary
// directory: the files device following reads, written as the kernel and
// udev 252 write them.
type fakeDeviceFS struct {
	t  *testing.T
	fs deviceFS
}

func newFakeDeviceFS(t *testing.T) *fakeDeviceFS {
	root := t.TempDir()
	f := &fakeDeviceFS{t: t, fs: deviceFS{sys: filepath.Join(root, "sys"), udev: filepath.Join(root, "udev"), dev: filepath.Join(root, "dev")}}
	for _, d := range []string{f.fs.sys, f.fs.udev, f.fs.dev} {
		os.MkdirAll(d, 0o755)
	}
	return f
}

func (f *fakeDeviceFS) write(p, text string) {
	f.t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// sameDevices compares reports in any order, an empty list as none.
func sameDevices(got, want []manager.Device) bool {
	key := func(ds []manager.Device) string {
		ss := make([]string, len(ds))
		for i, d := range ds {
			ss[i] = fmt.Sprintf("%+v", d)
		}
		sort.Strings(ss)
		return strings.Join(ss, "\n")
	}
	return key(got) == key(want)
}

// device makes /sys/DEVPATH with its uevent file and a class link.
func (f *fakeDeviceFS) device(devPath, class, uevent string) {
	f.t.Helper()
	f.write(filepath.Join(f.fs.sys, devPath, "uevent"), uevent)
	link := filepath.Join(f.fs.sys, "class", class, filepath.Base(devPath))
	os.MkdirAll(filepath.Dir(link), 0o755)
	rel, _ := filepath.Rel(filepath.Dir(link), filepath.Join(f.fs.sys, devPath))
	if err := os.Symlink(rel, link); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeDeviceFS) devLink(kind, majMin, devPath string) {
	link := filepath.Join(f.fs.sys, "dev", kind, majMin)
	os.MkdirAll(filepath.Dir(link), 0o755)
	rel, _ := filepath.Rel(filepath.Dir(link), filepath.Join(f.fs.sys, devPath))
	os.Symlink(rel, link)
}

// Without udev: the block, net and serial tty devices of /sys/class, as
// 99-systemd.rules tags them: a loop device without a backing file and
// a serial port the machine lacks are not ready, lo and tty1 are not
// tagged, a network interface gets its /sys/subsystem alias, rfkill wants
// its socket.
func TestColdplugWithoutUdev(t *testing.T) {
	f := newFakeDeviceFS(t)
	f.device("/devices/pci0/virtio1/block/vda", "block", "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n")
	f.device("/devices/pci0/virtio1/block/vda/vda1", "block", "MAJOR=254\nMINOR=1\nDEVNAME=vda1\nDEVTYPE=partition\n")
	f.device("/devices/virtual/block/loop0", "block", "MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n")
	f.device("/devices/virtual/block/loop1", "block", "MAJOR=7\nMINOR=1\nDEVNAME=loop1\nDEVTYPE=disk\n")
	f.write(filepath.Join(f.fs.sys, "/devices/virtual/block/loop1/loop/backing_file"), "/tmp/img\n")
	f.device("/devices/pci0/virtio2/net/eth0", "net", "INTERFACE=eth0\nIFINDEX=2\n")
	f.device("/devices/virtual/net/lo", "net", "INTERFACE=lo\nIFINDEX=1\n")
	f.device("/devices/pnp0/00:04/tty/ttyS0", "tty", "MAJOR=4\nMINOR=64\nDEVNAME=ttyS0\n")
	f.write(filepath.Join(f.fs.sys, "/devices/pnp0/00:04/tty/ttyS0/port"), "0x3F8\n")
	f.device("/devices/platform/serial8250/tty/ttyS3", "tty", "MAJOR=4\nMINOR=67\nDEVNAME=ttyS3\n")
	f.write(filepath.Join(f.fs.sys, "/devices/platform/serial8250/tty/ttyS3/port"), "0x0\n")
	f.write(filepath.Join(f.fs.sys, "/devices/platform/serial8250/tty/ttyS3/iomem_base"), "0x0\n")
	f.device("/devices/virtual/tty/tty1", "tty", "MAJOR=4\nMINOR=1\nDEVNAME=tty1\n")
	f.device("/devices/virtual/misc/rfkill", "misc", "MAJOR=10\nMINOR=242\nDEVNAME=rfkill\n")
	f.device("/devices/virtual/misc/fuse", "misc", "MAJOR=10\nMINOR=229\nDEVNAME=fuse\n")
	sys := f.fs.sys
	want := []manager.Device{
		{SysPath: sys + "/devices/pci0/virtio1/block/vda", Ready: true, Node: "/dev/vda"},
		{SysPath: sys + "/devices/pci0/virtio1/block/vda/vda1", Ready: true, Node: "/dev/vda1"},
		{SysPath: sys + "/devices/virtual/block/loop1", Ready: true, Node: "/dev/loop1"},
		{SysPath: sys + "/devices/pci0/virtio2/net/eth0", Ready: true, Aliases: []string{"/sys/subsystem/net/devices/eth0"}},
		{SysPath: sys + "/devices/pnp0/00:04/tty/ttyS0", Ready: true, Node: "/dev/ttyS0"},
		{SysPath: sys + "/devices/virtual/misc/rfkill", Ready: true, Node: "/dev/rfkill", Wants: []string{"systemd-rfkill.socket"}},
	}
	if got := f.fs.coldplug(); !sameDevices(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

// With udev (its control socket there): the devices of tags/systemd,
// each with its database entry — links (S:), SYSTEMD_ALIAS/WANTS (E:),
// current tags (Q:) — and the node from /sys; one whose current tags lack
// "systemd" (it was tagged once) or with SYSTEMD_READY=0 is not there.
func TestColdplugFromUdevDatabase(t *testing.T) {
	f := newFakeDeviceFS(t)
	f.write(filepath.Join(f.fs.udev, "control"), "")
	f.device("/devices/pci0/virtio1/block/vda/vda1", "block", "MAJOR=254\nMINOR=1\nDEVNAME=vda1\nDEVTYPE=partition\n")
	f.devLink("block", "254:1", "/devices/pci0/virtio1/block/vda/vda1")
	f.device("/devices/pci0/virtio2/net/eth0", "net", "INTERFACE=eth0\nIFINDEX=2\n")
	f.write(filepath.Join(f.fs.sys, "/devices/pci0/virtio2/net/eth0/ifindex"), "2\n")
	f.device("/devices/virtual/block/dm-0", "block", "MAJOR=253\nMINOR=0\nDEVNAME=dm-0\nDEVTYPE=disk\n")
	f.devLink("block", "253:0", "/devices/virtual/block/dm-0")
	f.device("/devices/virtual/block/loop3", "block", "MAJOR=7\nMINOR=3\nDEVNAME=loop3\nDEVTYPE=disk\n")
	f.devLink("block", "7:3", "/devices/virtual/block/loop3")
	f.write(filepath.Join(f.fs.udev, "data", "b254:1"), "S:disk/by-uuid/1234-abcd\nS:disk/by-label/root\nS:block/254:1\n"+
		"I:123\nE:ID_FS_TYPE=ext4\nE:SYSTEMD_WANTS=fsck-me.service\nG:systemd\nQ:systemd\nV:1\n")
	f.write(filepath.Join(f.fs.udev, "data", "n2"), "I:1\nE:SYSTEMD_ALIAS=/sys/subsystem/net/devices/eth0\nG:systemd\nQ:systemd\n")
	f.write(filepath.Join(f.fs.udev, "data", "b253:0"), "E:SYSTEMD_READY=0\nG:systemd\nQ:systemd\n")
	f.write(filepath.Join(f.fs.udev, "data", "b7:3"), "G:systemd\nQ:other\n") // tagged once, not now
	for _, id := range []string{"b254:1", "n2", "b253:0", "b7:3", "c1:3"} {
		f.write(filepath.Join(f.fs.udev, "tags", "systemd", id), "")
	}
	sys := f.fs.sys
	want := []manager.Device{
		{SysPath: sys + "/devices/pci0/virtio1/block/vda/vda1", Ready: true, Node: "/dev/vda1",
			Links: []string{"/dev/disk/by-uuid/1234-abcd", "/dev/disk/by-label/root"}, Wants: []string{"fsck-me.service"}},
		{SysPath: sys + "/devices/pci0/virtio2/net/eth0", Ready: true, Aliases: []string{"/sys/subsystem/net/devices/eth0"}},
	}
	if got := f.fs.coldplug(); !sameDevices(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

// Messages as they change what is reported: while udev runs, the
// kernel's are ignored and udev's count; a device that loses its tag or
// goes is reported gone once; a renamed interface ("move") reports its
// old path gone; untagged devices never reported are not mentioned.
func TestUeventMessages(t *testing.T) {
	f := newFakeDeviceFS(t)
	sys := f.fs.sys
	reported := map[string]bool{}
	feed := func(m uevent.Message) []manager.Device {
		var ev manager.DevicesChanged
		f.fs.uevent(m, reported, &ev)
		return ev.Devices
	}
	kernel := func(action, devPath string, kv ...string) uevent.Message {
		p := map[string]string{"ACTION": action, "DEVPATH": devPath}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return uevent.Message{Action: action, DevPath: devPath, Props: p}
	}
	udev := func(action, devPath string, kv ...string) uevent.Message {
		m := kernel(action, devPath, kv...)
		m.Udev = true
		return m
	}
	// No udev: the kernel's add of an interface, its queues (untagged),
	// a rename, its removal.
	if got := feed(kernel("add", "/devices/virtual/net/a0", "SUBSYSTEM", "net", "INTERFACE", "a0")); len(got) != 1 || !got[0].Ready ||
		got[0].Aliases[0] != "/sys/subsystem/net/devices/a0" {
		t.Fatalf("add: %+v", got)
	}
	if got := feed(kernel("add", "/devices/virtual/net/a0/queues/rx-0", "SUBSYSTEM", "queues")); len(got) != 0 {
		t.Fatalf("untagged: %+v", got)
	}
	got := feed(kernel("move", "/devices/virtual/net/b0", "SUBSYSTEM", "net", "INTERFACE", "b0", "DEVPATH_OLD", "/devices/virtual/net/a0"))
	if len(got) != 2 || got[0].SysPath != sys+"/devices/virtual/net/a0" || got[0].Ready || got[1].SysPath != sys+"/devices/virtual/net/b0" || !got[1].Ready {
		t.Fatalf("move: %+v", got)
	}
	if got := feed(kernel("remove", "/devices/virtual/net/b0", "SUBSYSTEM", "net", "INTERFACE", "b0")); len(got) != 1 || got[0].Ready {
		t.Fatalf("remove: %+v", got)
	}
	if got := feed(kernel("remove", "/devices/virtual/net/b0", "SUBSYSTEM", "net")); len(got) != 0 {
		t.Fatalf("a second remove: %+v", got)
	}
	// udev starts: the kernel's messages no longer count.
	f.write(filepath.Join(f.fs.udev, "control"), "")
	if got := feed(kernel("add", "/devices/virtual/block/sdz", "SUBSYSTEM", "block", "DEVNAME", "sdz", "DEVTYPE", "disk")); len(got) != 0 {
		t.Fatalf("kernel message while udev runs: %+v", got)
	}
	got = feed(udev("add", "/devices/virtual/block/sdz", "SUBSYSTEM", "block", "DEVNAME", "/dev/sdz",
		"DEVLINKS", "/dev/disk/by-id/x /dev/block/8:0 /dev/disk/by-uuid/u", "CURRENT_TAGS", ":systemd:", "TAGS", ":systemd:",
		"SYSTEMD_ALIAS", "/dev/data relative /a/../b", "SYSTEMD_WANTS", "a.service b@.service"))
	want := []manager.Device{{SysPath: sys + "/devices/virtual/block/sdz", Ready: true, Node: "/dev/sdz",
		Links: []string{"/dev/disk/by-id/x", "/dev/disk/by-uuid/u"}, Aliases: []string{"/dev/data"},
		Wants: []string{"a.service", "b@.service"}}}
	if !sameDevices(got, want) {
		t.Fatalf("udev add:\n%+v\nwant\n%+v", got, want)
	}
	// A change that makes it not ready (SYSTEMD_READY=0), then one
	// whose current tags lack systemd: gone once.
	if got := feed(udev("change", "/devices/virtual/block/sdz", "SUBSYSTEM", "block", "CURRENT_TAGS", ":systemd:", "SYSTEMD_READY", "0")); len(got) != 1 || got[0].Ready {
		t.Fatalf("not ready: %+v", got)
	}
	if got := feed(udev("change", "/devices/virtual/block/sdz", "SUBSYSTEM", "block", "TAGS", ":systemd:", "CURRENT_TAGS", ":")); len(got) != 0 {
		t.Fatalf("untagged twice: %+v", got)
	}
}
