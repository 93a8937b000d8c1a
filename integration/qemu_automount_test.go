package integration

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The automount test boots gosd as the kernel's init on Debian's cloud
// kernel (this host's kernel has no autofs, so only a guest shows the
// kernel's side): /data is an automount point (data.automount,
// TimeoutIdleSec=2s) for a tmpfs (data.mount). A service writes into
// /data, which mounts the tmpfs; left idle, the kernel offers it for
// expiry and gosd unmounts it; a second access mounts it again. /auto is
// an /etc/fstab entry with x-systemd.automount. The autofs module is
// loaded by the kernel itself for the first autofs mount, through the
// guest's /sbin/modprobe (insmod of the module from the kernel package).

// qemuKernelModule returns a module of the cached kernel package (path
// inside it, e.g. kernel/fs/autofs/autofs4.ko), extracted once; "" when the
// package has none (the kernel has it built in, or not at all).
func qemuKernelModule(t *testing.T, rel string) string {
	qemuKernel(t) // the package is downloaded with the kernel
	cache := qemuCacheDir(t)
	out := filepath.Join(cache, filepath.Base(rel))
	if _, err := os.Stat(out); err == nil {
		return out
	}
	debs, _ := filepath.Glob(filepath.Join(cache, "linux-image-[0-9]*.deb"))
	if len(debs) == 0 {
		t.Fatal("no linux-image package in the cache")
	}
	x := t.TempDir()
	qemuRun(t, cache, "dpkg-deb", "-x", debs[len(debs)-1], x)
	found, _ := filepath.Glob(filepath.Join(x, "lib", "modules", "*", rel))
	if len(found) != 1 {
		return ""
	}
	b, err := os.ReadFile(found[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out+".tmp", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		t.Fatal(err)
	}
	return out
}

// qemuamInitramfs writes an initramfs with gosd as /init (and gosdctl),
// busybox, the autofs module when the kernel has it as one, and
// testdata/qemuam/rootfs.
func qemuamInitramfs(t *testing.T, module string) string {
	out := filepath.Join(t.TempDir(), "initramfs-am.cpio")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	c := &cpioWriter{w: bw}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "bin", "sbin", "etc", "etc/gosd", "etc/gosd/units", "lib", "lib/modules"} {
		c.dir(d)
	}
	// See qemuInitramfs: Go's runtime needs /dev/console for init's stdio.
	c.entry("dev/console", syscall.S_IFCHR|0o600, 5, 1, nil)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c.file("init", 0o755, read(gosdBin))
	c.symlink("bin/gosdctl", "/init")
	c.file("bin/busybox", 0o755, read(qemuBusybox(t)))
	// No mount(8) or umount(8): gosd's mount helper makes the calls.
	for _, applet := range []string{"sh", "sleep", "echo", "cat", "kill", "grep", "sed", "tr", "ls", "insmod", "true"} {
		c.symlink("bin/"+applet, "busybox")
	}
	if module != "" {
		c.file("lib/modules/autofs4.ko", 0o644, read(module))
	}
	c.file("etc/machine-id", 0o444, nil)
	have := map[string]bool{"bin": true, "sbin": true, "etc": true, "etc/gosd": true, "etc/gosd/units": true}
	if err := c.tree(filepath.Join("testdata", "qemuam", "rootfs"), have); err != nil {
		t.Fatal(err)
	}
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestQemuAutomount(t *testing.T) {
	needRoot(t)
	kernel := qemuKernel(t)
	module := qemuKernelModule(t, "kernel/fs/autofs/autofs4.ko")
	vm := qemuBoot(t, kernel, qemuamInitramfs(t, module), "gosd.unit=qemuam.target")
	deadline := time.Now().Add(qemuBudget)
	vm.waitFor("Run /init as init process", deadline)
	vm.waitFor("PROBE-END", deadline)
	off := vm.waitExit(deadline)
	console := vm.output()
	t.Logf("boot to power-off %.1fs (autofs module: %q)", off.Seconds(), module)

	line := func(prefix string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^PROBE ` + prefix + `.*$`).FindString(console)
		if m == "" {
			t.Fatalf("console lacks a %q line", "PROBE "+prefix)
		}
		return m
	}
	// Set up: the unit waits on an autofs mount, the tmpfs is not there.
	if l := line("before"); !strings.Contains(l, "automount=[active waiting ]") ||
		!strings.Contains(l, "mount=[inactive dead ]") || !strings.Contains(l, "fs=[autofs ]") {
		t.Errorf("before the access: %s", l)
	}
	// The write went through, into a tmpfs over the autofs mount.
	if l := line("write"); !strings.Contains(l, "rc=0 content=hello") {
		t.Errorf("the write into /data: %s", l)
	}
	if l := line("after"); !strings.Contains(l, "automount=[active running ]") ||
		!strings.Contains(l, "mount=[active mounted ]") || !strings.Contains(l, "fs=[autofs tmpfs ]") {
		t.Errorf("after the access: %s", l)
	}
	if !regexp.MustCompile(`Got automount request for /data, triggered by \d+ \(sh\)`).MatchString(console) {
		t.Error("gosd did not log the request with the process that made it")
	}
	// Idle for TimeoutIdleSec=: unmounted, the point waits again.
	if l := line("expired"); !strings.Contains(l, "automount=[active waiting ]") ||
		!strings.Contains(l, "mount=[inactive dead ]") || !strings.Contains(l, "fs=[autofs ]") || strings.Contains(l, "after 200 polls") {
		t.Errorf("after the idle time: %s", l)
	}
	// A second access mounts a fresh tmpfs.
	if l := line("again"); !strings.Contains(l, "rc=0") || !strings.Contains(l, "mount=[active mounted ]") || !strings.Contains(l, "hello=gone") {
		t.Errorf("the second access: %s", l)
	}
	// systemd's console lines for the unit, and its stop at power-off.
	for _, want := range []string{"Set up automount data.automount", "Unset automount data.automount"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	// From /etc/fstab: the automount unit set up at boot, its mount unit
	// started by the access only.
	if l := line("fstab automount"); !strings.Contains(l, "automount=[active waiting ]") ||
		!strings.Contains(l, "source=/etc/fstab") || !strings.Contains(l, "mount=[inactive dead ]") {
		t.Errorf("the fstab automount: %s", l)
	}
	if l := line("fstab ls"); !strings.Contains(l, "rc=0") || !strings.Contains(l, "automount=[active running ]") ||
		!strings.Contains(l, "mount=[active mounted ]") || !strings.Contains(l, "fs=[autofs tmpfs ]") {
		t.Errorf("the access to the fstab automount: %s", l)
	}
	qemuAutomountReexec(t, console, line)
	if module != "" && !strings.Contains(console, "MODPROBE fs-autofs") {
		t.Error("the kernel did not ask for the autofs module: was autofs mounted at all?")
	}
	if !strings.Contains(console, "reboot: Power down") || strings.Contains(console, "Kernel panic") {
		t.Error("no clean power-off")
	}
}

// qemuAutomountReexec checks the probe's daemon-reexec part: the points
// survive three re-execs of gosd (the autofs pipes and the units' state
// handed over). A waiting point mounts on the first access after one; a
// point re-executed while mounted still expires when idle; a request that
// the kernel holds while the old gosd re-executes is answered by the new.
func qemuAutomountReexec(t *testing.T, console string, line func(string) string) {
	t.Helper()
	if strings.Contains(console, "PROBE daemon-reexec refused") {
		t.Error("gosd refused daemon-reexec with automount points set up")
	}
	attempts := len(regexp.MustCompile(`(?m)^PROBE reexec-3 attempt \d held `).FindAllString(console, -1))
	if n := strings.Count(console, "Reexecuted: "); n != 2+attempts {
		t.Errorf("%d re-execs, want %d", n, 2+attempts)
	}
	t.Logf("the request during a re-exec took %d attempt(s)", attempts)
	for _, n := range []string{"1", "2", "3"} {
		if l := line("reexec-" + n + " waited"); strings.Contains(l, "300 polls") {
			t.Errorf("re-exec %s did not finish: %s", n, l)
		}
	}
	waiting := func(l string) bool {
		return strings.Contains(l, "automount=[active waiting ]") && strings.Contains(l, "mount=[inactive dead ]") &&
			strings.Contains(l, "fs=[autofs ]") && !strings.Contains(l, "after 200 polls")
	}
	mounted := func(l string) bool {
		return strings.Contains(l, "automount=[active running ]") && strings.Contains(l, "mount=[active mounted ]") &&
			strings.Contains(l, "fs=[autofs tmpfs ]")
	}
	if l := line("reexec-waiting: expired"); !waiting(l) {
		t.Errorf("before the first re-exec: %s", l)
	}
	if l := line("reexec-1 state"); !waiting(l) || !strings.Contains(l, "auto=[active running ]") {
		t.Errorf("after re-exec 1: %s", l)
	}
	if l := line("reexec-1 access"); !strings.Contains(l, "rc=0") || !mounted(l) {
		t.Errorf("the access after re-exec 1: %s", l)
	}
	if l := line("reexec-2 state"); !mounted(l) {
		t.Errorf("after re-exec 2 (mounted): %s", l)
	}
	if l := line("reexec-2 expired"); !waiting(l) {
		t.Errorf("the idle expiry after re-exec 2: %s", l)
	}
	// The hostile one: ls was held by the kernel while the old gosd ran
	// (the window is short: the probe tries up to three times).
	held := regexp.MustCompile(`(?m)^PROBE reexec-3 attempt (\d) held pid=(\d+) wchan=autofs_wait old-gosd=yes$`).FindStringSubmatch(console)
	if held == nil {
		t.Fatalf("no request was held across a re-exec in %d attempts", attempts)
	}
	if l := line("reexec-3 attempt " + held[1] + " access"); !strings.Contains(l, "rc=0 old-gosd=no") {
		t.Errorf("the access held across the re-exec: %s", l)
	}
	if l := line("reexec-3 attempt " + held[1] + " state"); !mounted(l) {
		t.Errorf("after the re-exec with a request held: %s", l)
	}
	// The new gosd read that request: it logged it after it took over.
	got := strings.Index(console, "triggered by "+held[2]+" (ls)")
	k, _ := strconv.Atoi(held[1])
	if got < 0 || strings.Count(console[:got], "Reexecuted: ") != 2+k {
		t.Errorf("the held request was not answered by the gosd of re-exec %d", 2+k)
	}
}
