package unitfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gosd/internal/seccomp"
)

// This file holds the identity, seccomp and process settings of
// systemd.exec(5) that gosd enforces in the child (exec/), kept apart
// from the mount and namespace settings.

// ProcessSecurity is the part of ExecContext for identity, system call
// filtering and process settings; it is embedded, so its fields appear at
// the top level of ExecContext's JSON.
type ProcessSecurity struct {
	// IgnoreSIGPIPE: the process starts with SIGPIPE ignored (default yes).
	IgnoreSIGPIPE bool `json:"ignore_sigpipe"`
	// RemoveIPC: the user's System V and POSIX IPC objects are removed
	// when the unit stops (implied by DynamicUser=).
	RemoveIPC bool `json:"remove_ipc,omitempty"`
	// RestrictSUIDSGID: no set-user-ID or set-group-ID files may be made
	// (implied by DynamicUser=).
	RestrictSUIDSGID bool `json:"restrict_suid_sgid,omitempty"`

	// SystemCallFilter is the merged allow or deny list; nil: no filter.
	SystemCallFilter *seccomp.SyscallList `json:"system_call_filter,omitempty"`
	// SystemCallErrorNumber: the errno of a filtered call; 0 or
	// seccomp.ErrnoKill: the process is killed (the default).
	SystemCallErrorNumber int `json:"system_call_error_number,omitempty"`
	// SystemCallArchitectures: the ABIs allowed ("native", "x86", ...).
	SystemCallArchitectures []string `json:"system_call_architectures,omitempty"`
	// RestrictAddressFamilies with AddressFamiliesAllowList: the socket
	// families allowed, or denied; an empty allow list denies all.
	RestrictAddressFamilies  []string `json:"restrict_address_families,omitempty"`
	AddressFamiliesAllowList bool     `json:"address_families_allow_list,omitempty"`
	// RestrictNamespaces is the mask of namespace kinds (clone flags) a
	// process may create or join; nil: not restricted.
	RestrictNamespaces     *uint64 `json:"restrict_namespaces,omitempty"`
	RestrictRealtime       bool    `json:"restrict_realtime,omitempty"`
	MemoryDenyWriteExecute bool    `json:"memory_deny_write_execute,omitempty"`
	LockPersonality        bool    `json:"lock_personality,omitempty"`
	ProtectClock           bool    `json:"protect_clock,omitempty"`

	// CPUAffinity: the CPUs the process may run on; nil: unchanged.
	CPUAffinity []int `json:"cpu_affinity,omitempty"`
	// IOSchedulingClass: 0 none, 1 realtime, 2 best-effort, 3 idle; nil
	// unset. IOSchedulingPriority 0-7 (nil: 4).
	IOSchedulingClass    *int `json:"io_scheduling_class,omitempty"`
	IOSchedulingPriority *int `json:"io_scheduling_priority,omitempty"`
	// CPUSchedulingPolicy: SCHED_* number (0 other, 1 fifo, 2 rr, 3
	// batch, 5 idle); nil unset. CPUSchedulingPriority for fifo and rr.
	CPUSchedulingPolicy      *int `json:"cpu_scheduling_policy,omitempty"`
	CPUSchedulingPriority    int  `json:"cpu_scheduling_priority,omitempty"`
	CPUSchedulingResetOnFork bool `json:"cpu_scheduling_reset_on_fork,omitempty"`

	// ExecSearchPath: where bare command names are found, and $PATH
	// unless the environment settings set it.
	ExecSearchPath []string `json:"exec_search_path,omitempty"`

	// TTYReset, TTYVHangup, TTYVTDisallocate act on TTYPath= (default
	// /dev/console) before the process starts and after the unit stops.
	TTYReset         bool `json:"tty_reset,omitempty"`
	TTYVHangup       bool `json:"tty_vhangup,omitempty"`
	TTYVTDisallocate bool `json:"tty_vt_disallocate,omitempty"`
	// UtmpIdentifier (utmp keeps its last 4 characters) and UtmpMode (init,
	// login, user) make a utmp/wtmp record for the process.
	UtmpIdentifier string `json:"utmp_identifier,omitempty"`
	UtmpMode       string `json:"utmp_mode,omitempty"`

	// Personality: the execution domain (personality(2)); nil unchanged.
	Personality *uint32 `json:"personality,omitempty"`
	// SecureBits: the securebits (capabilities(7)) set for the process.
	SecureBits int `json:"secure_bits,omitempty"`

	// Credentials are LoadCredential=, SetCredential= and their
	// Encrypted forms, in order.
	Credentials []Credential `json:"credentials,omitempty"`
}

// Credential is one LoadCredential= (Path: absolute file, directory or
// socket; else a name looked up in the manager's credentials and the
// credential stores) or SetCredential= (Value set) line.
type Credential struct {
	ID        string `json:"id"`
	Path      string `json:"path,omitempty"`
	Value     []byte `json:"value,omitempty"`
	Set       bool   `json:"set,omitempty"`
	Encrypted bool   `json:"encrypted,omitempty"`
}

// validCredentialID: a short name usable as a file name.
func validCredentialID(id string) bool {
	return id != "" && len(id) <= 255 && id != "." && id != ".." && !strings.ContainsAny(id, "/\x00")
}

func credentialKey(set, encrypted bool) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			// An empty assignment resets the credentials of its kind.
			t.exec.Credentials = slices.DeleteFunc(t.exec.Credentials, func(c Credential) bool { return c.Set == set })
			return nil
		}
		id, rest, hasRest := strings.Cut(v, ":")
		if !validCredentialID(id) {
			return fmt.Errorf("Credential name %q is not valid", id)
		}
		c := Credential{ID: id, Set: set, Encrypted: encrypted}
		switch {
		case set:
			if !hasRest {
				return fmt.Errorf("Missing value in %q", v)
			}
			var b strings.Builder
			for i := 0; i < len(rest); i++ {
				if rest[i] != '\\' {
					b.WriteByte(rest[i])
					continue
				}
				r, n, err := cUnescape(rest[i+1:])
				if err != nil {
					return err
				}
				b.WriteString(r)
				i += n
			}
			c.Value = []byte(b.String())
		case hasRest && rest != "":
			c.Path = rest
		default:
			c.Path = id
		}
		t.exec.Credentials = append(t.exec.Credentials, c)
		return nil
	})
}

// ProcessSettings reports whether a scheduling setting applies (these
// are set in the child by the helper).
func (p *ProcessSecurity) ProcessSettings() bool {
	return p.CPUAffinity != nil || p.IOSchedulingClass != nil || p.CPUSchedulingPolicy != nil || p.CPUSchedulingResetOnFork ||
		p.Personality != nil || p.SecureBits != 0
}

// Seccomp reports whether any system call filter applies.
func (p *ProcessSecurity) Seccomp() bool {
	return p.SystemCallFilter != nil || len(p.SystemCallArchitectures) > 0 ||
		p.AddressFamiliesAllowList || len(p.RestrictAddressFamilies) > 0 ||
		p.RestrictNamespaces != nil && *p.RestrictNamespaces&seccomp.AllNamespaces != seccomp.AllNamespaces ||
		p.RestrictRealtime || p.RestrictSUIDSGID || p.MemoryDenyWriteExecute || p.LockPersonality || p.ProtectClock
}

func init() {
	for k, def := range securityKeys {
		execKeys[k] = def
	}
}

var securityKeys = map[string]keyDef{
	"IgnoreSIGPIPE":    boolKey(func(t *buildTarget) *bool { return &t.exec.IgnoreSIGPIPE }),
	"RemoveIPC":        boolKey(func(t *buildTarget) *bool { return &t.exec.RemoveIPC }),
	"RestrictSUIDSGID": boolKey(func(t *buildTarget) *bool { return &t.exec.RestrictSUIDSGID }),

	"RestrictRealtime":       boolKey(func(t *buildTarget) *bool { return &t.exec.RestrictRealtime }),
	"MemoryDenyWriteExecute": boolKey(func(t *buildTarget) *bool { return &t.exec.MemoryDenyWriteExecute }),
	"LockPersonality":        boolKey(func(t *buildTarget) *bool { return &t.exec.LockPersonality }),
	"ProtectClock":           boolKey(func(t *buildTarget) *bool { return &t.exec.ProtectClock }),

	"LoadCredential":          credentialKey(false, false),
	"LoadCredentialEncrypted": credentialKey(false, true),
	"SetCredential":           credentialKey(true, false),
	"SetCredentialEncrypted":  credentialKey(true, true),

	"TTYReset":         boolKey(func(t *buildTarget) *bool { return &t.exec.TTYReset }),
	"TTYVHangup":       boolKey(func(t *buildTarget) *bool { return &t.exec.TTYVHangup }),
	"TTYVTDisallocate": boolKey(func(t *buildTarget) *bool { return &t.exec.TTYVTDisallocate }),
	"UtmpIdentifier": withSpecifiers(func(t *buildTarget, v string) error {
		// Kept whole, as systemd shows it; utmp records its last four
		// characters.
		t.exec.UtmpIdentifier = v
		return nil
	}),
	"UtmpMode": enumKey(func(t *buildTarget) *string { return &t.exec.UtmpMode }, "init", "login", "user"),

	// On x86-64 systemd knows x86 (PER_LINUX32) and x86-64 (PER_LINUX).
	"Personality": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.Personality = nil
			return nil
		}
		p, ok := map[string]uint32{"x86": 0x0008, "x86-64": 0}[v]
		if !ok {
			return fmt.Errorf("Failed to parse personality %q (on this architecture: x86, x86-64)", v)
		}
		t.exec.Personality = &p
		return nil
	}),
	"SecureBits": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.SecureBits = 0
			return nil
		}
		var bits int
		for _, w := range strings.Fields(v) {
			b, ok := map[string]int{"noroot": 1 << 0, "noroot-locked": 1 << 1, "no-setuid-fixup": 1 << 2,
				"no-setuid-fixup-locked": 1 << 3, "keep-caps": 1 << 4, "keep-caps-locked": 1 << 5}[w]
			if !ok {
				return fmt.Errorf("Failed to parse secure bit %q", w)
			}
			bits |= b
		}
		t.exec.SecureBits |= bits // assignments are ORed (systemd.exec(5))
		return nil
	}),

	"ExecSearchPath": withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.ExecSearchPath = nil
			return nil
		}
		var paths []string
		for _, p := range strings.Split(v, ":") {
			if !strings.HasPrefix(p, "/") {
				return fmt.Errorf("Path %q is not absolute", p)
			}
			paths = append(paths, filepath.Clean(p))
		}
		t.exec.ExecSearchPath = append(t.exec.ExecSearchPath, paths...)
		return nil
	}),
	"CPUAffinity": withSpecifiers(func(t *buildTarget, v string) error {
		return cpuListKey(&t.exec.CPUAffinity, v, "CPU affinity")
	}),
	"IOSchedulingClass": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.IOSchedulingClass = nil
			return nil
		}
		// "none" is the kernel's default, best-effort, as systemd
		// normalises it.
		n, ok := map[string]int{"none": 2, "realtime": 1, "best-effort": 2, "idle": 3, "0": 2, "1": 1, "2": 2, "3": 3}[v]
		if !ok {
			return fmt.Errorf("Failed to parse IO scheduling class %q", v)
		}
		t.exec.IOSchedulingClass = &n
		return nil
	}),
	"IOSchedulingPriority": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.IOSchedulingPriority = nil
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 7 {
			return fmt.Errorf("Failed to parse IO priority %q", v)
		}
		t.exec.IOSchedulingPriority = &n
		if t.exec.IOSchedulingClass == nil {
			be := 2 // a priority alone means best-effort
			t.exec.IOSchedulingClass = &be
		}
		return nil
	}),
	"CPUSchedulingPolicy": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.CPUSchedulingPolicy = nil
			return nil
		}
		n, ok := map[string]int{"other": 0, "fifo": 1, "rr": 2, "batch": 3, "idle": 5}[v]
		if !ok {
			return fmt.Errorf("Failed to parse CPU scheduling policy %q", v)
		}
		t.exec.CPUSchedulingPolicy = &n
		// The priority moves into the policy's range (1-99 for fifo
		// and rr, 0 for the others), as systemd clamps it.
		if n == 1 || n == 2 {
			t.exec.CPUSchedulingPriority = min(max(t.exec.CPUSchedulingPriority, 1), 99)
		} else {
			t.exec.CPUSchedulingPriority = 0
		}
		return nil
	}),
	"CPUSchedulingPriority": literal(func(t *buildTarget, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 99 {
			return fmt.Errorf("Failed to parse CPU scheduling priority %q", v)
		}
		// A priority alone sets scheduling with the default policy
		// (other), as systemd does; whether the pair is valid is the
		// kernel's to say when the process starts.
		t.exec.CPUSchedulingPriority = n
		if t.exec.CPUSchedulingPolicy == nil {
			other := 0
			t.exec.CPUSchedulingPolicy = &other
		}
		return nil
	}),
	"CPUSchedulingResetOnFork": boolKey(func(t *buildTarget) *bool { return &t.exec.CPUSchedulingResetOnFork }),

	"SystemCallFilter": withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.SystemCallFilter = nil
			return nil
		}
		if t.exec.SystemCallFilter == nil {
			t.exec.SystemCallFilter = &seccomp.SyscallList{}
		}
		var errs []error
		for _, w := range t.exec.SystemCallFilter.Add(v) {
			errs = append(errs, errors.New(w))
		}
		return errors.Join(errs...)
	}),
	"SystemCallErrorNumber": withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.SystemCallErrorNumber = 0
			return nil
		}
		n, err := seccomp.ParseErrno(v)
		if err != nil {
			return err
		}
		t.exec.SystemCallErrorNumber = n
		return nil
	}),
	"SystemCallArchitectures": withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.SystemCallArchitectures = nil
			return nil
		}
		var errs []error
		for _, w := range strings.Fields(v) {
			if _, ok := seccomp.ArchNames[w]; !ok {
				errs = append(errs, fmt.Errorf("Failed to parse system call architecture %q", w))
				continue
			}
			if !slices.Contains(t.exec.SystemCallArchitectures, w) {
				t.exec.SystemCallArchitectures = append(t.exec.SystemCallArchitectures, w)
			}
		}
		return errors.Join(errs...)
	}),
	// Merged as systemd does: "" resets, "none" is an empty allow list,
	// the first list decides allow or deny ("~"), later ones add or remove.
	"RestrictAddressFamilies": literal(func(t *buildTarget, v string) error {
		switch v {
		case "":
			t.exec.RestrictAddressFamilies, t.exec.AddressFamiliesAllowList = nil, false
			return nil
		case "none":
			t.exec.RestrictAddressFamilies, t.exec.AddressFamiliesAllowList = nil, true
			return nil
		}
		invert := strings.HasPrefix(v, "~")
		if t.exec.RestrictAddressFamilies == nil {
			t.exec.RestrictAddressFamilies = []string{}
			t.exec.AddressFamiliesAllowList = !invert
		}
		var errs []error
		for _, w := range strings.Fields(strings.TrimPrefix(v, "~")) {
			if _, ok := seccomp.AddressFamily(w); !ok {
				errs = append(errs, fmt.Errorf("Failed to parse address family %q", w))
				continue
			}
			i := slices.Index(t.exec.RestrictAddressFamilies, w)
			switch {
			case invert != t.exec.AddressFamiliesAllowList && i < 0:
				t.exec.RestrictAddressFamilies = append(t.exec.RestrictAddressFamilies, w)
			case invert == t.exec.AddressFamiliesAllowList && i >= 0:
				t.exec.RestrictAddressFamilies = slices.Delete(t.exec.RestrictAddressFamilies, i, i+1)
			}
		}
		return errors.Join(errs...)
	}),
	// "yes" allows none, "no" all, a list those ("~": all but those);
	// lists after the first add or remove kinds (systemd.exec(5)).
	"RestrictNamespaces": literal(func(t *buildTarget, v string) error {
		if v == "" {
			t.exec.RestrictNamespaces = nil
			return nil
		}
		if b, err := ParseBool(v); err == nil {
			var m uint64
			if !b {
				m = seccomp.AllNamespaces
			}
			t.exec.RestrictNamespaces = &m
			return nil
		}
		invert := strings.HasPrefix(v, "~")
		var flags uint64
		for _, w := range strings.Fields(strings.TrimPrefix(v, "~")) {
			f, ok := seccomp.NamespaceFlags[w]
			if !ok {
				return fmt.Errorf("Invalid namespace type %q", w)
			}
			flags |= f
		}
		switch {
		case t.exec.RestrictNamespaces == nil && invert:
			m := seccomp.AllNamespaces &^ flags
			t.exec.RestrictNamespaces = &m
		case t.exec.RestrictNamespaces == nil:
			t.exec.RestrictNamespaces = &flags
		case invert:
			*t.exec.RestrictNamespaces &^= flags
		default:
			*t.exec.RestrictNamespaces |= flags
		}
		return nil
	}),
}

// finishDynamicUser applies what DynamicUser=yes implies (systemd.exec(5)
// "DynamicUser="): the user name from the unit name when User= is not set,
// the group of the same name, RemoveIPC=, NoNewPrivileges= and
// RestrictSUIDSGID= (which cannot be turned off), PrivateTmp=,
// ProtectSystem=strict and ProtectHome=read-only (unless set otherwise).
func (b *builder) finishDynamicUser() {
	b.finishProtectClock()
	b.finishImpliedCaps()
	ec := b.t.exec
	if !ec.DynamicUser {
		return
	}
	if ec.User == "" {
		ec.User = DynamicUserName(b.u.Name)
	}
	if ec.Group == "" {
		ec.Group = ec.User
	}
	ec.RemoveIPC, ec.NoNewPrivileges, ec.RestrictSUIDSGID = true, true, true
	// Nothing of the unit's may outlive it with its uid: a strict
	// sandbox, as systemd's unit_patch_contexts() sets.
	ec.PrivateTmp, ec.ProtectSystem = true, "strict"
	if ec.ProtectHome == "" {
		ec.ProtectHome = "read-only"
	}
}

// dropBoundingCaps takes caps out of the bounding set, as the sandboxing
// settings that imply it do (systemd's unit_patch_contexts()), so that
// the set shown is the one applied.
func dropBoundingCaps(ec *ExecContext, caps ...string) {
	if ec.CapabilityBoundingSet == nil {
		ec.CapabilityBoundingSet = capList(uint64(1)<<len(Capabilities) - 1)
	}
	ec.CapabilityBoundingSet = slices.DeleteFunc(ec.CapabilityBoundingSet, func(c string) bool { return slices.Contains(caps, c) })
}

// finishImpliedCaps applies the bounding set drops of PrivateDevices=
// (CAP_MKNOD, CAP_SYS_RAWIO), ProtectKernelModules= (CAP_SYS_MODULE) and
// ProtectKernelLogs= (CAP_SYSLOG), systemd.exec(5), and the closed device
// policy of PrivateDevices=.
func (b *builder) finishImpliedCaps() {
	ec := b.t.exec
	if ec.PrivateDevices {
		dropBoundingCaps(ec, "CAP_MKNOD", "CAP_SYS_RAWIO")
	}
	if ec.ProtectKernelModules {
		dropBoundingCaps(ec, "CAP_SYS_MODULE")
	}
	if ec.ProtectKernelLogs {
		dropBoundingCaps(ec, "CAP_SYSLOG")
	}
	// PrivateDevices= also closes the device policy left at auto, so the
	// cgroup allows the same devices the private /dev holds.
	if ec.PrivateDevices && b.t.res != nil && b.t.res.DevicePolicy == "" {
		b.t.res.DevicePolicy = "closed"
	}
}

// Capabilities are the Linux capabilities by number (capabilities(7)),
// those systemd 252 knows.
var Capabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// CapabilityNumber is the number of a capability named as systemd takes
// it: "CAP_CHOWN" or "cap_chown", or the number itself.
func CapabilityNumber(name string) (int, bool) {
	for i, n := range Capabilities {
		if strings.EqualFold(n, name) {
			return i, true
		}
	}
	if c, err := strconv.Atoi(name); err == nil && c >= 0 && c < len(Capabilities) {
		return c, true
	}
	return 0, false
}

// DynamicUserName is the user name DynamicUser= derives from a unit name
// when User= is not set: the name's prefix (before "@" or the type
// suffix) when it is a valid user name, else "_du" and the SipHash-2-4 of
// the prefix under systemd's fixed key, so the name is the one systemd
// would pick (and files the unit left under it stay its own).
func DynamicUserName(unit string) string {
	prefix := unit
	if i := strings.IndexByte(prefix, '@'); i >= 0 {
		prefix = prefix[:i]
	} else if i := strings.LastIndexByte(prefix, '.'); i >= 0 {
		prefix = prefix[:i]
	}
	if ValidUserName(prefix) {
		return prefix
	}
	key := [16]byte{0x58, 0x1a, 0xaf, 0xe6, 0x28, 0x58, 0x4e, 0x96, 0xb4, 0x4e, 0xf5, 0x3b, 0x8c, 0x92, 0x07, 0xec}
	return fmt.Sprintf("_du%016x", sipHash24(key, []byte(prefix)))
}

// sipHash24 is SipHash-2-4 (Aumasson and Bernstein) with a 128-bit key.
func sipHash24(key [16]byte, msg []byte) uint64 {
	k0, k1 := binary.LittleEndian.Uint64(key[:8]), binary.LittleEndian.Uint64(key[8:])
	v0, v1 := k0^0x736f6d6570736575, k1^0x646f72616e646f6d
	v2, v3 := k0^0x6c7967656e657261, k1^0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13) ^ v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16) ^ v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21) ^ v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17) ^ v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	n := len(msg)
	for len(msg) >= 8 {
		m := binary.LittleEndian.Uint64(msg)
		v3 ^= m
		round()
		round()
		v0 ^= m
		msg = msg[8:]
	}
	var last [8]byte
	copy(last[:], msg)
	last[7] = byte(n)
	m := binary.LittleEndian.Uint64(last[:])
	v3 ^= m
	round()
	round()
	v0 ^= m
	v2 ^= 0xff
	for range 4 {
		round()
	}
	return v0 ^ v1 ^ v2 ^ v3
}

// ValidUserName is systemd's strict user and group name check: a letter
// or "_" first, then letters, digits, "_" and "-", at most 31 characters.
func ValidUserName(s string) bool {
	if s == "" || len(s) > 31 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// finishProtectClock applies what ProtectClock=yes implies besides its
// filter (systemd.exec(5)): CAP_SYS_TIME and CAP_WAKE_ALARM leave the
// bounding set, and DeviceAllow=char-rtc r is added.
func (b *builder) finishProtectClock() {
	ec := b.t.exec
	if !ec.ProtectClock {
		return
	}
	dropBoundingCaps(ec, "CAP_SYS_TIME", "CAP_WAKE_ALARM")
	b.t.res.DeviceAllow = append(b.t.res.DeviceAllow, DeviceRule{Spec: "char-rtc", Access: "r"})
}

// DeviceRule is one DeviceAllow= line: a device node path, or
// "char-NAME"/"block-NAME" (a driver name of /proc/devices, a glob), and
// the access allowed: r, w, m (mknod).
type DeviceRule struct {
	Spec   string `json:"spec"`
	Access string `json:"access"`
}

// Devices is DeviceAllow= and DevicePolicy= (systemd.resource-control(5)),
// enforced by a cgroup device program.
type Devices struct {
	DevicePolicy string       `json:"device_policy,omitempty"` // auto (default), closed, strict
	DeviceAllow  []DeviceRule `json:"device_allow,omitempty"`
}

// Restricted says whether any device rule applies.
func (d Devices) Restricted() bool {
	return d.DevicePolicy == "closed" || d.DevicePolicy == "strict" || len(d.DeviceAllow) > 0
}

func init() {
	execKeys["DevicePolicy"] = literal(func(t *buildTarget, v string) error {
		switch v {
		case "", "auto":
			t.res.DevicePolicy = ""
		case "closed", "strict":
			t.res.DevicePolicy = v
		default:
			return fmt.Errorf("Invalid device policy %q", v)
		}
		return nil
	})
	execKeys["DeviceAllow"] = withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			t.res.DeviceAllow = nil
			return nil
		}
		spec, access, _ := strings.Cut(strings.TrimSpace(v), " ")
		access = strings.TrimSpace(access)
		if access == "" {
			access = "rwm"
		}
		if strings.Trim(access, "rwm") != "" {
			return fmt.Errorf("Invalid device access %q", access)
		}
		if !strings.HasPrefix(spec, "/dev/") && !strings.HasPrefix(spec, "/run/systemd/inaccessible/") &&
			!strings.HasPrefix(spec, "char-") && !strings.HasPrefix(spec, "block-") {
			return fmt.Errorf("Invalid device node path %q", spec)
		}
		t.res.DeviceAllow = append(t.res.DeviceAllow, DeviceRule{Spec: spec, Access: access})
		return nil
	})
}

// IPAccess is IPAddressAllow= and IPAddressDeny=
// (systemd.resource-control(5)): a packet whose peer address matches an
// allowed prefix passes, else one matching a denied prefix is dropped,
// anything else passes.
type IPAccess struct {
	IPAddressAllow []netip.Prefix `json:"ip_address_allow,omitempty"`
	IPAddressDeny  []netip.Prefix `json:"ip_address_deny,omitempty"`
}

// Restricted says whether any address is denied.
func (a IPAccess) Restricted() bool { return len(a.IPAddressDeny) > 0 }

// ipPrefixWords are the symbolic names IPAddressAllow=/Deny= take.
var ipPrefixWords = map[string][]string{
	"any":        {"0.0.0.0/0", "::/0"},
	"localhost":  {"127.0.0.0/8", "::1/128"},
	"link-local": {"169.254.0.0/16", "fe80::/64"},
	"multicast":  {"224.0.0.0/4", "ff00::/8"},
}

func ipAccessKey(p func(t *buildTarget) *[]netip.Prefix) keyDef {
	return withSpecifiers(func(t *buildTarget, v string) error {
		if v == "" {
			*p(t) = nil
			return nil
		}
		var errs []error
		for _, w := range strings.Fields(v) {
			words, ok := ipPrefixWords[w]
			if !ok {
				words = []string{w}
			}
			for _, x := range words {
				pf, err := netip.ParsePrefix(x)
				if err != nil {
					a, aerr := netip.ParseAddr(x)
					if aerr != nil {
						errs = append(errs, fmt.Errorf("Invalid IP address prefix %q", x))
						continue
					}
					pf = netip.PrefixFrom(a, a.BitLen())
				}
				*p(t) = append(*p(t), pf.Masked())
			}
		}
		return errors.Join(errs...)
	})
}

func init() {
	execKeys["IPAddressAllow"] = ipAccessKey(func(t *buildTarget) *[]netip.Prefix { return &t.res.IPAddressAllow })
	execKeys["IPAddressDeny"] = ipAccessKey(func(t *buildTarget) *[]netip.Prefix { return &t.res.IPAddressDeny })
}

// cpuListKey adds the CPUs (or NUMA nodes) of one assignment to *list, as
// systemd's CPU sets: assignments add up, an empty one resets; words are
// numbers or ranges, by spaces or commas. The list stays sorted.
func cpuListKey(list *[]int, v, what string) error {
	if v == "" {
		*list = nil
		return nil
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
		lo, hi, isRange := strings.Cut(w, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b < a || b >= 8192 {
			return fmt.Errorf("Failed to parse %s %q", what, w)
		}
		for c := a; c <= b; c++ {
			if !slices.Contains(*list, c) {
				*list = append(*list, c)
			}
		}
	}
	slices.Sort(*list)
	return nil
}
