package manager

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"gosd/unitfile"
)

// Units of types gosd does not run (unitfile/extern.go): a device whose
// node is missing fails its BindsTo= dependents at once; one that exists
// is active; a scope unit wanted by a target is "unsupported" and the target is
// still reached; a "-" ExecStart whose program is missing does not fail
// the unit.
func TestUnsupportedTypes(t *testing.T) {
	dev := func(name, path string) *unitfile.Unit {
		u := baseUnit(name)
		u.Unit.Description = path
		u.Unit.Asserts = []unitfile.Condition{{Kind: "PathExists", Value: path, Pos: unitfile.Pos{File: unitfile.ExternalCheck}}}
		return u
	}
	getty := svc("getty-S0.service", "simple")
	getty.Unit.BindsTo = []string{"dev-ttyS0.device"}
	getty.Unit.After = []string{"dev-ttyS0.device"}
	rf := svc("rfkill.service", "simple")
	rf.Unit.BindsTo = []string{"dev-rfkill.device"}
	rf.Unit.After = []string{"dev-rfkill.device"}
	opt := svc("opt.service", "oneshot")
	opt.Service.ExecStart = []unitfile.ExecCommand{{Path: "/sbin/modprobe", Argv: []string{"/sbin/modprobe"}, IgnoreFailure: true}}
	tm := baseUnit("apt.scope")
	h := newHarness(t, memSource{}.add(target("t.target", "getty-S0.service", "rfkill.service", "apt.scope", "opt.service"),
		dev("dev-ttyS0.device", "/dev/ttyS0"), dev("dev-rfkill.device", "/dev/rfkill"), getty, rf, tm, opt))
	effs := h.start("t.target")
	var all []Effect
	all = append(all, effs...)
	for _, c := range find[CheckConditions](effs) {
		switch c.Unit {
		case "dev-ttyS0.device":
			all = append(all, h.step(ConditionsChecked{Unit: c.Unit, Met: true, AssertOK: true})...)
		case "dev-rfkill.device":
			all = append(all, h.step(ConditionsChecked{Unit: c.Unit, Met: true, AssertOK: false,
				Failed: unitfile.ExternalCheck + ":0: AssertPathExists=/dev/rfkill"})...)
		}
	}
	for _, sp := range find[Spawn](all) {
		if sp.Unit == "opt.service" {
			all = append(all, h.step(Spawned{ID: sp.ID, Err: errors.New("/sbin/modprobe: no such file or directory")})...)
		} else {
			all = append(all, h.step(Spawned{ID: sp.ID, Pid: 100})...)
		}
	}
	h.wantState("dev-ttyS0.device", "active/plugged")
	h.wantJob("dev-rfkill.device", ResultTimeout)
	h.wantJob("rfkill.service", ResultDependency)
	h.wantJob("apt.scope", ResultUnsupported)
	h.wantState("apt.scope", "inactive/dead")
	h.wantJob("opt.service", ResultDone)
	if len(spawnsOf(all, "getty-S0.service")) != 1 {
		t.Fatalf("getty not started:\n%s", dump(all))
	}
	if !hasLog(all, "gosd follows no devices here: /dev/rfkill") || !hasLog(all, "gosd does not run scope units") {
		t.Fatalf("no explanation logged:\n%s", dump(all))
	}
	h.wantJob("t.target", ResultDone)
}

// A program that does not exist, behind the "-" prefix, is skipped as
// systemd skips it: "Executable ... missing, skipping" at info, not a
// spawn error, and the unit succeeds (the 203/EXEC it counts as is
// ignored); without the prefix it fails the unit. Both for the main
// process and a control process (ExecStartPre=).
func TestMissingExecutableSkippedWithDash(t *testing.T) {
	missing := func(ignore bool) []unitfile.ExecCommand {
		return []unitfile.ExecCommand{{Path: "/sbin/modprobe", Argv: []string{"/sbin/modprobe"}, IgnoreFailure: ignore}}
	}
	skipMain := svc("skip-main.service", "oneshot")
	skipMain.Service.ExecStart = missing(true)
	skipPre := svc("skip-pre.service", "oneshot")
	skipPre.Service.ExecStartPre = missing(true)
	fail := svc("fail.service", "oneshot")
	fail.Service.ExecStart = missing(false)
	h := newHarness(t, memSource{}.add(skipMain, skipPre, fail))
	enoent := fmt.Errorf("/sbin/modprobe: %w", fs.ErrNotExist)
	for _, name := range []string{"skip-main.service", "skip-pre.service", "fail.service"} {
		effs := h.start(name)
		for len(find[Spawn](effs)) > 0 {
			var next []Effect
			for _, sp := range find[Spawn](effs) {
				if sp.Cmd.Path == "/sbin/modprobe" {
					next = append(next, h.step(Spawned{ID: sp.ID, Err: enoent, Status: 203, Missing: true})...)
				} else {
					out := h.step(Spawned{ID: sp.ID, Pid: 100})
					next = append(next, out...)
					next = append(next, h.step(Exited{Pid: 100, Status: WaitStatus{Exited: true}})...)
				}
			}
			effs = next
		}
	}
	h.wantJob("skip-main.service", ResultDone)
	h.wantState("skip-main.service", "inactive/dead")
	h.wantJob("skip-pre.service", ResultDone)
	h.wantJob("fail.service", ResultFailed)
	h.wantState("fail.service", "failed/failed")
	var skips int
	for _, l := range find[Log](h.all) {
		if strings.Contains(l.Msg, "Executable /sbin/modprobe missing, skipping") {
			skips++
			if l.Level != LevelInfo {
				t.Errorf("skip logged at %v, want info", l.Level)
			}
		}
	}
	if skips != 2 {
		t.Errorf("want 2 skip lines, got %d:\n%s", skips, dump(h.all))
	}
}
