package logstore

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// The persistent log: FileName in a directory (DefaultDir), one JSON
// object per line (journalctl -o json's form), rotated to FileName.1,
// .2, ... when it reaches its share of the size cap; the oldest file goes.
const (
	DefaultDir      = "/var/log/gosd"
	FileName        = "gosd.log"
	DefaultMaxUse   = 16 << 20
	DefaultMaxFiles = 4
	// batchEntries bounds how many entries the writer copies out of the
	// store under its lock at once.
	batchEntries = 512
)

// PersistConfig says where and how much the persistent log keeps.
type PersistConfig struct {
	Dir string // DefaultDir when empty
	// Create makes Dir when missing (journald's Storage=persistent);
	// otherwise the log is written only once Dir exists (Storage=auto: a
	// /var mounted later is picked up then, with everything still in
	// memory).
	Create   bool
	MaxUse   int64 // bytes over all files; DefaultMaxUse when <= 0
	MaxFiles int   // files kept, the one being written included; DefaultMaxFiles when < 2
}

func (c *PersistConfig) fill() {
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.MaxUse <= 0 {
		c.MaxUse = DefaultMaxUse
	}
	if c.MaxFiles < 2 {
		c.MaxFiles = DefaultMaxFiles
	}
}

// Persister writes a store's entries to the persistent log on its own
// goroutine: the adding goroutine only signals it, never waits for a disk.
// The store itself is the bounded queue: entries the store dropped before
// the writer copied them are lost to the disk, counted, and said so in the
// file.
type Persister struct {
	s       *Store
	cfg     PersistConfig
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	dropped atomic.Uint64
	written atomic.Uint64

	// The writer goroutine's own.
	f      *os.File
	w      *bufio.Writer
	size   int64
	last   uint64 // the last sequence number handled
	failed string // the last open/write error reported (reported once)
	errs   func(string)
}

// Persist starts writing s's entries (those already in it too) to the
// persistent log. errs (may be nil) hears about a failure to open or write
// the log, once per distinct failure, on the writer's goroutine.
func (s *Store) Persist(cfg PersistConfig, errs func(string)) *Persister {
	cfg.fill()
	p := &Persister{s: s, cfg: cfg, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), errs: errs}
	s.mu.Lock()
	p.last = s.persisted
	s.wake = p.signal
	s.mu.Unlock()
	go p.run()
	p.signal()
	return p
}

func (p *Persister) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Close writes out what is left, syncs the file to disk and stops the
// writer. Safe to call more than once.
func (p *Persister) Close() {
	p.once.Do(func() {
		p.s.mu.Lock()
		p.s.wake = nil
		p.s.mu.Unlock()
		close(p.stop)
	})
	<-p.done
}

// Dropped is how many entries never reached the disk because the store
// dropped them first; Written how many were written.
func (p *Persister) Dropped() uint64 { return p.dropped.Load() }
func (p *Persister) Written() uint64 { return p.written.Load() }

func (p *Persister) run() {
	defer close(p.done)
	for {
		stopping := false
		select {
		case <-p.wake:
		case <-p.stop:
			stopping = true
		}
		p.writeOut()
		if stopping {
			if p.f != nil {
				p.w.Flush()
				p.f.Sync()
				p.f.Close()
				p.f = nil
			}
			// Tell the store where the disk stands (a daemon-reexec hands
			// the store over and the next writer goes on from here).
			p.s.mu.Lock()
			p.s.persisted = max(p.s.persisted, p.last)
			p.s.mu.Unlock()
			return
		}
	}
}

func (p *Persister) report(msg string) {
	if msg != p.failed && p.errs != nil {
		p.errs(msg)
	}
	p.failed = msg
}

func (p *Persister) open() bool {
	if p.cfg.Create {
		if err := os.MkdirAll(p.cfg.Dir, 0o755); err != nil {
			p.report(fmt.Sprintf("persistent log: %v", err))
			return false
		}
	} else if st, err := os.Stat(p.cfg.Dir); err != nil || !st.IsDir() {
		return false // Storage=auto: not there (yet)
	}
	f, err := os.OpenFile(filepath.Join(p.cfg.Dir, FileName), os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0o640)
	if err != nil {
		p.report(fmt.Sprintf("persistent log: %v", err))
		return false
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		p.report(fmt.Sprintf("persistent log: %v", err))
		return false
	}
	p.f, p.size = f, st.Size()
	if p.w == nil {
		p.w = bufio.NewWriterSize(f, 64<<10)
	} else {
		p.w.Reset(f)
	}
	p.failed = ""
	return true
}

// writeOut writes every entry the store holds beyond p.last.
func (p *Persister) writeOut() {
	if p.f == nil && !p.open() {
		return
	}
	for {
		batch, first := p.s.after(p.last, batchEntries)
		if len(batch) == 0 {
			break
		}
		if lost := first - p.last - 1; lost > 0 {
			p.dropped.Add(lost)
			e := batch[0]
			p.write(Entry{Realtime: e.Realtime, Monotonic: e.Monotonic, BootID: e.BootID, Hostname: e.Hostname,
				Priority: 4, Facility: 3, Ident: "gosd", Transport: TransportDriver,
				Message: fmt.Sprintf("%d log entries were dropped before they reached %s", lost, p.cfg.Dir)})
		}
		for i := range batch {
			if !batch[i].Forwarded {
				p.write(batch[i])
			}
			p.last = batch[i].Seq
		}
		if p.f == nil {
			return
		}
	}
	if p.f != nil {
		if err := p.w.Flush(); err != nil {
			p.fail(err)
		}
	}
}

func (p *Persister) write(e Entry) {
	if p.f == nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	b = append(b, '\n')
	if p.size > 0 && p.size+int64(len(b)) > p.cfg.MaxUse/int64(p.cfg.MaxFiles) {
		if !p.rotate() {
			return
		}
	}
	if _, err := p.w.Write(b); err != nil {
		p.fail(err)
		return
	}
	p.size += int64(len(b))
	p.written.Add(1)
}

func (p *Persister) fail(err error) {
	p.report(fmt.Sprintf("persistent log: %v", err))
	p.f.Close()
	p.f = nil
}

// rotate renames FileName to FileName.1 (and .1 to .2, ...), dropping the
// oldest, and opens a new FileName.
func (p *Persister) rotate() bool {
	if err := p.w.Flush(); err != nil {
		p.fail(err)
		return false
	}
	p.f.Close()
	p.f = nil
	base := filepath.Join(p.cfg.Dir, FileName)
	os.Remove(base + "." + strconv.Itoa(p.cfg.MaxFiles-1))
	for i := p.cfg.MaxFiles - 2; i >= 1; i-- {
		os.Rename(base+"."+strconv.Itoa(i), base+"."+strconv.Itoa(i+1))
	}
	if err := os.Rename(base, base+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		p.report(fmt.Sprintf("persistent log: rotating: %v", err))
	}
	return p.open()
}

// ReadDir reads the persistent log in dir, oldest first, keeping the
// entries that match f and that keep (nil: all) accepts; lines > 0 keeps
// only the last lines of them. A line that does not parse (a file cut
// short by a crash) is skipped.
func ReadDir(dir string, f Filter, keep func(*Entry) bool, lines int) ([]Entry, error) {
	names, err := filepath.Glob(filepath.Join(dir, FileName+"*"))
	if err != nil {
		return nil, err
	}
	type file struct {
		path string
		n    int
	}
	var files []file
	for _, name := range names {
		suffix := strings.TrimPrefix(filepath.Base(name), FileName)
		n := 0
		if suffix != "" {
			v, err := strconv.Atoi(strings.TrimPrefix(suffix, "."))
			if err != nil || !strings.HasPrefix(suffix, ".") || v < 1 {
				continue
			}
			n = v
		}
		files = append(files, file{name, n})
	}
	// Highest number first: the oldest file.
	sort.Slice(files, func(i, j int) bool { return files[i].n > files[j].n })
	var out []Entry
	next := 0 // with lines > 0, out is a ring and next its oldest slot
	for _, fl := range files {
		fh, err := os.Open(fl.path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // rotated away meanwhile
			}
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var e Entry
			if json.Unmarshal(sc.Bytes(), &e) != nil || !f.Match(&e) || (keep != nil && !keep(&e)) {
				continue
			}
			if lines > 0 && len(out) == lines {
				out[next] = e
				next = (next + 1) % lines
				continue
			}
			out = append(out, e)
		}
		fh.Close()
	}
	if next > 0 {
		out = append(out[next:], out[:next]...)
	}
	return out, nil
}

// Merge joins what the persistent log holds (read after snap was taken, or
// before: ReadDir's keep filter drops what memory holds) with the store's
// snapshot, oldest first; lines > 0 keeps the last lines.
func Merge(disk []Entry, snap Snapshot, lines int) []Entry {
	out := append(disk, snap.Entries...)
	if lines > 0 && len(out) > lines {
		out = out[len(out)-lines:]
	}
	return out
}

// NotInMemory is ReadDir's keep filter for a store snapshot: entries of
// this boot at or after the oldest entry in memory are there already.
func NotInMemory(snap Snapshot) func(*Entry) bool {
	return func(e *Entry) bool {
		return snap.Oldest == 0 || e.BootID != snap.BootID || e.Monotonic < snap.Oldest
	}
}
