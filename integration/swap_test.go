package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gosd/unitfile"
)

// A swap unit on gosd as PID1: swapon at start (a 16 MiB swap file in the
// test's directory, with its priority), active in /proc/swaps, swapoff at
// the end. Swap is machine-wide: the file is the test's own, and the
// cleanup turns it off should gosd not.
func TestSwapUnitAsPID1(t *testing.T) {
	needRoot(t)
	for _, tool := range []string{"mkswap", "swapon", "swapoff"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	file := filepath.Join(t.TempDir(), "swapfile")
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// Written, not truncated: swapon refuses files with holes.
	if _, err := f.Write(make([]byte, 16<<20)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := exec.Command("mkswap", file).CombinedOutput(); err != nil {
		t.Fatalf("mkswap: %v %s", err, out)
	}
	t.Cleanup(func() {
		if inSwaps(file) {
			exec.Command("swapoff", file).Run()
		}
	})
	name, err := unitfile.EscapePath(file)
	if err != nil {
		t.Fatal(err)
	}
	name += ".swap"
	in := start(t, asPID1, map[string]string{
		"default.target": "[Unit]\nWants=" + name + "\n",
		name:             "[Swap]\nWhat=" + file + "\nPriority=3\n",
	})
	in.waitOutput("Reached target default.target", 20*time.Second)
	if v := showValue(t, in, name, "ActiveState"); v != "active" {
		t.Fatalf("%s %s\n%s", name, v, in.out.String())
	}
	if !inSwaps(file) {
		t.Fatalf("%s not in /proc/swaps", file)
	}
	b, _ := os.ReadFile("/proc/swaps")
	if !strings.Contains(string(b), "\t3\n") && !strings.Contains(string(b), " 3\n") {
		t.Errorf("priority 3 not set:\n%s", b)
	}
	if code := in.stop(20 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, in.out.String())
	}
	if inSwaps(file) {
		t.Fatalf("%s still in use as swap after gosd stopped", file)
	}
}

func inSwaps(file string) bool {
	b, _ := os.ReadFile("/proc/swaps")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == file {
			return true
		}
	}
	return false
}
