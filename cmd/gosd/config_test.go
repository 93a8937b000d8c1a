package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gosd/boot"
	"gosd/unitfile"
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

// TestLogSocketsLeftToEnabledUnits: as PID1 gosd serves /dev/log and the
// native socket, except a path an enabled socket unit provides (listening
// there or linking it, as systemd-journald-dev-log.socket links /dev/log);
// a unit that is only there (static, not pulled in) does not keep gosd off.
func TestLogSocketsLeftToEnabledUnits(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("systemd-journald-dev-log.socket", "[Socket]\nListenDatagram=/run/systemd/journal/dev-log\nSymlinks=/dev/log\n")
	write("other.socket", "[Socket]\nListenDatagram=/run/systemd/journal/socket\n")
	os.MkdirAll(filepath.Join(dir, "sockets.target.wants"), 0o755)
	os.Symlink("../systemd-journald-dev-log.socket", filepath.Join(dir, "sockets.target.wants", "systemd-journald-dev-log.socket"))
	units := unitfile.Load(unitfile.Options{SearchPath: []string{dir}})
	s, err := LogConfig{}.settings(true, units, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.syslogPath != "" || s.native != DefaultJournalSocket {
		t.Fatalf("syslog %q native %q: want /dev/log left to the enabled unit, the native socket served", s.syslogPath, s.native)
	}
	if len(s.notes) != 1 || !strings.Contains(s.notes[0], "systemd-journald-dev-log.socket") {
		t.Fatalf("notes %q", s.notes)
	}
	if want := !boot.InContainer(); s.readKmsg != want {
		t.Errorf("journald's native socket not provided: reading the kernel's log %v, want %v", s.readKmsg, want)
	}
	// Once the native socket is journald's too, so is the kernel's log
	// (kernel = auto); kernel = yes keeps gosd reading it.
	os.Symlink("../other.socket", filepath.Join(dir, "sockets.target.wants", "other.socket"))
	units = unitfile.Load(unitfile.Options{SearchPath: []string{dir}})
	s, err = LogConfig{}.settings(true, units, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.native != "" || s.readKmsg || !boot.InContainer() && (len(s.notes) != 3 || !strings.Contains(s.notes[2], "leaves the kernel's log")) {
		t.Errorf("native socket provided: native %q, reading the kernel's log %v, notes %q", s.native, s.readKmsg, s.notes)
	}
	if s, _ := (LogConfig{Kernel: "yes"}).settings(true, units, []string{dir}); !s.readKmsg {
		t.Error("kernel = yes: the kernel's log is not read")
	}
	if s, _ := (LogConfig{}).settings(false, units, []string{dir}); s.syslogPath != "" || s.native != "" {
		t.Fatal("not PID1: gosd served log sockets without listen = yes")
	}
	for _, bad := range []LogConfig{{Storage: "disk"}, {Listen: "maybe"}, {MaxUse: "lots"}, {MaxFiles: 1}, {Directory: "rel"}, {RateLimitInterval: "x"}, {Kernel: "maybe"}} {
		if _, err := bad.settings(true, units, nil); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
