package unitfile

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestBuildTimer(t *testing.T) {
	// Debian's apt-daily.timer and systemd-tmpfiles-clean.timer, merged.
	u := buildText(t, "apt-daily.timer", `[Unit]
Description=Daily apt download activities

[Timer]
OnCalendar=*-*-* 6,18:00
RandomizedDelaySec=12h
Persistent=true
OnBootSec=15min
OnUnitActiveSec=1d
AccuracySec=1h
WakeSystem=yes
OnClockChange=yes

[Install]
WantedBy=timers.target
`)
	if u.LoadState != Loaded || len(u.Diags) != 0 {
		t.Fatalf("load %s: %s", u.LoadState, diagsText(u))
	}
	tm := u.Timer
	if tm == nil || tm.Unit != "apt-daily.service" || !tm.Persistent || !tm.RemainAfterElapse || tm.AccuracySec != time.Hour || tm.RandomizedDelaySec != 12*time.Hour || !tm.WakeSystem {
		t.Fatalf("timer: %+v", tm)
	}
	if len(tm.Values) != 3 || tm.Values[0].Base != "OnCalendar" || tm.Values[0].Calendar == nil || tm.Values[1].Span != 15*time.Minute || tm.Values[2].Base != "OnUnitActiveSec" || tm.Values[2].Pos.Line != 9 {
		t.Fatalf("values: %+v", tm.Values)
	}
	var keys []string
	for _, e := range u.Unit.Unenforced {
		keys = append(keys, e.Key)
	}
	if strings.Join(keys, " ") != "OnClockChange WakeSystem" {
		t.Errorf("unenforced: %v", keys)
	}
	j, err := json.Marshal(u)
	if err != nil || !strings.Contains(string(j), `"timer":{"values":[{"base":"OnCalendar","calendar":"*-*-* 6,18:00","pos"`) {
		t.Errorf("json: %v %s", err, j)
	}
}

func TestBuildTimerDiags(t *testing.T) {
	u := buildText(t, "x.timer", `[Timer]
OnCalendar=daily
OnCalendar=
OnBootSec=5s
OnCalendar=*-*-* 25:00
OnActiveSec=forever
Unit=y.timer
Unit=z.service
Bogus=1
`)
	want := []string{
		"/test/x.timer:5: warning: Invalid OnCalendar=*-*-* 25:00, ignoring: invalid hour in \"25:00\": value 25 out of range",
		"/test/x.timer:6: warning: Invalid OnActiveSec=forever",
		"/test/x.timer:7: warning: Invalid Unit=y.timer",
		"/test/x.timer:9: warning: Unknown key \"Bogus\"",
	}
	got := strings.Split(diagsText(u), "\n")
	if len(got) != len(want) {
		t.Fatalf("diags:\n%s", diagsText(u))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("diag %d: %s, want %s...", i, got[i], want[i])
		}
	}
	if u.LoadState != Loaded || len(u.Timer.Values) != 1 || u.Timer.Values[0].Base != "OnBootSec" || u.Timer.Unit != "z.service" {
		t.Fatalf("%s %+v", u.LoadState, u.Timer)
	}
	// No trigger at all: refused, as systemd's timer_verify() does.
	u = buildText(t, "e.timer", "[Timer]\nPersistent=yes\n")
	if u.LoadState != BadSetting || !strings.Contains(diagsText(u), "/test/e.timer:2: Timer unit lacks value setting. Refusing.") {
		t.Fatalf("%s %s", u.LoadState, diagsText(u))
	}
	u = buildText(t, "f@i.timer", "[Timer]\nOnActiveSec=1\n")
	if u.Timer.Unit != "f@i.service" {
		t.Errorf("instance default unit: %s", u.Timer.Unit)
	}
}

// The control API sends units as JSON: a timer's calendar comes back whole.
func TestTimerJSONRoundTrip(t *testing.T) {
	u := buildText(t, "r.timer", "[Timer]\nOnCalendar=Mon *-05~07/1 UTC\n")
	j, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var back Unit
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	c := back.Timer.Values[0].Calendar
	n, ok := c.Next(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	if !ok || c.String() != "Mon *-05~07/1 UTC" || !n.Equal(time.Date(2027, 5, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%q %v", c, n)
	}
}
