package logstore

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestStoreCapsTotalSizeAcrossUnits(t *testing.T) {
	s := New(64 << 10)
	msg := strings.Repeat("x", 100)
	for i := 0; i < 10000; i++ {
		s.Add(Entry{Unit: fmt.Sprintf("u%d.service", i%7), Message: msg, Priority: 6})
	}
	st := s.Stats()
	if st.Bytes > 64<<10 {
		t.Fatalf("store holds %d bytes, cap %d", st.Bytes, 64<<10)
	}
	if st.Evicted == 0 || st.Entries == 0 || uint64(st.Entries)+st.Evicted != 10000 {
		t.Fatalf("stats %+v: entries and evicted do not add up to 10000", st)
	}
	all := s.All()
	if all[len(all)-1].Seq != 10000 || all[0].Seq != 10000-uint64(len(all))+1 {
		t.Fatalf("kept seq %d..%d, want the newest", all[0].Seq, all[len(all)-1].Seq)
	}
}

func TestStoreQueryFilters(t *testing.T) {
	s := New(0)
	base := time.Now().UnixMicro()
	for i := 0; i < 30; i++ {
		s.Add(Entry{Unit: []string{"a.service", "b.service", "c.service"}[i%3], Priority: i % 8,
			Message: fmt.Sprint(i), Realtime: base + int64(i), Monotonic: int64(i + 1)})
	}
	got := s.Query(Filter{Units: []string{"a.service", "c.service"}}, 3)
	if len(got) != 3 || got[0].Message != "26" || got[1].Message != "27" || got[2].Message != "29" {
		t.Fatalf("-u a -u c -n 3: %v", msgs(got))
	}
	got = s.Query(Filter{HasPriority: true, MaxPriority: 2}, 0)
	for _, e := range got {
		if e.Priority > 2 {
			t.Fatalf("-p crit returned priority %d", e.Priority)
		}
	}
	if len(got) != 12 { // 0,1,2 of every 8 in 30: 0-2,8-10,16-18,24-26
		t.Fatalf("-p crit: %d entries %v", len(got), msgs(got))
	}
	got = s.Query(Filter{Since: base + 10, Until: base + 12}, 0)
	if len(got) != 3 || got[0].Message != "10" {
		t.Fatalf("--since/--until: %v", msgs(got))
	}
}

func msgs(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Message)
	}
	return out
}

func TestQueryFollowMissesNothing(t *testing.T) {
	s := New(0)
	s.Add(Entry{Unit: "a.service", Message: "old"})
	var seen []string
	snap, cancel := s.QueryFollow(Filter{Units: []string{"a.service"}}, 0, func(e Entry) { seen = append(seen, e.Message) })
	s.Add(Entry{Unit: "b.service", Message: "other"})
	s.Add(Entry{Unit: "a.service", Message: "new"})
	cancel()
	s.Add(Entry{Unit: "a.service", Message: "after cancel"})
	if len(snap.Entries) != 1 || snap.Entries[0].Message != "old" || snap.OldestSeq != 1 {
		t.Fatalf("snapshot %+v", snap)
	}
	if len(seen) != 1 || seen[0] != "new" {
		t.Fatalf("followed %v", seen)
	}
}

func TestLimiterAsJournald(t *testing.T) {
	l := Limiter{Interval: 30 * time.Second, Burst: 3}
	var ok int
	for i := 0; i < 10; i++ {
		if a, _ := l.Allow("flood.service", time.Second); a {
			ok++
		}
	}
	if a, _ := l.Allow("quiet.service", time.Second); !a {
		t.Fatal("one source's flood limited another")
	}
	if ok != 3 {
		t.Fatalf("%d of 10 passed, burst 3", ok)
	}
	a, suppressed := l.Allow("flood.service", 31*time.Second)
	if !a || suppressed != 7 {
		t.Fatalf("next interval: allowed %v, suppressed %d (want 7)", a, suppressed)
	}
	for i := 0; i < 2*maxLimiterSources; i++ {
		l.Allow(fmt.Sprint(i), 40*time.Second)
	}
	if len(l.sources) > maxLimiterSources {
		t.Fatalf("limiter grew to %d sources", len(l.sources))
	}
}
