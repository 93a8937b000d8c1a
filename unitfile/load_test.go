package unitfile

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tree creates files under root: a value starting with "->" makes a
// symlink, "DIR" a directory, anything else a file with that content.
func tree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(content, "->"):
			err = os.Symlink(strings.TrimPrefix(content, "->"), p)
		case content == "DIR":
			err = os.MkdirAll(p, 0o755)
		default:
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func values(u *Unit, key string) []string {
	var out []string
	for _, e := range u.Entries {
		if v, ok := strings.CutPrefix(e.Value, key+"="); ok && e.Key == "Environment" {
			out = append(out, v)
		}
	}
	return out
}

func load(t *testing.T, dirs ...string) *Set {
	spec := testSpecifiers()
	return Load(Options{SearchPath: dirs, Specifiers: &spec})
}

func TestLoadPrecedenceAndMasking(t *testing.T) {
	root := t.TempDir()
	etc, lib := filepath.Join(root, "etc"), filepath.Join(root, "lib")
	tree(t, root, map[string]string{
		"etc/a.service":       "[Service]\nExecStart=/bin/true\nEnvironment=X=etc\n",
		"lib/a.service":       "[Service]\nExecStart=/bin/true\nEnvironment=X=lib\n",
		"lib/b.service":       "[Service]\nExecStart=/bin/true\nEnvironment=X=lib\n",
		"etc/b.service":       "->/dev/null",
		"lib/c.service":       "",
		"lib/d.service":       "[Service]\nExecStart=/bin/true\nEnvironment=X=d\n",
		"lib/tpl@.service":    "[Service]\nExecStart=/bin/true\nEnvironment=X=tpl\n",
		"lib/alias.service":   "->d.service",
		"lib/t.target":        "[Unit]\nDescription=t\n",
		"etc/nothing.conf":    "x",
		"lib/README":          "x",
		"etc/a.service.wants": "DIR",
	})
	s := load(t, etc, lib)
	if u := s.Get("a.service"); u.LoadState != Loaded || !reflect.DeepEqual(values(u, "X"), []string{"etc"}) || u.FragmentPath != filepath.Join(etc, "a.service") {
		t.Errorf("a.service: %s %v %s", u.LoadState, values(u, "X"), u.FragmentPath)
	}
	if u := s.Get("b.service"); u.LoadState != Masked {
		t.Errorf("b.service masked by /dev/null symlink: %s", u.LoadState)
	}
	if u := s.Get("c.service"); u.LoadState != Masked {
		t.Errorf("c.service masked by empty file: %s", u.LoadState)
	}
	if u := s.Get("missing.service"); u.LoadState != NotFound || len(u.Diags) != 1 || u.Type != "service" {
		t.Errorf("missing.service: %s %v", u.LoadState, u.Diags)
	}
	if u := s.Get("not a name"); u.LoadState != LoadError {
		t.Errorf("invalid name: %s", u.LoadState)
	}
	want := []string{"a.service", "d.service", "t.target"}
	if got := s.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if d := s.Diags(); len(d) != 0 {
		t.Errorf("set diags %v", d)
	}
}

func TestLoadAliases(t *testing.T) {
	root := t.TempDir()
	etc, lib := filepath.Join(root, "etc"), filepath.Join(root, "lib")
	tree(t, root, map[string]string{
		"lib/real.service":          "[Service]\nExecStart=/bin/true\nEnvironment=X=real\n[Install]\nAlias=fromalias.service\n",
		"etc/link.service":          "->" + filepath.Join(lib, "real.service"),
		"lib/rel.service":           "->real.service",
		"lib/real.service.d/a.conf": "[Service]\nEnvironment=Y=via-real\n",
		"etc/link.service.d/b.conf": "[Service]\nEnvironment=Y=via-alias\n",
		"lib/tmpl@.service":         "[Service]\nExecStart=/bin/true\nEnvironment=X=tmpl\n",
		"etc/other@.service":        "->" + filepath.Join(lib, "tmpl@.service"),
		"lib/loop1.service":         "->loop2.service",
		"lib/loop2.service":         "->loop1.service",
		"lib/wrongtype.socket":      "->real.service",
		"etc/outside.service":       "->" + filepath.Join(root, "elsewhere", "foo.service"),
		"elsewhere/foo.service":     "[Service]\nExecStart=/bin/true\nEnvironment=X=outside\n",
	})
	s := load(t, etc, lib)
	u := s.Get("link.service")
	if u.Name != "real.service" || u != s.Get("real.service") || u != s.Get("rel.service") {
		t.Errorf("alias resolves to %q", u.Name)
	}
	if want := []string{"link.service", "rel.service"}; !reflect.DeepEqual(u.Names, want) {
		t.Errorf("Names %v, want %v", u.Names, want)
	}
	// Drop-ins of every name apply (systemd.unit(5)).
	if got := values(u, "Y"); !reflect.DeepEqual(got, []string{"via-real", "via-alias"}) {
		t.Errorf("drop-ins via aliases: %v", got)
	}
	// [Install] Alias= only takes effect through the symlink `enable` makes.
	if f := s.Get("fromalias.service"); f.LoadState != NotFound {
		t.Errorf("Alias= without symlink: %s", f.LoadState)
	}
	inst := s.Get("other@x.service")
	if inst.Name != "tmpl@x.service" || inst.Template != "tmpl@.service" || inst.Instance != "x" ||
		!reflect.DeepEqual(inst.Names, []string{"other@x.service"}) || !reflect.DeepEqual(values(inst, "X"), []string{"tmpl"}) {
		t.Errorf("template alias: %+v", inst)
	}
	if l := s.Get("loop1.service"); l.LoadState != LoadError || !strings.Contains(fmt.Sprint(l.Diags), "alias loop") {
		t.Errorf("alias loop: %s %v", l.LoadState, l.Diags)
	}
	if w := s.Get("wrongtype.socket"); w.LoadState != LoadError || !strings.Contains(fmt.Sprint(w.Diags), "different types") {
		t.Errorf("alias of other type: %s %v", w.LoadState, w.Diags)
	}
	if o := s.Get("outside.service"); o.LoadState != Loaded || o.Name != "outside.service" || !reflect.DeepEqual(values(o, "X"), []string{"outside"}) {
		t.Errorf("linked file outside the search path: %s %s %v", o.Name, o.LoadState, values(o, "X"))
	}
	if got, want := s.Names(), []string{"outside.service", "real.service"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestLoadTemplatesAndDropIns(t *testing.T) {
	root := t.TempDir()
	etc, run, lib := filepath.Join(root, "etc"), filepath.Join(root, "run"), filepath.Join(root, "lib")
	tree(t, root, map[string]string{
		"lib/foo-bar-baz.service":                  "[Service]\nExecStart=/bin/true\nEnvironment=X=frag\n",
		"lib/foo-.service.d/10-a.conf":             "[Service]\nEnvironment=X=foo-dash-10\n",
		"lib/foo-bar-.service.d/20-b.conf":         "[Service]\nEnvironment=X=foo-bar-dash-20\n",
		"lib/foo-bar-baz.service.d/10-a.conf":      "[Service]\nEnvironment=X=specific-10\n",
		"lib/service.d/05-c.conf":                  "[Service]\nEnvironment=X=type-05\n",
		"run/foo-bar-.service.d/20-b.conf":         "[Service]\nEnvironment=X=run-20\n",
		"etc/foo-bar-baz.service.d/30-masked.conf": "->/dev/null",
		"lib/foo-bar-baz.service.d/30-masked.conf": "[Service]\nEnvironment=X=hidden\n",
		"lib/foo-bar-baz.service.d/ignored.txt":    "[Service]\nExecStart=/bin/true\nEnvironment=X=not-conf\n",
		"lib/web@.service":                         "[Service]\nExecStart=/bin/true\nEnvironment=X=web-%i\n",
		"lib/web@.service.d/a.conf":                "[Service]\nEnvironment=X=template-dropin\n",
		"lib/web@special.service.d/b.conf":         "[Service]\nEnvironment=X=instance-dropin\n",
		"lib/web@own.service":                      "[Service]\nExecStart=/bin/true\nEnvironment=X=own-file\n",
	})
	s := load(t, etc, run, lib)
	u := s.Get("foo-bar-baz.service")
	want := []string{"frag", "type-05", "specific-10", "run-20"}
	if got := values(u, "X"); !reflect.DeepEqual(got, want) {
		t.Errorf("X = %v, want %v", got, want)
	}
	wantPaths := []string{
		filepath.Join(lib, "service.d/05-c.conf"),
		filepath.Join(lib, "foo-bar-baz.service.d/10-a.conf"),
		filepath.Join(run, "foo-bar-.service.d/20-b.conf"),
	}
	if !reflect.DeepEqual(u.DropIns, wantPaths) {
		t.Errorf("DropIns %v, want %v", u.DropIns, wantPaths)
	}
	// Entries keep their own file and line.
	if e := u.Entries[len(u.Entries)-1]; e.Pos.File != wantPaths[2] || e.Pos.Line != 2 {
		t.Errorf("last entry pos %v", e.Pos)
	}

	i := s.Get("web@special.service")
	if got := values(i, "X"); !reflect.DeepEqual(got, []string{"web-special", "type-05", "template-dropin", "instance-dropin"}) {
		t.Errorf("instance X = %v", got)
	}
	if i.FragmentPath != filepath.Join(lib, "web@.service") || i.Type != "service" {
		t.Errorf("instance fragment %q type %q", i.FragmentPath, i.Type)
	}
	if o := s.Get("web@own.service"); !reflect.DeepEqual(values(o, "X"), []string{"own-file", "type-05", "template-dropin"}) {
		t.Errorf("instance with own file: %v", values(o, "X"))
	}
	if s.Get("web@special.service") != i {
		t.Error("Get does not cache")
	}
	if tpl := s.Get("web@.service"); tpl.LoadState != Loaded || tpl.Instance != "" {
		t.Errorf("template itself: %s", tpl.LoadState)
	}
	// Get does no I/O: instances still build after the files are gone.
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if n := s.Get("web@new.service"); n.LoadState != Loaded || n.Name != "web@new.service" || len(n.DropIns) != 2 {
		t.Errorf("instance after removal: %s %v", n.LoadState, n.DropIns)
	}
}

func TestLoadDependencyDirs(t *testing.T) {
	root := t.TempDir()
	etc, lib := filepath.Join(root, "etc"), filepath.Join(root, "lib")
	tree(t, root, map[string]string{
		"lib/multi-user.target":                      "[Unit]\nWants=a.service\n",
		"etc/multi-user.target.wants/b.service":      "->" + filepath.Join(lib, "b.service"),
		"lib/multi-user.target.wants/c.service":      "->../c.service",
		"lib/multi-user.target.wants/b.service":      "->../b.service",
		"etc/multi-user.target.requires/d.service":   "->/whatever",
		"etc/multi-user.target.upholds/e.service":    "->/whatever",
		"etc/multi-user.target.wants/bad name":       "->/whatever",
		"lib/getty@.service":                         "[Service]\nExecStart=/bin/true\nEnvironment=X=1\n",
		"lib/getty@.service.wants/helper@.service":   "->../helper@.service",
		"lib/getty@.service.requires/plain.service":  "->../plain.service",
		"lib/getty@tty1.service.wants/only1.service": "->../only1.service",
	})
	s := load(t, etc, lib)
	u := s.Get("multi-user.target")
	if want := []string{"a.service", "b.service", "c.service"}; !reflect.DeepEqual(u.Unit.Wants, want) && !reflect.DeepEqual(values(u, "Wants"), []string{"a.service"}) {
		t.Errorf("Wants %v", u.Unit.Wants)
	}
	if !contains(u.Unit.Wants, "b.service") || !contains(u.Unit.Wants, "c.service") || contains(u.Unit.Wants, "bad name") {
		t.Errorf("Wants %v", u.Unit.Wants)
	}
	if !reflect.DeepEqual(u.Unit.Requires, []string{"d.service"}) || !reflect.DeepEqual(u.Unit.Upholds, []string{"e.service"}) {
		t.Errorf("Requires %v Upholds %v", u.Unit.Requires, u.Unit.Upholds)
	}
	if len(s.Diags()) != 1 || !strings.Contains(s.Diags()[0].Msg, "not a valid unit name") {
		t.Errorf("set diags %v", s.Diags())
	}
	g := s.Get("getty@tty1.service")
	if !reflect.DeepEqual(g.Unit.Wants, []string{"only1.service", "helper@tty1.service"}) || !reflect.DeepEqual(g.Unit.Requires, []string{"plain.service"}) {
		t.Errorf("instance Wants %v Requires %v", g.Unit.Wants, g.Unit.Requires)
	}
	if g2 := s.Get("getty@tty2.service"); !reflect.DeepEqual(g2.Unit.Wants, []string{"helper@tty2.service"}) {
		t.Errorf("tty2 Wants %v", g2.Unit.Wants)
	}
}

func contains(list []string, v string) bool {
	for _, o := range list {
		if o == v {
			return true
		}
	}
	return false
}

func TestLoadBadInput(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "units")
	elf, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	tree(t, root, map[string]string{
		"units/good.service":          "[Service]\nExecStart=/bin/true\nEnvironment=X=good\n",
		"units/garbage.service":       string(elf),
		"units/loop.service":          "->loop.service",
		"units/dir.service":           "DIR",
		"units/dangling.service":      "->/nonexistent/x.service",
		"units/badheader.service":     "[Service\nX=1\n",
		"units/good.service.d/x.conf": "[Service]\nEnvironment=X=drop\n",
	})
	huge := filepath.Join(dir, "huge.service")
	if err := os.WriteFile(huge, []byte("[Service]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 100<<20); err != nil { // sparse: no 100 MB written
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.service"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := load(t, dir)
	if u := s.Get("good.service"); u.LoadState != Loaded || !reflect.DeepEqual(values(u, "X"), []string{"good", "drop"}) || len(u.Diags) != 0 {
		t.Errorf("good.service: %s %v %v", u.LoadState, values(u, "X"), u.Diags)
	}
	for name, msg := range map[string]string{
		"garbage.service":   "NUL byte",
		"loop.service":      "symlink loop",
		"dir.service":       "is a directory",
		"dangling.service":  "dangling symlink",
		"huge.service":      "larger than",
		"fifo.service":      "not a regular file",
		"badheader.service": "invalid section header",
	} {
		u := s.Get(name)
		if u.LoadState != LoadError || len(u.Diags) == 0 || !strings.Contains(fmt.Sprint(u.Diags), msg) {
			t.Errorf("%s: %s %v, want error containing %q", name, u.LoadState, u.Diags, msg)
		}
		for _, d := range u.Diags {
			if d.Pos.File == "" || d.Unit != name {
				t.Errorf("%s: diag without file or unit: %+v", name, d)
			}
		}
	}
	if got := len(s.Diags()); got != 5 {
		t.Errorf("set diags: %d %v", got, s.Diags())
	}
}

func TestDefaultSearchPath(t *testing.T) {
	t.Setenv("SYSTEMD_UNIT_PATH", "")
	def := DefaultSearchPath()
	if def[0] != "/etc/systemd/system" || def[len(def)-1] != "/usr/lib/systemd/system" || len(def) != 5 {
		t.Errorf("default %v", def)
	}
	t.Setenv("SYSTEMD_UNIT_PATH", "/a:/b")
	if got := DefaultSearchPath(); !reflect.DeepEqual(got, []string{"/a", "/b"}) {
		t.Errorf("override %v", got)
	}
	t.Setenv("SYSTEMD_UNIT_PATH", "/a:")
	if got := DefaultSearchPath(); !reflect.DeepEqual(got, append([]string{"/a"}, def...)) {
		t.Errorf("append %v", got)
	}
}

func TestLoadPaths(t *testing.T) {
	root := t.TempDir()
	tree(t, root, map[string]string{
		"proj/app.service":          "[Service]\nExecStart=/bin/true\nEnvironment=X=app\n",
		"proj/app.service.d/a.conf": "[Service]\nEnvironment=X=drop\n",
		"proj/other.service":        "[Service]\nExecStart=/bin/true\nEnvironment=X=other\n",
		"more/m1.service":           "[Service]\nExecStart=/bin/true\nEnvironment=X=m1\n",
		"more/m2.socket":            "[Socket]\nX=m2\n",
		"sys/dep.service":           "[Service]\nExecStart=/bin/true\nEnvironment=X=dep\n",
	})
	spec := testSpecifiers()
	s := LoadPaths([]string{filepath.Join(root, "proj/app.service"), filepath.Join(root, "more"), filepath.Join(root, "nope.service")},
		Options{SearchPath: []string{filepath.Join(root, "sys")}, Specifiers: &spec})
	if got, want := s.Names(), []string{"app.service", "m1.service", "m2.socket"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names %v, want %v", got, want)
	}
	if u := s.Get("app.service"); !reflect.DeepEqual(values(u, "X"), []string{"app", "drop"}) {
		t.Errorf("app: %v", values(u, "X"))
	}
	if u := s.Get("dep.service"); u.LoadState != Loaded {
		t.Errorf("dependency from search path: %s", u.LoadState)
	}
	if d := s.Diags(); len(d) != 1 || !strings.Contains(d[0].String(), "nope.service") {
		t.Errorf("diags %v", d)
	}
}

// TestCorpus loads every unit shipped with the installed systemd.
func TestCorpus(t *testing.T) {
	dirs := []string{"/lib/systemd/system", "/usr/lib/systemd/system", "/usr/lib/systemd/user"}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("corpus directory %s: %v", d, err)
		}
	}
	spec := SystemSpecifiers()
	s := Load(Options{SearchPath: dirs, Specifiers: &spec})
	units, dropIns, warnings := 0, 0, 0
	var all []string
	for name := range s.files { // templates and aliases too
		all = append(all, name)
	}
	for _, name := range all {
		u := s.Get(name)
		units++
		dropIns += len(u.DropIns)
		for _, d := range u.Diags {
			if d.Severity == Error && d.Pos.Line > 0 {
				t.Errorf("%s", d)
			}
			if d.Severity == Warning {
				warnings++
			}
		}
		if u.LoadState == LoadError {
			t.Errorf("%s: %s %v", name, u.LoadState, u.Diags)
		}
	}
	for _, d := range s.Diags() {
		t.Errorf("set: %s", d)
	}
	if units < 50 {
		t.Errorf("only %d units in the corpus", units)
	}
	t.Logf("units %d, drop-ins %d, warnings %d", units, dropIns, warnings)
}

func BenchmarkLoad10000(b *testing.B) {
	dir := b.TempDir()
	const n = 10000
	for i := range n {
		unit := fmt.Sprintf("[Unit]\nDescription=unit %d\nAfter=u%d.service\n[Service]\nExecStart=/bin/true %d\n", i, i-1, i)
		tree(b, dir, map[string]string{
			fmt.Sprintf("u%d.service", i):             unit,
			fmt.Sprintf("u%d.service.d/10-x.conf", i): "[Service]\nEnvironment=A=1\n",
		})
	}
	spec := testSpecifiers()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s := Load(Options{SearchPath: []string{dir}, Specifiers: &spec})
		if len(s.Names()) != n {
			b.Fatalf("%d units", len(s.Names()))
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "units/s")
}

// Files someone may plant where the loader looks (issue 18, item 12): a
// FIFO, a socket or a device among a unit's drop-ins is skipped with a
// warning and never opened, and the unit loads with its other drop-ins; a
// plain file in a .wants/ directory is ignored as systemd ignores it (only
// symlinks count).
func TestLoadPlantedFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "units")
	tree(t, root, map[string]string{
		"units/victim.service":                    "[Service]\nExecStart=/bin/true\nEnvironment=X=unit\n",
		"units/victim.service.d/10-good.conf":     "[Service]\nEnvironment=X=drop\n",
		"units/multi-user.target":                 "[Unit]\nDescription=m\n",
		"units/multi-user.target.wants/a.service": "->../victim.service",
		"units/multi-user.target.wants/b.service": "[Service]\nExecStart=/bin/true\n",
	})
	if err := syscall.Mkfifo(filepath.Join(dir, "victim.service.d", "20-fifo.conf"), 0o666); err != nil {
		t.Fatal(err)
	}
	sock, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(sock)
	if err := syscall.Bind(sock, &syscall.SockaddrUnix{Name: filepath.Join(dir, "victim.service.d", "30-sock.conf")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan *Set, 1)
	go func() { done <- load(t, dir) }()
	var s *Set
	select {
	case s = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("loading hangs on a FIFO drop-in")
	}
	u := s.Get("victim.service")
	if u.LoadState != Loaded || !reflect.DeepEqual(values(u, "X"), []string{"unit", "drop"}) {
		t.Errorf("victim.service: %s X=%v %v", u.LoadState, values(u, "X"), u.Diags)
	}
	if len(u.DropIns) != 1 || filepath.Base(u.DropIns[0]) != "10-good.conf" {
		t.Errorf("drop-ins %v, want only 10-good.conf", u.DropIns)
	}
	warned := map[string]bool{}
	for _, d := range s.Diags() {
		if d.Severity == Warning {
			warned[filepath.Base(d.Pos.File)] = true
		}
	}
	for _, f := range []string{"20-fifo.conf", "30-sock.conf", "b.service"} {
		if !warned[f] {
			t.Errorf("no warning for %s: %v", f, s.Diags())
		}
	}
	if m := s.Get("multi-user.target"); !reflect.DeepEqual(m.Unit.Wants, []string{"a.service"}) {
		t.Errorf("multi-user.target Wants %v, want [a.service] (b.service is a plain file)", m.Unit.Wants)
	}
}

// ReadRegularFile (also used for EnvironmentFile=) never blocks on a FIFO
// and never reads more than its limit.
func TestReadRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	null := filepath.Join(dir, "null")
	if err := os.Symlink("/dev/null", null); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 2000), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "a FIFO", zero: "a character device", big: "larger than the 1000 byte limit"} {
		done := make(chan error, 1)
		go func() { _, err := ReadRegularFile(path, 1000); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want an error saying %q", filepath.Base(path), err, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: ReadRegularFile hangs", filepath.Base(path))
		}
	}
	if data, err := ReadRegularFile(null, 1000); err != nil || len(data) != 0 {
		t.Errorf("/dev/null: %q %v, want empty", data, err)
	}
}
