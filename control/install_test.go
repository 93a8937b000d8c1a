package control

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestUnitFilesOffline runs enable, disable, reenable, mask, unmask,
// is-enabled and list-unit-files through the real client on a temporary
// unit path, with no gosd running.
func TestUnitFilesOffline(t *testing.T) {
	dir := t.TempDir()
	etc, vendor := filepath.Join(dir, "etc"), filepath.Join(dir, "lib")
	os.MkdirAll(vendor, 0o755)
	write := func(name, text string) {
		os.WriteFile(filepath.Join(vendor, name), []byte(text), 0o644)
	}
	write("app.service", "[Unit]\nDescription=App\n[Install]\nWantedBy=multi-user.target\nRequiredBy=x.target\nAlias=application.service\nAlso=helper.socket\n")
	write("helper.socket", "[Socket]\nListenStream=/run/h.sock\n[Install]\nWantedBy=sockets.target\n")
	write("static.service", "[Service]\nExecStart=/bin/true\n")
	write("tpl@.service", "[Install]\nWantedBy=multi-user.target\nDefaultInstance=one\n")

	run := func(code int, want string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		c := Main("gosdctl", append([]string{"--socket", filepath.Join(dir, "none.sock"),
			"--unit-path", etc, "--unit-path", vendor}, args...), &out, &errb)
		if c != code || !strings.Contains(out.String()+errb.String(), want) {
			t.Errorf("gosdctl %v: exit %d (want %d) out %q err %q, want %q", args, c, code, out.String(), errb.String(), want)
		}
		return out.String()
	}
	link := func(p string) string {
		t.Helper()
		target, _ := os.Readlink(filepath.Join(etc, p))
		return target
	}

	run(1, "disabled", "is-enabled", "app")
	run(0, "static", "is-enabled", "static")
	run(1, "Failed to get unit file state for nope.service: No such file or directory", "is-enabled", "nope")
	run(0, "Created symlink "+etc+"/multi-user.target.wants/app.service → "+vendor+"/app.service.", "enable", "app")
	for p, want := range map[string]string{
		"multi-user.target.wants/app.service": vendor + "/app.service",
		"x.target.requires/app.service":       vendor + "/app.service",
		"application.service":                 vendor + "/app.service",
		"sockets.target.wants/helper.socket":  vendor + "/helper.socket",
	} {
		if got := link(p); got != want {
			t.Errorf("after enable, %s → %q, want %q", p, got, want)
		}
	}
	run(0, "enabled", "is-enabled", "app")
	run(0, "enabled", "is-enabled", "helper.socket")
	run(0, "alias", "is-enabled", "application")
	out := run(0, "app.service", "list-unit-files")
	if !strings.Contains(out, "static.service") || !strings.Contains(out, "unit files listed") {
		t.Errorf("list-unit-files:\n%s", out)
	}
	run(0, "", "enable", "tpl@")
	if got := link("multi-user.target.wants/tpl@one.service"); got != vendor+"/tpl@.service" {
		t.Errorf("template enable → %q", got)
	}
	run(0, "Removed", "disable", "app")
	for _, p := range []string{"multi-user.target.wants/app.service", "application.service", "sockets.target.wants/helper.socket"} {
		if _, err := os.Lstat(filepath.Join(etc, p)); err == nil {
			t.Errorf("disable left %s", p)
		}
	}
	run(1, "disabled", "is-enabled", "app")
	run(0, "Created symlink", "reenable", "app")
	run(0, "enabled", "is-enabled", "app")

	run(0, "Created symlink "+etc+"/static.service → /dev/null.", "mask", "static")
	run(1, "masked", "is-enabled", "static")
	run(1, "masked", "enable", "static")
	run(0, "Removed", "unmask", "static")
	run(0, "static", "is-enabled", "static")
	run(4, "does not exist", "enable", "nope")
	run(1, "not supported", "enable", "../../etc/app.service")
	// A real file in the link directory is never replaced by mask.
	os.WriteFile(filepath.Join(etc, "local.service"), []byte("[Service]\n"), 0o644)
	run(1, "exists", "mask", "local")
}

// TestUnitFilesRootAliasForce: --root links name files as the system
// below the root sees them; enabling an alias enables the unit it names;
// a link in the way is replaced only with --force; set-default and
// get-default; is-enabled --full lists the links.
func TestUnitFilesRootAliasForce(t *testing.T) {
	root := t.TempDir()
	vendor := filepath.Join(root, "lib/systemd/system")
	etc := filepath.Join(root, "etc/systemd/system")
	os.MkdirAll(vendor, 0o755)
	os.WriteFile(filepath.Join(vendor, "app.service"), []byte("[Install]\nWantedBy=multi-user.target\nAlias=application.service\n"), 0o644)
	os.WriteFile(filepath.Join(vendor, "multi-user.target"), []byte("[Unit]\n"), 0o644)
	os.WriteFile(filepath.Join(vendor, "graphical.target"), []byte("[Unit]\n"), 0o644)
	run := func(code int, want string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		c := Main("systemctl", append([]string{"--socket", filepath.Join(root, "none.sock"), "--root", root}, args...), &out, &errb)
		if c != code || !strings.Contains(out.String()+errb.String(), want) {
			t.Errorf("systemctl --root %v: exit %d (want %d) out %q err %q, want %q", args, c, code, out.String(), errb.String(), want)
		}
		return out.String()
	}
	link := func(p string) string {
		target, _ := os.Readlink(filepath.Join(etc, p))
		return target
	}

	run(0, "Created symlink "+etc+"/multi-user.target.wants/app.service → /lib/systemd/system/app.service.", "enable", "app")
	if got := link("application.service"); got != "/lib/systemd/system/app.service" {
		t.Errorf("alias link holds %q, want the path below the root", got)
	}
	// The alias is enabled through the unit it names: no link to itself.
	run(0, "", "disable", "app")
	os.Symlink("/lib/systemd/system/app.service", filepath.Join(etc, "application.service"))
	run(0, "Created symlink", "enable", "application")
	if got := link("multi-user.target.wants/app.service"); got != "/lib/systemd/system/app.service" {
		t.Errorf("enable through the alias: %q", got)
	}
	if got := link("multi-user.target.wants/application.service"); got != "" {
		t.Errorf("enable through the alias linked the alias: %q", got)
	}
	out := run(0, "enabled", "is-enabled", "--full", "app")
	if !strings.Contains(out, "  "+etc+"/multi-user.target.wants/app.service") {
		t.Errorf("is-enabled --full:\n%s", out)
	}

	// A link in the way: refused, then replaced with --force.
	os.Remove(filepath.Join(etc, "multi-user.target.wants/app.service"))
	os.Symlink("/elsewhere/app.service", filepath.Join(etc, "multi-user.target.wants/app.service"))
	run(1, "--force", "enable", "app")
	if got := link("multi-user.target.wants/app.service"); got != "/elsewhere/app.service" {
		t.Errorf("a refused enable changed the link: %q", got)
	}
	run(0, "Created symlink", "enable", "--force", "app")
	if got := link("multi-user.target.wants/app.service"); got != "/lib/systemd/system/app.service" {
		t.Errorf("enable --force: %q", got)
	}

	// --runtime: links below /run, gone at the next boot.
	run(0, "", "disable", "app")
	run(0, "Created symlink "+filepath.Join(root, "run/systemd/system/multi-user.target.wants/app.service")+" → /lib/systemd/system/app.service.", "enable", "--runtime", "app")
	if _, err := os.Lstat(filepath.Join(etc, "multi-user.target.wants/app.service")); err == nil {
		t.Errorf("enable --runtime linked in /etc")
	}
	if out := run(0, "enabled-runtime", "is-enabled", "app"); out != "enabled-runtime\n" {
		t.Errorf("is-enabled after enable --runtime: %q", out)
	}
	run(0, "Removed", "disable", "--runtime", "app")
	run(0, "Created symlink", "enable", "app")

	run(1, "Failed to get default target", "get-default")
	run(0, "Created symlink "+etc+"/default.target → /lib/systemd/system/graphical.target.", "set-default", "graphical")
	run(0, "graphical.target", "get-default")
	run(0, "Removed", "set-default", "multi-user.target")
	run(0, "multi-user.target", "get-default")
}

func TestUnsupportedFlagsRefused(t *testing.T) {
	for _, args := range [][]string{{"-H", "host", "status"}, {"-M", "box", "status"}, {"--user", "status"}} {
		var out, errb bytes.Buffer
		if c := Main("systemctl", args, &out, &errb); c != 1 || !strings.Contains(errb.String(), "not supported") {
			t.Errorf("%v: exit %d, stderr %q", args, c, errb.String())
		}
	}
}

// TestPresets: systemd.preset(5) below --root: the first matching line of
// the files in name order wins (a file in /etc hides its namesake in
// /lib), an instance matches by its template, no match means enabled;
// list-unit-files shows "-" for static units.
func TestPresets(t *testing.T) {
	root := t.TempDir()
	vendor := filepath.Join(root, "lib/systemd/system")
	os.MkdirAll(vendor, 0o755)
	for _, n := range []string{"a.service", "b.service", "c.service", "getty@.service"} {
		os.WriteFile(filepath.Join(vendor, n), []byte("[Install]\nWantedBy=multi-user.target\n"), 0o644)
	}
	os.WriteFile(filepath.Join(vendor, "static.service"), []byte("[Service]\nExecStart=/bin/true\n"), 0o644)
	lib := filepath.Join(root, "lib/systemd/system-preset")
	etc := filepath.Join(root, "etc/systemd/system-preset")
	os.MkdirAll(lib, 0o755)
	os.MkdirAll(etc, 0o755)
	os.WriteFile(filepath.Join(lib, "90-default.preset"), []byte("# vendor\nenable getty@.service\ndisable *\n"), 0o644)
	os.WriteFile(filepath.Join(lib, "50-local.preset"), []byte("enable a.service\n"), 0o644)
	// The admin's 50-local.preset replaces the vendor's.
	os.WriteFile(filepath.Join(etc, "50-local.preset"), []byte("enable b.service\n"), 0o644)
	set := NewUnitFileSet(root, nil)
	for name, want := range map[string]string{"a.service": "disabled", "b.service": "enabled",
		"c.service": "disabled", "getty@tty1.service": "enabled"} {
		if got := set.Preset(name); got != want {
			t.Errorf("preset of %s: %s, want %s", name, got, want)
		}
	}
	if got := NewUnitFileSet(t.TempDir(), nil).Preset("x.service"); got != "enabled" {
		t.Errorf("without preset files: %s, want enabled", got)
	}
	var out, errb bytes.Buffer
	Main("systemctl", []string{"--socket", filepath.Join(root, "none.sock"), "--root", root, "list-unit-files"}, &out, &errb)
	for _, re := range []string{`(?m)^UNIT FILE +STATE +PRESET$`, `(?m)^b\.service +disabled +enabled$`, `(?m)^static\.service +static +-$`} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("list-unit-files lacks %s:\n%s", re, out.String())
		}
	}
}

// A unit linked from a .wants directory is enabled, its name escaped or
// not (a backslash in it is no pattern escape), and not because another
// unit's link is there.
func TestStateEnabledByLink(t *testing.T) {
	dir := t.TempDir()
	vendor := filepath.Join(dir, "lib")
	os.MkdirAll(filepath.Join(vendor, "getty.target.wants"), 0o755)
	os.MkdirAll(filepath.Join(vendor, "sockets.target.requires"), 0o755)
	for _, name := range []string{`serial\x2dgetty@ttyS0.service`, "log.socket", "other.socket"} {
		os.WriteFile(filepath.Join(vendor, name), []byte("[Unit]\n"), 0o644)
	}
	os.Symlink("../"+`serial\x2dgetty@ttyS0.service`, filepath.Join(vendor, "getty.target.wants", `serial\x2dgetty@ttyS0.service`))
	os.Symlink("../log.socket", filepath.Join(vendor, "sockets.target.requires", "log.socket"))
	// A file, not a directory, under a .wants name: nothing is in it.
	os.WriteFile(filepath.Join(vendor, "x.wants"), nil, 0o644)
	s := NewUnitFileSet("", []string{filepath.Join(dir, "etc"), vendor})
	for name, want := range map[string]string{
		`serial\x2dgetty@ttyS0.service`: "enabled",
		"log.socket":                    "enabled",
		"other.socket":                  "static",
	} {
		if got := s.State(name); got != want {
			t.Errorf("State(%s) = %q, want %q", name, got, want)
		}
	}
}
