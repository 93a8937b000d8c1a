package boot

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func init() {
	helpers["mounts"] = helperMounts
	helpers["stdio"] = helperStdio
	helpers["hostname"] = helperHostname
	helpers["loopback"] = helperLoopback
	helpers["machineid"] = helperMachineID
}

func TestMountAPI(t *testing.T) {
	runInNS(t, "mounts", syscall.CLONE_NEWNS|syscall.CLONE_NEWPID)
}

// scratchRoot is a tmpfs in the helper's private mount namespace; it goes
// away with the namespace.
func scratchRoot() (string, error) {
	root, err := os.MkdirTemp("", "gosd-boot-root-")
	if err != nil {
		return "", err
	}
	return root, unix.Mount("tmpfs", root, "tmpfs", 0, "mode=0755")
}

func helperMounts(_ Logf) error {
	want := map[string]string{
		"/proc": "proc", "/sys": "sysfs", "/dev": "devtmpfs", "/dev/pts": "devpts",
		"/dev/shm": "tmpfs", "/run": "tmpfs", "/sys/fs/cgroup": "cgroup2",
	}
	root, err := scratchRoot()
	if err != nil {
		return err
	}
	for p := range want {
		if mountedAt(readMountinfo(), root+p) != nil {
			return fmt.Errorf("%s mounted before the test", p)
		}
	}
	var rec logRecorder
	if err := mountAPI(root, rec.logf); err != nil {
		return err
	}
	mounts := readMountinfo()
	for p, fs := range want {
		m := mountedAt(mounts, root+p)
		if m == nil || m.FSType != fs {
			return fmt.Errorf("%s: got %+v, want %s", p, m, fs)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(root+"/run", &st); err != nil || st.Mode&0o7777 != 0o755 {
		return fmt.Errorf("/run mode %o (%v), want 755", st.Mode&0o7777, err)
	}
	if err := unix.Stat(root+"/dev/shm", &st); err != nil || st.Mode&0o7777 != 0o1777 {
		return fmt.Errorf("/dev/shm mode %o (%v), want 1777", st.Mode&0o7777, err)
	}
	// The devtmpfs is the real one: the kernel's nodes are there.
	if _, err := os.Stat(root + "/dev/null"); err != nil {
		return err
	}
	// Again: everything is there, nothing is stacked.
	if err := mountAPI(root, rec.logf); err != nil {
		return err
	}
	if n := rec.count("already mounted"); n != len(want) {
		return fmt.Errorf("second run skipped %d mounts, want %d", n, len(want))
	}
	if a, b := len(mounts), len(readMountinfo()); a != b {
		return fmt.Errorf("second run: %d mounts, was %d", b, a)
	}

	// A container runtime's /dev (tmpfs) is kept, and the mounts under it
	// are still made.
	root2, err := scratchRoot()
	if err != nil {
		return err
	}
	os.Mkdir(root2+"/dev", 0o755)
	if err := unix.Mount("tmpfs", root2+"/dev", "tmpfs", 0, ""); err != nil {
		return err
	}
	if err := mountAPI(root2, rec.logf); err != nil {
		return err
	}
	mounts = readMountinfo()
	if m := mountedAt(mounts, root2+"/dev"); m == nil || m.FSType != "tmpfs" {
		return fmt.Errorf("runtime's /dev replaced: %+v", m)
	}
	if m := mountedAt(mounts, root2+"/dev/pts"); m == nil || m.FSType != "devpts" {
		return fmt.Errorf("/dev/pts under the runtime's /dev: %+v", m)
	}
	return nil
}

func TestSetupStdio(t *testing.T) {
	runInNS(t, "stdio", 0)
}

// helperStdio runs with stdio on /dev/null (exec.Cmd's default for stdin
// and stdout), like a Go init whose runtime found the fds closed.
func helperStdio(_ Logf) error {
	dir, err := os.MkdirTemp("", "gosd-stdio-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	consoleA, consoleB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, f := range []string{consoleA, consoleB} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			return err
		}
	}
	// Not a machine's init: /dev/null is a choice, kept.
	if err := setupStdio(consoleA, false, nil); err != nil {
		return err
	}
	fmt.Fprint(os.Stdout, "out-a")
	if b, _ := os.ReadFile(consoleA); len(b) != 0 {
		return fmt.Errorf("stdout moved off /dev/null: %q", b)
	}
	// A closed fd is reopened on the console in any case.
	unix.Close(0)
	if err := setupStdio(consoleA, false, nil); err != nil {
		return err
	}
	unix.Write(0, []byte("in-a"))
	if b, _ := os.ReadFile(consoleA); string(b) != "in-a" {
		return fmt.Errorf("closed fd 0: console has %q", b)
	}
	// A machine's init: /dev/null stdout goes to the console; stderr, a
	// pipe to the test, stays.
	if err := setupStdio(consoleB, true, nil); err != nil {
		return err
	}
	fmt.Fprint(os.Stdout, "out-b")
	if b, _ := os.ReadFile(consoleB); string(b) != "out-b" {
		return fmt.Errorf("machine: console has %q", b)
	}
	return nil
}

func TestSetHostname(t *testing.T) {
	runInNS(t, "hostname", syscall.CLONE_NEWUTS)
}

func helperHostname(_ Logf) error {
	dir, err := os.MkdirTemp("", "gosd-host-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	f := filepath.Join(dir, "hostname")
	os.WriteFile(f, []byte("# a comment\n  gosd-test-host  \nignored\n"), 0o644)
	if err := setHostname(f, nil); err != nil {
		return err
	}
	if h, _ := os.Hostname(); h != "gosd-test-host" {
		return fmt.Errorf("hostname %q", h)
	}
	// No name in the file: a name already set stays.
	if err := setHostname(filepath.Join(dir, "missing"), nil); err != nil {
		return err
	}
	if h, _ := os.Hostname(); h != "gosd-test-host" {
		return fmt.Errorf("hostname %q after a missing file", h)
	}
	// ... and the kernel's "(none)" becomes localhost.
	unix.Sethostname([]byte("(none)"))
	if err := setHostname(filepath.Join(dir, "missing"), nil); err != nil {
		return err
	}
	if h, _ := os.Hostname(); h != "localhost" {
		return fmt.Errorf("hostname %q, want localhost", h)
	}
	// Without CAP_SYS_ADMIN (a container's init) the name the runtime set
	// and wrote to /etc/hostname is no error; another name is.
	runtime.LockOSThread() // capabilities are per thread
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData
	if err := unix.Capget(&hdr, &caps[0]); err != nil {
		return err
	}
	caps[0].Effective &^= 1 << unix.CAP_SYS_ADMIN
	if err := unix.Capset(&hdr, &caps[0]); err != nil {
		return err
	}
	os.WriteFile(f, []byte("localhost\n"), 0o644)
	if err := setHostname(f, nil); err != nil {
		return fmt.Errorf("the name already set, without CAP_SYS_ADMIN: %w", err)
	}
	os.WriteFile(f, []byte("other\n"), 0o644)
	if err := setHostname(f, nil); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("another name without CAP_SYS_ADMIN: %v, want EPERM", err)
	}
	return nil
}

func TestLoopbackUp(t *testing.T) {
	runInNS(t, "loopback", syscall.CLONE_NEWNET)
}

func helperLoopback(_ Logf) error {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return err
	}
	if lo.Flags&net.FlagUp != 0 {
		return errors.New("lo is up in a new network namespace already")
	}
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		c, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			c.Close()
			return errors.New("127.0.0.1 reachable before lo is up")
		}
		l.Close()
	}
	var rec logRecorder
	if err := loopbackUp(rec.logf); err != nil {
		return err
	}
	lo, _ = net.InterfaceByName("lo")
	if lo.Flags&net.FlagUp == 0 {
		return errors.New("lo still down")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	c.Close()
	// Up already: nothing to do, nothing logged.
	if err := loopbackUp(rec.logf); err != nil || rec.count("loopback up") != 1 {
		return fmt.Errorf("second call: %v, logged %d times", err, rec.count("loopback up"))
	}
	return nil
}

func TestSeedMachineID(t *testing.T) {
	runInNS(t, "machineid", syscall.CLONE_NEWNS)
}

func helperMachineID(_ Logf) error {
	root, err := scratchRoot()
	if err != nil {
		return err
	}
	etc, run := root+"/etc/machine-id", root+"/run/machine-id"
	os.MkdirAll(root+"/etc", 0o755)
	read := func() string {
		b, _ := os.ReadFile(etc)
		return string(b)
	}
	isMount := func() bool { return mountedAt(readMountinfo(), etc) != nil }

	// Empty: a transient id, bind-mounted read-only; the file stays empty.
	os.WriteFile(etc, nil, 0o444)
	if err := seedMachineID(etc, run, "", nil); err != nil {
		return err
	}
	id := strings.TrimSuffix(read(), "\n")
	if !validMachineID(id) || !isMount() {
		return fmt.Errorf("empty file: id %q, mounted %v", id, isMount())
	}
	if id[12] != '4' {
		return fmt.Errorf("random id %s is not a v4 UUID", id)
	}
	if err := os.WriteFile(etc, []byte("x"), 0o444); err == nil {
		return errors.New("transient id is writable")
	}
	unix.Unmount(etc, 0)
	if read() != "" {
		return fmt.Errorf("the image's file changed: %q", read())
	}

	// "uninitialized" (first boot) with an id from the kernel command line.
	const fromKernel = "0123456789abcdef0123456789abcdef"
	os.WriteFile(etc, []byte("uninitialized\n"), 0o444)
	if err := seedMachineID(etc, run, fromKernel, nil); err != nil {
		return err
	}
	if read() != fromKernel+"\n" || !isMount() {
		return fmt.Errorf("uninitialized: %q, mounted %v", read(), isMount())
	}
	unix.Unmount(etc, 0)

	// A valid id is kept, and nothing is mounted.
	const valid = "fedcba9876543210fedcba9876543210"
	os.WriteFile(etc, []byte(valid+"\n"), 0o444)
	if err := seedMachineID(etc, run, fromKernel, nil); err != nil {
		return err
	}
	if read() != valid+"\n" || isMount() {
		return fmt.Errorf("valid id: %q, mounted %v", read(), isMount())
	}

	// Missing: written in place.
	os.Remove(etc)
	if err := seedMachineID(etc, run, "", nil); err != nil {
		return err
	}
	if !validMachineID(strings.TrimSpace(read())) || isMount() {
		return fmt.Errorf("missing file: %q, mounted %v", read(), isMount())
	}
	return nil
}

// TestEarlyBootInContainer runs the whole of EarlyBoot as the PID1 of new
// PID, mount, UTS and network namespaces, as a container runtime would
// start it: what is mounted stays, what is missing is mounted, and it
// reports no failure.
func TestEarlyBootInContainer(t *testing.T) {
	runInNS(t, "earlyboot", syscall.CLONE_NEWNS|syscall.CLONE_NEWPID|syscall.CLONE_NEWUTS|syscall.CLONE_NEWNET)
}

func init() { helpers["earlyboot"] = helperEarlyBoot }

func helperEarlyBoot(_ Logf) error {
	if os.Getpid() != 1 || !InContainer() {
		return fmt.Errorf("pid %d, InContainer %v: want PID1 of a container", os.Getpid(), InContainer())
	}
	present := 0
	for _, m := range apiMounts {
		if mountedAt(readMountinfo(), m.point) != nil {
			present++
		}
	}
	var rec logRecorder
	if err := EarlyBoot(rec.logf); err != nil {
		return err
	}
	for _, m := range apiMounts {
		if mountedAt(readMountinfo(), m.point) == nil {
			return fmt.Errorf("%s not mounted after EarlyBoot", m.point)
		}
	}
	if n := rec.count("already mounted"); n != present {
		return fmt.Errorf("%d mounts skipped, %d were there", n, present)
	}
	if rec.count("ctrl-alt-del") != 0 {
		return errors.New("touched Ctrl-Alt-Del in a container")
	}
	if lo, err := net.InterfaceByName("lo"); err != nil || lo.Flags&net.FlagUp == 0 {
		return fmt.Errorf("lo not up: %v", err)
	}
	return nil
}
