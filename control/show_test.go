package control

import (
	"testing"
	"time"
)

// Expected strings as systemd 252 prints them (format_timespan,
// format_timestamp_relative).
func TestFormatTimespan(t *testing.T) {
	for u, want := range map[uint64]string{
		0: "0", 100000: "100ms", 90000000: "1min 30s", 1500000: "1.500000s", 10000000: "10s",
		^uint64(0): "infinity", 3600000000: "1h", 5400000000: "1h 30min", 1: "1us", 1500: "1.500ms",
	} {
		if got := formatTimespan(u); got != want {
			t.Errorf("formatTimespan(%d) = %q, want %q", u, got, want)
		}
	}
	// At millisecond accuracy (status' Duration:), as systemctl 252
	// printed it for a timer active 1min 16.450s.
	for u, want := range map[uint64]string{76450123: "1min 16.450s", 27000: "27ms", 27400: "27ms", 1500000: "1.500s", 400: "400us"} {
		if got := formatTimespanAcc(u, 1000); got != want {
			t.Errorf("formatTimespanAcc(%d, ms) = %q, want %q", u, got, want)
		}
	}
}

func TestFormatAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		31*time.Minute + 50*time.Second: "31min ago", 3*time.Minute + 20*time.Second: "3min 20s ago",
		40 * time.Second: "40s ago", 900 * time.Millisecond: "900ms ago", 0: "now",
		time.Hour + 5*time.Minute: "1h 5min ago", 7 * time.Hour: "7h ago", 26 * time.Hour: "1 day 2h ago",
		3 * 24 * time.Hour: "3 days ago",
	} {
		if got := formatAgo(d, "ago"); got != want {
			t.Errorf("formatAgo(%v) = %q, want %q", d, got, want)
		}
	}
}
