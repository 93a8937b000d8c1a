// Package cgroups manages cgroup v2: one cgroup per unit, placement at
// spawn, cgroup.kill, emptiness events and resource settings. It reports
// when cgroup v2 is unavailable so callers fall back to process groups.
package cgroups
