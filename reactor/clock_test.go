package reactor

import (
	"testing"
	"time"

	"gosd/manager"
)

type nopStepper struct{}

func (nopStepper) Step(time.Duration, manager.Event) []manager.Effect { return nil }

// A Persistent= timer's stamp is a file whose mtime is the last trigger.
func TestTimerStamps(t *testing.T) {
	dir := t.TempDir()
	r, err := New(Config{Manager: nopStepper{}, NotifySocket: "-", TimerStampDir: dir + "/timers"})
	if err != nil {
		t.Fatal(err)
	}
	if st := r.readStamp("a.timer"); !st.Last.IsZero() {
		t.Fatalf("stamp without a file: %v", st.Last)
	}
	at := time.Date(2026, 11, 23, 0, 0, 5, 0, time.UTC)
	r.writeStamp("a.timer", at)
	if st := r.readStamp("a.timer"); !st.Last.Equal(at) || st.Unit != "a.timer" {
		t.Fatalf("stamp %+v, want %v", st, at)
	}
	c := r.clockSet()
	if c.Boot > 0 || time.Since(c.Realtime) > time.Minute || c.Realtime.Sub(time.Now()) > time.Second {
		t.Fatalf("clock %+v", c)
	}
}
