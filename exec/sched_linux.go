package exec

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// schedSettings are CPUAffinity=, IOScheduling*= and CPUScheduling*=,
// applied by the helper to itself before it execs (they are per thread,
// and this thread becomes the program).
type schedSettings struct {
	Personality *uint32
	SecureBits  int

	CPUs       []int
	IOClass    *int
	IOPrio     *int
	Policy     *int
	Priority   int
	ResetOnFok bool
}

func schedFrom(sec *unitfile.ProcessSecurity) *schedSettings {
	if !sec.ProcessSettings() {
		return nil
	}
	return &schedSettings{Personality: sec.Personality, SecureBits: sec.SecureBits, CPUs: sec.CPUAffinity, IOClass: sec.IOSchedulingClass, IOPrio: sec.IOSchedulingPriority,
		Policy: sec.CPUSchedulingPolicy, Priority: sec.CPUSchedulingPriority, ResetOnFok: sec.CPUSchedulingResetOnFork}
}

// applySched sets them, with systemd's exit status for each step.
func applySched(s *schedSettings) (int, error) {
	if s == nil {
		return 0, nil
	}
	if s.IOClass != nil {
		prio := 4
		if s.IOPrio != nil {
			prio = *s.IOPrio
		}
		if *s.IOClass == 0 {
			prio = 0 // class none takes no priority (the kernel's default then applies)
		}
		const ioprioWhoProcess, classShift = 1, 13
		if _, _, e := unix.RawSyscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(*s.IOClass<<classShift|prio)); e != 0 {
			return exitIOPrio, fmt.Errorf("ioprio_set class %d priority %d: %w", *s.IOClass, prio, e)
		}
	}
	if s.Policy != nil || s.ResetOnFok {
		policy := 0 // SCHED_OTHER
		if s.Policy != nil {
			policy = *s.Policy
		}
		if s.ResetOnFok {
			policy |= unix.SCHED_RESET_ON_FORK
		}
		prio := int32(0)
		if p := policy &^ unix.SCHED_RESET_ON_FORK; p == unix.SCHED_FIFO || p == unix.SCHED_RR {
			prio = int32(max(s.Priority, 1))
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SCHED_SETSCHEDULER, 0, uintptr(policy), uintptr(unsafe.Pointer(&prio))); e != 0 {
			return exitSetScheduler, fmt.Errorf("sched_setscheduler policy %d priority %d: %w", policy, prio, e)
		}
	}
	if s.CPUs != nil {
		var set unix.CPUSet
		for _, c := range s.CPUs {
			if c < len(set)*64 {
				set.Set(c)
			}
		}
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return exitCPUAffinity, fmt.Errorf("sched_setaffinity %v: %w", s.CPUs, err)
		}
	}
	return 0, nil
}

// applyPersonality sets Personality= (230 PERSONALITY on failure).
func applyPersonality(s *schedSettings) (int, error) {
	if s == nil || s.Personality == nil {
		return 0, nil
	}
	if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, uintptr(*s.Personality), 0, 0); e != 0 {
		return exitPersonality, fmt.Errorf("personality %#x: %w", *s.Personality, e)
	}
	return 0, nil
}

// applySecureBits sets SecureBits= while the helper still has
// CAP_SETPCAP (213 SECUREBITS on failure).
func applySecureBits(s *schedSettings) (int, error) {
	if s == nil || s.SecureBits == 0 {
		return 0, nil
	}
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, uintptr(s.SecureBits), 0, 0, 0); err != nil {
		return exitSecureBits, fmt.Errorf("securebits %#x: %w", s.SecureBits, err)
	}
	return 0, nil
}
