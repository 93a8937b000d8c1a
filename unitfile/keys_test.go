package unitfile

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// manKeys lists the settings a man page documents ("Key=" at the start
// of a definition, including "A=, B=" lists).
func manKeys(t *testing.T, page string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "man "+page+" 2>/dev/null | col -b").Output()
	if err != nil || len(out) < 1000 {
		t.Skipf("man page %s not available", page)
	}
	def := regexp.MustCompile(`(?m)^ {7}[A-Z][A-Za-z0-9]+=.*$`)
	word := regexp.MustCompile(`\b([A-Z][A-Za-z0-9]+)=`)
	var keys []string
	for _, line := range def.FindAllString(string(out), -1) {
		for _, m := range word.FindAllStringSubmatch(line, -1) {
			keys = append(keys, m[1])
		}
	}
	return keys
}

// Every setting the man pages define for services and sockets is known:
// typed, or accepted as not enforced; none gets an unknown-key warning.
func TestKeysCoverManPages(t *testing.T) {
	known := func(section, key string) bool {
		if strings.HasPrefix(key, "Condition") || strings.HasPrefix(key, "Assert") {
			kind := strings.TrimPrefix(strings.TrimPrefix(key, "Condition"), "Assert")
			return conditionKinds[kind]
		}
		switch section {
		case "Unit":
			_, ok := unitKeys[key]
			_, inst := installKeys[key]
			return ok || inst || unitUnenforced[key]
		case "Service":
			_, ok := serviceKeys[key]
			_, ex := execKeys[key]
			return ok || ex || serviceUnenforced[key] || execUnenforced[key] || resourceUnenforced[key]
		case "Socket":
			_, ok := socketKeys[key]
			_, ex := execKeys[key]
			return ok || ex || socketUnenforced[key] || execUnenforced[key] || resourceUnenforced[key]
		case "Slice":
			_, applied, unenforced := resourceKey("slice", key)
			return applied || unenforced
		}
		return false
	}
	// Every resource-control key is taken by a slice too (applied or
	// named as not enforced).
	for _, k := range manKeys(t, "systemd.resource-control") {
		if !known("Slice", k) {
			t.Errorf("systemd.resource-control(5) documents %s=, unknown in [Slice]", k)
		}
	}
	pages := map[string]string{
		"systemd.unit": "Unit", "systemd.service": "Service", "systemd.socket": "Socket",
		"systemd.exec": "Service", "systemd.kill": "Service", "systemd.resource-control": "Service",
	}
	total := 0
	for page, section := range pages {
		for _, k := range manKeys(t, page) {
			total++
			// systemd.unit(5) also documents [Install], and its prose
			// names a few keys of other unit types.
			if page == "systemd.unit" && (k == "Service" || k == "Unit" || k == "ExecStart") {
				continue
			}
			if !known(section, k) {
				t.Errorf("%s(5) documents %s=, unknown in [%s]", page, k, section)
			}
		}
	}
	if total < 350 {
		t.Errorf("only %d keys found in the man pages", total)
	}
}
