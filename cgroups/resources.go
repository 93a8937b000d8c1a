package cgroups

import (
	"strconv"
	"strings"

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

// settings lists the writes rc asks for, in a fixed order. startup: the
// system is starting up or shutting down, when StartupCPUWeight= replaces
// CPUWeight= (systemd.resource-control(5)).
func settings(rc unitfile.ResourceControl, startup bool) []setting {
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
	if startup && rc.StartupCPUWeight != nil {
		add("StartupCPUWeight", "cpu", "cpu.weight", rc.StartupCPUWeight, plain)
	} else {
		add("CPUWeight", "cpu", "cpu.weight", rc.CPUWeight, plain)
	}
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
	cpuset := func(name, file string, list []int) {
		if list != nil {
			out = append(out, setting{name, "cpuset", file, cpuList(list)})
		}
	}
	cpuset("AllowedCPUs", "cpuset.cpus", rc.AllowedCPUs)
	cpuset("AllowedMemoryNodes", "cpuset.mems", rc.AllowedMemoryNodes)
	return out
}

// cpuList writes sorted CPU (or node) numbers as the kernel's list format,
// ranges joined: [0 1 2 5] is "0-2,5".
func cpuList(list []int) string {
	var b strings.Builder
	for i := 0; i < len(list); {
		j := i
		for j+1 < len(list) && list[j+1] == list[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(list[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(list[j]))
		}
		i = j + 1
	}
	return b.String()
}
