package main

import (
	"encoding/json"
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
