package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// The device access of a unit (DeviceAllow=, DevicePolicy=,
// systemd.resource-control(5)) is a cgroup v2 device program
// (BPF_PROG_TYPE_CGROUP_DEVICE): for each open or mknod of a device node
// the kernel asks it, and a 0 answer fails the call with EPERM.

// devRule is one allowed (type, major, minor, access); -1 is any.
type devRule struct {
	typ, major, minor int // typ: 1 block, 2 char (bpf_cgroup_dev_ctx)
	access            int // bits: 1 mknod, 2 read, 4 write
}

// closedDefaults are what DevicePolicy=closed (and auto with rules)
// always allows (systemd.resource-control(5) "DevicePolicy=").
var closedDefaults = []unitfile.DeviceRule{
	{Spec: "/dev/null", Access: "rwm"}, {Spec: "/dev/zero", Access: "rwm"}, {Spec: "/dev/full", Access: "rwm"},
	{Spec: "/dev/random", Access: "rwm"}, {Spec: "/dev/urandom", Access: "rwm"}, {Spec: "/dev/tty", Access: "rwm"},
	{Spec: "/dev/ptmx", Access: "rwm"}, {Spec: "char-pts", Access: "rw"},
	{Spec: "/run/systemd/inaccessible/chr", Access: "rwm"}, {Spec: "/run/systemd/inaccessible/blk", Access: "rwm"},
}

// deviceRules resolves the unit's rules; unresolvable ones (a missing
// node, an unknown driver) are left out, as systemd leaves them out.
func deviceRules(d unitfile.Devices) []devRule {
	rules := d.DeviceAllow
	if d.DevicePolicy != "strict" {
		rules = append(append([]unitfile.DeviceRule{}, closedDefaults...), rules...)
	}
	var out []devRule
	for _, r := range rules {
		acc := 0
		for _, c := range r.Access {
			acc |= map[rune]int{'m': 1, 'r': 2, 'w': 4}[c]
		}
		switch {
		case strings.HasPrefix(r.Spec, "char-"), strings.HasPrefix(r.Spec, "block-"):
			typ, name, _ := strings.Cut(r.Spec, "-")
			t := map[string]int{"block": 1, "char": 2}[typ]
			if name == "*" {
				out = append(out, devRule{t, -1, -1, acc})
				continue
			}
			for _, major := range driverMajors(t, name) {
				out = append(out, devRule{t, major, -1, acc})
			}
		default:
			var st unix.Stat_t
			if unix.Stat(r.Spec, &st) != nil {
				continue
			}
			t := 0
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFCHR:
				t = 2
			case unix.S_IFBLK:
				t = 1
			default:
				continue
			}
			out = append(out, devRule{t, int(unix.Major(st.Rdev)), int(unix.Minor(st.Rdev)), acc})
		}
	}
	return out
}

// driverMajors are the majors of /proc/devices whose driver name matches
// the glob, in the block (1) or character (2) section.
func driverMajors(typ int, glob string) []int {
	f, err := os.Open("/proc/devices")
	if err != nil {
		return nil
	}
	defer f.Close()
	section := 0
	var out []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch l {
		case "Character devices:":
			section = 2
			continue
		case "Block devices:":
			section = 1
			continue
		}
		fields := strings.Fields(l)
		if section != typ || len(fields) != 2 {
			continue
		}
		if ok, _ := path.Match(glob, fields[1]); ok {
			if n, err := strconv.Atoi(fields[0]); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// ebpf is one eBPF instruction (struct bpf_insn).
type ebpf struct {
	code uint8
	regs uint8 // dst in the low nibble, src in the high
	off  int16
	imm  int32
}

func insn(code uint8, dst, src uint8, off int16, imm int32) ebpf {
	return ebpf{code: code, regs: dst | src<<4, off: off, imm: imm}
}

const (
	ldxW    = 0x61 // BPF_LDX|BPF_MEM|BPF_W
	movReg  = 0xbf // BPF_ALU64|BPF_MOV|BPF_X
	movImm  = 0xb7 // BPF_ALU64|BPF_MOV|BPF_K
	andImm  = 0x57 // BPF_ALU64|BPF_AND|BPF_K
	rshImm  = 0x77 // BPF_ALU64|BPF_RSH|BPF_K
	jneImm  = 0x55 // BPF_JMP|BPF_JNE|BPF_K
	exitIns = 0x95 // BPF_JMP|BPF_EXIT
)

// deviceProgram allows an access when one rule covers it: the type, the
// major and minor (unless any) match and every access bit asked for is
// allowed. r1 is struct bpf_cgroup_dev_ctx {access_type, major, minor}.
func deviceProgram(rules []devRule) []ebpf {
	p := []ebpf{
		insn(ldxW, 2, 1, 0, 0),   // r2 = access_type
		insn(movReg, 3, 2, 0, 0), // r3 = type (low 16 bits)
		insn(andImm, 3, 0, 0, 0xffff),
		insn(movReg, 4, 2, 0, 0), // r4 = access (high 16 bits)
		insn(rshImm, 4, 0, 0, 16),
		insn(ldxW, 5, 1, 4, 0), // r5 = major
		insn(ldxW, 6, 1, 8, 0), // r6 = minor
	}
	for _, r := range rules {
		var block []ebpf
		if r.typ > 0 {
			block = append(block, insn(jneImm, 3, 0, 0, int32(r.typ)))
		}
		if r.major >= 0 {
			block = append(block, insn(jneImm, 5, 0, 0, int32(r.major)))
		}
		if r.minor >= 0 {
			block = append(block, insn(jneImm, 6, 0, 0, int32(r.minor)))
		}
		block = append(block,
			insn(movReg, 7, 4, 0, 0),
			insn(andImm, 7, 0, 0, int32(^r.access&7)),
			insn(jneImm, 7, 0, 0, 0),
			insn(movImm, 0, 0, 0, 1),
			insn(exitIns, 0, 0, 0, 0))
		for i := range block {
			if block[i].code == jneImm {
				block[i].off = int16(len(block) - i - 1) // to the next rule
			}
		}
		p = append(p, block...)
	}
	return append(p, insn(movImm, 0, 0, 0, 0), insn(exitIns, 0, 0, 0, 0))
}

// ApplyDevices attaches the unit's device program to the group (on top of
// any program an ancestor has: the kernel asks them all). It returns
// false, nil when the unit has no device rule.
func (g *Group) ApplyDevices(d unitfile.Devices) (bool, error) {
	if !d.Restricted() {
		return false, nil
	}
	fd, err := loadProgram(15, attachDevice, deviceProgram(deviceRules(d))) // BPF_PROG_TYPE_CGROUP_DEVICE
	if err != nil {
		return true, fmt.Errorf("loading the device program: %w", err)
	}
	defer unix.Close(fd)
	dir, err := g.OpenFD()
	if err != nil {
		return true, err
	}
	defer unix.Close(dir)
	if err := attachProgram(dir, fd, attachDevice); err != nil {
		return true, fmt.Errorf("attaching the device program: %w", err)
	}
	return true, nil
}
