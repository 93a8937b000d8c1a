package boot

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func init() { helpers["mounthelper"] = helperMountHelper }

// The flags are Linux's own values.
func TestMountFlagValues(t *testing.T) {
	for _, c := range []struct {
		ours, linux uintptr
	}{{msRdonly, unix.MS_RDONLY}, {msNosuid, unix.MS_NOSUID}, {msNodev, unix.MS_NODEV}, {msNoexec, unix.MS_NOEXEC},
		{msSynchronous, unix.MS_SYNCHRONOUS}, {msRemount, unix.MS_REMOUNT}, {msMandlock, unix.MS_MANDLOCK},
		{msDirsync, unix.MS_DIRSYNC}, {msNosymfollow, unix.MS_NOSYMFOLLOW}, {msNoatime, unix.MS_NOATIME},
		{msNodiratime, unix.MS_NODIRATIME}, {msBind, unix.MS_BIND}, {msRec, unix.MS_REC}, {msSilent, unix.MS_SILENT},
		{msUnbindable, unix.MS_UNBINDABLE}, {msPrivate, unix.MS_PRIVATE}, {msSlave, unix.MS_SLAVE},
		{msShared, unix.MS_SHARED}, {msRelatime, unix.MS_RELATIME}, {msStrictatime, unix.MS_STRICTATIME},
		{msLazytime, unix.MS_LAZYTIME}} {
		if c.ours != c.linux {
			t.Errorf("flag %#x, Linux has %#x", c.ours, c.linux)
		}
	}
}

// Options become flags and data as mount(8) makes them.
func TestParseMount(t *testing.T) {
	for _, c := range []struct {
		fstype, opts string
		want         MountCall
	}{
		{"ext4", "defaults,nofail,x-systemd.device-timeout=1s,noatime,errors=remount-ro",
			MountCall{Source: "/dev/vdb", Target: "/srv", FSType: "ext4", Flags: unix.MS_NOATIME, Data: "errors=remount-ro"}},
		{"tmpfs", "rw,nosuid,nodev,noexec,relatime,size=1m,mode=0755",
			MountCall{Source: "/dev/vdb", Target: "/srv", FSType: "tmpfs",
				Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME, Data: "size=1m,mode=0755"}},
		{"ext4", "ro,rw,noatime,relatime", MountCall{Source: "/dev/vdb", Target: "/srv", FSType: "ext4", Flags: unix.MS_RELATIME}},
		{"", "bind,ro,nosuid", MountCall{Source: "/dev/vdb", Target: "/srv", Flags: unix.MS_BIND,
			Then: unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID}},
		{"none", "rbind", MountCall{Source: "/dev/vdb", Target: "/srv", Flags: unix.MS_BIND | unix.MS_REC}},
		{"ext4", "remount,ro", MountCall{Target: "/srv", Flags: unix.MS_REMOUNT | unix.MS_RDONLY}},
		{"tmpfs", "size=1m,private", MountCall{Source: "/dev/vdb", Target: "/srv", FSType: "tmpfs", Data: "size=1m",
			Then: unix.MS_PRIVATE}},
	} {
		got, err := ParseMount(c.fstype, c.opts, "/dev/vdb", "/srv")
		if err != nil || got != c.want {
			t.Errorf("%s %q: got %+v, %v; want %+v", c.fstype, c.opts, got, err, c.want)
		}
	}
	if _, err := ParseMount("ext4", "loop", "/img", "/srv"); err == nil {
		t.Error("loop accepted: the helper has no losetup")
	}
}

func TestSwapFlags(t *testing.T) {
	five := 5
	for _, c := range []struct {
		prio *int
		opts string
		want int
	}{{nil, "", 0}, {&five, "", 0x8005}, {nil, "pri=3,discard", 0x18003}, {nil, "discard=once", 0x30000}} {
		if got, err := SwapFlags(c.prio, c.opts); err != nil || got != c.want {
			t.Errorf("%v %q: %#x %v, want %#x", c.prio, c.opts, got, err, c.want)
		}
	}
}

// The helper mounts, bind-mounts read-only and unmounts with the system
// calls, in a mount namespace of its own.
func TestMountHelperInNamespace(t *testing.T) {
	runInNS(t, "mounthelper", unix.CLONE_NEWNS)
}

func helperMountHelper(_ Logf) error {
	d, err := scratchRoot()
	if err != nil {
		return err
	}
	a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
	os.Mkdir(a, 0o755)
	os.Mkdir(b, 0o755)
	run := func(argv ...string) error {
		var out bytes.Buffer
		if code := MountHelper(argv, &out); code != 0 {
			return fmt.Errorf("%q: exit %d: %s", argv, code, out.String())
		}
		return nil
	}
	if err := run("mount", "-t", "tmpfs", "-o", "size=1m,nosuid,nodev,noexec,noatime,mode=0700,nofail", "tmpfs", a); err != nil {
		return err
	}
	m := mountedAt(readMountinfo(), a)
	if m == nil || m.FSType != "tmpfs" || !hasOption(m.Options, "nosuid") || !hasOption(m.Options, "nodev") ||
		!hasOption(m.Options, "noexec") || !hasOption(m.Options, "noatime") || !strings.Contains(m.SuperOptions, "mode=700") {
		return fmt.Errorf("tmpfs mount: %+v", m)
	}
	if err := run("mount", "-o", "bind,ro", a, b); err != nil {
		return err
	}
	if m := mountedAt(readMountinfo(), b); m == nil || !hasOption(m.Options, "ro") {
		return fmt.Errorf("read-only bind mount: %+v", m)
	}
	if err := os.WriteFile(filepath.Join(b, "f"), nil, 0o644); err == nil {
		return fmt.Errorf("wrote through the read-only bind mount")
	}
	if err := run("mount", "-t", "gosd-no-such-fs", "none", a); err == nil {
		return fmt.Errorf("an unknown file system type mounted")
	}
	for _, p := range []string{b, a} {
		if err := run("umount", "-c", "-l", p); err != nil {
			return err
		}
	}
	if m := mountedAt(readMountinfo(), a); m != nil {
		return fmt.Errorf("%s still mounted: %+v", a, m)
	}
	return nil
}
