package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"gosd/logstore"
)

// This file is the reading side of gosd's log: `gosdctl logs` and gosd
// called as journalctl (when the journalctl binary is absent, a link named
// journalctl to the gosd binary reads gosd's log with journalctl's
// options). Both ask a running gosd (the Logs method); journalctl reads the
// persistent log's files itself when no gosd answers, or with -D.

// logView is what to ask for and how to print it.
type logView struct {
	params  LogsParams
	mode    string // journalctl -o
	utc     bool
	reverse bool
	quiet   bool
}

// printLogs streams the entries from gosd and prints them. It returns how
// many were printed.
func printLogs(client *Client, v logView, out io.Writer) (int, error) {
	n := 0
	var held []logstore.Entry // -r: everything, printed newest first at the end
	onNotify := func(method string, params json.RawMessage) bool {
		var le LogEntries
		if method != NotifyLogEntries || json.Unmarshal(params, &le) != nil {
			return true
		}
		if v.reverse && !v.params.Follow {
			held = append(held, le.Entries...)
			return true
		}
		for _, e := range le.Entries {
			fmt.Fprintln(out, logstore.Format(e, v.mode, v.utc))
			n++
		}
		return true
	}
	onAnswer := func(json.RawMessage) error {
		if !v.params.Follow {
			return ErrStreamDone
		}
		return nil
	}
	err := client.Stream(MethodLogs, v.params, onAnswer, onNotify)
	if len(held) > 0 {
		slices.Reverse(held)
		for _, e := range held {
			fmt.Fprintln(out, logstore.Format(e, v.mode, v.utc))
		}
		n += len(held)
	}
	return n, err
}

// printLogDir prints what the persistent log in dir holds (no gosd needed).
func printLogDir(dir string, v logView, out io.Writer) (int, error) {
	f, err := v.params.filter()
	if err != nil {
		return 0, err
	}
	if v.params.ThisBoot || v.params.Kernel {
		f.BootID = logstore.BootID()
	}
	entries, err := logstore.ReadDir(dir, f, nil, v.params.Lines)
	if err != nil {
		return 0, err
	}
	if v.reverse {
		slices.Reverse(entries)
	}
	for _, e := range entries {
		fmt.Fprintln(out, logstore.Format(e, v.mode, v.utc))
	}
	return len(entries), nil
}

// parseLogTime reads --since/--until as journalctl takes them
// (systemd.time(7)): "YYYY-MM-DD [HH:MM[:SS]]", "HH:MM[:SS]" (today),
// "now", "today", "yesterday", "tomorrow", "@UNIXSECONDS", and relative
// "-1h", "+5min", "3 min ago". Local time.
func parseLogTime(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	day := func(d int) time.Time {
		y, m, dd := now.Date()
		return time.Date(y, m, dd+d, 0, 0, 0, 0, now.Location())
	}
	switch s {
	case "now":
		return now.UnixMicro(), nil
	case "today":
		return day(0).UnixMicro(), nil
	case "yesterday":
		return day(-1).UnixMicro(), nil
	case "tomorrow":
		return day(1).UnixMicro(), nil
	}
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		sec, err := strconv.ParseFloat(rest, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		return int64(sec * 1e6), nil
	}
	rel, sign := s, time.Duration(0)
	switch {
	case strings.HasPrefix(s, "-"):
		rel, sign = s[1:], -1
	case strings.HasPrefix(s, "+"):
		rel, sign = s[1:], 1
	case strings.HasSuffix(s, " ago"):
		rel, sign = strings.TrimSuffix(s, " ago"), -1
	}
	if sign != 0 {
		d, err := parseSpan(rel)
		if err != nil {
			return 0, fmt.Errorf("invalid time %q: %v", s, err)
		}
		return now.Add(sign * d).UnixMicro(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t.UnixMicro(), nil
		}
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			y, m, d := now.Date()
			return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, now.Location()).UnixMicro(), nil
		}
	}
	return 0, fmt.Errorf("invalid time %q (YYYY-MM-DD [HH:MM:SS], HH:MM:SS, today, yesterday, now, -1h, @SECONDS)", s)
}

// parseSpan reads "1h", "5min", "30 s", "2d" (systemd.time(7) units).
func parseSpan(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"usec", time.Microsecond}, {"us", time.Microsecond}, {"msec", time.Millisecond}, {"ms", time.Millisecond},
		{"seconds", time.Second}, {"second", time.Second}, {"sec", time.Second}, {"s", time.Second},
		{"minutes", time.Minute}, {"minute", time.Minute}, {"min", time.Minute}, {"m", time.Minute},
		{"hours", time.Hour}, {"hour", time.Hour}, {"hr", time.Hour}, {"h", time.Hour},
		{"days", 24 * time.Hour}, {"day", 24 * time.Hour}, {"d", 24 * time.Hour},
		{"weeks", 7 * 24 * time.Hour}, {"week", 7 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour}}
	s = strings.TrimSpace(s)
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err == nil && f >= 0 {
				return time.Duration(f * float64(u.d)), nil
			}
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, errors.New("not a time span")
	}
	return time.Duration(f * float64(time.Second)), nil
}

// logs is `gosdctl logs [UNIT...]` with -u, -n, -f, -p, -S, -U, -o.
func (c *ctl) logs(units []string) int {
	v := logView{mode: c.Output, params: LogsParams{Units: append(units, c.Units...), Lines: c.Lines, Follow: c.Follow}}
	switch v.mode {
	case "text":
		v.mode = "short"
	case "json-pretty", "json-seq", "json-sse":
		v.mode = "json"
	}
	if len(c.Property) > 0 {
		// -p is show's --property elsewhere, journalctl's --priority here.
		v.params.Priority = c.Property[0]
	}
	now := time.Now()
	var err error
	if c.Since != "" {
		if v.params.Since, err = parseLogTime(c.Since, now); err != nil {
			return c.fail("read logs", err)
		}
	}
	if c.Until != "" {
		if v.params.Until, err = parseLogTime(c.Until, now); err != nil {
			return c.fail("read logs", err)
		}
	}
	if c.client == nil {
		if err := c.call(MethodUnitPaths, nil, nil); err != nil {
			return c.fail("read logs", err)
		}
	}
	if _, err := printLogs(c.client, v, c.out); err != nil {
		return c.fail("read logs", err)
	}
	return ExitOK
}

// journalCLI is journalctl's command line, as much of it as gosd's log
// answers.
type journalCLI struct {
	Unit       []string `short:"u" help:"Entries of these units (globs allowed; repeatable)." placeholder:"UNIT"`
	Identifier []string `short:"t" help:"Entries with this syslog identifier (repeatable)." placeholder:"ID"`
	Follow     bool     `short:"f" help:"Show the last 10 entries (or -n), then new ones as they come."`
	Lines      int      `short:"n" default:"-1" help:"Show the last N entries (default all; 10 with -f)."`
	Since      string   `short:"S" help:"Entries on or after this time (YYYY-MM-DD HH:MM:SS, today, -1h ...)."`
	Until      string   `short:"U" help:"Entries on or before this time."`
	Priority   string   `short:"p" help:"Entries of this level or more severe (emerg..debug, 0-7, or FROM..TO)."`
	Output     string   `short:"o" default:"short" help:"Output mode: short, short-iso, short-iso-precise, short-precise, short-monotonic, cat, json."`
	Boot       bool     `short:"b" help:"Entries of the current boot only."`
	Dmesg      bool     `short:"k" help:"The kernel's messages of the current boot only."`
	Reverse    bool     `short:"r" help:"Newest entries first."`
	PagerEnd   bool     `short:"e" help:"Show the end (the last 1000 entries unless -n)."`
	UTC        bool     `name:"utc" help:"Times in UTC."`
	Directory  string   `short:"D" help:"Read the persistent log in this directory instead of asking gosd." placeholder:"DIR"`
	Socket     string   `help:"gosd's control socket (default $GOSD_SOCKET or /run/gosd/control.sock)." placeholder:"PATH"`
	Quiet      bool     `short:"q" help:"Do not say '-- No entries --'."`
	NoPager    bool     `help:"Accepted for compatibility: gosd never pages."`
	Catalog    bool     `short:"x" help:"Accepted for compatibility: there is no message catalog."`
	Full       bool     `short:"l" help:"Accepted for compatibility: lines are never shortened."`
	All        bool     `short:"a" help:"Accepted for compatibility: fields are always shown in full."`
	Matches    []string `arg:"" optional:"" help:"FIELD=VALUE matches: _SYSTEMD_UNIT=, UNIT=, SYSLOG_IDENTIFIER=, PRIORITY=."`
}

// JournalMain runs gosd as journalctl (the binary called by that name).
func JournalMain(name string, args []string, stdout, stderr io.Writer) (code int) {
	var cli journalCLI
	defer recoverExit(&code)
	parser, err := kong.New(&cli, kong.Name(name),
		kong.Description("Read gosd's log (gosd stands in for journalctl when systemd's is not installed)."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(exitPanic(c)) }))
	if err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 1
	}
	if _, err := parser.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	v := logView{mode: cli.Output, utc: cli.UTC, reverse: cli.Reverse, quiet: cli.Quiet,
		params: LogsParams{Units: cli.Unit, Idents: cli.Identifier, Follow: cli.Follow, Priority: cli.Priority, ThisBoot: cli.Boot, Kernel: cli.Dmesg, Lines: cli.Lines}}
	if v.mode == "json-pretty" || v.mode == "json-seq" {
		v.mode = "json"
	}
	if !logstore.ValidMode(v.mode) {
		return fail(fmt.Errorf("output mode %q is not supported (%s)", v.mode, strings.Join(logstore.Modes, ", ")))
	}
	for _, m := range cli.Matches {
		field, value, ok := strings.Cut(m, "=")
		switch {
		case ok && (field == "_SYSTEMD_UNIT" || field == "UNIT"):
			v.params.Units = append(v.params.Units, value)
		case ok && field == "SYSLOG_IDENTIFIER":
			v.params.Idents = append(v.params.Idents, value)
		case ok && field == "PRIORITY":
			v.params.Priority = value
		default:
			return fail(fmt.Errorf("match %q is not supported by gosd's log (_SYSTEMD_UNIT=, UNIT=, SYSLOG_IDENTIFIER=, PRIORITY=)", m))
		}
	}
	switch {
	case v.params.Lines >= 0:
	case cli.Follow:
		v.params.Lines = 10
	case cli.PagerEnd:
		v.params.Lines = 1000
	default:
		v.params.Lines = 0
	}
	now := time.Now()
	var err2 error
	if cli.Since != "" {
		if v.params.Since, err2 = parseLogTime(cli.Since, now); err2 != nil {
			return fail(err2)
		}
	}
	if cli.Until != "" {
		if v.params.Until, err2 = parseLogTime(cli.Until, now); err2 != nil {
			return fail(err2)
		}
	}
	if _, err := v.params.filter(); err != nil {
		return fail(err)
	}
	var n int
	if cli.Directory != "" {
		if cli.Follow {
			return fail(errors.New("--follow needs a running gosd, not -D"))
		}
		n, err = printLogDir(cli.Directory, v, stdout)
	} else {
		client, derr := Dial(SocketFromEnv(cli.Socket))
		if derr != nil {
			// No gosd answers: what the persistent log holds.
			if cli.Follow {
				return fail(fmt.Errorf("no gosd to follow: %v", derr))
			}
			n, err = printLogDir(logstore.DefaultDir, v, stdout)
			if errors.Is(err, os.ErrNotExist) {
				err = nil
			}
		} else {
			defer client.Close()
			n, err = printLogs(client, v, stdout)
		}
	}
	if err != nil {
		return fail(err)
	}
	if n == 0 && !v.quiet && !cli.Follow {
		fmt.Fprintln(stdout, "-- No entries --")
	}
	return 0
}

// filter turns the params into a logstore.Filter.
func (p LogsParams) filter() (logstore.Filter, error) {
	f := logstore.Filter{Idents: p.Idents, Since: p.Since, Until: p.Until}
	for _, u := range append(p.Units, p.Unit) {
		if u != "" {
			f.Units = append(f.Units, NormalizeName(u))
		}
	}
	if p.Priority != "" {
		lo, hi, err := logstore.ParsePriority(p.Priority)
		if err != nil {
			return f, err
		}
		f.HasPriority, f.MinPriority, f.MaxPriority = true, lo, hi
	}
	if p.Lines < 0 {
		return f, fmt.Errorf("lines must not be negative")
	}
	return f, nil
}
