package main

import "testing"

// A FreeBSD gosd in a jail detaches unless --no-detach; --detach asks for
// it anywhere; a daemon-reexec never detaches again (the supervisor
// re-executing itself must not fork a second one and leave).
func TestShouldDetach(t *testing.T) {
	for _, c := range []struct {
		goos                               string
		jailed, detach, noDetach, reexeced bool
		want                               bool
	}{
		{"freebsd", true, false, false, false, true},
		{"freebsd", false, false, false, false, false},
		{"freebsd", true, false, true, false, false},
		{"freebsd", true, false, false, true, false},
		{"freebsd", true, true, false, true, false},
		{"linux", true, false, false, false, false},
		{"linux", false, true, false, false, true},
		{"linux", false, true, true, false, false},
	} {
		if got := shouldDetach(c.goos, c.jailed, c.detach, c.noDetach, c.reexeced); got != c.want {
			t.Errorf("shouldDetach(%+v) = %v", c, got)
		}
	}
}
