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

func TestPeerTranslations(t *testing.T) {
	tree := markerTree(genTree("chain", "notify", 3, 1, "/h"), "/h", "/f")
	if got := tree.Services[1].Argv; !reflect.DeepEqual(got, []string{"/h", "up", "/f", "b0001", "notify"}) {
		t.Fatalf("marker argv %v", got)
	}
	s6 := serviceDirs("s6", tree, "/h", "/f")
	if s6["b0002/run"] != "#!/bin/sh\nexec /h up /f b0002 s6notify\n" || s6["b0002/notification-fd"] != "3\n" || len(s6) != 6 {
		t.Fatalf("s6 dirs %v", s6)
	}
	simple := markerTree(genTree("flat", "simple", 2, 1, "/h"), "/h", "/f")
	if r := serviceDirs("runit", simple, "/h", "/f"); len(r) != 2 || r["b0000/run"] != "#!/bin/sh\nexec /h up /f b0000 simple\n" {
		t.Fatalf("runit dirs %v", r)
	}
	conf := supervisorConf(markerTree(genTree("chain", "oneshot", 2, 1, "/h"), "/h", "/f"), "/h", "/f", "/d")
	for _, want := range []string{"nodaemon=true", "[program:b0001]\ncommand=/h up /f b0001 oneshot\n", "priority=2\n", "autorestart=false\n", "startsecs=0\n"} {
		if !strings.Contains(conf, want) {
			t.Fatalf("supervisord.conf lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(supervisorConf(simple, "/h", "/f", "/d"), "priority=") {
		t.Fatal("flat tree got priorities")
	}
}
