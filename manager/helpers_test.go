package manager

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosd/unitfile"
)

// memSource is an in-memory UnitSource; templates are instantiated on Get.
type memSource map[string]*unitfile.Unit

func (s memSource) Get(name string) *unitfile.Unit {
	if u := s[name]; u != nil {
		return u
	}
	if at := strings.IndexByte(name, '@'); at >= 0 {
		dot := strings.LastIndexByte(name, '.')
		if dot > at {
			if t := s[name[:at+1]+name[dot:]]; t != nil {
				c := *t
				if t.Service != nil {
					sv := *t.Service
					c.Service = &sv
				}
				c.Name, c.Template, c.Instance = name, t.Name, name[at+1:dot]
				return &c
			}
		}
	}
	return &unitfile.Unit{Name: name, Type: unitType(name), LoadState: unitfile.NotFound}
}

func (s memSource) Names() []string {
	var out []string
	for n := range s {
		if !strings.Contains(n, "@.") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (s memSource) add(us ...*unitfile.Unit) memSource {
	for _, u := range us {
		s[u.Name] = u
	}
	return s
}

func baseUnit(name string) *unitfile.Unit {
	return &unitfile.Unit{
		Name: name, Type: unitType(name), LoadState: unitfile.Loaded,
		Unit: unitfile.UnitSection{
			DefaultDependencies: true, JobTimeoutSec: unitfile.Infinity,
			StartLimitIntervalSec: 10 * time.Second, StartLimitBurst: 5,
			StartLimitAction: "none", FailureAction: "none", SuccessAction: "none",
			FailureActionExitStatus: -1, SuccessActionExitStatus: -1,
		},
	}
}

func cmd(path string, args ...string) unitfile.ExecCommand {
	return unitfile.ExecCommand{Path: path, Argv: append([]string{path}, args...)}
}

// svc makes a service with the loader's defaults and one ExecStart.
func svc(name, typ string) *unitfile.Unit {
	u := baseUnit(name)
	u.Service = &unitfile.Service{
		Type: typ, ExecStart: []unitfile.ExecCommand{cmd("/bin/" + strings.TrimSuffix(name, ".service"))},
		RestartSec: 100 * time.Millisecond, TimeoutStartSec: 90 * time.Second,
		TimeoutStopSec: 90 * time.Second, TimeoutAbortSec: 90 * time.Second,
		RuntimeMaxSec: unitfile.Infinity, Restart: "no", NotifyAccess: "none", GuessMainPID: true,
		Kill: unitfile.KillContext{KillMode: "control-group", KillSignal: int(syscall.SIGTERM),
			RestartKillSignal: int(syscall.SIGTERM), SendSIGKILL: true,
			FinalKillSignal: int(syscall.SIGKILL), WatchdogSignal: int(syscall.SIGABRT)},
	}
	if typ == "notify" || typ == "notify-reload" {
		u.Service.NotifyAccess = "main"
	}
	return u
}

func target(name string, wants ...string) *unitfile.Unit {
	u := baseUnit(name)
	u.Unit.Wants = wants
	return u
}

func sock(name string, accept bool) *unitfile.Unit {
	u := baseUnit(name)
	u.Socket = &unitfile.Socket{Accept: accept, MaxConnections: 64, TimeoutSec: 90 * time.Second,
		TriggerLimitIntervalSec: 2 * time.Second, TriggerLimitBurst: 20,
		Listen: []unitfile.Listen{{Kind: unitfile.ListenStream, Family: "unix", Path: "/run/" + name}}}
	if accept {
		u.Socket.TriggerLimitBurst = 200
	}
	return u
}

// harness drives a Manager with a script and keeps every effect.
type harness struct {
	t   testing.TB
	m   *Manager
	now time.Duration
	all []Effect
	pid int
}

func newHarness(t testing.TB, src memSource) *harness {
	return &harness{t: t, m: New(src), pid: 100}
}

func (h *harness) step(ev Event) []Effect {
	out := h.m.Step(h.now, ev)
	h.all = append(h.all, out...)
	return out
}

func (h *harness) advance(d time.Duration) { h.now += d }

func (h *harness) start(name string) []Effect {
	return h.step(Request{ID: 1, Unit: name, Kind: JobStart, Mode: ModeReplace})
}

// spawnAll answers every Spawn in effs with a fresh pid and returns
// unit/role -> pid (the last one for each), plus the effects that followed.
func (h *harness) spawnAll(effs []Effect) (map[string]int, []Effect) {
	pids := map[string]int{}
	var more []Effect
	queue := effs
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if sp, ok := e.(Spawn); ok {
			h.pid++
			pids[sp.Unit+"/"+sp.Role] = h.pid
			out := h.step(Spawned{ID: sp.ID, Pid: h.pid})
			more = append(more, out...)
			queue = append(queue, out...)
		}
	}
	return pids, more
}

func (h *harness) state(name string) string {
	s, ok := h.m.Status(name)
	if !ok {
		return "unknown"
	}
	return s.Active + "/" + s.Sub
}

func (h *harness) wantState(name, want string) {
	h.t.Helper()
	if got := h.state(name); got != want {
		h.t.Fatalf("%s: state %s, want %s\n%s", name, got, want, dump(h.all))
	}
}

func dump(effs []Effect) string {
	var b strings.Builder
	for _, e := range effs {
		fmt.Fprintf(&b, "  %T %+v\n", e, e)
	}
	return b.String()
}

func find[T Effect](effs []Effect) []T {
	var out []T
	for _, e := range effs {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

func spawnsOf(effs []Effect, unit string) []Spawn {
	var out []Spawn
	for _, s := range find[Spawn](effs) {
		if s.Unit == unit {
			out = append(out, s)
		}
	}
	return out
}

func jobResult(effs []Effect, unit string) (JobResult, bool) {
	for _, f := range find[JobFinished](effs) {
		if f.Unit == unit {
			return f.Result, true
		}
	}
	return "", false
}

func (h *harness) wantJob(unit string, want JobResult) {
	h.t.Helper()
	got, ok := jobResult(h.all, unit)
	if !ok || got != want {
		h.t.Fatalf("%s: job result %q (found %v), want %q\n%s", unit, got, ok, want, dump(h.all))
	}
}

func hasLog(effs []Effect, substr string) bool {
	for _, l := range find[Log](effs) {
		if strings.Contains(l.Msg, substr) {
			return true
		}
	}
	return false
}

func exited(code int) WaitStatus { return WaitStatus{Exited: true, Code: code} }
func killed(sig int) WaitStatus  { return WaitStatus{Signal: sig} }
func sigTERM() int               { return int(syscall.SIGTERM) }
func sigKILL() int               { return int(syscall.SIGKILL) }
func index(effs []Effect, f func(Effect) bool) int {
	for i, e := range effs {
		if f(e) {
			return i
		}
	}
	return -1
}
