//go:build !linux

package cgroups

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"gosd/unitfile"
)

// errNoCgroups matches both ErrUnavailable and errors.ErrUnsupported.
var errNoCgroups = fmt.Errorf("cgroups: %w on %s: %w", errors.ErrUnsupported, runtime.GOOS, ErrUnavailable)

// Hierarchy is gosd's part of the cgroup v2 tree; there is none here.
type Hierarchy struct{}

// Group is one unit's cgroup; there are none here.
type Group struct{}

// Detect fails: cgroups exist only on Linux.
func Detect() (*Hierarchy, error) { return nil, errNoCgroups }

// DetectAt fails: cgroups exist only on Linux.
func DetectAt(sub string) (*Hierarchy, error) { return nil, errNoCgroups }

// PopulatedFD fails: cgroups exist only on Linux.
func PopulatedFD(fd int) (bool, error) { return false, errNoCgroups }

func (h *Hierarchy) Root() string                                        { return "" }
func (h *Hierarchy) Controllers() []string                               { return nil }
func (h *Hierarchy) Create(unit, slice string) (*Group, error)           { return nil, errNoCgroups }
func (h *Hierarchy) UnitOf(pid int) (string, bool)                       { return "", false }
func (g *Group) Path() string                                            { return "" }
func (g *Group) Unit() string                                            { return "" }
func (g *Group) OpenFD() (int, error)                                    { return -1, errNoCgroups }
func (g *Group) Procs() ([]int, error)                                   { return nil, errNoCgroups }
func (g *Group) Populated() (bool, error)                                { return false, errNoCgroups }
func (g *Group) EventsFD() (int, error)                                  { return -1, errNoCgroups }
func (g *Group) Kill() error                                             { return errNoCgroups }
func (g *Group) Signal(sig syscall.Signal, more ...syscall.Signal) error { return errNoCgroups }
func (g *Group) ProcsFD(dirFD int) ([]int, error)                        { return nil, errNoCgroups }
func (g *Group) SignalFD(dirFD int, sig syscall.Signal, more ...syscall.Signal) error {
	return errNoCgroups
}
func (g *Group) SignalFDExcept(dirFD, skip int, sig syscall.Signal, more ...syscall.Signal) error {
	return errNoCgroups
}
func (g *Group) Remove() error { return errNoCgroups }
func (g *Group) Apply(rc unitfile.ResourceControl, startup bool) ([]string, error) {
	return nil, errNoCgroups
}
func (h *Hierarchy) Slice(slice string) (*Group, error) { return nil, errNoCgroups }

// Stats are the figures of a group; there are none here.
type Stats struct {
	Pids          []int
	TasksCurrent  uint64
	MemoryCurrent uint64
	HaveMemory    bool
	CPUUsageNSec  uint64
	HaveCPU       bool
}

// OOMKillsFD fails: cgroups exist only on Linux.
func OOMKillsFD(fd int) (uint64, error) { return 0, errNoCgroups }

func (h *Hierarchy) Rel(dir string) string    { return "" }
func (g *Group) Stats() Stats                 { return Stats{} }
func (g *Group) MemoryEventsFD() (int, error) { return -1, errNoCgroups }

// Node is one cgroup below a group; there are none here.
type Node struct {
	Name     string
	Pids     []int
	Children []Node
}

func (g *Group) Tree() Node                                { return Node{} }
func (h *Hierarchy) FindSlice(slice string) (*Group, bool) { return nil, false }

// OwnDir fails: cgroups exist only on Linux.
func OwnDir() (string, error) { return "", errNoCgroups }

// Own is the calling process's place in cgroup v2; there is none here.
type Own struct{}

func FindOwn() (Own, error)                         { return Own{}, errNoCgroups }
func (Own) Dir() string                             { return "" }
func (Own) Detect() (*Hierarchy, error)             { return nil, errNoCgroups }
func (Own) DetectAt(sub string) (*Hierarchy, error) { return nil, errNoCgroups }

// RemoveTree fails: cgroups exist only on Linux.
func RemoveTree(dir string, wait time.Duration) (int, error) { return 0, errNoCgroups }

// ApplyDevices: device programs are Linux cgroup v2's.
func (g *Group) ApplyDevices(d unitfile.Devices) (bool, error) {
	if !d.Restricted() {
		return false, nil
	}
	return true, errNoCgroups
}

// ApplyIPAccess: address programs are Linux cgroup v2's.
func (g *Group) ApplyIPAccess(a unitfile.IPAccess) (bool, error) {
	if !a.Restricted() {
		return false, nil
	}
	return true, errNoCgroups
}

// ReplaceAccess: device and address programs are Linux cgroup v2's.
func (g *Group) ReplaceAccess(d unitfile.Devices, a unitfile.IPAccess) (bool, bool, error) {
	if !d.Restricted() && !a.Restricted() {
		return false, false, nil
	}
	return d.Restricted(), a.Restricted(), errNoCgroups
}
