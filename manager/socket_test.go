package manager

import (
	"testing"
	"time"

	"gosd/unitfile"
)

func TestSocketActivation(t *testing.T) {
	s := sock("echo.socket", false)
	s.Socket.ExecStartPre = []unitfile.ExecCommand{cmd("/bin/prep")}
	s2 := sock("echo-extra.socket", false)
	s2.Socket.Service = "echo.service"
	e := svc("echo.service", "simple")
	h := newHarness(t, memSource{}.add(target("sockets.target", "echo.socket", "echo-extra.socket"), s, s2, e))
	effs := h.start("sockets.target")
	pids, _ := h.spawnAll(effs)
	h.wantState("echo.socket", "activating/start-pre")
	effs = h.step(Exited{Pid: pids["echo.socket/control"], Status: exited(0)})
	if o := find[OpenSockets](effs); len(o) != 1 || o[0].Unit != "echo.socket" {
		t.Fatalf("OpenSockets:\n%s", dump(effs))
	}
	h.step(SocketsOpened{Unit: "echo-extra.socket"})
	effs = h.step(SocketsOpened{Unit: "echo.socket"})
	if w := find[WatchSocket](effs); len(w) != 1 || !w[0].Watch {
		t.Fatalf("watch:\n%s", dump(effs))
	}
	h.wantState("echo.socket", "active/listening")
	h.wantState("sockets.target", "active/active")
	h.wantState("echo.service", "inactive/dead")

	effs = h.step(SocketReady{Unit: "echo.socket"})
	sp := spawnsOf(effs, "echo.service")
	if len(sp) != 1 || len(sp[0].Sockets) != 2 || sp[0].Sockets[0] != "echo-extra.socket" && sp[0].Sockets[0] != "echo.socket" {
		t.Fatalf("service spawn with both sockets:\n%s", dump(effs))
	}
	if w := find[WatchSocket](effs); len(w) != 1 || w[0].Watch {
		t.Fatalf("unwatch:\n%s", dump(effs))
	}
	h.wantState("echo.socket", "active/running")
	pids, _ = h.spawnAll(effs)
	effs = h.step(Exited{Pid: pids["echo.service/main"], Status: exited(0)})
	h.wantState("echo.socket", "active/listening")
	if w := find[WatchSocket](effs); len(w) != 1 || !w[0].Watch {
		t.Fatalf("re-watch:\n%s", dump(effs))
	}
	// Stop: CloseSockets.
	effs = h.step(Request{ID: 4, Unit: "echo.socket", Kind: JobStop})
	if c := find[CloseSockets](effs); len(c) != 1 {
		t.Fatalf("close:\n%s", dump(effs))
	}
	h.wantState("echo.socket", "inactive/dead")
}

func TestSocketOrderedBeforeService(t *testing.T) {
	s := sock("a.socket", false)
	a := svc("a.service", "simple")
	h := newHarness(t, memSource{}.add(target("t.target", "a.socket", "a.service"), s, a))
	effs := h.start("t.target")
	if len(spawnsOf(effs, "a.service")) != 0 {
		t.Fatalf("service before its socket:\n%s", dump(effs))
	}
	effs = h.step(SocketsOpened{Unit: "a.socket"})
	sp := spawnsOf(effs, "a.service")
	if len(sp) != 1 || len(sp[0].Sockets) != 1 || sp[0].Sockets[0] != "a.socket" {
		t.Fatalf("service gets its socket:\n%s", dump(effs))
	}
}

func TestSocketsStartServicesInParallel(t *testing.T) {
	// Two services that need each other's sockets: with sockets, neither
	// waits for the other.
	sa, sb := sock("a.socket", false), sock("b.socket", false)
	a, b := svc("a.service", "notify"), svc("b.service", "notify")
	a.Unit.After = []string{"b.socket"}
	b.Unit.After = []string{"a.socket"}
	h := newHarness(t, memSource{}.add(target("t.target", "a.socket", "b.socket", "a.service", "b.service"), sa, sb, a, b))
	h.start("t.target")
	h.step(SocketsOpened{Unit: "a.socket"})
	effs := h.step(SocketsOpened{Unit: "b.socket"})
	if len(spawnsOf(effs, "a.service")) != 1 || len(spawnsOf(effs, "b.service")) != 1 {
		t.Fatalf("both at once:\n%s", dump(effs))
	}
}

func TestSocketOpenFailure(t *testing.T) {
	s := sock("a.socket", false)
	h := newHarness(t, memSource{}.add(s))
	h.start("a.socket")
	h.step(SocketsOpened{Unit: "a.socket", Err: errString("address in use")})
	h.wantState("a.socket", "failed/failed")
	h.wantJob("a.socket", ResultFailed)
}

type errString string

func (e errString) Error() string { return string(e) }

func TestAcceptYes(t *testing.T) {
	s := sock("conn.socket", true)
	s.Socket.MaxConnections = 2
	tmpl := svc("conn@.service", "simple")
	h := newHarness(t, memSource{}.add(s, tmpl))
	h.start("conn.socket")
	h.step(SocketsOpened{Unit: "conn.socket"})
	effs := h.step(Connection{Unit: "conn.socket", FD: 20, Instance: "0-1-2"})
	sp := spawnsOf(effs, "conn@0-1-2.service")
	if len(sp) != 1 || sp[0].Conn != 20 || len(sp[0].Sockets) != 0 {
		t.Fatalf("instance spawn:\n%s", dump(effs))
	}
	pids, _ := h.spawnAll(effs)
	h.spawnAll(h.step(Connection{Unit: "conn.socket", FD: 21, Instance: "1-1-2"}))
	effs = h.step(Connection{Unit: "conn.socket", FD: 22, Instance: "2-1-2"})
	if c := find[CloseFD](effs); len(c) != 1 || c[0].FD != 22 || len(find[Spawn](effs)) != 0 {
		t.Fatalf("MaxConnections refusal:\n%s", dump(effs))
	}
	// One instance ends: room again.
	h.step(Exited{Pid: pids["conn@0-1-2.service/main"], Status: exited(0)})
	// Finished instances are unloaded, edges and all.
	if _, ok := h.m.Status("conn@0-1-2.service"); ok {
		t.Fatal("finished instance still loaded")
	}
	for _, u := range h.m.loadOrder {
		for _, x := range append(append([]*unit{}, u.deps[depBefore]...), u.deps[depAfter]...) {
			if x.name == "conn@0-1-2.service" {
				t.Fatalf("%s still has an edge to the instance", u.name)
			}
		}
	}
	effs = h.step(Connection{Unit: "conn.socket", FD: 23, Instance: "3-1-2"})
	if len(spawnsOf(effs, "conn@3-1-2.service")) != 1 {
		t.Fatalf("after release:\n%s", dump(effs))
	}
}

func TestTriggerLimit(t *testing.T) {
	s := sock("a.socket", false)
	s.Socket.TriggerLimitBurst = 2
	a := svc("a.service", "oneshot")
	h := newHarness(t, memSource{}.add(s, a))
	h.start("a.socket")
	h.step(SocketsOpened{Unit: "a.socket"})
	for i := 0; i < 3; i++ {
		h.advance(10 * time.Millisecond)
		pids, _ := h.spawnAll(h.step(SocketReady{Unit: "a.socket"}))
		h.step(Exited{Pid: pids["a.service/main"], Status: exited(0)})
	}
	h.wantState("a.socket", "failed/failed")
	if st, _ := h.m.Status("a.socket"); st.Result != "trigger-limit-hit" {
		t.Fatalf("result %q", st.Result)
	}
}

func TestAcceptConnOwnership(t *testing.T) {
	s := sock("c.socket", true)
	tmpl := svc("c@.service", "simple")
	tmpl.Service.ExecStartPre = []unitfile.ExecCommand{cmd("/bin/pre")}
	h := newHarness(t, memSource{}.add(s, tmpl))
	h.start("c.socket")
	h.step(SocketsOpened{Unit: "c.socket"})
	// Fails before ExecStart=: the manager closes the connection.
	pids, _ := h.spawnAll(h.step(Connection{Unit: "c.socket", FD: 30, Instance: "a"}))
	effs := h.step(Exited{Pid: pids["c@a.service/control"], Status: exited(1)})
	if c := find[CloseFD](effs); len(c) != 1 || c[0].FD != 30 {
		t.Fatalf("unused connection not closed:\n%s", dump(effs))
	}
	// Handed over in the Spawn: never closed by the manager.
	pids, _ = h.spawnAll(h.step(Connection{Unit: "c.socket", FD: 31, Instance: "b"}))
	effs = h.step(Exited{Pid: pids["c@b.service/control"], Status: exited(0)})
	if sp := spawnsOf(effs, "c@b.service"); len(sp) != 1 || sp[0].Conn != 31 {
		t.Fatalf("conn not passed:\n%s", dump(effs))
	}
	pids, _ = h.spawnAll(effs)
	effs = h.step(Exited{Pid: pids["c@b.service/main"], Status: exited(0)})
	if c := find[CloseFD](effs); len(c) != 0 {
		t.Fatalf("handed-over connection closed again:\n%s", dump(effs))
	}
}
