package exec

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"gosd/internal/seccomp"
	"gosd/unitfile"
)

// seccompSettings are what the unit's filters are built from.
type seccompSettings struct {
	Sec     unitfile.ProcessSecurity
	Persona uint32 // the personality LockPersonality= keeps
	// Implied: the filters sandboxing settings add (sandbox.go).
	Implied impliedFilters
}

// seccompPrograms builds the unit's filters in systemd's order (the
// system call filter last: it may block seccomp(2) and execve(2) itself),
// merged into as few programs as keep every verdict (seccomp.Merge), as
// the kernel reads them, with the exit status for a failure. gosd builds
// them and the helper only loads them: the helper then needs neither the
// system call tables nor the settings.
func seccompPrograms(s *seccompSettings) ([][]byte, int, error) {
	abis := runningABIs()
	sec := &s.Sec
	var filters []seccomp.Filter
	var progs [][]seccomp.Instruction
	add := func(f seccomp.Filter) { filters = append(filters, f) }
	if sec.AddressFamiliesAllowList || len(sec.RestrictAddressFamilies) > 0 {
		var fams []int
		for _, name := range sec.RestrictAddressFamilies {
			if af, ok := seccomp.AddressFamily(name); ok {
				fams = append(fams, af)
			}
		}
		p, err := seccomp.ProgramsFor(seccomp.RestrictAddressFamilies(fams, sec.AddressFamiliesAllowList), abis)
		if err != nil {
			return nil, exitAddressFamilies, err
		}
		progs = append(progs, p...)
	}
	if sec.MemoryDenyWriteExecute {
		add(seccomp.MemoryDenyWriteExecute())
	}
	if sec.RestrictRealtime {
		add(seccomp.RestrictRealtime())
	}
	if sec.RestrictSUIDSGID {
		add(seccomp.RestrictSUIDSGID())
	}
	if sec.RestrictNamespaces != nil {
		add(seccomp.RestrictNamespaces(*sec.RestrictNamespaces))
	}
	if sec.ProtectClock {
		add(seccomp.ProtectClock())
	}
	if s.Implied.PrivateDevices {
		add(seccomp.PrivateDevices())
	}
	if s.Implied.KernelModules {
		add(seccomp.ProtectKernelModules())
	}
	if s.Implied.KernelLogs {
		add(seccomp.ProtectKernelLogs())
	}
	if s.Implied.KernelTunables {
		add(seccomp.ProtectKernelTunables())
	}
	if s.Implied.Hostname {
		add(seccomp.ProtectHostname())
	}
	for _, f := range filters {
		p, err := seccomp.ProgramsFor(f, abis)
		if err != nil {
			return nil, exitSeccomp, err
		}
		progs = append(progs, p...)
	}
	if len(sec.SystemCallArchitectures) > 0 {
		var archs []seccomp.Arch
		for _, name := range sec.SystemCallArchitectures {
			if a := seccomp.ArchNames[name]; a >= 0 {
				archs = append(archs, seccomp.Arch(a))
			}
		}
		progs = append(progs, seccomp.RestrictArchs(archs))
	}
	if sec.LockPersonality {
		p, err := seccomp.ProgramsFor(seccomp.LockPersonality(s.Persona), abis)
		if err != nil {
			return nil, exitSeccomp, err
		}
		progs = append(progs, p...)
	}
	if sec.SystemCallFilter != nil {
		p, err := syscallFilterPrograms(sec.SystemCallFilter, sec.SystemCallErrorNumber, abis)
		if err != nil {
			return nil, exitSeccomp, err
		}
		progs = append(progs, p...)
	}
	out := [][]byte{} // not nil: a unit with filters always goes through execFiltered
	for _, p := range seccomp.Merge(progs) {
		out = append(out, seccomp.Bytes(p))
	}
	return out, 0, nil
}

// filterCache keeps the programs last built for each unit's system call
// list: @system-service and the like are some 400 rules per ABI, and
// building them at every spawn cost the spawner about as much CPU (with
// the garbage collection of what it allocates) as it saves the helper.
// An entry is used only while the list still has the content it was
// built from, so a list changed in place is never judged by stale rules.
var filterCache struct {
	sync.Mutex
	m map[*seccomp.SyscallList]cachedFilter
}

type cachedFilter struct {
	calls map[string]int // a copy of the list's content when built
	allow bool
	errno int
	abis  []seccomp.Arch
	progs [][]seccomp.Instruction
}

// maxCachedFilters bounds the cache: lists of units removed by a reload
// are forgotten when it fills.
const maxCachedFilters = 256

func syscallFilterPrograms(l *seccomp.SyscallList, errno int, abis []seccomp.Arch) ([][]seccomp.Instruction, error) {
	filterCache.Lock()
	c, ok := filterCache.m[l]
	filterCache.Unlock()
	if ok && c.allow == l.AllowList && c.errno == errno && slices.Equal(c.abis, abis) && maps.Equal(c.calls, l.Calls) {
		return c.progs, nil
	}
	progs, err := seccomp.ProgramsFor(seccomp.SyscallFilter(*l, errno), abis)
	if err != nil {
		return nil, err
	}
	filterCache.Lock()
	if filterCache.m == nil || len(filterCache.m) >= maxCachedFilters {
		filterCache.m = map[*seccomp.SyscallList]cachedFilter{}
	}
	filterCache.m[l] = cachedFilter{calls: maps.Clone(l.Calls), allow: l.AllowList, errno: errno, abis: slices.Clone(abis), progs: progs}
	filterCache.Unlock()
	return progs, nil
}

// currentPersona is the process's execution domain without its flags,
// what LockPersonality= keeps (personality(0xffffffff) only reads it).
func currentPersona() uint32 {
	p, _, _ := unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	return uint32(p) & 0xff
}

// hasSysAdmin says whether this thread can load filters without
// no_new_privs (seccomp(2)).
func hasSysAdmin() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[unix.CAP_SYS_ADMIN/32].Effective&(1<<(unix.CAP_SYS_ADMIN%32)) != 0
}

// execFiltered loads the filters on this thread and execve's at once,
// with raw system calls only: from the first filter on, nothing of the Go
// runtime runs on this thread that a filter could refuse (or kill it for).
// Without CAP_SYS_ADMIN the kernel wants no_new_privs first, which
// systemd implies then too.
func execFiltered(path string, argv, env []string, progs [][]byte) (int, error) {
	argv0, err := unix.BytePtrFromString(path)
	if err != nil {
		return exitExec, err
	}
	argvp, err := cStrings(argv)
	if err != nil {
		return exitExec, err
	}
	envp, err := cStrings(env)
	if err != nil {
		return exitExec, err
	}
	fprogs := make([]unix.SockFprog, len(progs))
	for i, p := range progs {
		if len(p) == 0 {
			continue
		}
		if len(p)%8 != 0 || len(p)/8 > 0xffff {
			return exitSeccomp, fmt.Errorf("seccomp program %d: %d bytes", i, len(p))
		}
		fprogs[i] = unix.SockFprog{Len: uint16(len(p) / 8), Filter: (*unix.SockFilter)(unsafe.Pointer(&p[0]))}
	}
	if !hasSysAdmin() {
		if err := setNoNewPrivs(); err != nil {
			return exitNoNewPrivs, err
		}
	}
	for i := range fprogs {
		if fprogs[i].Len == 0 {
			continue
		}
		const seccompSetModeFilter = 1
		if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, seccompSetModeFilter, 0, uintptr(unsafe.Pointer(&fprogs[i]))); e != 0 {
			return exitSeccomp, fmt.Errorf("loading seccomp filter %d: %w", i, e)
		}
	}
	_, _, e := unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(argv0)), uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])))
	runtime.KeepAlive(argv0)
	runtime.KeepAlive(argvp)
	runtime.KeepAlive(envp)
	runtime.KeepAlive(progs)
	return exitExec, fmt.Errorf("%s: %w", path, error(e))
}

// cStrings is a NULL-terminated array of C strings for execve.
func cStrings(ss []string) ([]*byte, error) {
	out := make([]*byte, len(ss)+1)
	for i, s := range ss {
		p, err := unix.BytePtrFromString(s)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// runningABIs are the ABIs whose system calls this kernel runs: x32 only
// when it answers an x32 call with something other than ENOSYS (it is
// compiled in but off unless booted with syscall.x32=y, and cannot be
// turned on later). x86 is always assumed.
func runningABIs() []seccomp.Arch {
	const x32Bit = 0x40000000
	if _, _, e := unix.RawSyscall(unix.SYS_GETPID|x32Bit, 0, 0, 0); e == unix.ENOSYS {
		return []seccomp.Arch{seccomp.ArchX86, seccomp.ArchX86_64}
	}
	return seccomp.Archs
}
