package manager

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A service a timer starts learns it (systemd.exec(5) TRIGGER_UNIT=,
// TRIGGER_TIMER_REALTIME_USEC=, TRIGGER_TIMER_MONOTONIC_USEC=); a later
// start by hand does not.
func TestTimerTriggerEnvironment(t *testing.T) {
	h := newHarness(t, memSource{}.add(timerUnit("a.timer", mono("OnActiveSec", 5*time.Second)), oneshot("a.service")))
	h.advance(time.Second)
	h.step(ClockSet{Realtime: wall, Boot: -10 * time.Second})
	h.start("a.timer")
	h.advance(5 * time.Second)
	effs := h.step(TimerFired{ID: TimerID{Unit: "a.timer", Kind: "elapse"}})
	sp := spawnsOf(effs, "a.service")
	want := []string{"TRIGGER_UNIT=a.timer",
		"TRIGGER_TIMER_MONOTONIC_USEC=" + strconv.FormatInt((16*time.Second).Microseconds(), 10),
		"TRIGGER_TIMER_REALTIME_USEC=" + strconv.FormatInt(wall.Add(5*time.Second).UnixMicro(), 10)}
	if len(sp) != 1 {
		t.Fatalf("no start:\n%s", dump(effs))
	}
	for _, w := range want {
		if !slices.Contains(sp[0].Env, w) {
			t.Fatalf("env %q lacks %q", sp[0].Env, w)
		}
	}
	h.runOnce(effs, "a.service")
	effs = h.start("a.service")
	if sp := spawnsOf(effs, "a.service"); len(sp) != 1 || slices.ContainsFunc(sp[0].Env, func(e string) bool { return strings.HasPrefix(e, "TRIGGER_") }) {
		t.Fatalf("a start by hand got a trigger:\n%s", dump(effs))
	}
}
