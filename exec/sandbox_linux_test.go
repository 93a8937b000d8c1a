package exec

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gosd/internal/mountinfo"
	"gosd/unitfile"
)

// sandboxDirs points the host-side sandbox directories into the test's
// own temporary directory.
func sandboxDirs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("sandbox tests need root (CI runs them as root)")
	}
	// Not below /tmp: PrivateTmp= hides that (as under systemd).
	dir, err := os.MkdirTemp("/run", "gosd-sandbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	oldIn, oldTmp := InaccessibleDir, PrivateTmpRoots
	InaccessibleDir = filepath.Join(dir, "inaccessible")
	PrivateTmpRoots = [2]string{filepath.Join(dir, "tmp"), filepath.Join(dir, "vartmp")}
	for _, d := range PrivateTmpRoots {
		os.MkdirAll(d, 0o755)
	}
	t.Cleanup(func() { InaccessibleDir, PrivateTmpRoots = oldIn, oldTmp })
	return dir
}

// The file system view a hardened unit gets, checked from inside by the
// unit's own shell, and the host left as it was.
func TestSandboxMountView(t *testing.T) {
	dir := sandboxDirs(t)
	for _, d := range []string{"rw", "ro", "hidden", "tmpfs", "src", "noexec"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "hidden/secret"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "src/file"), []byte("bound"), 0o644)
	os.WriteFile(filepath.Join(dir, "tmpfs/old"), []byte("x"), 0o644)
	sh, _ := os.ReadFile("/bin/sh")
	os.WriteFile(filepath.Join(dir, "noexec/sh"), sh, 0o755)

	ec := ctx()
	ec.ProtectSystem = "strict"
	ec.ProtectHome = "yes"
	ec.PrivateTmp = true
	ec.PrivateDevices = true
	ec.ProtectKernelTunables = true
	ec.ProtectControlGroups = true
	ec.ReadWritePaths = []unitfile.PathEntry{{Path: filepath.Join(dir, "rw")}, {Path: "/nonexistent-gosd", Optional: true}}
	ec.InaccessiblePaths = []unitfile.PathEntry{{Path: filepath.Join(dir, "hidden")}}
	ec.NoExecPaths = []unitfile.PathEntry{{Path: filepath.Join(dir, "noexec")}}
	ec.TemporaryFileSystem = []unitfile.TmpfsEntry{{Path: filepath.Join(dir, "tmpfs"), Options: "ro"}}
	ec.BindPaths = []unitfile.BindEntry{{Source: filepath.Join(dir, "src"), Dest: filepath.Join(dir, "tmpfs/bound"), ReadOnly: true}}
	script := `D=` + dir + `
check() { if eval "$2"; then echo "$1 yes"; else echo "$1 no"; fi; }
check rw-writable 'touch $D/rw/f'
check usr-writable 'touch /usr/gosd-sandbox-test 2>/dev/null'
check etc-writable 'touch /etc/gosd-sandbox-test 2>/dev/null'
check hidden-readable 'cat $D/hidden/secret 2>/dev/null'
check tmpfs-empty 'test ! -e $D/tmpfs/old'
check tmpfs-writable 'touch $D/tmpfs/new 2>/dev/null'
check bound-readable 'test "$(cat $D/tmpfs/bound/file)" = bound'
check bound-writable 'touch $D/tmpfs/bound/file 2>/dev/null'
check noexec-runs '$D/noexec/sh -c true 2>/dev/null'
check tmp-writable 'touch /tmp/f && touch /var/tmp/f'
check dev-null 'echo x >/dev/null'
check dev-kmsg 'test -e /dev/kmsg'
check proc-sys-writable 'test -w /proc/sys/kernel/hostname'
check cgroup-writable 'test -w /sys/fs/cgroup'
check home-empty 'test -z "$(ls -A /root)$(ls -A /home)"'
check mknod-cap 'grep -q "^CapBnd:.*" /proc/self/status && test $(( 0x$(sed -n "s/^CapBnd:[[:space:]]*//p" /proc/self/status) >> 27 & 1 )) = 1'
`
	out, ws := run(t, Spec{Unit: "sandbox.service", Cmd: shell(script), Exec: ec})
	if ws.ExitStatus() != 0 {
		t.Fatalf("exit %v: %s", ws, out)
	}
	want := `rw-writable yes
usr-writable no
etc-writable no
hidden-readable no
tmpfs-empty yes
tmpfs-writable no
bound-readable yes
bound-writable no
noexec-runs no
tmp-writable yes
dev-null yes
dev-kmsg no
proc-sys-writable no
cgroup-writable no
home-empty yes
mknod-cap no
`
	if out != want {
		t.Errorf("view from inside:\n%s\nwant:\n%s", out, want)
	}
	// The host: the file written through ReadWritePaths= is there, the
	// private /tmp exists until cleanup, no mount leaked out.
	if _, err := os.Stat(filepath.Join(dir, "rw/f")); err != nil {
		t.Errorf("ReadWritePaths= write not on the host: %v", err)
	}
	privs, _ := filepath.Glob(filepath.Join(PrivateTmpRoots[0], "systemd-private-sandbox.service-*/tmp/f"))
	if len(privs) != 1 {
		t.Errorf("private /tmp on the host: %v", privs)
	}
	if err := CleanupSandbox("sandbox.service"); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(PrivateTmpRoots[0], "systemd-private-*")); len(left) != 0 {
		t.Errorf("private /tmp left after cleanup: %v", left)
	}
	mounts, _ := mountinfo.Read()
	for _, m := range mounts {
		if strings.HasPrefix(m.Point, dir) {
			t.Errorf("mount leaked to the host: %s", m.Point)
		}
	}
}

// PrivateTmp= is one /tmp for every process of a unit, and for the units
// that join its namespace; another unit gets its own.
func TestSandboxPrivateTmpShared(t *testing.T) {
	sandboxDirs(t)
	ec := ctx()
	ec.PrivateTmp = true
	if out, ws := run(t, Spec{Unit: "a.service", Cmd: shell("echo a >/tmp/mark"), Exec: ec}); ws.ExitStatus() != 0 {
		t.Fatal(out)
	}
	read := func(unit string, joins ...string) string {
		out, _ := run(t, Spec{Unit: unit, JoinsNamespaceOf: joins, Cmd: shell("cat /tmp/mark 2>/dev/null || echo none"), Exec: ec})
		return strings.TrimSpace(out)
	}
	if got := read("a.service"); got != "a" {
		t.Errorf("second process of a.service sees %q", got)
	}
	if got := read("b.service", "a.service"); got != "a" {
		t.Errorf("b.service joining a.service sees %q", got)
	}
	if got := read("c.service"); got != "none" {
		t.Errorf("c.service sees %q", got)
	}
	CleanupSandbox("a.service")
	if left, _ := filepath.Glob(filepath.Join(PrivateTmpRoots[0], "systemd-private-a.service-*")); len(left) != 1 {
		t.Errorf("a.service's /tmp must stay while b.service runs: %v", left)
	}
	CleanupSandbox("b.service")
	CleanupSandbox("c.service")
	if left, _ := filepath.Glob(filepath.Join(PrivateTmpRoots[0], "systemd-private-*")); len(left) != 0 {
		t.Errorf("left after cleanup: %v", left)
	}
}

// PrivateNetwork=: only lo, and it is up; NetworkNamespacePath= joins a
// namespace (here the one of a PrivateNetwork= process).
func TestSandboxNetwork(t *testing.T) {
	sandboxDirs(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("needs ip (iproute2; .ci/run installs it)")
	}
	ec := ctx()
	ec.PrivateNetwork = true
	out, ws := run(t, Spec{Unit: "net.service", Cmd: shell("ip -o link | cut -d' ' -f2,3"), Exec: ec})
	if ws.ExitStatus() != 0 || !strings.HasPrefix(out, "lo: <LOOPBACK,UP") || strings.Count(out, "\n") != 1 {
		t.Errorf("PrivateNetwork= links: %q (%v)", out, ws)
	}
	p, err := Start(Spec{Unit: "net.service", Cmd: sleepCmd(), Exec: ec, Conn: -1, Stdout: -1, Stderr: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(p.Pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(p.Pid, &ws, 0, nil)
	}()
	own, _ := os.Readlink("/proc/self/ns/net")
	ns := ""
	for i := 0; i < 200 && (ns == "" || ns == own); i++ { // until the helper made it
		ns, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/net", p.Pid))
		time.Sleep(5 * time.Millisecond)
	}
	ec2 := ctx()
	ec2.NetworkNamespacePath = fmt.Sprintf("/proc/%d/ns/net", p.Pid)
	out, _ = run(t, Spec{Unit: "join.service", Cmd: shell("readlink /proc/self/ns/net"), Exec: ec2})
	if strings.TrimSpace(out) != ns || ns == own {
		t.Errorf("NetworkNamespacePath=: in %q, want %q (ours %q)", out, ns, own)
	}
	ec2.NetworkNamespacePath = "/nonexistent"
	_, ws = run(t, Spec{Unit: "join.service", Cmd: shell("true"), Exec: ec2})
	if ws.ExitStatus() != exitNetwork {
		t.Errorf("missing NetworkNamespacePath=: %v, want %d", ws, exitNetwork)
	}
}

// ProtectHostname=, PrivateIPC=, PrivateUsers=: namespaces of their own.
func TestSandboxOtherNamespaces(t *testing.T) {
	sandboxDirs(t)
	ec := ctx()
	ec.ProtectHostname, ec.PrivateIPC, ec.PrivateUsers = true, true, true
	out, ws := run(t, Spec{Unit: "ns.service", Cmd: shell("readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/user; cat /proc/self/uid_map"), Exec: ec})
	if ws.ExitStatus() != 0 {
		t.Fatalf("%v: %s", ws, out)
	}
	got := strings.Fields(out)
	for i, ns := range []string{"uts", "ipc", "user"} {
		mine, _ := os.Readlink("/proc/self/ns/" + ns)
		if i >= len(got) || got[i] == mine {
			t.Errorf("%s namespace not private: %q", ns, out)
		}
	}
	if !strings.Contains(out, "0          0          1") {
		t.Errorf("uid_map maps root to itself only: %q", out)
	}
	// ProtectHostname= also filters sethostname(2): in its own UTS
	// namespace root could set it otherwise.
	ec = ctx()
	ec.ProtectHostname = true
	out, ws = run(t, Spec{Unit: "ns.service", Cmd: shell(`python3 -c 'import socket; socket.sethostname("gosd-test")' 2>&1; echo "status $?"`), Exec: ec})
	if !strings.Contains(out, "Operation not permitted") || !strings.Contains(out, "status 1") {
		t.Errorf("sethostname with ProtectHostname=: %q (%v)", out, ws)
	}
}

// Without the right to make a mount namespace (a container), a unit that
// only hardens runs without it, as systemd does, and says so; one whose
// view would change (TemporaryFileSystem=) fails with 226/NAMESPACE.
func TestSandboxContainerFallback(t *testing.T) {
	dir := sandboxDirs(t)
	type res struct {
		out string
		ws  syscall.WaitStatus
	}
	runNoAdmin := func(ec *unitfile.ExecContext) res {
		done := make(chan res)
		go func() {
			// The bounding set is per thread and forked children inherit
			// the caller's: this thread, never given back, spawns
			// without CAP_SYS_ADMIN.
			runtime.LockOSThread()
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, unix.CAP_SYS_ADMIN, 0, 0, 0); err != nil {
				t.Error(err)
			}
			out, ws := run(t, Spec{Unit: "c.service", Cmd: shell("touch /usr/gosd-fallback-test 2>/dev/null && rm /usr/gosd-fallback-test; echo ran"), Exec: ec})
			done <- res{out, ws}
		}()
		return <-done
	}
	ec := ctx()
	ec.ProtectSystem = "yes"
	r := runNoAdmin(ec)
	if r.ws.ExitStatus() != 0 || !strings.Contains(r.out, "Failed to set up namespace, assuming containerized execution and ignoring") || !strings.Contains(r.out, "ran") {
		t.Errorf("ProtectSystem= without CAP_SYS_ADMIN: %v %q", r.ws, r.out)
	}
	ec = ctx()
	ec.TemporaryFileSystem = []unitfile.TmpfsEntry{{Path: dir}}
	if r := runNoAdmin(ec); r.ws.ExitStatus() != exitNamespace {
		t.Errorf("TemporaryFileSystem= without CAP_SYS_ADMIN: %v %q, want %d", r.ws, r.out, exitNamespace)
	}
}

// ProtectProc= in a user namespace (PrivateUsers=, as Debian's
// redis-server.service asks): the new user namespace has no privilege
// over the PID namespace, proc cannot be mounted, and as systemd the
// existing /proc is kept (said on stderr) instead of failing with 226.
func TestSandboxProcInUserNamespace(t *testing.T) {
	sandboxDirs(t)
	ec := ctx()
	ec.PrivateUsers, ec.ProtectProc = true, "invisible"
	out, ws := run(t, Spec{Unit: "proc-userns.service", Cmd: shell("test -e /proc/self/status && echo proc-there"), Exec: ec})
	if ws.ExitStatus() != 0 || !strings.Contains(out, "proc-there") || !strings.Contains(out, "ProtectProc=/ProcSubset= not applied") {
		t.Errorf("PrivateUsers= with ProtectProc=invisible: %v %q", ws, out)
	}
}

// ProtectProc=invisible hides other users' processes; ProcSubset=pid
// leaves only the process directories in /proc.
func TestSandboxProc(t *testing.T) {
	sandboxDirs(t)
	ec := ctx()
	ec.User, ec.ProtectProc, ec.ProcSubset = "nobody", "invisible", "pid"
	out, ws := run(t, Spec{Unit: "proc.service", Cmd: shell("test -e /proc/1 && echo pid1-visible; test -e /proc/sys && echo sys-visible; test -e /proc/self/status && echo self-visible"), Exec: ec})
	if ws.ExitStatus() != 0 || out != "self-visible\n" {
		t.Errorf("ProtectProc=invisible ProcSubset=pid as nobody: %q %v", out, ws)
	}
}

// A missing path without "-" fails the unit with 226/NAMESPACE.
func TestSandboxMissingPath(t *testing.T) {
	sandboxDirs(t)
	ec := ctx()
	ec.ReadOnlyPaths = []unitfile.PathEntry{{Path: "/nonexistent-gosd-path"}}
	out, ws := run(t, Spec{Unit: "m.service", Cmd: shell("echo ran"), Exec: ec})
	if ws.ExitStatus() != exitNamespace || strings.Contains(out, "ran") {
		t.Errorf("ReadOnlyPaths= of a missing path: %v %q", ws, out)
	}
}

func TestComparePathsAndSort(t *testing.T) {
	es := sortEntries([]mountEntry{
		{Path: "/a-b", Mode: mReadOnly}, {Path: "/a/b", Mode: mReadWrite}, {Path: "/a", Mode: mReadWrite},
		{Path: "/", Mode: mReadOnly}, {Path: "/dev", Mode: mReadOnly}, {Path: "/dev", Mode: mPrivateDev},
	})
	var got []string
	for _, e := range es {
		got = append(got, e.Path)
	}
	if strings.Join(got, " ") != "/ /a /a/b /a-b /dev" {
		t.Errorf("order: %v", got)
	}
	if d := es[4]; d.Mode != mPrivateDev || !d.ReadOnly {
		t.Errorf("PrivateDevices= and ReadOnlyPaths=/dev: %+v", d)
	}
}

// NoExecPaths=/ beside ProtectSystem=strict (one path, two settings, as
// in Debian's redis-server.service) makes / read-only and noexec; the
// ExecPaths= below it run.
func TestSandboxNoExecRoot(t *testing.T) {
	dir := sandboxDirs(t)
	sh, _ := os.ReadFile("/bin/sh")
	for _, d := range []string{"x", "y"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
		os.WriteFile(filepath.Join(dir, d, "sh"), sh, 0o755)
	}
	ec := ctx()
	ec.ProtectSystem = "strict"
	ec.NoExecPaths = []unitfile.PathEntry{{Path: "/"}}
	ec.ExecPaths = []unitfile.PathEntry{{Path: "/usr"}, {Path: "/bin"}, {Path: "/lib"}, {Path: "/lib64", Optional: true}, {Path: filepath.Join(dir, "x")}}
	script := `D=` + dir + `
check() { if eval "$2"; then echo "$1 yes"; else echo "$1 no"; fi; }
check exec-runs '$D/x/sh -c true 2>/dev/null'
check noexec-runs '$D/y/sh -c true 2>/dev/null'
check usr-writable 'touch /usr/gosd-sandbox-test 2>/dev/null'
`
	out, ws := run(t, Spec{Unit: "noexec.service", Cmd: shell(script), Exec: ec})
	if want := "exec-runs yes\nnoexec-runs no\nusr-writable no\n"; ws.ExitStatus() != 0 || out != want {
		t.Errorf("exit %v, view from inside:\n%s\nwant:\n%s", ws, out, want)
	}
	es := sortEntries([]mountEntry{{Path: "/", Mode: mNoExec}, {Path: "/", Mode: mReadOnly}, {Path: "/u", Mode: mExec}, {Path: "/u", Mode: mReadOnly}})
	if len(es) != 2 || es[0].Mode != mReadOnly || es[0].ExecFlag != mNoExec || es[1].Mode != mReadOnly || es[1].ExecFlag != mExec {
		t.Errorf("merged entries %+v", es)
	}
}

// redisSandboxed is redisLike with the mount and namespace settings of
// Debian's redis-server.service too: what the whole unit costs to start.
func redisSandboxed(b *testing.B) *unitfile.ExecContext {
	ec := redisLike(b)
	ec.PrivateTmp, ec.PrivateDevices, ec.ProtectHome, ec.ProtectSystem = true, true, "yes", "yes"
	ec.ProtectKernelModules, ec.ProtectKernelTunables, ec.ProtectControlGroups = true, true, true
	ec.ReadOnlyPaths = []unitfile.PathEntry{{Path: "/"}}
	for _, d := range []string{"/var/lib/redis", "/var/log/redis", "/run/redis", "/etc/redis"} {
		ec.ReadWritePaths = append(ec.ReadWritePaths, unitfile.PathEntry{Path: d, Optional: true})
	}
	return ec
}

func BenchmarkSpawnRedisSandboxed(b *testing.B) {
	oldIn, oldTmp := InaccessibleDir, PrivateTmpRoots
	dir := b.TempDir()
	InaccessibleDir = filepath.Join(dir, "inaccessible")
	PrivateTmpRoots = [2]string{dir, dir}
	defer func() { CleanupSandbox(""); InaccessibleDir, PrivateTmpRoots = oldIn, oldTmp }()
	benchSpawnWith(b, redisSandboxed(b), false)
}

// PrivateNetwork= and PrivateIPC= are one namespace for every process of
// a unit and of the units that join it (systemd.exec(5)), another unit
// gets its own, and the namespace of a stopped unit is let go.
func TestSandboxSharedNamespaces(t *testing.T) {
	sandboxDirs(t)
	ec := ctx()
	ec.PrivateNetwork, ec.PrivateIPC = true, true
	nsOf := func(unit string, joins ...string) string {
		out, ws := run(t, Spec{Unit: unit, JoinsNamespaceOf: joins, Cmd: shell("readlink /proc/self/ns/net /proc/self/ns/ipc; ls -l /proc/self/fd | grep -c net: || true"), Exec: ec})
		if ws.ExitStatus() != 0 {
			t.Fatalf("%s: %v: %s", unit, ws, out)
		}
		return out
	}
	first := nsOf("shared-a.service")
	own, _ := os.Readlink("/proc/self/ns/net")
	if strings.Contains(first, own) {
		t.Fatalf("not in a network namespace of its own: %q", first)
	}
	if !strings.HasSuffix(first, "\n0\n") {
		t.Errorf("the namespace fd leaked to the program: %q", first)
	}
	if again := nsOf("shared-a.service"); again != first {
		t.Errorf("second process of the unit: %q, first %q", again, first)
	}
	if joined := nsOf("shared-b.service", "shared-a.service"); joined != first {
		t.Errorf("JoinsNamespaceOf=shared-a.service: %q, want %q", joined, first)
	}
	if other := nsOf("shared-c.service"); strings.Fields(other)[0] == strings.Fields(first)[0] || strings.Fields(other)[1] == strings.Fields(first)[1] {
		t.Errorf("another unit shares the namespaces: %q and %q", other, first)
	}
	fds := func() int { d, _ := os.ReadDir("/proc/self/fd"); return len(d) }
	before := fds()
	for _, u := range []string{"shared-a.service", "shared-b.service", "shared-c.service"} {
		if err := CleanupSandbox(u); err != nil {
			t.Fatal(err)
		}
	}
	if after := fds(); after != before-4 {
		t.Errorf("fds after the units stopped: %d, want %d (two namespaces of two keys let go)", after, before-4)
	}
	if again := nsOf("shared-a.service"); again == first {
		t.Errorf("a restarted unit got its old namespace back: %q", again)
	}
	CleanupSandbox("shared-a.service")
	if now, _ := os.Readlink("/proc/self/ns/net"); now != own {
		t.Errorf("gosd's own network namespace changed: %s, was %s", now, own)
	}
}
