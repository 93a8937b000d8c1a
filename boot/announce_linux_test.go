package boot

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAnnounceMarkers(t *testing.T) {
	root := t.TempDir()
	// A link left where the container file goes is replaced, not followed.
	os.MkdirAll(filepath.Join(root, "run/systemd"), 0o755)
	victim := filepath.Join(root, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	os.Symlink(victim, filepath.Join(root, "run/systemd/container"))
	t.Setenv("container", "podman")
	if err := Announce(root, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(root, "run/systemd/system")); err != nil || !fi.IsDir() {
		t.Errorf("/run/systemd/system: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(root, "run/systemd/container"))
	if err != nil || string(got) != "podman\n" {
		t.Errorf("/run/systemd/container = %q, %v", got, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the link's target was written: %q", b)
	}
}

func TestContainerName(t *testing.T) {
	t.Setenv("container", "lxc")
	if got := ContainerName(); got != "lxc" {
		t.Errorf("$container=lxc: %q", got)
	}
	// Set but empty: the runtime says there is no container.
	t.Setenv("container", "")
	if got := ContainerName(); got != "" {
		t.Errorf("$container empty: %q", got)
	}
}
