package seccomp

import (
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The groups are systemd's own: the generated table equals what
// `systemd-analyze syscall-filter` prints on this machine.
func TestGroupsMatchSystemdAnalyze(t *testing.T) {
	out, err := exec.Command("systemd-analyze", "syscall-filter").Output()
	if err != nil {
		t.Skipf("systemd-analyze syscall-filter: %v (the oracle is not installed)", err)
	}
	live := map[string][]string{}
	cur := ""
	for _, l := range strings.Split(string(out), "\n") {
		tl := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "@"):
			cur = tl
			live[cur] = []string{}
		case cur == "" || tl == "":
			cur = ""
		case strings.HasPrefix(tl, "#"):
		default:
			live[cur] = append(live[cur], tl)
		}
	}
	if len(live) != len(tbl().groups) {
		t.Errorf("%d groups live, %d in the table", len(live), len(tbl().groups))
	}
	for name, members := range live {
		if !reflect.DeepEqual(members, tbl().groups[name].members) {
			t.Errorf("%s: live %v\ntable %v", name, members, tbl().groups[name].members)
		}
	}
}

func TestSyscallListMerge(t *testing.T) {
	calls := func(l SyscallList) []string {
		var out []string
		for k, v := range l.Calls {
			if v != NoErrno {
				k += ":" + map[int]string{1: "EPERM", 84: "EILSEQ", 2: "ENOENT", ErrnoKill: "kill"}[v]
			}
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	var l SyscallList
	// exec-systemcallfilter-system-user.service: deny list, then an allow
	// entry removes, a deny adds back.
	for _, v := range []string{"~read write open execve ioperm", "ioctl", "read write open execve", "~ioperm"} {
		if w := l.Add(v); w != nil {
			t.Fatal(w)
		}
	}
	if got := calls(l); l.AllowList || !reflect.DeepEqual(got, []string{"ioperm"}) {
		t.Errorf("deny list: %v allow=%v", got, l.AllowList)
	}
	// An allow list starts from @default; "~name:ERRNO" gives it that errno.
	l = SyscallList{}
	l.Add("@system-service")
	l.Add("~uname:EILSEQ")
	l.Add("~@clock")
	if !l.AllowList || l.Calls["uname"] != 84 || l.Calls["execve"] != NoErrno {
		t.Errorf("allow list: uname %d execve %d", l.Calls["uname"], l.Calls["execve"])
	}
	if _, ok := l.Calls["clock_settime"]; ok {
		t.Error("~@clock did not remove clock_settime")
	}
	// exec-systemcallfilter-with-errno-multi.service: "~" covers the
	// whole value, the later errno wins; unknown names are warned about.
	l = SyscallList{}
	w := l.Add("~uname:ENOENT uname:EILSEQ DONOTEXIST @nogroup")
	if len(w) != 2 || !reflect.DeepEqual(calls(l), []string{"uname:EILSEQ"}) {
		t.Errorf("warnings %v calls %v", w, calls(l))
	}
	// An allow-list entry cannot take an errno.
	l = SyscallList{}
	if w := l.Add("uname:EILSEQ"); len(w) != 1 || l.Calls["uname"] != 0 && l.Calls["uname"] != NoErrno {
		t.Errorf("warnings %v uname %d", w, l.Calls["uname"])
	}
	l.Add("")
	if l.Calls != nil {
		t.Error("an empty assignment must reset")
	}
}

// Every program stays within the kernel's limits, and every jump lands
// inside it.
func TestProgramsAreWellFormed(t *testing.T) {
	var all SyscallList
	all.Add("@known")
	for name, f := range map[string]Filter{
		"allow-all-known": SyscallFilter(all, 1), "suid": RestrictSUIDSGID(), "mdwe": MemoryDenyWriteExecute(),
		"ns": RestrictNamespaces(NamespaceFlags["net"]), "af": RestrictAddressFamilies([]int{1, 2, 10}, true),
		"rt": RestrictRealtime(), "clock": ProtectClock(), "persona": LockPersonality(0),
	} {
		progs, err := Programs(f)
		if err != nil || len(progs) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range progs {
			for i, in := range p {
				if in.Code&0x07 == 0x05 && in.Code != 0x05 && (i+1+int(in.Jt) >= len(p) || i+1+int(in.Jf) >= len(p)) {
					t.Errorf("%s: jump at %d leaves the program", name, i)
				}
			}
			if last := p[len(p)-1]; last.Code != bpfRetK {
				t.Errorf("%s: does not end in a return", name)
			}
		}
	}
}
