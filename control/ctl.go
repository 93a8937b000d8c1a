package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"
	"golang.org/x/sys/unix"

	"gosd/manager"
)

// This file is the systemctl-compatible command line (gosdctl, systemctl,
// gosd ctl). cmd/gosd calls Main.

// Exit codes (systemctl(1) "EXIT STATUS", LSB).
const (
	ExitOK          = 0
	ExitFailure     = 1 // generic failure; is-failed: not failed
	ExitNotActive   = 3 // status, is-active: not running
	ExitNoSuchUnit  = 4 // status: no such unit; also access denied
	ExitJobNotFound = 5 // start/stop...: unit not loaded (systemctl's behaviour)
)

type ctlFlags struct {
	Socket   string   `help:"Control socket (default $GOSD_SOCKET or /run/gosd/control.sock)." placeholder:"PATH"`
	Output   string   `short:"o" enum:"text,json,short,short-iso,short-iso-precise,short-precise,short-monotonic,cat,json-pretty" default:"text" help:"Output format: text or json; logs also takes journalctl's short, short-iso, short-iso-precise, short-precise, short-monotonic, cat."`
	NoPager  bool     `help:"Accepted for systemctl compatibility; gosdctl never pages."`
	NoLegend bool     `help:"Omit table headers and footers."`
	Quiet    bool     `short:"q" help:"Print less."`
	All      bool     `short:"a" help:"Show all units, also inactive ones."`
	Type     []string `short:"t" sep:"," help:"Only units of these types (service, socket, target...)."`
	State    []string `sep:"," help:"Only units in these load, active or sub states."`
	Property []string `short:"p" sep:"," help:"show: only these properties; logs: the priority (err, warning..., 0-7, FROM..TO)."`
	Value    bool     `help:"show: print values only."`
	Signal   string   `short:"s" default:"SIGTERM" help:"kill: signal to send."`
	KillWhom string   `default:"all" enum:"main,control,all" help:"kill: which processes (main, control, all)."`
	Reverse  bool     `help:"list-dependencies: show what depends on the unit."`
	Lines    int      `short:"n" default:"10" help:"Log lines to show."`
	Follow   bool     `help:"logs: keep printing new lines (also -f after logs)."`
	Units    []string `short:"u" name:"unit" help:"logs: entries of this unit (repeatable, globs allowed)."`
	Since    string   `short:"S" help:"logs: entries on or after this time (YYYY-MM-DD HH:MM:SS, today, -1h ...)."`
	Until    string   `short:"U" help:"logs: entries on or before this time."`
	NoBlock  bool     `help:"Do not wait for jobs to finish."`
	Now      bool     `help:"enable/disable/mask: also start or stop the units."`
	JobMode  string   `default:"replace" enum:"replace,fail,isolate,ignore-dependencies,ignore-requirements" help:"How a job treats queued jobs."`
	Root     string   `help:"enable/disable...: operate on unit files below this root." placeholder:"DIR"`
	UnitPath []string `help:"enable/disable...: unit directories to use instead of the system path (first gets the links)." placeholder:"DIR"`
	Full     bool     `short:"l" help:"Do not shorten output."`

	// systemctl's flags that gosd takes as systemctl does.
	PropValue []string `name:"P" short:"P" help:"show: print only this property's value (--property=NAME --value)." placeholder:"NAME"`
	Force     bool     `short:"f" help:"enable, mask, set-default: replace links that are in the way."`
	Runtime   bool     `help:"enable, disable, mask, unmask: change /run/systemd/system only (until reboot)."`
	NoReload  bool     `help:"enable, disable, mask...: do not make the manager re-read unit files."`
	Failed    bool     `help:"list-units: only failed units (--state=failed)."`
	Plain     bool     `help:"list-units, list-dependencies: no marks and no tree."`
	Version   bool     `help:"Print the version and exit."`
	System    bool     `help:"Talk to the system manager (the only one gosd has)."`
	NoAskPass bool     `name:"no-ask-password" help:"Accepted for systemctl compatibility: gosd never asks for a password."`
	NoWall    bool     `help:"Accepted for systemctl compatibility: gosd sends no wall messages."`
	User      bool     `help:"Refused: gosd has no per-user managers."`
	Global    bool     `help:"Refused: gosd has no per-user managers."`
	Host      string   `short:"H" help:"Refused: gosd controls the local system only." placeholder:"HOST"`
	Machine   string   `short:"M" help:"Refused: gosd controls the local system only." placeholder:"NAME"`

	// 0: $GOSD_TIMEOUT, $SYSTEMD_BUS_TIMEOUT or 25 s (TimeoutFromEnv).
	Timeout time.Duration `help:"How long to wait for gosd's answer (jobs are waited for regardless); default $GOSD_TIMEOUT, $SYSTEMD_BUS_TIMEOUT or 25s."`
}

type unitsArg struct {
	Units []string `arg:"" optional:"" name:"unit"`
}

type noArgs struct{}

type exitArg struct {
	Code string `arg:"" optional:"" name:"exit-code"`
}

type ctlCLI struct {
	ctlFlags
	Default          noArgs     `cmd:"" default:"1" hidden:"" name:"default-list-units"`
	ListUnits        unitsArg   `cmd:"" name:"list-units" help:"List loaded units (patterns allowed; the default verb)."`
	ListUnitFiles    unitsArg   `cmd:"" name:"list-unit-files" help:"List unit files and their enablement."`
	ListSockets      unitsArg   `cmd:"" name:"list-sockets" help:"List socket units and what they listen on."`
	ListTimers       unitsArg   `cmd:"" name:"list-timers" help:"List timer units, when they elapse next and what they activate."`
	ListDependencies unitsArg   `cmd:"" name:"list-dependencies" help:"Show a unit's dependency tree."`
	Status           unitsArg   `cmd:"" help:"Show units' state and recent log."`
	Show             unitsArg   `cmd:"" help:"Show units' properties."`
	Cat              unitsArg   `cmd:"" help:"Show units' files."`
	Start            unitsArg   `cmd:"" help:"Start units."`
	Stop             unitsArg   `cmd:"" help:"Stop units."`
	Restart          unitsArg   `cmd:"" help:"Restart units."`
	TryRestart       unitsArg   `cmd:"" name:"try-restart" help:"Restart units that are running."`
	Reload           unitsArg   `cmd:"" help:"Reload units."`
	ReloadOrRestart  unitsArg   `cmd:"" name:"reload-or-restart" help:"Reload units, or restart those that cannot reload."`
	Isolate          unitsArg   `cmd:"" help:"Start a unit and stop everything it does not need."`
	Kill             unitsArg   `cmd:"" help:"Send a signal to units' processes."`
	ResetFailed      unitsArg   `cmd:"" name:"reset-failed" help:"Reset the failed state of units (all without arguments)."`
	IsActive         unitsArg   `cmd:"" name:"is-active" help:"Exit 0 if any unit is active."`
	IsFailed         unitsArg   `cmd:"" name:"is-failed" help:"Exit 0 if any unit has failed."`
	IsEnabled        unitsArg   `cmd:"" name:"is-enabled" help:"Exit 0 if any unit file is enabled."`
	Enable           unitsArg   `cmd:"" help:"Enable unit files ([Install] links)."`
	Disable          unitsArg   `cmd:"" help:"Disable unit files."`
	Reenable         unitsArg   `cmd:"" help:"Disable then enable unit files."`
	Mask             unitsArg   `cmd:"" help:"Link units to /dev/null."`
	Unmask           unitsArg   `cmd:"" help:"Undo mask."`
	DaemonReload     noArgs     `cmd:"" name:"daemon-reload" help:"Re-read unit files."`
	DaemonReexec     noArgs     `cmd:"" name:"daemon-reexec" help:"Replace gosd with the binary on disk, keeping every unit."`
	Poweroff         noArgs     `cmd:"" help:"Stop everything and power off."`
	Reboot           noArgs     `cmd:"" help:"Stop everything and reboot."`
	Halt             noArgs     `cmd:"" help:"Stop everything and halt."`
	Exit             exitArg    `cmd:"" help:"Stop everything and exit with EXIT_CODE (default 0): gosd in a container or as a supervisor (the init of a machine powers off)."`
	Logs             unitsArg   `cmd:"" help:"Show the log (-u UNIT, -n N, -f, -p PRIO, -S/-U TIME, -o MODE), as journalctl does."`
	IsSystemRunning  noArgs     `cmd:"" name:"is-system-running" help:"Print the system's state; exit 0 only when it is running."`
	GetDefault       noArgs     `cmd:"" name:"get-default" help:"Print the target the system boots into."`
	SetDefault       unitsArg   `cmd:"" name:"set-default" help:"Make a target the one the system boots into."`
	ShowEnvironment  noArgs     `cmd:"" name:"show-environment" help:"Print the manager's environment block."`
	SetEnvironment   unitsArg   `cmd:"" name:"set-environment" help:"Set variables (NAME=VALUE) in the manager's environment block."`
	UnsetEnvironment unitsArg   `cmd:"" name:"unset-environment" help:"Remove variables from the manager's environment block."`
	Analyze          analyzeCmd `cmd:"" help:"Analyze startup as systemd-analyze does: time, blame, critical-chain [UNIT], plot."`
}

type exitPanic int

// ctl is one invocation.
type ctl struct {
	ctlFlags
	name        string
	out, errw   io.Writer
	color       bool
	client      *Client
	interactive bool
	// runtimeLinks: --runtime, links go to /run/systemd/system.
	runtimeLinks bool
}

// recoverExit turns kong's exit (an exitPanic) into the deferring
// function's exit code; any other panic goes on.
func recoverExit(code *int) {
	if r := recover(); r != nil {
		if e, ok := r.(exitPanic); ok {
			*code = int(e)
			return
		}
		panic(r)
	}
}

// Main runs the client with systemctl's verbs and exit codes; name is
// how it was invoked (for messages).
func Main(name string, args []string, stdout, stderr io.Writer) (code int) {
	var cli ctlCLI
	defer recoverExit(&code)
	args = followFlag(args)
	parser, err := kong.New(&cli, kong.Name(name),
		kong.Description("Control gosd, with systemctl's verbs."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(exitPanic(c)) }))
	if err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return ExitFailure
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitFailure
	}
	c := &ctl{ctlFlags: cli.ctlFlags, name: name, out: stdout, errw: stderr}
	if code, done := c.refuseOrVersion(); done {
		return code
	}
	if f, ok := stdout.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			c.interactive = true
			c.color = os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
		}
	}
	defer func() {
		if c.client != nil {
			c.client.Close()
		}
	}()
	words := strings.Fields(kctx.Command())
	verb := words[0]
	if verb == "default-list-units" {
		verb = "list-units"
	}
	var units []string
	if v, ok := kctx.Selected().Target.Addr().Interface().(*unitsArg); ok {
		units = v.Units
	}
	if v, ok := kctx.Selected().Target.Addr().Interface().(*exitArg); ok {
		return c.exit(v.Code)
	}
	if verb == "analyze" {
		sub := "time"
		if len(words) > 1 && !strings.HasPrefix(words[1], "<") {
			sub = words[1]
		}
		return c.analyze(sub, units)
	}
	return c.run(verb, units)
}

func (c *ctl) run(verb string, units []string) int {
	needUnits := func() bool {
		if len(units) == 0 {
			c.errf("Too few arguments.")
			return false
		}
		return true
	}
	norm := func() []string {
		out := make([]string, len(units))
		for i, u := range units {
			out[i] = NormalizeName(u)
		}
		return out
	}
	switch verb {
	case "list-units":
		return c.listUnits(units)
	case "list-unit-files":
		return c.listUnitFiles(units)
	case "list-sockets":
		return c.listSockets(units)
	case "list-timers":
		return c.listTimers(units)
	case "list-dependencies":
		u := "default.target"
		if len(units) > 0 {
			u = units[0]
		}
		return c.listDependencies(NormalizeName(u))
	case "status":
		if len(units) == 0 {
			return c.systemStatus()
		}
		return c.status(norm())
	case "show":
		if len(units) == 0 {
			return c.showManager()
		}
		return c.show(norm())
	case "cat":
		if !needUnits() {
			return ExitFailure
		}
		return c.cat(norm())
	case "start", "stop", "restart", "try-restart", "reload", "reload-or-restart":
		if !needUnits() {
			return ExitFailure
		}
		return c.job(manager.JobKind(verb), manager.JobMode(c.JobMode), norm())
	case "isolate":
		if len(units) != 1 {
			c.errf("isolate takes exactly one unit.")
			return ExitFailure
		}
		u := units[0]
		if !strings.Contains(u, ".") {
			u += ".target"
		}
		return c.job(manager.JobStart, manager.ModeIsolate, []string{u})
	case "kill":
		if !needUnits() {
			return ExitFailure
		}
		return c.kill(norm())
	case "reset-failed":
		return c.simple(MethodResetFailed, UnitsParams{Units: norm()})
	case "is-active", "is-failed":
		if !needUnits() {
			return ExitFailure
		}
		return c.isState(verb, norm())
	case "is-enabled":
		if !needUnits() {
			return ExitFailure
		}
		return c.isEnabled(norm())
	case "enable", "disable", "reenable", "mask", "unmask":
		if !needUnits() {
			return ExitFailure
		}
		return c.unitFiles(verb, norm())
	case "daemon-reload":
		return c.simple(MethodReload, nil)
	case "daemon-reexec":
		return c.reexec()
	case "poweroff", "reboot", "halt":
		return c.simple(MethodPower, PowerParams{Action: verb})
	case "logs":
		return c.logs(units)
	case "is-system-running":
		return c.isSystemRunning()
	case "get-default":
		return c.getDefault()
	case "set-default":
		if len(units) != 1 {
			c.errf("set-default takes exactly one target.")
			return ExitFailure
		}
		return c.setDefault(units[0])
	case "show-environment":
		return c.showEnvironment()
	case "set-environment", "unset-environment":
		if !needUnits() {
			return ExitFailure
		}
		return c.changeEnvironment(verb, units)
	}
	c.errf("Unknown verb %s.", verb)
	return ExitFailure
}

func (c *ctl) errf(format string, args ...any) {
	fmt.Fprintf(c.errw, format+"\n", args...)
}

// call dials on first use, so verbs that need no manager work without one.
func (c *ctl) call(method string, params, result any) error {
	if c.client == nil {
		cl, err := Dial(SocketFromEnv(c.Socket))
		if err != nil {
			return fmt.Errorf("failed to connect to gosd at %s: %w", SocketFromEnv(c.Socket), err)
		}
		if c.Timeout > 0 {
			cl.Timeout = c.Timeout
		}
		c.client = cl
	}
	return c.client.Call(method, params, result)
}

// fail prints a call error the way systemctl would and picks its exit code.
func (c *ctl) fail(what string, err error) int {
	c.errf("Failed to %s: %v", what, err)
	var e *Error
	if errors.As(err, &e) {
		switch e.Code {
		case CodePermissionDenied:
			return ExitNoSuchUnit // systemctl's "access denied" is 4 too
		case CodeNoSuchUnit:
			return ExitJobNotFound
		}
	}
	return ExitFailure
}

func (c *ctl) printJSON(v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		c.errf("%v", err)
		return ExitFailure
	}
	fmt.Fprintln(c.out, string(b))
	return ExitOK
}

const (
	colGreen  = "\x1b[0;1;32m"
	colRed    = "\x1b[0;1;31m"
	colYellow = "\x1b[0;1;33m"
	colBold   = "\x1b[0;1;39m"
	colOff    = "\x1b[0m"
)

func (c *ctl) paint(color, s string) string {
	if !c.color {
		return s
	}
	return color + s + colOff
}

func (c *ctl) stateColor(active string) string {
	switch active {
	case "active", "reloading":
		return colGreen
	case "failed":
		return colRed
	}
	return ""
}

func (c *ctl) wantUnit(u UnitInfo) bool {
	if len(c.Type) > 0 {
		ok := false
		for _, t := range c.Type {
			ok = ok || strings.HasSuffix(u.Name, "."+t)
		}
		if !ok {
			return false
		}
	}
	if len(c.State) > 0 {
		for _, s := range c.State {
			if s == u.LoadState || s == u.ActiveState || s == u.SubState {
				return true
			}
		}
		return false
	}
	return c.All || u.ActiveState != "inactive" || u.Job != "" || u.LoadState != "loaded"
}

func (c *ctl) table() *tabwriter.Writer {
	return tabwriter.NewWriter(c.out, 0, 0, 1, ' ', 0)
}

func (c *ctl) listUnits(patterns []string) int {
	var list []UnitInfo
	if err := c.call(MethodList, ListParams{Patterns: patterns}, &list); err != nil {
		return c.fail("list units", err)
	}
	var shown []UnitInfo
	for _, u := range list {
		if c.wantUnit(u) {
			shown = append(shown, u)
		}
	}
	if c.Output == "json" {
		if shown == nil {
			shown = []UnitInfo{}
		}
		return c.printJSON(shown)
	}
	tw := c.table()
	if !c.NoLegend {
		head := "  UNIT\tLOAD\tACTIVE\tSUB\tDESCRIPTION"
		if c.Plain {
			head = head[2:]
		}
		fmt.Fprintln(tw, head)
	}
	for _, u := range shown {
		mark := "  "
		if u.ActiveState == "failed" || u.LoadState != "loaded" {
			mark = c.paint(colRed, "●") + " "
		}
		if c.Plain {
			mark = "" // --plain: no bullet column
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\n", mark, u.Name, u.LoadState,
			u.ActiveState, u.SubState, u.Description)
	}
	tw.Flush()
	if !c.NoLegend {
		fmt.Fprintf(c.out, "\n%d loaded units listed.", len(shown))
		if !c.All {
			fmt.Fprint(c.out, " Pass --all to see loaded but inactive units, too.")
		}
		fmt.Fprintln(c.out)
	}
	return ExitOK
}

// fileSet is the unit files the client works on: --unit-path when given,
// else the running manager's own search path (so status reports the
// enablement of the files gosd actually loaded), else systemd's default.
func (c *ctl) fileSet() *UnitFileSet {
	paths := c.UnitPath
	if len(paths) == 0 && c.Root == "" {
		var served []string
		if err := c.call(MethodUnitPaths, nil, &served); err == nil {
			paths = served
		}
	}
	set := NewUnitFileSet(c.Root, paths)
	set.Force = c.Force
	return set
}

func (c *ctl) listUnitFiles(patterns []string) int {
	var rows []UnitFileState
	for _, r := range c.fileSet().List() {
		if matchGlobs(patterns, r.Name) && c.wantFileType(r.Name) {
			rows = append(rows, r)
		}
	}
	if c.Output == "json" {
		if rows == nil {
			rows = []UnitFileState{}
		}
		return c.printJSON(rows)
	}
	tw := c.table()
	if !c.NoLegend {
		fmt.Fprintln(tw, "UNIT FILE\tSTATE\tPRESET")
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, r.State, or(r.Preset, "-"))
	}
	tw.Flush()
	if !c.NoLegend {
		fmt.Fprintf(c.out, "\n%d unit files listed.\n", len(rows))
	}
	return ExitOK
}

func (c *ctl) wantFileType(name string) bool {
	if len(c.Type) == 0 {
		return true
	}
	for _, t := range c.Type {
		if strings.HasSuffix(name, "."+t) {
			return true
		}
	}
	return false
}

func matchGlobs(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok || p == name {
			return true
		}
	}
	return false
}

func (c *ctl) listSockets(patterns []string) int {
	if len(patterns) == 0 {
		patterns = []string{"*.socket"}
	}
	var details []UnitDetail
	if err := c.call(MethodStatus, StatusParams{Units: patterns}, &details); err != nil {
		return c.fail("list sockets", err)
	}
	type row struct{ Listen, Unit, Activates string }
	var rows []row
	for _, d := range details {
		if !d.Found || d.Unit == nil || d.Unit.Socket == nil || !(c.All || d.Info.ActiveState != "inactive") {
			continue
		}
		svc := d.Unit.Socket.Service
		if svc == "" {
			svc = strings.TrimSuffix(d.Info.Name, ".socket") + ".service"
			if d.Unit.Socket.Accept {
				svc = strings.TrimSuffix(d.Info.Name, ".socket") + "@.service"
			}
		}
		for _, l := range d.Unit.Socket.Listen {
			rows = append(rows, row{l.Address, d.Info.Name, svc})
		}
	}
	if c.Output == "json" {
		if rows == nil {
			rows = []row{}
		}
		return c.printJSON(rows)
	}
	tw := c.table()
	if !c.NoLegend {
		fmt.Fprintln(tw, "LISTEN\tUNIT\tACTIVATES")
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Listen, r.Unit, r.Activates)
	}
	tw.Flush()
	if !c.NoLegend {
		fmt.Fprintf(c.out, "\n%d sockets listed.\n", len(rows))
	}
	return ExitOK
}

// listTimers is systemctl list-timers: active timers (every one with
// --all), soonest first, those with nothing planned last.
func (c *ctl) listTimers(patterns []string) int {
	if len(patterns) == 0 {
		patterns = []string{"*.timer"}
	}
	var list []UnitInfo
	if err := c.call(MethodList, ListParams{Patterns: patterns}, &list); err != nil {
		return c.fail("list timers", err)
	}
	var rows []UnitInfo
	for _, u := range list {
		if strings.HasSuffix(u.Name, ".timer") && (c.All || u.ActiveState != "inactive") {
			rows = append(rows, u)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i].NextElapseUsec, rows[j].NextElapseUsec
		return a != 0 && (b == 0 || a < b)
	})
	if c.Output == "json" {
		if rows == nil {
			rows = []UnitInfo{}
		}
		return c.printJSON(rows)
	}
	now := time.Now()
	or := func(s, none string) string {
		if s == "" {
			return none
		}
		return s
	}
	tw := c.table()
	if !c.NoLegend {
		fmt.Fprintln(tw, "NEXT\tLEFT\tLAST\tPASSED\tUNIT\tACTIVATES")
	}
	for _, u := range rows {
		left, passed := "", ""
		if u.NextElapseUsec != 0 {
			left = relative(time.UnixMicro(u.NextElapseUsec).Sub(now)) + " left"
		}
		if u.LastTriggerUsec != 0 {
			passed = relative(now.Sub(time.UnixMicro(u.LastTriggerUsec))) + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", or(fmtTime(u.NextElapseUsec), "-"), or(left, "-"),
			or(fmtTime(u.LastTriggerUsec), "-"), or(passed, "-"), u.Name, u.Triggers)
	}
	tw.Flush()
	if !c.NoLegend {
		fmt.Fprintf(c.out, "\n%d timers listed.\n", len(rows))
		if !c.All {
			fmt.Fprintln(c.out, "Pass --all to see loaded but inactive timers, too.")
		}
	}
	return ExitOK
}

// relative is a span as systemctl list-timers shows it: its two largest
// units ("6 days 2h", "1h 11min", "40s").
func relative(d time.Duration) string {
	if d < time.Second {
		return "0s"
	}
	units := []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, " days"}, {time.Hour, "h"}, {time.Minute, "min"}, {time.Second, "s"}}
	var parts []string
	for _, u := range units {
		if n := d / u.d; n > 0 && len(parts) < 2 {
			name := u.name
			if n == 1 && name == " days" {
				name = " day"
			}
			parts = append(parts, fmt.Sprintf("%d%s", n, name))
			d -= n * u.d
		} else if len(parts) > 0 {
			break
		}
	}
	return strings.Join(parts, " ")
}

func (c *ctl) listDependencies(unit string) int {
	var tree DependencyNode
	if err := c.call(MethodDependencies, DependenciesParams{Unit: unit, Reverse: c.Reverse}, &tree); err != nil {
		return c.fail("list dependencies", err)
	}
	if c.Output == "json" {
		return c.printJSON(tree)
	}
	fmt.Fprintln(c.out, tree.Unit)
	var walk func(n DependencyNode, prefix string)
	walk = func(n DependencyNode, prefix string) {
		for i, ch := range n.Children {
			branch, next := "├─", "│ "
			if i == len(n.Children)-1 {
				branch, next = "└─", "  "
			}
			dot := c.paint(c.stateColor(ch.ActiveState), "●")
			if ch.ActiveState != "active" && !c.color {
				dot = "○"
			}
			if c.Plain {
				// --plain: a list indented by depth, no tree and no bullets.
				fmt.Fprintf(c.out, "%s  %s\n", prefix, ch.Unit)
				if !ch.Cycle {
					walk(ch, prefix+"  ")
				}
				continue
			}
			fmt.Fprintf(c.out, "%s%s%s %s\n", prefix, branch, dot, ch.Unit)
			if !ch.Cycle {
				walk(ch, prefix+next)
			}
		}
	}
	walk(tree, "")
	return ExitOK
}

func (c *ctl) details(units []string, lines int) ([]UnitDetail, error) {
	var details []UnitDetail
	err := c.call(MethodStatus, StatusParams{Units: units, Lines: lines}, &details)
	return details, err
}

func fmtTime(usec int64) string {
	if usec == 0 {
		return ""
	}
	return time.UnixMicro(usec).Format("Mon 2006-01-02 15:04:05 MST")
}

// ago is how long ago a wall-clock instant was, as systemctl status
// prints it (format_timestamp_relative).
func ago(usec int64) string {
	return formatAgo(time.Since(time.UnixMicro(usec)), "ago")
}

// exitText is "code=exited, status=1/FAILURE" or "code=killed,
// signal=TERM", as systemctl status prints a process's end.
func exitText(code, status int) string {
	if code == cldExited {
		s := fmt.Sprintf("code=exited, status=%d", status)
		if n := exitStatusName(status); n != "" {
			s += "/" + n
		}
		return s
	}
	return fmt.Sprintf("code=%s, signal=%s", cldName(int64(code)), signalShort(status))
}

// status prints systemctl's layout; exit 0 if all are active, 3 if one
// is not, 4 if one is unknown.
func (c *ctl) status(units []string) int {
	lines := c.Lines
	if lines < 0 {
		lines = 0
	}
	details, err := c.details(units, lines)
	if err != nil {
		return c.fail("get status", err)
	}
	code := ExitOK
	for _, d := range details {
		if !d.Found {
			code = ExitNoSuchUnit
		} else if d.Info.ActiveState != "active" && d.Info.ActiveState != "reloading" && code == ExitOK {
			code = ExitNotActive
		}
	}
	if c.Output == "json" {
		c.printJSON(details)
		return code
	}
	files := c.fileSet()
	props, states := c.statusProps(details)
	first := true
	for _, d := range details {
		if !d.Found {
			c.errf("Unit %s could not be found.", d.Info.Name)
			continue
		}
		if !first {
			fmt.Fprintln(c.out)
		}
		first = false
		i := d.Info
		dot := "○"
		switch i.ActiveState {
		case "inactive":
		case "failed":
			dot = "×" // systemctl's mark for a failed unit
		default:
			dot = "●"
		}
		head := i.Name
		if i.Description != "" {
			head += " - " + i.Description
		}
		fmt.Fprintf(c.out, "%s %s\n", c.paint(c.stateColor(i.ActiveState), dot), head)
		loaded := i.LoadState
		if reason := loadErrorMessage(props[i.Name]); reason != "" {
			// A unit that did not load says why, as systemctl does.
			loaded += " (Reason: " + reason + ")"
		} else if d.Unit != nil && d.Unit.FragmentPath != "" {
			state := files.State(i.Name)
			if showPreset(state) {
				state += "; preset: " + files.Preset(i.Name)
			}
			loaded += fmt.Sprintf(" (%s; %s)", d.Unit.FragmentPath, state)
		}
		fmt.Fprintf(c.out, "     Loaded: %s\n", loaded)
		if d.Unit != nil && len(d.Unit.DropIns) > 0 {
			fmt.Fprintf(c.out, "    Drop-In: %s\n", strings.Join(d.Unit.DropIns, "\n             "))
		}
		// systemctl leaves the sub-state out when it repeats the state
		// ("failed (Result: exit-code)").
		active := i.ActiveState
		if i.SubState != "" && i.SubState != i.ActiveState {
			active += " (" + i.SubState + ")"
		}
		if i.Result != "" && i.Result != "success" && i.ActiveState == "failed" {
			active += fmt.Sprintf(" (Result: %s)", i.Result)
		}
		if since := sinceOf(i); since != 0 {
			active += fmt.Sprintf(" since %s; %s", fmtTime(since), ago(since))
		}
		fmt.Fprintf(c.out, "     Active: %s\n", c.paint(c.stateColor(i.ActiveState), active))
		if (i.ActiveState == "inactive" || i.ActiveState == "failed") && i.ActiveEnterUsec > 0 && i.ActiveExitUsec >= i.ActiveEnterUsec {
			// How long it was active, as systemctl prints it.
			fmt.Fprintf(c.out, "   Duration: %s\n", formatTimespanAcc(uint64(i.ActiveExitUsec-i.ActiveEnterUsec), 1000))
		}
		if i.Job != "" {
			fmt.Fprintf(c.out, "        Job: %s\n", i.Job)
		}
		c.statusExtra(props[i.Name], states)
		if i.ExecMainCode != 0 && i.MainPID == 0 && i.ExecMainPID > 0 {
			// The main process ended: how (after its Process: line).
			end := exitText(i.ExecMainCode, i.ExecMainStatus)
			if i.ExecMainCode != cldExited || i.ExecMainStatus != 0 {
				end = c.paint(colRed, end)
			}
			fmt.Fprintf(c.out, "   Main PID: %d (%s)\n", i.ExecMainPID, end)
		}
		if i.MainPID != 0 {
			fmt.Fprintf(c.out, "   Main PID: %d%s\n", i.MainPID, procName(d.MainComm))
		}
		if i.ControlPID != 0 {
			fmt.Fprintf(c.out, "Control PID: %d%s\n", i.ControlPID, procName(d.ControlComm))
		}
		if i.StatusText != "" {
			fmt.Fprintf(c.out, "     Status: %q\n", i.StatusText)
		}
		if d.Cgroup != nil {
			c.printCgroup(d.Cgroup)
		}
		if len(d.Logs) > 0 {
			fmt.Fprintln(c.out)
			for _, l := range d.Logs {
				fmt.Fprintln(c.out, l)
			}
		}
	}
	return code
}

// sinceOf is the time of the transition into the current state.
func sinceOf(i UnitInfo) int64 {
	switch i.ActiveState {
	case "active", "reloading":
		return i.ActiveEnterUsec
	case "activating":
		return i.InactiveExitUsec
	case "deactivating":
		return i.ActiveExitUsec
	}
	return i.InactiveEnterUsec
}

// procName is " (comm)" as systemctl prints it after a pid; the server
// read comm, in its own PID namespace.
func procName(comm string) string {
	if comm == "" {
		return ""
	}
	return " (" + comm + ")"
}

func (c *ctl) cat(units []string) int {
	var files []UnitFiles
	if err := c.call(MethodCat, UnitsParams{Units: units}, &files); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == CodeNoSuchUnit {
			c.errf("No files found for %s.", strings.TrimPrefix(e.Message, "no such unit: "))
			return ExitFailure
		}
		return c.fail("cat", err)
	}
	code := ExitOK
	for _, u := range files {
		for i := range u.Files {
			if f := &u.Files[i]; f.ClientReads {
				// Read with the caller's rights (FileText).
				f.Text, f.ClientReads = "", false
				if text, err := readLimited(f.Path, maxCatFile); err != nil {
					f.Error = err.Error()
				} else {
					f.Text = text
				}
			}
			if u.Files[i].Error != "" {
				code = ExitFailure
			}
		}
	}
	if c.Output == "json" {
		c.printJSON(files)
		return code
	}
	first := true
	for _, u := range files {
		for _, f := range u.Files {
			if !first {
				fmt.Fprintln(c.out)
			}
			first = false
			fmt.Fprintln(c.out, c.paint(colBold, "# "+f.Path))
			if f.Error != "" {
				c.errf("Failed to read %s: %s", f.Path, f.Error)
			}
			fmt.Fprint(c.out, f.Text)
			if f.Text != "" && !strings.HasSuffix(f.Text, "\n") {
				fmt.Fprintln(c.out)
			}
		}
	}
	return code
}

func (c *ctl) job(kind manager.JobKind, mode manager.JobMode, units []string) int {
	var out []JobOutcome
	err := c.call(MethodJob, JobParams{Units: units, Kind: kind, Mode: mode, NoBlock: c.NoBlock}, &out)
	if err == nil {
		if kind == manager.JobStop && !c.Quiet {
			c.warnTriggers(out)
		}
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		switch e.Code {
		case CodeJobFailed:
			var res []JobOutcome
			json.Unmarshal(e.Data, &res)
			for _, r := range res {
				if r.Result != string(manager.ResultDone) {
					c.errf("Job for %s failed (result: %s).\nSee \"%s status %s\" for details.", r.Unit, r.Result, c.name, r.Unit)
				}
			}
			return ExitFailure
		case CodeNoSuchUnit:
			var missing []string
			json.Unmarshal(e.Data, &missing)
			for _, m := range missing {
				c.errf("Failed to %s %s: Unit %s not found.", kind, m, m)
			}
			return ExitJobNotFound
		}
	}
	return c.fail(fmt.Sprintf("%s %s", kind, strings.Join(units, " ")), err)
}

func (c *ctl) kill(units []string) int {
	sig, err := strconv.Atoi(c.Signal)
	if err != nil {
		name := strings.ToUpper(c.Signal)
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		sig = int(unix.SignalNum(name))
	}
	if sig <= 0 {
		c.errf("Failed to parse signal string %s.", c.Signal)
		return ExitFailure
	}
	err = c.call(MethodKill, KillParams{Units: units, Whom: c.KillWhom, Signal: sig}, nil)
	var e *Error
	if errors.As(err, &e) && e.Code == CodeNoSuchUnit {
		var missing []string
		json.Unmarshal(e.Data, &missing)
		for _, m := range missing {
			c.errf("Failed to kill unit %s: Unit %s not loaded.", m, m)
		}
		return ExitFailure // systemctl(1): 1 for kill of a unit not loaded
	}
	if err != nil {
		return c.fail("kill", err)
	}
	return ExitOK
}

// exit is `systemctl exit [EXIT_CODE]`.
func (c *ctl) exit(code string) int {
	p := PowerParams{Action: "exit"}
	if code != "" {
		n, err := strconv.Atoi(code)
		if err != nil || n < 0 || n > 255 {
			c.errf("Invalid exit code: %s", code)
			return ExitFailure
		}
		p.ExitCode = &n
	}
	return c.simple(MethodPower, p)
}

func (c *ctl) simple(method string, params any) int {
	if err := c.call(method, params, nil); err != nil {
		return c.fail(strings.ToLower(method), err)
	}
	return ExitOK
}

func (c *ctl) isState(verb string, units []string) int {
	details, err := c.details(units, 0)
	if err != nil {
		return c.fail("get unit state", err)
	}
	hit := false
	for _, d := range details {
		st := d.Info.ActiveState
		if verb == "is-active" {
			hit = hit || st == "active" || st == "reloading"
		} else {
			hit = hit || st == "failed"
		}
		if !c.Quiet {
			fmt.Fprintln(c.out, st)
		}
	}
	switch {
	case hit:
		return ExitOK
	case verb == "is-active":
		return ExitNotActive
	}
	return ExitFailure
}

func (c *ctl) isEnabled(units []string) int {
	files := c.fileSet()
	enabled := false
	for _, u := range units {
		st := files.State(u)
		if st == "not-found" {
			c.errf("Failed to get unit file state for %s: No such file or directory", u)
			continue
		}
		enabled = enabled || EnabledState(st)
		if !c.Quiet {
			fmt.Fprintln(c.out, st)
			if c.Full {
				for _, l := range files.Links(u) {
					fmt.Fprintln(c.out, "  "+l)
				}
			}
		}
	}
	switch {
	case enabled:
		return ExitOK
	}
	return ExitFailure // also for a unit without a file (systemctl 252)
}

// unitFiles changes links on disk, then (when a gosd is reachable) asks it
// to re-read them, and with --now starts or stops the units.
func (c *ctl) unitFiles(verb string, units []string) int {
	for _, u := range units {
		if strings.ContainsAny(u, "/\x00") {
			c.errf("Failed to %s unit: %s: naming a unit file by its path (linking) is not supported; name a unit in the unit directories.", verb, u)
			return ExitFailure
		}
	}
	files := c.fileSet()
	var changes []Change
	var err error
	switch verb {
	case "enable":
		changes, err = files.Enable(units)
	case "disable":
		changes, err = files.Disable(units)
	case "reenable":
		changes, err = files.Disable(units)
		if err == nil {
			var more []Change
			more, err = files.Enable(units)
			changes = append(changes, more...)
		}
	case "mask":
		changes, err = files.Mask(units)
	case "unmask":
		changes, err = files.Unmask(units)
	}
	if !c.Quiet {
		for _, ch := range changes {
			fmt.Fprintln(c.errw, ch)
		}
	}
	if err != nil {
		c.errf("Failed to %s unit: %v", verb, err)
		if errors.Is(err, ErrNoUnitFile) {
			return ExitNoSuchUnit
		}
		return ExitFailure
	}
	c.reloadAfterFiles(changes)
	if !c.Now {
		return ExitOK
	}
	kind := manager.JobStart
	switch verb {
	case "disable", "mask":
		kind = manager.JobStop
	case "reenable":
		kind = manager.JobRestart
	case "unmask":
		return ExitOK
	}
	return c.job(kind, manager.JobMode(c.JobMode), units)
}

// reloadAfterFiles makes a reachable gosd re-read unit files after links
// changed (best effort, as systemctl does), unless --no-reload or the
// files are not the running system's.
func (c *ctl) reloadAfterFiles(changes []Change) {
	if len(changes) == 0 || c.NoReload || c.Root != "" || len(c.UnitPath) > 0 && !c.runtimeLinks {
		return
	}
	if _, err := os.Stat(SocketFromEnv(c.Socket)); err == nil {
		c.call(MethodReload, nil, nil)
	}
}

// printCgroup prints systemctl status' Tasks, Memory, CPU and CGroup lines;
// the processes of the group follow its path, one per line as systemctl
// lists a group's processes ("├─PID CMDLINE", the last with "└─").
func (c *ctl) printCgroup(g *CgroupStats) {
	fmt.Fprintf(c.out, "      Tasks: %d\n", g.TasksCurrent)
	if g.HaveMemory {
		fmt.Fprintf(c.out, "     Memory: %s\n", fmtBytes(g.MemoryCurrent))
	}
	if g.HaveCPU {
		fmt.Fprintf(c.out, "        CPU: %s\n", fmtSpan(time.Duration(g.CPUUsageNSec)))
	}
	fmt.Fprintf(c.out, "     CGroup: %s\n", g.Path)
	c.printTree("             ", g.Processes, g.Children)
}

// printTree prints a cgroup's processes, then the cgroups below it with
// theirs, as systemctl draws a slice ("├─cron.service", "│ └─612 cron").
func (c *ctl) printTree(prefix string, procs []CgroupProcess, children []CgroupNode) {
	width := 0
	for _, p := range procs {
		width = max(width, len(strconv.Itoa(p.Pid)))
	}
	for n, p := range procs {
		branch := "├─"
		if n == len(procs)-1 && len(children) == 0 {
			branch = "└─"
		}
		fmt.Fprintf(c.out, "%s%s%*d %s\n", prefix, branch, width, p.Pid, p.Cmdline)
	}
	for n, ch := range children {
		branch, more := "├─", "│ "
		if n == len(children)-1 {
			branch, more = "└─", "  "
		}
		fmt.Fprintf(c.out, "%s%s%s\n", prefix, branch, ch.Name)
		c.printTree(prefix+more, ch.Processes, ch.Children)
	}
}

// fmtBytes is systemd's format_bytes: powers of 1024 with one decimal
// ("1.5M", "740.0K", "512B").
func fmtBytes(v uint64) string {
	units := []string{"E", "P", "T", "G", "M", "K"}
	for i, u := range units {
		f := uint64(1) << (10 * (len(units) - i))
		if v >= f {
			return fmt.Sprintf("%d.%d%s", v/f, v%f*10/f, u)
		}
	}
	return strconv.FormatUint(v, 10) + "B"
}

// reexec is daemon-reexec: the answer comes before gosd re-executes; then
// the connection closes (the exec closes it) and the client waits, as
// systemctl does, until the new gosd answers on the socket.
func (c *ctl) reexec() int {
	if err := c.call(MethodReexec, nil, nil); err != nil {
		return c.fail("reexecute", err)
	}
	old := c.client
	c.client = nil
	// The old connection ends when the old gosd's fds close in execve.
	gone := false
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		if old.Call(MethodUnitPaths, nil, nil) != nil {
			gone = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	old.Close()
	if !gone {
		c.errf("Failed to reexecute: gosd is still running the old binary (its log says why)")
		return ExitFailure
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cl, err := Dial(SocketFromEnv(c.Socket)); err == nil {
			if cl.Call(MethodUnitPaths, nil, nil) == nil {
				c.client = cl
				return ExitOK
			}
			cl.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.errf("Failed to reexecute: gosd did not come back on %s within 30s", SocketFromEnv(c.Socket))
	return ExitFailure
}
