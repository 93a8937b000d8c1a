package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gosd/unitfile"
)

// Mount units on gosd as PID1 of a mount and PID namespace (the host's
// mount table is never touched): a tmpfs and a tmpfs inside it are
// mounted by mount(8) before the service that needs them
// (RequiresMountsFor=), the service sees them; a mount of an unknown file
// system type fails alone; at the end the service stops first, then the
// inner mount is unmounted, then the outer one, and gosd exits 0.
func TestMountUnitsAsPID1(t *testing.T) {
	needRoot(t)
	if _, err := os.Stat("/proc/self/ns/mnt"); err != nil {
		t.Skip("no mount namespaces")
	}
	mp := filepath.Join(t.TempDir(), "mnt")
	inner := filepath.Join(mp, "inner")
	name := func(p string) string {
		n, err := unitfile.EscapePath(p)
		if err != nil {
			t.Fatal(err)
		}
		return n + ".mount"
	}
	outerUnit, innerUnit := name(mp), name(inner)
	in := start(t, asPID1, map[string]string{
		"default.target": "[Unit]\nWants=user.service bad.mount\n",
		outerUnit: "[Unit]\nDescription=outer\n[Mount]\nWhat=tmpfs\nWhere=" + mp +
			"\nType=tmpfs\nOptions=size=1m,mode=0755,nofail\nDirectoryMode=0700\n",
		innerUnit:   "[Unit]\nDescription=inner\n[Mount]\nWhat=tmpfs\nWhere=" + inner + "\nType=tmpfs\nOptions=size=1m\n",
		"bad.mount": "[Mount]\nWhat=none\nWhere=/bad\nType=gosd-no-such-fs\n",
		"user.service": "[Unit]\nRequiresMountsFor=" + inner + "/x\n[Service]\nType=oneshot\nRemainAfterExit=yes\n" +
			"ExecStart=/bin/sh -c 'grep -c \" tmpfs tmpfs \" /proc/self/mountinfo > @T@/seen; " +
			"grep -q \" " + mp + " \" /proc/self/mountinfo && grep -q \" " + inner + " \" /proc/self/mountinfo && echo both >> @T@/seen; " +
			"echo hi > " + inner + "/file'\n" +
			"ExecStop=/bin/sh -c 'cat " + inner + "/file > @T@/atstop'\n",
	})
	in.waitOutput("Reached target default.target", 20*time.Second)
	seen := in.waitFile("seen", 10*time.Second)
	if !strings.Contains(seen, "both") {
		t.Fatalf("the service did not see both mounts: %q\n%s", seen, in.out.String())
	}
	if fi, err := os.Stat(mp); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("mount point made with DirectoryMode=0700: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(inner, "file")); err == nil {
		t.Fatal("the file written on the tmpfs is on the host: the mount was not in gosd's namespace")
	}
	if v := showValue(t, in, innerUnit, "ActiveState"); v != "active" {
		t.Fatalf("%s ActiveState %q", innerUnit, v)
	}
	if v := showValue(t, in, "bad.mount", "ActiveState"); v != "failed" {
		t.Fatalf("bad.mount ActiveState %q", v)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, in.out.String())
	}
	if got := strings.TrimSpace(in.read("atstop")); got != "hi" {
		t.Fatalf("the service's ExecStop= found %q: the mount went before the service stopped", got)
	}
	out := in.out.String()
	iu := strings.Index(out, "Unmounted "+innerUnit)
	ou := strings.Index(out, "Unmounted "+outerUnit)
	if iu < 0 || ou < 0 || iu > ou {
		t.Fatalf("unmount order (inner %d, outer %d):\n%s", iu, ou, out)
	}
	for _, want := range []string{"Mounted " + outerUnit + " - outer.", "Failed to mount bad.mount"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Failed unmounting") {
		t.Errorf("an unmount failed:\n%s", out)
	}
}

// The mount table is followed: a mount unit's file system unmounted behind
// gosd's back makes the unit inactive; a mount made by someone else on
// the mount point of a unit that was never started makes it active.
func TestMountTableFollowedAsPID1(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	gone, other := filepath.Join(base, "gone"), filepath.Join(base, "other")
	name := func(p string) string {
		n, err := unitfile.EscapePath(p)
		if err != nil {
			t.Fatal(err)
		}
		return n + ".mount"
	}
	in := start(t, asPID1, map[string]string{
		"default.target": "[Unit]\nWants=" + name(gone) + " actor.service\n",
		name(gone):       "[Mount]\nWhat=tmpfs\nWhere=" + gone + "\nType=tmpfs\n",
		name(other):      "[Mount]\nWhat=tmpfs\nWhere=" + other + "\nType=tmpfs\n",
		"actor.service": "[Unit]\nAfter=" + name(gone) + "\n[Service]\nType=oneshot\nRemainAfterExit=yes\n" +
			"ExecStart=/bin/sh -c 'umount " + gone + " && mkdir -p " + other + " && mount -t tmpfs tmpfs " + other +
			" && touch @T@/acted'\n",
	})
	in.waitOutput("Reached target default.target", 20*time.Second)
	in.waitFile("acted", 10*time.Second)
	in.waitFor(name(gone)+" inactive", 10*time.Second, func() bool { return showValue(t, in, name(gone), "ActiveState") == "inactive" })
	in.waitFor(name(other)+" active", 10*time.Second, func() bool { return showValue(t, in, name(other), "ActiveState") == "active" })
	if v := showValue(t, in, name(other), "SubState"); v != "mounted" {
		t.Fatalf("%s SubState %q", name(other), v)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, in.out.String())
	}
	if !strings.Contains(in.out.String(), "Unmounted "+name(other)) {
		t.Fatalf("the mount made by another was not unmounted at the end:\n%s", in.out.String())
	}
}

// Every mount of the table gets a unit, as under systemd: -.mount is
// listed loaded, active and mounted without a unit file, the API file
// systems (proc.mount, sys.mount) are not listed (mount_point_is_api); a tmpfs a service mounts where no unit file names it gets a
// unit that show describes by its path, and goes when the service
// unmounts it; gosd's stop leaves the table's mounts alone and exits 0.
func TestMountUnitsFromTableAsPID1(t *testing.T) {
	needRoot(t)
	spot := filepath.Join(t.TempDir(), "spot")
	n, err := unitfile.EscapePath(spot)
	if err != nil {
		t.Fatal(err)
	}
	spotUnit := n + ".mount"
	in := start(t, asPID1, map[string]string{
		"default.target": "[Unit]\nWants=mounter.service\n",
		"mounter.service": "[Service]\nType=oneshot\nRemainAfterExit=yes\n" +
			"ExecStart=/bin/sh -c 'mkdir -p " + spot + " && mount -t tmpfs -o size=1m tmpfs " + spot + " && touch @T@/mounted'\n" +
			"ExecStop=/bin/sh -c 'umount " + spot + "'\n",
	})
	in.waitOutput("Reached target default.target", 20*time.Second)
	in.waitFile("mounted", 10*time.Second)
	list := ctlWant(t, in, 0, "list-units", "--all", "--no-legend", "--plain", "--type=mount").out
	for _, name := range []string{"proc.mount", "sys.mount", "dev.mount"} {
		if strings.Contains(list, name+" ") {
			t.Errorf("%s listed: systemd makes no unit of an API file system\n%s", name, list)
		}
	}
	for _, name := range []string{"-.mount"} {
		found := false
		for _, line := range strings.Split(list, "\n") {
			f := strings.Fields(line)
			if len(f) >= 4 && f[0] == name {
				found = true
				if f[1] != "loaded" || f[2] != "active" || f[3] != "mounted" {
					t.Errorf("%s listed as %q", name, line)
				}
			}
		}
		if !found {
			t.Errorf("%s not listed:\n%s", name, list)
		}
	}
	in.waitFor(spotUnit+" active", 10*time.Second, func() bool { return showValue(t, in, spotUnit, "ActiveState") == "active" })
	if v := showValue(t, in, spotUnit, "Description"); v != spot {
		t.Errorf("%s Description %q, want its path", spotUnit, v)
	}
	if v := showValue(t, in, spotUnit, "SourcePath"); v != "/proc/self/mountinfo" {
		t.Errorf("%s SourcePath %q", spotUnit, v)
	}
	ctlWant(t, in, 0, "stop", "mounter.service")
	in.waitFor(spotUnit+" gone", 10*time.Second, func() bool {
		return !strings.Contains(ctlRun(t, in, "list-units", "--all", "--no-legend", "--plain").out, spotUnit)
	})
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, in.out.String())
	}
	if strings.Contains(in.out.String(), "Unmounting") {
		t.Errorf("gosd's stop unmounted a mount of the table:\n%s", in.out.String())
	}
}

// Without mount(8) and umount(8) (ExecSearchPath= names an empty
// directory, as on a minimal microVM) a mount unit mounts and unmounts
// with the system calls through gosd's mount helper, with its options
// turned into flags, and the log says which way was taken.
func TestMountUnitsWithoutMountToolAsPID1(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	mp := filepath.Join(base, "m")
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := unitfile.EscapePath(mp)
	if err != nil {
		t.Fatal(err)
	}
	unit := n + ".mount"
	in := start(t, asPID1, map[string]string{
		"default.target": "[Unit]\nWants=" + unit + " looker.service\n",
		unit: "[Mount]\nWhat=tmpfs\nWhere=" + mp + "\nType=tmpfs\nOptions=size=1m,nosuid,nodev,mode=0700,nofail\n" +
			"ExecSearchPath=" + empty + "\n",
		"looker.service": "[Unit]\nAfter=" + unit + "\n[Service]\nType=oneshot\nRemainAfterExit=yes\n" +
			"ExecStart=/bin/sh -c 'grep \" " + mp + " \" /proc/self/mountinfo > @T@/seen'\n",
	})
	in.waitOutput("Reached target default.target", 20*time.Second)
	seen := in.waitFile("seen", 10*time.Second)
	if !strings.Contains(seen, "nosuid") || !strings.Contains(seen, "nodev") || !strings.Contains(seen, "mode=700") ||
		!strings.Contains(seen, " tmpfs tmpfs ") {
		t.Fatalf("the mount is not as its options say: %q", seen)
	}
	if v := showValue(t, in, unit, "SubState"); v != "mounted" {
		t.Fatalf("%s SubState %q", unit, v)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, in.out.String())
	}
	out := in.out.String()
	for _, want := range []string{"mount(8) not found: using the mount(2) system call",
		"umount(8) not found: using the umount2(2) system call", "Unmounted " + unit} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Mount-table reads are rate-limited (5 a second, as systemd): a service
// that mounts and unmounts in a loop does not lose gosd the last state:
// the loop's mount point ends with no unit, the mount made after the loop
// has one, active.
func TestMountTableRateLimitAsPID1(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	loop, last := filepath.Join(base, "loop"), filepath.Join(base, "last")
	unitOf := func(p string) string {
		n, err := unitfile.EscapePath(p)
		if err != nil {
			t.Fatal(err)
		}
		return n + ".mount"
	}
	in := start(t, asPID1, map[string]string{
		"default.target": "[Unit]\nWants=churn.service\n",
		"churn.service": "[Service]\nType=oneshot\nRemainAfterExit=yes\n" +
			"ExecStart=/bin/sh -c 'mkdir -p " + loop + " " + last + "; i=0; while [ $i -lt 40 ]; do " +
			"mount -t tmpfs tmpfs " + loop + " && umount " + loop + "; i=$((i+1)); done; " +
			"mount -t tmpfs tmpfs " + last + " && touch @T@/churned'\n" +
			"ExecStop=/bin/sh -c 'umount " + last + "'\n",
	})
	in.waitOutput("Reached target default.target", 20*time.Second)
	in.waitFile("churned", 20*time.Second)
	in.waitFor(unitOf(last)+" active", 10*time.Second, func() bool {
		return showValue(t, in, unitOf(last), "ActiveState") == "active"
	})
	if list := ctlRun(t, in, "list-units", "--all", "--no-legend", "--plain").out; strings.Contains(list, unitOf(loop)) {
		t.Errorf("the loop's mount point, unmounted at the end, has a unit:\n%s", list)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, in.out.String())
	}
}
