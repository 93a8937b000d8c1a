package exec

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"gosd/unitfile"
)

// A DynamicUser= unit runs as a uid from 61184-65519 that no account has,
// the same for every unit naming that user while any holds it, released
// (and its allocation record gone) after the last one stops.
func TestDynamicUserRunsUnprivileged(t *testing.T) {
	users := NewDynamicUsers(t.TempDir())
	name := "gosdtest" + strconv.Itoa(os.Getpid()%100000)
	id, err := users.Acquire("a.service", name, "")
	if err != nil {
		t.Fatal(err)
	}
	if id.UID < 61184 || id.UID > 65519 || id.GID != id.UID || id.Static {
		t.Fatalf("identity %+v", id)
	}
	if again, _ := users.Acquire("b.service", name, ""); again.UID != id.UID {
		t.Errorf("a second unit of the same user got %d, not %d", again.UID, id.UID)
	}
	ec := ctx()
	ec.DynamicUser, ec.User, ec.Group = true, name, name
	for _, helper := range []bool{false, true} {
		out, ws := run(t, Spec{Cmd: shell(`echo $(id -u) $(id -g) $(id -G) $USER $HOME`), Exec: ec, Dynamic: &id, ForceHelper: helper})
		u := strconv.Itoa(int(id.UID))
		if want := u + " " + u + " " + u + " " + name + " /\n"; ws.ExitStatus() != 0 || out != want {
			t.Errorf("helper=%v: got %q %v, want %q", helper, out, ws, want)
		}
	}
	// Without an allocation it never falls back to gosd's own user.
	if _, err := Start(Spec{Cmd: shell("true"), Exec: ec, Conn: -1, Stdout: -1, Stderr: -1}); err == nil || err.(*ExitError).Status != exitUser {
		t.Errorf("DynamicUser= without an allocation: %v", err)
	}
	if freed := users.Release("a.service"); len(freed) != 0 {
		t.Errorf("released while b.service holds it: %v", freed)
	}
	if freed := users.Release("b.service"); len(freed) != 1 || freed[0] != id.UID {
		t.Errorf("last holder stopped: freed %v", freed)
	}
	if ents, _ := os.ReadDir(users.Dir); len(ents) != 0 {
		t.Errorf("allocation records left: %v", ents)
	}
	// A user that exists statically is used as it is.
	if id, err := users.Acquire("c.service", "nobody", ""); err != nil || !id.Static || id.UID != 65534 {
		t.Errorf("static nobody: %+v %v", id, err)
	}
	if _, err := users.Acquire("d.service", "../../etc", ""); err == nil {
		t.Error("a name with slashes was accepted")
	}
}

// Two allocators sharing a directory (two managers, or one re-executed)
// never hand one uid to two names, and a name finds its recorded uid.
func TestDynamicUserAllocationsAreShared(t *testing.T) {
	dir := t.TempDir()
	a, b := NewDynamicUsers(dir), NewDynamicUsers(dir)
	seen := map[uint32]string{}
	for i := 0; i < 50; i++ {
		name := "gosdshare" + strconv.Itoa(i)
		alloc := a
		if i%2 == 1 {
			alloc = b
		}
		id, err := alloc.Acquire("u"+strconv.Itoa(i)+".service", name, "")
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[id.UID]; dup {
			t.Fatalf("uid %d given to %s and %s", id.UID, other, name)
		}
		seen[id.UID] = name
	}
	restarted := NewDynamicUsers(dir)
	id, _ := restarted.Acquire("u0.service", "gosdshare0", "")
	if seen[id.UID] != "gosdshare0" {
		t.Errorf("after a restart gosdshare0 got %d (was %v)", id.UID, seen)
	}
}

// StateDirectory= of a DynamicUser= unit lives in /var/lib/private (0700),
// reached through the symlink /var/lib/NAME; a plain directory from before
// is moved there with its files, chowned to the new uid; with
// DynamicUser= off again it moves back.
func TestDynamicUserPrivateDirectories(t *testing.T) {
	base := t.TempDir()
	// The unit's user must be able to walk down to the directories.
	os.Chmod(filepath.Dir(base), 0o755)
	os.Chmod(base, 0o755)
	old := DirectoryRoots
	DirectoryRoots.State, DirectoryRoots.Cache, DirectoryRoots.Runtime = filepath.Join(base, "lib"), filepath.Join(base, "cache"), filepath.Join(base, "run")
	defer func() { DirectoryRoots = old }()
	plain := filepath.Join(base, "lib", "svc")
	os.MkdirAll(plain, 0o755)
	os.WriteFile(filepath.Join(plain, "data"), []byte("kept"), 0o644)

	users := NewDynamicUsers(t.TempDir())
	id, err := users.Acquire("svc.service", "gosdsvc", "")
	if err != nil {
		t.Fatal(err)
	}
	// An earlier unit's directory, owned by the uid this one gets.
	other := filepath.Join(base, "lib", "private", "earlier")
	os.MkdirAll(other, 0o755)
	os.Chown(other, int(id.UID), int(id.GID))
	ec := ctx()
	ec.DynamicUser, ec.User, ec.Group = true, "gosdsvc", "gosdsvc"
	ec.StateDirectory, ec.CacheDirectory, ec.RuntimeDirectory = []string{"svc"}, []string{"c/deep"}, []string{"svc"}
	ec.StateDirectoryMode, ec.CacheDirectoryMode, ec.RuntimeDirectoryMode = 0o750, 0o755, 0o755
	out, ws := run(t, Spec{Cmd: shell(`echo $STATE_DIRECTORY $CACHE_DIRECTORY; cat $STATE_DIRECTORY/data; echo; touch $STATE_DIRECTORY/new $CACHE_DIRECTORY/x $RUNTIME_DIRECTORY/y && echo written; ls ` + other + ` 2>/dev/null || echo hidden`), Exec: ec, Dynamic: &id})
	want := plain + " " + filepath.Join(base, "cache", "c", "deep") + "\nkept\nwritten\nhidden\n"
	if ws.ExitStatus() != 0 || out != want {
		t.Fatalf("got %q %v, want %q", out, ws, want)
	}
	if l, err := os.Readlink(plain); err != nil || l != "private/svc" {
		t.Errorf("state symlink %q %v", l, err)
	}
	if l, err := os.Readlink(filepath.Join(base, "cache", "c", "deep")); err != nil || l != "../private/c/deep" {
		t.Errorf("nested cache symlink %q %v", l, err)
	}
	for path, perm := range map[string]os.FileMode{filepath.Join(base, "lib", "private"): 0o700, filepath.Join(base, "lib", "private", "svc"): 0o750} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != perm {
			t.Errorf("%s: %v %v, want mode %o", path, st.Mode(), err, perm)
		}
	}
	st, _ := os.Stat(filepath.Join(base, "lib", "private", "svc", "data"))
	if st == nil || st.Sys().(*syscall.Stat_t).Uid != id.UID {
		t.Errorf("migrated file not chowned to %d", id.UID)
	}
	if st, err := os.Lstat(filepath.Join(base, "run", "svc")); err != nil || !st.IsDir() {
		t.Errorf("RuntimeDirectory= stays a plain directory: %v %v", st, err)
	}
	ec.DynamicUser, ec.User, ec.Group = false, "", ""
	out, ws = run(t, Spec{Cmd: shell(`cat $STATE_DIRECTORY/data`), Exec: ec})
	if st, err := os.Lstat(plain); err != nil || !st.IsDir() || out != "kept" {
		t.Errorf("DynamicUser= off: %v %v %q %v", st, err, out, ws)
	}
}

// "!" leaves the user switch to the program but keeps the rest; "+" lifts
// every privilege restriction; "!!" is "no prefix" where the kernel has
// ambient capabilities (systemd.service(5)).
func TestPrivilegePrefixes(t *testing.T) {
	ec := ctx()
	ec.User = "nobody"
	ec.NoNewPrivileges = true
	script := `echo $(id -u) $USER $(grep NoNewPrivs /proc/$$/status | tr -d '\t')`
	for _, c := range []struct {
		set  func(*unitfile.ExecCommand)
		want string
	}{
		{func(*unitfile.ExecCommand) {}, "65534 nobody NoNewPrivs:1\n"},
		{func(c *unitfile.ExecCommand) { c.NoSetuid = true }, "0 nobody NoNewPrivs:1\n"},
		{func(c *unitfile.ExecCommand) { c.AmbientOnly = true }, "65534 nobody NoNewPrivs:1\n"},
		{func(c *unitfile.ExecCommand) { c.FullPrivileges = true }, "0 nobody NoNewPrivs:0\n"},
	} {
		cmd := shell(script)
		c.set(&cmd)
		if out, ws := run(t, Spec{Cmd: cmd, Exec: ec}); out != c.want {
			t.Errorf("%+v: got %q %v, want %q", cmd, out, ws, c.want)
		}
	}
}

// SIGPIPE starts ignored (IgnoreSIGPIPE=yes, the default) or at its
// default action (no), on the direct path and through the helper.
func TestIgnoreSIGPIPE(t *testing.T) {
	const bit = 1 << (int(syscall.SIGPIPE) - 1)
	for _, ignore := range []bool{true, false} {
		for _, helper := range []bool{false, true} {
			ec := ctx()
			ec.IgnoreSIGPIPE = ignore
			// The shell execs cat, whose dispositions are what it inherited.
			out, ws := run(t, Spec{Cmd: shell(`exec grep SigIgn /proc/self/status`), Exec: ec, ForceHelper: helper})
			f := strings.Fields(out)
			if ws.ExitStatus() != 0 || len(f) != 2 {
				t.Fatalf("%q %v", out, ws)
			}
			mask, _ := strconv.ParseUint(f[1], 16, 64)
			if got := mask&bit != 0; got != ignore {
				t.Errorf("IgnoreSIGPIPE=%v helper=%v: SigIgn %s", ignore, helper, f[1])
			}
		}
	}
}

// RemoveIPC removes what the user left: System V shared memory, a
// semaphore set and a message queue made by a process running as it.
func TestRemoveIPC(t *testing.T) {
	if _, err := os.Stat("/usr/bin/ipcmk"); err != nil {
		t.Skip("ipcmk (util-linux) is not installed")
	}
	users := NewDynamicUsers(t.TempDir())
	id, err := users.Acquire("ipc.service", "gosdipc", "")
	if err != nil {
		t.Fatal(err)
	}
	defer users.Release("ipc.service")
	ec := ctx()
	ec.DynamicUser, ec.User, ec.Group = true, "gosdipc", "gosdipc"
	out, ws := run(t, Spec{Cmd: shell(`ipcmk -M 4096 && ipcmk -S 1 && ipcmk -Q`), Exec: ec, Dynamic: &id})
	if ws.ExitStatus() != 0 {
		t.Fatalf("ipcmk: %q %v", out, ws)
	}
	count := func() int {
		n := 0
		for _, f := range []string{"/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg"} {
			ids, err := sysvOwned(f, id.UID, id.GID)
			if err != nil {
				t.Fatal(err)
			}
			n += len(ids)
		}
		return n
	}
	if n := count(); n != 3 {
		t.Fatalf("%d IPC objects of uid %d, want 3 (%s)", n, id.UID, out)
	}
	if err := RemoveIPC(id.UID, id.GID); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Errorf("%d IPC objects left", n)
	}
}

// LoadCredential= and SetCredential= reach $CREDENTIALS_DIRECTORY on a
// read-only ramfs, 0400 files of the unit's user in a 0500 directory;
// encrypted ones are refused with 243; the directory goes at cleanup.
func TestCredentials(t *testing.T) {
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o755)
	os.Chmod(base, 0o755)
	old := DirectoryRoots
	DirectoryRoots.Runtime = filepath.Join(base, "run")
	defer func() { DirectoryRoots = old }()
	src := filepath.Join(base, "secret")
	os.WriteFile(src, []byte("s3cret\x00bin"), 0o600)
	sockPath := filepath.Join(base, "cred.sock")
	ln, err := net.Listen("unix", sockPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("from-socket"))
			c.Close()
		}
	}()
	ec := ctx()
	ec.User = "nobody"
	ec.Credentials = []unitfile.Credential{
		{ID: "key", Path: src},
		{ID: "sock", Path: sockPath},
		{ID: "missing", Path: filepath.Join(base, "nope")},
		{ID: "missing", Set: true, Value: []byte("fallback")},
		{ID: "byname", Path: "byname"}, // in no store: skipped
		{ID: "plain", Set: true, Value: []byte("v")},
	}
	spec := Spec{Unit: "cred.service", Cmd: shell(`cd "$CREDENTIALS_DIRECTORY" && ls && od -c key | head -1 && cat missing plain sock && echo && stat -c '%a %U' . key && touch x 2>/dev/null || echo read-only`), Exec: ec}
	out, ws := run(t, spec)
	dir := filepath.Join(base, "run", "credentials", "cred.service")
	want := "key\nmissing\nplain\nsock\n0000000   s   3   c   r   e   t  \\0   b   i   n\nfallbackvfrom-socket\n500 nobody\n400 nobody\nread-only\n"
	if ws.ExitStatus() != 0 || out != want {
		t.Errorf("got %q %v, want %q", out, ws, want)
	}
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); !strings.Contains(string(mi), dir+" ") {
		t.Errorf("%s is not a mount", dir)
	}
	if err := CleanupCredentials("cred.service"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("credentials left after cleanup: %v", err)
	}
	ec.Credentials = []unitfile.Credential{{ID: "enc", Path: src, Encrypted: true}}
	if _, err := Start(Spec{Unit: "cred.service", Cmd: shell("true"), Exec: ec, Conn: -1, Stdout: -1, Stderr: -1}); err == nil || err.(*ExitError).Status != 243 || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("encrypted credential: %v", err)
	}
}
