//go:build linux || freebsd

package reactor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gosd/manager"
	"gosd/unitfile"
)

// pathRig runs a real manager and reactor over path units, with the test
// acting on real files from its own goroutine.
type pathRig struct {
	t    *testing.T
	r    *Reactor
	m    *manager.Manager
	done chan int
	dir  string
	log  *syncBuffer
}

func startPathRig(t *testing.T, dir string, units unitList) *pathRig {
	t.Helper()
	units["test.target"] = buildUnit(t, "test.target", "Unit.Wants=p.path")
	p := &pathRig{t: t, m: manager.New(units), done: make(chan int, 1), dir: dir, log: &syncBuffer{}}
	p.r = newReactor(t, Config{Units: units, Manager: p.m, Log: p.log, Subreaper: true})
	go func() { p.done <- p.r.Run() }()
	t.Cleanup(p.stop)
	return p
}

func (p *pathRig) status(name string) manager.UnitStatus {
	ch := make(chan manager.UnitStatus, 1)
	p.r.Submit(func() { st, _ := p.m.Status(name); ch <- st })
	select {
	case st := <-ch:
		return st
	case <-time.After(10 * time.Second):
		p.t.Fatal("reactor does not answer")
		return manager.UnitStatus{}
	}
}

func (p *pathRig) state(name string) string {
	st := p.status(name)
	return st.Active + "/" + st.Sub
}

// waitFor polls cond (a real file system and a real loop: no fixed sleep
// can say when inotify has delivered).
func (p *pathRig) waitFor(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; p.path %s, runs %d\nlog:\n%s", what, p.state("p.path"), p.runs(), p.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runs counts the runs of p.service (one line each in DIR/runs).
func (p *pathRig) runs() int {
	b, _ := os.ReadFile(filepath.Join(p.dir, "runs"))
	return strings.Count(string(b), "\n")
}

func (p *pathRig) waitRuns(n int) {
	p.t.Helper()
	p.waitFor("p.service to have run "+strconv.Itoa(n)+" times", func() bool {
		return p.runs() >= n && p.state("p.service") == "inactive/dead" && p.state("p.path") != "active/running"
	})
	if got := p.runs(); got != n {
		p.t.Fatalf("p.service ran %d times, want %d", got, n)
	}
}

func (p *pathRig) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.r.Submit(func() { p.r.Feed(manager.Shutdown{Action: "exit"}) })
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Error("reactor did not exit")
	}
}

// service is p.service: one line to DIR/runs per run, then cmd.
func pathService(t *testing.T, dir, cmd string) *unitfile.Unit {
	return buildUnit(t, "p.service", "Service.Type=oneshot",
		"Service.ExecStart=/bin/sh -c 'echo run $TRIGGER_UNIT $TRIGGER_PATH >> "+dir+"/runs; "+cmd+"'")
}

// PathExists=: true at start triggers at once; then every creation of the
// file triggers (the service removes it).
func TestPathExistsRealFiles(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "sub", "flag")
	os.MkdirAll(filepath.Dir(flag), 0o755)
	os.WriteFile(flag, nil, 0o644)
	p := startPathRig(t, dir, unitList{
		"p.path":    buildUnit(t, "p.path", "Path.PathExists="+flag),
		"p.service": pathService(t, dir, "rm -f "+flag),
	})
	p.waitRuns(1)
	if st := p.state("p.path"); st != "active/waiting" {
		t.Fatalf("p.path %s", st)
	}
	// systemd.exec(5): the service learns what triggered it.
	if b, _ := os.ReadFile(filepath.Join(dir, "runs")); string(b) != "run p.path "+flag+"\n" {
		t.Fatalf("TRIGGER_UNIT, TRIGGER_PATH: %q", b)
	}
	os.WriteFile(flag, nil, 0o644)
	p.waitRuns(2)
	// The directory above goes and comes back: still watched.
	os.RemoveAll(filepath.Dir(flag))
	time.Sleep(50 * time.Millisecond)
	os.MkdirAll(filepath.Dir(flag), 0o755)
	os.WriteFile(flag, nil, 0o644)
	p.waitRuns(3)
}

// PathExistsGlob=: a matching name triggers, others do not.
func TestPathExistsGlobRealFiles(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	p := startPathRig(t, dir, unitList{
		"p.path":    buildUnit(t, "p.path", "Path.PathExistsGlob="+in+"/*.job"),
		"p.service": pathService(t, dir, "rm -f "+in+"/*.job"),
	})
	p.waitFor("p.path waiting", func() bool { return p.state("p.path") == "active/waiting" })
	os.WriteFile(filepath.Join(in, "note.txt"), nil, 0o644)
	os.WriteFile(filepath.Join(in, "a.job"), nil, 0o644)
	p.waitRuns(1)
	if _, err := os.Stat(filepath.Join(in, "note.txt")); err != nil {
		t.Fatal(err)
	}
}

// PathChanged= triggers when a file open for writing is closed, not on the
// write itself; PathModified= on the write too.
func TestPathChangedAndModifiedRealFiles(t *testing.T) {
	for _, kind := range []string{"PathChanged", "PathModified"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "conf")
			os.WriteFile(file, []byte("a\n"), 0o644)
			p := startPathRig(t, dir, unitList{
				"p.path":    buildUnit(t, "p.path", "Path."+kind+"="+file),
				"p.service": pathService(t, dir, "true"),
			})
			p.waitFor("p.path waiting", func() bool { return p.state("p.path") == "active/waiting" })
			if p.runs() != 0 {
				t.Fatalf("%s triggered at start", kind)
			}
			f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("b\n"))
			if kind == "PathModified" {
				p.waitRuns(1)
				f.Close()
				p.waitRuns(2)
				return
			}
			// Give inotify time to deliver a modify event: none may trigger.
			time.Sleep(300 * time.Millisecond)
			if n := p.runs(); n != 0 {
				t.Fatalf("PathChanged triggered on a write before close (%d runs)", n)
			}
			f.Close()
			p.waitRuns(1)
			// Removing the file is a change too.
			os.Remove(file)
			p.waitRuns(2)
		})
	}
}

// A file replaced by a rename over it (an editor's atomic save) is watched
// anew: a write to the new file triggers PathModified= (kqueue follows the
// open file, inotify the inode; both are re-armed by the fresh watch).
func TestPathModifiedFollowsAReplacedFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "conf")
	os.WriteFile(file, []byte("a\n"), 0o644)
	p := startPathRig(t, dir, unitList{
		"p.path":    buildUnit(t, "p.path", "Path.PathModified="+file),
		"p.service": pathService(t, dir, "true"),
	})
	p.waitFor("p.path waiting", func() bool { return p.state("p.path") == "active/waiting" })
	tmp := filepath.Join(dir, "conf.new")
	os.WriteFile(tmp, []byte("b\n"), 0o644)
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	// The replacement itself may trigger (the old file lost its name);
	// wait until that has settled.
	time.Sleep(300 * time.Millisecond)
	p.waitFor("p.path waiting after the rename", func() bool {
		return p.state("p.path") == "active/waiting" && p.state("p.service") == "inactive/dead"
	})
	before := p.runs()
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("c\n"))
	f.Close()
	p.waitFor("a run for the write to the new file", func() bool { return p.runs() > before })
}

// DirectoryNotEmpty= with MakeDirectory=: the directory is made with
// DirectoryMode=; a hidden file does not count, a plain one triggers.
func TestDirectoryNotEmptyRealFiles(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool", "in")
	p := startPathRig(t, dir, unitList{
		"p.path": buildUnit(t, "p.path", "Path.DirectoryNotEmpty="+spool, "Path.MakeDirectory=yes",
			"Path.DirectoryMode=0700"),
		"p.service": pathService(t, dir, "rm -f "+spool+"/*"),
	})
	p.waitFor("p.path waiting", func() bool { return p.state("p.path") == "active/waiting" })
	fi, err := os.Stat(spool)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("MakeDirectory: %v %v", fi, err)
	}
	os.WriteFile(filepath.Join(spool, ".hidden"), nil, 0o644)
	os.WriteFile(filepath.Join(spool, "x~"), nil, 0o644)
	time.Sleep(300 * time.Millisecond)
	if n := p.runs(); n != 0 {
		t.Fatalf("hidden and backup files triggered (%d runs)", n)
	}
	os.WriteFile(filepath.Join(spool, "mail"), nil, 0o644)
	p.waitRuns(1)
}

// TriggerLimitBurst=: a service that leaves the file in place is started
// again and again until the limit fails the path unit.
func TestPathTriggerLimitRealFiles(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "flag")
	os.WriteFile(flag, nil, 0o644)
	p := startPathRig(t, dir, unitList{
		"p.path": buildUnit(t, "p.path", "Path.PathExists="+flag, "Path.TriggerLimitBurst=4",
			"Path.TriggerLimitIntervalSec=1h"),
		"p.service": pathService(t, dir, "true"),
	})
	p.waitFor("p.path failed", func() bool { return p.state("p.path") == "failed/failed" })
	if st := p.status("p.path"); st.Result != "trigger-limit-hit" {
		t.Fatalf("result %q", st.Result)
	}
	p.waitFor("p.service down", func() bool { return p.state("p.service") == "inactive/dead" })
	if n := p.runs(); n != 4 {
		t.Fatalf("%d runs, want 4", n)
	}
	if !strings.Contains(p.log.String(), "Trigger limit hit") {
		t.Fatalf("log:\n%s", p.log.String())
	}
}
