package control

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// This file formats the property table (props.go) as systemctl show
// prints it: by D-Bus type, with systemctl's rules for names (timestamps,
// spans, "[not set]", octal modes, Exec*= records).

// formatProp renders one property; ok=false when systemctl leaves it out
// (an empty value, unless all says to show empty ones). Exec*= and
// Listen= lists may render as several lines, each "value" without the
// name.
func formatProp(p Property, all bool) (vals []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(p.Value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	one := func(s string) ([]string, bool) {
		if s == "" && !all {
			return nil, false
		}
		return []string{s}, true
	}
	switch p.Sig {
	case "s":
		s, _ := v.(string)
		if strings.Contains(s, "\n") {
			s = "[unprintable]"
		}
		return one(s)
	case "b":
		b, _ := v.(bool)
		if b {
			return []string{"yes"}, true
		}
		return []string{"no"}, true
	case "t":
		n, _ := v.(json.Number)
		u, _ := strconv.ParseUint(string(n), 10, 64)
		return one(formatUint64(p.Name, u))
	case "u":
		n, _ := v.(json.Number)
		u, _ := strconv.ParseUint(string(n), 10, 32)
		if strings.Contains(p.Name, "UMask") || strings.Contains(p.Name, "Mode") {
			return []string{fmt.Sprintf("%04o", u)}, true
		}
		return []string{strconv.FormatUint(u, 10)}, true
	case "i", "x":
		n, _ := v.(json.Number)
		return []string{string(n)}, true
	case "as":
		list, _ := v.([]any)
		var words []string
		for _, w := range list {
			s, _ := w.(string)
			words = append(words, shellQuote(s))
		}
		return one(strings.Join(words, " "))
	case "ay":
		// Bytes travel as base64 in JSON; systemctl shows an id in hex.
		b, _ := v.(string)
		raw, err := base64.StdEncoding.DecodeString(b)
		if err != nil {
			return nil, false
		}
		return one(hex.EncodeToString(raw))
	case "(ss)":
		pair, _ := v.([]any)
		if len(pair) != 2 {
			return nil, false
		}
		a, _ := pair[0].(string)
		b, _ := pair[1].(string)
		if a == "" && b == "" {
			return one("")
		}
		return []string{fmt.Sprintf("%s %q", a, b)}, true
	case "(uo)":
		pair, _ := v.([]any)
		if len(pair) == 2 {
			if n, _ := pair[0].(json.Number); n != "0" {
				return []string{string(n)}, true
			}
		}
		return one("")
	case "a(ss)":
		list, _ := v.([]any)
		var out []string
		for _, e := range list {
			pair, _ := e.([]any)
			if len(pair) == 2 {
				out = append(out, fmt.Sprintf("%v (%v)", pair[1], pair[0]))
			}
		}
		return out, len(out) > 0
	case execSig:
		list, _ := v.([]any)
		var out []string
		for _, e := range list {
			if f, ok := e.([]any); ok && len(f) == 10 {
				out = append(out, formatExec(f))
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// formatUint64 is systemctl's rule for a "t" property: timestamps by
// name, spans for names with USec, "[not set]" and "infinity" for the
// unset values.
func formatUint64(name string, u uint64) string {
	switch {
	case strings.HasSuffix(name, "Timestamp") || name == "NextElapseUSecRealtime" || name == "LastTriggerUSec":
		if u == 0 || u == ^uint64(0) {
			return ""
		}
		return fmtTime(int64(u))
	case strings.Contains(name, "USec"):
		return formatTimespan(u)
	case (name == "MemoryCurrent" || name == "TasksCurrent" || strings.HasSuffix(name, "NSec")) && u == ^uint64(0):
		return "[not set]"
	case (strings.HasPrefix(name, "Limit") || strings.HasSuffix(name, "TasksMax")) && u == ^uint64(0):
		return "infinity"
	}
	return strconv.FormatUint(u, 10)
}

// formatExec is an Exec*= record as systemctl show prints it.
func formatExec(f []any) string {
	str := func(i int) string { s, _ := f[i].(string); return s }
	num := func(i int) int64 { n, _ := f[i].(json.Number); v, _ := n.Int64(); return v }
	var argv []string
	if l, ok := f[1].([]any); ok {
		for _, a := range l {
			s, _ := a.(string)
			argv = append(argv, s)
		}
	}
	ignore := "no"
	if b, _ := f[2].(bool); b {
		ignore = "yes"
	}
	stamp := func(i int) string {
		n, _ := f[i].(json.Number)
		u, _ := strconv.ParseUint(string(n), 10, 64)
		if u == 0 {
			return "n/a"
		}
		return fmtTime(int64(u))
	}
	code, status := num(8), num(9)
	codeName, statusText := cldName(code), strconv.FormatInt(status, 10)
	if code != cldExited {
		statusText += "/" + signalShort(int(status))
	}
	return fmt.Sprintf("{ path=%s ; argv[]=%s ; ignore_errors=%s ; start_time=[%s] ; stop_time=[%s] ; pid=%d ; code=%s ; status=%s }",
		str(0), strings.Join(argv, " "), ignore, stamp(3), stamp(5), num(7), codeName, statusText)
}

// siginfo codes of a process's end, as systemd's ExecMainCode carries them.
const (
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

func cldName(code int64) string {
	switch code {
	case cldExited:
		return "exited"
	case cldKilled:
		return "killed"
	case cldDumped:
		return "dumped"
	}
	return "(null)"
}

// signalShort is a signal's name without SIG ("TERM"), or its number.
func signalShort(sig int) string {
	if sig <= 0 {
		return strconv.Itoa(sig)
	}
	if n := unix.SignalName(unix.Signal(sig)); n != "" {
		return strings.TrimPrefix(n, "SIG")
	}
	return strconv.Itoa(sig)
}

// exitStatusName is systemd's name for an exit status as systemctl status
// prints it (systemd.exec(5) "PROCESS EXIT CODES", the libc and systemd
// ones; the LSB codes 2-7 stay bare numbers), "" for one without a name.
func exitStatusName(code int) string {
	names := map[int]string{0: "SUCCESS", 1: "FAILURE",
		200: "CHDIR", 201: "NICE", 202: "FDS", 203: "EXEC", 204: "MEMORY", 205: "LIMITS",
		206: "OOM_ADJUST", 207: "SIGNAL_MASK", 208: "STDIN", 209: "STDOUT", 210: "CHROOT",
		211: "IOPRIO", 212: "TIMERSLACK", 213: "SECUREBITS", 214: "SETSCHEDULER", 215: "CPUAFFINITY",
		216: "GROUP", 217: "USER", 218: "CAPABILITIES", 219: "CGROUP", 220: "SETSID", 221: "CONFIRM",
		222: "STDERR", 224: "PAM", 225: "NETWORK", 226: "NAMESPACE", 227: "NO_NEW_PRIVILEGES",
		228: "SECCOMP", 229: "SELINUX_CONTEXT", 230: "PERSONALITY", 231: "APPARMOR_PROFILE",
		232: "ADDRESS_FAMILIES", 233: "RUNTIME_DIRECTORY", 235: "CHOWN", 236: "SMACK_PROCESS_LABEL",
		237: "KEYRING", 238: "STATE_DIRECTORY", 239: "CACHE_DIRECTORY", 240: "LOGS_DIRECTORY",
		241: "CONFIGURATION_DIRECTORY", 242: "NUMA_POLICY", 243: "CREDENTIALS", 245: "BPF"}
	return names[code]
}

// formatTimespan is systemd's format_timespan at µs accuracy, as
// systemctl show prints spans: "1min 30s", "100ms", "1.500000s" (systemd
// 252 keeps every digit of the accuracy), "infinity", "0".
func formatTimespan(u uint64) string { return formatTimespanAcc(u, 1) }

// formatTimespanAcc is format_timespan with an accuracy in µs (status'
// Duration: uses 1000, "1min 16.450s"): parts below it are dropped.
func formatTimespanAcc(u, acc uint64) string {
	if u == ^uint64(0) {
		return "infinity"
	}
	if u == 0 {
		return "0"
	}
	if acc == 0 {
		acc = 1
	}
	const (
		us  = uint64(1)
		ms  = 1000 * us
		sec = 1000 * ms
		min = 60 * sec
		h   = 60 * min
		d   = 24 * h
		w   = 7 * d
		mon = 2629800 * sec
		y   = 31557600 * sec
	)
	table := []struct {
		suffix string
		usec   uint64
	}{{"y", y}, {"month", mon}, {"w", w}, {"d", d}, {"h", h}, {"min", min}, {"s", sec}, {"ms", ms}, {"us", us}}
	var parts []string
	t := u
	for _, e := range table {
		if t == 0 || t < acc && len(parts) > 0 {
			break
		}
		if t < e.usec {
			continue
		}
		a, b := t/e.usec, t%e.usec
		// Below a minute a remainder shows as decimals, as many as the
		// accuracy allows.
		if t < min && b > 0 {
			digits := len(strconv.FormatUint(e.usec, 10)) - 1
			for c := acc; c > 1; c /= 10 {
				b /= 10
				digits--
			}
			if digits > 0 {
				parts = append(parts, fmt.Sprintf("%d.%0*d%s", a, digits, b, e.suffix))
				t = 0
				break
			}
		}
		parts = append(parts, fmt.Sprintf("%d%s", a, e.suffix))
		t = b
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " ")
}

// formatAgo is systemd's format_timestamp_relative: two units while they
// matter ("1h 5min ago", "3min 20s ago"), one once they do not ("31min
// ago", "2 days ago").
func formatAgo(d time.Duration, suffix string) string {
	u := uint64(d / time.Microsecond)
	const (
		sec  = uint64(1000000)
		min  = 60 * sec
		hour = 60 * min
		day  = 24 * hour
		week = 7 * day
		mon  = 2629800 * sec
		year = 31557600 * sec
	)
	switch {
	case d <= 0:
		return "now"
	case u >= year:
		return fmt.Sprintf("%dy %dmonth %s", u/year, u%year/mon, suffix)
	case u >= mon:
		return fmt.Sprintf("%dmonth %dd %s", u/mon, u%mon/day, suffix)
	case u >= week:
		return fmt.Sprintf("%dw %dd %s", u/week, u%week/day, suffix)
	case u >= 2*day:
		return fmt.Sprintf("%d days %s", u/day, suffix)
	case u >= 25*hour:
		return fmt.Sprintf("1 day %dh %s", (u-day)/hour, suffix)
	case u >= 6*hour:
		return fmt.Sprintf("%dh %s", u/hour, suffix)
	case u >= hour:
		return fmt.Sprintf("%dh %dmin %s", u/hour, u%hour/min, suffix)
	case u >= 5*min:
		return fmt.Sprintf("%dmin %s", u/min, suffix)
	case u >= min:
		return fmt.Sprintf("%dmin %ds %s", u/min, u%min/sec, suffix)
	case u >= sec:
		return fmt.Sprintf("%ds %s", u/sec, suffix)
	case u >= 1000:
		return fmt.Sprintf("%dms %s", u/1000, suffix)
	}
	return fmt.Sprintf("%dus %s", u, suffix)
}

// shellQuote quotes a word as systemctl does for string lists: as is
// when it has nothing a shell would take apart, else in double quotes.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`;&|<>()*?[]#~{}!") {
		return s
	}
	return strconv.Quote(s)
}

// properties fetches the property sets of units (nil: the manager).
func (c *ctl) properties(units []string) ([]PropertySet, error) {
	var sets []PropertySet
	p := PropertiesParams{Units: units, Manager: units == nil}
	err := c.call(MethodProperties, p, &sets)
	return sets, err
}

// printProps prints sets as systemctl show does.
func (c *ctl) printProps(sets []PropertySet) int {
	want := map[string]bool{}
	for _, p := range c.Property {
		for _, n := range strings.Split(p, ",") {
			if n != "" {
				want[n] = true
			}
		}
	}
	// -p NAME shows NAME even when empty, as --all shows every empty one.
	showEmpty := c.All || len(want) > 0
	if c.Output == "json" {
		var all []map[string]any
		for _, s := range sets {
			m := map[string]any{}
			for _, p := range s.Props {
				if len(want) > 0 && !want[p.Name] {
					continue
				}
				if vals, ok := formatProp(p, true); ok {
					m[p.Name] = strings.Join(vals, "\n")
				}
			}
			all = append(all, m)
		}
		return c.printJSON(all)
	}
	for n, s := range sets {
		if n > 0 && !c.Value {
			fmt.Fprintln(c.out)
		}
		for _, p := range s.Props {
			if len(want) > 0 && !want[p.Name] {
				continue
			}
			vals, ok := formatProp(p, showEmpty)
			if !ok {
				continue
			}
			for _, v := range vals {
				if c.Value {
					fmt.Fprintln(c.out, v)
				} else {
					fmt.Fprintf(c.out, "%s=%s\n", p.Name, v)
				}
			}
		}
	}
	return ExitOK
}

func (c *ctl) show(units []string) int {
	sets, err := c.properties(units)
	if err != nil {
		return c.fail("get properties", err)
	}
	return c.printProps(sets)
}

func (c *ctl) showManager() int {
	sets, err := c.properties(nil)
	if err != nil {
		return c.fail("get properties", err)
	}
	return c.printProps(sets)
}

// statusProps fetches, for status, the property table of the units found
// (name → property) and the active state of the units they trigger or are
// triggered by. Best effort: status prints without them on an error.
func (c *ctl) statusProps(details []UnitDetail) (map[string]map[string]Property, map[string]string) {
	var names []string
	for _, d := range details {
		if d.Found {
			names = append(names, d.Info.Name)
		}
	}
	props := map[string]map[string]Property{}
	states := map[string]string{}
	if len(names) == 0 {
		return props, states
	}
	sets, err := c.properties(names)
	if err != nil {
		return props, states
	}
	var related []string
	for _, s := range sets {
		m := map[string]Property{}
		for _, p := range s.Props {
			m[p.Name] = p
		}
		props[s.Unit] = m
		for _, k := range []string{"Triggers", "TriggeredBy"} {
			related = append(related, propStrings(m[k])...)
		}
	}
	if len(related) > 0 {
		var list []UnitInfo
		if c.call(MethodList, ListParams{Patterns: related}, &list) == nil {
			for _, u := range list {
				states[u.Name] = u.ActiveState
			}
		}
	}
	return props, states
}

// propStrings is an "as" property's words.
func propStrings(p Property) []string {
	var l []string
	if p.Sig == "as" {
		json.Unmarshal(p.Value, &l)
	}
	return l
}

// statusExtra prints systemctl status' TriggeredBy:, Triggers: and
// Process: lines (one per Exec*= command that ran and ended since the
// unit last started, in the settings' order).
func (c *ctl) statusExtra(props map[string]Property, states map[string]string) {
	if props == nil {
		return
	}
	dot := func(u string) string {
		switch st := states[u]; st {
		case "active", "reloading", "activating", "deactivating":
			return c.paint(c.stateColor(st), "●")
		case "failed":
			return c.paint(colRed, "×")
		}
		return "○"
	}
	// systemctl marks a triggering unit by its state, a triggered one
	// always with ● in its state's colour.
	for _, k := range []struct{ prop, label string }{{"TriggeredBy", "TriggeredBy"}, {"", ""}, {"Triggers", "   Triggers"}} {
		if k.prop == "" {
			c.printTrigger(props)
			continue
		}
		for n, u := range propStrings(props[k.prop]) {
			label := k.label + ":"
			if n > 0 {
				label = strings.Repeat(" ", len(label))
			}
			mark := dot(u)
			if k.prop == "Triggers" {
				mark = c.paint(c.stateColor(states[u]), "●")
			}
			fmt.Fprintf(c.out, "%s %s %s\n", label, mark, u)
		}
	}
	c.printChecks(props, "Condition", "  Condition: start ", "condition failed", colYellow, "└─ ")
	c.printChecks(props, "Assert", "     Assert: start ", "assertion failed", colRed, "")
	for n, d := range propStrings(props["Documentation"]) {
		label := "Docs:"
		if n > 0 {
			label = ""
		}
		fmt.Fprintf(c.out, "   %9s %s\n", label, d)
	}
	if p, ok := props["Listen"]; ok {
		if vals, ok := formatProp(p, false); ok {
			for n, v := range vals {
				label := "     Listen:"
				if n > 0 {
					label = "            "
				}
				fmt.Fprintf(c.out, "%s %s\n", label, v)
			}
		}
	}
	for _, name := range []string{"ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop", "ExecStopPost"} {
		p, ok := props[name]
		if !ok {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(p.Value))
		dec.UseNumber()
		var list [][]any
		if dec.Decode(&list) != nil {
			continue
		}
		for _, f := range list {
			if len(f) != 10 {
				continue
			}
			num := func(i int) int64 { n, _ := f[i].(json.Number); v, _ := n.Int64(); return v }
			code, status := num(8), num(9)
			if code == 0 {
				continue // not run, or still running
			}
			var argv []string
			if l, ok := f[1].([]any); ok {
				for _, a := range l {
					s, _ := a.(string)
					argv = append(argv, s)
				}
			}
			end := exitText(int(code), int(status))
			if code != cldExited || status != 0 {
				end = c.paint(colRed, end)
			}
			fmt.Fprintf(c.out, "    Process: %d %s=%s (%s)\n", num(7), name, strings.Join(argv, " "), end)
		}
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// execSig is an Exec*= property: path, argv, ignore-failure, start and
// exit time (realtime and monotonic), pid, code, status.
const execSig = "a(sasbttttuii)"

// formatLeft is how long until an instant, as systemctl status prints a
// timer's next elapse ("59min left"): format_timestamp_relative's units.
func formatLeft(d time.Duration) string {
	return formatAgo(d, "left")
}

// printTrigger is a timer's Trigger: line, its next elapse.
func (c *ctl) printTrigger(props map[string]Property) {
	// A timer's next elapse, as list-timers shows it.
	if p, ok := props["NextElapseUSecRealtime"]; ok {
		var u uint64
		if json.Unmarshal(p.Value, &u) == nil && u > 0 {
			next := time.UnixMicro(int64(u))
			left := "now"
			if d := time.Until(next); d > 0 {
				left = formatLeft(d)
			}
			fmt.Fprintf(c.out, "    Trigger: %s; %s\n", fmtTime(int64(u)), left)
		}
	}
}

// loadErrorMessage is the message of a unit's LoadError= ("" when it
// loaded).
func loadErrorMessage(props map[string]Property) string {
	var pair []string
	if p, ok := props["LoadError"]; ok && json.Unmarshal(p.Value, &pair) == nil && len(pair) == 2 {
		return pair[1]
	}
	return ""
}

// printChecks prints systemctl status' Condition: (or Assert:) lines of a
// unit whose last check failed, and the lines that were not met.
func (c *ctl) printChecks(props map[string]Property, kind, head, what, color, branch string) {
	var ok bool
	var at uint64
	if json.Unmarshal(props[kind+"Result"].Value, &ok) != nil || ok ||
		json.Unmarshal(props[kind+"Timestamp"].Value, &at) != nil || at == 0 {
		return
	}
	fmt.Fprintf(c.out, "%s%s at %s; %s\n", head, c.paint(color, what), fmtTime(int64(at)), ago(int64(at)))
	var lines [][]any
	if json.Unmarshal(props[kind+"s"].Value, &lines) != nil {
		return
	}
	for _, l := range lines {
		if len(l) != 5 {
			continue
		}
		if st, _ := l[4].(float64); st >= 0 {
			continue
		}
		name, _ := l[0].(string)
		param, _ := l[3].(string)
		trig, neg := "", ""
		if b, _ := l[1].(bool); b {
			trig = "|"
		}
		if b, _ := l[2].(bool); b {
			neg = "!"
		}
		fmt.Fprintf(c.out, "             %s%s=%s%s%s was not met\n", branch, name, trig, neg, param)
	}
}

// warnTriggers is systemctl's warning after stopping units that active
// units (a socket, a timer, a path) can start again.
func (c *ctl) warnTriggers(stopped []JobOutcome) {
	var names []string
	for _, o := range stopped {
		names = append(names, o.Unit)
	}
	if len(names) == 0 {
		return
	}
	sets, err := c.properties(names)
	if err != nil {
		return
	}
	for _, set := range sets {
		var by []string
		for _, p := range set.Props {
			if p.Name == "TriggeredBy" {
				by = propStrings(p)
			}
		}
		if len(by) == 0 {
			continue
		}
		var list []UnitInfo
		if c.call(MethodList, ListParams{Patterns: by}, &list) != nil {
			continue
		}
		var active []string
		for _, u := range list {
			if u.ActiveState == "active" || u.ActiveState == "reloading" {
				active = append(active, u.Name)
			}
		}
		if len(active) > 0 {
			c.errf("Warning: Stopping %s, but it can still be activated by:\n  %s", set.Unit, strings.Join(active, "\n  "))
		}
	}
}
