package sockets

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gosd/unitfile"
)

func TestListenEnv(t *testing.T) {
	if got := ListenEnv(nil); got != nil {
		t.Errorf("no fds: %q", got)
	}
	got := ListenEnv([]string{"a.socket", "web", "web"})
	want := []string{"LISTEN_FDS=3", "LISTEN_FDNAMES=a.socket:web:web"}
	if !slices.Equal(got, want) {
		t.Errorf("%q", got)
	}
}

// TestListenEnvMatchesReference compares with systemd-socket-activate,
// which opens the sockets itself and prints the environment it passes.
func TestListenEnvMatchesReference(t *testing.T) {
	bin, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Fatalf("reference client missing: %v", err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.sock"), filepath.Join(dir, "b.sock")
	// It execs env on the first connection.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-l", a, "-l", b, "--fdname=one:two", "env")
	var buf bytes.Buffer
	cmd.Stdout = &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for {
		c, err := net.Dial("unix", b)
		if err == nil {
			c.Close()
			break
		}
		if ctx.Err() != nil {
			t.Fatal("systemd-socket-activate never listened")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	var ref []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "LISTEN_FDS=") || strings.HasPrefix(l, "LISTEN_FDNAMES=") {
			ref = append(ref, l)
		}
	}
	s := newSocketUnit(
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "unix", Path: a + "2", Pos: pos(1)},
		unitfile.Listen{Kind: unitfile.ListenStream, Family: "unix", Path: b + "2", Pos: pos(2)},
	)
	set := mustOpen(t, "x.socket", s)
	// --fdname gave the reference its names; a unit's come from Names().
	if got := ListenEnv([]string{"one", "two"}); !slices.Equal(got, ref) {
		t.Errorf("ours %q, reference %q", got, ref)
	}
	if got := ListenEnv(set.Names()); got[0] != ref[0] || got[1] != "LISTEN_FDNAMES=x.socket:x.socket" {
		t.Errorf("%q", got)
	}
}
