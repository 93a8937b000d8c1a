package control

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// This file is systemd.preset(5): the policy that says whether a unit is
// enabled by default, which list-unit-files shows in its PRESET column and
// UnitFilePreset= carries.

// presetDirs are the system preset directories, highest priority first.
var presetDirs = []string{
	"/etc/systemd/system-preset",
	"/run/systemd/system-preset",
	"/usr/local/lib/systemd/system-preset",
	"/usr/lib/systemd/system-preset",
	"/lib/systemd/system-preset",
}

// presetRule is one "enable PATTERN" or "disable PATTERN" line.
type presetRule struct {
	enable  bool
	pattern string
}

// presetRules reads the preset files below root: every *.preset name once
// (the first directory that has it wins; a link to /dev/null masks it),
// in the lexicographic order of the names, each file's lines in order.
func presetRules(root string) []presetRule {
	files := map[string]string{}
	for _, d := range presetDirs {
		entries, _ := os.ReadDir(filepath.Join(root, d))
		for _, e := range entries {
			n := e.Name()
			if _, seen := files[n]; !seen && strings.HasSuffix(n, ".preset") {
				files[n] = filepath.Join(root, d, n)
			}
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var rules []presetRule
	for _, n := range names {
		if isMaskLink(files[n]) {
			continue
		}
		data, err := readLimited(files[n], 1<<20)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader([]byte(data)))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
				continue
			}
			switch f[0] {
			case "enable":
				rules = append(rules, presetRule{true, f[1]})
			case "disable":
				rules = append(rules, presetRule{false, f[1]})
			}
		}
	}
	return rules
}

// Preset is a unit's preset: "enabled" or "disabled" by the first rule
// whose pattern matches it (an instance also by its template's name),
// "enabled" when none does (systemd.preset(5): without preset files every
// unit is enabled).
func (s *UnitFileSet) Preset(name string) string {
	if s.rules == nil {
		s.rules = presetRules(s.Root)
		if s.rules == nil {
			s.rules = []presetRule{}
		}
	}
	tmpl := templateOf(name)
	for _, r := range s.rules {
		ok, _ := path.Match(r.pattern, name)
		if !ok && tmpl != "" {
			ok, _ = path.Match(r.pattern, tmpl)
		}
		if ok {
			if r.enable {
				return "enabled"
			}
			return "disabled"
		}
	}
	return "enabled"
}

// showPreset: list-unit-files leaves the preset out ("-") for the states
// where it would only confuse: alias, static, generated, transient.
func showPreset(state string) bool {
	switch state {
	case "alias", "static", "generated", "transient":
		return false
	}
	return true
}
