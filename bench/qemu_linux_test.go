package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gosd/bench/spec"
)

// The trees booted in qemu are the generated ones, as unit files with
// DefaultDependencies=no and bench.target in place of default.target; the
// floor reads the same tree.
func TestQemuTreeFiles(t *testing.T) {
	files, err := qemuTreeFiles("dag", "notify", 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	tree := genTree("dag", "notify", 50, 1, qemuHelper)
	var got spec.Tree
	if err := json.Unmarshal([]byte(files["bench/spec.json"]), &got); err != nil || !reflect.DeepEqual(got, tree) {
		t.Fatalf("spec.json is not the generated tree (%v)", err)
	}
	units := 0
	for name, body := range files {
		if !strings.HasPrefix(name, "etc/systemd/system/") {
			continue
		}
		units++
		if !strings.HasPrefix(body, "[Unit]\nDefaultDependencies=no\n") || strings.Count(body, "DefaultDependencies=") != 1 {
			t.Errorf("%s: want exactly one DefaultDependencies=no at the top of [Unit]:\n%s", name, body)
		}
	}
	if units != 50+2 || files["etc/systemd/system/default.target"] != "" {
		t.Fatalf("%d unit files (want 50 services, bench.target, bench-report.service)", units)
	}
	target := files["etc/systemd/system/bench.target"]
	for _, want := range []string{"Wants=bench-report.service\n", "AllowIsolate=yes\n", "Wants=b0000.service ", " b0049.service\nAfter=b0000.service "} {
		if !strings.Contains(target, want) {
			t.Errorf("bench.target lacks %q:\n%s", want, target)
		}
	}
	if r := files["etc/systemd/system/bench-report.service"]; !strings.Contains(r, "After=bench.target\n") || !strings.Contains(r, "ExecStart=/usr/local/sbin/bench-report\n") {
		t.Errorf("bench-report.service:\n%s", r)
	}
	if s := files["etc/systemd/system/b0007.service"]; !strings.Contains(s, "ExecStart="+qemuHelper+" notify\n") {
		t.Errorf("b0007.service does not run the helper:\n%s", s)
	}
	if !strings.Contains(files["sbin/bench-floor-init"], qemuFloor+" /bench/spec.json ") {
		t.Errorf("the floor's init does not run the floor on the tree:\n%s", files["sbin/bench-floor-init"])
	}
}

func TestSpliceSection(t *testing.T) {
	md := "# t\n\n## A\na\n## Peers in qemu: x\nold\n## PID1 peers\np\n"
	if got := spliceSection(md, qemuHeading, pid1Heading, "## Peers in qemu: y\nnew\n"); got != "# t\n\n## A\na\n## Peers in qemu: y\nnew\n## PID1 peers\np\n" {
		t.Errorf("replace: %q", got)
	}
	md = "# t\n\n## A\na\n## PID1 peers\np\n"
	if got := spliceSection(md, qemuHeading, pid1Heading, "## Peers in qemu: y\n"); got != "# t\n\n## A\na\n## Peers in qemu: y\n## PID1 peers\np\n" {
		t.Errorf("insert: %q", got)
	}
	if got := spliceSection("## Peers in qemu\nold\n", qemuHeading, pid1Heading, "## Peers in qemu\nnew\n"); got != "## Peers in qemu\nnew\n" {
		t.Errorf("last section: %q", got)
	}
}

// A merge replaces the boots of the same tree and init, keeps the others
// (each stamped with the commit and date of the run it came from), adds
// new trees in the table's order, and the section says which boots come
// from which commit.
func TestMergeQemu(t *testing.T) {
	boot := func(tree, init string, up float64) qemuBoot {
		return qemuBoot{Tree: tree, Init: init, Uptime: up, PID1: 50}
	}
	old := &qemuMeta{Date: "2026-12-07 21:59-23:03 UTC", Commit: "aaaa", Command: "go run ./bench -qemu", Runs: 1,
		QemuArgs: []string{"-icount", "shift=0,sleep=off"}, Cmdline: map[string]string{"all": "quiet"},
		Trees: []string{"flat-simple-100", "flat-simple-1000"},
		Boots: []qemuBoot{boot("flat-simple-100", "floor", 2), boot("flat-simple-100", "systemd", 3), boot("flat-simple-100", "gosd", 2.5),
			boot("flat-simple-1000", "floor", 3), boot("flat-simple-1000", "systemd", 18), boot("flat-simple-1000", "gosd", 0)},
		Notes: []string{"by hand"}}
	old.Boots[5].Error = "too many open files"
	oldJSON, _ := json.Marshal(old)
	add := &qemuMeta{Date: "2026-12-08 02:15 UTC", Commit: "bbbb", Command: "go run ./bench -qemu -qemu-merge", Runs: 1,
		QemuArgs: old.QemuArgs, Cmdline: map[string]string{"all": "quiet"}, LoadBefore: "1", LoadAfter: "2",
		Trees: []string{"flat-notify-1000", "flat-simple-1000", "flat-simple-100"},
		Boots: []qemuBoot{boot("flat-notify-1000", "gosd", 4), boot("flat-simple-1000", "gosd", 4.2), boot("flat-simple-100", "gosd", 2.2)}}
	add.Boots[0].Date = "2026-12-08 02:40 UTC" // recorded by the boot itself
	m, err := mergeQemu(old, add)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(old); string(again) != string(oldJSON) {
		t.Errorf("the merge changed the old results:\n%s\n%s", oldJSON, again)
	}
	if want := []string{"flat-simple-100", "flat-simple-1000", "flat-notify-1000"}; !reflect.DeepEqual(m.Trees, want) {
		t.Errorf("trees %v, want %v", m.Trees, want)
	}
	var got []string
	for _, b := range m.Boots {
		got = append(got, fmt.Sprintf("%s %s %g %s %s %q", b.Tree, b.Init, b.Uptime, b.Commit, b.Date, b.Error))
	}
	want := []string{
		`flat-simple-100 floor 2 aaaa 2026-12-07 21:59-23:03 UTC ""`,
		`flat-simple-100 systemd 3 aaaa 2026-12-07 21:59-23:03 UTC ""`,
		`flat-simple-100 gosd 2.2 bbbb 2026-12-08 02:15 UTC ""`,
		`flat-simple-1000 floor 3 aaaa 2026-12-07 21:59-23:03 UTC ""`,
		`flat-simple-1000 systemd 18 aaaa 2026-12-07 21:59-23:03 UTC ""`,
		`flat-simple-1000 gosd 4.2 bbbb 2026-12-08 02:15 UTC ""`,
		`flat-notify-1000 gosd 4 bbbb 2026-12-08 02:40 UTC ""`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("boots:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m.Commit != "aaaa" || len(m.Notes) != 1 || len(m.Merges) != 1 ||
		m.Merges[0] != "2026-12-08 02:15 UTC, commit bbbb: `go run ./bench -qemu -qemu-merge` booted gosd on flat-notify-1000, flat-simple-1000, flat-simple-100 (host load before 1, after 2)" {
		t.Errorf("meta after the merge: commit %q, notes %q, merges %q", m.Commit, m.Notes, m.Merges)
	}
	wantOrigins := []string{
		"floor and systemd boots: 2026-12-07 21:59-23:03 UTC, commit aaaa (2 trees)",
		"gosd boots: 2026-12-08 02:15-02:40 UTC, commit bbbb (3 trees)",
	}
	if o := m.bootOrigins(); !reflect.DeepEqual(o, wantOrigins) {
		t.Errorf("origins:\n%s\nwant:\n%s", strings.Join(o, "\n"), strings.Join(wantOrigins, "\n"))
	}

	// Merged again, systemd on one tree only: its origins split.
	m2, err := mergeQemu(m, &qemuMeta{Date: "2026-12-08 03:00 UTC", Commit: "cccc", QemuArgs: old.QemuArgs, Cmdline: old.Cmdline,
		Trees: []string{"flat-notify-1000"}, Boots: []qemuBoot{boot("flat-notify-1000", "systemd", 20)}})
	if err != nil {
		t.Fatal(err)
	}
	wantOrigins = []string{
		"floor boots: 2026-12-07 21:59-23:03 UTC, commit aaaa (2 trees)",
		"systemd boots: 2026-12-07 21:59-23:03 UTC, commit aaaa (the other 2 trees); 2026-12-08 03:00 UTC, commit cccc (flat-notify-1000)",
		"gosd boots: 2026-12-08 02:15-02:40 UTC, commit bbbb (3 trees)",
	}
	if o := m2.bootOrigins(); !reflect.DeepEqual(o, wantOrigins) {
		t.Errorf("origins:\n%s\nwant:\n%s", strings.Join(o, "\n"), strings.Join(wantOrigins, "\n"))
	}

	// The section: the rows use the merged boots, say where they come from
	// and list the merges.
	sec := m2.section(t.TempDir())
	for _, s := range []string{
		"- First run: 2026-12-07 21:59-23:03 UTC; commit aaaa; `go run ./bench -qemu`\n",
		"  - 2026-12-08 02:15 UTC, commit bbbb: `go run ./bench -qemu -qemu-merge` booted gosd on ",
		"- systemd boots: 2026-12-07 21:59-23:03 UTC, commit aaaa (the other 2 trees); 2026-12-08 03:00 UTC, commit cccc (flat-notify-1000)\n",
		"| flat | simple | 1000 | 1/1/1 | 3.00 | 18.00 | 4.20 | 15.00 | 1.20 | 0.08 | met |",
		"| flat-simple-1000 | 0 | 1 | gosd | 4.20 | 50 | 0 / 0 |  |  | 2048 | bbbb | 2026-12-08 02:15 UTC |",
	} {
		if !strings.Contains(sec, s) {
			t.Errorf("the section lacks %q:\n%s", s, sec)
		}
	}
	if strings.Contains(sec, "too many open files") {
		t.Errorf("the replaced failed boot is still in the section:\n%s", sec)
	}

	// Boots measured with another clock are not merged.
	if _, err := mergeQemu(m, &qemuMeta{Cmdline: old.Cmdline, Boots: add.Boots}); err == nil {
		t.Error("merged boots without -icount into boots with it")
	}
	if _, err := mergeQemu(m, &qemuMeta{QemuArgs: old.QemuArgs, Boots: add.Boots}); err == nil {
		t.Error("merged boots without quiet into boots with it")
	}
}

func TestDateRange(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"2026-12-08 02:15 UTC"}, "2026-12-08 02:15 UTC"},
		{[]string{"2026-12-08 02:15 UTC", "2026-12-08 02:49 UTC"}, "2026-12-08 02:15-02:49 UTC"},
		{[]string{"2026-12-07 23:15 UTC", "2026-12-08 00:49 UTC"}, "2026-12-07 23:15 UTC to 2026-12-08 00:49 UTC"},
		{[]string{"2026-12-07 21:59-23:03 UTC", "2026-12-08 00:49 UTC"}, "2026-12-07 21:59-23:03 UTC to 2026-12-08 00:49 UTC"},
	} {
		if got := dateRange(c.in); got != c.want {
			t.Errorf("dateRange(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The floor's init runs the report as "floor" only after the floor's "all
// up"; a floor that ends without it (killed for memory) reports as
// floor-failed, which the boot test counts as a failed boot.
func TestQemuFloorInit(t *testing.T) {
	for _, c := range []struct{ floor, want string }{
		{"echo 'floor: all up'; sleep 0.1", "report floor\n"},
		{"exit 137", "report floor-failed\n"},
		{"echo 'floor: b0001.service failed'", "report floor-failed\n"},
	} {
		dir := t.TempDir()
		fake := func(name, body string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}
		script := strings.Replace(qemuFloorInit, "mount -t proc proc /proc\n", "", 1)
		script = strings.ReplaceAll(script, qemuFloor, fake("floor", c.floor))
		script = strings.ReplaceAll(script, "/usr/local/sbin/bench-report", fake("report", `echo report "$@"`))
		out, err := exec.Command("sh", "-c", script).CombinedOutput()
		if err != nil || string(out) != c.want {
			t.Errorf("floor %q: %q (%v), want %q", c.floor, out, err, c.want)
		}
	}
}

// Boots of one tree at different guest memory sizes are not merged.
func TestMergeQemuMemory(t *testing.T) {
	args := []string{"-icount", "shift=0,sleep=off"}
	old := &qemuMeta{QemuArgs: args, Trees: []string{"flat-notify-1000"},
		Boots: []qemuBoot{{Tree: "flat-notify-1000", Init: "floor"}, {Tree: "flat-notify-1000", Init: "systemd"}}}
	if _, err := mergeQemu(old, &qemuMeta{QemuArgs: args, Trees: old.Trees,
		Boots: []qemuBoot{{Tree: "flat-notify-1000", Init: "gosd", Memory: 8192}}}); err == nil {
		t.Error("merged a boot with 8 GiB beside boots with 2 GiB")
	}
	m, err := mergeQemu(old, &qemuMeta{QemuArgs: args, Trees: old.Trees,
		Boots: []qemuBoot{{Tree: "flat-notify-1000", Init: "floor", Memory: 8192}, {Tree: "flat-notify-1000", Init: "systemd", Memory: 8192}}})
	if err != nil || len(m.Boots) != 2 || m.Boots[0].Memory != 8192 {
		t.Errorf("every init of the tree booted again at 8 GiB: %v, %+v", err, m)
	}
	if qemuTreeMemory("notify", 100) != 2048 || qemuTreeMemory("simple", 1000) != 2048 || qemuTreeMemory("notify", 1000) != 8192 {
		t.Error("qemuTreeMemory: the trees booted at 2 GiB must stay at 2 GiB")
	}
}
