package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestGenTree(t *testing.T) {
	a := genTree("dag", "notify", 200, 7, "/h")
	b := genTree("dag", "notify", 200, 7, "/h")
	if !reflect.DeepEqual(a, b) {
		t.Fatal("DAG not deterministic for one seed")
	}
	for i, s := range a.Services {
		for _, p := range append(append(s.After, s.Requires...), s.Wants...) {
			if p >= i {
				t.Fatalf("%s depends on a later service %d", s.Name, p)
			}
		}
	}
	if cp := criticalPath(genTree("chain", "simple", 100, 1, "")); cp != 100 {
		t.Fatalf("chain critical path %d", cp)
	}
	if cp := criticalPath(genTree("flat", "simple", 100, 1, "")); cp != 1 {
		t.Fatalf("flat critical path %d", cp)
	}
	f := unitFiles(genTree("chain", "oneshot", 3, 1, ""), nil)
	if len(f) != 4 || !strings.Contains(f["b0002.service"], "After=b0001.service") || !strings.Contains(f["default.target"], "Wants=b0000.service b0001.service b0002.service") {
		t.Fatalf("unexpected units: %v", f)
	}
}

func TestStats(t *testing.T) {
	s := summarize([]float64{5, 1, 4, 2, 3})
	if s.Median != 3 || s.P10 != 1 || s.P90 != 5 || s.N != 5 {
		t.Fatalf("%+v", s)
	}
}
