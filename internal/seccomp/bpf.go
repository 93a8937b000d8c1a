package seccomp

import (
	"fmt"
	"sort"
)

// Instruction is one classic BPF instruction, laid out as the kernel's
// struct sock_filter.
type Instruction struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// Action is a seccomp filter's return value (seccomp(2)).
type Action uint32

const (
	ActKillProcess Action = 0x80000000
	ActKillThread  Action = 0x00000000
	ActAllow       Action = 0x7fff0000
	actErrno       Action = 0x00050000
)

// ActErrno fails the system call with errno e.
func ActErrno(e int) Action { return actErrno | Action(e&0xffff) }

// Arch is one of the system call ABIs an x86-64 kernel runs.
type Arch int

const (
	ArchX86_64 Arch = iota
	ArchX86
	ArchX32
)

// Archs are the ABIs every filter covers on x86-64 (systemd's
// SECCOMP_FOREACH_LOCAL_ARCH): a filter that missed one could be bypassed
// through it.
// x86-64 comes last: its program is the one that judges the loader's own
// later seccomp(2) calls, and an allow list may not include seccomp(2).
var Archs = []Arch{ArchX86, ArchX32, ArchX86_64}

const (
	auditArchX86_64 = 0xc000003e
	auditArchI386   = 0x40000003
	x32Bit          = 0x40000000
)

func (a Arch) String() string { return [...]string{"x86-64", "x86", "x32"}[a] }

// Op compares a system call argument with a value.
type Op int

const (
	OpEq Op = iota
	OpNe
	OpLt
	OpGt
	OpMaskedEq // (arg & Mask) == Value
)

// Cond is one argument check; only the low 32 bits of the argument are
// compared: every argument checked here is an int, a mode or flags whose
// meaning the kernel takes from those bits.
type Cond struct {
	Arg   int
	Op    Op
	Value uint32
	Mask  uint32
}

// Rule gives Action to a system call whose arguments pass every Cond.
type Rule struct {
	Syscall string
	Conds   []Cond
	Action  Action
	// Only limits the rule to these ABIs (nil: all).
	Only []Arch
}

func (r Rule) appliesTo(a Arch) bool {
	if r.Only == nil {
		return true
	}
	for _, o := range r.Only {
		if o == a {
			return true
		}
	}
	return false
}

// Filter is one seccomp program's worth of rules: the first matching rule
// decides, else Default.
type Filter struct {
	Default Action
	Rules   []Rule
}

// Classic BPF opcodes (linux/bpf_common.h).
const (
	bpfLdWAbs = 0x20 // BPF_LD|BPF_W|BPF_ABS
	bpfJeqK   = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
	bpfJgtK   = 0x25
	bpfJgeK   = 0x35
	bpfAndK   = 0x54 // BPF_ALU|BPF_AND|BPF_K
	bpfRetK   = 0x06
)

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// maxInstructions is the kernel's BPF_MAXINSNS.
const maxInstructions = 4096

// Number returns the system call number of name on arch (with the x32
// bit for x32), or false when arch has no such call.
func Number(name string, a Arch) (uint32, bool) {
	n, ok := tbl().nums[name]
	if !ok || n[a] < 0 {
		return 0, false
	}
	nr := uint32(n[a])
	if a == ArchX32 {
		nr |= x32Bit
	}
	return nr, true
}

// Known reports whether name is a system call of any of the ABIs.
func Known(name string) bool {
	_, ok := tbl().nums[name]
	return ok
}

// Program assembles f for one ABI: system calls of the other ABIs pass
// (the filters for those ABIs judge them); calls arch does not have are
// left out, as libseccomp leaves them out.
func (f Filter) Program(a Arch) ([]Instruction, error) {
	p := &program{}
	audit := uint32(auditArchX86_64)
	if a == ArchX86 {
		audit = auditArchI386
	}
	p.emit(bpfLdWAbs, 0, 0, offArch)
	p.emit(bpfJeqK, 1, 0, audit)
	p.emit(bpfRetK, 0, 0, uint32(ActAllow))
	p.emit(bpfLdWAbs, 0, 0, offNr)
	switch a {
	case ArchX86_64: // x32 calls share the audit arch and carry the x32 bit
		p.emit(bpfJgeK, 0, 1, x32Bit)
		p.emit(bpfRetK, 0, 0, uint32(ActAllow))
	case ArchX32:
		p.emit(bpfJgeK, 1, 0, x32Bit)
		p.emit(bpfRetK, 0, 0, uint32(ActAllow))
	}
	// Rules with argument checks keep their order and come first; a call
	// that an unconditional rule decides goes into a table searched in
	// ranges of consecutive numbers with one action (@system-service is
	// some 400 calls in a few dozen ranges): a short program is cheaper
	// for the kernel to load and for every system call of the service.
	// Rules for a call after its unconditional one could never match.
	decided := map[uint32]bool{}
	var table []numAction
	for _, r := range f.Rules {
		nr, ok := Number(r.Syscall, a)
		if !ok || !r.appliesTo(a) || decided[nr] {
			continue
		}
		if len(r.Conds) > 0 {
			if err := p.rule(nr, r); err != nil {
				return nil, err
			}
			continue
		}
		decided[nr] = true
		table = append(table, numAction{nr, uint32(r.Action)})
	}
	p.search(ranges(table), uint32(f.Default))
	if len(p.ins) > maxInstructions {
		return nil, fmt.Errorf("seccomp filter for %s has %d instructions (at most %d)", a, len(p.ins), maxInstructions)
	}
	return p.ins, nil
}

type program struct{ ins []Instruction }

type numAction struct{ nr, action uint32 }

// numRange is lo..hi (inclusive), all with one action.
type numRange struct{ lo, hi, action uint32 }

// ranges sorts the table and joins consecutive numbers with one action.
func ranges(table []numAction) []numRange {
	sort.Slice(table, func(i, j int) bool { return table[i].nr < table[j].nr })
	var out []numRange
	for _, t := range table {
		if n := len(out); n > 0 && out[n-1].hi+1 == t.nr && out[n-1].action == t.action {
			out[n-1].hi = t.nr
			continue
		}
		out = append(out, numRange{t.nr, t.nr, t.action})
	}
	return out
}

// search emits a binary search of rs for the number in A, returning the
// range's action, or def for a number in none. Conditional jumps go at
// most 2 ahead; a long way is an unconditional jump (32-bit offset).
func (p *program) search(rs []numRange, def uint32) {
	if len(rs) <= 4 {
		for _, r := range rs {
			if r.lo == r.hi {
				p.emit(bpfJeqK, 0, 1, r.lo)
			} else {
				p.emit(bpfJgeK, 0, 2, r.lo) // below: the next range
				p.emit(bpfJgtK, 1, 0, r.hi) // above: the next range
			}
			p.emit(bpfRetK, 0, 0, r.action)
		}
		p.emit(bpfRetK, 0, 0, def)
		return
	}
	mid := len(rs) / 2
	p.emit(bpfJgeK, 0, 1, rs[mid].lo)
	jump := p.emit(bpfJa, 0, 0, 0) // to the upper half, patched
	p.search(rs[:mid], def)
	p.ins[jump].K = uint32(len(p.ins) - jump - 1)
	p.search(rs[mid:], def)
}

func (p *program) emit(code uint16, jt, jf uint8, k uint32) int {
	p.ins = append(p.ins, Instruction{Code: code, Jt: jt, Jf: jf, K: k})
	return len(p.ins) - 1
}

// rule emits: if nr matches and every condition holds, return the action;
// a failed condition reloads the number and goes on with the next rule.
func (p *program) rule(nr uint32, r Rule) error {
	if len(r.Conds) == 0 {
		p.emit(bpfJeqK, 0, 1, nr)
		p.emit(bpfRetK, 0, 0, uint32(r.Action))
		return nil
	}
	start := p.emit(bpfJeqK, 0, 0, nr) // jf patched: past the whole block
	var fails []int                    // jumps to patch to the reload
	for _, c := range r.Conds {
		if c.Arg < 0 || c.Arg > 5 {
			return fmt.Errorf("argument %d out of range", c.Arg)
		}
		p.emit(bpfLdWAbs, 0, 0, uint32(offArgs+8*c.Arg)) // low word (little endian)
		switch c.Op {
		case OpEq:
			fails = append(fails, p.emit(bpfJeqK, 0, 0, c.Value)) // jf -> fail
		case OpNe:
			fails = append(fails, -p.emit(bpfJeqK, 0, 0, c.Value)-1) // jt -> fail
		case OpLt:
			fails = append(fails, -p.emit(bpfJgeK, 0, 0, c.Value)-1)
		case OpGt:
			fails = append(fails, p.emit(bpfJgtK, 0, 0, c.Value))
		case OpMaskedEq:
			p.emit(bpfAndK, 0, 0, c.Mask)
			fails = append(fails, p.emit(bpfJeqK, 0, 0, c.Value))
		default:
			return fmt.Errorf("unknown comparison %d", c.Op)
		}
	}
	p.emit(bpfRetK, 0, 0, uint32(r.Action))
	reload := p.emit(bpfLdWAbs, 0, 0, offNr)
	for _, f := range fails {
		at, onTrue := f, false
		if f < 0 {
			at, onTrue = -f-1, true
		}
		d := reload - at - 1
		if d > 255 {
			return fmt.Errorf("rule for %s too long", r.Syscall)
		}
		if onTrue {
			p.ins[at].Jt = uint8(d)
		} else {
			p.ins[at].Jf = uint8(d)
		}
	}
	d := reload - start // past the reload: A still holds the number
	if d > 255 {
		return fmt.Errorf("rule for %s too long", r.Syscall)
	}
	p.ins[start].Jf = uint8(d)
	return nil
}

// sortedNames lists m's keys in order (filters come out the same every
// time, which keeps them comparable and testable).
func sortedNames(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
