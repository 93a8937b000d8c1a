package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gosd verify checks a template as the instance "i" (as systemd-analyze
// verify does): a setting gosd would not apply is named for it, whether
// the template is given by file or in a directory, and --json still lists
// loadable units only.
func TestVerifyNamesTemplateSettings(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"web@.service":  "[Service]\nExecStart=/bin/echo %i\nTimerSlackNSec=50\n",
		"plain.service": "[Service]\nExecStart=/bin/true\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := "web@i.service: note: TimerSlackNSec= (" + filepath.Join(dir, "web@.service") + ":3) is not enforced by gosd"
	for _, arg := range []string{dir, filepath.Join(dir, "web@.service")} {
		cmd := exec.Command(gosdBin, "verify", "--json", arg)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || !strings.Contains(stderr.String(), want) {
			t.Errorf("gosd verify %s: %v\n%s", arg, err, stderr.String())
		}
		if strings.Contains(string(out), "web@") {
			t.Errorf("gosd verify --json %s lists the template:\n%s", arg, out)
		}
	}
}
