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

// fstabCheck runs once local-fs.target and swap.target are reached: it
// prints what is mounted and swapped on, which units failed and the state
// of the nofail mount of the missing disk, then asks gosd to power off.
const fstabCheck = `#!/bin/sh
echo "FSTAB-MOUNT $(grep ' /data ' /proc/self/mountinfo)" > /dev/console
while read -r f rest; do echo "FSTAB-SWAP $f $rest"; done < /proc/swaps > /dev/console
# Until the missing disk's start is over: its device times out after 2 s
# and the nofail mount's job fails with it, which its log says.
i=0
while ! gosdctl status -n 20 missing.mount 2>&1 | grep -q "Dependency failed for missing.mount" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i+1))
done
echo "FSTAB-FAILED-BEGIN" > /dev/console
gosdctl list-units --all --failed --no-legend --plain > /dev/console 2>&1
echo "FSTAB-FAILED-END" > /dev/console
echo "FSTAB-MISSING $(gosdctl show -p ActiveState --value missing.mount)" > /dev/console
echo "FSTAB-ROOT $(gosdctl show -p ActiveState --value -- -.mount) $(gosdctl show -p SubState --value -- -.mount)" > /dev/console
# Swaps turned on and off by others (gosd's mount helper, called by hand):
# /proc/swaps is followed.
state() { gosdctl show -p ActiveState --value "$1"; }
wait_state() { i=0; while [ "$(state "$1")" != "$2" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; }
/init mount-helper swapon /data/swapfile2 > /dev/null
wait_state data-swapfile2.swap active
echo "FSTAB-OTHER $(state data-swapfile2.swap) $(gosdctl show -p SourcePath --value data-swapfile2.swap)" > /dev/console
/init mount-helper swapoff /data/swapfile > /dev/null
wait_state data-swapfile.swap inactive
echo "FSTAB-OFF $(state data-swapfile.swap)" > /dev/console
/init mount-helper swapon /data/swapfile > /dev/null
wait_state data-swapfile.swap active
echo "FSTAB-ON $(state data-swapfile.swap)" > /dev/console
echo "FSTAB-CHECKED" > /dev/console
sleep 1
kill -38 1
`

// TestQemuFstab boots gosd as the kernel's init with an /etc/fstab that
// names a second disk (an ext4 on NVMe, made here), a swap file on it,
// and a nofail mount of a disk that is not there (by UUID, with
// x-systemd.device-timeout=2s, without which systemd and gosd wait 90 s
// for it before local-fs.target): the disk is mounted by local-fs.target,
// the swap is on (/proc/swaps) by swap.target, the missing disk is
// skipped when its device timeout ends, without failing anything, and
// at the power-off the swap goes off and the disk is unmounted cleanly:
// after qemu exits, dumpe2fs says the file system is clean, its journal
// needs no recovery. A second swap file turned on by hand gets a unit
// made from /proc/swaps, and the fstab swap turned off and on by hand is
// followed; both go off before /data is unmounted. The initramfs has busybox's mount(8) but no
// umount(8), swapon(8) or swapoff(8): those go through gosd's mount
// helper, and the log says so.
func TestQemuFstab(t *testing.T) {
	needRoot(t)
	kernel := qemuKernel(t)
	for _, tool := range []string{"mkfs.ext4", "mkswap", "dumpe2fs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s (e2fsprogs, util-linux) is needed", tool)
		}
	}
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	if err := os.Mkdir(content, 0o755); err != nil {
		t.Fatal(err)
	}
	// A swap file without holes (swapon refuses those; mkfs.ext4 -d
	// leaves blocks of zeros out): non-zero bytes, then the swap
	// signature, in 4 KiB blocks (mkswap's zeros fill a 1 KiB one).
	for _, name := range []string{"swapfile", "swapfile2"} {
		swap := filepath.Join(content, name)
		if err := os.WriteFile(swap, []byte(strings.Repeat("gosd", 1<<20)), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mkswap", swap).CombinedOutput(); err != nil {
			t.Fatalf("mkswap: %v\n%s", err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(content, "hello"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(dir, "data.img")
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-b", "4096", "-d", content, disk, "32M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	initrd := qemuInitramfsWith(t, gosdBin, map[string]string{
		"etc/fstab": "# the second disk, a swap file on it, a disk that is not there\n" +
			"/dev/nvme0n1 /data ext4 defaults 0 2\n" +
			"/data/swapfile none swap sw 0 0\n" +
			"UUID=0badc0de-0000-4000-8000-000000000000 /missing ext4 nofail,x-systemd.device-timeout=2s 0 2\n",
		"etc/gosd/units/fstab.target": "[Unit]\nDescription=qemu fstab test\n" +
			"Wants=local-fs.target swap.target fstab-check.service\n",
		// local-fs.target as systemd's own: DefaultDependencies=no, so
		// that a nofail mount it wants is not waited for (its device job
		// waits up to 90 s for a disk that is not there).
		"etc/gosd/units/local-fs.target": "[Unit]\nDescription=Local File Systems\nDefaultDependencies=no\n",
		"etc/gosd/units/swap.target":     "[Unit]\nDescription=Swaps\n",
		"etc/gosd/units/fstab-check.service": "[Unit]\nAfter=local-fs.target swap.target\n" +
			"[Service]\nType=oneshot\nExecStart=/bin/sh /bin/fstab-check.sh\n",
		"bin/fstab-check.sh": fstabCheck,
	})
	drive := []string{"-drive", "file=" + disk + ",if=none,id=data,format=raw", "-device", "nvme,drive=data,serial=gosddata"}
	vm := qemuStartWith(t, "pc", "512", kernel, initrd, "gosd.unit=fstab.target", true, drive)
	deadline := time.Now().Add(qemuBudget)
	vm.waitFor("FSTAB-CHECKED", deadline)
	vm.waitExit(deadline)
	console := vm.output()

	if !regexp.MustCompile(`FSTAB-MOUNT .* /data rw[^ ]* (.* )?- ext4 /dev/nvme0n1 `).MatchString(console) {
		t.Errorf("/data is not the ext4 of /dev/nvme0n1, read-write")
	}
	if !regexp.MustCompile(`FSTAB-SWAP /data/swapfile\s+file\s`).MatchString(console) {
		t.Errorf("the swap file is not in /proc/swaps")
	}
	failed := console[strings.Index(console, "FSTAB-FAILED-BEGIN"):strings.Index(console, "FSTAB-FAILED-END")]
	if lines := strings.Split(strings.TrimSpace(failed), "\n"); len(lines) != 1 {
		t.Errorf("failed units:\n%s", failed)
	}
	if m := regexp.MustCompile(`FSTAB-MISSING (\S+)`).FindStringSubmatch(console); m == nil || m[1] != "inactive" {
		t.Errorf("the nofail mount of the missing disk: %v, want inactive", m)
	}
	// Swaps turned on and off by someone else: a unit made from
	// /proc/swaps for the one without a unit file; the fstab one follows.
	for _, want := range []string{"FSTAB-OTHER active /proc/swaps", "FSTAB-OFF inactive", "FSTAB-ON active",
		"boot: all file systems unmounted (or read-only), all swaps off"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	if !strings.Contains(console, "FSTAB-ROOT active mounted") {
		t.Errorf("-.mount is not active/mounted (a unit made from the mount table)")
	}
	for _, want := range []string{
		"swapon(8) not found: using the swapon(2) system call",
		"swapoff(8) not found: using the swapoff(2) system call",
		"umount(8) not found: using the umount2(2) system call",
		"Unmounted data.mount", "reboot: Power down",
		"Timed out waiting for device", "Dependency failed for missing.mount",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	// The swap went off before its file system was unmounted.
	off, um := strings.Index(console, "swap off /data/swapfile with swapoff(2)"), strings.Index(console, "Unmounted data.mount")
	if off < 0 || um < off {
		t.Errorf("swap off at %d, unmount of /data at %d", off, um)
	}
	out, err := exec.Command("dumpe2fs", "-h", disk).CombinedOutput()
	if err != nil {
		t.Fatalf("dumpe2fs: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^Filesystem state:\s+clean$`).Match(out) {
		t.Errorf("the ext4 was not left clean:\n%s", out)
	}
	if regexp.MustCompile(`(?m)^Filesystem features:.*needs_recovery`).Match(out) {
		t.Errorf("the ext4's journal needs recovery: it was not unmounted:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^Last mounted on:\s+/data$`).Match(out) {
		t.Errorf("the ext4 was never mounted on /data:\n%s", out)
	}
}
