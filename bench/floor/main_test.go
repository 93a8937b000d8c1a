//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/bench/spec"
)

// TestStopReverseOrder runs the floor on small trees whose services log
// their SIGTERM, and checks that every service heard it only after every
// service ordered After= it (which logs before it exits).
func TestStopReverseOrder(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "floor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for name, after := range map[string][][]int{
		"chain": {nil, {0}, {1}, {2}, {3}},
		// 3 after 1 and 2, both after 0; 4 unordered; 5 after 4 and 0.
		"dag": {nil, {0}, {0}, {1, 2}, nil, {4, 0}},
	} {
		t.Run(name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "stopped")
			var tree spec.Tree
			for i, a := range after {
				// The trap runs between two short sleeps: the log line
				// is written before the service exits; "armed" says the
				// trap is set (a SIGTERM before it would go unlogged).
				script := fmt.Sprintf("trap 'echo %d >> %s; exit 0' TERM; echo %d >> %s.armed; while :; do sleep 0.02; done", i, log, i, log)
				tree.Services = append(tree.Services, spec.Service{Name: fmt.Sprint(i), Type: "simple",
					Argv: []string{"/bin/sh", "-c", script}, After: a})
			}
			data, _ := json.Marshal(tree)
			specPath := filepath.Join(t.TempDir(), "spec.json")
			if err := os.WriteFile(specPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, specPath, filepath.Join(t.TempDir(), "n.sock"))
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || line != "floor: all up\n" {
				t.Fatalf("first line %q, %v", line, err)
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				b, _ := os.ReadFile(log + ".armed")
				if len(strings.Fields(string(b))) == len(after) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("services armed: %q", b)
				}
			}
			cmd.Process.Signal(syscall.SIGTERM)
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("floor: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the floor did not exit after SIGTERM")
			}
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			order := strings.Fields(string(b))
			if len(order) != len(after) {
				t.Fatalf("stopped %v, want every one of %d services once", order, len(after))
			}
			for i, a := range after {
				for _, p := range a {
					if slices.Index(order, fmt.Sprint(i)) > slices.Index(order, fmt.Sprint(p)) {
						t.Errorf("stop order %v: %d (After=%d) stopped after %d", order, i, p, p)
					}
				}
			}
		})
	}
}
