package reactor

import (
	"os"
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
	// A missing stamp is created at once (systemd's timer_start), so an
	// elapse missed before the next start is caught up then.
	if fi, err := os.Stat(dir + "/timers/stamp-a.timer"); err != nil || time.Since(fi.ModTime()) > time.Minute {
		t.Fatalf("no fresh stamp after the first read: %v", err)
	}
	// A symbolic link at a stamp's name is never followed.
	victim := dir + "/victim"
	os.WriteFile(victim, nil, 0o644)
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(victim, old, old)
	os.Symlink(victim, dir+"/timers/stamp-l.timer")
	r.writeStamp("l.timer", time.Now())
	r.readStamp("l.timer")
	if fi, _ := os.Stat(victim); !fi.ModTime().Equal(old) {
		t.Fatalf("the link's target was touched: %v", fi.ModTime())
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
