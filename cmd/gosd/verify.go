package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gosd/unitfile"
)

// VerifyCmd is `gosd verify [--json] PATH...`.
type VerifyCmd struct {
	JSON  bool     `help:"Print every unit's effective settings as JSON."`
	Paths []string `arg:"" name:"path" help:"Unit files or directories." type:"path"`
}

// verifiedUnit is one element of `gosd verify --json` (schema in README).
type verifiedUnit struct {
	*unitfile.Unit
	NotEnforced []string `json:"not_enforced,omitempty"`
}

func (c *VerifyCmd) Run() error {
	sp := unitfile.SystemSpecifiers()
	set := unitfile.LoadPaths(c.Paths, unitfile.Options{Specifiers: &sp})

	var diags []unitfile.Diag
	diags = append(diags, set.Diags()...)
	var units []verifiedUnit
	for _, name := range set.Names() {
		u := set.Get(name)
		diags = append(diags, u.Diags...)
		units = append(units, verifiedUnit{Unit: u, NotEnforced: notEnforced(u)})
	}
	// Templates are checked as the instance "i", as systemd-analyze
	// verify does, so that their problems and the settings gosd would not
	// apply are named too; --json lists loadable units only.
	var templates []verifiedUnit
	for _, name := range templateNames(c.Paths) {
		u := set.Get(name)
		if u.LoadState == unitfile.NotFound {
			continue
		}
		diags = append(diags, u.Diags...)
		templates = append(templates, verifiedUnit{Unit: u, NotEnforced: notEnforced(u)})
	}
	sort.SliceStable(diags, func(i, j int) bool {
		if diags[i].Pos.File != diags[j].Pos.File {
			return diags[i].Pos.File < diags[j].Pos.File
		}
		return diags[i].Pos.Line < diags[j].Pos.Line
	})
	failed := false
	for _, d := range dedupDiags(diags) {
		fmt.Fprintln(os.Stderr, d.String())
		if d.Severity == unitfile.Error {
			failed = true
		}
	}
	for _, u := range append(append([]verifiedUnit(nil), units...), templates...) {
		for _, s := range u.NotEnforced {
			fmt.Fprintf(os.Stderr, "%s: note: %s is not enforced by gosd\n", u.Name, s)
		}
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if units == nil {
			units = []verifiedUnit{}
		}
		if err := enc.Encode(units); err != nil {
			return err
		}
	}
	if failed {
		return exitCode(1)
	}
	return nil
}

// notEnforced names the settings of u that gosd accepts but does not apply.
func notEnforced(u *unitfile.Unit) []string {
	var out []string
	for _, e := range u.NotEnforced() {
		out = append(out, fmt.Sprintf("%s= (%s)", e.Key, e.Pos))
	}
	return out
}

// templateNames lists the template unit files among paths (named, or in
// a named directory) as instance names "NAME@i.TYPE".
func templateNames(paths []string) []string {
	var names []string
	add := func(base string) {
		if unitfile.ValidName(base) && unitfile.IsTemplate(base) {
			names = append(names, strings.Replace(base, "@.", "@i.", 1))
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			add(filepath.Base(p))
			continue
		}
		entries, _ := os.ReadDir(p)
		for _, e := range entries {
			add(e.Name())
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// dedupDiags drops repeats (a drop-in shared by many units is reported once).
func dedupDiags(in []unitfile.Diag) []unitfile.Diag {
	seen := map[string]bool{}
	var out []unitfile.Diag
	for _, d := range in {
		k := d.String()
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}
