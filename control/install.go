package control

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// This file is enable, disable, mask, unmask, is-enabled and
// list-unit-files: they work on the unit files and symlinks directly, with
// no running gosd, as systemctl does.

// DefaultUnitPath is the system unit search path, highest priority first.
var DefaultUnitPath = []string{
	"/etc/systemd/system",
	unitfile.RunDir + "/systemd/system",
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
}

// UnitFileSet is a unit search path. Links are made in LinkDir.
type UnitFileSet struct {
	Paths []string
	// Root is the directory the paths lie under ("" = /): links point at
	// files as the system below Root will see them, without it.
	Root string
	// Force replaces links that are in the way (systemctl --force).
	Force bool

	rules []presetRule // systemd.preset(5) rules, read on first use
}

// NewUnitFileSet uses paths if given, else DefaultUnitPath under root
// ("" or "/" = the running system).
func NewUnitFileSet(root string, paths []string) *UnitFileSet {
	if len(paths) == 0 {
		for _, p := range DefaultUnitPath {
			paths = append(paths, filepath.Join(root, p))
		}
	}
	if root == "/" {
		root = ""
	}
	return &UnitFileSet{Paths: paths, Root: root}
}

// linkTarget is what a link to file holds: its absolute path as seen from
// inside Root.
func (s *UnitFileSet) linkTarget(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	if s.Root != "" {
		root, _ := filepath.Abs(s.Root)
		if rel, err := filepath.Rel(root, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return "/" + rel
		}
	}
	return abs
}

// display is a path as the Created/Removed messages print it.
func (s *UnitFileSet) display(p string) string { return p }

// resolveAlias follows a unit file that is a link under another unit's
// name (an alias: Alias=, or a link someone made) to the file and name it
// stands for, inside Root. Other files come back as they are.
func (s *UnitFileSet) resolveAlias(name, file string) (string, string) {
	for i := 0; i < 8; i++ {
		t, err := os.Readlink(file)
		if err != nil || t == "/dev/null" {
			return name, file
		}
		if filepath.IsAbs(t) {
			t = filepath.Join(s.Root, t)
		} else {
			t = filepath.Join(filepath.Dir(file), t)
		}
		if filepath.Base(t) == filepath.Base(file) {
			return name, file // a linked unit file: the link is the unit
		}
		name, file = filepath.Base(t), t
	}
	return name, file
}

// LinkDir is where enable and mask put links: the first directory of the
// path that is writable or can be made (its nearest existing parent is a
// writable directory: /etc/systemd/system on a fresh --root), else the
// first.
func (s *UnitFileSet) LinkDir() string {
	for _, d := range s.Paths {
		p := d
		for {
			fi, err := os.Stat(p)
			if err == nil {
				if fi.IsDir() && unix.Access(p, unix.W_OK) == nil {
					return d
				}
				break
			}
			parent := filepath.Dir(p)
			if parent == p {
				break
			}
			p = parent
		}
	}
	return s.Paths[0]
}

// Change is one link made or removed, printed as systemctl prints it.
type Change struct {
	Removed bool
	Path    string
	Target  string
}

func (c Change) String() string {
	if c.Removed {
		return fmt.Sprintf("Removed %q.", c.Path)
	}
	return fmt.Sprintf("Created symlink %s → %s.", c.Path, c.Target)
}

// ErrNoUnitFile is returned for a unit with no file in the search path.
var ErrNoUnitFile = errors.New("unit file does not exist")

// find returns the file that defines name: the first search-path entry
// called name, else (for an instance) the template's.
func (s *UnitFileSet) find(name string) (string, error) {
	cands := []string{name}
	if t := templateOf(name); t != "" {
		cands = append(cands, t)
	}
	for _, c := range cands {
		for _, d := range s.Paths {
			p := filepath.Join(d, c)
			if _, err := os.Lstat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrNoUnitFile)
}

// templateOf: "foo@bar.service" → "foo@.service"; "" if not an instance.
func templateOf(name string) string {
	at := strings.IndexByte(name, '@')
	dot := strings.LastIndexByte(name, '.')
	if at < 0 || dot < at || dot == at+1 {
		return ""
	}
	return name[:at+1] + name[dot:]
}

func isMaskLink(p string) bool {
	t, err := os.Readlink(p)
	return err == nil && t == "/dev/null"
}

// install is the [Install] section of a unit file, with the specifiers
// systemd resolves there (%n %N %p %i %%) applied.
type install struct {
	WantedBy, RequiredBy, Alias, Also []string
	DefaultInstance                   string
}

func (in install) empty() bool {
	return len(in.WantedBy)+len(in.RequiredBy)+len(in.Alias)+len(in.Also) == 0
}

func readInstall(file, name string) (install, error) {
	var in install
	data, err := os.ReadFile(file)
	if err != nil {
		return in, err
	}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	var cont string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cont != "" {
			if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
				continue
			}
			line = cont + " " + line
			cont = ""
		}
		if strings.HasSuffix(line, "\\") {
			cont = strings.TrimSuffix(line, "\\")
			continue
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			section = strings.Trim(line, "[]")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "Install" {
			continue
		}
		words := strings.Fields(expandSpecifiers(strings.TrimSpace(v), name))
		switch strings.TrimSpace(k) {
		case "WantedBy":
			in.WantedBy = appendOrReset(in.WantedBy, words)
		case "RequiredBy":
			in.RequiredBy = appendOrReset(in.RequiredBy, words)
		case "Alias":
			in.Alias = appendOrReset(in.Alias, words)
		case "Also":
			in.Also = appendOrReset(in.Also, words)
		case "DefaultInstance":
			in.DefaultInstance = strings.TrimSpace(v)
		}
	}
	return in, sc.Err()
}

func appendOrReset(list, words []string) []string {
	if len(words) == 0 {
		return nil
	}
	return append(list, words...)
}

func expandSpecifiers(v, name string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	prefix := strings.TrimSuffix(name, filepath.Ext(name))
	inst := ""
	if at := strings.IndexByte(prefix, '@'); at >= 0 {
		prefix, inst = prefix[:at], prefix[at+1:]
	}
	r := strings.NewReplacer("%%", "%", "%n", name, "%N", strings.TrimSuffix(name, filepath.Ext(name)),
		"%p", prefix, "%i", inst)
	return r.Replace(v)
}

// Enable makes the links the [Install] sections of names (and their
// Also= units) ask for.
func (s *UnitFileSet) Enable(names []string) ([]Change, error) {
	var changes []Change
	done := map[string]bool{}
	var enable func(name string) error
	enable = func(name string) error {
		if done[name] {
			return nil
		}
		done[name] = true
		file, err := s.find(name)
		if err != nil {
			return err
		}
		if isMaskLink(file) {
			return fmt.Errorf("unit %s is masked", name)
		}
		// Enabling an alias enables the unit it names (never a link of
		// the alias to itself).
		if real, realFile := s.resolveAlias(name, file); real != name {
			if done[real] {
				return nil
			}
			done[real] = true
			name, file = real, realFile
		}
		in, err := readInstall(file, name)
		if err != nil {
			return err
		}
		target := s.linkTarget(file)
		inst := name
		if templateOf(name) == "" && strings.HasSuffix(strings.TrimSuffix(name, filepath.Ext(name)), "@") {
			if in.DefaultInstance == "" {
				return fmt.Errorf("unit %s is a template without DefaultInstance=; enable an instance", name)
			}
			inst = strings.TrimSuffix(name, filepath.Ext(name)) + in.DefaultInstance + filepath.Ext(name)
		}
		dir := s.LinkDir()
		var links []string
		for _, t := range in.WantedBy {
			links = append(links, filepath.Join(dir, t+".wants", inst))
		}
		for _, t := range in.RequiredBy {
			links = append(links, filepath.Join(dir, t+".requires", inst))
		}
		for _, a := range in.Alias {
			links = append(links, filepath.Join(dir, a))
		}
		for _, l := range links {
			cur, err := os.Readlink(l)
			if err == nil && cur == target {
				continue
			}
			if fi, lerr := os.Lstat(l); lerr == nil {
				if fi.Mode()&fs.ModeSymlink == 0 {
					return fmt.Errorf("file %s already exists and is not a link", l)
				}
				if !s.Force {
					return fmt.Errorf("file %s already exists and is a symlink to %s (--force replaces it)", l, cur)
				}
				if err := os.Remove(l); err != nil {
					return err
				}
				changes = append(changes, Change{Removed: true, Path: l})
			}
			if err := os.MkdirAll(filepath.Dir(l), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(target, l); err != nil {
				return err
			}
			changes = append(changes, Change{Path: l, Target: target})
		}
		for _, a := range in.Also {
			if err := enable(a); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := enable(n); err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// Disable removes, from the link directory, every .wants/.requires link
// named after the units, their Alias= links, and those of Also= units.
func (s *UnitFileSet) Disable(names []string) ([]Change, error) {
	var changes []Change
	dir := s.LinkDir()
	done := map[string]bool{}
	var disable func(name string) error
	disable = func(name string) error {
		if done[name] {
			return nil
		}
		done[name] = true
		var in install
		if file, err := s.find(name); err == nil && !isMaskLink(file) {
			in, _ = readInstall(file, name)
		}
		links, _ := filepath.Glob(filepath.Join(dir, "*.wants", name))
		req, _ := filepath.Glob(filepath.Join(dir, "*.requires", name))
		links = append(links, req...)
		if templateOf(name) == "" && strings.Contains(name, "@.") {
			pre := strings.TrimSuffix(name, filepath.Ext(name))
			inst, _ := filepath.Glob(filepath.Join(dir, "*.wants", pre+"*"+filepath.Ext(name)))
			links = append(links, inst...)
		}
		for _, a := range in.Alias {
			links = append(links, filepath.Join(dir, a))
		}
		for _, l := range links {
			fi, err := os.Lstat(l)
			if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				continue
			}
			if err := os.Remove(l); err != nil {
				return err
			}
			changes = append(changes, Change{Removed: true, Path: l})
		}
		for _, a := range in.Also {
			if err := disable(a); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := disable(n); err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// Mask links each unit to /dev/null in the link directory.
func (s *UnitFileSet) Mask(names []string) ([]Change, error) {
	var changes []Change
	dir := s.LinkDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, n := range names {
		l := filepath.Join(dir, n)
		if isMaskLink(l) {
			continue
		}
		if fi, err := os.Lstat(l); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			return changes, fmt.Errorf("cannot mask %s: file %s exists", n, l)
		}
		os.Remove(l)
		if err := os.Symlink("/dev/null", l); err != nil {
			return changes, err
		}
		changes = append(changes, Change{Path: l, Target: "/dev/null"})
	}
	return changes, nil
}

// Unmask removes /dev/null links of the units from the link directory.
func (s *UnitFileSet) Unmask(names []string) ([]Change, error) {
	var changes []Change
	dir := s.LinkDir()
	for _, n := range names {
		l := filepath.Join(dir, n)
		if !isMaskLink(l) {
			continue
		}
		if err := os.Remove(l); err != nil {
			return changes, err
		}
		changes = append(changes, Change{Removed: true, Path: l})
	}
	return changes, nil
}

// State is a unit file's enablement as is-enabled prints it: enabled,
// disabled, static, indirect, alias, masked, or not-found.
func (s *UnitFileSet) State(name string) string {
	file, err := s.find(name)
	if err != nil {
		return "not-found"
	}
	if isMaskLink(file) {
		return "masked" + s.runtimeSuffix(filepath.Dir(file))
	}
	if t, err := os.Readlink(file); err == nil && filepath.Base(t) != filepath.Base(file) {
		return "alias" // a link under another unit file's name
	}
	for _, d := range s.Paths {
		if linkedFromDeps(d, name) {
			return "enabled" + s.runtimeSuffix(d)
		}
	}
	in, err := readInstall(file, name)
	if err != nil {
		return "bad"
	}
	for _, a := range in.Alias {
		for _, d := range s.Paths {
			if _, err := os.Lstat(filepath.Join(d, a)); err == nil {
				return "enabled"
			}
		}
	}
	switch {
	case in.empty():
		return "static"
	case len(in.WantedBy)+len(in.RequiredBy)+len(in.Alias) == 0:
		return "indirect"
	}
	return "disabled"
}

// linkedFromDeps says whether a .wants or .requires directory of dir holds
// name. Not filepath.Glob of dir/*.wants/name: that reads every such
// directory whole to match name against each entry (PID1 asks this for the
// journal's sockets at boot: 5% of its CPU in the Debian boot, most of it
// reading /lib/systemd/system's two dozen .wants directories), and takes
// the backslash of an escaped name (system-serial\x2dgetty.slice) for a
// pattern's escape, so such a unit never counted as enabled.
func linkedFromDeps(dir, name string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	for _, n := range names {
		if strings.HasSuffix(n, ".wants") || strings.HasSuffix(n, ".requires") {
			if _, err := os.Lstat(filepath.Join(dir, n, name)); err == nil {
				return true
			}
		}
	}
	return false
}

// runtimeSuffix is "-runtime" for a link in the runtime directory
// (/run/systemd/system below Root): enabled-runtime, masked-runtime.
func (s *UnitFileSet) runtimeSuffix(dir string) string {
	if filepath.Clean(dir) == filepath.Join(s.Root, "/run/systemd/system") {
		return "-runtime"
	}
	return ""
}

// EnabledState says whether a State counts as enabled for is-enabled's
// exit code.
func EnabledState(state string) bool {
	switch state {
	case "enabled", "enabled-runtime", "static", "alias", "indirect", "generated":
		return true
	}
	return false
}

// UnitFileState is one row of list-unit-files.
type UnitFileState struct {
	Name   string `json:"unit_file"`
	State  string `json:"state"`
	Preset string `json:"preset"` // enabled, disabled, or "" where not shown
}

// List returns every unit file of the search path (the first of a name
// wins) with its state, sorted by name.
func (s *UnitFileSet) List() []UnitFileState {
	seen := map[string]bool{}
	var out []UnitFileState
	for _, d := range s.Paths {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || seen[n] || NormalizeName(n) != n || IsGlob(n) {
				continue
			}
			seen[n] = true
			st := UnitFileState{Name: n, State: s.State(n)}
			if showPreset(st.State) {
				st.Preset = s.Preset(n)
			}
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Links lists the links in the search path that enable a unit: its
// .wants/ and .requires/ entries and the aliases that point at its file
// (systemctl is-enabled --full, GetUnitFileLinks).
func (s *UnitFileSet) Links(name string) []string {
	var out []string
	for _, d := range s.Paths {
		for _, kind := range []string{"*.wants", "*.requires"} {
			m, _ := filepath.Glob(filepath.Join(d, kind, name))
			out = append(out, m...)
		}
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.Type()&fs.ModeSymlink == 0 || e.Name() == name {
				continue
			}
			if t, err := os.Readlink(filepath.Join(d, e.Name())); err == nil && filepath.Base(t) == name {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	sort.Strings(out)
	return out
}
