package reactor

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gosd/manager"
)

// autofsPacket builds a struct autofs_v5_packet as the kernel writes it.
func autofsPacket(proto, typ int32, token, pid, nameLen uint32) []byte {
	b := make([]byte, autofsPacketSize)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(proto))
	ne.PutUint32(b[4:], uint32(typ))
	ne.PutUint32(b[8:], token)
	ne.PutUint32(b[32:], pid)
	ne.PutUint32(b[40:], nameLen)
	return b
}

// pipeReactor is a reactor with an automount point whose request pipe is
// a plain pipe the test writes to, as the kernel would.
func pipeReactor(t *testing.T, where string) (*Reactor, int) {
	t.Helper()
	r := newReactor(t, Config{Manager: script(func(time.Duration, manager.Event) []manager.Effect { return nil })})
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_DIRECT); err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(p[0], true)
	t.Cleanup(func() { unix.Close(p[1]) })
	var st unix.Stat_t
	if err := unix.Stat(where, &st); err != nil {
		t.Fatal(err)
	}
	r.automounts["x.automount"] = &autofsPoint{unit: "x.automount", where: where, pipe: p[0], dev: st.Dev}
	if err := r.addSource(p[0], &autofsSource{unit: "x.automount"}); err != nil {
		t.Fatal(err)
	}
	return r, p[1]
}

func requests(r *Reactor) []manager.AutomountRequest {
	var out []manager.AutomountRequest
	for _, ev := range r.pending {
		if a, ok := ev.(manager.AutomountRequest); ok {
			out = append(out, a)
		}
	}
	r.pending = nil
	return out
}

// The kernel's packets become requests: a mount request with the
// process that asked (its command name read from /proc), an expire
// request, a packet of another type skipped. Malformed ones (short, a
// foreign protocol, a name longer than NAME_MAX) fail the unit with Err
// and take the pipe out of the poller; so does the pipe's end.
func TestAutofsPackets(t *testing.T) {
	where := t.TempDir()
	r, w := pipeReactor(t, where)
	write := func(b []byte) {
		t.Helper()
		if _, err := unix.Write(w, b); err != nil {
			t.Fatal(err)
		}
	}
	write(autofsPacket(5, autofsMissingDirect, 11, uint32(os.Getpid()), 0))
	write(autofsPacket(5, 3, 12, 0, 4)) // missing_indirect: not for a direct mount
	write(autofsPacket(5, autofsExpireDirect, 13, 0, 0))
	r.onAutofsPacket("x.automount")
	got := requests(r)
	if len(got) != 2 || got[0].Token != 11 || got[0].Expire || got[0].Err != nil || got[0].Covered ||
		got[0].PID != uint32(os.Getpid()) || got[0].Comm == "" || got[0].Comm == "n/a" ||
		!got[1].Expire || got[1].Token != 13 {
		t.Fatalf("requests %+v", got)
	}

	for _, c := range []struct {
		name string
		b    []byte
		msg  string
	}{
		{"short", autofsPacket(5, autofsMissingDirect, 1, 0, 0)[:40], "40 bytes"},
		{"protocol", autofsPacket(4, autofsMissingDirect, 1, 0, 0), "protocol 4"},
		{"name", autofsPacket(5, autofsMissingDirect, 1, 0, 4096), "name of 4096 bytes"},
	} {
		r, w := pipeReactor(t, where)
		if _, err := unix.Write(w, c.b); err != nil {
			t.Fatal(err)
		}
		r.onAutofsPacket("x.automount")
		got := requests(r)
		if len(got) != 1 || got[0].Err == nil || !strings.Contains(got[0].Err.Error(), c.msg) {
			t.Fatalf("%s: %+v", c.name, got)
		}
		if _, ok := r.sources[r.automounts["x.automount"].pipe]; ok {
			t.Fatalf("%s: the pipe is still polled", c.name)
		}
	}

	r, w = pipeReactor(t, where)
	unix.Close(w)
	r.onAutofsPacket("x.automount")
	if got := requests(r); len(got) != 1 || got[0].Err == nil {
		t.Fatalf("end of pipe: %+v", got)
	}
	// A stopped unit's point is gone: a late read finds nothing, and the
	// effects for it do nothing.
	r.stopAutomount("x.automount")
	r.onAutofsPacket("x.automount")
	r.replyAutomount(manager.AutomountReply{Unit: "x.automount", Tokens: []uint32{1}})
	r.expireAutomount(manager.ExpireAutomount{Unit: "x.automount"})
	if len(r.pending) != 0 || len(r.automounts) != 0 {
		t.Fatalf("after stop: %v %v", r.pending, r.automounts)
	}
}

// A mount over the automount point makes a request "covered": the mount
// unit was started before the kernel asked.
func TestAutofsCoveredRequest(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	where := filepath.Join(t.TempDir(), "p")
	os.Mkdir(where, 0o755)
	r, w := pipeReactor(t, where)
	if err := unix.Mount("tmpfs", where, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("no tmpfs mount here: %v", err)
	}
	defer unix.Unmount(where, unix.MNT_DETACH)
	unix.Write(w, autofsPacket(5, autofsMissingDirect, 1, 0, 0))
	r.onAutofsPacket("x.automount")
	if got := requests(r); len(got) != 1 || !got[0].Covered {
		t.Fatalf("requests %+v", got)
	}
}

// On a kernel without autofs (this host's: checked, not assumed) a start
// answers Unsupported with the reason, and leaves nothing mounted or open.
func TestAutomountWithoutAutofs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	if kernelHasAutofs() {
		t.Skip("this kernel has autofs; the qemu test covers the setup (integration/qemu_automount_test.go)")
	}
	r := newReactor(t, Config{Manager: script(func(time.Duration, manager.Event) []manager.Effect { return nil })})
	where := filepath.Join(t.TempDir(), "a", "b")
	before := openFDs(t)
	res := r.startAutomount(manager.StartAutomount{Unit: "a-b.automount", Where: where, DirectoryMode: 0o700})
	if !res.Unsupported || res.Err == nil || !strings.Contains(res.Err.Error(), "no autofs") {
		t.Fatalf("start: %+v", res)
	}
	if st, err := os.Stat(where); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("mount point: %v %v", st, err)
	}
	if isMountPoint(where) || len(r.automounts) != 0 {
		t.Fatal("something was left mounted")
	}
	if after := openFDs(t); after != before {
		t.Fatalf("%d fds open before, %d after", before, after)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// The loop's end undoes the automount points still set up: the pipe
// leaves the poller and is closed.
func TestCloseAutomounts(t *testing.T) {
	r, _ := pipeReactor(t, t.TempDir())
	fd := r.automounts["x.automount"].pipe
	r.closeAutomounts()
	if len(r.automounts) != 0 {
		t.Fatal("an automount point is left")
	}
	if _, ok := r.sources[fd]; ok {
		t.Fatal("the pipe is still polled")
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("the pipe is still open: %v", err)
	}
}

// Once a daemon-reexec is accepted the request pipes leave the poller
// (requests queue in them for the new gosd); a re-exec that fails puts
// them back, and what queued meanwhile is read then. A pipe that failed
// before stays out.
func TestAutomountFreezeThaw(t *testing.T) {
	r, w := pipeReactor(t, t.TempDir())
	pt := r.automounts["x.automount"]
	r.freezeAutomounts()
	if _, polled := r.sources[pt.pipe]; polled || !pt.frozen {
		t.Fatal("the pipe is still polled after the freeze")
	}
	if _, err := unix.Write(w, autofsPacket(5, autofsMissingDirect, 21, 0, 0)); err != nil {
		t.Fatal(err)
	}
	// What the new gosd is handed: the pipe, with the request in it.
	saved := r.saveAutomounts()
	if len(saved) != 1 || saved[0].Unit != "x.automount" || saved[0].Pipe != pt.pipe || saved[0].Dev != pt.dev || saved[0].Where != pt.where {
		t.Fatalf("handed over %+v", saved)
	}
	r.thawAutomounts()
	if _, polled := r.sources[pt.pipe]; !polled || pt.frozen {
		t.Fatal("the pipe is not polled again after the thaw")
	}
	r.onAutofsPacket("x.automount")
	if got := requests(r); len(got) != 1 || got[0].Token != 21 {
		t.Fatalf("the queued request: %+v", got)
	}
	r.removeSource(pt.pipe) // as after a failed read
	r.freezeAutomounts()
	r.thawAutomounts()
	if _, polled := r.sources[pt.pipe]; polled {
		t.Fatal("a failed pipe was polled again")
	}
}

// After a re-exec: a unit adopts its handed-over point only when that
// point's autofs mount is still there; otherwise (here: no autofs mount
// of that device is on the path) the pipe is closed and the unit is
// told. A unit without a handed-over point is told too, and points no unit
// adopted are closed.
func TestAutomountAdopt(t *testing.T) {
	r := newReactor(t, Config{Manager: script(func(time.Duration, manager.Event) []manager.Effect { return nil })})
	pipe := func() (int, int) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(p[1]) })
		return p[0], p[1]
	}
	where := t.TempDir()
	a, _ := pipe()
	b, _ := pipe()
	r.handedPoints = map[string]hoAutomount{
		"a.automount": {Unit: "a.automount", Where: where, Pipe: a, Dev: 1},
		"b.automount": {Unit: "b.automount", Where: where, Pipe: b, Dev: 1},
	}
	r.adoptAutomount(manager.AdoptAutomount{Unit: "a.automount", Where: where})
	r.adoptAutomount(manager.AdoptAutomount{Unit: "c.automount", Where: "/c"})
	got := requests(r)
	if len(got) != 2 || got[0].Unit != "a.automount" || got[0].Err == nil || got[1].Unit != "c.automount" ||
		got[1].Err == nil || !strings.Contains(got[1].Err.Error(), "not handed over") {
		t.Fatalf("adoption: %+v", got)
	}
	if len(r.automounts) != 0 {
		t.Fatalf("adopted a point whose mount is gone: %v", r.automounts)
	}
	r.dropHandedPoints()
	for _, fd := range []int{a, b} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
			t.Fatalf("pipe %d is still open: %v", fd, err)
		}
	}
	if r.handedPoints != nil || isMountPoint(where) {
		t.Fatal("something is left")
	}
}
