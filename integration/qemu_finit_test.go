package integration

import (
	"bufio"
	"debug/elf"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// finit (troglobit/finit, Debian's package) as a third PID1 in the same
// VM as TestQemuBusyboxReference: the same kernel, busybox and scripts
// (testdata/qemu/rootfs/bin), with finit's own configuration from
// testdata/qemufinit. Debian builds finit dynamically linked against
// libite and libuev; the initramfs gets the libraries the ELF files name
// (DT_NEEDED, recursively) and the dynamic loader.

// qemuFinitDebs are the packages fetched with apt-get download: finit
// and the two libraries Debian does not install on a minimal host.
var qemuFinitDebs = []string{"finit", "libite5", "libuev3"}

// qemuFinitTree returns a directory holding the packages unpacked
// (sbin/finit, lib/finit/initctl, usr/lib/x86_64-linux-gnu/lib*.so*).
func qemuFinitTree(t *testing.T) string {
	cache := filepath.Join(qemuCacheDir(t), "finit")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	var debs []string
	for _, name := range qemuFinitDebs {
		found, _ := filepath.Glob(filepath.Join(cache, name+"_*.deb"))
		if len(found) == 0 {
			qemuApt(t, cache, "download", name)
			found, _ = filepath.Glob(filepath.Join(cache, name+"_*.deb"))
		}
		if len(found) == 0 {
			t.Fatalf("apt-get download %s left no .deb", name)
		}
		debs = append(debs, found[len(found)-1])
	}
	tree := t.TempDir()
	for _, deb := range debs {
		qemuRun(t, cache, "dpkg-deb", "-x", deb, tree)
	}
	return tree
}

// qemuFinitLibDirs is where DT_NEEDED names are looked up: the unpacked
// packages first, then the host's (Debian: libc6 of the same release).
func qemuFinitLibDirs(tree string) []string {
	return []string{
		filepath.Join(tree, "usr/lib/x86_64-linux-gnu"),
		filepath.Join(tree, "lib/x86_64-linux-gnu"),
		"/lib/x86_64-linux-gnu",
		"/usr/lib/x86_64-linux-gnu",
	}
}

// qemuELFDeps returns the shared objects bins need, by file name to host
// path, and the dynamic loader (PT_INTERP) they name.
func qemuELFDeps(t *testing.T, dirs []string, bins ...string) (libs map[string]string, interp string) {
	t.Helper()
	libs = map[string]string{}
	queue := append([]string(nil), bins...)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, prog := range f.Progs {
			if prog.Type != elf.PT_INTERP {
				continue
			}
			b := make([]byte, prog.Filesz)
			if _, err := prog.ReadAt(b, 0); err != nil {
				t.Fatal(err)
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
		needed, err := f.ImportedLibraries()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range needed {
			if _, ok := libs[name]; ok {
				continue
			}
			found := ""
			for _, d := range dirs {
				if _, err := os.Stat(filepath.Join(d, name)); err == nil {
					found = filepath.Join(d, name)
					break
				}
			}
			if found == "" {
				t.Fatalf("%s needs %s, found in none of %v", p, name, dirs)
			}
			libs[name] = found
			queue = append(queue, found)
		}
	}
	if interp == "" {
		t.Fatalf("%v name no dynamic loader", bins)
	}
	return libs, interp
}

// qemuFinitInitramfs writes an initramfs with finit as /sbin/finit (no
// /init: the kernel is booted with rdinit=/sbin/finit), initctl, their
// libraries, busybox with the applets the scripts use, the gosd test's
// scripts and /etc files, and testdata/qemufinit (finit.conf, scripts).
func qemuFinitInitramfs(t *testing.T) string {
	tree := qemuFinitTree(t)
	finitBin := filepath.Join(tree, "sbin/finit")
	initctlBin := filepath.Join(tree, "lib/finit/initctl")
	libs, interp := qemuELFDeps(t, qemuFinitLibDirs(tree), finitBin, initctlBin)

	out := filepath.Join(t.TempDir(), "initramfs-finit.cpio")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	c := &cpioWriter{w: bw}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "bin", "sbin", "etc", "etc/finit.d",
		"lib", "lib/finit", "lib/x86_64-linux-gnu", "lib64", "var"} {
		c.dir(d)
	}
	c.symlink("var/run", "../run")
	c.entry("dev/console", syscall.S_IFCHR|0o600, 5, 1, nil)
	read := func(p string) []byte {
		// ReadFile follows symlinks: libfoo.so.N is stored as the file.
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c.file("sbin/finit", 0o755, read(finitBin))
	c.file("lib/finit/initctl", 0o755, read(initctlBin))
	c.symlink("sbin/initctl", "/lib/finit/initctl")
	c.symlink("bin/initctl", "/lib/finit/initctl")
	for name, p := range libs {
		c.file("lib/x86_64-linux-gnu/"+name, 0o755, read(p))
	}
	// The loader at the path the binaries name (/lib64/ld-linux-x86-64.so.2).
	c.file(strings.TrimPrefix(interp, "/"), 0o755, read(interp))

	c.file("bin/busybox", 0o755, read(qemuBusybox(t)))
	for _, applet := range []string{"sh", "sleep", "echo", "cat", "kill", "mkdir", "grep", "poweroff", "true",
		"nc", "mount", "umount", "hostname", "ifconfig", "fsck", "swapon", "swapoff"} {
		c.symlink("bin/"+applet, "busybox")
	}
	// The gosd VM test's scripts and /etc files, unchanged.
	gosdRoot := filepath.Join("testdata", "qemu", "rootfs")
	for _, rel := range []string{"bin/marker.sh", "bin/order.sh", "bin/sleeper.sh", "bin/trigger.sh",
		"bin/answer.sh", "bin/client.sh", "etc/hostname", "etc/machine-id"} {
		c.file(rel, 0o755, read(filepath.Join(gosdRoot, rel)))
	}
	if err := c.tree(filepath.Join("testdata", "qemufinit"), map[string]bool{"bin": true, "etc": true}); err != nil {
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

// qemuRunFinit boots finit as PID1 and checks what it can be asked for:
// its early mounts and loopback, the marker script, the chain in order
// and each link once (the `initctl reload` nudges of cond.sh must not run
// a finished task again), the nc stand-in's answer, the target task after
// all of them, the sleeper stopped, and the power-off.
func qemuRunFinit(t *testing.T, machine, kernel string) qemuFigures {
	t.Helper()
	vm := qemuBootOn(t, machine, kernel, qemuFinitInitramfs(t), "rdinit=/sbin/finit")
	deadline := time.Now().Add(qemuBudget)
	vm.waitFor("Run /sbin/finit as init process", deadline)
	vm.waitFor("Finit v4.2, entering runlevel 2", deadline)
	target := vm.waitFor("FINIT-TARGET-REACHED", deadline)
	vm.waitFor("TRIGGER poweroff", deadline)
	off := vm.waitExit(deadline)
	console := vm.output()
	qemuCheckOrder(t, console)
	for _, m := range []string{"ORDER a", "ORDER b", "ORDER c", "FINIT-TARGET-REACHED", "TRIGGER poweroff"} {
		if n := strings.Count(console, m); n != 1 {
			t.Errorf("%q %d times on the console, want once", m, n)
		}
	}
	qemuCheckSocket(t, console)
	m := regexp.MustCompile(`MARKER pid=\d+ hostname=(.*) machine-id=(\S*) lo-flags=(\S*)`).FindStringSubmatch(console)
	if m == nil {
		t.Fatal("the marker script did not report under finit")
	}
	// finit 4.2 takes /etc/hostname's first line as it is (here the
	// comment) and seeds no machine id: logged, not required of it.
	t.Logf("finit: hostname %q, machine-id %q, lo flags %s", m[1], m[2], m[3])
	if m[3] != "0x9" {
		t.Errorf("lo flags %s under finit, want 0x9 (up)", m[3])
	}
	for _, want := range []string{"MOUNT /proc proc", "MOUNT /sys sysfs", "MOUNT /dev devtmpfs", "MOUNT /dev/pts devpts",
		"MOUNT /dev/shm tmpfs", "MOUNT /run tmpfs", "MOUNT /sys/fs/cgroup cgroup2"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q under finit", want)
		}
	}
	// The sleeper counts as up once forked (up.sh asserts <usr/sleeper>
	// before it execs the script, as a simple service is started for
	// gosd), so its SLEEPER-STARTED may follow the target: not checked.
	reached := strings.Index(console, "FINIT-TARGET-REACHED")
	for _, before := range []string{"ORDER c", "MARKER-END", "SOCKET-ANSWER"} {
		if i := strings.Index(console, before); i < 0 || i > reached {
			t.Errorf("finit's target task ran before %q was on the console", before)
		}
	}
	for _, want := range []string{"SLEEPER-STARTED", "entering runlevel 0", "SLEEPER-STOPPED", "reboot: Power down"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q: finit did not shut down in order", want)
		}
	}
	if strings.Contains(console, "Kernel panic") {
		t.Error("kernel panic under finit")
	}
	return qemuFigures{target, off}
}

// TestQemuFinitReference boots the same kernel once with finit as PID1
// (Debian's finit 4.2, testdata/qemufinit/etc/finit.conf) and once with
// gosd as /init (the initramfs of TestQemuBootGosd), and logs the
// figures side by side. Both power-offs include trigger.sh's 2 s wait.
func TestQemuFinitReference(t *testing.T) {
	needRoot(t)
	kernel := qemuKernel(t)
	const machine = "pc"
	fi := qemuRunFinit(t, machine, kernel)
	gs := qemuRunGosd(t, machine, kernel)
	t.Logf("%s machine, qemu TCG, same kernel, busybox and scripts:\n"+
		"  init          boot-to-target  boot-to-power-off  target-to-power-off\n"+
		"  finit 4.2     %6.2f s        %6.2f s           %6.2f s\n"+
		"  gosd          %6.2f s        %6.2f s           %6.2f s",
		machine, fi.target.Seconds(), fi.off.Seconds(), (fi.off - fi.target).Seconds(),
		gs.target.Seconds(), gs.off.Seconds(), (gs.off - gs.target).Seconds())
}
