//go:build linux

package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/manager"
	"gosd/unitfile"
)

// TestMain doubles as the unprivileged client of TestPermissionNonRoot:
// re-executed with GOSD_CTL_HELPER_ARGS set, the binary runs the real
// client code as whatever uid it was started with.
func TestMain(m *testing.M) {
	if a := os.Getenv("GOSD_CTL_HELPER_ARGS"); a != "" {
		var args []string
		json.Unmarshal([]byte(a), &args)
		os.Exit(Main("gosdctl", args, os.Stdout, os.Stdout))
	}
	if a := os.Getenv("GOSD_HOSTILE_CLIENT"); a != "" {
		os.Exit(hostileClient(a))
	}
	os.Exit(m.Run())
}

type fixture struct {
	t    *testing.T
	b    *fakeBackend
	srv  *Server
	sock string
	dir  string
}

func newFixture(t *testing.T, opt ...Option) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, b: newFakeBackend(), dir: dir, sock: filepath.Join(dir, "run", "control.sock")}
	srv, err := Listen(f.sock, f.b, opt...)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	t.Cleanup(func() {
		srv.Close()
		if n := f.b.misuse.Load(); n != 0 {
			t.Errorf("%d Backend calls happened off the reactor goroutine", n)
		}
	})
	frag := filepath.Join(dir, "foo.service")
	os.WriteFile(frag, []byte("[Unit]\nDescription=Foo\n[Service]\nExecStart=/bin/true\n"), 0o644)
	dropin := filepath.Join(dir, "foo.service.d", "10-x.conf")
	os.MkdirAll(filepath.Dir(dropin), 0o755)
	os.WriteFile(dropin, []byte("[Service]\nRestart=always\n"), 0o644)
	f.b.add("foo.service", "active", &unitfile.Unit{FragmentPath: frag, DropIns: []string{dropin},
		Service: &unitfile.Service{Type: "simple", Restart: "always"}})
	f.b.add("bar.service", "inactive", nil)
	f.b.add("baz.service", "failed", nil)
	f.b.add("web.socket", "active", &unitfile.Unit{Socket: &unitfile.Socket{
		Listen: []unitfile.Listen{{Kind: unitfile.ListenStream, Address: "/run/web.sock"}}}})
	f.b.add("rescue.target", "inactive", nil)
	f.b.add("default.target", "active", &unitfile.Unit{Unit: unitfile.UnitSection{Wants: []string{"foo.service", "web.socket"}}})
	f.b.do(func() {
		f.b.units["foo.service"].MainPID = os.Getpid()
		f.b.units["foo.service"].StatusText = "Serving"
		for i := 1; i <= 5; i++ {
			f.b.emit("foo.service", fmt.Sprintf("foo line %d", i))
		}
	})
	return f
}

// ctl runs the real client against the fixture's socket.
func (f *fixture) ctl(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main("gosdctl", append([]string{"--socket", f.sock}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func (f *fixture) expect(code int, want string, args ...string) string {
	f.t.Helper()
	c, out, errs := f.ctl(args...)
	if c != code || !strings.Contains(out+errs, want) {
		f.t.Errorf("gosdctl %s: exit %d (want %d), output %q, stderr %q, want text %q", strings.Join(args, " "), c, code, out, errs, want)
	}
	return out
}

func (f *fixture) jobs() []string {
	var j []string
	f.b.do(func() { j = append(j, f.b.jobs...) })
	return j
}

func TestVerbsOverSocket(t *testing.T) {
	f := newFixture(t)

	out := f.expect(0, "foo.service", "list-units")
	if strings.Contains(out, "bar.service") || !strings.Contains(out, "baz.service") {
		t.Errorf("list-units without --all: %q", out)
	}
	f.expect(0, "bar.service", "list-units", "--all")
	out = f.expect(0, "web.socket", "list-units", "--type", "socket")
	if strings.Contains(out, "foo.service") {
		t.Errorf("--type socket shows services: %q", out)
	}
	out = f.expect(0, "baz.service", "list-units", "--state", "failed")
	if strings.Contains(out, "foo.service") {
		t.Errorf("--state failed shows active units: %q", out)
	}
	f.expect(0, "foo.service", "list-units", "f*")

	out = f.expect(0, "● foo.service - Test foo.service", "status", "foo")
	for _, w := range []string{"Loaded: loaded (" + f.dir + "/foo.service;", "Drop-In: " + f.dir + "/foo.service.d/10-x.conf",
		"Active: active (running)", fmt.Sprintf("Main PID: %d", os.Getpid()), `Status: "Serving"`, "foo line 5"} {
		if !strings.Contains(out, w) {
			t.Errorf("status lacks %q:\n%s", w, out)
		}
	}
	f.expect(3, "bar.service", "status", "bar")
	f.expect(4, "could not be found", "status", "nope")
	f.expect(3, "baz.service", "status", "ba*")

	f.expect(0, "active", "is-active", "foo")
	f.expect(3, "inactive", "is-active", "bar", "nope")
	f.expect(0, "failed", "is-failed", "baz")
	f.expect(1, "active", "is-failed", "foo")
	if _, out, _ := f.ctl("is-active", "-q", "foo"); out != "" {
		t.Errorf("is-active -q printed %q", out)
	}

	f.expect(0, "", "start", "bar")
	f.expect(0, "", "stop", "foo.service")
	f.expect(0, "", "restart", "foo")
	f.expect(0, "", "try-restart", "foo")
	f.expect(0, "", "reload", "foo")
	f.expect(0, "", "reload-or-restart", "foo", "bar")
	f.expect(0, "", "isolate", "rescue")
	f.expect(0, "", "start", "--job-mode", "fail", "bar")
	want := []string{"start bar.service replace", "stop foo.service replace", "restart foo.service replace",
		"try-restart foo.service replace", "reload foo.service replace", "reload-or-restart foo.service replace",
		"reload-or-restart bar.service replace", "start rescue.target isolate", "start bar.service fail"}
	if got := f.jobs(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("jobs %q, want %q", got, want)
	}
	f.expect(5, "Unit nope.service not found", "start", "nope")
	f.b.do(func() { f.b.results["baz.service"] = manager.ResultFailed })
	f.expect(1, "Job for baz.service failed (result: failed)", "start", "baz")

	// --no-block returns while the job is still running.
	f.b.do(func() { f.b.hold["bar.service"] = true })
	f.expect(0, "", "start", "--no-block", "bar")
	// Without it, the answer waits for the job.
	done := make(chan int, 1)
	go func() { c, _, _ := f.ctl("start", "bar"); done <- c }()
	select {
	case c := <-done:
		t.Fatalf("start returned %d before its job finished", c)
	case <-time.After(200 * time.Millisecond):
	}
	f.b.do(func() {
		for _, fin := range f.b.held {
			fin()
		}
		f.b.held = nil
	})
	if c := <-done; c != 0 {
		t.Errorf("blocking start exited %d", c)
	}

	f.expect(0, "", "kill", "-s", "HUP", "--kill-whom", "main", "foo")
	f.expect(0, "", "kill", "foo")
	f.expect(1, "signal", "kill", "-s", "NOPE", "foo")
	var kills []string
	f.b.do(func() { kills = append(kills, f.b.kills...) })
	if strings.Join(kills, ",") != "foo.service main 1,foo.service all 15" {
		t.Errorf("kills %q", kills)
	}

	f.expect(0, "", "reset-failed", "baz")
	f.expect(3, "inactive", "is-active", "baz")
	f.expect(1, "inactive", "is-failed", "baz")

	if _, out, _ := f.ctl("show", "-p", "ActiveState", "--value", "foo"); out != "active\n" {
		t.Errorf("show --value: %q", out)
	}
	out = f.expect(0, "Id=foo.service", "show", "foo")
	for _, w := range []string{"LoadState=loaded", "SubState=running", "FragmentPath=" + f.dir + "/foo.service",
		fmt.Sprintf("MainPID=%d", os.Getpid()), "StatusText=Serving", "NRestarts=0", "Restart=always"} {
		if !strings.Contains(out, w) {
			t.Errorf("show lacks %q:\n%s", w, out)
		}
	}
	if _, out, _ := f.ctl("show", "-p", "Id,ActiveState", "foo", "bar"); out != "Id=foo.service\nActiveState=active\n\nId=bar.service\nActiveState=active\n" {
		t.Errorf("show two units: %q", out)
	}

	out = f.expect(0, "# "+f.dir+"/foo.service\n[Unit]\nDescription=Foo\n", "cat", "foo")
	if !strings.Contains(out, "\n# "+f.dir+"/foo.service.d/10-x.conf\n[Service]\nRestart=always\n") {
		t.Errorf("cat lacks the drop-in:\n%s", out)
	}
	f.expect(1, "No files found for nope.service", "cat", "nope")

	out = f.expect(0, "default.target\n", "list-dependencies")
	if !strings.Contains(out, "├─○ foo.service") && !strings.Contains(out, "● foo.service") || !strings.Contains(out, "└─") {
		t.Errorf("list-dependencies:\n%s", out)
	}
	f.expect(0, "default.target", "list-dependencies", "--reverse", "foo")
	f.expect(0, "/run/web.sock web.socket web.service", "list-sockets")

	f.expect(0, "", "daemon-reload")
	f.expect(0, "", "poweroff")
	var reloads int
	var power string
	f.b.do(func() { reloads, power = f.b.reloads, f.b.power })
	if reloads != 1 || power != "poweroff" {
		t.Errorf("reloads %d power %q", reloads, power)
	}

	if _, out, _ := f.ctl("logs", "-u", "foo", "-n", "2", "-o", "cat"); out != "foo line 4\nfoo line 5\n" {
		t.Errorf("logs -n 2: %q", out)
	}

	_, out, _ = f.ctl("list-units", "--output", "json", "--no-pager")
	var list []UnitInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) == 0 {
		t.Errorf("--output json: %v %q", err, out)
	}
	f.expect(1, "Too few arguments", "start")
	f.expect(1, "", "no-such-verb")
}

func TestLogsFollowStreams(t *testing.T) {
	f := newFixture(t)
	c, err := Dial(f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []string
	go func() {
		time.Sleep(50 * time.Millisecond)
		f.b.do(func() {
			f.b.emit("foo.service", "new 1")
			f.b.emit("bar.service", "other")
			f.b.emit("foo.service", "new 2")
		})
	}()
	err = c.Stream(MethodLogs, LogsParams{Unit: "foo", Lines: 1, Follow: true}, func(r json.RawMessage) error {
		var res LogsResult
		if json.Unmarshal(r, &res) != nil || res.Count != 1 || len(got) != 1 {
			t.Errorf("result %s after %q", r, got)
		}
		return nil
	}, func(m string, p json.RawMessage) bool {
		var l LogEntries
		json.Unmarshal(p, &l)
		for _, e := range l.Entries {
			got = append(got, e.Message)
		}
		return len(got) < 3
	})
	if err != nil || strings.Join(got, ",") != "foo line 5,new 1,new 2" {
		t.Fatalf("follow: %v %q", err, got)
	}
	c.Close()
	// The follow is cancelled once the client is gone.
	deadline := time.Now().Add(2 * time.Second)
	for {
		var n int
		n = f.b.store.Followers()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d follows left after disconnect", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawConn speaks the protocol by hand.
type rawConn struct {
	t *testing.T
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, path string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t, c, bufio.NewReader(c)}
}

func (c *rawConn) roundTrip(line string) map[string]any {
	c.t.Helper()
	if _, err := io.WriteString(c, line); err != nil {
		c.t.Fatal(err)
	}
	return c.read()
}

func (c *rawConn) read() map[string]any {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.r.ReadBytes('\n')
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(l, &m); err != nil {
		c.t.Fatalf("answer %q: %v", l, err)
	}
	return m
}

func errCode(m map[string]any) int {
	e, _ := m["error"].(map[string]any)
	if e == nil {
		return 0
	}
	return int(e["code"].(float64))
}

func TestProtocolErrors(t *testing.T) {
	f := newFixture(t)
	c := dialRaw(t, f.sock)
	for _, tc := range []struct {
		line string
		code int
	}{
		{"\x00\xffgarbage\n", CodeParseError},
		{`[{"jsonrpc":"2.0","id":1,"method":"List"}]` + "\n", CodeInvalidRequest},
		{`{"jsonrpc":"1.0","id":1,"method":"List"}` + "\n", CodeInvalidRequest},
		{`{"jsonrpc":"2.0","id":{},"method":"List"}` + "\n", CodeInvalidRequest},
		{`{"jsonrpc":"2.0","id":1,"method":"Nope"}` + "\n", CodeMethodNotFound},
		{`{"jsonrpc":"2.0","id":1,"method":"Status","params":{"units":"foo"}}` + "\n", CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"Status","params":{"bogus":1}}` + "\n", CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"Job","params":{"units":["foo"],"kind":"explode"}}` + "\n", CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"Power","params":{"action":"selfdestruct"}}` + "\n", CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"Kill","params":{"units":["foo"],"signal":999}}` + "\n", CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":1,"method":"Job","params":{"units":["nope"],"kind":"start"}}` + "\n", CodeNoSuchUnit},
		{`{"jsonrpc":"2.0","id":"x","method":"Status","params":{"units":["foo"]}}` + "\n", 0},
	} {
		if m := c.roundTrip(tc.line); errCode(m) != tc.code {
			t.Errorf("%q: answer %v, want code %d", tc.line, m, tc.code)
		}
	}
	// A notification (no id) gets no answer: the next answer is for id 7.
	m := c.roundTrip(`{"jsonrpc":"2.0","method":"List"}` + "\n" + `{"jsonrpc":"2.0","id":7,"method":"List"}` + "\n")
	if m["id"] != float64(7) {
		t.Errorf("answer after a notification: %v", m)
	}
	// A request split over several writes is assembled.
	io.WriteString(c, `{"jsonrpc":"2.0","id":8,`)
	time.Sleep(20 * time.Millisecond)
	if m := c.roundTrip(`"method":"List"}` + "\n"); m["id"] != float64(8) || errCode(m) != 0 {
		t.Errorf("split request: %v", m)
	}
	// A half request and a hang-up leave the server well.
	h := dialRaw(t, f.sock)
	io.WriteString(h, `{"jsonrpc":"2.0","id":1,"meth`)
	h.Close()
	f.expect(0, "active", "is-active", "foo")
}

func TestLongLineRefused(t *testing.T) {
	f := newFixture(t)
	c := dialRaw(t, f.sock)
	go func() {
		big := bytes.Repeat([]byte("x"), 10<<20)
		c.Write(big) // fails with EPIPE once the server hangs up
	}()
	m := c.read()
	if errCode(m) != CodeInvalidRequest {
		t.Fatalf("10 MB line: %v", m)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	// Closed: EOF, or a reset when the server hung up with the client's
	// bytes still unread (the kernel then sends RST).
	if _, err := io.Copy(io.Discard, c.r); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("connection not closed after a too long line: %v", err)
	}
	f.expect(0, "active", "is-active", "foo")
}

func TestFloodOfGarbageAndIdleConnections(t *testing.T) {
	f := newFixture(t)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 2000; i++ {
		c, err := net.Dial("unix", f.sock)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if i%2 == 0 {
			fmt.Fprintf(c, "garbage %d \x01\x02{{{\n", i)
		}
	}
	// Each garbage sender got a parse error.
	for i := 0; i < 2000; i += 100 {
		conns[i].SetReadDeadline(time.Now().Add(5 * time.Second))
		l, err := bufio.NewReader(conns[i]).ReadBytes('\n')
		if err != nil || !bytes.Contains(l, []byte("-32700")) {
			t.Fatalf("garbage on connection %d: %q %v", i, l, err)
		}
	}
	start := time.Now()
	f.expect(0, "Active: active (running)", "status", "foo")
	t.Logf("status with 2000 open connections: %v", time.Since(start))
	if n := f.srv.conns.Load(); n < 2000 {
		t.Errorf("server counts %d connections", n)
	}
}

func TestReaderThatNeverReadsIsDropped(t *testing.T) {
	f := newFixture(t, WithMaxQueue(256<<10), WithWriteTimeout(time.Hour))
	c := dialRaw(t, f.sock)
	io.WriteString(c, `{"jsonrpc":"2.0","id":1,"method":"Logs","params":{"unit":"foo","follow":true}}`+"\n")
	// Wait until the follow is registered, then flood from the loop.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		n = f.b.store.Followers()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("follow never registered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	line := strings.Repeat("y", 1000)
	start := time.Now()
	f.b.do(func() {
		for i := 0; i < 100000; i++ { // 100 MB: far beyond socket buffers and the queue
			f.b.emit("foo.service", line)
		}
	})
	// With a write timeout of an hour, a reply path that blocked the loop
	// would never get here; the time is reported, not asserted.
	t.Logf("100000 lines emitted on the loop in %v", time.Since(start))
	// The follow ends (the connection was dropped) and the server serves others.
	for {
		var n int
		n = f.b.store.Followers()
		if n == 0 {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatal("client that never reads was not dropped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.expect(0, "active", "is-active", "foo")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err != nil || n > 64<<20 {
		t.Errorf("dropped client read %d bytes, err %v", n, err)
	}
}

func TestPermissionNonRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root to start a client as nobody")
	}
	f := newFixture(t)
	asNobody := func(args ...string) (int, string) { return runAsNobody(t, f, args...) }
	check := func(code int, want string, args ...string) string {
		t.Helper()
		c, out := asNobody(args...)
		if c != code || !strings.Contains(out, want) {
			t.Errorf("as nobody: gosdctl %v: exit %d, output %q; want %d and %q", args, c, out, code, want)
		}
		return out
	}
	out := check(0, "Active: active (running)", "status", "foo")
	if strings.Contains(out, "foo line") {
		t.Errorf("status shows logs to a non-root user:\n%s", out)
	}
	check(0, "foo.service", "list-units")
	check(0, "Id=foo.service", "show", "foo")
	check(0, "[Unit]", "cat", "foo")
	check(0, "active", "is-active", "foo")
	check(0, "default.target", "list-dependencies")
	for _, v := range [][]string{{"start", "bar"}, {"stop", "foo"}, {"kill", "foo"}, {"reset-failed"},
		{"daemon-reload"}, {"poweroff"}, {"logs", "-u", "foo"}} {
		check(4, "permission denied", v...)
	}
	var jobs, kills []string
	var reloads int
	var power string
	var active string
	f.b.do(func() {
		jobs, kills, reloads, power = f.b.jobs, f.b.kills, f.b.reloads, f.b.power
		active = f.b.units["baz.service"].Active
	})
	if len(jobs)+len(kills)+reloads != 0 || power != "" || active != "failed" {
		t.Errorf("refused requests changed state: jobs %v kills %v reloads %d power %q baz %s", jobs, kills, reloads, power, active)
	}
}

// runAsNobody runs the real client as uid 65534 against the fixture: a
// copy of the test binary (nobody must reach it and the socket) in the
// mode its TestMain gives it.
func runAsNobody(t *testing.T, f *fixture, args ...string) (int, string) {
	t.Helper()
	a, _ := json.Marshal(append([]string{"--socket", f.sock}, args...))
	return nobodyProcess(t, f, "GOSD_CTL_HELPER_ARGS="+string(a))
}

// nobodyProcess runs the test binary as uid 65534 with env and returns its
// exit status and output.
func nobodyProcess(t *testing.T, f *fixture, env ...string) (int, string) {
	t.Helper()
	bin := nobodyBinary(t, f)
	r, w, _ := os.Pipe()
	defer r.Close()
	pid, err := syscall.ForkExec(bin, []string{bin}, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, w.Fd(), w.Fd()},
		Sys:   &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}},
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	return ws.ExitStatus(), string(out)
}

// openToNobody lets uid 65534 reach the fixture's socket and files: the
// directories below the system's temporary directory (t.TempDir makes them
// 0700) become 0755. Nothing at or above it is changed: with $TMPDIR
// "/tmp/" (a trailing slash) the old loop ran past it and made the host's
// /tmp 0755, dropping its sticky, world-writable mode.
func openToNobody(f *fixture) {
	top := filepath.Clean(os.TempDir()) + string(filepath.Separator)
	for d := filepath.Dir(f.sock); strings.HasPrefix(d, top); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
}

// nobodyBinary copies the test binary where uid 65534 can run it and
// opens the way to the fixture's socket.
func nobodyBinary(t *testing.T, f *fixture) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Fatal("this test needs root to start a client as nobody")
	}
	openToNobody(f)
	bin := filepath.Join(f.dir, "ctl.test")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	exe, _ := os.Executable()
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestNoFdLeakToChildren: a process forked after Listen, while a client
// is connected, inherits none of the server's fds.
func TestNoFdLeakToChildren(t *testing.T) {
	f := newFixture(t)
	c := dialRaw(t, f.sock)
	if m := c.roundTrip(`{"jsonrpc":"2.0","id":1,"method":"List"}` + "\n"); errCode(m) != 0 {
		t.Fatal(m)
	}
	r, w, _ := os.Pipe()
	defer r.Close()
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "ls -l /proc/$$/fd"}, &syscall.ProcAttr{
		Files: []uintptr{0, w.Fd(), 2},
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	if !strings.Contains(string(out), "pipe:") {
		t.Fatalf("could not list the child's fds: %q", out)
	}
	for _, bad := range []string{"eventpoll", "eventfd", "socket:"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("child inherited a %s fd:\n%s", bad, out)
		}
	}
}

func BenchmarkStatusRoundTrip(b *testing.B) {
	t := &testing.T{}
	f := newFixture(t)
	defer f.srv.Close()
	c, err := Dial(f.sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var d []UnitDetail
		if err := c.Call(MethodStatus, StatusParams{Units: []string{"foo"}}, &d); err != nil || len(d) != 1 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
}

// TestConnectionsPerUserBounded: one unprivileged user holding connections
// open gets at most DefaultMaxConnsPerUser of them; root still gets in.
func TestConnectionsPerUserBounded(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root to start a client as nobody")
	}
	f := newFixture(t)
	openToNobody(f)
	// As nobody: open more connections than allowed, wait, and count the
	// ones the server has closed (recv returns end of file on them).
	script := fmt.Sprintf(`
import socket, time
socks = []
for i in range(%d):
    s = socket.socket(socket.AF_UNIX)
    s.connect(%q)
    socks.append(s)
time.sleep(0.5)
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
print(closed)
`, DefaultMaxConnsPerUser+6, f.sock)
	r, w, _ := os.Pipe()
	defer r.Close()
	pid, err := syscall.ForkExec("/usr/bin/python3", []string{"python3", "-c", script}, &syscall.ProcAttr{
		Files: []uintptr{0, w.Fd(), 2},
		Sys:   &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}},
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	if got := strings.TrimSpace(string(out)); got != "6" || ws.ExitStatus() != 0 {
		t.Errorf("nobody's connections closed by the server: %q (exit %d), want 6", got, ws.ExitStatus())
	}
	f.expect(0, "active", "is-active", "foo")
}
