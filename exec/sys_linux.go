package exec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

func setPidFD(attr *syscall.SysProcAttr, fd *int) { attr.PidFD = fd }

// setCgroupFD makes the clone place the child in the cgroup of fd.
func setCgroupFD(attr *syscall.SysProcAttr, fd int) {
	attr.UseCgroupFD = true
	attr.CgroupFD = fd
}

func setAmbient(attr *syscall.SysProcAttr, caps []int) {
	for _, c := range caps {
		attr.AmbientCaps = append(attr.AmbientCaps, uintptr(c))
	}
}

func pidfdSignal(pidfd int, sig syscall.Signal) error {
	return unix.PidfdSendSignal(pidfd, sig, nil, 0)
}

var rlimits = map[string]int{
	"CPU": unix.RLIMIT_CPU, "FSIZE": unix.RLIMIT_FSIZE, "DATA": unix.RLIMIT_DATA,
	"STACK": unix.RLIMIT_STACK, "CORE": unix.RLIMIT_CORE, "RSS": unix.RLIMIT_RSS,
	"NOFILE": unix.RLIMIT_NOFILE, "AS": unix.RLIMIT_AS, "NPROC": unix.RLIMIT_NPROC,
	"MEMLOCK": unix.RLIMIT_MEMLOCK, "LOCKS": unix.RLIMIT_LOCKS,
	"SIGPENDING": unix.RLIMIT_SIGPENDING, "MSGQUEUE": unix.RLIMIT_MSGQUEUE,
	"NICE": unix.RLIMIT_NICE, "RTPRIO": unix.RLIMIT_RTPRIO, "RTTIME": unix.RLIMIT_RTTIME,
}

func rlimitResource(name string) (int, bool) {
	r, ok := rlimits[name]
	return r, ok
}

// closeStrayFDs marks every fd from `from` up close-on-exec, so the target
// gets exactly 0, 1, 2 and its passed fds even if someone leaked one.
func closeStrayFDs(from int) error {
	err := unix.CloseRange(uint(from), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	entries, rerr := os.ReadDir("/proc/self/fd")
	if rerr != nil {
		return fmt.Errorf("close_range: %v; /proc/self/fd: %w", err, rerr)
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= from {
			syscall.CloseOnExec(fd)
		}
	}
	return nil
}

// setNice sets the calling thread's nice value; on Linux it is per thread,
// and this thread is the one that execs.
func setNice(n int) error { return unix.Setpriority(unix.PRIO_PROCESS, 0, n) }

func lastCap() int {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			return n
		}
	}
	return len(capNames) - 1
}

func dropBoundingSet(keep []int) error {
	kept := map[int]bool{}
	for _, c := range keep {
		kept[c] = true
	}
	// Read once: in the loop's condition it was a file read per
	// capability, 5% of a sandboxed spawn's CPU.
	last := lastCap()
	for c := 0; c <= last; c++ {
		if kept[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
		}
	}
	return nil
}

// setCredentials switches this thread to the unit's user with raw
// per-thread system calls: execve takes the calling thread's credentials,
// and the other runtime threads die with the exec.
func setCredentials(c *helperCred, ambient []int) (int, error) {
	if len(ambient) > 0 {
		// Keep the permitted set across setuid so ambient caps can be raised.
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return exitCapabilities, err
		}
	}
	var p unsafe.Pointer
	if len(c.Groups) > 0 {
		p = unsafe.Pointer(&c.Groups[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(c.Groups)), uintptr(p), 0); e != 0 {
		return exitGroup, fmt.Errorf("setgroups: %w", e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(c.Gid), uintptr(c.Gid), uintptr(c.Gid)); e != 0 {
		return exitGroup, fmt.Errorf("setgid %d: %w", c.Gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(c.Uid), uintptr(c.Uid), uintptr(c.Uid)); e != 0 {
		return exitUser, fmt.Errorf("setuid %d: %w", c.Uid, e)
	}
	if len(ambient) > 0 {
		if err := raiseAmbient(ambient); err != nil {
			return exitCapabilities, err
		}
	}
	return 0, nil
}

// raiseAmbient makes caps inheritable and raises them in the ambient set
// (capabilities(7) "Ambient capability set").
func raiseAmbient(caps []int) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	for _, c := range caps {
		data[c/32].Inheritable |= 1 << (uint(c) % 32)
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	for _, c := range caps {
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0); err != nil {
			return fmt.Errorf("raising ambient capability %d: %w", c, err)
		}
	}
	return nil
}

func setNoNewPrivs() error { return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }

// threadSpawn: on Linux a child inherits the state of the thread that
// clones it — nice, no_new_privs, the capability bounding set, and (once
// the thread has its own fs_struct) the umask — so spawnOnThread can give
// a unit these without the Go helper.
const threadSpawn = true

// spawnOnThread starts the program from a fresh OS thread that first
// takes on what the unit asks for, so the child inherits it; that saves
// the helper's exec, a whole Go runtime start per service (measured under
// qemu TCG: ~4% of a Debian boot's CPU for five services). The goroutine
// returns without UnlockOSThread, so the Go runtime ends the thread
// instead of reusing its changed state. oom_score_adj belongs to the
// process: it is set around the clone and put back (the reactor spawns
// one child at a time). The status says which step failed.
func spawnOnThread(path string, argv []string, pa *syscall.ProcAttr, ec *unitfile.ExecContext, keyring *keyringSettings) (pid, status int, err error) {
	type result struct {
		pid, status int
		err         error
	}
	done := make(chan result, 1)
	go func() {
		// Outside the reactor's guard: a panic here would end PID1.
		defer func() {
			if v := recover(); v != nil {
				done <- result{-1, exitExec, fmt.Errorf("spawning thread panicked: %v", v)}
			}
		}()
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// The main thread cannot end (the runtime would wedge it), and
			// /proc/PID/status shows its state to everyone, gosd's own
			// ConditionCapability= included: while this goroutine holds it,
			// another thread does the work, and it is given back untouched.
			pid, status, err := spawnOnThread(path, argv, pa, ec, keyring)
			runtime.UnlockOSThread()
			done <- result{pid, status, err}
			return
		}
		pid, status, err := forkFromThisThread(path, argv, pa, ec, keyring)
		done <- result{pid, status, err}
	}()
	r := <-done
	return r.pid, r.status, r.err
}

func forkFromThisThread(path string, argv []string, pa *syscall.ProcAttr, ec *unitfile.ExecContext, keyring *keyringSettings) (int, int, error) {
	if keyring != nil {
		// The session keyring is this thread's, and the child's.
		if err := setupKeyring(keyring, pa.Env); err != nil {
			return -1, exitKeyring, err
		}
	}
	if int(ec.UMask) != processUmask {
		// The umask lives in the fs_struct all threads share: this one
		// gets its own copy first.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return -1, exitExec, fmt.Errorf("unshare(CLONE_FS) for UMask=: %w", err)
		}
		syscall.Umask(int(ec.UMask))
	}
	if ec.Nice != nil {
		if err := setNice(*ec.Nice); err != nil {
			return -1, exitNice, fmt.Errorf("nice %d: %w", *ec.Nice, err)
		}
	}
	// oom_score_adj and nice before the bounding set shrinks: lowering
	// them takes CAP_SYS_RESOURCE / CAP_SYS_NICE (the helper's order).
	if ec.OOMScoreAdjust != nil {
		const file = "/proc/self/oom_score_adj"
		old, err := os.ReadFile(file)
		if err == nil {
			err = os.WriteFile(file, []byte(strconv.Itoa(*ec.OOMScoreAdjust)), 0)
		}
		if err != nil {
			return -1, exitOOMAdjust, fmt.Errorf("oom_score_adj %d: %w", *ec.OOMScoreAdjust, err)
		}
		defer os.WriteFile(file, bytes.TrimSpace(old), 0)
	}
	if ec.CapabilityBoundingSet != nil {
		keep, err := boundingSet(ec.CapabilityBoundingSet)
		if err == nil {
			err = dropBoundingSet(keep)
		}
		if err != nil {
			return -1, exitCapabilities, err
		}
	}
	if ec.NoNewPrivileges {
		if err := setNoNewPrivs(); err != nil {
			return -1, exitNoNewPrivs, err
		}
	}
	pid, err := syscall.ForkExec(path, argv, pa)
	return pid, exitExec, err
}

// privateUsers puts the child in a user namespace of its own
// (PrivateUsers=): root and the unit's user and group map to themselves,
// every other id shows as nobody.
func privateUsers(attr *syscall.SysProcAttr, cred *credentials) error {
	attr.Cloneflags |= unix.CLONE_NEWUSER
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
	if cred != nil && cred.uid != 0 {
		attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(cred.uid), HostID: int(cred.uid), Size: 1})
	}
	if cred != nil && cred.gid != 0 {
		attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(cred.gid), HostID: int(cred.gid), Size: 1})
	}
	attr.GidMappingsEnableSetgroups = true
	return nil
}

// forkWithKeyring gives the child a session keyring of its own (the
// default KeyringMode=private of services) without a thread of its own:
// the keyring is this thread's while it forks, then the thread joins a
// fresh empty one, so that no later child of it shares the service's.
func forkWithKeyring(path string, argv []string, pa *syscall.ProcAttr, keyring *keyringSettings) (int, int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := setupKeyring(keyring, pa.Env); err != nil {
		return -1, exitKeyring, err
	}
	pid, err := syscall.ForkExec(path, argv, pa)
	joinAnonymousKeyring()
	return pid, exitExec, err
}
