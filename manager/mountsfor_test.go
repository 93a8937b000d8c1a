package manager

import (
	"testing"

	"gosd/unitfile"
)

// RequiresMountsFor= gives Requires= and After= on the mount unit of the
// path and of every directory above it, "/" included, where such a unit
// exists; an absent one is not loaded (systemd.unit(5)).
func TestRequiresMountsFor(t *testing.T) {
	a := svc("a.service", "simple")
	a.Unit.RequiresMountsFor = []string{"/var/lib/random-seed"}
	plain := svc("plain.service", "simple")
	var mounts []*unitfile.Unit
	for _, n := range []string{"-.mount", "var.mount", "var-lib-random\\x2dseed.mount", "srv.mount"} {
		m := svc(n, "simple") // the type does not matter to the edges
		m.Unit.DefaultDependencies = false
		mounts = append(mounts, m)
	}
	h := newHarness(t, memSource{}.add(a, plain).add(mounts...))
	u, p := h.m.units["a.service"], h.m.units["plain.service"]
	for _, n := range []string{"-.mount", "var.mount", "var-lib-random\\x2dseed.mount"} {
		mu := h.m.units[n]
		if mu == nil || !inUnits(u.deps[depRequires], mu) || !inUnits(u.deps[depAfter], mu) {
			t.Errorf("a.service lacks Requires= and After= on %s", n)
		}
		if mu != nil && inUnits(p.deps[depAfter], mu) {
			t.Errorf("plain.service got After=%s", n)
		}
	}
	if srv := h.m.units["srv.mount"]; srv != nil && inUnits(u.deps[depAfter], srv) {
		t.Error("a.service ordered after srv.mount, a path it does not name")
	}
	if _, ok := h.m.Status("var-lib.mount"); ok {
		t.Error("var-lib.mount loaded though absent")
	}
}

// PermissionsStartOnly=yes runs every command but ExecStart= as with the
// "+" prefix (systemd.service(5)); ExecStart= keeps its restrictions.
func TestPermissionsStartOnly(t *testing.T) {
	for _, on := range []bool{true, false} {
		a := svc("a.service", "simple")
		a.Service.PermissionsStartOnly = on
		a.Service.ExecStartPre = []unitfile.ExecCommand{cmd("/bin/pre")}
		a.Service.ExecStop = []unitfile.ExecCommand{cmd("/bin/stop")}
		a.Service.Exec.User = "nobody"
		h := newHarness(t, memSource{}.add(a))
		effs := h.start("a.service")
		pre := spawnsOf(effs, "a.service")
		if len(pre) != 1 || pre[0].Role != "control" || pre[0].Cmd.FullPrivileges != on {
			t.Fatalf("PermissionsStartOnly=%v: ExecStartPre= spawn %+v", on, pre)
		}
		pids, _ := h.spawnAll(effs)
		effs = h.step(Exited{Pid: pids["a.service/control"], Status: exited(0)})
		main := spawnsOf(effs, "a.service")
		if len(main) != 1 || main[0].Role != "main" || main[0].Cmd.FullPrivileges {
			t.Fatalf("PermissionsStartOnly=%v: ExecStart= spawn %+v", on, main)
		}
		h.spawnAll(effs)
		effs = h.step(Request{ID: 2, Unit: "a.service", Kind: JobStop, Mode: ModeReplace})
		stop := spawnsOf(effs, "a.service")
		if len(stop) != 1 || stop[0].Cmd.Path != "/bin/stop" || stop[0].Cmd.FullPrivileges != on {
			t.Fatalf("PermissionsStartOnly=%v: ExecStop= spawn %+v", on, stop)
		}
		if a.Service.ExecStartPre[0].FullPrivileges {
			t.Fatal("the unit's own command was changed")
		}
	}
}
