package control

import (
	"bytes"
	"os"
	"path/filepath"
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
	// A real file in the link directory is never replaced by mask.
	os.WriteFile(filepath.Join(etc, "local.service"), []byte("[Service]\n"), 0o644)
	run(1, "exists", "mask", "local")
}
