package reactor

import (
	"container/heap"
	"time"

	"gosd/manager"
)

// timers is a min-heap of deadlines. Re-arming or cancelling leaves the old
// entry in the heap; it is skipped when popped (its seq no longer matches).
type timers struct {
	h    timerHeap
	live map[manager.TimerID]uint64
	seq  uint64
}

type timerEntry struct {
	at  time.Duration
	id  manager.TimerID
	seq uint64
}

type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func (t *timers) set(id manager.TimerID, at time.Duration) {
	if t.live == nil {
		t.live = map[manager.TimerID]uint64{}
	}
	t.seq++
	t.live[id] = t.seq
	heap.Push(&t.h, timerEntry{at: at, id: id, seq: t.seq})
}

func (t *timers) cancel(id manager.TimerID) { delete(t.live, id) }

// next is the earliest live deadline; ok is false when none is armed (the
// reactor then sleeps without a timeout).
func (t *timers) next() (at time.Duration, ok bool) {
	for len(t.h) > 0 {
		e := t.h[0]
		if t.live[e.id] == e.seq {
			return e.at, true
		}
		heap.Pop(&t.h)
	}
	return 0, false
}

// expired pops every live deadline at or before now.
func (t *timers) expired(now time.Duration) []manager.TimerID {
	var out []manager.TimerID
	for {
		at, ok := t.next()
		if !ok || at > now {
			return out
		}
		e := heap.Pop(&t.h).(timerEntry)
		delete(t.live, e.id)
		out = append(out, e.id)
	}
}
