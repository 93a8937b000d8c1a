package reactor

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gosd/internal/uevent"
	"gosd/manager"
	"gosd/unitfile"
)

// tool runs a command while a reactor may run in this process: its
// wait4(-1) reaper can take the command's exit status (os/exec then says
// "no child processes"), so what counts is the check done says the
// command did.
func tool(t *testing.T, done func() bool, argv ...string) {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	deadline := time.Now().Add(5 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v %s", strings.Join(argv, " "), err, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fileThere(p string) func() bool {
	return func() bool { _, err := os.Stat(p); return err == nil }
}

func fileGone(p string) func() bool {
	return func() bool { _, err := os.Stat(p); return err != nil }
}

// linkType is a kind of network interface this kernel can make without
// hardware (ifb here; dummy on kernels built with it instead). Called
// before any reactor runs in the test.
func linkType(t *testing.T) string {
	t.Helper()
	probe := fmt.Sprintf("gsp%d", os.Getpid()%1000000)
	for _, kind := range []string{"ifb", "dummy"} {
		if exec.Command("ip", "link", "add", probe, "type", kind).Run() == nil {
			exec.Command("ip", "link", "del", probe).Run()
			return kind
		}
	}
	t.Fatal("the kernel makes neither ifb nor dummy interfaces (ip link add)")
	return ""
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (uevents of real kernel objects)")
	}
}

// recvUevent waits up to 5 s for a datagram on fd whose text contains
// marker, and returns it as the reactor would see it.
func recvUevent(t *testing.T, fd int, marker string) (b, oob []byte, from unix.Sockaddr) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 16<<10)
	ob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	for time.Now().Before(deadline) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		unix.Poll(pfd, 200)
		n, oobn, _, sa, err := unix.Recvmsg(fd, buf, ob, unix.MSG_DONTWAIT)
		if err != nil {
			continue
		}
		if strings.Contains(string(buf[:n]), marker) {
			return append([]byte(nil), buf[:n]...), append([]byte(nil), ob[:oobn]...), sa
		}
	}
	t.Fatalf("no uevent with %q", marker)
	return nil, nil, nil
}

// udevDatagram is a datagram in libudev's format (see internal/uevent).
func udevDatagram(props ...string) []byte {
	body := []byte(strings.Join(props, "\x00") + "\x00")
	h := make([]byte, 40)
	copy(h, "libudev\x00")
	binary.BigEndian.PutUint32(h[8:], 0xfeedcafe)
	binary.NativeEndian.PutUint32(h[12:], 40)
	binary.NativeEndian.PutUint32(h[16:], 40)
	binary.NativeEndian.PutUint32(h[20:], uint32(len(body)))
	return append(h, body...)
}

// The kernel's uevents reach this host's init network namespace: a real
// one (an interface made and removed) is accepted; the same text sent
// by a root process on the kernel's group is not (only the kernel, port
// 0, speaks there); udev's format from root on group 2 is; credentials
// of another uid are refused whatever the message.
func TestUeventSenderChecks(t *testing.T) {
	needRoot(t)
	fd, err := openUeventSocket(uevent.GroupKernel | uevent.GroupUdev)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
		t.Fatal("uevent socket without close-on-exec")
	}
	if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
		t.Fatal("uevent socket blocking")
	}
	link := fmt.Sprintf("gsc%d", os.Getpid()%1000000)
	if out, err := exec.Command("ip", "link", "add", link, "type", linkType(t)).CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v %s", err, out)
	}
	b, oob, from := recvUevent(t, fd, "add@/devices/virtual/net/"+link+"\x00")
	exec.Command("ip", "link", "del", link).Run()
	m, ok := acceptUevent(b, oob, from)
	if !ok || m.Udev || m.Get("INTERFACE") != link {
		t.Fatalf("the kernel's uevent refused: %+v from %+v", m, from)
	}

	// Forged by root on the kernel's group: the sender's port is not 0.
	snd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(snd)
	if err := unix.Bind(snd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	forged := "add@/devices/virtual/net/" + link + "f\x00ACTION=add\x00DEVPATH=/devices/virtual/net/" + link + "f\x00SUBSYSTEM=net\x00INTERFACE=" + link + "f\x00"
	if err := unix.Sendto(snd, []byte(forged), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: uevent.GroupKernel}); err != nil {
		t.Fatal(err)
	}
	b, oob, from = recvUevent(t, fd, link+"f\x00")
	if m, ok := acceptUevent(b, oob, from); ok {
		t.Fatalf("a kernel message from a process was accepted: %+v from %+v", m, from)
	}
	// udev's format from root on udev's group is what udev sends.
	ud := udevDatagram("ACTION=add", "DEVPATH=/devices/virtual/net/"+link+"u", "SUBSYSTEM=net", "CURRENT_TAGS=:systemd:")
	if err := unix.Sendto(snd, ud, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: uevent.GroupUdev}); err != nil {
		t.Fatal(err)
	}
	b, oob, from = recvUevent(t, fd, link+"u\x00")
	if m, ok := acceptUevent(b, oob, from); !ok || !m.Udev {
		t.Fatalf("udev's message refused: %+v from %+v", m, from)
	}
	// The same bytes with another uid's credentials (real SCM_CREDENTIALS
	// from a unix socket pair): refused.
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pair[0])
	defer unix.Close(pair[1])
	unix.SetsockoptInt(pair[1], unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
	cred := unix.UnixCredentials(&unix.Ucred{Pid: int32(os.Getpid()), Uid: 65534, Gid: 65534})
	if err := unix.Sendmsg(pair[0], ud, cred, nil, 0); err != nil {
		t.Fatal(err)
	}
	buf, ob := make([]byte, 4096), make([]byte, 256)
	n, oobn, _, _, err := unix.Recvmsg(pair[1], buf, ob, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := acceptUevent(buf[:n], ob[:oobn], &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: uevent.GroupUdev}); ok {
		t.Fatal("a message with uid 65534's credentials was accepted")
	}
	if _, ok := acceptUevent(ud, nil, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: uevent.GroupUdev}); ok {
		t.Fatal("a message without credentials was accepted")
	}
}

// deviceRun runs a reactor with the real manager over unit files in dir,
// reports each effect to watch, and returns a function that stops it and
// returns the console.
type deviceRig struct {
	t       *testing.T
	r       *Reactor
	mu      sync.Mutex
	changes []string // "unit active/sub" and "unit job=result"
	done    chan int
	console syncBuffer
	log     syncBuffer
	stopped bool
}

func startDeviceRig(t *testing.T, dir, target string) *deviceRig {
	set := unitfile.Load(unitfile.Options{SearchPath: []string{dir}})
	g := &deviceRig{t: t, done: make(chan int, 1)}
	cfg := Config{Units: set, Target: target, Manager: manager.New(set), Console: &g.console, Log: &g.log,
		NotifySocket: "-", Subreaper: true,
		Observe: func(e manager.Effect) {
			g.mu.Lock()
			defer g.mu.Unlock()
			switch x := e.(type) {
			case manager.UnitChanged:
				g.changes = append(g.changes, x.Unit+" "+x.Active+"/"+x.Sub)
			case manager.JobFinished:
				g.changes = append(g.changes, x.Unit+" "+string(x.Kind)+"="+string(x.Result))
			}
		}}
	g.r = newReactor(t, cfg)
	go func() { g.done <- g.r.Run() }()
	// Stopped whatever happens: a reactor left running would reap the
	// children of the tests after this one.
	t.Cleanup(g.stop)
	return g
}

// waitFor waits up to 20 s for a change line (a hang guard).
func (g *deviceRig) waitFor(line string) {
	g.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		for _, c := range g.changes {
			if c == line {
				g.mu.Unlock()
				return
			}
		}
		g.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.t.Fatalf("no %q in:\n%s\nlog:\n%s", line, strings.Join(g.changes, "\n"), g.log.String())
}

func (g *deviceRig) index(line string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, c := range g.changes {
		if c == line {
			return i
		}
	}
	return -1
}

func (g *deviceRig) stop() {
	if g.stopped {
		return
	}
	g.stopped = true
	g.r.Submit(func() { g.r.Feed(manager.Shutdown{Action: "exit"}) })
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
		g.t.Error("reactor did not exit")
	}
}

func writeUnits(t *testing.T, dir string, files map[string]string) {
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A network interface made 1 s after boot: the service bound to its
// device unit waits for it and starts once it is there; one waiting for
// an interface that never comes fails after its device's short
// JobRunningTimeoutSec= (a drop-in) with "Dependency failed"; removing
// the interface stops the bound service. Real kernel uevents, no udev.
func TestDeviceUnitsFollowNetLink(t *testing.T) {
	needRoot(t)
	if _, err := os.Stat("/run/udev/control"); err == nil {
		t.Skip("udev runs here: the kernel's uevents are not followed")
	}
	link := fmt.Sprintf("gsn%d", os.Getpid()%1000000)
	dev := "sys-subsystem-net-devices-" + link + ".device"
	never := "sys-subsystem-net-devices-" + link + "x.device"
	dir := t.TempDir()
	writeUnits(t, dir, map[string]string{
		"boot.target":  "[Unit]\nWants=wait.service never.service\n",
		"wait.service": "[Unit]\nBindsTo=" + dev + "\nAfter=" + dev + "\n[Service]\nExecStart=/bin/sleep 1000\n",
		"never.service": "[Unit]\nDescription=Never\nBindsTo=" + never + "\nAfter=" + never +
			"\n[Service]\nExecStart=/bin/sleep 1000\n",
		never + ".d/timeout.conf": "[Unit]\nJobRunningTimeoutSec=1\n",
	})
	sysLink := "/sys/class/net/" + link
	kind := linkType(t)
	t.Cleanup(func() { exec.Command("ip", "link", "del", link).Run() })
	g := startDeviceRig(t, dir, "boot.target")
	time.Sleep(time.Second)
	if g.index("wait.service active/running") >= 0 {
		t.Fatal("started before its device")
	}
	tool(t, fileThere(sysLink), "ip", "link", "add", link, "type", kind)
	g.waitFor(dev + " active/plugged")
	g.waitFor(dev + " start=done")
	g.waitFor("wait.service active/running")
	g.waitFor(never + " start=timeout")
	g.waitFor("never.service start=dependency")
	if g.index(never+" start=timeout") > g.index("never.service start=dependency") {
		t.Fatal("dependency failed before the device timed out")
	}
	tool(t, fileGone(sysLink), "ip", "link", "del", link)
	g.waitFor(dev + " inactive/dead")
	g.waitFor("wait.service inactive/dead")
	g.stop()
	for _, want := range []string{
		"Dependency failed for never.service - Never.",
		"[  OK  ] Found device " + dev + " - /sys/class/net/" + link + ".",
		"[ TIME ] Timed out waiting for device " + never + " - /sys/class/net/" + link + "x.",
		"Expecting device " + dev,
	} {
		if !strings.Contains(g.console.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, g.console.String())
		}
	}
}

// A loop device: dev-loopN.device is plugged once the device has a
// backing file (before, it is not ready, as udev's rules say), the bound
// service starts; losetup -d stops it.
func TestDeviceUnitsFollowLoop(t *testing.T) {
	needRoot(t)
	if _, err := os.Stat("/run/udev/control"); err == nil {
		t.Skip("udev runs here: the kernel's uevents are not followed")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("no losetup")
	}
	back := filepath.Join(t.TempDir(), "backing")
	if err := os.WriteFile(back, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find").Output()
	if err != nil {
		t.Fatalf("losetup --find: %v", err)
	}
	node := strings.TrimSpace(string(out))
	dev := strings.TrimPrefix(node, "/") // dev/loopN
	unit := strings.ReplaceAll(dev, "/", "-") + ".device"
	dir := t.TempDir()
	writeUnits(t, dir, map[string]string{
		"boot.target":  "[Unit]\nWants=loop.service\n",
		"loop.service": "[Unit]\nBindsTo=" + unit + "\nAfter=" + unit + "\n[Service]\nExecStart=/bin/sleep 1000\n",
	})
	g := startDeviceRig(t, dir, "boot.target")
	time.Sleep(time.Second)
	if g.index("loop.service active/running") >= 0 {
		t.Fatal("started before its device had a backing file")
	}
	backing := "/sys/block/" + filepath.Base(node) + "/loop/backing_file"
	t.Cleanup(func() {
		if _, err := os.Stat(backing); err == nil {
			exec.Command("losetup", "-d", node).Run()
		}
	})
	tool(t, fileThere(backing), "losetup", node, back)
	g.waitFor(unit + " active/plugged")
	g.waitFor("loop.service active/running")
	tool(t, fileGone(backing), "losetup", "-d", node)
	g.waitFor(unit + " inactive/dead")
	g.waitFor("loop.service inactive/dead")
	g.stop()
}

// A burst larger than the socket's buffer: the kernel drops uevents and
// says so (ENOBUFS); the reactor then reads every device again and feeds
// a full report, so a device whose uevent was lost is still known. Real
// uevents from interfaces made and removed, into a socket whose buffer
// is made tiny here.
func TestUeventOverflowRereadsDevices(t *testing.T) {
	needRoot(t)
	if _, err := os.Stat("/run/udev/control"); err == nil {
		t.Skip("udev runs here: the kernel's uevents are not followed")
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1) // the kernel's minimum
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: uevent.GroupKernel}); err != nil {
		t.Fatal(err)
	}
	r := newReactor(t, Config{Manager: script(func(time.Duration, manager.Event) []manager.Effect { return nil }), Log: &syncBuffer{}})
	r.devFS, r.devReported, r.ueventFD = hostDeviceFS, map[string]bool{}, fd
	defer unix.Close(fd)
	base := fmt.Sprintf("gso%d", os.Getpid()%100000)
	kind := linkType(t)
	for i := 0; i < 6; i++ {
		name := fmt.Sprintf("%s%d", base, i)
		if out, err := exec.Command("ip", "link", "add", name, "type", kind).CombinedOutput(); err != nil {
			t.Fatalf("ip link add: %v %s", err, out)
		}
		defer exec.Command("ip", "link", "del", name).Run()
	}
	r.readUevents()
	var full *manager.DevicesChanged
	for _, ev := range r.pending {
		if dc, ok := ev.(manager.DevicesChanged); ok && dc.Coldplug {
			full = &dc
		}
	}
	if full == nil {
		t.Fatalf("no full report after the overflow (%d events: %+v)", len(r.pending), r.pending)
	}
	var found int
	for _, d := range full.Devices {
		if strings.HasPrefix(filepath.Base(d.SysPath), base) {
			found++
		}
	}
	if found != 6 {
		t.Fatalf("the full report has %d of the 6 interfaces: %+v", found, full.Devices)
	}
}

// Once udev serves the system (its control socket exists), the first
// kernel uevent makes the socket leave the kernel's group: only udev's
// messages count then, as for systemd, and udev-trigger's flood is not
// received twice.
func TestUeventSocketLeavesKernelGroupUnderUdev(t *testing.T) {
	needRoot(t)
	fd, err := openUeventSocket(uevent.GroupKernel | uevent.GroupUdev)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	groups := func() int {
		g, err := unix.GetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_LIST_MEMBERSHIPS)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if g := groups(); g != int(uevent.GroupKernel|uevent.GroupUdev) {
		t.Fatalf("groups at the start: %#x", g)
	}
	udev := t.TempDir()
	if err := os.WriteFile(filepath.Join(udev, "control"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := newReactor(t, Config{Manager: script(func(time.Duration, manager.Event) []manager.Effect { return nil }), Log: &syncBuffer{}})
	r.devFS, r.devReported, r.ueventFD = deviceFS{sys: "/sys", udev: udev, dev: "/dev"}, map[string]bool{}, fd
	name := fmt.Sprintf("gsk%d", os.Getpid()%100000)
	kind := linkType(t)
	if out, err := exec.Command("ip", "link", "add", name, "type", kind).CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v %s", err, out)
	}
	defer exec.Command("ip", "link", "del", name).Run()
	deadline := time.Now().Add(5 * time.Second)
	for groups() != int(uevent.GroupUdev) && time.Now().Before(deadline) {
		r.readUevents()
		time.Sleep(10 * time.Millisecond)
	}
	if g := groups(); g != int(uevent.GroupUdev) {
		t.Fatalf("groups after a kernel uevent under udev: %#x, want udev's only (%#x)", g, uevent.GroupUdev)
	}
	for _, ev := range r.pending {
		if dc, ok := ev.(manager.DevicesChanged); ok && len(dc.Devices) > 0 {
			t.Errorf("a kernel uevent was taken under udev: %+v", dc)
		}
	}
}
