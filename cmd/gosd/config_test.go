package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", "unit_path = [\"/a\", \"/b\"]\ntarget = \"multi-user.target\"\n")
	cfg, err := loadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Target != "multi-user.target" || strings.Join(cfg.UnitPath, ",") != "/a,/b" {
		t.Fatalf("got %+v", cfg)
	}
	if cfg.ControlSocket != builtinConfig.ControlSocket {
		t.Fatalf("default control socket lost: %q", cfg.ControlSocket)
	}

	if _, err := loadConfig(write("typo.toml", "targte = \"x\"\n")); err == nil || !strings.Contains(err.Error(), "targte") {
		t.Fatalf("typo not reported: %v", err)
	}
	if _, err := loadConfig(write("bad.toml", "target = \n")); err == nil {
		t.Fatal("syntax error not reported")
	}
	if _, err := loadConfig(filepath.Join(dir, "missing.toml")); err == nil {
		t.Fatal("explicit missing config accepted")
	}
}

func TestPrivateBusSocketDefault(t *testing.T) {
	for _, c := range []struct {
		set  string
		pid1 bool
		want string
	}{
		{"", true, DefaultPrivateBusSocket},
		{"", false, ""}, // beside a real systemd: never its socket
		{"-", true, ""},
		{"/tmp/x", false, "/tmp/x"},
	} {
		if got := (Config{PrivateBusSocket: c.set}).privateBusSocket(c.pid1); got != c.want {
			t.Errorf("private_bus_socket %q, pid1 %v: %q, want %q", c.set, c.pid1, got, c.want)
		}
	}
}
