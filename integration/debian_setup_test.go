package integration

import (
	"archive/tar"
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The Debian boot test (debian_test.go) boots a real Debian bookworm
// userland, as debootstrap makes it, under qemu with Debian's cloud
// kernel: once with gosd as init, once with systemd, once with a shell
// script (the floor). What it needs is built once and cached next to the
// kernel (qemuCacheDir): nothing big is committed.

// debianSuite and debianPackages are what debootstrap installs.
const (
	debianSuite    = "bookworm"
	debianPackages = "systemd,udev,dbus,cron,openssh-server,busybox"
)

// debianRootfs returns a tarball of `debootstrap --variant=minbase
// --include=debianPackages bookworm`, made on first use and cached.
func debianRootfs(t *testing.T) string {
	cache := qemuCacheDir(t)
	tarball := filepath.Join(cache, "debian-"+debianSuite+"-minbase.tar")
	if _, err := os.Stat(tarball); err == nil {
		return tarball
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		qemuApt(t, "/", "install", "-y", "--no-install-recommends", "debootstrap")
	}
	work := filepath.Join(cache, "debootstrap-work")
	os.RemoveAll(work)
	root := filepath.Join(work, "root")
	t.Logf("debootstrap %s into %s (once; cached as %s)", debianSuite, root, tarball)
	qemuRun(t, cache, "debootstrap", "--variant=minbase", "--include="+debianPackages, debianSuite, root)
	// Write then rename, so a run cut short leaves no half tarball behind.
	qemuRun(t, cache, "tar", "-C", root, "--numeric-owner", "-cf", tarball+".tmp", ".")
	if err := os.Rename(tarball+".tmp", tarball); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(work)
	return tarball
}

// debianSkip: paths left out of the initramfs to keep it small; nothing
// at boot reads them.
var debianSkip = []string{"usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/",
	"var/cache/apt/", "var/lib/apt/lists/", "var/cache/debconf/"}

// debianInitramfs writes the whole Debian tree as a cpio "newc" initramfs
// (the cloud kernel has virtio_blk as a module, so the root cannot be a
// disk without an initramfs of modules; the tree itself as the initramfs
// needs none), with gosd as /sbin/gosd and testdata/debian/rootfs laid
// over it, then the extra overlay directories in order (the peer benchmark's
// generated trees). The kernel starts its init with rdinit=.
func debianInitramfs(t *testing.T, tarball, gosd string, extra ...string) string {
	if !qemuIsStatic(gosd) {
		t.Fatalf("%s is not static", gosd)
	}
	clean := func(n string) string { return strings.TrimSuffix(strings.TrimPrefix(n, "./"), "/") }
	// Pass 1: which regular files are the targets of hard links (cpio
	// gets a copy of the data for each name), and the tree's symbolic
	// links, so the overlay goes through them: Debian's merged /usr has
	// /sbin -> usr/sbin, and an overlay directory "sbin" written as such
	// would replace that link (the kernel's unpacker removes an entry of
	// another type) and hide /sbin/agetty, /sbin/modprobe and the rest.
	linked := map[string][]byte{}
	symlinks := map[string]string{}
	walkTar(t, tarball, func(h *tar.Header, r io.Reader) {
		switch h.Typeflag {
		case tar.TypeLink:
			linked[clean(h.Linkname)] = nil
		case tar.TypeSymlink:
			symlinks[clean(h.Name)] = h.Linkname
		}
	})
	resolve := func(rel string) string { return resolveInTree(rel, symlinks) }
	overlay := map[string]bool{}
	// GOSD_DEBIAN_OVERLAY names a directory laid over the image after
	// testdata's, for diagnostics (e.g. perf and its libraries).
	ovRoots := []string{filepath.Join("testdata", "debian", "rootfs")}
	if diag := os.Getenv("GOSD_DEBIAN_OVERLAY"); diag != "" {
		ovRoots = append(ovRoots, diag)
	}
	ovRoots = append(ovRoots, extra...)
	type ovFile struct {
		rel  string
		mode uint32
		data []byte
		dir  bool
	}
	var ov []ovFile
	for _, ovRoot := range ovRoots {
		err := filepath.WalkDir(ovRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == ovRoot {
				return err
			}
			rel, _ := filepath.Rel(ovRoot, p)
			if d.IsDir() {
				// A directory follows its own last component too.
				ov = append(ov, ovFile{rel: path.Dir(resolve(rel + "/x")), dir: true})
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel = resolve(rel)
			ov = append(ov, ovFile{rel: rel, mode: uint32(info.Mode().Perm()), data: b})
			overlay[rel] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	gb, err := os.ReadFile(gosd)
	if err != nil {
		t.Fatal(err)
	}
	ov = append(ov, ovFile{rel: resolve("sbin/gosd"), mode: 0o755, data: gb})
	overlay[resolve("sbin/gosd")] = true
	overlay["dev/console"] = true

	skip := func(name string) bool {
		if overlay[name] {
			return true
		}
		for _, s := range debianSkip {
			if strings.HasPrefix(name, s) {
				return true
			}
		}
		return false
	}

	out := filepath.Join(t.TempDir(), "debian.cpio")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	c := &cpioWriter{w: bw}
	c.dir("dev")
	c.entry("dev/console", syscall.S_IFCHR|0o600, 5, 1, nil)
	walkTar(t, tarball, func(h *tar.Header, r io.Reader) {
		name := clean(h.Name)
		if name == "" || name == "." || skip(name) {
			return
		}
		mode := uint32(h.Mode) & 0o7777
		switch h.Typeflag {
		case tar.TypeDir:
			if name != "dev" {
				c.entry(name, syscall.S_IFDIR|mode, 0, 0, nil)
			}
		case tar.TypeSymlink:
			c.symlink(name, h.Linkname)
		case tar.TypeReg:
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := linked[name]; ok {
				linked[name] = b
			}
			c.entry(name, syscall.S_IFREG|mode, 0, 0, b)
		case tar.TypeLink:
			c.entry(name, syscall.S_IFREG|mode, 0, 0, linked[clean(h.Linkname)])
		case tar.TypeChar:
			c.entry(name, syscall.S_IFCHR|mode, uint32(h.Devmajor), uint32(h.Devminor), nil)
		case tar.TypeBlock:
			c.entry(name, syscall.S_IFBLK|mode, uint32(h.Devmajor), uint32(h.Devminor), nil)
		case tar.TypeFifo:
			c.entry(name, syscall.S_IFIFO|mode, 0, 0, nil)
		}
	})
	for _, o := range ov {
		if o.dir {
			c.dir(o.rel)
		} else {
			c.file(o.rel, o.mode, o.data)
		}
	}
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// resolveInTree follows the tree's relative symbolic links (name -> target,
// names without a leading "/") along the directories of rel, so a file
// meant for /sbin lands in usr/sbin when /sbin -> usr/sbin. The last
// component is not followed.
func resolveInTree(rel string, symlinks map[string]string) string {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(rel)), "/")
	cur := ""
	for i, p := range parts {
		next := path.Join(cur, p)
		if i < len(parts)-1 {
			for hops := 0; hops < 40; hops++ {
				target, ok := symlinks[next]
				if !ok {
					break
				}
				if strings.HasPrefix(target, "/") {
					next = path.Clean(strings.TrimPrefix(target, "/"))
				} else {
					next = path.Join(path.Dir(next), target)
				}
			}
		}
		cur = next
	}
	return cur
}

func walkTar(t *testing.T, path string, fn func(*tar.Header, io.Reader)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(bufio.NewReaderSize(f, 1<<20))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		fn(h, tr)
	}
}

// debianBoot is qemuBootOn with room for a whole distribution in the
// initramfs (the image is about 250 MB; the kernel unpacks it into RAM).
// Its console is long: the test prints what matters itself. qemuArgs
// go on qemu's command line (debianQemuArgs: the guest's clock).
func debianBoot(t *testing.T, kernel, initrd, cmdline string, qemuArgs []string) *qemuVM {
	return qemuStartWith(t, "pc", "2048", kernel, initrd, cmdline, false, qemuArgs)
}

// TestResolveInTree: the overlay of the Debian image goes through the
// tree's links (merged /usr) instead of replacing them.
func TestResolveInTree(t *testing.T) {
	links := map[string]string{"sbin": "usr/sbin", "bin": "usr/bin", "lib": "usr/lib",
		"usr/lib/x": "../share/y", "etc/abs": "/usr/abs", "loop": "loop"}
	for in, want := range map[string]string{
		"sbin/gosd":                        "usr/sbin/gosd",
		"sbin/floor-init":                  "usr/sbin/floor-init",
		"sbin":                             "sbin", // the last component is not followed
		"etc/systemd/system/gosd-report.x": "etc/systemd/system/gosd-report.x",
		"lib/x/file":                       "usr/share/y/file",
		"etc/abs/f":                        "usr/abs/f",
		"loop/f":                           "loop/f", // a link to itself ends after 40 hops
		"usr/local/sbin/gosd-report":       "usr/local/sbin/gosd-report",
	} {
		if got := resolveInTree(in, links); got != want {
			t.Errorf("resolveInTree(%q) = %q, want %q", in, got, want)
		}
	}
}
