package seccomp

import (
	"fmt"
	"strconv"
	"strings"
)

// ErrnoKill is the "kill" error number: the process is killed with SIGSYS.
const ErrnoKill = -2

// NoErrno marks a filter entry without its own error number.
const NoErrno = -1

// ParseErrno takes an errno name (EPERM), a number 1-4095 or "kill"
// (SystemCallErrorNumber=, and the ":ERRNO" of SystemCallFilter=).
func ParseErrno(s string) (int, error) {
	if s == "kill" {
		return ErrnoKill, nil
	}
	if n, ok := tbl().errnos[s]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 4095 {
		return 0, fmt.Errorf("invalid error number %q", s)
	}
	return n, nil
}

// SyscallList is SystemCallFilter= as systemd keeps it: the calls named
// and, per call, its own error number (NoErrno for none); AllowList says
// whether they are allowed (all others denied) or denied.
type SyscallList struct {
	Calls     map[string]int `json:"calls"`
	AllowList bool           `json:"allow_list"`
}

// Add applies one SystemCallFilter= assignment as systemd merges them
// (systemd.exec(5) "SystemCallFilter="): "" resets; the first assignment
// decides allow or deny list ("~" denies), an allow list starting with
// @default; later names are added when they agree with the list's kind
// and removed when they do not (a "~name:ERRNO" in an allow list gives
// name that error instead). Unknown names and groups come back as
// warnings and are skipped.
func (l *SyscallList) Add(value string) (warnings []string) {
	if value == "" {
		*l = SyscallList{}
		return nil
	}
	invert := strings.HasPrefix(value, "~")
	value = strings.TrimPrefix(value, "~")
	if l.Calls == nil {
		l.Calls = map[string]int{}
		l.AllowList = !invert
		if l.AllowList {
			l.add("@default", NoErrno, false, nil)
		}
	}
	for _, word := range strings.Fields(value) {
		name, errText, hasErrno := strings.Cut(word, ":")
		num := NoErrno
		if hasErrno {
			n, err := ParseErrno(errText)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("Failed to parse errno %q, ignoring: %s", errText, word))
				continue
			}
			if !invert {
				warnings = append(warnings, fmt.Sprintf("Allow-listed system calls cannot take error number, ignoring: %s", word))
				continue
			}
			num = n
		}
		if !l.add(name, num, invert, &warnings) {
			continue
		}
	}
	return warnings
}

func (l *SyscallList) add(name string, num int, invert bool, warnings *[]string) bool {
	if strings.HasPrefix(name, "@") {
		g, ok := tbl().groups[name]
		if !ok {
			if warnings != nil {
				*warnings = append(*warnings, "Unknown system call group, ignoring: "+name)
			}
			return false
		}
		for _, m := range g.members {
			l.add(m, num, invert, nil) // the group table's own gaps are not the unit's fault
		}
		return true
	}
	if !Known(name) {
		if warnings != nil {
			*warnings = append(*warnings, "Failed to parse system call, ignoring: "+name)
		}
		return false
	}
	if invert != l.AllowList || invert && l.AllowList && num >= 0 {
		l.Calls[name] = num
	} else {
		delete(l.Calls, name)
	}
	return true
}

// GroupMembers expands a group to its system call names (for tests and
// tools); nil for an unknown group.
func GroupMembers(name string) []string {
	g, ok := tbl().groups[name]
	if !ok {
		return nil
	}
	var out []string
	for _, m := range g.members {
		if strings.HasPrefix(m, "@") {
			out = append(out, GroupMembers(m)...)
		} else {
			out = append(out, m)
		}
	}
	return out
}

// GroupNames lists systemd's group names.
func GroupNames() []string {
	m := map[string]int{}
	for g := range tbl().groups {
		m[g] = 0
	}
	return sortedNames(m)
}

// actionFor is what an error number means: kill or fail with it.
func actionFor(errno int) Action {
	if errno == ErrnoKill || errno == 0 {
		return ActKillProcess
	}
	return ActErrno(errno)
}

// SyscallFilter is the filter of SystemCallFilter= with
// SystemCallErrorNumber= (0 or ErrnoKill: kill the process).
func SyscallFilter(l SyscallList, errorNumber int) Filter {
	negative := actionFor(errorNumber)
	def, action := ActAllow, negative
	if l.AllowList {
		def, action = negative, ActAllow
	}
	f := Filter{Default: def}
	for _, name := range sortedNames(l.Calls) {
		a := action
		switch num := l.Calls[name]; {
		case num == ErrnoKill:
			a = ActKillProcess
		case num >= 0:
			a = ActErrno(num)
		}
		f.Rules = append(f.Rules, Rule{Syscall: name, Action: a})
	}
	return f
}

// denyCalls fails each named call (groups expanded) with EPERM.
func denyCalls(names ...string) Filter {
	f := Filter{Default: ActAllow}
	for _, n := range names {
		calls := []string{n}
		if strings.HasPrefix(n, "@") {
			calls = GroupMembers(n)
		}
		for _, c := range calls {
			f.Rules = append(f.Rules, Rule{Syscall: c, Action: ActErrno(tbl().errnos["EPERM"])})
		}
	}
	return f
}

// ProtectClock is ProtectClock='s filter: @clock fails with EPERM.
func ProtectClock() Filter { return denyCalls("@clock") }

// ProtectHostname is ProtectHostname='s filter.
func ProtectHostname() Filter { return denyCalls("sethostname", "setdomainname") }

// ProtectKernelModules is ProtectKernelModules='s filter (@module).
func ProtectKernelModules() Filter { return denyCalls("@module") }

// ProtectKernelLogs is ProtectKernelLogs='s filter (syslog(2)).
func ProtectKernelLogs() Filter { return denyCalls("syslog") }

// ProtectKernelTunables is the filter ProtectKernelTunables= adds (_sysctl).
func ProtectKernelTunables() Filter { return denyCalls("_sysctl") }

// PrivateDevices is the filter PrivateDevices= adds (@raw-io).
func PrivateDevices() Filter { return denyCalls("@raw-io") }

func eperm() Action { return ActErrno(tbl().errnos["EPERM"]) }

// RestrictRealtime fails sched_setscheduler() with any policy but
// SCHED_OTHER (0), SCHED_BATCH (3) and SCHED_IDLE (5).
func RestrictRealtime() Filter {
	f := Filter{Default: ActAllow}
	for _, p := range []uint32{1, 2, 4} { // FIFO, RR, and the unused 4
		f.Rules = append(f.Rules, Rule{Syscall: "sched_setscheduler", Conds: []Cond{{Arg: 1, Op: OpEq, Value: p}}, Action: eperm()})
	}
	f.Rules = append(f.Rules, Rule{Syscall: "sched_setscheduler", Conds: []Cond{{Arg: 1, Op: OpGt, Value: 5}}, Action: eperm()})
	return f
}

// RestrictSUIDSGID fails every call that makes a set-user-ID or
// set-group-ID file (chmod, mkdir, mknod, open with O_CREAT, creat) and
// openat2(), whose flags it cannot see.
func RestrictSUIDSGID() Filter {
	const oCreat = 0o100
	f := Filter{Default: ActAllow}
	for _, bit := range []uint32{0o4000, 0o2000} { // S_ISUID, S_ISGID
		mode := func(arg int) Cond { return Cond{Arg: arg, Op: OpMaskedEq, Mask: bit, Value: bit} }
		creat := func(arg int) Cond { return Cond{Arg: arg, Op: OpMaskedEq, Mask: oCreat, Value: oCreat} }
		f.Rules = append(f.Rules,
			Rule{Syscall: "chmod", Conds: []Cond{mode(1)}, Action: eperm()},
			Rule{Syscall: "fchmod", Conds: []Cond{mode(1)}, Action: eperm()},
			Rule{Syscall: "fchmodat", Conds: []Cond{mode(2)}, Action: eperm()},
			Rule{Syscall: "mkdir", Conds: []Cond{mode(1)}, Action: eperm()},
			Rule{Syscall: "mkdirat", Conds: []Cond{mode(2)}, Action: eperm()},
			Rule{Syscall: "mknod", Conds: []Cond{mode(1)}, Action: eperm()},
			Rule{Syscall: "mknodat", Conds: []Cond{mode(2)}, Action: eperm()},
			Rule{Syscall: "open", Conds: []Cond{creat(1), mode(2)}, Action: eperm()},
			Rule{Syscall: "openat", Conds: []Cond{creat(2), mode(3)}, Action: eperm()},
			Rule{Syscall: "creat", Conds: []Cond{mode(1)}, Action: eperm()},
		)
	}
	f.Rules = append(f.Rules, Rule{Syscall: "openat2", Action: eperm()})
	return f
}

// MemoryDenyWriteExecute fails mappings that are writable and executable
// at once, making memory executable later, and executable shared memory.
// On x86 mmap2 is checked and the old mmap refused.
func MemoryDenyWriteExecute() Filter {
	const protWX, protX, shmExec = 0x2 | 0x4, 0x4, 0o100000
	wx := Cond{Arg: 2, Op: OpMaskedEq, Mask: protWX, Value: protWX}
	x := Cond{Arg: 2, Op: OpMaskedEq, Mask: protX, Value: protX}
	return Filter{Default: ActAllow, Rules: []Rule{
		{Syscall: "mmap", Conds: []Cond{wx}, Action: eperm(), Only: []Arch{ArchX86_64, ArchX32}},
		{Syscall: "mmap", Action: eperm(), Only: []Arch{ArchX86}}, // x86's old mmap takes a pointer
		{Syscall: "mmap2", Conds: []Cond{wx}, Action: eperm()},
		{Syscall: "mprotect", Conds: []Cond{x}, Action: eperm()},
		{Syscall: "pkey_mprotect", Conds: []Cond{x}, Action: eperm()},
		// shmat: x86 multiplexes it through ipc(), which, as in systemd,
		// stays open.
		{Syscall: "shmat", Conds: []Cond{{Arg: 2, Op: OpMaskedEq, Mask: shmExec, Value: shmExec}}, Action: eperm()},
	}}
}

// LockPersonality fails personality() with anything but persona.
func LockPersonality(persona uint32) Filter {
	return Filter{Default: ActAllow, Rules: []Rule{{Syscall: "personality", Conds: []Cond{{Arg: 0, Op: OpNe, Value: persona}}, Action: eperm()}}}
}

// Namespace flags (clone(2)) by RestrictNamespaces= name.
var NamespaceFlags = map[string]uint64{
	"cgroup": 0x02000000, "ipc": 0x08000000, "net": 0x40000000, "mnt": 0x00020000,
	"pid": 0x20000000, "user": 0x10000000, "uts": 0x04000000,
}

// AllNamespaces is every flag of NamespaceFlags.
const AllNamespaces = 0x02000000 | 0x08000000 | 0x40000000 | 0x00020000 | 0x20000000 | 0x10000000 | 0x04000000

// RestrictNamespaces fails unshare(), clone() and setns() for the
// namespace kinds not in retain, and clone3(), whose flags it cannot see,
// with ENOSYS so that callers fall back to clone().
func RestrictNamespaces(retain uint64) Filter {
	f := Filter{Default: ActAllow}
	if retain&AllNamespaces == AllNamespaces {
		return f
	}
	f.Rules = append(f.Rules, Rule{Syscall: "clone3", Action: ActErrno(tbl().errnos["ENOSYS"])})
	if retain&AllNamespaces == 0 {
		f.Rules = append(f.Rules, Rule{Syscall: "setns", Action: eperm()})
	} else {
		f.Rules = append(f.Rules, Rule{Syscall: "setns", Conds: []Cond{{Arg: 1, Op: OpEq, Value: 0}}, Action: eperm()})
	}
	names := make(map[string]int, len(NamespaceFlags))
	for n := range NamespaceFlags {
		names[n] = 0
	}
	for _, n := range sortedNames(names) {
		fl := uint32(NamespaceFlags[n])
		if retain&uint64(fl) != 0 {
			continue
		}
		c := []Cond{{Arg: 0, Op: OpMaskedEq, Mask: fl, Value: fl}}
		f.Rules = append(f.Rules, Rule{Syscall: "unshare", Conds: c, Action: eperm()}, Rule{Syscall: "clone", Conds: c, Action: eperm()})
		if retain&AllNamespaces != 0 {
			f.Rules = append(f.Rules, Rule{Syscall: "setns", Conds: []Cond{{Arg: 1, Op: OpMaskedEq, Mask: fl, Value: fl}}, Action: eperm()})
		}
	}
	return f
}

// AddressFamily returns the number of an AF_ name.
func AddressFamily(name string) (int, bool) {
	n, ok := tbl().afs[name]
	return n, ok
}

// RestrictAddressFamilies fails socket() for the families outside the
// allow list (or in the deny list) with EAFNOSUPPORT. systemd cannot
// filter x86's socketcall(), and neither can this: with
// SystemCallArchitectures=native there is no x86 ABI to go around it.
func RestrictAddressFamilies(families []int, allowList bool) Filter {
	no := ActErrno(tbl().errnos["EAFNOSUPPORT"])
	f := Filter{Default: ActAllow}
	if !allowList {
		for _, af := range families {
			f.Rules = append(f.Rules, Rule{Syscall: "socket", Conds: []Cond{{Arg: 0, Op: OpEq, Value: uint32(af)}}, Action: no})
		}
		return f
	}
	allowed := map[int]bool{}
	first, last := 0, 0
	for _, af := range families {
		if af <= 0 || af >= afMax {
			continue
		}
		allowed[af] = true
		if first == 0 || af < first {
			first = af
		}
		if af > last {
			last = af
		}
	}
	if first == 0 {
		f.Rules = append(f.Rules, Rule{Syscall: "socket", Action: no})
		return f
	}
	f.Rules = append(f.Rules,
		Rule{Syscall: "socket", Conds: []Cond{{Arg: 0, Op: OpLt, Value: uint32(first)}}, Action: no},
		Rule{Syscall: "socket", Conds: []Cond{{Arg: 0, Op: OpGt, Value: uint32(last)}}, Action: no})
	for af := 1; af < afMax; af++ {
		if !allowed[af] {
			f.Rules = append(f.Rules, Rule{Syscall: "socket", Conds: []Cond{{Arg: 0, Op: OpEq, Value: uint32(af)}}, Action: no})
		}
	}
	return f
}

// ArchNames maps SystemCallArchitectures= names to the ABIs here;
// "native" is x86-64. Other architectures' names are valid and match none.
var ArchNames = map[string]int{
	"native": int(ArchX86_64), "x86-64": int(ArchX86_64), "x86": int(ArchX86), "x32": int(ArchX32),
	"arm": -1, "arm64": -1, "mips": -1, "mips64": -1, "mips64-n32": -1, "mips-le": -1, "mips64-le": -1,
	"mips64-le-n32": -1, "ppc": -1, "ppc64": -1, "ppc64-le": -1, "s390": -1, "s390x": -1, "riscv64": -1,
	"loongarch64": -1, "parisc": -1, "parisc64": -1,
}

// RestrictArchs kills the process on a system call of an ABI not in
// allowed (SystemCallArchitectures=); x32 brings x86-64 with it, as in
// systemd (its vDSO needs it).
func RestrictArchs(allowed []Arch) []Instruction {
	ok := map[Arch]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	if ok[ArchX32] {
		ok[ArchX86_64] = true
	}
	kill, allow := uint32(ActKillProcess), uint32(ActAllow)
	ret := func(b bool) uint32 {
		if b {
			return allow
		}
		return kill
	}
	return []Instruction{
		{Code: bpfLdWAbs, K: offArch},
		{Code: bpfJeqK, Jt: 2, Jf: 0, K: auditArchX86_64},
		{Code: bpfJeqK, Jt: 0, Jf: 5, K: auditArchI386},
		{Code: bpfRetK, K: ret(ok[ArchX86])},
		{Code: bpfLdWAbs, K: offNr},
		{Code: bpfJgeK, Jt: 0, Jf: 1, K: x32Bit},
		{Code: bpfRetK, K: ret(ok[ArchX32])},
		{Code: bpfRetK, K: ret(ok[ArchX86_64])},
		{Code: bpfRetK, K: kill},
	}
}

// Programs compiles f for every ABI, skipping filters with no rule for
// an ABI (they would only allow).
func Programs(f Filter) ([][]Instruction, error) { return ProgramsFor(f, Archs) }

// ProgramsFor is Programs for the given ABIs only: the caller may leave
// out an ABI the kernel does not run (x32 without syscall.x32=y), whose
// calls fail with ENOSYS anyway, and save the kernel compiling its
// program. The order of archs is kept (x86-64 last, see Archs).
func ProgramsFor(f Filter, archs []Arch) ([][]Instruction, error) {
	var out [][]Instruction
	for _, a := range archs {
		any := f.Default != ActAllow
		for _, r := range f.Rules {
			if _, ok := Number(r.Syscall, a); ok && r.appliesTo(a) {
				any = true
			}
		}
		if !any {
			continue
		}
		p, err := f.Program(a)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
