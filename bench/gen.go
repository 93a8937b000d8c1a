package main

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"gosd/bench/spec"
)

// genTree builds N services of one type in one shape. The DAG shape is seeded
// so every run (and the floor) sees the same graph.
func genTree(shape, typ string, n int, seed int64, helper string) spec.Tree {
	var argv []string
	switch typ {
	case "simple":
		argv = []string{"/bin/sleep", "infinity"}
	case "notify":
		argv = []string{helper, "notify"}
	case "oneshot":
		argv = []string{"/bin/true"}
	default:
		panic("unknown type " + typ)
	}
	rng := rand.New(rand.NewSource(seed))
	t := spec.Tree{Services: make([]spec.Service, n)}
	for i := range t.Services {
		s := spec.Service{Name: fmt.Sprintf("b%04d.service", i), Type: typ, Argv: argv}
		switch shape {
		case "flat":
		case "chain":
			if i > 0 {
				s.After = []int{i - 1}
				s.Wants = []int{i - 1}
			}
		case "dag":
			k := rng.Intn(4)
			if k > i {
				k = i
			}
			seen := map[int]bool{}
			for len(seen) < k {
				p := rng.Intn(i)
				if seen[p] {
					continue
				}
				seen[p] = true
				switch r := rng.Intn(10); {
				case r < 4:
					s.Requires = append(s.Requires, p)
					s.After = append(s.After, p)
				case r < 8:
					s.Wants = append(s.Wants, p)
					s.After = append(s.After, p)
				default: // pulled in, not ordered
					s.Wants = append(s.Wants, p)
				}
			}
		default:
			panic("unknown shape " + shape)
		}
		t.Services[i] = s
	}
	return t
}

// criticalPath is the longest After= chain (in services), a sanity figure for the report.
func criticalPath(t spec.Tree) int {
	depth := make([]int, len(t.Services))
	best := 0
	for i, s := range t.Services {
		d := 1
		for _, a := range s.After {
			if depth[a]+1 > d {
				d = depth[a] + 1
			}
		}
		depth[i] = d
		if d > best {
			best = d
		}
	}
	return best
}

func names(t spec.Tree, idx []int) string {
	var b []string
	for _, i := range idx {
		b = append(b, t.Services[i].Name)
	}
	return strings.Join(b, " ")
}

// unitFiles renders the tree as systemd unit files plus a default.target that
// wants and is ordered after every service; extra units are added as given.
func unitFiles(t spec.Tree, extra map[string]string) map[string]string {
	files := map[string]string{}
	var target strings.Builder
	target.WriteString("[Unit]\nDescription=Benchmark target\n")
	for i := 0; i < len(t.Services); i += 50 {
		j := min(i+50, len(t.Services))
		var idx []int
		for k := i; k < j; k++ {
			idx = append(idx, k)
		}
		fmt.Fprintf(&target, "Wants=%s\nAfter=%s\n", names(t, idx), names(t, idx))
	}
	for _, s := range t.Services {
		var b strings.Builder
		fmt.Fprintf(&b, "[Unit]\nDescription=bench %s\n", s.Name)
		if len(s.Requires) > 0 {
			fmt.Fprintf(&b, "Requires=%s\n", names(t, s.Requires))
		}
		if len(s.Wants) > 0 {
			fmt.Fprintf(&b, "Wants=%s\n", names(t, s.Wants))
		}
		if len(s.After) > 0 {
			fmt.Fprintf(&b, "After=%s\n", names(t, s.After))
		}
		fmt.Fprintf(&b, "\n[Service]\nType=%s\n", s.Type)
		if s.Type == "notify" {
			b.WriteString("NotifyAccess=all\n")
		}
		fmt.Fprintf(&b, "ExecStart=%s\n", strings.Join(s.Argv, " "))
		files[s.Name] = b.String()
	}
	for name, body := range extra {
		if name == "default.target" {
			target.WriteString(body)
			continue
		}
		files[name] = body
	}
	files["default.target"] = target.String()
	return files
}

func writeFiles(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}
