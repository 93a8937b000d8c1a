package integration

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The qemu tests boot a real Debian cloud kernel under TCG with an
// initramfs written here. What they need is fetched on first use, only
// from Debian's mirrors through apt, and cached outside the repository.

// qemuCacheDir holds the kernel across runs ($GOSD_TEST_CACHE overrides).
func qemuCacheDir(t *testing.T) string {
	dir := os.Getenv("GOSD_TEST_CACHE")
	if dir == "" {
		dir = "/var/cache/gosd-test"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// qemuRun runs a setup command, failing the test with its output.
func qemuRun(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// qemuAptOnce runs apt-get update at most once per test binary, and only
// when an install or download failed (the lists may be missing in CI).
var qemuAptUpdated bool

func qemuApt(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("apt-get", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err == nil {
		return
	} else if qemuAptUpdated {
		t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	qemuAptUpdated = true
	qemuRun(t, dir, "apt-get", "update")
	qemuRun(t, dir, "apt-get", args...)
}

// qemuBinary installs qemu-system-x86 when missing.
func qemuBinary(t *testing.T) string {
	if p, err := exec.LookPath("qemu-system-x86_64"); err == nil {
		return p
	}
	qemuApt(t, "/", "install", "-y", "--no-install-recommends", "qemu-system-x86")
	p, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Fatal("qemu-system-x86_64 still missing after installing qemu-system-x86")
	}
	return p
}

// qemuKernel returns Debian's cloud kernel, downloaded with apt-get
// download (the metapackage names the real image package) and cached.
func qemuKernel(t *testing.T) string {
	cache := qemuCacheDir(t)
	kernel := filepath.Join(cache, "vmlinuz-cloud-amd64")
	if _, err := os.Stat(kernel); err == nil {
		return kernel
	}
	qemuApt(t, cache, "download", "linux-image-cloud-amd64")
	metas, _ := filepath.Glob(filepath.Join(cache, "linux-image-cloud-amd64_*.deb"))
	if len(metas) == 0 {
		t.Fatal("apt-get download linux-image-cloud-amd64 left no .deb")
	}
	image := ""
	for _, dep := range strings.Split(qemuRun(t, cache, "dpkg-deb", "-f", metas[len(metas)-1], "Depends"), ",") {
		name := strings.Fields(strings.TrimSpace(dep))
		if len(name) > 0 && strings.HasPrefix(name[0], "linux-image-") {
			image = name[0]
		}
	}
	if image == "" {
		t.Fatal("linux-image-cloud-amd64 depends on no linux-image-* package")
	}
	debs, _ := filepath.Glob(filepath.Join(cache, image+"_*.deb"))
	if len(debs) == 0 {
		qemuApt(t, cache, "download", image)
		debs, _ = filepath.Glob(filepath.Join(cache, image+"_*.deb"))
	}
	if len(debs) == 0 {
		t.Fatalf("apt-get download %s left no .deb", image)
	}
	x := t.TempDir()
	qemuRun(t, cache, "dpkg-deb", "-x", debs[len(debs)-1], x)
	found, _ := filepath.Glob(filepath.Join(x, "boot", "vmlinuz-*"))
	if len(found) != 1 {
		t.Fatalf("%s holds %d kernels", debs[len(debs)-1], len(found))
	}
	b, err := os.ReadFile(found[0])
	if err != nil {
		t.Fatal(err)
	}
	// Write then rename, so a run cut short leaves no half kernel behind.
	if err := os.WriteFile(kernel+".tmp", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(kernel+".tmp", kernel); err != nil {
		t.Fatal(err)
	}
	return kernel
}

// qemuBusybox returns a statically linked busybox (busybox-static).
func qemuBusybox(t *testing.T) string {
	const p = "/bin/busybox"
	if !qemuIsStatic(p) {
		qemuApt(t, "/", "install", "-y", "busybox-static")
	}
	if !qemuIsStatic(p) {
		t.Fatalf("%s is not a static binary", p)
	}
	return p
}

// qemuIsStatic: an ELF without an interpreter runs in an empty initramfs.
func qemuIsStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// cpioWriter writes the "newc" format the kernel unpacks into its
// initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
type cpioWriter struct {
	w   io.Writer
	ino int
	n   int64
	err error
}

func (c *cpioWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	var n int
	n, c.err = c.w.Write(p)
	c.n += int64(n)
}

func (c *cpioWriter) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// entry writes one file; mode includes the type bits (syscall.S_IF*).
func (c *cpioWriter) entry(name string, mode uint32, rdevMajor, rdevMinor uint32, data []byte) {
	c.ino++
	nlink := 1
	if mode&syscall.S_IFMT == syscall.S_IFDIR {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write(append([]byte(name), 0))
	c.pad()
	c.write(data)
	c.pad()
}

func (c *cpioWriter) dir(name string) { c.entry(name, syscall.S_IFDIR|0o755, 0, 0, nil) }
func (c *cpioWriter) symlink(name, target string) {
	c.entry(name, syscall.S_IFLNK|0o777, 0, 0, []byte(target))
}
func (c *cpioWriter) file(name string, mode uint32, data []byte) {
	c.entry(name, syscall.S_IFREG|mode, 0, 0, data)
}

// tree adds everything below root under its relative name: directories
// (but those in have, already written), symlinks as links, files with
// their permission bits.
func (c *cpioWriter) tree(root string, have map[string]bool) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.IsDir():
			if !have[rel] {
				c.dir(rel)
			}
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			c.symlink(rel, target)
		default:
			info, err := d.Info()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			c.file(rel, uint32(info.Mode().Perm()), data)
		}
		return nil
	})
}

func (c *cpioWriter) close() error {
	c.entry("TRAILER!!!", 0, 0, 0, nil)
	return c.err
}

// qemuInitramfs writes an initramfs with initBin as /init, busybox with
// the applets the scripts use, and testdata/qemu/rootfs (units, scripts,
// /etc/hostname, an empty /etc/machine-id).
func qemuInitramfs(t *testing.T, initBin string) string {
	return qemuInitramfsWith(t, initBin, nil)
}

// qemuInitramfsWith is qemuInitramfs with more files (path without the
// leading slash -> content; executable under bin/), for one test's own
// units and configuration; their directories must exist in the tree.
func qemuInitramfsWith(t *testing.T, initBin string, extra map[string]string) string {
	if !qemuIsStatic(initBin) {
		t.Fatalf("%s is not static: it cannot run as /init", initBin)
	}
	out := filepath.Join(t.TempDir(), "initramfs.cpio")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	c := &cpioWriter{w: bw}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "bin", "sbin", "etc"} {
		c.dir(d)
	}
	// The kernel opens /dev/console for init's stdio before /dev is
	// mounted. Without the node init starts with fds 0-2 closed, and Go's
	// runtime then dies opening /dev/null (docs/pid1.md).
	c.entry("dev/console", syscall.S_IFCHR|0o600, 5, 1, nil)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c.file("init", 0o755, read(initBin))
	c.file("bin/busybox", 0o755, read(qemuBusybox(t)))
	for _, applet := range []string{"sh", "sleep", "echo", "cat", "kill", "mkdir", "grep", "poweroff", "true",
		"nc", "mount", "hostname", "ifconfig", "logger"} {
		c.symlink("bin/"+applet, "busybox")
	}
	// gosd's other names: the client, and the reader of its log where no
	// journalctl is installed.
	for _, name := range []string{"gosdctl", "journalctl"} {
		c.symlink("bin/"+name, "/init")
	}
	if err := c.tree(filepath.Join("testdata", "qemu", "rootfs"), map[string]bool{"bin": true, "etc": true}); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		mode := uint32(0o644)
		if strings.HasPrefix(name, "bin/") {
			mode = 0o755
		}
		c.file(name, mode, []byte(extra[name]))
	}
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// qemuVM is one booted kernel; console collects the serial output.
type qemuVM struct {
	t       *testing.T
	cmd     *exec.Cmd
	start   time.Time
	mu      sync.Mutex
	console bytes.Buffer
	changed chan struct{} // closed and replaced on every new output
	done    chan struct{} // closed when qemu has exited
	exitErr error
}

// qemuBoot starts qemu with kernel and initrd; the serial console is
// qemu's stdout. -no-reboot makes a guest reboot end qemu too.
func qemuBoot(t *testing.T, kernel, initrd, cmdline string) *qemuVM {
	return qemuBootOn(t, "pc", kernel, initrd, cmdline)
}

// qemuBootOn is qemuBoot on the given machine type (pc, microvm).
func qemuBootOn(t *testing.T, machine, kernel, initrd, cmdline string) *qemuVM {
	return qemuStart(t, machine, "512", kernel, initrd, cmdline, true)
}

// qemuStart boots kernel and initrd with memMB of memory and collects the
// serial console; logConsole logs it at the end of a failed or verbose test.
func qemuStart(t *testing.T, machine, memMB, kernel, initrd, cmdline string, logConsole bool) *qemuVM {
	return qemuStartWith(t, machine, memMB, kernel, initrd, cmdline, logConsole, nil)
}

// qemuStartWith is qemuStart with more qemu arguments (a disk).
func qemuStartWith(t *testing.T, machine, memMB, kernel, initrd, cmdline string, logConsole bool, extra []string) *qemuVM {
	args := []string{
		// RDRAND, as every x86 machine of the last decade and every KVM
		// guest has: qemu64 under TCG lacks it, and then the kernel's RNG
		// is seeded only seconds into the boot, while programs waiting for
		// it (sshd, journald, dbus, systemd-random-seed) spin in the
		// kernel's jitter-entropy loop, CPU that lands on whichever
		// process waits first (docs/debian-boot.md).
		"-cpu", "qemu64,+rdrand",
		"-M", machine, "-m", memMB, "-smp", "1",
		"-display", "none", "-vga", "none", "-monitor", "none",
		"-serial", "stdio", "-net", "none", "-no-reboot",
		"-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyS0 panic=-1 reboot=k " + cmdline,
	}
	args = append(args, extra...)
	vm := &qemuVM{t: t, start: time.Now(), changed: make(chan struct{}), done: make(chan struct{})}
	vm.cmd = exec.Command(qemuBinary(t), args...)
	stdout, err := vm.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	vm.cmd.Stderr = vm.cmd.Stdout
	if err := vm.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := stdout.Read(buf)
			vm.mu.Lock()
			vm.console.Write(bytes.ReplaceAll(buf[:n], []byte("\r"), nil))
			close(vm.changed)
			vm.changed = make(chan struct{})
			vm.mu.Unlock()
			if err != nil {
				break
			}
		}
		vm.exitErr = vm.cmd.Wait()
		close(vm.done)
	}()
	t.Cleanup(func() {
		select {
		case <-vm.done:
		default:
			vm.cmd.Process.Kill()
			<-vm.done
		}
		if logConsole && (t.Failed() || testing.Verbose()) {
			t.Logf("serial console:\n%s", vm.output())
		}
	})
	return vm
}

func (vm *qemuVM) output() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.console.String()
}

// waitFor waits until the console shows s; it returns the time since boot.
func (vm *qemuVM) waitFor(s string, deadline time.Time) time.Duration {
	vm.t.Helper()
	for {
		vm.mu.Lock()
		found := strings.Contains(vm.console.String(), s)
		changed := vm.changed
		vm.mu.Unlock()
		if found {
			return time.Since(vm.start)
		}
		if strings.Contains(vm.output(), "Kernel panic") {
			vm.t.Fatalf("kernel panic while waiting for %q", s)
		}
		select {
		case <-changed:
		case <-vm.done:
			if !strings.Contains(vm.output(), s) {
				vm.t.Fatalf("qemu exited (%v) before the console showed %q", vm.exitErr, s)
			}
		case <-time.After(time.Until(deadline)):
			vm.t.Fatalf("no %q on the console after %v", s, time.Since(vm.start).Round(time.Second))
		}
	}
}

// waitExit waits for qemu to end by itself: the guest powered off.
func (vm *qemuVM) waitExit(deadline time.Time) time.Duration {
	vm.t.Helper()
	select {
	case <-vm.done:
	case <-time.After(time.Until(deadline)):
		vm.t.Fatalf("qemu still running after %v: the guest did not power off", time.Since(vm.start).Round(time.Second))
	}
	if vm.exitErr != nil {
		vm.t.Fatalf("qemu: %v", vm.exitErr)
	}
	return time.Since(vm.start)
}
