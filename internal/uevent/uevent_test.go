package uevent

import (
	"encoding/binary"
	"strings"
	"testing"
)

// kernelLoopChange is a datagram the kernel sent on this host (6.18) when
// a loop device got its backing file, byte for byte.
const kernelLoopChange = "change@/devices/virtual/block/loop0\x00ACTION=change\x00DEVPATH=/devices/virtual/block/loop0\x00" +
	"SUBSYSTEM=block\x00MAJOR=7\x00MINOR=0\x00DEVNAME=loop0\x00DEVTYPE=disk\x00DISKSEQ=11\x00SEQNUM=2646\x00"

// udevMessage builds a datagram as libudev's device_monitor_send does:
// the header ("libudev\0", magic in network order, then host-order
// sizes), then the properties.
func udevMessage(props ...string) []byte {
	body := []byte(strings.Join(props, "\x00") + "\x00")
	h := make([]byte, udevHeaderSize)
	copy(h, "libudev\x00")
	binary.BigEndian.PutUint32(h[8:], udevMagic)
	binary.NativeEndian.PutUint32(h[12:], udevHeaderSize)
	binary.NativeEndian.PutUint32(h[16:], udevHeaderSize)
	binary.NativeEndian.PutUint32(h[20:], uint32(len(body)))
	return append(h, body...)
}

func TestParseKernel(t *testing.T) {
	m, err := Parse([]byte(kernelLoopChange))
	if err != nil {
		t.Fatal(err)
	}
	if m.Udev || m.Action != "change" || m.DevPath != "/devices/virtual/block/loop0" || m.Get("DEVNAME") != "loop0" ||
		m.Get("SUBSYSTEM") != "block" || len(m.Props) != 9 {
		t.Fatalf("%+v", m)
	}
	// Without the trailing NUL (the kernel always ends with one; a last
	// property without it still counts).
	if m, err := Parse([]byte(strings.TrimSuffix(kernelLoopChange, "\x00"))); err != nil || m.Get("SEQNUM") != "2646" {
		t.Fatalf("%+v %v", m, err)
	}
}

func TestParseUdev(t *testing.T) {
	b := udevMessage("ACTION=add", "DEVPATH=/devices/virtual/net/gx0", "SUBSYSTEM=net", "INTERFACE=gx0",
		"TAGS=:systemd:", "CURRENT_TAGS=:systemd:", "SYSTEMD_ALIAS=/sys/subsystem/net/devices/gx0",
		"SYSTEMD_WANTS=a.service b@.service")
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Udev || m.Action != "add" || m.Get("SYSTEMD_WANTS") != "a.service b@.service" || !HasTag(m.Get("CURRENT_TAGS"), "systemd") {
		t.Fatalf("%+v", m)
	}
}

// Garbage, truncated and lying datagrams are refused whole.
func TestParseRefusesGarbage(t *testing.T) {
	good := udevMessage("ACTION=add", "DEVPATH=/devices/x")
	wrongMagic := append([]byte(nil), good...)
	wrongMagic[8] ^= 0xff
	offBeyond := append([]byte(nil), good...)
	binary.NativeEndian.PutUint32(offBeyond[16:], 1<<31)
	lenBeyond := append([]byte(nil), good...)
	binary.NativeEndian.PutUint32(lenBeyond[20:], 0xffffffff)
	offInHeader := append([]byte(nil), good...)
	binary.NativeEndian.PutUint32(offInHeader[16:], 4)
	for name, b := range map[string][]byte{
		"empty":          nil,
		"no header line": []byte("ACTION=add"),
		"header no @/":   []byte("add@devices\x00ACTION=add\x00DEVPATH=/devices/x\x00"),
		"no action":      []byte("add@/devices/x\x00DEVPATH=/devices/x\x00"),
		"no devpath":     []byte("add@/devices/x\x00ACTION=add\x00"),
		"dotdot devpath": []byte("add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/../../etc\x00"),
		"relative":       []byte("add@/devices/x\x00ACTION=add\x00DEVPATH=devices/x\x00"),
		"bad old path":   []byte("move@/devices/x\x00ACTION=move\x00DEVPATH=/devices/x\x00DEVPATH_OLD=/a/../b\x00"),
		"no '='":         []byte("add@/devices/x\x00ACTION=add\x00DEVPATH=/devices/x\x00JUNK\x00"),
		"short udev":     good[:20],
		"wrong magic":    wrongMagic,
		"off beyond":     offBeyond,
		"len beyond":     lenBeyond,
		"off in header":  offInHeader,
	} {
		if m, err := Parse(b); err == nil {
			t.Errorf("%s: accepted %+v", name, m)
		}
	}
}

func TestParseDB(t *testing.T) {
	db := ParseDB("S:disk/by-uuid/1234\nS:disk/by-id/virtio-x\nW:12\nI:1234567\nE:ID_FS_TYPE=ext4\n" +
		"E:SYSTEMD_WANTS=x.service\nE:BROKEN\nG:systemd\nQ:systemd\nV:1\nXjunk\n")
	if len(db.Links) != 2 || db.Links[0] != "/dev/disk/by-uuid/1234" || db.Props["SYSTEMD_WANTS"] != "x.service" ||
		len(db.Props) != 2 || db.Tags[0] != "systemd" || db.CurrentTags[0] != "systemd" {
		t.Fatalf("%+v", db)
	}
}

// Whatever the bytes, Parse returns without panicking, and what it
// accepts has an action and a clean device path.
func FuzzParse(f *testing.F) {
	f.Add([]byte(kernelLoopChange))
	f.Add(udevMessage("ACTION=add", "DEVPATH=/devices/x", "TAGS=:systemd:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && (m.Action == "" || !validDevPath(m.DevPath)) {
			t.Fatalf("accepted %+v", m)
		}
	})
}
