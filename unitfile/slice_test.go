package unitfile

import (
	"slices"
	"testing"
)

// A slice's [Slice] section takes the resource settings of its cgroup
// files; every other resource key is named as not enforced, none is kept
// silently.
func TestSliceResources(t *testing.T) {
	u := buildText(t, "lim.slice", `[Slice]
CPUWeight=50
StartupCPUWeight=500
MemoryMax=64M
TasksMax=5
AllowedCPUs=0-1 3
AllowedMemoryNodes=0
IOReadBandwidthMax=/dev/sda 1M
DeviceAllow=/dev/null rw
MemoryHigh=50%
`)
	if u.LoadState != Loaded || len(u.Diags) != 0 || u.Slice == nil {
		t.Fatalf("%s: %+v %v", u.Name, u.Diags, u.Slice)
	}
	rc := u.Slice.Resources
	if *rc.CPUWeight != 50 || *rc.StartupCPUWeight != 500 || *rc.MemoryMax != 64<<20 || *rc.TasksMax != 5 ||
		!slices.Equal(rc.AllowedCPUs, []int{0, 1, 3}) || !slices.Equal(rc.AllowedMemoryNodes, []int{0}) ||
		rc.Percent["MemoryHigh"] != 5000 {
		t.Errorf("resources %+v", rc)
	}
	var names []string
	for _, e := range u.NotEnforced() {
		names = append(names, e.Key)
	}
	if !slices.Equal(names, []string{"IOReadBandwidthMax", "DeviceAllow"}) {
		t.Errorf("not enforced: %v", names)
	}
	if len(u.Extra) != 0 {
		t.Errorf("kept silently: %+v", u.Extra)
	}
	// A bad value is warned about, as in a service.
	bad := buildText(t, "b.slice", "[Slice]\nCPUWeight=0\nAllowedCPUs=x\n")
	if len(bad.Diags) != 2 || bad.Slice.Resources.CPUWeight != nil {
		t.Errorf("bad values: %v", bad.Diags)
	}
}

// Resource settings in a mount or swap unit were a nil dereference in the
// loader (PID1's); they are named as not enforced now.
func TestMountResourceKeysNotEnforced(t *testing.T) {
	for name, text := range map[string]string{
		"mnt.mount":     "[Mount]\nWhat=tmpfs\nWhere=/mnt\nCPUWeight=50\nMemoryMax=1M\nDeviceAllow=/dev/null\nIPAddressDeny=any\nNice=5\nPAMName=x\n",
		"swapfile.swap": "[Swap]\nWhat=/swapfile\nTasksMax=5\nSlice=a.slice\nPAMName=x\n",
	} {
		u := buildText(t, name, text)
		var names []string
		for _, e := range u.NotEnforced() {
			names = append(names, e.Key)
		}
		want := map[string][]string{
			"mnt.mount":     {"CPUWeight", "MemoryMax", "DeviceAllow", "IPAddressDeny", "PAMName"},
			"swapfile.swap": {"TasksMax", "Slice", "PAMName"},
		}[name]
		if !slices.Equal(names, want) || len(u.Diags) != 0 {
			t.Errorf("%s: not enforced %v, want %v; %v", name, names, want, u.Diags)
		}
	}
}
