// Package cgroups manages cgroup v2 for gosd: one cgroup per unit,
// placement at spawn (CLONE_INTO_CGROUP through an fd), killing a whole
// unit (cgroup.kill), emptiness events (cgroup.events) and resource
// settings. When cgroup v2 cannot be used it says so with an error that
// matches ErrUnavailable, so the caller falls back to process groups.
//
// # Layout
//
// Detect finds the cgroup2 mount in /proc/self/mountinfo (pure v2 at
// /sys/fs/cgroup, hybrid at /sys/fs/cgroup/unified, or anywhere else) and
// gosd's own cgroup in /proc/self/cgroup ("0::/path"). Units live where
// systemd puts them, below a root:
//
//	<root>/system.slice/<unit>
//	<root>/a.slice/a-b.slice/<unit>      for Slice=a-b.slice
//	<root>/<unit>                        for Slice=-.slice
//
// When gosd is in the real root cgroup (PID1 without a cgroup namespace)
// the root is the hierarchy's root and gosd stays where it is: the root
// cgroup is exempt from the no-internal-processes rule. Otherwise (a
// supervisor started inside some cgroup, or PID1 in a cgroup namespace)
// Detect moves gosd into <own>/init.scope and uses <own> as the root, so
// <own> holds no processes of its own and controllers can be enabled in
// its subtree_control, as systemd does with init.scope. A gosd already in
// .../init.scope (re-exec'd) uses the parent as root and moves nothing.
// If other processes share <own> (gosd started from a shell), enabling
// controllers fails and units simply get none. DetectAt uses a given
// subtree below the own cgroup instead and moves nobody; tests use it.
//
// # Spawning into a group
//
// OpenFD gives the fd for SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
// (clone3 CLONE_INTO_CGROUP). O_PATH is enough; an O_RDONLY directory fd
// works as well. The process is in the group from its first instruction.
//
// Slices hold no processes; each slice enables for its children the
// controllers gosd uses (cpu, io, memory, pids) when its parent offers
// them. Slice gives a slice unit's own group, to which Apply writes its
// [Slice] settings as it writes a unit's; a controller a group lacks
// (cpuset, for AllowedCPUs=) is enabled by Apply from the root down, as
// systemd does when a unit needs it. On a hybrid layout those
// controllers are usually bound to the v1 hierarchies and missing from
// cgroup.controllers: groups still work for placement, killing and
// events, and Apply reports the settings it could not apply.
//
// # Events
//
// The kernel signals a change of cgroup.events ("populated 0/1") as
// EPOLLPRI on an open fd of that file (verified on Linux 6.18), and as an
// inotify IN_MODIFY. The notification stays pending until the file is read
// again from offset 0 on that fd: PopulatedFD does that read. A process
// leaves its cgroup when it dies, before it is reaped, so "populated 0"
// may arrive before the SIGCHLD of the last process.
//
// Nothing here is safe for concurrent use on one Group by design: the
// reactor owns it. Every fd opened here is close-on-exec.
package cgroups
