package cgroups

import (
	"net/netip"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"gosd/unitfile"
)

// A process in a group with DeviceAllow= rules may open only what they
// allow (and, with closed, the standard pseudo devices); strict allows
// only the rules.
func TestDevicePolicy(t *testing.T) {
	h := testHierarchy(t)
	try := func(g *Group, script string) string {
		fd, err := g.OpenFD()
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	const script = `for d in /dev/null /dev/zero /dev/full /dev/tty0; do if head -c0 $d 2>&-; then echo "$d ok"; else echo "$d denied"; fi; done`
	for _, c := range []struct {
		name string
		d    unitfile.Devices
		want string
	}{
		{"strict", unitfile.Devices{DevicePolicy: "strict", DeviceAllow: []unitfile.DeviceRule{{Spec: "/dev/zero", Access: "r"}}},
			"/dev/null denied\n/dev/zero ok\n/dev/full denied\n/dev/tty0 denied\n"},
		{"auto with a rule", unitfile.Devices{DeviceAllow: []unitfile.DeviceRule{{Spec: "char-tty", Access: "r"}}},
			"/dev/null ok\n/dev/zero ok\n/dev/full ok\n/dev/tty0 ok\n"},
		{"closed", unitfile.Devices{DevicePolicy: "closed"},
			"/dev/null ok\n/dev/zero ok\n/dev/full ok\n/dev/tty0 denied\n"},
		{"write not allowed", unitfile.Devices{DevicePolicy: "strict", DeviceAllow: []unitfile.DeviceRule{{Spec: "/dev/null", Access: "r"}}},
			"/dev/null ok\n/dev/zero denied\n/dev/full denied\n/dev/tty0 denied\n"},
	} {
		g, err := h.Create("dev-"+strings.ReplaceAll(c.name, " ", "-")+".service", "")
		if err != nil {
			t.Fatal(err)
		}
		if on, err := g.ApplyDevices(c.d); err != nil || !on {
			t.Fatalf("%s: %v %v", c.name, on, err)
		}
		if got := try(g, script); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		if got := try(g, `(echo x > /dev/null) 2>&- && echo wrote || echo refused`); c.name == "write not allowed" && got != "refused\n" {
			t.Errorf("write to /dev/null allowed only for reading: %q", got)
		}
		g.Remove()
	}
	if on, err := (&Group{}).ApplyDevices(unitfile.Devices{}); on || err != nil {
		t.Errorf("no rules: %v %v", on, err)
	}
}

// A daemon-reload that changes DeviceAllow= or IPAddressDeny= replaces
// the group's programs: what is newly allowed works, what is newly denied
// is refused, and settings that restrict nothing any more leave no
// program behind.
func TestReplaceAccess(t *testing.T) {
	h := testHierarchy(t)
	g, err := h.Create("replace-access.service", "")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Remove()
	try := func() string {
		fd, err := g.OpenFD()
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		cmd := exec.Command("/bin/sh", "-c", `for d in /dev/null /dev/zero; do if head -c0 $d 2>&-; then echo "$d ok"; else echo "$d denied"; fi; done`)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	count := func() int {
		fd, err := g.OpenFD()
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		n := 0
		for _, typ := range []uint32{attachDevice, attachIngress, attachEgress} {
			ids, err := attachedPrograms(fd, typ)
			if err != nil {
				t.Fatal(err)
			}
			n += len(ids)
		}
		return n
	}
	only := func(dev string) unitfile.Devices {
		return unitfile.Devices{DevicePolicy: "strict", DeviceAllow: []unitfile.DeviceRule{{Spec: dev, Access: "r"}}}
	}
	deny := unitfile.IPAccess{IPAddressDeny: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}
	if _, err := g.ApplyDevices(only("/dev/null")); err != nil {
		t.Fatal(err)
	}
	if got := try(); got != "/dev/null ok\n/dev/zero denied\n" {
		t.Fatalf("before: %q", got)
	}
	for i, step := range []struct {
		d     unitfile.Devices
		a     unitfile.IPAccess
		want  string
		progs int
	}{
		{only("/dev/zero"), deny, "/dev/null denied\n/dev/zero ok\n", 3},
		{only("/dev/null"), unitfile.IPAccess{}, "/dev/null ok\n/dev/zero denied\n", 1},
		{unitfile.Devices{}, unitfile.IPAccess{}, "/dev/null ok\n/dev/zero ok\n", 0},
	} {
		if _, _, err := g.ReplaceAccess(step.d, step.a); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := try(); got != step.want {
			t.Errorf("step %d: %q, want %q", i, got, step.want)
		}
		if n := count(); n != step.progs {
			t.Errorf("step %d: %d programs attached, want %d", i, n, step.progs)
		}
	}
}
