package exec

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"
)

// rlimInfinity is RLIM_INFINITY as gosd carries limits (unitfile's
// "infinity"): all ones. Each OS converts at the syscall (rlimit_*.go).
const rlimInfinity = ^uint64(0)

// rlim is one resource limit, soft and hard, in gosd's representation.
type rlim struct{ Soft, Hard uint64 }

func fmtRlim(v uint64) string {
	if v == rlimInfinity {
		return "infinity"
	}
	return strconv.FormatUint(v, 10)
}

// closestRlimit is systemd's setrlimit_closest rule for a limit the kernel
// refused with EPERM: raising a hard limit needs CAP_SYS_RESOURCE, which a
// container's PID1 usually lacks (Docker and Podman do not grant it). Both
// values are lowered to the current hard limit and set instead. ok false:
// the EPERM stands, because the hard limit is unbounded already (the
// refusal had another reason, such as NOFILE above fs.nr_open). same true:
// the result is the limit in force, so nothing needs setting.
func closestRlimit(want, have rlim) (fixed rlim, ok, same bool) {
	if have.Hard == rlimInfinity {
		return rlim{}, false, false
	}
	fixed = rlim{Soft: min(want.Soft, have.Hard), Hard: min(want.Hard, have.Hard)}
	return fixed, true, fixed == have
}

// setRlimitClosest sets l, or when that is refused for lack of privilege
// the closest limit allowed (closestRlimit). notice says what was set
// instead, "" when l itself was.
func setRlimitClosest(l limit) (notice string, err error) {
	want := rlim{l.Soft, l.Hard}
	err = setRlimit(l.Resource, want)
	if err == nil || !errors.Is(err, syscall.EPERM) {
		return "", err
	}
	have, gerr := getRlimit(l.Resource)
	if gerr != nil {
		return "", err
	}
	fixed, ok, same := closestRlimit(want, have)
	if !ok {
		return "", err
	}
	if !same {
		if err := setRlimit(l.Resource, fixed); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("Limit%s=%s:%s is above the hard limit %s and raising it is not permitted (no CAP_SYS_RESOURCE): using %s:%s",
		l.Name, fmtRlim(l.Soft), fmtRlim(l.Hard), fmtRlim(have.Hard), fmtRlim(fixed.Soft), fmtRlim(fixed.Hard)), nil
}
