//go:build linux || freebsd

package control

import (
	"errors"
	"path"
	"strconv"
	"strings"
	"syscall"

	"gosd/internal/dbus"
	"gosd/manager"
)

// This file is the Manager methods systemd's own systemctl calls beyond
// the job methods: daemon-reload, the unit-file verbs (enable, disable,
// mask, is-enabled, list-unit-files, get-default, set-default), the unit
// listings, kill, reset-failed and the environment block.

// busManagerMethods are the methods served here, for Introspect.
var busManagerMethods = []busMethod{
	{"Reload", "", ""}, {"Reexecute", "", ""},
	{"ListUnitsFiltered", "as", "a(ssssssouso)"}, {"ListUnitsByPatterns", "asas", "a(ssssssouso)"},
	{"ListUnitsByNames", "as", "a(ssssssouso)"},
	{"ListUnitFiles", "", "a(ss)"}, {"ListUnitFilesByPatterns", "asas", "a(ss)"},
	{"GetUnitFileState", "s", "s"}, {"GetUnitFileLinks", "sb", "as"},
	{"EnableUnitFiles", "asbb", "ba(sss)"}, {"EnableUnitFilesWithFlags", "ast", "ba(sss)"},
	{"ReenableUnitFiles", "asbb", "ba(sss)"}, {"ReenableUnitFilesWithFlags", "ast", "ba(sss)"},
	{"DisableUnitFiles", "asb", "a(sss)"}, {"DisableUnitFilesWithFlags", "ast", "a(sss)"},
	{"DisableUnitFilesWithFlagsAndInstallInfo", "ast", "ba(sss)"},
	{"MaskUnitFiles", "asbb", "a(sss)"}, {"UnmaskUnitFiles", "asb", "a(sss)"},
	{"GetDefaultTarget", "", "s"}, {"SetDefaultTarget", "sb", "a(sss)"},
	{"GetUnitProcesses", "s", "a(sus)"},
	{"KillUnit", "ssi", ""}, {"ResetFailed", "", ""}, {"ResetFailedUnit", "s", ""},
	{"SetEnvironment", "as", ""}, {"UnsetEnvironment", "as", ""}, {"UnsetAndSetEnvironment", "asas", ""},
	{"PowerOff", "", ""}, {"Reboot", "", ""}, {"Halt", "", ""}, {"Exit", "", ""}, {"SetExitCode", "y", ""},
}

// shutdownTargets are the targets whose start is gosd's orderly shutdown,
// with the action it ends in.
var shutdownTargets = map[string]string{
	"poweroff.target": "poweroff", "reboot.target": "reboot", "halt.target": "halt", "exit.target": "exit",
}

// powerJob answers StartUnit of a shutdown target with a job path, then
// starts the shutdown (the job never ends while gosd runs: no JobRemoved).
func (c *busConn) powerJob(m *dbus.Message, name, action string) (string, []any, error) {
	s := c.srv
	err := c.onReactor(func() {
		id := s.jobs.Add(1)
		c.reply(m, "o", []any{dbus.ObjectPath(busManagerPath + "/job/" + strconv.FormatUint(uint64(id), 10))}, nil)
		s.b.PowerOff(action)
	})
	if err != nil {
		return "", nil, err
	}
	return "", nil, errReplied
}

// Unit-file flags of the *WithFlags methods (sd-bus's SD_SYSTEMD_UNIT_*).
const (
	unitFileRuntime = 1 << 0
	unitFileForce   = 1 << 1
)

// callManagerMore serves the methods above; ok=false: not one of them.
func (c *busConn) callManagerMore(m *dbus.Message) (sig string, body []any, err error, ok bool) {
	ok = true
	switch m.Member {
	case "Reload":
		if err = args(m, ""); err != nil {
			return
		}
		var rerr error
		if err = c.onReactor(func() { rerr = c.srv.b.Reload() }); err == nil && rerr != nil {
			err = busErrorf(errFailed, "daemon-reload: %v", rerr)
		}
		return
	case "Reexecute":
		if err = args(m, ""); err != nil {
			return
		}
		var rerr error
		err = c.onReactor(func() {
			rx, can := c.srv.b.(Reexecer)
			if !can {
				rerr = busErrorf(errFailed, "daemon-reexec is not supported by this manager")
				return
			}
			rerr = rx.Reexec()
		})
		if err == nil && rerr != nil {
			err = busErrorf(errFailed, "%v", rerr)
		}
		return
	case "GetUnitProcesses":
		// What systemctl status draws the CGroup: tree from: every
		// process of the unit's cgroup (a slice's: of its members'), with
		// the cgroup it is in.
		if err = args(m, "s"); err != nil {
			return
		}
		name := m.Body[0].(string)
		var cg CgroupStats
		found, has := false, false
		err = c.onReactor(func() {
			if _, found = c.srv.b.Status(name); found {
				cg, has = c.srv.b.Cgroup(name)
			}
		})
		if err != nil {
			return
		}
		if !found {
			return "", nil, busErrorf(errNoSuchUnit, "Unit %s not loaded.", name), true
		}
		rows := []dbus.Struct{}
		if has {
			rows = processRows(rows, cg.Path, cg.Pids, cg.Children)
		}
		return "a(sus)", []any{rows}, nil, true
	case "ListUnitsFiltered", "ListUnitsByPatterns", "ListUnitsByNames":
		var states, patterns, names []string
		switch m.Member {
		case "ListUnitsFiltered":
			if err = args(m, "as"); err != nil {
				return
			}
			states = m.Body[0].([]string)
		case "ListUnitsByPatterns":
			if err = args(m, "asas"); err != nil {
				return
			}
			states, patterns = m.Body[0].([]string), m.Body[1].([]string)
		default:
			if err = args(m, "as"); err != nil {
				return
			}
			names = m.Body[0].([]string)
		}
		var list []manager.UnitStatus
		err = c.onReactor(func() {
			b := c.srv.b
			if names != nil {
				for _, n := range names {
					st, found := b.Status(n)
					if !found {
						st = manager.UnitStatus{Name: n, LoadState: "not-found", Active: "inactive", Sub: "dead"}
					}
					list = append(list, st)
				}
				return
			}
			list = b.List()
		})
		if err != nil {
			return
		}
		rows := []dbus.Struct{}
		for _, st := range list {
			if !matchAny(patterns, st.Name) || len(states) > 0 && !inStrings(states, st.LoadState, st.Active, st.Sub) {
				continue
			}
			rows = append(rows, unitRow(st))
		}
		return "a(ssssssouso)", []any{rows}, nil, true
	case "ListUnitFiles", "ListUnitFilesByPatterns":
		var states, patterns []string
		if m.Member == "ListUnitFiles" {
			if err = args(m, ""); err != nil {
				return
			}
		} else {
			if err = args(m, "asas"); err != nil {
				return
			}
			states, patterns = m.Body[0].([]string), m.Body[1].([]string)
		}
		var set *UnitFileSet
		if set, err = c.unitFiles(false, false); err != nil {
			return
		}
		rows := []dbus.Struct{}
		for _, f := range set.List() {
			if !matchAny(patterns, f.Name) || len(states) > 0 && !inStrings(states, f.State) {
				continue
			}
			rows = append(rows, dbus.Struct{c.fileOf(set, f.Name), f.State})
		}
		return "a(ss)", []any{rows}, nil, true
	case "GetUnitFileState":
		if err = args(m, "s"); err != nil {
			return
		}
		if err = unitNameArg(m.Body[0].(string)); err != nil {
			return
		}
		var set *UnitFileSet
		if set, err = c.unitFiles(false, false); err != nil {
			return
		}
		st := set.State(m.Body[0].(string))
		if st == "not-found" {
			return "", nil, busErrorf(errNoSuchFile, "No such file or directory"), true
		}
		return "s", []any{st}, nil, true
	case "GetUnitFileLinks":
		if err = args(m, "sb"); err != nil {
			return
		}
		if err = unitNameArg(m.Body[0].(string)); err != nil {
			return
		}
		var set *UnitFileSet
		if set, err = c.unitFiles(false, false); err != nil {
			return
		}
		links := set.Links(m.Body[0].(string))
		if links == nil {
			links = []string{}
		}
		return "as", []any{links}, nil, true
	case "EnableUnitFiles", "ReenableUnitFiles", "MaskUnitFiles", "DisableUnitFiles", "UnmaskUnitFiles",
		"EnableUnitFilesWithFlags", "ReenableUnitFilesWithFlags", "DisableUnitFilesWithFlags",
		"DisableUnitFilesWithFlagsAndInstallInfo":
		return c.unitFileChange(m)
	case "GetDefaultTarget":
		if err = args(m, ""); err != nil {
			return
		}
		var set *UnitFileSet
		if set, err = c.unitFiles(false, false); err != nil {
			return
		}
		file, ferr := set.find("default.target")
		if ferr != nil {
			return "", nil, busErrorf(errNoSuchFile, "No such file or directory"), true
		}
		name := "default.target"
		if t, rerr := readlink(file); rerr == nil {
			name = path.Base(t)
		}
		return "s", []any{name}, nil, true
	case "SetDefaultTarget":
		if err = args(m, "sb"); err != nil {
			return
		}
		if err = unitNameArg(m.Body[0].(string)); err != nil {
			return
		}
		var set *UnitFileSet
		if set, err = c.unitFiles(false, m.Body[1].(bool)); err != nil {
			return
		}
		changes, cerr := set.SetDefault(m.Body[0].(string))
		if cerr != nil {
			return "", nil, fileError(cerr), true
		}
		return "a(sss)", []any{changeRows(changes)}, nil, true
	case "KillUnit":
		if err = args(m, "ssi"); err != nil {
			return
		}
		if err = unitNameArg(m.Body[0].(string)); err != nil {
			return
		}
		name, whom, signum := m.Body[0].(string), m.Body[1].(string), int(m.Body[2].(int32))
		if whom == "" {
			whom = "all"
		}
		if whom != "all" && whom != "main" && whom != "control" || signum < 1 || signum > 64 {
			return "", nil, busErrorf(errInvalidArgs, "Invalid who (main, control, all) or signal."), true
		}
		var kerr error
		err = c.onReactor(func() {
			b := c.srv.b
			if st, found := b.Status(name); !found || st.LoadState == "not-found" {
				kerr = busErrorf(errNoSuchUnit, "Unit %s not loaded.", name)
				return
			}
			if e := b.Kill(name, whom, signum); e != nil {
				kerr = busErrorf(errFailed, "%v", e)
			}
		})
		if err == nil {
			err = kerr
		}
		return
	case "ResetFailed", "ResetFailedUnit":
		unit := ""
		if m.Member == "ResetFailedUnit" {
			if err = args(m, "s"); err != nil {
				return
			}
			unit = m.Body[0].(string)
		} else if err = args(m, ""); err != nil {
			return
		}
		err = c.onReactor(func() { c.srv.b.ResetFailed(unit) })
		return
	case "PowerOff", "Reboot", "Halt", "Exit":
		if err = args(m, ""); err != nil {
			return
		}
		action := strings.ToLower(m.Member)
		err = c.onReactor(func() { c.srv.b.PowerOff(action) })
		return
	case "SetExitCode":
		if err = args(m, "y"); err != nil {
			return
		}
		code := int(m.Body[0].(byte))
		var serr error
		err = c.onReactor(func() {
			ec, can := c.srv.b.(ExitCoder)
			if !can {
				serr = busErrorf(errFailed, "this manager keeps no exit code")
				return
			}
			ec.SetExitCode(code)
		})
		if err == nil {
			err = serr
		}
		return
	case "SetEnvironment", "UnsetEnvironment", "UnsetAndSetEnvironment":
		var p EnvironmentParams
		switch m.Member {
		case "SetEnvironment":
			if err = args(m, "as"); err != nil {
				return
			}
			p.Set = m.Body[0].([]string)
		case "UnsetEnvironment":
			if err = args(m, "as"); err != nil {
				return
			}
			p.Unset = m.Body[0].([]string)
		default:
			if err = args(m, "asas"); err != nil {
				return
			}
			p.Unset, p.Set = m.Body[0].([]string), m.Body[1].([]string)
		}
		if cerr := checkEnvironment(p); cerr != nil {
			return "", nil, busErrorf(errInvalidArgs, "%v", cerr), true
		}
		var serr error
		err = c.onReactor(func() {
			e, can := c.srv.b.(Environmenter)
			if !can {
				serr = busErrorf(errFailed, "no environment block in this manager")
				return
			}
			if _, aerr := ApplyEnvironment(e.Environment(), p); aerr != nil {
				serr = busErrorf(errFailed, "%v", aerr)
				return
			}
			e.SetEnvironment(p.Set, p.Unset)
		})
		if err == nil {
			err = serr
		}
		return
	}
	return "", nil, nil, false
}

const errNoSuchFile = "org.freedesktop.DBus.Error.FileNotFound"

// unitNameArg refuses a unit name that is not one (no path separators,
// a known suffix): names become paths below the unit directories.
func unitNameArg(name string) error {
	if !validUnitName(name) {
		return busErrorf(errInvalidArgs, "Unit name %s is not valid.", name)
	}
	return nil
}

// unitRow is one ListUnits row.
// processRows lists the processes of a cgroup at path and below as
// GetUnitProcesses returns them: (cgroup path, pid, command line).
func processRows(rows []dbus.Struct, path string, pids []int, children []CgroupNode) []dbus.Struct {
	for _, pid := range pids {
		rows = append(rows, dbus.Struct{path, uint32(pid), cmdline(pid)})
	}
	for _, ch := range children {
		rows = processRows(rows, path+"/"+ch.Name, ch.Pids, ch.Children)
	}
	return rows
}

func unitRow(st manager.UnitStatus) dbus.Struct {
	return dbus.Struct{st.Name, or(st.Description, st.Name), st.LoadState, st.Active, st.Sub,
		"", unitPath(st.Name), uint32(0), string(st.Job), dbus.ObjectPath("/")}
}

func inStrings(list []string, vals ...string) bool {
	for _, l := range list {
		for _, v := range vals {
			if l == v {
				return true
			}
		}
	}
	return false
}

// unitFiles is the manager's search path as a UnitFileSet (the paths
// come from the reactor; the files are read on this goroutine). runtime
// puts links below /run.
func (c *busConn) unitFiles(runtime, force bool) (*UnitFileSet, error) {
	var paths []string
	if err := c.onReactor(func() { paths = c.srv.b.UnitPaths() }); err != nil {
		return nil, err
	}
	set := NewUnitFileSet("", paths)
	set.Force = force
	if runtime {
		set.Paths = append([]string{"/run/systemd/system"}, set.Paths...)
	}
	return set, nil
}

// fileOf is the path of a unit's file for ListUnitFiles.
func (c *busConn) fileOf(set *UnitFileSet, name string) string {
	if f, err := set.find(name); err == nil {
		return f
	}
	return name
}

// changeRows is the a(sss) of unit-file changes: type, link, target.
func changeRows(changes []Change) []dbus.Struct {
	rows := []dbus.Struct{}
	for _, ch := range changes {
		if ch.Removed {
			rows = append(rows, dbus.Struct{"unlink", ch.Path, ""})
		} else {
			rows = append(rows, dbus.Struct{"symlink", ch.Path, ch.Target})
		}
	}
	return rows
}

// fileError names a unit-file failure as systemd does.
func fileError(err error) error {
	if errors.Is(err, ErrNoUnitFile) {
		return busErrorf(errNoSuchUnit, "%v", err)
	}
	return busErrorf(errFailed, "%v", err)
}

// unitFileChange serves enable, reenable, disable, mask and unmask.
func (c *busConn) unitFileChange(m *dbus.Message) (string, []any, error, bool) {
	var names []string
	var runtime, force bool
	switch {
	case strings.HasSuffix(m.Member, "WithFlags") || strings.HasSuffix(m.Member, "AndInstallInfo"):
		if err := args(m, "ast"); err != nil {
			return "", nil, err, true
		}
		names = m.Body[0].([]string)
		flags := m.Body[1].(uint64)
		runtime, force = flags&unitFileRuntime != 0, flags&unitFileForce != 0
	case m.Member == "DisableUnitFiles" || m.Member == "UnmaskUnitFiles":
		if err := args(m, "asb"); err != nil {
			return "", nil, err, true
		}
		names, runtime = m.Body[0].([]string), m.Body[1].(bool)
	default:
		if err := args(m, "asbb"); err != nil {
			return "", nil, err, true
		}
		names, runtime, force = m.Body[0].([]string), m.Body[1].(bool), m.Body[2].(bool)
	}
	for _, n := range names {
		// A path (systemctl enable /some/file.service) would link a file
		// from outside the unit directories: gosd does not link.
		if strings.Contains(n, "/") {
			return "", nil, busErrorf(errInvalidArgs, "%s: enabling a unit file by its path (linking) is not supported; name a unit in the unit directories.", n), true
		}
		if !validUnitName(n) {
			return "", nil, busErrorf(errInvalidArgs, "Unit name %s is not valid.", n), true
		}
	}
	set, err := c.unitFiles(runtime, force)
	if err != nil {
		return "", nil, err, true
	}
	var changes []Change
	verb := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m.Member, "AndInstallInfo"), "WithFlags"), "UnitFiles")
	switch verb {
	case "Enable":
		changes, err = set.Enable(names)
	case "Reenable":
		changes, err = set.Disable(names)
		if err == nil {
			var more []Change
			more, err = set.Enable(names)
			changes = append(changes, more...)
		}
	case "Disable":
		changes, err = set.Disable(names)
	case "Mask":
		changes, err = set.Mask(names)
	case "Unmask":
		changes, err = set.Unmask(names)
	}
	if err != nil {
		return "", nil, fileError(err), true
	}
	rows := changeRows(changes)
	switch m.Member {
	case "DisableUnitFiles", "DisableUnitFilesWithFlags", "MaskUnitFiles", "UnmaskUnitFiles":
		return "a(sss)", []any{rows}, nil, true
	}
	// carries_install_info: whether the units have an [Install] section.
	carries := false
	for _, n := range names {
		if st := set.State(n); st != "static" && st != "not-found" {
			carries = true
		}
	}
	return "ba(sss)", []any{carries, rows}, nil, true
}

func readlink(p string) (string, error) {
	buf := make([]byte, 4096)
	n, err := syscall.Readlink(p, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
