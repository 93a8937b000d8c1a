package seccomp

import "encoding/binary"

// Merge joins programs, given in the order they would be loaded, into as
// few programs as give the same verdict for every system call, to be
// loaded in the returned order. Each loaded filter costs the kernel an
// allocation, a JIT compilation and a pass over every system call number
// to fill its action cache; redis-server.service's settings make 27
// programs, which merge into 2.
//
// The kernel runs every loaded filter and keeps the strongest action
// (seccomp(2): KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE,
// LOG, ALLOW), the most recently loaded filter winning a tie. A merged
// program runs the members newest first, each member's "allow" jumping
// to the next member, and returns the first other action. That is the
// kernel's answer when no member run later can return a stronger action
// than one run earlier, so a member that could is started a new program
// with. A program with a return other than of a constant is never merged.
func Merge(progs [][]Instruction) [][]Instruction {
	var groups [][][]Instruction // each newest first
	var groupWeakest int32       // the weakest action of the last group
	closed := true               // the last group takes no more members
	for i := len(progs) - 1; i >= 0; i-- {
		p := progs[i]
		strongest, weakest, ok := actionRange(p)
		n := len(groups)
		if !ok || closed || !mergeable(groups[n-1], p) || (strongest != nil && groupWeakest > *strongest) {
			groups = append(groups, [][]Instruction{p})
			groupWeakest, closed = -1<<31, !ok
		} else {
			groups[n-1] = append(groups[n-1], p)
		}
		if weakest != nil {
			groupWeakest = max(groupWeakest, *weakest)
		}
	}
	out := make([][]Instruction, 0, len(groups))
	for g := len(groups) - 1; g >= 0; g-- { // oldest group first: load order
		out = append(out, join(groups[g]))
	}
	return out
}

const bpfJa = 0x05 // BPF_JMP|BPF_JA: pc += K

// precedence orders actions as the kernel does: lower is stronger.
func precedence(ret uint32) int32 { return int32(ret & 0xffff0000) }

// actionRange gives the strongest and weakest action other than allow that
// p can return (nil when it only allows); ok is false when p returns
// something other than a constant.
func actionRange(p []Instruction) (strongest, weakest *int32, ok bool) {
	for _, in := range p {
		switch {
		case in.Code == bpfRetK:
			if in.K == uint32(ActAllow) {
				continue
			}
			pr := precedence(in.K)
			if strongest == nil {
				strongest, weakest = new(int32), new(int32)
				*strongest, *weakest = pr, pr
			}
			*strongest, *weakest = min(*strongest, pr), max(*weakest, pr)
		case in.Code&0x07 == 0x06: // BPF_RET of A or X
			return nil, nil, false
		}
	}
	return strongest, weakest, true
}

// mergeable says whether p can join group without passing the kernel's
// program size limit.
func mergeable(group [][]Instruction, p []Instruction) bool {
	n := len(p)
	for _, q := range group {
		n += len(q)
	}
	return n <= maxInstructions
}

// join lays out members newest first; a member's "allow" jumps to the
// next member (the same length, so no other jump moves), the last one's
// stays.
func join(members [][]Instruction) []Instruction {
	if len(members) == 1 {
		return members[0]
	}
	var out []Instruction
	for m, p := range members {
		for i, in := range p {
			if m < len(members)-1 && in.Code == bpfRetK && in.K == uint32(ActAllow) {
				in = Instruction{Code: bpfJa, K: uint32(len(p) - i - 1)}
			}
			out = append(out, in)
		}
	}
	return out
}

// Bytes is p as the kernel reads it (struct sock_filter, native byte
// order: little endian on x86).
func Bytes(p []Instruction) []byte {
	b := make([]byte, 0, 8*len(p))
	for _, in := range p {
		b = binary.LittleEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.LittleEndian.AppendUint32(b, in.K)
	}
	return b
}
