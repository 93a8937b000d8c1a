package cgroups

import (
	"strconv"

	"gosd/unitfile"
)

// setting is one resource-control value as the kernel file wants it.
type setting struct {
	name       string // the unit-file setting, e.g. "MemoryMax"
	controller string // the controller that must be enabled, e.g. "memory"
	file       string // the file in the unit's cgroup, e.g. "memory.max"
	value      string // what to write
}

// cpuQuotaPeriodUS is systemd's default CPUQuotaPeriodSec= (100ms).
const cpuQuotaPeriodUS = 100000

// settings lists the writes rc asks for, in a fixed order.
func settings(rc unitfile.ResourceControl) []setting {
	var out []setting
	add := func(name, controller, file string, v *uint64, format func(uint64) string) {
		if v != nil {
			out = append(out, setting{name, controller, file, format(*v)})
		}
	}
	plain := func(v uint64) string { return strconv.FormatUint(v, 10) }
	// "infinity" (RlimInfinity) is "max" in cgroup v2 files.
	limit := func(v uint64) string {
		if v == unitfile.RlimInfinity {
			return "max"
		}
		return plain(v)
	}
	add("CPUWeight", "cpu", "cpu.weight", rc.CPUWeight, plain)
	add("CPUQuota", "cpu", "cpu.max", rc.CPUQuota, func(percent uint64) string {
		// percent of one CPU per period: 100% is the whole period.
		quota := percent * cpuQuotaPeriodUS / 100
		if quota < 1000 {
			quota = 1000 // the kernel's minimum quota is 1ms
		}
		return strconv.FormatUint(quota, 10) + " " + strconv.Itoa(cpuQuotaPeriodUS)
	})
	add("MemoryMin", "memory", "memory.min", rc.MemoryMin, limit)
	add("MemoryLow", "memory", "memory.low", rc.MemoryLow, limit)
	add("MemoryHigh", "memory", "memory.high", rc.MemoryHigh, limit)
	add("MemoryMax", "memory", "memory.max", rc.MemoryMax, limit)
	add("MemorySwapMax", "memory", "memory.swap.max", rc.MemorySwapMax, limit)
	add("TasksMax", "pids", "pids.max", rc.TasksMax, limit)
	add("IOWeight", "io", "io.weight", rc.IOWeight, func(v uint64) string {
		return "default " + plain(v)
	})
	return out
}
