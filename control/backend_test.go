//go:build linux

package control

import (
	"fmt"
	"sync"
	"sync/atomic"

	"gosd/logstore"
	"gosd/manager"
	"gosd/unitfile"
)

// fakeBackend is a manager state in memory behind a real reactor-like
// goroutine: every Backend method must run on it (checked), as the reactor
// will require. The boundary under test is the socket protocol.
type fakeBackend struct {
	work    chan func()
	onLoop  atomic.Bool
	misuse  atomic.Int64 // Backend methods called off the loop
	mu      sync.Mutex   // guards the fields below for the test's own reads
	units   map[string]*manager.UnitStatus
	defs    map[string]*unitfile.Unit
	store   *logstore.Store
	jobs    []string // "kind unit mode", in order
	results map[string]manager.JobResult
	hold    map[string]bool // jobs of these units finish only on release
	held    []func()
	kills   []string
	power   string
	reloads int
	boot    BootTimes
	cgroups map[string]CgroupStats
}

func newFakeBackend() *fakeBackend {
	b := &fakeBackend{
		work:    make(chan func(), 1<<16),
		units:   map[string]*manager.UnitStatus{},
		defs:    map[string]*unitfile.Unit{},
		store:   logstore.New(0),
		results: map[string]manager.JobResult{},
		hold:    map[string]bool{},
		cgroups: map[string]CgroupStats{},
	}
	go func() {
		for fn := range b.work {
			b.onLoop.Store(true)
			fn()
			b.onLoop.Store(false)
		}
	}()
	return b
}

func (b *fakeBackend) check() {
	if !b.onLoop.Load() {
		b.misuse.Add(1)
	}
}

// do runs fn on the loop and waits (test setup and inspection).
func (b *fakeBackend) do(fn func()) {
	done := make(chan struct{})
	b.work <- func() { fn(); close(done) }
	<-done
}

func (b *fakeBackend) add(name, active string, def *unitfile.Unit) {
	b.do(func() {
		b.units[name] = &manager.UnitStatus{Name: name, Description: "Test " + name,
			LoadState: "loaded", Active: active, Sub: map[string]string{"active": "running", "failed": "failed"}[active]}
		if b.units[name].Sub == "" {
			b.units[name].Sub = "dead"
		}
		if def == nil {
			def = &unitfile.Unit{}
		}
		def.Name = name
		def.LoadState = unitfile.Loaded
		b.defs[name] = def
	})
}

func (b *fakeBackend) Submit(fn func()) { b.work <- fn }

func (b *fakeBackend) List() []manager.UnitStatus {
	b.check()
	var out []manager.UnitStatus
	for _, u := range b.units {
		out = append(out, *u)
	}
	return out
}

func (b *fakeBackend) Status(name string) (manager.UnitStatus, bool) {
	b.check()
	u, ok := b.units[name]
	if !ok {
		return manager.UnitStatus{}, false
	}
	return *u, true
}

func (b *fakeBackend) Unit(name string) *unitfile.Unit {
	b.check()
	if d, ok := b.defs[name]; ok {
		return d
	}
	return &unitfile.Unit{Name: name, LoadState: unitfile.NotFound}
}

func (b *fakeBackend) LogStore() (*logstore.Store, string) { return b.store, "" }

// emit logs a line on the loop, as a service's output would arrive.
func (b *fakeBackend) emit(unit, line string) {
	b.check()
	b.store.Add(logstore.Entry{Unit: unit, Message: line, Priority: 6, Transport: logstore.TransportStdout})
}

func (b *fakeBackend) Enqueue(unit string, kind manager.JobKind, mode manager.JobMode, done func(manager.JobResult)) {
	b.check()
	b.jobs = append(b.jobs, fmt.Sprintf("%s %s %s", kind, unit, mode))
	r, ok := b.results[unit]
	if !ok {
		r = manager.ResultDone
	}
	finish := func() {
		if u := b.units[unit]; u != nil && r == manager.ResultDone {
			switch kind {
			case manager.JobStop:
				u.Active, u.Sub = "inactive", "dead"
			default:
				u.Active, u.Sub = "active", "running"
			}
		}
		if done != nil {
			done(r)
		}
	}
	if b.hold[unit] {
		b.held = append(b.held, finish)
		return
	}
	// Finish in a later turn of the loop, as a real job would.
	b.work <- finish
}

func (b *fakeBackend) Kill(unit, whom string, signal int) error {
	b.check()
	b.kills = append(b.kills, fmt.Sprintf("%s %s %d", unit, whom, signal))
	return nil
}

func (b *fakeBackend) ResetFailed(unit string) {
	b.check()
	for n, u := range b.units {
		if (unit == "" || n == unit) && u.Active == "failed" {
			u.Active, u.Sub = "inactive", "dead"
		}
	}
}

func (b *fakeBackend) Reload() error     { b.check(); b.reloads++; return nil }
func (b *fakeBackend) PowerOff(a string) { b.check(); b.power = a }
func (b *fakeBackend) UnitPaths() []string {
	b.check()
	return []string{"/etc/systemd/system"}
}

func (b *fakeBackend) Boot() BootTimes { b.check(); return b.boot }

func (b *fakeBackend) Cgroup(name string) (CgroupStats, bool) {
	b.check()
	c, ok := b.cgroups[name]
	return c, ok
}
