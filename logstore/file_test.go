package logstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func waitWritten(t *testing.T, p *Persister, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Written() < n {
		if time.Now().After(deadline) {
			t.Fatalf("written %d of %d", p.Written(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPersistRotateAndReadBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gosd")
	s := New(0)
	p := s.Persist(PersistConfig{Dir: dir, Create: true, MaxUse: 40 << 10, MaxFiles: 4}, func(m string) { t.Error(m) })
	for i := 0; i < 1000; i++ {
		s.Add(Entry{Unit: "a.service", Pid: 10, Ident: "a", Priority: 6, Message: fmt.Sprintf("line %04d", i)})
	}
	s.Add(Entry{Unit: "a.service", Message: "journald has it", Forwarded: true})
	p.Close()
	files, _ := filepath.Glob(filepath.Join(dir, FileName+"*"))
	if len(files) != 4 {
		t.Fatalf("files %v, want 4 (rotated, capped)", files)
	}
	var total int64
	for _, f := range files {
		st, _ := os.Stat(f)
		total += st.Size()
	}
	if total > 40<<10 {
		t.Fatalf("persistent log uses %d bytes, cap %d", total, 40<<10)
	}
	got, err := ReadDir(dir, Filter{Units: []string{"a.service"}}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	if last.Message != "line 0999" || last.Pid != 10 || last.Ident != "a" || last.BootID != s.BootID() || last.Realtime == 0 || last.Monotonic == 0 {
		t.Fatalf("last entry read back: %+v", last)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq != got[i-1].Seq+1 {
			t.Fatalf("entries out of order or missing at %d: %d after %d", i, got[i].Seq, got[i-1].Seq)
		}
	}
	tail, _ := ReadDir(dir, Filter{}, nil, 5)
	if len(tail) != 5 || tail[4].Message != "line 0999" || tail[0].Message != "line 0995" {
		t.Fatalf("-n 5: %v", msgs(tail))
	}
}

// TestPersistAutoWaitsForDirectory: Storage=auto writes nothing until the
// directory exists, then everything still in memory, and says how many
// entries the store dropped before the writer got them.
func TestPersistAutoWaitsForDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gosd")
	s := New(4 << 10)
	p := s.Persist(PersistConfig{Dir: dir}, nil)
	defer p.Close()
	for i := 0; i < 200; i++ {
		s.Add(Entry{Unit: "early.service", Message: fmt.Sprintf("early %d", i)})
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("auto storage created the directory")
	}
	os.Mkdir(dir, 0o755)
	s.Add(Entry{Unit: "late.service", Message: "after the mount"})
	kept := uint64(s.Stats().Entries)
	waitWritten(t, p, kept)
	p.Close()
	got, _ := ReadDir(dir, Filter{}, nil, 0)
	if !strings.Contains(got[0].Message, "log entries were dropped before they reached") || p.Dropped() != 201-kept {
		t.Fatalf("first entry %q, dropped %d (kept %d of 201)", got[0].Message, p.Dropped(), kept)
	}
	if got[len(got)-1].Message != "after the mount" {
		t.Fatalf("last %q", got[len(got)-1].Message)
	}
}

// TestRestartAppendsAndMergeDedupes: a second store (the next boot, or a
// gosd after daemon-reexec) appends to the same files; a reader merging
// disk and memory sees every entry once.
func TestRestartAppendsAndMergeDedupes(t *testing.T) {
	dir := t.TempDir()
	s1 := New(0)
	p1 := s1.Persist(PersistConfig{Dir: dir}, nil)
	s1.Add(Entry{Unit: "x.service", Message: "first run"})
	p1.Close()

	s2 := New(0)
	s2.Restore(s1.All(), s1.Persisted()) // as daemon-reexec hands them over
	p2 := s2.Persist(PersistConfig{Dir: dir}, nil)
	s2.Add(Entry{Unit: "x.service", Message: "second run"})
	waitWritten(t, p2, 1)
	snap, _ := s2.QueryFollow(Filter{}, 0, nil)
	disk, err := ReadDir(dir, Filter{}, NotInMemory(snap), 0)
	if err != nil {
		t.Fatal(err)
	}
	all := Merge(disk, snap, 0)
	if got := msgs(all); len(got) != 2 || got[0] != "first run" || got[1] != "second run" {
		t.Fatalf("merged %v", got)
	}
	p2.Close()
}

func TestFormatModes(t *testing.T) {
	e := Entry{Realtime: time.Date(2026, 12, 7, 18, 38, 46, 123456000, time.UTC).UnixMicro(), Monotonic: 5123456,
		Hostname: "box", Unit: "x.service", Pid: 42, Ident: "xd", Priority: 6, Message: "hello"}
	for mode, want := range map[string]string{
		"short":             "Dec 07 18:38:46 box xd[42]: hello",
		"short-precise":     "Dec 07 18:38:46.123456 box xd[42]: hello",
		"short-iso":         "2026-12-07T18:38:46+0000 box xd[42]: hello",
		"short-iso-precise": "2026-12-07T18:38:46.123456+0000 box xd[42]: hello",
		"short-monotonic":   "[    5.123456] box xd[42]: hello",
		"cat":               "hello",
	} {
		if got := Format(e, mode, true); got != want {
			t.Errorf("-o %s: %q, want %q", mode, got, want)
		}
	}
	var back Entry
	if err := back.UnmarshalJSON([]byte(Format(e, "json", true))); err != nil || back != e {
		t.Errorf("json round trip: %+v, %v", back, err)
	}
	if j := Format(Entry{Transport: TransportDriver, Unit: "x.service"}, "json", true); !strings.Contains(j, `"UNIT":"x.service"`) {
		t.Errorf("gosd's own message about a unit: %s", j)
	}
}

// With DeferWakes, entries wait in memory until WakeWriter (gosd's loop
// wakes the writer once per turn), then all reach the disk.
func TestPersistDeferredWakes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gosd")
	s := New(0)
	s.DeferWakes()
	p := s.Persist(PersistConfig{Dir: dir, Create: true}, func(m string) { t.Error(m) })
	defer p.Close()
	waitWritten(t, p, 0)
	time.Sleep(50 * time.Millisecond) // the writer's first turn (Persist wakes it) is over
	for i := 0; i < 100; i++ {
		s.Add(Entry{Unit: "a.service", Message: fmt.Sprintf("line %d", i)})
	}
	time.Sleep(100 * time.Millisecond)
	if n := p.Written(); n != 0 {
		t.Fatalf("%d entries written before WakeWriter", n)
	}
	s.WakeWriter()
	waitWritten(t, p, 100)
}
