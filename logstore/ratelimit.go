package logstore

import (
	"sort"
	"time"
)

// journald's defaults (journald.conf(5) RateLimitIntervalSec=, RateLimitBurst=).
const (
	DefaultRateLimitInterval = 30 * time.Second
	DefaultRateLimitBurst    = 10000
)

// maxLimiterSources bounds the limiter's table; past it, sources whose
// window has ended are forgotten (their counts are 0 anyway).
const maxLimiterSources = 4096

// Limiter applies journald's per-source rate limit: at most Burst messages
// per Interval from one source (a unit); the rest of that interval's are
// dropped and counted, and the count is reported once the next interval
// begins, as journald's "Suppressed N messages from UNIT". Interval or
// Burst <= 0 turns it off. One goroutine only (the reactor).
type Limiter struct {
	Interval time.Duration
	Burst    int
	sources  map[string]*window
}

type window struct {
	begin      time.Duration
	n          int
	suppressed int
}

// Allow counts one message from source at now (a monotonic clock). ok
// false: drop it. suppressed > 0: that many were dropped in the source's
// previous interval, which just ended; say so before this message.
func (l *Limiter) Allow(source string, now time.Duration) (ok bool, suppressed int) {
	return l.AllowWith(source, now, 0, 0)
}

// AllowWith is Allow with the source's own interval and burst, each 0 for
// the limiter's (a unit's LogRateLimitIntervalSec= and LogRateLimitBurst=
// override journald's defaults for that unit).
func (l *Limiter) AllowWith(source string, now, interval time.Duration, burst int) (ok bool, suppressed int) {
	if interval == 0 {
		interval = l.Interval
	}
	if burst == 0 {
		burst = l.Burst
	}
	if interval <= 0 || burst <= 0 {
		return true, 0
	}
	if l.sources == nil {
		l.sources = map[string]*window{}
	}
	w := l.sources[source]
	if w == nil {
		if len(l.sources) >= maxLimiterSources {
			l.prune(now)
		}
		w = &window{begin: now}
		l.sources[source] = w
	}
	if now-w.begin >= interval {
		suppressed = w.suppressed
		*w = window{begin: now}
	}
	if w.n >= burst {
		w.suppressed++
		return false, suppressed
	}
	w.n++
	return true, suppressed
}

func (l *Limiter) prune(now time.Duration) {
	for k, w := range l.sources {
		if now-w.begin >= l.Interval && w.suppressed == 0 {
			delete(l.sources, k)
		}
	}
	if len(l.sources) >= maxLimiterSources {
		// Every source is busy: forget them all rather than grow.
		clear(l.sources)
	}
}

// Flush reports, sorted by source, each count of messages suppressed in a
// window that has not ended yet, and clears it: at exit, so that no count
// goes unsaid. One goroutine only, as Allow.
func (l *Limiter) Flush(report func(source string, suppressed int)) {
	var sources []string
	for k, w := range l.sources {
		if w.suppressed > 0 {
			sources = append(sources, k)
		}
	}
	sort.Strings(sources)
	for _, k := range sources {
		report(k, l.sources[k].suppressed)
		l.sources[k].suppressed = 0
	}
}
