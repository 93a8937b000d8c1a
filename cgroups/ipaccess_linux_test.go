package cgroups

import (
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"gosd/unitfile"
)

// A process in a group with IPAddressDeny= cannot reach what is denied,
// except what IPAddressAllow= lets through; the rest of the machine is
// not affected.
func TestIPAccess(t *testing.T) {
	h := testHierarchy(t)
	ln4, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln4.Close()
	ln6, err6 := net.Listen("tcp6", "[::1]:0")
	go func() {
		for {
			c, err := ln4.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ports := []string{ln4.Addr().String()}
	if err6 == nil {
		defer ln6.Close()
		go func() {
			for {
				c, err := ln6.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		ports = append(ports, ln6.Addr().String())
	}
	// Connects to each address from inside the group; "ok" or "denied".
	script := `import socket, sys
for a in sys.argv[1:]:
    host, port = a.rsplit(':', 1)
    fam = socket.AF_INET6 if host.startswith('[') else socket.AF_INET
    s = socket.socket(fam); s.settimeout(1)
    try:
        s.connect((host.strip('[]'), int(port))); print('ok')
    except OSError:
        print('denied')
`
	try := func(g *Group) string {
		fd, err := g.OpenFD()
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		cmd := exec.Command("/usr/bin/python3", append([]string{"-c", script}, ports...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
		out, _ := cmd.CombinedOutput()
		return strings.Join(strings.Fields(string(out)), " ")
	}
	pf := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	both := func(v4, v6 string) string {
		if err6 != nil {
			return v4
		}
		return v4 + " " + v6
	}
	for _, c := range []struct {
		name string
		a    unitfile.IPAccess
		want string
	}{
		{"deny any", unitfile.IPAccess{IPAddressDeny: pf("0.0.0.0/0", "::/0")}, both("denied", "denied")},
		{"allow localhost", unitfile.IPAccess{IPAddressAllow: pf("127.0.0.0/8", "::1/128"), IPAddressDeny: pf("0.0.0.0/0", "::/0")}, both("ok", "ok")},
		{"deny v4 only", unitfile.IPAccess{IPAddressDeny: pf("127.0.0.1/32")}, both("denied", "ok")},
		{"deny elsewhere", unitfile.IPAccess{IPAddressDeny: pf("10.0.0.0/8", "fe80::/64")}, both("ok", "ok")},
	} {
		g, err := h.Create("ip-"+strings.ReplaceAll(c.name, " ", "-")+".service", "")
		if err != nil {
			t.Fatal(err)
		}
		if on, err := g.ApplyIPAccess(c.a); err != nil || !on {
			t.Fatalf("%s: %v %v", c.name, on, err)
		}
		if got := try(g); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		g.Remove()
	}
	// Outside the groups nothing changed.
	if c, err := net.Dial("tcp4", ln4.Addr().String()); err != nil {
		t.Errorf("the test's own connection: %v", err)
	} else {
		c.Close()
	}
}
