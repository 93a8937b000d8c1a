package integration

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestQemuLogsSurviveReboot boots gosd as the kernel's init twice on one
// disk image (an ext4 on NVMe, mounted on /var/log by a unit; gosd's
// persistent log is written once /var/log/gosd exists, journald's
// Storage=auto): the first boot logs through stdout, syslog(3) (busybox
// logger) and StandardOutput=kmsg, then reboots; the second prints what
// the first logged, read by the gosd binary as journalctl and by gosdctl
// logs, with times and units.
func TestQemuLogsSurviveReboot(t *testing.T) {
	needRoot(t)
	kernel := qemuKernel(t)
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		t.Fatal("mkfs.ext4 (e2fsprogs) is needed")
	}
	disk := filepath.Join(t.TempDir(), "log.img")
	if out, err := exec.Command(mkfs, "-q", "-F", disk, "16M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	initrd := qemuInitramfs(t, gosdBin)
	drive := []string{"-drive", "file=" + disk + ",if=none,id=logdisk,format=raw", "-device", "nvme,drive=logdisk,serial=gosdlog"}

	first := qemuStartWith(t, "pc", "512", kernel, initrd, "gosd.unit=logs-first.target", true, drive)
	deadline := time.Now().Add(qemuBudget)
	first.waitFor("LOGDISK-MOUNTED", deadline)
	first.waitFor("TRIGGER reboot", deadline)
	first.waitExit(deadline)
	console := first.output()
	// StandardOutput=kmsg: the kernel printed it, "IDENT[PID]: MESSAGE" as
	// journald forwards it (the identifier is the program's name).
	if !regexp.MustCompile(`\] echo\[\d+\]: KMSG-LINE boot1`).MatchString(console) {
		t.Error("the kmsg line is not on the first boot's console (the kernel's log)")
	}
	if !strings.Contains(console, "reboot: Restarting system") {
		t.Error("the first boot did not end in a reboot")
	}

	second := qemuStartWith(t, "pc", "512", kernel, initrd, "gosd.unit=logs-second.target", true, drive)
	deadline = time.Now().Add(qemuBudget)
	second.waitFor("LOGSHOW-END", deadline)
	second.waitExit(deadline)
	out := second.output()
	show := out[strings.Index(out, "LOGSHOW-BEGIN"):strings.Index(out, "LOGSHOW-GOSDCTL")]
	for _, re := range []string{
		`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} gosd-qemu sh\[\d+\]: STDOUT-LINE boot1$`,
		`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} gosd-qemu logdemo\[\d+\]: SYSLOG-LINE boot1$`,
		`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} gosd-qemu echo\[\d+\]: KMSG-LINE boot1$`,
	} {
		if !regexp.MustCompile(re).MatchString(show) {
			t.Errorf("journalctl on the second boot lacks %s:\n%s", re, show)
		}
	}
	// gosdctl logs -o json: the first boot's entries, with their unit and
	// both timestamps, served by the second boot's gosd from the disk.
	found := map[string]bool{}
	for _, l := range strings.Split(out[strings.Index(out, "LOGSHOW-GOSDCTL"):strings.Index(out, "LOGSHOW-KERNEL")], "\n") {
		var e map[string]string
		if json.Unmarshal([]byte(strings.TrimSpace(l)), &e) != nil {
			continue
		}
		if e["_SYSTEMD_UNIT"] == "logdemo.service" && e["__MONOTONIC_TIMESTAMP"] != "" && e["__REALTIME_TIMESTAMP"] != "" {
			found[e["MESSAGE"]] = true
		}
	}
	if !found["STDOUT-LINE boot1"] || !found["SYSLOG-LINE boot1"] {
		t.Errorf("gosdctl logs -u logdemo on the second boot: found %v", found)
	}
	// The kernel's messages of this boot, from before gosd ran too
	// (journalctl -k), with the kernel's own monotonic time.
	kmsgShow := out[strings.Index(out, "LOGSHOW-KERNEL"):strings.Index(out, "LOGSHOW-END")]
	if !regexp.MustCompile(`(?m)^\[\s*0\.\d{6}\] gosd-qemu kernel: Linux version `).MatchString(kmsgShow) {
		t.Errorf("journalctl -k lacks the kernel's first line:\n%s", kmsgShow)
	}
}
