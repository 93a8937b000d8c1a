package cgroups

import (
	"errors"
	"reflect"
	"testing"

	"gosd/unitfile"
)

// hybridMountinfo is this kind of machine's layout (v1 controllers plus
// cgroup2 at /sys/fs/cgroup/unified), trimmed.
const hybridMountinfo = `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

const pureV2Mountinfo = `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

func TestChooseMount(t *testing.T) {
	for _, tc := range []struct {
		name, mountinfo, own string
		want                 mount
		unavailable          bool
	}{
		{"hybrid", hybridMountinfo, "/", mount{point: "/sys/fs/cgroup/unified", root: "/"}, false},
		{"pure v2 with optional fields", pureV2Mountinfo, "/user.slice/x.scope", mount{point: "/sys/fs/cgroup", root: "/"}, false},
		{"v1 only", "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n", "/", mount{}, true},
		{"read-only", "30 22 0:26 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 ro\n", "/", mount{}, true},
		{"read-only superblock", "30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 ro\n", "/", mount{}, true},
		{"escaped point, bind of a subtree", `30 22 0:26 /lxc/c1 /run/my\040cg rw - cgroup2 cgroup2 rw` + "\n",
			"/lxc/c1/init.scope", mount{point: "/run/my cg", root: "/lxc/c1"}, false},
		{"own cgroup outside the mounted subtree", `30 22 0:26 /lxc/c1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw` + "\n",
			"/lxc/c2", mount{}, true},
	} {
		got, err := chooseMount(cgroup2Mounts(tc.mountinfo), tc.own)
		if tc.unavailable {
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("%s: got %+v, %v; want ErrUnavailable", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	m := mount{point: "/run/my cg", root: "/lxc/c1"}
	if d := m.dir("/lxc/c1/system.slice"); d != "/run/my cg/system.slice" {
		t.Errorf("dir = %q", d)
	}
}

func TestV2Path(t *testing.T) {
	hybrid := "4:memory:/process_api/0e9c\n1:cpu:/\n0::/system.slice/a.service\n"
	if p, ok := v2Path(hybrid); !ok || p != "/system.slice/a.service" {
		t.Errorf("got %q %v", p, ok)
	}
	if _, ok := v2Path("1:cpu:/\n"); ok {
		t.Error("v1-only /proc/PID/cgroup gave a v2 path")
	}
}

func TestSlicePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                "system.slice",
		"system.slice":    "system.slice",
		"a-b.slice":       "a.slice/a-b.slice",
		"a-b-c.slice":     "a.slice/a-b.slice/a-b-c.slice",
		"-.slice":         "",
		"user-1000.slice": "user.slice/user-1000.slice",
		"machine.slice":   "machine.slice",
		"x.service":       "!",
		"a--b.slice":      "!",
		"-a.slice":        "!",
		"a/b.slice":       "!",
		".slice":          "!",
	} {
		got, err := slicePath(in)
		if want == "!" {
			if err == nil {
				t.Errorf("slicePath(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("slicePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestUnitNamesRoundTrip(t *testing.T) {
	for _, unit := range []string{"a.service", "_x.service", "cpu.service", "cgroup.procs", ".hidden"} {
		dir, err := escapeUnit(unit)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := unitFromPath("system.slice/" + dir + "/sub"); !ok || got != unit {
			t.Errorf("%q → %q → %q %v", unit, dir, got, ok)
		}
	}
	if d, _ := escapeUnit("cgroup.procs"); d != "_cgroup.procs" {
		t.Errorf("cgroup.procs escaped to %q", d)
	}
	for _, bad := range []string{"", ".", "..", "a/b"} {
		if _, err := escapeUnit(bad); err == nil {
			t.Errorf("escapeUnit(%q) accepted", bad)
		}
	}
	if _, ok := unitFromPath("system.slice"); ok {
		t.Error("a bare slice mapped to a unit")
	}
}

func TestBelow(t *testing.T) {
	for _, tc := range []struct {
		p, parent, rel string
		ok             bool
	}{
		{"/a/b", "/", "a/b", true},
		{"/a/b", "/a", "b", true},
		{"/a", "/a", "", true},
		{"/ab", "/a", "", false},
		{"/b", "/a", "", false},
	} {
		rel, ok := below(tc.p, tc.parent)
		if rel != tc.rel || ok != tc.ok {
			t.Errorf("below(%q, %q) = %q %v", tc.p, tc.parent, rel, ok)
		}
	}
}

func TestSettings(t *testing.T) {
	n := func(v uint64) *uint64 { return &v }
	rc := unitfile.ResourceControl{
		CPUWeight: n(200), CPUQuota: n(150), MemoryMin: n(1 << 20), MemoryLow: n(2 << 20),
		MemoryHigh: n(64 << 20), MemoryMax: n(unitfile.RlimInfinity), MemorySwapMax: n(0),
		TasksMax: n(42), IOWeight: n(300),
	}
	want := []setting{
		{"CPUWeight", "cpu", "cpu.weight", "200"},
		{"CPUQuota", "cpu", "cpu.max", "150000 100000"},
		{"MemoryMin", "memory", "memory.min", "1048576"},
		{"MemoryLow", "memory", "memory.low", "2097152"},
		{"MemoryHigh", "memory", "memory.high", "67108864"},
		{"MemoryMax", "memory", "memory.max", "max"},
		{"MemorySwapMax", "memory", "memory.swap.max", "0"},
		{"TasksMax", "pids", "pids.max", "42"},
		{"IOWeight", "io", "io.weight", "default 300"},
	}
	if got := settings(rc, false); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if got := settings(unitfile.ResourceControl{CPUQuota: n(0)}, false); got[0].value != "1000 100000" {
		t.Errorf("CPUQuota=0%% gave %q, want the kernel's 1ms minimum", got[0].value)
	}
	if got := settings(unitfile.ResourceControl{}, true); len(got) != 0 {
		t.Errorf("empty ResourceControl gave %v", got)
	}
	// StartupCPUWeight= replaces CPUWeight= while starting and stopping,
	// and only when set.
	rc = unitfile.ResourceControl{CPUWeight: n(100), StartupCPUWeight: n(1000)}
	if got := settings(rc, true); len(got) != 1 || got[0].value != "1000" || got[0].name != "StartupCPUWeight" {
		t.Errorf("startup: %v", got)
	}
	if got := settings(rc, false); len(got) != 1 || got[0].value != "100" {
		t.Errorf("after startup: %v", got)
	}
	if got := settings(unitfile.ResourceControl{CPUWeight: n(100)}, true); len(got) != 1 || got[0].value != "100" {
		t.Errorf("startup without StartupCPUWeight: %v", got)
	}
	rc = unitfile.ResourceControl{AllowedCPUs: []int{0, 1, 2, 5, 7, 8}, AllowedMemoryNodes: []int{0}}
	want = []setting{{"AllowedCPUs", "cpuset", "cpuset.cpus", "0-2,5,7-8"}, {"AllowedMemoryNodes", "cpuset", "cpuset.mems", "0"}}
	if got := settings(rc, false); !reflect.DeepEqual(got, want) {
		t.Errorf("cpuset: got %v, want %v", got, want)
	}
}
