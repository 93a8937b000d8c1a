package exec

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"gosd/cgroups"
)

// The process is in the unit's cgroup from its first instruction, on the
// direct and on the helper path: the shell reads its own /proc/self/cgroup.
func TestSpawnIntoCgroup(t *testing.T) {
	h, err := cgroups.DetectAt(fmt.Sprintf("gosd-exec-test-%d", os.Getpid()))
	if err != nil {
		t.Fatalf("cgroup v2 is required for this test on this machine: %v", err)
	}
	root := h.Root()
	t.Cleanup(func() { (&removeTree{root}).do(t) })
	g, err := h.Create("cg.service", "")
	if err != nil {
		t.Fatal(err)
	}
	fd, err := g.OpenFD()
	if err != nil {
		t.Fatal(err)
	}
	defer closeFD(fd)
	for _, helper := range []bool{false, true} {
		out, ws := run(t, Spec{Unit: "cg.service", Cmd: shell("cat /proc/self/cgroup"), Exec: ctx(),
			CgroupFD: fd, ForceHelper: helper})
		if ws.ExitStatus() != 0 || !strings.Contains(out, "0::") ||
			!strings.HasSuffix(strings.TrimSpace(lineV2(out)), "/system.slice/cg.service") {
			t.Errorf("helper=%v: /proc/self/cgroup %q status %v", helper, out, ws)
		}
	}
	// Without CgroupFD the child stays in our own cgroup.
	out, _ := run(t, Spec{Cmd: shell("cat /proc/self/cgroup"), Exec: ctx()})
	if strings.Contains(out, "cg.service") {
		t.Errorf("child without CgroupFD in the unit's cgroup: %q", out)
	}
}

func lineV2(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "0::") {
			return l
		}
	}
	return ""
}

type removeTree struct{ dir string }

// do removes the test's cgroup tree bottom-up (rmdir only works on empty
// cgroups without children).
func (r *removeTree) do(t *testing.T) {
	var walk func(d string)
	walk = func(d string) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.IsDir() {
				walk(d + "/" + e.Name())
			}
		}
		if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
			t.Errorf("cleanup: %v", err)
		}
	}
	walk(r.dir)
}

func closeFD(fd int) { _ = os.NewFile(uintptr(fd), "").Close() }
