package logstore

import (
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultMemoryMax is the in-memory store's default cap in bytes.
const DefaultMemoryMax = 4 << 20

// Filter selects entries, as journalctl's options do.
type Filter struct {
	Units  []string `json:"units,omitempty"`  // -u: any of these units or globs (none: every unit)
	Idents []string `json:"idents,omitempty"` // -t: any of these identifiers
	// -p: priorities MinPriority..MaxPriority (0 is the most severe), when
	// HasPriority.
	MinPriority int    `json:"min_priority,omitempty"`
	MaxPriority int    `json:"max_priority,omitempty"`
	HasPriority bool   `json:"has_priority,omitempty"`
	Since       int64  `json:"since,omitempty"` // realtime µs, 0: no bound
	Until       int64  `json:"until,omitempty"` // realtime µs, 0: no bound
	BootID      string `json:"boot_id,omitempty"`
	Kernel      bool   `json:"kernel,omitempty"` // -k: the kernel's messages only
}

// Match says whether e passes the filter.
func (f *Filter) Match(e *Entry) bool {
	if len(f.Units) > 0 && !matchUnit(f.Units, e.Unit) {
		return false
	}
	if len(f.Idents) > 0 && !slices.Contains(f.Idents, e.Ident) {
		return false
	}
	if f.HasPriority && (e.Priority < f.MinPriority || e.Priority > f.MaxPriority) {
		return false
	}
	if f.Since != 0 && e.Realtime < f.Since {
		return false
	}
	if f.Until != 0 && e.Realtime > f.Until {
		return false
	}
	if f.BootID != "" && e.BootID != f.BootID {
		return false
	}
	if f.Kernel && e.Transport != TransportKernel {
		return false
	}
	return true
}

// matchUnit: unit is one of names, which may be globs (journalctl -u
// takes them).
func matchUnit(names []string, unit string) bool {
	for _, n := range names {
		if n == unit {
			return true
		}
		if strings.ContainsAny(n, "*?[") {
			if ok, _ := path.Match(n, unit); ok {
				return true
			}
		}
	}
	return false
}

// Store is the bounded in-memory log: a ring of entries whose total size
// stays under a cap, oldest dropped first, whatever their unit. Add is
// meant for one goroutine (the reactor); reads and follows may come from
// any.
type Store struct {
	mu      sync.Mutex
	ring    []Entry // circular; len(ring) is the capacity
	head, n int
	bytes   int
	max     int
	seq     uint64
	evicted uint64 // entries dropped to stay under the cap

	bootID, hostname string

	followers   map[int]follower
	followerSeq int
	wake        func() // the persistent writer's, nil without one
	// deferWake: Add only notes that the writer has work (wakePending)
	// and WakeWriter wakes it, once per batch of entries (DeferWakes).
	deferWake, wakePending bool
	persisted              uint64 // entries up to this one are on disk already (daemon-reexec)
}

type follower struct {
	f  Filter
	fn func(Entry)
}

// New makes a store of at most maxBytes (<= 0: DefaultMemoryMax).
func New(maxBytes int) *Store {
	if maxBytes <= 0 {
		maxBytes = DefaultMemoryMax
	}
	return &Store{max: maxBytes, bootID: BootID(), hostname: hostname()}
}

// BootID is the store's boot id (the kernel's, "" where it has none).
func (s *Store) BootID() string { return s.bootID }

// Add stamps e (sequence number, timestamps when zero, boot id, hostname)
// and keeps it, dropping the oldest entries over the cap; followers whose
// filter matches get it. It returns the stored entry.
func (s *Store) Add(e Entry) Entry {
	if e.Realtime == 0 || e.Monotonic == 0 {
		rt, mono := now()
		if e.Realtime == 0 {
			e.Realtime = rt
		}
		if e.Monotonic == 0 {
			e.Monotonic = mono
		}
	}
	s.mu.Lock()
	s.seq++
	e.Seq = s.seq
	if e.BootID == "" {
		e.BootID = s.bootID
	}
	if e.Hostname == "" {
		e.Hostname = s.hostname
	}
	s.push(e)
	var fns []func(Entry)
	for _, f := range s.followers {
		if f.f.Match(&e) {
			fns = append(fns, f.fn)
		}
	}
	wake := s.wake
	if wake != nil && !e.Forwarded && s.deferWake {
		s.wakePending, wake = true, nil
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn(e)
	}
	if wake != nil && !e.Forwarded {
		wake()
	}
	return e
}

// DeferWakes makes Add leave the persistent writer asleep until
// WakeWriter: an owner that adds entries in bursts (gosd's loop, once per
// turn) wakes it once per burst instead of once per entry. Measured: at
// 1000 units, a wake per console line was 6% of gosd's CPU to the target
// (a futex wake and a writer turn for each line).
func (s *Store) DeferWakes() {
	s.mu.Lock()
	s.deferWake = true
	s.mu.Unlock()
}

// WakeWriter wakes the persistent writer if entries came since the last
// wake (DeferWakes); it never waits.
func (s *Store) WakeWriter() {
	s.mu.Lock()
	wake := s.wake
	if !s.wakePending {
		wake = nil
	}
	s.wakePending = false
	s.mu.Unlock()
	if wake != nil {
		wake()
	}
}

// push appends e as the newest entry, dropping the oldest ones over the
// cap (s.mu held).
func (s *Store) push(e Entry) {
	sz := e.size()
	for s.n > 0 && s.bytes+sz > s.max {
		s.dropOldest()
	}
	if s.n == len(s.ring) {
		s.grow()
	}
	s.ring[(s.head+s.n)%len(s.ring)] = e
	s.n++
	s.bytes += sz
}

func (s *Store) dropOldest() {
	e := &s.ring[s.head]
	s.bytes -= e.size()
	*e = Entry{}
	s.head = (s.head + 1) % len(s.ring)
	s.n--
	s.evicted++
}

func (s *Store) grow() {
	c := max(64, 2*len(s.ring))
	ring := make([]Entry, c)
	for i := 0; i < s.n; i++ {
		ring[i] = s.ring[(s.head+i)%len(s.ring)]
	}
	s.ring, s.head = ring, 0
}

func (s *Store) at(i int) *Entry { return &s.ring[(s.head+i)%len(s.ring)] }

// Query returns the entries that match f, oldest first; lines > 0 keeps
// only the last lines of them.
func (s *Store) Query(f Filter, lines int) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.query(f, lines)
}

func (s *Store) query(f Filter, lines int) []Entry {
	var out []Entry
	if lines > 0 {
		// Walk back from the newest: the common -n 10 reads ten entries.
		for i := s.n - 1; i >= 0 && len(out) < lines; i-- {
			if e := s.at(i); f.Match(e) {
				out = append(out, *e)
			}
		}
		slices.Reverse(out)
		return out
	}
	for i := 0; i < s.n; i++ {
		if e := s.at(i); f.Match(e) {
			out = append(out, *e)
		}
	}
	return out
}

// Tails is the last n entries of each of units (exact names), oldest
// first, from one walk back through the store: `status` of many units
// costs one pass, not one per unit.
func (s *Store) Tails(units []string, n int) map[string][]Entry {
	out := make(map[string][]Entry, len(units))
	if n <= 0 {
		return out
	}
	for _, u := range units {
		out[u] = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	missing := len(out)
	for i := s.n - 1; i >= 0 && missing > 0; i-- {
		e := s.at(i)
		got, ok := out[e.Unit]
		if !ok || len(got) >= n {
			continue
		}
		if got = append(got, *e); len(got) == n {
			missing--
		}
		out[e.Unit] = got
	}
	for u, got := range out {
		slices.Reverse(got)
		out[u] = got
	}
	return out
}

// Snapshot is what a reader of the store and the persistent log needs at
// once: the matching entries in memory and the oldest entry kept at all
// (entries of this boot from before it are only on disk).
type Snapshot struct {
	Entries []Entry
	// Oldest is the monotonic time of the oldest entry in memory (0: the
	// store is empty); OldestSeq its sequence number.
	Oldest    int64
	OldestSeq uint64
	BootID    string
}

// QueryFollow is Query plus, when fn is not nil, a follow registered in the
// same critical section: every later matching Add calls fn (on the adding
// goroutine; fn must not block), and no entry falls between the two.
func (s *Store) QueryFollow(f Filter, lines int, fn func(Entry)) (Snapshot, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{Entries: s.query(f, lines), BootID: s.bootID}
	if s.n > 0 {
		snap.Oldest, snap.OldestSeq = s.at(0).Monotonic, s.at(0).Seq
	}
	if fn == nil {
		return snap, func() {}
	}
	if s.followers == nil {
		s.followers = map[int]follower{}
	}
	s.followerSeq++
	id := s.followerSeq
	s.followers[id] = follower{f: f, fn: fn}
	return snap, func() {
		s.mu.Lock()
		delete(s.followers, id)
		s.mu.Unlock()
	}
}

// after copies up to max entries with a sequence number above seq (for the
// persistent writer); first is the sequence number of the first one
// returned (above seq+1 when some were dropped before they were copied).
func (s *Store) after(seq uint64, maxEntries int) (out []Entry, first uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 || s.at(s.n-1).Seq <= seq {
		return nil, 0
	}
	oldest := s.at(0).Seq
	start := 0
	if seq >= oldest {
		start = int(seq - oldest + 1)
	}
	for i := start; i < s.n && len(out) < maxEntries; i++ {
		out = append(out, *s.at(i))
	}
	return out, out[0].Seq
}

// Followers is how many follows are registered.
func (s *Store) Followers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.followers)
}

// Stats are the store's counters.
type Stats struct {
	Entries, Bytes, Max int
	Evicted             uint64
}

// Stats reports the store's size and how many entries it dropped.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Entries: s.n, Bytes: s.bytes, Max: s.max, Evicted: s.evicted}
}

// All returns every entry in memory, oldest first (daemon-reexec hands
// them to the new gosd).
func (s *Store) All() []Entry { return s.Query(Filter{}, 0) }

// Persisted is the sequence number up to which a Persister wrote the
// entries out (daemon-reexec hands it over with the entries).
func (s *Store) Persisted() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.persisted
}

// Restore puts entries handed over by daemon-reexec back, before anything
// new; their sequence numbers are kept and new ones continue after them.
// persisted is the old store's Persisted: the next writer goes on from it.
func (s *Store) Restore(entries []Entry, persisted uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		s.push(e)
		s.seq = max(s.seq, e.Seq)
	}
	s.persisted = persisted
}

// monoBase pairs one CLOCK_MONOTONIC reading with Go's clock, whose
// monotonic reading is CLOCK_MONOTONIC too (read through the vDSO):
// entries then cost one time.Now() for both stamps, not a system call
// (x/sys's ClockGettime is one; measured at 4x the cost of a whole line).
var monoBase = func() (b struct {
	mono int64
	at   time.Time
}) {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	b.at, b.mono = time.Now(), ts.Nano()/1000
	return b
}()

// Now is CLOCK_REALTIME and CLOCK_MONOTONIC in microseconds, the stamps
// Add gives an entry that has none: a caller adding many entries received
// at once reads the clock once for all.
func Now() (realtime, monotonic int64) { return now() }

func now() (realtime, monotonic int64) {
	t := time.Now()
	return t.UnixMicro(), monoBase.mono + t.Sub(monoBase.at).Microseconds()
}

// BootID is the kernel's random boot id (Linux), "" elsewhere.
func BootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
