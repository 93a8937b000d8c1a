//go:build linux

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A container as Docker makes one, built from unshare(1) and setpriv(1):
// PID, mount, UTS, IPC and network namespaces; Docker's default 14
// capabilities and no others (no CAP_SYS_ADMIN, no CAP_SYS_RESOURCE, no
// CAP_NET_ADMIN); a read-only cgroup2 mount at /sys/fs/cgroup and a
// read-only /sys; a /dev of its own without /dev/kmsg; a hard NOFILE limit
// of 20000 (Debian's redis-server.service asks 65535); $container set for
// init. The "runtime" is this test binary, re-executed by unshare as the
// namespace's first process (containerRuntime): it sets the container up
// as root with every capability, then execs setpriv, which execs gosd.

// dockerCaps is Docker's default capability set (moby's
// oci/caps/defaults.go), as setpriv names them.
var dockerCaps = []string{"chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw",
	"setgid", "setuid", "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill", "audit_write"}

const containerRuntimeEnv = "GOSD_CONTAINER_RUNTIME"

// containerSpec is what the runtime is told, as JSON in containerRuntimeEnv.
type containerSpec struct {
	Gosd    string   // the gosd binary, seen as containerGosd inside
	Scratch string   // the test's directory, seen as containerScratch inside
	Args    []string // gosd's arguments
	// Delegated: the container runs in a cgroup namespace rooted at a
	// cgroup of its own, mounted writable (a delegated subtree, as Podman's
	// systemd mode does), instead of the host's cgroup2 read-only.
	Delegated bool
}

// Where the container sees the test's files: its /tmp is its own.
const (
	containerGosd    = "/run/gosd-test/gosd"
	containerScratch = "/run/gosd-test/scratch"
)

func init() {
	if spec := os.Getenv(containerRuntimeEnv); spec != "" {
		containerRuntime(spec) // never returns
	}
}

// containerRuntime sets up the container and execs gosd in it, as PID 1 of
// the new namespaces. Any failure ends it with status 125, as docker run's.
func containerRuntime(specJSON string) {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "container runtime: "+format+"\n", args...)
		os.Exit(125)
	}
	var spec containerSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fail("%v", err)
	}
	os.Unsetenv(containerRuntimeEnv)
	mount := func(src, dst, fstype string, flags uintptr, data string) {
		if err := unix.Mount(src, dst, fstype, flags, data); err != nil {
			fail("mount %s on %s (%s): %v", src, dst, fstype, err)
		}
	}
	tmpfs := func(dst string, mode os.FileMode, owner, group string) {
		flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV)
		if dst == "/dev" {
			flags = unix.MS_NOSUID
		}
		mount("tmpfs", dst, "tmpfs", flags, fmt.Sprintf("mode=%o", mode))
		uid, gid := 0, 0
		if owner != "" {
			u, err := user.Lookup(owner)
			if err != nil {
				fail("%v", err)
			}
			uid, _ = strconv.Atoi(u.Uid)
			gid, _ = strconv.Atoi(u.Gid)
		}
		if group != "" {
			g, err := user.LookupGroup(group)
			if err != nil {
				fail("%v", err)
			}
			gid, _ = strconv.Atoi(g.Gid)
		}
		if err := os.Chown(dst, uid, gid); err != nil {
			fail("%v", err)
		}
	}
	// unshare made every mount private, so nothing here reaches the host.
	tmpfs("/run", 0o755, "", "")
	// gosd and the test's directory stay reachable under /run; /tmp, the
	// crontabs and the daemons' state and logs are the container's own.
	os.MkdirAll(containerScratch, 0o755)
	mount(spec.Scratch, containerScratch, "", unix.MS_BIND, "")
	if err := os.WriteFile(containerGosd, nil, 0o755); err != nil {
		fail("%v", err)
	}
	mount(spec.Gosd, containerGosd, "", unix.MS_BIND, "")
	tmpfs("/tmp", 0o1777, "", "")
	tmpfs("/etc/cron.d", 0o755, "", "")
	tmpfs("/var/spool/cron/crontabs", 0o1730, "", "crontab")
	mount("/dev/null", "/etc/crontab", "", unix.MS_BIND, "")
	tmpfs("/var/lib/redis", 0o750, "redis", "redis")
	tmpfs("/var/log/redis", 0o2750, "redis", "adm")
	tmpfs("/var/log/nginx", 0o755, "", "adm")

	// A read-only cgroup2 at /sys/fs/cgroup (Docker's cgroupns=private
	// without --privileged), whatever the host has there (pure v2, or a
	// hybrid with cgroup2 at /sys/fs/cgroup/unified).
	// Or, delegated, a writable cgroup2 showing the container's own
	// cgroup as its root (unshare --cgroup, started in that cgroup).
	cg2 := cgroup2Mountpoint()
	if cg2 == "" {
		fail("no cgroup2 mount on the host")
	}
	os.MkdirAll("/run/.cg2", 0o700)
	mount(cg2, "/run/.cg2", "", unix.MS_BIND, "")
	if err := unix.Unmount("/sys/fs/cgroup", unix.MNT_DETACH); err != nil {
		fail("unmount /sys/fs/cgroup: %v", err)
	}
	mount("", "/sys", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	if spec.Delegated {
		mount("cgroup2", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		unix.Unmount("/run/.cg2", unix.MNT_DETACH)
	} else {
		mount("/run/.cg2", "/sys/fs/cgroup", "", unix.MS_MOVE, "")
		mount("", "/sys/fs/cgroup", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	}
	os.Remove("/run/.cg2")
	mount("/proc/sys", "/proc/sys", "", unix.MS_BIND, "")
	mount("", "/proc/sys", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "")

	// /dev as Docker makes it: a tmpfs with the basic nodes, devpts and
	// shm; no /dev/kmsg, no /dev/console (no -t).
	tmpfs("/dev", 0o755, "", "")
	for _, n := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}} {
		if err := unix.Mknod("/dev/"+n.name, unix.S_IFCHR|0o666, int(unix.Mkdev(n.major, n.minor))); err != nil {
			fail("mknod /dev/%s: %v", n.name, err)
		}
		os.Chmod("/dev/"+n.name, 0o666)
	}
	os.Mkdir("/dev/pts", 0o755)
	os.Mkdir("/dev/shm", 0o1777)
	mount("devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
	mount("shm", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777")
	for name, target := range map[string]string{"ptmx": "pts/ptmx", "fd": "/proc/self/fd",
		"stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		os.Symlink(target, "/dev/"+name)
	}

	if err := unix.Sethostname([]byte("gosd-container")); err != nil {
		fail("hostname: %v", err)
	}
	if err := loopbackUp(); err != nil {
		fail("lo up: %v", err)
	}
	// Below what redis-server.service asks for, above what gosd needs.
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 1024, Max: 20000}); err != nil {
		fail("%v", err)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		fail("%v", err)
	}
	bounding := "-all,+" + strings.Join(dockerCaps, ",+")
	argv := append([]string{"setpriv", "--bounding-set", bounding, "--inh-caps", "-all", "--", containerGosd}, spec.Args...)
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "container=gosd-test"}
	fail("exec setpriv: %v", syscall.Exec(setpriv, argv, env))
}

// cgroup2Mountpoint is the host's cgroup2 mount point ("" when none).
func cgroup2Mountpoint() string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				return fields[4]
			}
		}
	}
	return ""
}

// loopbackUp is what a container runtime does for its network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// inNetns runs fn on a thread that joined pid's network namespace; the
// thread is thrown away afterwards (the goroutine ends locked).
func inNetns(pid int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/net", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// containerUnits: Debian's unaltered nginx, redis-server and cron units
// (links to the installed files) and a target that wants them. Only
// these: the whole unit path would pull in sysinit.target's units, and
// systemd-tmpfiles-setup.service, run as root on the host's files, empties
// the host's /tmp (seen once, before the container got its own /tmp).
var containerUnits = map[string]string{
	"nginx.service":        "->/lib/systemd/system/nginx.service",
	"redis-server.service": "->/lib/systemd/system/redis-server.service",
	"cron.service":         "->/lib/systemd/system/cron.service",
	"container-test.target": "[Unit]\nDescription=container test\nWants=nginx.service redis-server.service cron.service\n" +
		"After=nginx.service redis-server.service cron.service\n",
}

// startContainer runs gosd as the init of a fresh container, on
// containerUnits, starting the test target. delegated: in a cgroup of its
// own (removed at cleanup) and a cgroup namespace rooted there.
func startContainer(t *testing.T, delegated bool) *instance {
	t.Helper()
	needRoot(t)
	for _, prog := range []string{"/usr/sbin/nginx", "/usr/bin/redis-server", "/usr/sbin/cron", "/lib/systemd/system/nginx.service",
		"/lib/systemd/system/redis-server.service", "/lib/systemd/system/cron.service"} {
		if _, err := os.Stat(prog); err != nil {
			t.Fatalf("%v (CI installs nginx-light, redis-server and cron: .ci/run)", err)
		}
	}
	for _, prog := range []string{"unshare", "setpriv"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("%v (util-linux)", err)
		}
	}
	scratch := t.TempDir()
	writeUnits(t, scratch, containerUnits)
	spec, _ := json.Marshal(containerSpec{Gosd: gosdBin, Scratch: scratch, Delegated: delegated, Args: []string{
		"--unit-path", containerScratch + "/units", "--target", "container-test.target",
		// The control socket where the test can reach it; everything else
		// at its default place, in the container's own /run.
		"--control-socket", containerScratch + "/control.sock",
	}})
	nsArgs := []string{"--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "--mount-proc", "--propagation", "private"}
	sys := &syscall.SysProcAttr{Setpgid: true}
	if delegated {
		dir := delegatedCgroup(t)
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		sys.UseCgroupFD, sys.CgroupFD = true, fd
		nsArgs = append(nsArgs, "--cgroup")
	}
	cmd := exec.Command("unshare", append(nsArgs, os.Args[0])...)
	cmd.Env = append(os.Environ(), containerRuntimeEnv+"="+string(spec))
	cmd.SysProcAttr = sys
	return launch(t, cmd, scratch, true)
}

// delegatedCgroup makes a cgroup for a container below the test's own and
// removes it, and whatever gosd made in it, at cleanup.
func delegatedCgroup(t *testing.T) string {
	t.Helper()
	cg2 := cgroup2Mountpoint()
	own, _ := os.ReadFile("/proc/self/cgroup")
	var rel string
	for _, l := range strings.Split(string(own), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			rel = p
		}
	}
	if cg2 == "" || rel == "" {
		t.Fatalf("no cgroup v2 here (mount %q, own %q)", cg2, rel)
	}
	dir := filepath.Join(cg2, rel, fmt.Sprintf("gosd-container-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("a cgroup for the container: %v", err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
		var dirs []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- { // leaves first
			for try := 0; try < 100 && os.Remove(dirs[i]) != nil; try++ {
				time.Sleep(10 * time.Millisecond) // killed processes still leaving
			}
		}
	})
	return dir
}

// TestContainerDebianServices: gosd as a Docker-like container's init
// starts Debian's unaltered nginx, redis-server and cron units, each
// answers, and docker stop's SIGTERM (and SIGRTMIN+3, the stop signal of
// systemd images) stops all of them and ends with exit status 0. With a
// read-only cgroup2 gosd runs on process groups; with a delegated,
// writable one it puts each unit in its own cgroup.
func TestContainerDebianServices(t *testing.T) {
	for _, stop := range []struct {
		name      string
		sig       syscall.Signal
		delegated bool
	}{
		{"SIGTERM", syscall.SIGTERM, false},
		{"SIGRTMIN+3", syscall.Signal(34 + 3), false},
		{"delegated cgroup, SIGTERM", syscall.SIGTERM, true},
	} {
		t.Run(stop.name, func(t *testing.T) {
			in := startContainer(t, stop.delegated)
			in.waitOutput("Reached target container-test.target", 60*time.Second)
			gosd := in.gosdPid()
			console := in.out.String()
			for _, u := range []string{"nginx.service", "redis-server.service", "cron.service"} {
				if !strings.Contains(console, "Started "+u) {
					t.Errorf("%s not started", u)
				}
			}
			// gosd is PID 1 with Docker's capabilities, nothing more.
			if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", gosd)); !strings.Contains(string(st), "CapEff:\t00000000a80425fb") {
				t.Errorf("gosd's capabilities are not Docker's 14:\n%s", st)
			}
			// Expected in a container, so not an error line.
			if strings.Contains(console, "max_dgram_qlen") {
				t.Errorf("a read-only /proc/sys was logged as an error")
			}
			// Said once: no cgroup can be made, process groups it is; or,
			// delegated, cgroups, and nginx in its own.
			if stop.delegated {
				if n := strings.Count(console, "cgroups: using cgroup v2"); n != 1 || strings.Contains(console, "process groups") {
					t.Errorf("cgroup mode said %d times, or process groups used, in a delegated subtree", n)
				}
				var nginx int
				for _, p := range pid1Descendants(gosd) {
					if p.comm == "nginx" && nginx == 0 {
						nginx = p.pid
					}
				}
				cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", nginx))
				if !strings.Contains(string(cg), "/system.slice/nginx.service\n") {
					t.Errorf("nginx (pid %d) not in its unit's cgroup: %q", nginx, cg)
				}
			} else if n := strings.Count(console, "running on process groups"); n != 1 {
				t.Errorf("the cgroup fallback was said %d times, want once", n)
			}
			// LimitNOFILE=65535 above the hard limit of 20000: lowered, said.
			if !strings.Contains(console, "LimitNOFILE=65535:65535 is above the hard limit 20000") {
				t.Errorf("no notice of the lowered LimitNOFILE=")
			}

			err := inNetns(gosd, func() error {
				// Dialled here: http.Transport would dial on a goroutine
				// of its own, on a thread outside the namespace.
				hc, err := net.DialTimeout("tcp", "127.0.0.1:80", 10*time.Second)
				if err != nil {
					return fmt.Errorf("nginx: %w", err)
				}
				defer hc.Close()
				hc.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprint(hc, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(hc), nil)
				if err != nil {
					return fmt.Errorf("nginx: %w", err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), "nginx") {
					return fmt.Errorf("nginx: %s %q", resp.Status, body)
				}
				conn, err := net.DialTimeout("tcp", "127.0.0.1:6379", 10*time.Second)
				if err != nil {
					return fmt.Errorf("redis: %w", err)
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprint(conn, "PING\r\n")
				reply, err := bufio.NewReader(conn).ReadString('\n')
				if err != nil || reply != "+PONG\r\n" {
					return fmt.Errorf("redis PING: %q %v", reply, err)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			// cron: its pid file names a live cron of the container. cron is
			// Type=simple, so it may write the file after the target is up.
			var pidData []byte
			cronAlive := false
			for wait := time.Now().Add(30 * time.Second); ; {
				pidData, err = os.ReadFile(fmt.Sprintf("/proc/%d/root/run/crond.pid", gosd))
				for _, p := range pid1Descendants(gosd) {
					cronAlive = cronAlive || p.comm == "cron"
				}
				if (cronAlive && strings.TrimSpace(string(pidData)) != "") || time.Now().After(wait) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				t.Errorf("cron pid file: %v", err)
			}
			if !cronAlive || strings.TrimSpace(string(pidData)) == "" {
				t.Errorf("cron not running (pid file %q)", pidData)
			}
			// Services get systemd's clean environment: $container is
			// init's (systemd passes it on in /run/systemd/container).
			for _, p := range pid1Descendants(gosd) {
				if p.comm != "cron" {
					continue
				}
				env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.pid))
				if strings.Contains("\x00"+string(env), "\x00container=") {
					t.Errorf("cron inherited $container: %q", env)
				}
			}

			if err := syscall.Kill(gosd, stop.sig); err != nil {
				t.Fatal(err)
			}
			if st := in.wait(60 * time.Second); st != 0 {
				t.Errorf("container exit status %d after %s, want 0", st, stop.name)
			}
			console = in.out.String()
			for _, u := range []string{"nginx.service", "redis-server.service", "cron.service"} {
				if !strings.Contains(console, "Stopped "+u) {
					t.Errorf("%s not stopped in order", u)
				}
			}
		})
	}
}
