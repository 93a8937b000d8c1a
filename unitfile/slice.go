package unitfile

// Slice is a slice unit's [Slice] section (systemd.slice(5)): resource
// settings of systemd.resource-control(5), which gosd writes to the slice's
// own cgroup, the parent of its members' cgroups.
type Slice struct {
	Resources ResourceControl `json:"resources"`
}

// cgroupFileKeys are the resource settings that are values in a unit's
// own cgroup files (cgroups/resources.go writes them): a slice takes these.
var cgroupFileKeys = keySet(`CPUWeight StartupCPUWeight CPUQuota MemoryMin MemoryLow
	MemoryHigh MemoryMax MemorySwapMax TasksMax IOWeight AllowedCPUs AllowedMemoryNodes`)

// resourceProcessKeys are the resource settings gosd applies to services
// and sockets only: the cgroup BPF programs, delegation and placement. A
// slice or a mount that sets them is told they are not enforced.
var resourceProcessKeys = keySet(`Delegate Slice DeviceAllow DevicePolicy IPAddressAllow IPAddressDeny`)

// resourceKey says how a [Slice], [Mount] or [Swap] key of
// systemd.resource-control(5) is taken: applied (a slice's cgroup files),
// or accepted and named as not enforced. Neither: not a resource key.
func resourceKey(unitType, key string) (def keyDef, applied, unenforced bool) {
	if unitType == "slice" && cgroupFileKeys[key] {
		return execKeys[key], true, false
	}
	return keyDef{}, false, cgroupFileKeys[key] || resourceProcessKeys[key] || resourceUnenforced[key]
}
