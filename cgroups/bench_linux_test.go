package cgroups

import (
	"fmt"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// spawnTrue runs /bin/true (in the cgroup of cgroupFD when >= 0) and
// reaps it.
func spawnTrue(b *testing.B, cgroupFD int) {
	attr := &syscall.ProcAttr{Sys: &syscall.SysProcAttr{}}
	if cgroupFD >= 0 {
		attr.Sys.UseCgroupFD = true
		attr.Sys.CgroupFD = cgroupFD
	}
	pid, err := syscall.ForkExec("/bin/true", []string{"true"}, attr)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := syscall.Wait4(pid, nil, 0, nil); err != nil {
		b.Fatal(err)
	}
}

// The floor: fork+exec+wait of /bin/true in gosd's own cgroup.
func BenchmarkSpawnPlain(b *testing.B) {
	for b.Loop() {
		spawnTrue(b, -1)
	}
}

// A restart: the unit's group exists and its fd is open.
func BenchmarkSpawnIntoExistingGroup(b *testing.B) {
	h := testHierarchy(b)
	g, err := h.Create("bench.service", "")
	if err != nil {
		b.Fatal(err)
	}
	fd, err := g.OpenFD()
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fd)
	for b.Loop() {
		spawnTrue(b, fd)
	}
}

// A unit's whole life: Create + OpenFD + spawn into it + reap + Remove.
func BenchmarkCreateSpawnRemove(b *testing.B) {
	h := testHierarchy(b)
	i := 0
	for b.Loop() {
		g, err := h.Create(fmt.Sprintf("bench-%d.service", i), "")
		if err != nil {
			b.Fatal(err)
		}
		i++
		fd, err := g.OpenFD()
		if err != nil {
			b.Fatal(err)
		}
		spawnTrue(b, fd)
		unix.Close(fd)
		if err := g.Remove(); err != nil {
			b.Fatal(err)
		}
	}
}

// Create + OpenFD + Close + Remove alone, without a process.
func BenchmarkCreateRemove(b *testing.B) {
	h := testHierarchy(b)
	for b.Loop() {
		g, err := h.Create("empty.service", "")
		if err != nil {
			b.Fatal(err)
		}
		fd, err := g.OpenFD()
		if err != nil {
			b.Fatal(err)
		}
		unix.Close(fd)
		if err := g.Remove(); err != nil {
			b.Fatal(err)
		}
	}
}

// The kernel's share of CreateRemove: a bare mkdir+rmdir of a cgroup.
func BenchmarkKernelMkdirRmdir(b *testing.B) {
	h := testHierarchy(b)
	dir := h.Root() + "/raw"
	for b.Loop() {
		if err := unix.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := unix.Rmdir(dir); err != nil {
			b.Fatal(err)
		}
	}
}
