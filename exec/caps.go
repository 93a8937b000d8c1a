package exec

import (
	"fmt"
	"strings"

	"gosd/unitfile"
)

// capNames are the Linux capabilities by number (capabilities(7)).
var capNames = unitfile.Capabilities

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
