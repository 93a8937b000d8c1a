package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// qemuBudget bounds one boot under TCG (no KVM in CI): boot, reach the
// target, power off. Measured: about 5 s here (docs/pid1.md); the rest is
// for a slow, shared runner.
const qemuBudget = 90 * time.Second

// qemuCheckEarlyBoot checks the marker script's report (testdata/qemu/
// rootfs/bin/marker.sh): what EarlyBoot set up, seen from a service.
func qemuCheckEarlyBoot(t *testing.T, console string) {
	t.Helper()
	m := regexp.MustCompile(`MARKER pid=\d+ hostname=(\S*) machine-id=(\S*) lo-flags=(\S*)`).FindStringSubmatch(console)
	if m == nil {
		t.Fatal("no MARKER line")
	}
	if m[1] != "gosd-qemu" {
		t.Errorf("hostname %q, want gosd-qemu (from /etc/hostname)", m[1])
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(m[2]) {
		t.Errorf("machine id %q: not seeded over the empty /etc/machine-id", m[2])
	}
	// IFF_UP is 0x1; lo also has IFF_LOOPBACK (0x8).
	if m[3] != "0x9" {
		t.Errorf("lo flags %s, want 0x9 (up)", m[3])
	}
	for _, want := range []string{
		"MOUNT /proc proc", "MOUNT /sys sysfs", "MOUNT /dev devtmpfs", "MOUNT /dev/pts devpts",
		"MOUNT /dev/shm tmpfs", "MOUNT /run tmpfs", "MOUNT /sys/fs/cgroup cgroup2",
		"MOUNT /etc/machine-id ",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}

// qemuCheckShutdown checks the end of an orderly power-off.
func qemuCheckShutdown(t *testing.T, console string) {
	t.Helper()
	for _, want := range []string{"SLEEPER-STOPPED", "reboot: Power down"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	if strings.Contains(console, "Kernel panic") {
		t.Error("kernel panic")
	}
}

// TestQemuBootPackage boots a minimal init built on package boot alone
// (testdata/qemu/bootinit): EarlyBoot, the signal table and FinalShutdown
// on a real kernel, independent of the manager.
func TestQemuBootPackage(t *testing.T) {
	needRoot(t)
	kernel := qemuKernel(t)
	bin := filepath.Join(t.TempDir(), "bootinit")
	build := exec.Command("go", "build", "-o", bin, "./testdata/qemu/bootinit")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building bootinit: %v\n%s", err, out)
	}
	vm := qemuBoot(t, kernel, qemuInitramfs(t, bin), "gosd.unit=qemu.target")
	deadline := time.Now().Add(qemuBudget)
	vm.waitFor("Run /init as init process", deadline)
	vm.waitFor("bootinit: early boot done", deadline)
	target := vm.waitFor("bootinit: Reached target qemu.target", deadline)
	vm.waitFor("MARKER-END", deadline)
	vm.waitFor("bootinit: signal", deadline)
	off := vm.waitExit(deadline)
	console := vm.output()
	t.Logf("boot to target %.1fs, boot to power-off %.1fs", target.Seconds(), off.Seconds())
	if !strings.Contains(console, "machine=true") {
		t.Error("InContainer was true as the kernel's init")
	}
	if !strings.Contains(console, "bootinit: signal signal 38: poweroff") {
		t.Error("SIGRTMIN+4 (38) did not map to poweroff")
	}
	qemuCheckEarlyBoot(t, console)
	qemuCheckShutdown(t, console)
}

// TestQemuBootGosd boots the gosd binary as /init: early boot, the target
// named on the kernel command line, its services, and an orderly
// power-off asked for with SIGRTMIN+4 by a service.
func TestQemuBootGosd(t *testing.T) {
	needRoot(t)
	kernel := qemuKernel(t)
	vm := qemuBoot(t, kernel, qemuInitramfs(t, gosdBin), "gosd.unit=qemu.target")
	deadline := time.Now().Add(qemuBudget)
	vm.waitFor("Run /init as init process", deadline)
	vm.waitFor("boot: mounted /proc", deadline)
	target := vm.waitFor("Reached target qemu.target", deadline)
	vm.waitFor("MARKER-END", deadline)
	vm.waitFor("SLEEPER-STARTED", deadline)
	vm.waitFor("TRIGGER poweroff", deadline)
	off := vm.waitExit(deadline)
	console := vm.output()
	t.Logf("boot to target %.1fs, boot to power-off %.1fs", target.Seconds(), off.Seconds())
	if strings.Contains(console, "WRONG-TARGET") {
		t.Error("default.target started although the kernel command line names qemu.target")
	}
	qemuCheckEarlyBoot(t, console)
	qemuCheckShutdown(t, console)
}
