package control

import (
	"time"

	"gosd/logstore"
	"gosd/manager"
	"gosd/unitfile"
)

// Backend is what the control server needs from the running manager. The
// reactor implements it. Every method is called ON THE REACTOR GOROUTINE
// (the server hands each request over with Submit), so implementations need
// no locking; none of them may block.
type Backend interface {
	// Submit runs fn on the reactor goroutine (safe to call from any goroutine).
	Submit(fn func())

	// List returns every loaded unit's status.
	List() []manager.UnitStatus
	// Status returns one unit's status (ok=false if the manager has never
	// heard of it and it cannot be loaded).
	Status(name string) (manager.UnitStatus, bool)
	// Unit returns the unit definition (never nil; LoadState says if missing).
	Unit(name string) *unitfile.Unit
	// LogStore is the log store and the persistent log's directory ("" =
	// none), for `logs`. Unlike the other methods it may be called from
	// any goroutine: the answer never changes.
	LogStore() (*logstore.Store, string)
	// Enqueue submits a job. done (may be nil) is called on the reactor
	// goroutine when the job finishes.
	Enqueue(unit string, kind manager.JobKind, mode manager.JobMode, done func(manager.JobResult))
	// Kill signals a unit's processes (whom: "main", "control", "all").
	Kill(unit string, whom string, signal int) error
	// ResetFailed clears the failed state of a unit ("" = all).
	ResetFailed(unit string)
	// Reload re-reads unit files (daemon-reload).
	Reload() error
	// PowerOff asks for an orderly shutdown: action is poweroff, reboot,
	// halt or exit.
	PowerOff(action string)
	// UnitPaths is the unit search path in use (enable/disable links).
	UnitPaths() []string
	// Boot returns what `analyze` needs beyond the units' own times: the
	// boot target and when gosd started.
	Boot() BootTimes
	// Cgroup returns a unit's cgroup figures; false when the unit has no
	// cgroup (cgroups unavailable, or the unit never ran).
	Cgroup(name string) (CgroupStats, bool)
}

// ExitCoder is a Backend that sets the status gosd exits with
// (`systemctl exit N`, systemd's SetExitCode).
type ExitCoder interface {
	SetExitCode(code int)
}

// BootTimes is gosd's own start, for `analyze time`.
type BootTimes struct {
	// Target is the unit gosd started at boot ("" if none).
	Target string
	// Start is when the gosd process started, on the backend's clock (the
	// clock of UnitStatus' times; <= 0 when that clock began later).
	Start time.Duration
	// StartMonotonic is the same instant on CLOCK_MONOTONIC, which counts
	// from the kernel's boot.
	StartMonotonic time.Duration
	// Finish is when the boot target's start job finished, on the backend's
	// clock (0 = not yet).
	Finish time.Duration
	// Kernel is true when gosd is PID1 of the machine (not of a container):
	// StartMonotonic is then the time the kernel took before gosd ran.
	Kernel bool
}

// CgroupStats is a unit's control group and its current figures.
type CgroupStats struct {
	Path string `json:"path"` // as /proc/PID/cgroup shows it
	Pids []int  `json:"pids"`
	// Processes is filled by the server from Pids (never by a Backend).
	Processes     []CgroupProcess `json:"processes,omitempty"`
	TasksCurrent  uint64          `json:"tasks_current"`
	MemoryCurrent uint64          `json:"memory_current,omitempty"`
	HaveMemory    bool            `json:"have_memory,omitempty"`
	CPUUsageNSec  uint64          `json:"cpu_usage_nsec,omitempty"`
	HaveCPU       bool            `json:"have_cpu,omitempty"`
	// Children are the cgroups below a slice's (its members), printed as
	// systemctl prints a slice's tree; nil for other units.
	Children []CgroupNode `json:"children,omitempty"`
}

// CgroupNode is one cgroup below a slice's: a member unit (or a slice in
// it) by its directory name, its processes and the cgroups below it.
type CgroupNode struct {
	Name string `json:"name"`
	Pids []int  `json:"pids,omitempty"`
	// Processes is filled by the server from Pids, as in CgroupStats.
	Processes []CgroupProcess `json:"processes,omitempty"`
	Children  []CgroupNode    `json:"children,omitempty"`
}
