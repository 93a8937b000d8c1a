package control

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The client side of `analyze`: systemd-analyze's time, blame,
// critical-chain and plot, computed from one Analyze answer.

type analyzeCmd struct {
	Time          noArgs   `cmd:"" default:"1" help:"Print how long startup took (the default)."`
	Blame         noArgs   `cmd:"" help:"List units by the time they took to start, longest first."`
	CriticalChain unitsArg `cmd:"" name:"critical-chain" help:"Show the chain of ordering dependencies that decided when a unit started."`
	Plot          noArgs   `cmd:"" help:"Print an SVG timeline of the startup."`
}

// fmtSpan formats a span as systemd's format_timespan with millisecond
// accuracy ("1min 2.345s", "1.5s", "233ms"); below a millisecond in
// microseconds ("750us").
func fmtSpan(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	us := d.Microseconds()
	if us < 1000 {
		return strconv.FormatInt(us, 10) + "us"
	}
	ms := us / 1000
	var parts []string
	for _, u := range []struct {
		name string
		ms   int64
	}{{"d", 86400000}, {"h", 3600000}, {"min", 60000}} {
		if ms >= u.ms {
			parts = append(parts, strconv.FormatInt(ms/u.ms, 10)+u.name)
			ms %= u.ms
		}
	}
	switch {
	case ms >= 1000:
		s := strconv.FormatInt(ms/1000, 10)
		if frac := ms % 1000; frac > 0 {
			s += strings.TrimRight(fmt.Sprintf(".%03d", frac), "0")
		}
		parts = append(parts, s+"s")
	case ms > 0:
		parts = append(parts, strconv.FormatInt(ms, 10)+"ms")
	}
	return strings.Join(parts, " ")
}

func usec(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// unitTimes is one unit's times as systemd-analyze computes them.
type unitTimes struct {
	AnalyzeUnit
	activated int64 // when dependents could go on: became active, or (a
	// unit that never stayed active, e.g. a oneshot) inactive again
	took int64 // activated - activating
}

func analyzeTimes(res AnalyzeResult) map[string]*unitTimes {
	m := map[string]*unitTimes{}
	for _, u := range res.Units {
		t := &unitTimes{AnalyzeUnit: u}
		switch {
		case u.ActivatedUsec > 0 && u.ActivatedUsec >= u.ActivatingUsec:
			t.activated = u.ActivatedUsec
		case u.ActivatingUsec > 0 && u.DeactivatedUsec >= u.ActivatingUsec:
			t.activated = u.DeactivatedUsec
		}
		if t.activated > 0 && u.ActivatingUsec > 0 {
			t.took = t.activated - u.ActivatingUsec
		}
		m[u.Name] = t
	}
	return m
}

func (c *ctl) analyze(sub string, units []string) int {
	var res AnalyzeResult
	if err := c.call(MethodAnalyze, nil, &res); err != nil {
		return c.fail("analyze", err)
	}
	switch sub {
	case "blame":
		return c.blame(res)
	case "critical-chain":
		return c.criticalChain(res, units)
	case "plot":
		return c.plot(res)
	}
	return c.analyzeTime(res)
}

func (c *ctl) notFinished(res AnalyzeResult) bool {
	if res.FinishUsec > 0 {
		return false
	}
	if res.Target == "" {
		c.errf("gosd started no boot target; nothing to analyze.")
	} else {
		c.errf("Bootup is not yet finished (%s has not been reached).\nPlease try again later.", res.Target)
	}
	return true
}

// startupLine is systemd-analyze time's first line.
func startupLine(res AnalyzeResult) string {
	user := usec(res.FinishUsec)
	if res.Kernel {
		kernel := usec(res.StartupMonotonicUsec)
		return fmt.Sprintf("Startup finished in %s (kernel) + %s (gosd) = %s", fmtSpan(kernel), fmtSpan(user), fmtSpan(kernel+user))
	}
	return fmt.Sprintf("Startup finished in %s (gosd) = %s", fmtSpan(user), fmtSpan(user))
}

func (c *ctl) analyzeTime(res AnalyzeResult) int {
	if c.notFinished(res) {
		return ExitFailure
	}
	if c.Output == "json" {
		return c.printJSON(map[string]any{
			"target": res.Target, "kernel_usec": kernelUsec(res), "gosd_usec": res.FinishUsec,
			"total_usec": kernelUsec(res) + res.FinishUsec,
		})
	}
	fmt.Fprintln(c.out, startupLine(res))
	ts := analyzeTimes(res)
	if t := ts[res.Target]; t != nil && t.activated > 0 {
		fmt.Fprintf(c.out, "%s reached after %s in gosd.\n", res.Target, fmtSpan(usec(t.activated)))
	}
	return ExitOK
}

func kernelUsec(res AnalyzeResult) int64 {
	if res.Kernel {
		return res.StartupMonotonicUsec
	}
	return 0
}

// blameRows is every unit that took time to start, longest first (ties by
// name).
func blameRows(res AnalyzeResult) []*unitTimes {
	var rows []*unitTimes
	for _, t := range analyzeTimes(res) {
		if t.took > 0 {
			rows = append(rows, t)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].took != rows[j].took {
			return rows[i].took > rows[j].took
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}

func (c *ctl) blame(res AnalyzeResult) int {
	if c.notFinished(res) {
		return ExitFailure
	}
	rows := blameRows(res)
	if c.Output == "json" {
		type row struct {
			Unit string `json:"unit"`
			Usec int64  `json:"time_usec"`
		}
		out := []row{}
		for _, r := range rows {
			out = append(out, row{r.Name, r.took})
		}
		return c.printJSON(out)
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(fmtSpan(usec(r.took))))
	}
	for _, r := range rows {
		fmt.Fprintf(c.out, "%*s %s\n", width, fmtSpan(usec(r.took)), r.Name)
	}
	return ExitOK
}

// chainLine is one unit of critical-chain: "@when active" and, when it took
// any time, "+how long" (in red, as systemd-analyze marks it).
func (c *ctl) chainLine(t *unitTimes) string {
	if t == nil {
		return ""
	}
	if t.took > 0 {
		return c.paint(colRed, fmt.Sprintf("%s @%s +%s", t.Name, fmtSpan(usec(t.activated)), fmtSpan(usec(t.took))))
	}
	if t.activated > 0 {
		return fmt.Sprintf("%s @%s", t.Name, fmtSpan(usec(t.activated)))
	}
	return t.Name
}

// chainChildren is systemd-analyze's choice: of the units a unit is ordered
// after, those that became active last (within the boot), sorted by name.
func chainChildren(ts map[string]*unitTimes, t *unitTimes, finish int64) []*unitTimes {
	inRange := func(x *unitTimes) bool {
		return x != nil && x.activated > 0 && (finish == 0 || x.activated <= finish)
	}
	var longest int64
	for _, a := range t.After {
		if x := ts[a]; inRange(x) && x.activated > longest {
			longest = x.activated
		}
	}
	var out []*unitTimes
	for _, a := range t.After {
		if x := ts[a]; inRange(x) && x.activated == longest {
			out = append(out, x)
		}
	}
	return out
}

const maxChainDepth = 100

func (c *ctl) criticalChain(res AnalyzeResult, units []string) int {
	if c.notFinished(res) {
		return ExitFailure
	}
	if len(units) == 0 {
		units = []string{res.Target}
	}
	ts := analyzeTimes(res)
	if !c.NoLegend && c.Output != "json" {
		fmt.Fprintln(c.out, "The time when unit became active or started is printed after the \"@\" character.")
		fmt.Fprintln(c.out, "The time the unit took to start is printed after the \"+\" character.")
		fmt.Fprintln(c.out)
	}
	type node struct {
		Unit         string `json:"unit"`
		ActivatedUse int64  `json:"activated_usec"`
		TookUsec     int64  `json:"time_usec"`
		Children     []node `json:"children,omitempty"`
	}
	var jsonOut []node
	code := ExitOK
	for _, name := range units {
		name = NormalizeName(name)
		root := ts[name]
		if root == nil {
			c.errf("Unit %s not loaded.", name)
			code = ExitFailure
			continue
		}
		seen := map[string]bool{}
		var walk func(t *unitTimes, prefix string, depth int) []node
		walk = func(t *unitTimes, prefix string, depth int) []node {
			seen[t.Name] = true
			var nodes []node
			kids := chainChildren(ts, t, res.FinishUsec)
			for i, k := range kids {
				branch, next := "├─", "│ "
				if i == len(kids)-1 {
					branch, next = "└─", "  "
				}
				n := node{Unit: k.Name, ActivatedUse: k.activated, TookUsec: k.took}
				if seen[k.Name] || depth >= maxChainDepth {
					if c.Output != "json" {
						fmt.Fprintf(c.out, "%s%s%s\n", prefix, branch, c.chainLine(k))
						fmt.Fprintf(c.out, "%s%s└─...\n", prefix, next)
					}
					nodes = append(nodes, n)
					continue
				}
				if c.Output != "json" {
					fmt.Fprintf(c.out, "%s%s%s\n", prefix, branch, c.chainLine(k))
				}
				n.Children = walk(k, prefix+next, depth+1)
				nodes = append(nodes, n)
			}
			return nodes
		}
		if c.Output != "json" {
			fmt.Fprintln(c.out, c.chainLine(root))
		}
		jsonOut = append(jsonOut, node{Unit: name, ActivatedUse: root.activated, TookUsec: root.took,
			Children: walk(root, "", 0)})
	}
	if c.Output == "json" {
		c.printJSON(jsonOut)
	}
	return code
}

// plot writes an SVG timeline in systemd-analyze plot's manner: one row per
// unit in order of activation, its activating span in red, its active span
// in pink, its deactivating span darker; a time axis with a line every
// 100 ms (every second labelled) for short boots.
func (c *ctl) plot(res AnalyzeResult) int {
	if c.notFinished(res) {
		return ExitFailure
	}
	writeSVG(c.out, res)
	return ExitOK
}

func writeSVG(w io.Writer, res AnalyzeResult) {
	ts := analyzeTimes(res)
	var rows []*unitTimes
	end := res.FinishUsec
	for _, t := range ts {
		if t.ActivatingUsec > 0 || t.activated > 0 {
			rows = append(rows, t)
		}
		for _, v := range []int64{t.ActivatingUsec, t.activated, t.DeactivatingUsec, t.DeactivatedUsec} {
			if v > end && v <= res.NowUsec {
				end = v
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i].ActivatingUsec, rows[j].ActivatingUsec
		if a == 0 {
			a = rows[i].activated
		}
		if b == 0 {
			b = rows[j].activated
		}
		if a != b {
			return a < b
		}
		return rows[i].Name < rows[j].Name
	})
	kernel := kernelUsec(res)
	total := kernel + end
	if total <= 0 {
		total = 1
	}
	// systemd-analyze draws 100 px per second; a short boot is stretched to
	// 1000 px so that its units can be told apart.
	pxPerSec := math.Max(100, 1000/(float64(total)/1e6))
	x := func(us int64) float64 { return float64(kernel+us) / 1e6 * pxPerSec }
	const rowH, top, left = 20.0, 80.0, 20.0
	width := x(end) + 2*left + 300
	height := top + rowH*float64(len(rows)+2) + 80
	// Unit names and descriptions are the only text: escape what XML
	// reserves (encoding/xml would add ~100 KiB to PID1 for this).
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace
	fmt.Fprintf(w, `<?xml version="1.0" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg width="%.0fpx" height="%.0fpx" version="1.1" xmlns="http://www.w3.org/2000/svg">
<!-- This file is a gosd startup timeline (as systemd-analyze plot draws one). -->
<defs>
  <style type="text/css">
    <![CDATA[
      rect       { stroke-width: 1; stroke-opacity: 0; }
      rect.background   { fill: rgb(255,255,255); }
      rect.activating   { fill: rgb(255,0,0); fill-opacity: 0.7; }
      rect.active       { fill: rgb(200,150,150); fill-opacity: 0.7; }
      rect.deactivating { fill: rgb(150,100,100); fill-opacity: 0.7; }
      rect.kernel       { fill: rgb(150,150,150); fill-opacity: 0.7; }
      rect.gosd         { fill: rgb(150,150,150); fill-opacity: 0.7; }
      rect.box   { fill: rgb(240,240,240); stroke: rgb(192,192,192); }
      line       { stroke: rgb(64,64,64); stroke-width: 1; }
      line.sec1  { stroke-width: 2; }
      line.sec01 { stroke: rgb(224,224,224); stroke-width: 1; }
      text       { font-family: Verdana, Helvetica; font-size: 14px; }
      text.left  { font-family: Verdana, Helvetica; font-size: 14px; text-anchor: start; }
      text.right { font-family: Verdana, Helvetica; font-size: 14px; text-anchor: end; }
      text.sec   { font-size: 10px; }
    ]]>
  </style>
</defs>
<rect class="background" width="100%%" height="100%%" />
<text x="20" y="30">%s</text>
<text x="20" y="50">boot target: %s</text>
<g transform="translate(%.3f,%.3f)">
`, width, height, esc(startupLine(res)), esc(res.Target), left, top)
	chartH := rowH * float64(len(rows)+2)
	fmt.Fprintf(w, "  <rect class=\"box\" x=\"0\" y=\"0\" width=\"%.3f\" height=\"%.3f\" />\n", x(end), chartH)
	// Grid: a line every 100 ms, labelled every second (and every 100 ms
	// when the whole plot is under a second).
	step := int64(100000)
	if total > 60e6 {
		step = 1e6 // long boots: a line a second
	}
	for i := int64(0); i*step <= total; i++ {
		gx := float64(i*step) / 1e6 * pxPerSec
		class := "sec01"
		if i*step%1e6 == 0 {
			class = "sec1"
		}
		fmt.Fprintf(w, "  <line class=\"%s\" x1=\"%.3f\" y1=\"0\" x2=\"%.3f\" y2=\"%.3f\" />\n", class, gx, gx, chartH)
		if class == "sec1" || total < 1e6 {
			fmt.Fprintf(w, "  <text class=\"sec\" x=\"%.3f\" y=\"-5.0\">%s</text>\n", gx, esc(fmtSpan(usec(i*step))))
		}
	}
	y := 0.0
	bar := func(class string, from, to int64) {
		if to < from {
			return
		}
		fmt.Fprintf(w, "  <rect class=\"%s\" x=\"%.3f\" y=\"%.3f\" width=\"%.3f\" height=\"%.3f\" />\n",
			class, x(from), y, math.Max(x(to)-x(from), 0.5), rowH-1)
	}
	if res.Kernel {
		fmt.Fprintf(w, "  <rect class=\"kernel\" x=\"0\" y=\"%.3f\" width=\"%.3f\" height=\"%.3f\" />\n", y, x(0), rowH-1)
		fmt.Fprintf(w, "  <text class=\"left\" x=\"5\" y=\"%.3f\">kernel</text>\n", y+14)
		y += rowH
	}
	bar("gosd", 0, res.FinishUsec)
	fmt.Fprintf(w, "  <text class=\"left\" x=\"%.3f\" y=\"%.3f\">gosd</text>\n", x(0)+5, y+14)
	y += rowH
	for _, t := range rows {
		// Activating until it became active (or gave up); active until it
		// began to stop (or the end); deactivating until it was inactive.
		if t.ActivatingUsec > 0 && t.activated >= t.ActivatingUsec {
			bar("activating", t.ActivatingUsec, t.activated)
		}
		if t.ActivatedUsec > 0 && t.ActivatedUsec >= t.ActivatingUsec {
			stop := end
			if t.DeactivatingUsec > t.ActivatedUsec {
				stop = t.DeactivatingUsec
			}
			bar("active", t.ActivatedUsec, stop)
			if t.DeactivatingUsec > t.ActivatedUsec && t.DeactivatedUsec >= t.DeactivatingUsec {
				bar("deactivating", t.DeactivatingUsec, t.DeactivatedUsec)
			}
		}
		label := t.Name
		if t.took > 0 {
			label += " (" + fmtSpan(usec(t.took)) + ")"
		}
		start := t.ActivatingUsec
		if start == 0 {
			start = t.activated
		}
		fmt.Fprintf(w, "  <text class=\"left\" x=\"%.3f\" y=\"%.3f\">%s</text>\n", x(start)+5, y+14, esc(label))
		y += rowH
	}
	// Legend.
	ly := chartH + 30
	for i, l := range []struct{ class, text string }{
		{"activating", "Activating"}, {"active", "Active"}, {"deactivating", "Deactivating"}, {"gosd", "gosd"},
	} {
		lx := float64(i) * 150
		fmt.Fprintf(w, "  <rect class=\"%s\" x=\"%.3f\" y=\"%.3f\" width=\"20\" height=\"15\" />\n", l.class, lx, ly)
		fmt.Fprintf(w, "  <text class=\"left\" x=\"%.3f\" y=\"%.3f\">%s</text>\n", lx+25, ly+12, l.text)
	}
	fmt.Fprint(w, "</g>\n</svg>\n")
}
