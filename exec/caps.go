package exec

import (
	"fmt"
	"strings"
)

// capNames are the Linux capabilities by number (capabilities(7)).
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

func capabilityNumber(name string) (int, error) {
	for i, n := range capNames {
		if strings.EqualFold(n, name) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q", name)
}

func capabilityNumbers(names []string) ([]int, error) {
	var out []int
	for _, n := range names {
		c, err := capabilityNumber(strings.TrimPrefix(n, "~"))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// boundingSet returns the capabilities kept by CapabilityBoundingSet=; a "~"
// on the first name inverts the list (systemd.exec(5)).
func boundingSet(names []string) ([]int, error) {
	listed, err := capabilityNumbers(names)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 || !strings.HasPrefix(names[0], "~") {
		return listed, nil
	}
	drop := map[int]bool{}
	for _, c := range listed {
		drop[c] = true
	}
	keep := []int{}
	for c := range capNames {
		if !drop[c] {
			keep = append(keep, c)
		}
	}
	return keep, nil
}

func allCaps() []int {
	all := make([]int, len(capNames))
	for i := range capNames {
		all[i] = i
	}
	return all
}

// withoutCaps removes the named capabilities from keep.
func withoutCaps(keep []int, names []string) []int {
	drop := map[int]bool{}
	for _, n := range names {
		if c, err := capabilityNumber(n); err == nil {
			drop[c] = true
		}
	}
	var out []int
	for _, c := range keep {
		if !drop[c] {
			out = append(out, c)
		}
	}
	return out
}
