package unitfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
)

// Options say where units come from and how specifiers resolve.
type Options struct {
	// SearchPath lists unit directories, highest priority first; nil means
	// DefaultSearchPath().
	SearchPath []string
	// Specifiers resolve "%x" in values; nil means SystemSpecifiers().
	Specifiers *Specifiers
	// Generators runs the generators gosd emulates (extern.go: a serial
	// getty for the kernel's console), as the system manager does.
	Generators bool
}

// maxAliasHops bounds alias chains, as systemd does for its name map.
const maxAliasHops = 32

// depSuffixes are the dependency directories systemd.unit(5) describes
// ("foo.service.wants/" and friends) and the dependency each one adds.
var depSuffixes = []string{".wants", ".requires", ".upholds"}

// DefaultSearchPath is the system manager's unit path, highest priority
// first. $SYSTEMD_UNIT_PATH replaces it; when that ends in ':' the default
// path is appended (systemd(1) "ENVIRONMENT").
func DefaultSearchPath() []string {
	defaults := []string{
		"/etc/systemd/system",
		RunDir + "/systemd/system",
		"/usr/local/lib/systemd/system",
		"/lib/systemd/system",
		"/usr/lib/systemd/system",
	}
	env := os.Getenv("SYSTEMD_UNIT_PATH")
	if env == "" {
		return defaults
	}
	var dirs []string
	for _, d := range strings.Split(env, ":") {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if strings.HasSuffix(env, ":") {
		dirs = append(dirs, defaults...)
	}
	return dirs
}

type fileKind int

const (
	kindFragment fileKind = iota // a unit file to parse
	kindAlias                    // a symlink naming another unit in the search path
	kindMasked                   // empty, or a symlink to /dev/null
	kindBroken                   // unusable: the reason is in diags
)

// unitFile is the highest-priority file in the search path for one name.
type unitFile struct {
	path     string // the entry in the search path
	dir      int    // index of its directory in Set.searchPath
	kind     fileKind
	target   string // kindAlias: the aliased unit name
	fragment string // kindFragment: the file read, symlinks followed
	entries  []Entry
	diags    []Diag
}

// dropIn is one "*.conf" file of a drop-in directory.
type dropIn struct {
	base    string
	path    string
	masked  bool
	entries []Entry
	diags   []Diag
}

// dirKey names a drop-in or dependency directory ("foo.service.d") in the
// search path directory with index dir.
type dirKey struct {
	name string
	dir  int
}

// Set is every unit found by Load or LoadPaths. All files are read while
// loading; Get builds units from memory only and caches them. A Set is for
// one goroutine.
type Set struct {
	searchPath []string // existing directories, duplicates removed
	listed     []string // the search path as given, for "inside the search path"
	spec       *Specifiers
	files      map[string]*unitFile
	dropIns    map[dirKey][]dropIn
	deps       map[dirKey][]string
	// dirNames has the name of every directory in dropIns and deps, in
	// any search path directory: dirOrder skips the candidate names no
	// directory has (most of them), which PID1 otherwise paired with
	// every search path directory four times per unit (7% of its CPU in
	// the Debian boot).
	dirNames map[string]bool
	aliases  map[string][]string // canonical name -> alias names
	names    []string
	units    map[string]*Unit
	diags    []Diag
}

// Load reads every unit file, drop-in and dependency directory in the
// search path.
//
// With opts.Generators (the system manager, PID1) it also runs the
// generators gosd emulates (extern.go: serial gettys).
func Load(opts Options) *Set {
	s := newSet(opts, nil)
	if opts.Generators {
		s.generate()
	}
	s.names = s.loadableNames(func(*unitFile) bool { return true })
	return s
}

// LoadPaths reads the units named by paths (unit files, or directories of
// them) for `gosd verify`. The directories of the paths come first in the
// search path, so a file's own directory supplies its drop-ins and
// dependency directories; opts.SearchPath follows so that dependencies
// resolve. Names lists only the units the paths name.
func LoadPaths(paths []string, opts Options) *Set {
	var dirs []string
	var diags []Diag
	wantDir, wantFile := map[string]bool{}, map[string]bool{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			diags = append(diags, Diag{Pos: Pos{File: p}, Severity: Error, Msg: errMsg(err)})
			continue
		}
		if st.IsDir() {
			dirs = append(dirs, p)
			wantDir[filepath.Clean(p)] = true
			continue
		}
		if !ValidName(filepath.Base(p)) {
			diags = append(diags, Diag{Pos: Pos{File: p}, Severity: Error, Msg: fmt.Sprintf("%q is not a valid unit name", filepath.Base(p))})
			continue
		}
		dirs = append(dirs, filepath.Dir(p))
		wantFile[filepath.Clean(p)] = true
	}
	s := newSet(opts, dirs)
	s.diags = append(diags, s.diags...)
	s.names = s.loadableNames(func(uf *unitFile) bool {
		return wantFile[filepath.Clean(uf.path)] || wantDir[filepath.Clean(filepath.Dir(uf.path))]
	})
	return s
}

func newSet(opts Options, front []string) *Set {
	search := opts.SearchPath
	if search == nil {
		search = DefaultSearchPath()
	}
	s := &Set{
		spec:     opts.Specifiers,
		files:    map[string]*unitFile{},
		dropIns:  map[dirKey][]dropIn{},
		deps:     map[dirKey][]string{},
		dirNames: map[string]bool{},
		aliases:  map[string][]string{},
		units:    map[string]*Unit{},
	}
	if s.spec == nil {
		sp := SystemSpecifiers()
		s.spec = &sp
	}
	var seen []os.FileInfo
next:
	for _, d := range append(append([]string(nil), front...), search...) {
		d = filepath.Clean(d)
		s.listed = append(s.listed, d)
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() {
			continue // systemd skips missing directories silently
		}
		for _, o := range seen {
			if os.SameFile(o, st) {
				continue next // e.g. /lib/systemd/system on merged /usr
			}
		}
		seen = append(seen, st)
		s.searchPath = append(s.searchPath, d)
	}
	for i, d := range s.searchPath {
		s.scanDir(i, d)
	}
	// Record every alias under the unit it finally names, for Unit.Names.
	aliasNames := make([]string, 0)
	for name, uf := range s.files {
		if uf.kind == kindAlias {
			aliasNames = append(aliasNames, name)
		}
	}
	sort.Strings(aliasNames)
	for _, name := range aliasNames {
		canon, target, err := s.resolve(name)
		if err != nil {
			s.files[name].kind = kindBroken
			s.files[name].diags = []Diag{{Pos: Pos{File: s.files[name].path}, Unit: name, Severity: Error, Msg: err.Error()}}
			s.diags = append(s.diags, s.files[name].diags...)
			continue
		}
		if target != nil && canon != name {
			s.aliases[canon] = append(s.aliases[canon], name)
		}
	}
	return s
}

// loadableNames lists the non-template units with a usable fragment that
// keep() accepts, aliases left out.
func (s *Set) loadableNames(keep func(*unitFile) bool) []string {
	var names []string
	for name, uf := range s.files {
		if uf.kind == kindFragment && !IsTemplate(name) && keep(uf) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func errMsg(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// scanDir reads one search path directory.
func (s *Set) scanDir(idx int, dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		s.diags = append(s.diags, Diag{Pos: Pos{File: dir}, Severity: Error, Msg: errMsg(err)})
	}
	for _, ent := range ents {
		name := ent.Name()
		full := filepath.Join(dir, name)
		if base, ok := strings.CutSuffix(name, ".d"); ok && (ValidName(base) || IsUnitType(base)) {
			s.readDropInDir(dirKey{name, idx}, full)
			continue
		}
		isDep := false
		for _, suf := range depSuffixes {
			if base, ok := strings.CutSuffix(name, suf); ok && (ValidName(base) || IsUnitType(base)) {
				s.readDepDir(dirKey{name, idx}, full)
				isDep = true
			}
		}
		if isDep || !ValidName(name) {
			continue
		}
		if _, seen := s.files[name]; seen {
			continue // an earlier directory has priority
		}
		uf := s.readUnitFile(idx, dir, name, full)
		if uf.kind == kindBroken {
			s.diags = append(s.diags, uf.diags...)
		}
		s.files[name] = uf
	}
}

func (s *Set) inSearchPath(dir string) bool {
	dir = filepath.Clean(dir)
	for _, d := range s.listed {
		if d == dir {
			return true
		}
	}
	return false
}

// readUnitFile classifies and reads the file for name.
func (s *Set) readUnitFile(idx int, dir, name, full string) *unitFile {
	uf := &unitFile{path: full, dir: idx}
	broken := func(format string, args ...any) *unitFile {
		uf.kind = kindBroken
		uf.diags = []Diag{{Pos: Pos{File: full}, Unit: name, Severity: Error, Msg: fmt.Sprintf(format, args...)}}
		return uf
	}
	lst, err := os.Lstat(full)
	if err != nil {
		return broken("%s", errMsg(err))
	}
	if lst.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(full)
		if err != nil {
			return broken("%s", errMsg(err))
		}
		if target == os.DevNull {
			uf.kind = kindMasked
			return uf
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		// A symlink to a differently named unit inside the search path is
		// an alias (systemd.unit(5): "unit aliases ... symlinks").
		if tb := filepath.Base(target); tb != name && ValidName(tb) && s.inSearchPath(filepath.Dir(target)) {
			if msg := aliasProblem(name, tb); msg != "" {
				return broken("alias %s -> %s: %s", name, tb, msg)
			}
			uf.kind, uf.target = kindAlias, tb
			return uf
		}
	}
	st, err := os.Stat(full)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return broken("symlink loop")
		}
		if errors.Is(err, fs.ErrNotExist) {
			return broken("dangling symlink")
		}
		return broken("%s", errMsg(err))
	}
	switch {
	case st.IsDir():
		return broken("is a directory, not a unit file")
	case st.Mode()&fs.ModeCharDevice != 0 && isDevNull(st):
		uf.kind = kindMasked
		return uf
	case !st.Mode().IsRegular():
		return broken("not a regular file")
	case st.Size() == 0:
		uf.kind = kindMasked // systemd masks units with an empty file
		return uf
	}
	frag := full
	if lst.Mode()&fs.ModeSymlink != 0 {
		if p, err := filepath.EvalSymlinks(full); err == nil {
			frag = p
		}
	}
	data, err := readLimited(full, st.Size())
	if err != nil {
		return broken("%s", err.Error())
	}
	uf.kind, uf.fragment = kindFragment, frag
	uf.entries, uf.diags = Parse(frag, data)
	return uf
}

func isDevNull(st os.FileInfo) bool {
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(st, null)
}

// readLimited reads a regular file of the given size, refusing files above
// MaxFileSize without reading them.
func readLimited(path string, size int64) ([]byte, error) {
	if size > MaxFileSize {
		return nil, fmt.Errorf("file is %d bytes, larger than the %d byte limit", size, MaxFileSize)
	}
	return ReadRegularFile(path, MaxFileSize)
}

// ReadRegularFile reads a file that someone other than root may have
// planted or swapped: it is opened non-blocking (a FIFO put in its place
// after a stat would block the opener, PID1, until someone writes to it),
// checked on the open fd to be a regular file (or /dev/null, read as
// empty), and read up to limit bytes; more is an error, never an
// allocation (a link to /dev/zero).
func ReadRegularFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0) // Go adds O_CLOEXEC
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// The message without the path (the caller names the file);
			// errors.Is(err, fs.ErrNotExist) still holds.
			return nil, fmt.Errorf("%s: %w", pe.Op, pe.Err)
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, errors.New(errMsg(err))
	}
	switch {
	case st.Mode().IsRegular():
	case st.Mode()&fs.ModeCharDevice != 0 && isDevNull(st):
		return nil, nil
	default:
		return nil, fmt.Errorf("not a regular file (%s)", modeName(st.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, errors.New(errMsg(err))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is larger than the %d byte limit", limit)
	}
	return data, nil
}

// modeName names a non-regular file's type for messages.
func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "special"
}

// aliasProblem says why name cannot alias target, or "".
// systemd.unit(5): an alias must have the same type, and a template can
// only be aliased by a template.
func aliasProblem(name, target string) string {
	_, _, st := SplitName(name)
	_, _, tt := SplitName(target)
	switch {
	case st != tt:
		return "alias and unit have different types"
	case IsTemplate(name) != IsTemplate(target) && !(IsInstance(name) && IsTemplate(target)):
		return "a template can only be aliased by a template"
	case !IsTemplate(name) && !IsInstance(name) && (IsTemplate(target) || IsInstance(target)):
		return "a plain name cannot alias a template or instance"
	}
	return ""
}

func (s *Set) readDropInDir(key dirKey, full string) {
	ents, err := os.ReadDir(full)
	if err != nil {
		if !errors.Is(err, syscall.ENOTDIR) {
			s.diags = append(s.diags, Diag{Pos: Pos{File: full}, Severity: Error, Msg: errMsg(err)})
		}
		return
	}
	var list []dropIn
	for _, ent := range ents {
		if !strings.HasSuffix(ent.Name(), ".conf") {
			continue
		}
		d := dropIn{base: ent.Name(), path: filepath.Join(full, ent.Name())}
		bad := func(msg string) {
			d.diags = []Diag{{Pos: Pos{File: d.path}, Severity: Error, Msg: msg}}
			s.diags = append(s.diags, d.diags...)
		}
		st, err := os.Stat(d.path)
		switch {
		case err != nil && errors.Is(err, syscall.ELOOP):
			bad("symlink loop")
		case err != nil:
			bad(errMsg(err))
		case st.Mode()&fs.ModeCharDevice != 0 && isDevNull(st), st.Mode().IsRegular() && st.Size() == 0:
			d.masked = true // hides same-named drop-ins of lower priority
		case st.IsDir():
			bad("is a directory, not a drop-in file")
		case !st.Mode().IsRegular():
			// A FIFO, socket or device where a drop-in belongs is
			// skipped, never opened (opening a FIFO blocks the loader
			// until a writer comes; systemd 252 hangs there), and does
			// not fail the unit: whoever could plant it in the directory
			// would otherwise decide whether the unit loads.
			s.diags = append(s.diags, Diag{Pos: Pos{File: d.path}, Severity: Warning,
				Msg: fmt.Sprintf("drop-in is %s, not a regular file: ignoring it", modeName(st.Mode()))})
			continue
		default:
			data, err := readLimited(d.path, st.Size())
			if err != nil {
				bad(err.Error())
				break
			}
			d.entries, d.diags = Parse(d.path, data)
		}
		list = append(list, d)
	}
	s.putDropIns(key, list)
}

// putDropIns and putDeps set a directory's entries (dirNames).
func (s *Set) putDropIns(key dirKey, list []dropIn) {
	s.dropIns[key] = list
	s.dirNames[key.name] = true
}

func (s *Set) putDeps(key dirKey, deps []string) {
	s.deps[key] = deps
	s.dirNames[key.name] = true
}

func (s *Set) readDepDir(key dirKey, full string) {
	ents, err := os.ReadDir(full)
	if err != nil {
		if !errors.Is(err, syscall.ENOTDIR) {
			s.diags = append(s.diags, Diag{Pos: Pos{File: full}, Severity: Error, Msg: errMsg(err)})
		}
		return
	}
	for _, ent := range ents {
		if !ValidName(ent.Name()) {
			s.diags = append(s.diags, Diag{Pos: Pos{File: filepath.Join(full, ent.Name())}, Severity: Warning,
				Msg: fmt.Sprintf("%q is not a valid unit name, ignoring", ent.Name())})
			continue
		}
		if ent.Type()&fs.ModeSymlink == 0 {
			// Only the name counts and nothing is opened; systemd takes
			// symlinks only ("... is not a symlink, ignoring.").
			s.diags = append(s.diags, Diag{Pos: Pos{File: filepath.Join(full, ent.Name())}, Severity: Warning,
				Msg: "dependency entry is not a symlink, ignoring"})
			continue
		}
		s.putDeps(key, append(s.deps[key], ent.Name()))
	}
}

// resolve follows aliases from name to the unit that has a file, and
// instantiates templates for instance names without a file of their own.
// It returns the canonical name and its file (nil: not found).
func (s *Set) resolve(name string) (string, *unitFile, error) {
	hops := 0
	return s.resolveHops(name, &hops)
}

// resolveHops is resolve counting every alias followed, also through a
// template, against one maxAliasHops budget, so that no chain of links
// can recurse without bound.
func (s *Set) resolveHops(name string, hops *int) (string, *unitFile, error) {
	cur := name
	for ; *hops < maxAliasHops; *hops++ {
		uf := s.files[cur]
		if uf == nil {
			tmpl := TemplateOf(cur)
			if tmpl == "" {
				return cur, nil, nil
			}
			_, inst, _ := SplitName(cur)
			tcanon, tuf, err := s.resolveHops(tmpl, hops)
			if err != nil || tuf == nil {
				return cur, nil, err
			}
			canon, err := InstanceOf(tcanon, inst)
			return canon, tuf, err
		}
		if uf.kind != kindAlias {
			return cur, uf, nil
		}
		next := uf.target
		if IsTemplate(next) && IsInstance(cur) {
			_, inst, _ := SplitName(cur)
			next, _ = InstanceOf(next, inst)
			if next == cur {
				// "foo@bar.service -> foo@.service" names an instance
				// of its own template (how enabled instances are
				// linked): the template's file, not a loop.
				*hops++
				tcanon, tuf, err := s.resolveHops(uf.target, hops)
				if err != nil || tuf == nil {
					return cur, nil, err
				}
				canon, err := InstanceOf(tcanon, inst)
				return canon, tuf, err
			}
		}
		cur = next
	}
	return name, nil, fmt.Errorf("more than %d levels of aliases resolving %s (alias loop)", maxAliasHops, name)
}

// Names lists the loadable units, sorted: every unit with a fragment
// except templates and alias names (for LoadPaths: only those named).
func (s *Set) Names() []string { return append([]string(nil), s.names...) }

// Diags are the problems of the set itself: unreadable directories and
// files, symlink loops, directories named like units, bad drop-ins.
func (s *Set) Diags() []Diag { return append([]Diag(nil), s.diags...) }

// Get returns the unit called name, never nil. It follows aliases,
// instantiates templates from memory, and caches the result under every
// name of the unit. A unit without a file has LoadState NotFound.
func (s *Set) Get(name string) *Unit {
	if u := s.units[name]; u != nil {
		return u
	}
	u := s.build(name)
	s.units[name] = u
	s.units[u.Name] = u
	for _, n := range u.Names {
		if s.units[n] == nil {
			s.units[n] = u
		}
	}
	return u
}

func (s *Set) build(name string) *Unit {
	fail := func(state LoadState, pos Pos, msg string) *Unit {
		u := &Unit{Name: name, LoadState: state, Diags: []Diag{{Pos: pos, Unit: name, Severity: Error, Msg: msg}}}
		if ValidName(name) {
			u.fill(name)
		}
		return u
	}
	if !ValidName(name) {
		return fail(LoadError, Pos{}, fmt.Sprintf("%q is not a valid unit name", name))
	}
	canon, uf, err := s.resolve(name)
	if err != nil {
		return fail(LoadError, Pos{}, err.Error())
	}
	if uf == nil {
		if u := s.syntheticDevice(name); u != nil {
			return u
		}
		if u := s.syntheticSlice(name); u != nil {
			return u
		}
		return fail(NotFound, Pos{}, fmt.Sprintf("unit %s not found", name))
	}
	names := s.namesOf(canon, name)
	switch uf.kind {
	case kindMasked:
		u := &Unit{Name: canon, LoadState: Masked, FragmentPath: uf.path, Names: names}
		u.fill(canon)
		return u
	case kindBroken:
		u := &Unit{Name: canon, LoadState: LoadError, FragmentPath: uf.path, Names: names}
		for _, d := range uf.diags {
			d.Unit = canon
			u.Diags = append(u.Diags, d)
		}
		u.fill(canon)
		return u
	}

	all := append([]string{canon}, names...)
	entries := append([]Entry(nil), uf.entries...)
	syntax := append([]Diag(nil), uf.diags...)
	var dropPaths []string
	for _, d := range s.effectiveDropIns(all) {
		entries = append(entries, d.entries...)
		syntax = append(syntax, d.diags...)
		dropPaths = append(dropPaths, d.path)
	}
	frag := uf.fragment
	u := Build(canon, entries, BuildInfo{
		FragmentPath: frag,
		DropIns:      dropPaths,
		Expand:       func(v string) (string, error) { return s.spec.Expand(v, canon, frag) },
	})
	u.Name, u.FragmentPath, u.DropIns, u.Names = canon, frag, dropPaths, names
	u.fill(canon)
	for i := range syntax {
		syntax[i].Unit = canon
		if syntax[i].Severity == Error {
			u.LoadState = LoadError // systemd refuses a file it cannot parse
		}
	}
	u.Diags = append(syntax, u.Diags...)
	s.addDirDeps(u, all)
	s.canonicalDeps(u, all)
	if u.LoadState == Loaded {
		addExternalChecks(u)
	}
	return u
}

// fill sets Type, Template and Instance from the unit's name, and an
// instance's default slice: systemd puts the instances of NAME@ in
// system-NAME.slice (NAME escaped, so its dashes are not levels).
func (u *Unit) fill(name string) {
	prefix, inst, suffix := SplitName(name)
	u.Type = suffix
	if IsInstance(name) {
		u.Template, u.Instance = TemplateOf(name), inst
		var sections []*ResourceControl
		if u.Service != nil {
			sections = append(sections, &u.Service.Resources)
		}
		if u.Socket != nil {
			sections = append(sections, &u.Socket.Resources)
		}
		for _, rc := range sections {
			if rc.Slice == "" {
				rc.Slice = "system-" + Escape(prefix) + ".slice"
			}
		}
	}
}

// namesOf lists the other names of unit canon: its aliases, those of its
// template instantiated, and the name asked for.
func (s *Set) namesOf(canon, asked string) []string {
	var names []string
	add := func(n string) {
		if n == canon {
			return
		}
		for _, o := range names {
			if o == n {
				return
			}
		}
		names = append(names, n)
	}
	add(asked)
	for _, a := range s.aliases[canon] {
		add(a)
	}
	if IsInstance(canon) {
		_, inst, _ := SplitName(canon)
		for _, a := range s.aliases[TemplateOf(canon)] {
			if n, err := InstanceOf(a, inst); err == nil {
				add(n)
			}
		}
	}
	sort.Strings(names)
	return names
}

// dirCandidates lists the directory names (with suffix, e.g. ".d") that
// apply to name, most specific first, as systemd.unit(5) describes: the
// name itself, its template, then each dash-truncated prefix
// ("foo-bar-baz.service" → "foo-bar-.service", "foo-.service").
func dirCandidates(name, suffix string, out []string) []string {
	out = append(out, name+suffix)
	if t := TemplateOf(name); t != "" {
		out = dirCandidates(t, suffix, out)
	}
	prefix, _, typ := SplitName(name)
	p := strings.TrimSuffix(prefix, "-")
	if i := strings.LastIndexByte(p, '-'); i > 0 {
		out = dirCandidates(p[:i+1]+"."+typ, suffix, out)
	}
	return out
}

// dirOrder lists the directories of suffix that apply to a unit with the
// given names, in systemd's priority order: for each name, for each
// search path directory, most specific first; the type-wide directory
// ("service.d") last.
func (s *Set) dirOrder(names []string, suffix string) []dirKey {
	var keys []dirKey
	seen := map[dirKey]bool{}
	add := func(k dirKey) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, n := range names {
		cands := dirCandidates(n, suffix, nil)
		j := 0
		for _, c := range cands {
			if s.dirNames[c] {
				cands[j] = c
				j++
			}
		}
		cands = cands[:j]
		for i := range s.searchPath {
			for _, c := range cands {
				add(dirKey{c, i})
			}
		}
	}
	_, _, typ := SplitName(names[0])
	if s.dirNames[typ+suffix] {
		for i := range s.searchPath {
			add(dirKey{typ + suffix, i})
		}
	}
	return keys
}

// effectiveDropIns merges the drop-in directories of a unit: a file name
// seen first (higher priority) hides later files of the same name, masked
// ones included; the result is sorted by file name (systemd.unit(5)).
func (s *Set) effectiveDropIns(names []string) []dropIn {
	var out []dropIn
	seen := map[string]bool{}
	for _, k := range s.dirOrder(names, ".d") {
		for _, d := range s.dropIns[k] {
			if seen[d.base] {
				continue
			}
			seen[d.base] = true
			if !d.masked {
				out = append(out, d)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].base < out[j].base })
	return out
}

// addDirDeps appends the dependencies of ".wants/", ".requires/" and
// ".upholds/" directories. A template name in the directory of a template
// is instantiated with the unit's instance.
func (s *Set) addDirDeps(u *Unit, names []string) {
	targets := []*[]string{&u.Unit.Wants, &u.Unit.Requires, &u.Unit.Upholds}
	for i, suf := range depSuffixes {
		for _, k := range s.dirOrder(names, suf) {
			for _, dep := range s.deps[k] {
				if IsTemplate(dep) {
					if u.Instance == "" {
						continue
					}
					dep, _ = InstanceOf(dep, u.Instance)
				}
				*targets[i] = appendUnique(*targets[i], dep)
			}
		}
	}
}

// canonicalDeps names each dependency by its unit's own name rather than
// an alias, as systemd merges an alias into its unit, and drops a unit's
// dependencies on itself, which systemd drops with a warning.
func (s *Set) canonicalDeps(u *Unit, self []string) {
	us := &u.Unit
	lists := []struct {
		key  string
		list *[]string
	}{
		{"Wants", &us.Wants}, {"Requires", &us.Requires}, {"Requisite", &us.Requisite},
		{"BindsTo", &us.BindsTo}, {"PartOf", &us.PartOf}, {"Upholds", &us.Upholds},
		{"Conflicts", &us.Conflicts}, {"OnFailure", &us.OnFailure}, {"OnSuccess", &us.OnSuccess},
		{"Before", &us.Before}, {"After", &us.After}, {"PropagatesReloadTo", &us.PropagatesReloadTo},
		{"ReloadPropagatedFrom", &us.ReloadPropagatedFrom}, {"JoinsNamespaceOf", &us.JoinsNamespaceOf},
	}
	for _, l := range lists {
		if len(*l.list) == 0 {
			continue
		}
		out := make([]string, 0, len(*l.list))
		for _, n := range *l.list {
			if canon, uf, err := s.resolve(n); err == nil && uf != nil {
				n = canon
			}
			if slices.Contains(self, n) {
				u.Diags = append(u.Diags, Diag{Pos: settingPosOf(u, l.key), Unit: u.Name, Severity: Warning,
					Msg: fmt.Sprintf("Dependency %s=%s is dropped: it names the unit itself.", l.key, n)})
				continue
			}
			out = appendUnique(out, n)
		}
		*l.list = out
	}
}

func appendUnique(list []string, v string) []string {
	for _, o := range list {
		if o == v {
			return list
		}
	}
	return append(list, v)
}
