package cgroups

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// IPAddressAllow= and IPAddressDeny= are two cgroup socket-buffer
// programs (BPF_PROG_TYPE_CGROUP_SKB), one on ingress judging the source
// address and one on egress judging the destination, as systemd attaches
// them. A dropped egress packet fails the sender's call with EPERM.

const (
	aluAnd32 = 0x54 // BPF_ALU|BPF_AND|BPF_K (32-bit: no sign extension of the mask)
	jeq32Imm = 0x16 // BPF_JMP32|BPF_JEQ|BPF_K
	jne32Imm = 0x56 // BPF_JMP32|BPF_JNE|BPF_K
	addImm   = 0x07 // BPF_ALU64|BPF_ADD|BPF_K
	callIns  = 0x85 // BPF_JMP|BPF_CALL
	jaIns    = 0x05 // BPF_JMP|BPF_JA

	funcSkbLoadBytes = 26
	progTypeSkb      = 8 // BPF_PROG_TYPE_CGROUP_SKB
	attachIngress    = 0 // BPF_CGROUP_INET_INGRESS
	attachEgress     = 1 // BPF_CGROUP_INET_EGRESS
	attachDevice     = 6 // BPF_CGROUP_DEVICE
)

// prefixWords is a prefix as the 32-bit words (in the order loaded from
// the packet, little-endian loads of network-order bytes) and masks.
func prefixWords(p netip.Prefix) (addr, mask []uint32) {
	a := p.Addr().AsSlice()
	m := make([]byte, len(a))
	for i := 0; i < p.Bits(); i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	for i := 0; i < len(a); i += 4 {
		addr = append(addr, binary.LittleEndian.Uint32(a[i:i+4])&binary.LittleEndian.Uint32(m[i:i+4]))
		mask = append(mask, binary.LittleEndian.Uint32(m[i:i+4]))
	}
	return addr, mask
}

// ipMatch emits: if the address on the stack (words at r10-16...)
// matches p, return verdict; else fall through.
func ipMatch(p netip.Prefix, verdict int32) []ebpf {
	addr, mask := prefixWords(p)
	var b []ebpf
	for i := range addr {
		if mask[i] == 0 {
			continue
		}
		b = append(b,
			insn(ldxW, 8, 10, int16(-16+4*i), 0),
			insn(aluAnd32, 8, 0, 0, int32(mask[i])),
			insn(jne32Imm, 8, 0, 0, int32(addr[i]))) // off patched: past this block
	}
	b = append(b, insn(movImm, 0, 0, 0, verdict), insn(exitIns, 0, 0, 0, 0))
	for i := range b {
		if b[i].code == jne32Imm {
			b[i].off = int16(len(b) - i - 1)
		}
	}
	return b
}

// ipProgram judges the source (ingress) or destination (egress) address:
// allowed prefixes first, then denied ones; other packets pass.
func ipProgram(a unitfile.IPAccess, egress bool) []ebpf {
	off4, off6 := int32(12), int32(8) // source in the IPv4 and IPv6 headers
	if egress {
		off4, off6 = 16, 24
	}
	family := func(is4 bool) []ebpf {
		off, n := off6, int32(16)
		if is4 {
			off, n = off4, 4
		}
		b := []ebpf{
			insn(movReg, 1, 6, 0, 0), // bpf_skb_load_bytes(skb, off, r10-16, n)
			insn(movImm, 2, 0, 0, off),
			insn(movReg, 3, 10, 0, 0),
			insn(addImm, 3, 0, 0, -16),
			insn(movImm, 4, 0, 0, n),
			insn(callIns, 0, 0, 0, funcSkbLoadBytes),
			insn(jeq32Imm, 0, 0, 2, 0), // loaded: go on; else drop
			insn(movImm, 0, 0, 0, 0),
			insn(exitIns, 0, 0, 0, 0),
		}
		for _, list := range []struct {
			prefixes []netip.Prefix
			verdict  int32
		}{{a.IPAddressAllow, 1}, {a.IPAddressDeny, 0}} {
			for _, p := range list.prefixes {
				if p.Addr().Is4() != is4 {
					continue
				}
				b = append(b, ipMatch(p, list.verdict)...)
				if p.Bits() == 0 {
					return b // matches everything: what follows could never run (the verifier refuses that)
				}
			}
		}
		return append(b, insn(movImm, 0, 0, 0, 1), insn(exitIns, 0, 0, 0, 0))
	}
	v4, v6 := family(true), family(false)
	p := []ebpf{
		insn(movReg, 6, 1, 0, 0),                       // r6 = skb
		insn(ldxW, 2, 6, 16, 0),                        // r2 = skb->protocol (network order)
		insn(jeq32Imm, 2, 0, 3, 0x0008),                // ETH_P_IP
		insn(jeq32Imm, 2, 0, int16(2+len(v4)), 0xdd86), // ETH_P_IPV6
		insn(movImm, 0, 0, 0, 1),                       // neither: pass
		insn(exitIns, 0, 0, 0, 0),
	}
	p = append(p, v4...)
	return append(p, v6...)
}

// ApplyIPAccess attaches the unit's address programs to the group; false,
// nil when it denies nothing.
func (g *Group) ApplyIPAccess(a unitfile.IPAccess) (bool, error) {
	if !a.Restricted() {
		return false, nil
	}
	dir, err := g.OpenFD()
	if err != nil {
		return true, err
	}
	defer unix.Close(dir)
	for _, egress := range []bool{false, true} {
		fd, err := loadProgram(progTypeSkb, 0, ipProgram(a, egress))
		if err != nil {
			return true, fmt.Errorf("loading the IP address program: %w", err)
		}
		typ := uint32(attachIngress)
		if egress {
			typ = attachEgress
		}
		err = attachProgram(dir, fd, typ)
		unix.Close(fd)
		if err != nil {
			return true, fmt.Errorf("attaching the IP address program: %w", err)
		}
	}
	return true, nil
}

// loadProgram loads an eBPF program (bpf(BPF_PROG_LOAD)).
func loadProgram(progType, expectedAttach uint32, prog []ebpf) (int, error) {
	license := []byte("GPL\x00")
	attr := struct {
		progType, insnCnt  uint32
		insns, license     uint64
		logLevel, logSize  uint32
		logBuf             uint64
		kernVersion, flags uint32
		name               [16]byte
		ifindex, expected  uint32
	}{progType: progType, insnCnt: uint32(len(prog)),
		insns:    uint64(uintptr(unsafe.Pointer(&prog[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
		expected: expectedAttach}
	copy(attr.name[:], "gosd")
	const bpfProgLoad = 5
	fd, _, e := unix.Syscall(unix.SYS_BPF, bpfProgLoad, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if e == unix.EINVAL || e == unix.EACCES {
		// Again with the verifier's log, to say why.
		log := make([]byte, 16<<10)
		attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), uint64(uintptr(unsafe.Pointer(&log[0])))
		unix.Syscall(unix.SYS_BPF, bpfProgLoad, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		runtime.KeepAlive(log)
		msg := strings.TrimSpace(string(log[:max(0, bytes.IndexByte(log, 0))]))
		if lines := strings.Split(msg, "\n"); len(lines) > 3 {
			msg = strings.Join(lines[len(lines)-3:], "; ") // the verifier's reason is near its end
		}
		runtime.KeepAlive(prog)
		return -1, fmt.Errorf("%w (%s)", e, msg)
	}
	runtime.KeepAlive(prog)
	runtime.KeepAlive(license)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// attachProgram attaches prog to a cgroup, beside its ancestors' (the
// kernel runs them all; BPF_F_ALLOW_MULTI).
func attachProgram(cgroupFD, prog int, attachType uint32) error {
	const bpfProgAttach, allowMulti = 8, 2
	att := struct{ target, prog, typ, flags, replace uint32 }{uint32(cgroupFD), uint32(prog), attachType, allowMulti, 0}
	if _, _, e := unix.Syscall(unix.SYS_BPF, bpfProgAttach, uintptr(unsafe.Pointer(&att)), unsafe.Sizeof(att)); e != 0 {
		return e
	}
	return nil
}

// ReplaceAccess puts the unit's current device and address programs in
// place of the ones attached to the group before (daemon-reload changed
// DeviceAllow=, IPAddressDeny= or their kin): the new ones are attached
// first, then the old ones detached, so the group is never without a
// program it had. The two bools say whether device and address settings
// restrict anything.
func (g *Group) ReplaceAccess(d unitfile.Devices, a unitfile.IPAccess) (bool, bool, error) {
	dir, err := g.OpenFD()
	if err != nil {
		return d.Restricted(), a.Restricted(), err
	}
	defer unix.Close(dir)
	types := []uint32{attachDevice, attachIngress, attachEgress}
	old := make([][]uint32, len(types))
	for i, typ := range types {
		if old[i], err = attachedPrograms(dir, typ); err != nil {
			return d.Restricted(), a.Restricted(), fmt.Errorf("listing the attached programs: %w", err)
		}
	}
	devs, errD := g.ApplyDevices(d)
	ips, errI := g.ApplyIPAccess(a)
	if errD != nil || errI != nil {
		// The old programs stay: better the old restrictions than none.
		return devs, ips, errors.Join(errD, errI)
	}
	for i, typ := range types {
		for _, id := range old[i] {
			if err := detachProgram(dir, id, typ); err != nil {
				return devs, ips, fmt.Errorf("detaching the old program: %w", err)
			}
		}
	}
	return devs, ips, nil
}

// attachedPrograms lists the ids of the programs attached to the cgroup
// itself (not its ancestors) for attachType (bpf(BPF_PROG_QUERY)).
func attachedPrograms(cgroupFD int, attachType uint32) ([]uint32, error) {
	const bpfProgQuery = 16
	ids := make([]uint32, 64)
	attr := struct {
		target, typ, queryFlags, attachFlags uint32
		ids                                  uint64
		count                                uint32
		_                                    uint32
	}{target: uint32(cgroupFD), typ: attachType, ids: uint64(uintptr(unsafe.Pointer(&ids[0]))), count: uint32(len(ids))}
	_, _, e := unix.Syscall(unix.SYS_BPF, bpfProgQuery, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(ids)
	if e != 0 {
		return nil, e
	}
	return ids[:attr.count], nil
}

// detachProgram detaches the program with this id from the cgroup.
func detachProgram(cgroupFD int, id, attachType uint32) error {
	const bpfProgGetFDByID, bpfProgDetach = 13, 9
	byID := struct{ id, next, flags uint32 }{id: id}
	fd, _, e := unix.Syscall(unix.SYS_BPF, bpfProgGetFDByID, uintptr(unsafe.Pointer(&byID)), unsafe.Sizeof(byID))
	if e == unix.ENOENT {
		return nil // gone meanwhile
	}
	if e != 0 {
		return e
	}
	defer unix.Close(int(fd))
	att := struct{ target, prog, typ, flags, replace uint32 }{uint32(cgroupFD), uint32(fd), attachType, 0, 0}
	if _, _, e := unix.Syscall(unix.SYS_BPF, bpfProgDetach, uintptr(unsafe.Pointer(&att)), unsafe.Sizeof(att)); e != 0 && e != unix.ENOENT {
		return e
	}
	return nil
}
