package reactor

import (
	"os"
	osexec "os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"gosd/unitfile"
)

// ConditionPathIsReadWrite= asks about the mount, not about permissions:
// systemd-sysctl.service has ConditionPathIsReadWrite=/proc/sys/net/,
// a directory the kernel refuses write access to (EACCES, even for root)
// on a read-write proc; systemd runs the service there.
func TestConditionPathIsReadWrite(t *testing.T) {
	if _, err := os.Stat("/proc/sys/net"); err != nil {
		t.Fatalf("this test needs /proc/sys/net: %v", err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs("/proc/sys/net/", &st); err != nil {
		t.Fatal(err)
	}
	procRW := st.Flags&1 == 0
	if got := isReadWrite("/proc/sys/net/"); got != procRW {
		t.Errorf("PathIsReadWrite=/proc/sys/net/: %v, the mount is read-write: %v", got, procRW)
	}
	if syscall.Access("/proc/sys/net/", 2) == nil {
		t.Logf("note: access(/proc/sys/net/, W_OK) succeeds here; the EACCES case is not exercised")
	}
	if isReadWrite(filepath.Join(t.TempDir(), "missing")) {
		t.Error("a missing path is read-write")
	}
	if !isReadWrite(t.TempDir()) {
		t.Error("a temporary directory is not read-write")
	}

	// A read-only mount is not read-write; a 0555 directory on a
	// read-write file system is.
	ro := t.TempDir()
	if err := syscall.Mount("tmpfs", ro, "tmpfs", syscall.MS_RDONLY, "size=64k"); err != nil {
		t.Fatalf("mount a read-only tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(ro, syscall.MNT_DETACH) })
	if isReadWrite(ro) {
		t.Error("a read-only tmpfs is read-write")
	}
	rx := filepath.Join(t.TempDir(), "rx")
	os.Mkdir(rx, 0o555)
	if !isReadWrite(rx) {
		t.Error("a 0555 directory on a read-write file system is not read-write")
	}
	ok, failed, _ := evalConditions([]unitfile.Condition{{Kind: "PathIsReadWrite", Value: ro, Negate: true}}, "Condition")
	if !ok {
		t.Errorf("!read-only mount: %s", failed)
	}
}

func TestConditionCapability(t *testing.T) {
	status := "Name:\tx\nCapEff:\t0000000000000000\nCapBnd:\t000001fffeffffff\n"
	for _, tc := range []struct {
		n   int
		met bool
	}{{21, true}, {24, false}, {40, true}, {41, false}} {
		met, known := capInStatus(status, tc.n)
		if !known || met != tc.met {
			t.Errorf("cap %d in %q: met %v known %v, want %v", tc.n, status, met, known, tc.met)
		}
	}
	if _, known := capInStatus("Name:\tx\n", 1); known {
		t.Error("no CapBnd line: known")
	}
	// Against this process's own bounding set.
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := capInStatus(string(data), 21)
	met, known := checkCondition(unitfile.Condition{Kind: "Capability", Value: "CAP_SYS_ADMIN"})
	if !known || met != want {
		t.Errorf("ConditionCapability=CAP_SYS_ADMIN: met %v known %v, CapBnd says %v", met, known, want)
	}
	if _, known := checkCondition(unitfile.Condition{Kind: "Capability", Value: "CAP_NO_SUCH"}); known {
		t.Error("an unknown capability name is evaluated")
	}
}

// TestConditionSecurity compares every ConditionSecurity= value gosd
// evaluates with systemd's own answer on this machine
// (`systemd-analyze condition`, the oracle).
func TestConditionSecurity(t *testing.T) {
	if _, err := osexec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (the systemd package)")
	}
	for _, v := range []string{"selinux", "apparmor", "smack", "tomoyo", "ima", "audit", "tpm2", "uefi-secureboot"} {
		met, known := checkCondition(unitfile.Condition{Kind: "Security", Value: v})
		if !known {
			t.Errorf("ConditionSecurity=%s not evaluated", v)
			continue
		}
		err := osexec.Command("systemd-analyze", "condition", "ConditionSecurity="+v).Run()
		if want := err == nil; met != want {
			t.Errorf("ConditionSecurity=%s: gosd %v, systemd %v (%v)", v, met, want, err)
		}
	}
	if _, known := checkCondition(unitfile.Condition{Kind: "Security", Value: "cvm"}); known {
		t.Error("ConditionSecurity=cvm claims an answer gosd does not compute")
	}
}
