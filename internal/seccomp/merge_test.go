package seccomp

import (
	"encoding/binary"
	"math/rand"
	"testing"
)

// run interprets the classic BPF that the filters here use on one
// struct seccomp_data.
func run(t *testing.T, p []Instruction, data []byte) uint32 {
	var a uint32
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		switch in.Code {
		case bpfLdWAbs:
			a = binary.LittleEndian.Uint32(data[in.K:])
		case bpfAndK:
			a &= in.K
		case bpfJa:
			pc += int(in.K)
		case bpfJeqK, bpfJgtK, bpfJgeK:
			cond := map[uint16]bool{bpfJeqK: a == in.K, bpfJgtK: a > in.K, bpfJgeK: a >= in.K}[in.Code]
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfRetK:
			return in.K
		default:
			t.Fatalf("instruction %#x at %d", in.Code, pc)
		}
	}
	t.Fatal("ran off the end of the program")
	return 0
}

// kernel is the verdict of loaded filters as seccomp(2) defines it: the
// strongest action, the most recently loaded filter winning a tie.
func kernel(t *testing.T, loaded [][]Instruction, data []byte) uint32 {
	best := uint32(ActAllow)
	for i := len(loaded) - 1; i >= 0; i-- {
		if r := run(t, loaded[i], data); precedence(r) < precedence(best) {
			best = r
		}
	}
	return best
}

// redisPrograms are the programs of Debian's redis-server.service
// settings, in gosd's load order (exec/seccomp_linux.go).
func redisPrograms(t *testing.T, extra ...Filter) [][]Instruction {
	var l SyscallList
	l.Add("@system-service")
	l.Add("~ @privileged @resources")
	abis := []Arch{ArchX86, ArchX86_64}
	var progs [][]Instruction
	add := func(f Filter) {
		p, err := ProgramsFor(f, abis)
		if err != nil {
			t.Fatal(err)
		}
		progs = append(progs, p...)
	}
	inet, _ := AddressFamily("AF_INET")
	add(RestrictAddressFamilies([]int{inet, 10, 1}, true))
	for _, f := range []Filter{MemoryDenyWriteExecute(), RestrictRealtime(), RestrictSUIDSGID(), RestrictNamespaces(0),
		ProtectClock(), PrivateDevices(), ProtectKernelModules(), ProtectKernelLogs(), ProtectKernelTunables(), ProtectHostname()} {
		add(f)
	}
	progs = append(progs, RestrictArchs([]Arch{ArchX86_64}))
	add(LockPersonality(0))
	for _, f := range extra {
		add(f)
	}
	add(SyscallFilter(l, NoErrno))
	return progs
}

// Merged programs give the kernel's verdict for every system call of
// every ABI, with argument values that hit the argument checks (flags,
// modes, families) and random ones; the redis set shrinks to 2 programs.
func TestMergeKeepsVerdicts(t *testing.T) {
	eilseq := ActErrno(84)
	cases := map[string][][]Instruction{
		"redis":                   redisPrograms(t),
		"allow list with errno":   redisPrograms(t, Filter{Default: ActAllow, Rules: []Rule{{Syscall: "uname", Action: eilseq}}}),
		"kill after errno":        {RestrictArchs([]Arch{ArchX86_64}), mustProgram(t, denyCalls("@clock"), ArchX86_64), mustProgram(t, Filter{Default: ActAllow, Rules: []Rule{{Syscall: "clock_settime", Action: ActKillProcess}}}, ArchX86_64)},
		"ties: newest errno wins": {mustProgram(t, Filter{Default: ActAllow, Rules: []Rule{{Syscall: "uname", Action: ActErrno(1)}}}, ArchX86_64), mustProgram(t, Filter{Default: ActAllow, Rules: []Rule{{Syscall: "uname", Action: ActErrno(2)}}}, ArchX86_64)},
	}
	rng := rand.New(rand.NewSource(1))
	args := []uint32{0, 1, 2, 3, 4, 7, 10, 16, 0x800, 0x1000, 0x20000, 0x10000000, 0x40000000, 0x7fffffff, 0xffffffff, 0o4755, 0o2755, 0o6000, 0o755}
	for name, progs := range cases {
		merged := Merge(progs)
		if name == "redis" && len(merged) != 2 {
			t.Errorf("redis: %d programs merge into %d, want 2", len(progs), len(merged))
		}
		data := make([]byte, 64)
		for _, arch := range []uint32{auditArchX86_64, auditArchI386, 0xc00000b7 /* aarch64 */} {
			for nr := uint32(0); nr < 460; nr++ {
				for _, x32 := range []uint32{0, x32Bit} {
					for k := 0; k < 12; k++ {
						binary.LittleEndian.PutUint32(data[0:], nr|x32)
						binary.LittleEndian.PutUint32(data[4:], arch)
						for i := 0; i < 6; i++ {
							v := args[rng.Intn(len(args))]
							if k%3 == 2 {
								v = rng.Uint32()
							}
							binary.LittleEndian.PutUint64(data[16+8*i:], uint64(v))
						}
						if want, got := kernel(t, progs, data), kernel(t, merged, data); want != got {
							t.Fatalf("%s: arch %#x nr %#x args %v: merged %#x, separate %#x", name, arch, nr|x32, data[16:], got, want)
						}
					}
				}
			}
		}
	}
}

func mustProgram(t *testing.T, f Filter, a Arch) []Instruction {
	p, err := f.Program(a)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// reference is a filter's verdict read straight from its rules: the
// first rule for the call whose conditions all hold, else the default.
func reference(f Filter, a Arch, data []byte) uint32 {
	nr, arch := binary.LittleEndian.Uint32(data[0:]), binary.LittleEndian.Uint32(data[4:])
	audit := uint32(auditArchX86_64)
	if a == ArchX86 {
		audit = auditArchI386
	}
	if arch != audit || a == ArchX86_64 && nr >= x32Bit || a == ArchX32 && nr < x32Bit {
		return uint32(ActAllow) // another ABI's call: its own program judges it
	}
	for _, r := range f.Rules {
		n, ok := Number(r.Syscall, a)
		if !ok || !r.appliesTo(a) || n != nr {
			continue
		}
		holds := true
		for _, c := range r.Conds {
			v := binary.LittleEndian.Uint32(data[16+8*c.Arg:])
			holds = holds && map[Op]bool{OpEq: v == c.Value, OpNe: v != c.Value, OpLt: v < c.Value,
				OpGt: v > c.Value, OpMaskedEq: v&c.Mask == c.Value}[c.Op]
		}
		if holds {
			return uint32(r.Action)
		}
	}
	return uint32(f.Default)
}

// Each program gives its rules' verdict for every call number of every
// ABI, with argument values that hit the checks.
func TestProgramMatchesRules(t *testing.T) {
	var allow, deny SyscallList
	allow.Add("@system-service")
	allow.Add("~ @privileged @resources")
	allow.Add("~uname:EILSEQ")
	deny.Add("~@clock @mount:ENOENT")
	deny.Add("~mmap:kill")
	inet, _ := AddressFamily("AF_INET")
	filters := []Filter{SyscallFilter(allow, NoErrno), SyscallFilter(allow, 1), SyscallFilter(deny, NoErrno),
		RestrictAddressFamilies([]int{inet, 10, 1}, true), RestrictAddressFamilies([]int{16}, false),
		MemoryDenyWriteExecute(), RestrictRealtime(), RestrictSUIDSGID(), RestrictNamespaces(0x10000000), LockPersonality(0),
		{Default: ActAllow, Rules: []Rule{{Syscall: "uname", Conds: []Cond{{Arg: 0, Op: OpEq, Value: 1}}, Action: ActErrno(1)}, {Syscall: "uname", Action: ActErrno(2)}, {Syscall: "uname", Action: ActErrno(3)}}}}
	rng := rand.New(rand.NewSource(2))
	args := []uint32{0, 1, 2, 3, 4, 7, 10, 16, 0x800, 0x1000, 0x20000, 0x10000000, 0x40000000, 0x7fffffff, 0xffffffff, 0o4755, 0o2755, 0o6000, 0o755}
	data := make([]byte, 64)
	for fi, f := range filters {
		for _, a := range []Arch{ArchX86, ArchX32, ArchX86_64} {
			p, err := f.Program(a)
			if err != nil {
				t.Fatal(err)
			}
			for _, arch := range []uint32{auditArchX86_64, auditArchI386} {
				for nr := uint32(0); nr < 600; nr++ {
					for _, x32 := range []uint32{0, x32Bit} {
						for k := 0; k < 6; k++ {
							binary.LittleEndian.PutUint32(data[0:], nr|x32)
							binary.LittleEndian.PutUint32(data[4:], arch)
							for i := 0; i < 6; i++ {
								v := args[rng.Intn(len(args))]
								if k%3 == 2 {
									v = rng.Uint32()
								}
								binary.LittleEndian.PutUint64(data[16+8*i:], uint64(v))
							}
							if want, got := reference(f, a, data), run(t, p, data); want != got {
								t.Fatalf("filter %d on %s: arch %#x nr %#x: program %#x, rules %#x", fi, a, arch, nr|x32, got, want)
							}
						}
					}
				}
			}
		}
	}
}
