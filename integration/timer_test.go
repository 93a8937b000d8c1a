package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Timer units on a real gosd: OnActiveSec= fires a oneshot once,
// OnActiveSec= plus OnUnitActiveSec= repeats it, and OnCalendar= (a UTC
// wall time a few seconds ahead) fires on the wall clock; status and
// list-units show the timers active (waiting).
func TestTimerUnits(t *testing.T) {
	both(t, func(t *testing.T, m mode) {
		at := time.Now().UTC().Add(4 * time.Second).Truncate(time.Second)
		spec := fmt.Sprintf("*-*-* %02d:%02d:%02d UTC", at.Hour(), at.Minute(), at.Second())
		in := start(t, m, map[string]string{
			"default.target": "[Unit]\nWants=once.timer rep.timer cal.timer\n",
			"once.timer":     "[Timer]\nOnActiveSec=1s\nAccuracySec=1us\n",
			"once.service":   "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo x >> @T@/once'\n",
			"rep.timer":      "[Timer]\nOnActiveSec=1s\nOnUnitActiveSec=1s\nAccuracySec=1us\n",
			"rep.service":    "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo x >> @T@/rep'\n",
			"cal.timer":      "[Timer]\nOnCalendar=" + spec + "\nAccuracySec=1us\n",
			"cal.service":    "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'date +%%s > @T@/cal'\n",
		})
		in.waitOutput("Reached target default.target", 20*time.Second)
		r := ctlWant(t, in, 0, "status", "cal.timer")
		if !strings.Contains(r.out, "active (waiting)") {
			t.Fatalf("cal.timer status:\n%s", r)
		}
		r = ctlWant(t, in, 0, "list-units")
		if !strings.Contains(r.out, "rep.timer") || !strings.Contains(r.out, "waiting") {
			t.Fatalf("list-units:\n%s", r)
		}
		r = ctlWant(t, in, 0, "list-timers")
		if !strings.Contains(r.out, "NEXT") || !strings.Contains(r.out, "left") || !strings.Contains(r.out, "cal.timer") ||
			!strings.Contains(r.out, "cal.service") || !strings.Contains(r.out, "3 timers listed.") {
			t.Fatalf("list-timers:\n%s", r)
		}
		in.waitFile("once", 10*time.Second)
		in.waitFor("rep.service run 3 times", 15*time.Second, func() bool { return len(lines(in.read("rep"))) >= 3 })
		// The shell creates the file before date writes to it: wait for the line.
		in.waitFor("cal.service's line", 15*time.Second, func() bool { return strings.TrimSpace(in.read("cal")) != "" })
		got := strings.TrimSpace(in.read("cal"))
		if got != fmt.Sprint(at.Unix()) {
			t.Errorf("cal.service ran at %s, want %d (%s)", got, at.Unix(), spec)
		}
		time.Sleep(1500 * time.Millisecond)
		if n := len(lines(in.read("once"))); n != 1 {
			t.Errorf("once.service ran %d times", n)
		}
		if v := showValue(t, in, "once.timer", "SubState"); v != "elapsed" {
			t.Errorf("once.timer SubState %q, want elapsed", v)
		}
		if r = ctlWant(t, in, 0, "list-timers", "once.timer"); !strings.Contains(r.out, "ago") {
			t.Errorf("list-timers once.timer: no last trigger:\n%s", r)
		}
		t.Logf("list-timers:\n%s", ctlWant(t, in, 0, "list-timers").out)
		if code := in.stop(20 * time.Second); code != 0 {
			t.Fatalf("exit %d", code)
		}
	})
}
