package exec

import "testing"

// systemd's setrlimit_closest, case by case.
func TestClosestRlimit(t *testing.T) {
	inf := rlimInfinity
	for _, c := range []struct {
		want, have, fixed rlim
		ok, same          bool
	}{
		// Debian's redis-server.service in a container with a hard limit of 20000.
		{rlim{65535, 65535}, rlim{1024, 20000}, rlim{20000, 20000}, true, false},
		{rlim{1500, 65535}, rlim{1024, 20000}, rlim{1500, 20000}, true, false},
		{rlim{inf, inf}, rlim{1024, 20000}, rlim{20000, 20000}, true, false},
		// Already what would be set: nothing to do.
		{rlim{65535, 65535}, rlim{20000, 20000}, rlim{20000, 20000}, true, true},
		// An unbounded hard limit: the EPERM had another reason and stands.
		{rlim{inf, inf}, rlim{0, inf}, rlim{}, false, false},
	} {
		fixed, ok, same := closestRlimit(c.want, c.have)
		if fixed != c.fixed || ok != c.ok || same != c.same {
			t.Errorf("closestRlimit(%v, %v) = %v %v %v, want %v %v %v", c.want, c.have, fixed, ok, same, c.fixed, c.ok, c.same)
		}
	}
}
