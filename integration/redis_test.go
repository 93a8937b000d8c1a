//go:build linux

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// redisWrapper prepares gosd's private mount namespace (unshare's) so the
// host is untouched: a network namespace of its own (redis binds port
// 6379 there), a /run of its own, and tmpfs where redis writes its data
// and log, owned as Debian's package makes them.
func redisWrapper() []string {
	script := `set -e
ip link set lo up
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=750 tmpfs /var/lib/redis
chown redis:redis /var/lib/redis
mount -t tmpfs -o mode=2750 tmpfs /var/log/redis
chown redis:adm /var/log/redis
exec "$@"`
	return []string{"unshare", "--net", "sh", "-c", script, "sh"}
}

// TestDebianRedisSandboxed is issue 13's check: Debian's
// redis-server.service, unaltered (30 hardening settings: ProtectSystem=
// strict, PrivateUsers=, SystemCallFilter=, NoExecPaths=, ...), is started
// by gosd as PID1 of a PID namespace, with every setting applied, and
// answers redis-cli's PING; `gosd verify` names nothing as not enforced.
// Each setting is checked where the running process shows it.
func TestDebianRedisSandboxed(t *testing.T) {
	needRoot(t)
	const unit = "/lib/systemd/system/redis-server.service"
	for _, p := range []string{"/usr/bin/redis-server", "/usr/bin/redis-cli", unit, "/etc/redis/redis.conf"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%v (CI installs redis-server: .ci/run)", err)
		}
	}
	redisUser, err := user.Lookup("redis")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"nsenter", "ip"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%v (util-linux, iproute2)", err)
		}
	}

	out, err := exec.Command(gosdBin, "verify", unit).CombinedOutput()
	if err != nil || strings.Contains(string(out), "not enforced") {
		t.Errorf("gosd verify %s: %v\n%s", unit, err, out)
	}

	units := map[string]string{
		"redis-server.service": "->" + unit,
		"redis-test.target":    "[Unit]\nWants=redis-server.service\nAfter=redis-server.service\n",
	}
	conf := filepath.Join(t.TempDir(), "gosd.toml")
	if err := os.WriteFile(conf, []byte("[log]\nlisten = \"no\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The notify socket at gosd's default place in the private /run: the
	// harness's one in the test's /tmp is hidden by PrivateTmp=.
	in := startWrapped(t, asPID1, units, redisWrapper(), "--target", "redis-test.target", "--config", conf,
		"--notify-socket", "/run/gosd/notify")
	in.waitOutput("Reached target redis-test.target", 60*time.Second)
	gosd := in.gosdPid()
	console := in.out.String()
	if !strings.Contains(console, "Started redis-server.service") {
		t.Fatalf("redis-server.service not started")
	}
	if strings.Contains(console, "not enforced") {
		t.Errorf("gosd logged a setting as not enforced")
	}
	var redis int
	for _, p := range pid1Descendants(gosd) {
		if p.comm == "redis-server" && redis == 0 {
			redis = p.pid
		}
	}
	if redis == 0 {
		t.Fatal("no redis-server process")
	}

	ping := exec.Command("nsenter", "-t", fmt.Sprint(gosd), "-n", "redis-cli", "-h", "127.0.0.1", "ping")
	if reply, err := ping.CombinedOutput(); err != nil || strings.TrimSpace(string(reply)) != "PONG" {
		t.Errorf("redis-cli ping: %q %v", reply, err)
	}

	proc := func(f string) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", redis, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
		return string(b)
	}
	status := proc("status")
	for _, want := range []string{
		"Uid:\t" + redisUser.Uid + "\t", // User=redis
		"Gid:\t" + redisUser.Gid + "\t", // Group=redis
		"Umask:\t0007",                  // UMask=007
		"CapBnd:\t0000000000000000",     // CapabilityBoundingSet=
		"CapEff:\t0000000000000000",     //
		"NoNewPrivs:\t1",                // NoNewPrivileges=true
		"Seccomp:\t2",                   // SystemCallFilter= and the rest
	} {
		if !strings.Contains(status, want) {
			t.Errorf("redis-server's status lacks %q:\n%s", want, status)
		}
	}
	// LimitNOFILE=65535, or the hard limit where it is lower and cannot
	// be raised (a container without CAP_SYS_RESOURCE, as here and on CI).
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	nofile := min(65535, lim.Max)
	if st, _ := os.ReadFile("/proc/self/status"); capHas(string(st), 24) {
		nofile = 65535
	}
	if l := proc("limits"); !strings.Contains(l, fmt.Sprintf("Max open files            %-21d%-21d", nofile, nofile)) {
		t.Errorf("LimitNOFILE=65535 not applied (want %d):\n%s", nofile, l)
	}
	// PrivateUsers=, ProtectHostname= and the mount settings: namespaces
	// of its own.
	for _, ns := range []string{"mnt", "uts", "user"} {
		own, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", redis, ns))
		pid1, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", gosd, ns))
		if own == "" || own == pid1 {
			t.Errorf("redis-server shares gosd's %s namespace (%q)", ns, own)
		}
	}
	// ExecPaths= names the binary through its symlink; the mount is where
	// it leads.
	redisBin, err := filepath.EvalSymlinks("/usr/bin/redis-server")
	if err != nil {
		t.Fatal(err)
	}
	mounts := map[string]string{} // mount point -> options, the last mount wins
	for _, line := range strings.Split(proc("mountinfo"), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		sep := 6
		for sep < len(f) && f[sep] != "-" {
			sep++
		}
		if sep+3 < len(f) {
			mounts[f[4]] = f[5] + "," + f[sep+1] + "," + f[sep+3]
		}
	}
	has := func(mp, opt string) bool { return strings.Contains(","+mounts[mp]+",", ","+opt+",") }
	for _, c := range []struct{ mp, opt, setting string }{
		{"/", "ro", "ProtectSystem=strict"},
		{"/", "noexec", "NoExecPaths=/"},
		{"/var/lib/redis", "rw", "ReadWritePaths=-/var/lib/redis"},
		{"/var/log/redis", "rw", "ReadWritePaths=-/var/log/redis"},
		{redisBin, "ro", "ExecPaths=/usr/bin/redis-server"},
		{"/tmp", "rw", "PrivateTmp=true"},
		{"/dev", "tmpfs", "PrivateDevices=true"},
		{"/proc/sys", "ro", "ProtectKernelTunables=true"},
		{"/sys/fs/cgroup", "ro", "ProtectControlGroups=true"},
	} {
		if !has(c.mp, c.opt) {
			t.Errorf("%s: %s has %q, want %s", c.setting, c.mp, mounts[c.mp], c.opt)
		}
	}
	// ProtectProc=invisible: a /proc of its own with hidepid=invisible.
	// gosd enters PrivateUsers='s user namespace before it mounts, and a
	// user namespace may not mount a /proc over one with hidden parts (as
	// in a Docker container); systemd, as root, makes the user namespace
	// last. gosd then says so and keeps the /proc it has.
	if !has("/proc", "hidepid=invisible") {
		if !strings.Contains(console, "ProtectProc=/ProcSubset= not applied") {
			t.Errorf("ProtectProc=invisible: /proc has %q and gosd did not say it was not applied", mounts["/proc"])
		} else {
			t.Logf("ProtectProc=invisible not applied here: %q", mounts["/proc"])
		}
	}
	if has(redisBin, "noexec") {
		t.Errorf("ExecPaths=/usr/bin/redis-server: mounted noexec")
	}
	if has("/home", "") && !strings.Contains(mounts["/home"], "tmpfs") && !has("/home", "ro") {
		t.Errorf("ProtectHome=true: /home is %q", mounts["/home"])
	}
	// PrivateDevices=: no disks, no /dev/kmsg (ProtectKernelLogs=).
	for _, dev := range []string{"kmsg", "mem", "port"} {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/root/dev/%s", redis, dev)); err == nil {
			t.Errorf("/dev/%s visible to redis-server", dev)
		}
	}
	// RuntimeDirectory=redis with RuntimeDirectoryMode=2755, the group's
	// bit included, owned by User= and Group=.
	if st, err := os.Stat(fmt.Sprintf("/proc/%d/root/run/redis", gosd)); err != nil {
		t.Errorf("RuntimeDirectory=: %v", err)
	} else if sys := st.Sys().(*syscall.Stat_t); sys.Mode&0o7777 != 0o2755 || fmt.Sprint(sys.Uid) != redisUser.Uid || fmt.Sprint(sys.Gid) != redisUser.Gid {
		t.Errorf("RuntimeDirectory=: /run/redis mode %04o owner %d:%d", sys.Mode&0o7777, sys.Uid, sys.Gid)
	}
	// ReadWritePaths= let redis write its log where ProtectSystem=strict
	// makes everything else read-only.
	if log, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/var/log/redis/redis-server.log", gosd)); err != nil || !strings.Contains(string(log), "Ready to accept connections") {
		t.Errorf("redis log: %v %q", err, log)
	}

	if st := in.stop(60 * time.Second); st != 0 {
		t.Errorf("gosd exit status %d, want 0", st)
	}
	if !strings.Contains(in.out.String(), "Stopped redis-server.service") {
		t.Error("redis-server.service not stopped in order")
	}
}

// capHas reports whether the CapEff line of a /proc status has cap.
func capHas(status string, cap uint) bool {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:\t"); ok {
			n, _ := strconv.ParseUint(v, 16, 64)
			return n&(1<<cap) != 0
		}
	}
	return false
}
