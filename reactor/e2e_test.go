package reactor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gosd/logstore"
	"gosd/manager"
	"gosd/unitfile"
)

// buildUnit makes a *unitfile.Unit from "Section.Key=Value" lines with the
// real typed-settings builder.
func buildUnit(t *testing.T, name string, lines ...string) *unitfile.Unit {
	t.Helper()
	var entries []unitfile.Entry
	for i, l := range lines {
		sk, v, _ := strings.Cut(l, "=")
		s, k, _ := strings.Cut(sk, ".")
		entries = append(entries, unitfile.Entry{Section: s, Key: k, Value: v, Pos: unitfile.Pos{File: name, Line: i + 1}})
	}
	u := unitfile.Build(name, entries, unitfile.BuildInfo{FragmentPath: name})
	u.Name = name
	u.Type = name[strings.LastIndex(name, ".")+1:]
	for _, d := range u.Diags {
		t.Logf("%s: %s", name, d)
	}
	return u
}

type unitList map[string]*unitfile.Unit

func (u unitList) Get(name string) *unitfile.Unit {
	if x := u[name]; x != nil {
		return x
	}
	return &unitfile.Unit{Name: name, Type: name[strings.LastIndex(name, ".")+1:], LoadState: unitfile.NotFound}
}
func (u unitList) Names() []string {
	var out []string
	for n := range u {
		out = append(out, n)
	}
	return out
}

// TestBootWithRealManager boots a target with a oneshot and a long-running
// service through manager.New, then shuts down on SIGTERM-equivalent.
func TestBootWithRealManager(t *testing.T) {
	units := unitList{
		"boot.target": buildUnit(t, "boot.target", "Unit.Description=Boot", "Unit.Wants=prep.service daemon.service",
			"Unit.After=prep.service daemon.service"),
		"prep.service": buildUnit(t, "prep.service", "Unit.Description=Prepare", "Service.Type=oneshot",
			"Service.ExecStart=/bin/sh -c 'echo prepared'", "Service.RemainAfterExit=yes"),
		"daemon.service": buildUnit(t, "daemon.service", "Unit.Description=Daemon", "Unit.After=prep.service",
			"Service.ExecStart=/bin/sleep 100"),
	}
	var console, log syncBuffer
	var r *Reactor
	reached := false
	cfg := Config{Units: units, Target: "boot.target", Manager: manager.New(units), Console: &console, Log: &log,
		NotifySocket: "-", Subreaper: true,
		Observe: func(e manager.Effect) {
			if jf, ok := e.(manager.JobFinished); ok && jf.Unit == "boot.target" && jf.Kind == manager.JobStart {
				reached = jf.Result == manager.ResultDone
				r.Feed(manager.Shutdown{Action: "exit"})
			}
		}}
	r = newReactor(t, cfg)
	code := runWithin(t, r, 20*time.Second)
	t.Logf("console:\n%s\nlog:\n%s", console.String(), log.String())
	if code != 0 || !reached {
		t.Fatalf("code %d reached %v", code, reached)
	}
	for _, want := range []string{
		"         Starting prep.service - Prepare...\n",
		"[  OK  ] Finished prep.service - Prepare.\n", // a oneshot

		"[  OK  ] Started daemon.service - Daemon.\n",
		"[  OK  ] Reached target boot.target - Boot.\n",
		"[  OK  ] Stopped daemon.service - Daemon.\n",
	} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console lacks %q", want)
		}
	}
	if lines := unitLines(r, "prep.service"); len(lines) != 1 || !strings.HasSuffix(lines[0], "] prepared") {
		t.Errorf("prep output %q", lines)
	}
}

// systemd.show_status=error (or quiet): the console shows failures only;
// the log keeps every status line.
func TestConsoleErrorsOnly(t *testing.T) {
	units := unitList{
		"boot.target": buildUnit(t, "boot.target", "Unit.Description=Boot", "Unit.Wants=good.service bad.service",
			"Unit.After=good.service bad.service"),
		"good.service": buildUnit(t, "good.service", "Unit.Description=Good", "Service.Type=oneshot",
			"Service.ExecStart=/bin/true"),
		"bad.service": buildUnit(t, "bad.service", "Unit.Description=Bad", "Service.Type=oneshot",
			"Service.ExecStart=/bin/false"),
	}
	var console, log syncBuffer
	var r *Reactor
	cfg := Config{Units: units, Target: "boot.target", Manager: manager.New(units), Console: &console, Log: &log,
		ConsoleErrorsOnly: true, NotifySocket: "-", Subreaper: true,
		Observe: func(e manager.Effect) {
			if jf, ok := e.(manager.JobFinished); ok && jf.Unit == "boot.target" && jf.Kind == manager.JobStart {
				r.Feed(manager.Shutdown{Action: "exit"})
			}
		}}
	r = newReactor(t, cfg)
	if code := runWithin(t, r, 20*time.Second); code != 0 {
		t.Fatalf("code %d\nlog:\n%s", code, log.String())
	}
	if got, want := console.String(), "[FAILED] Failed to start bad.service - Bad.\n"; got != want {
		t.Errorf("console %q, want %q", got, want)
	}
	var logged []string
	for _, e := range r.Store().Query(logstore.Filter{Units: []string{"good.service"}}, 0) {
		logged = append(logged, e.Message)
	}
	if !slices.Contains(logged, "Finished good.service - Good.") {
		t.Errorf("the log lacks good.service's status line: %q", logged)
	}
}
