package main

// The hardened floor: the kernel work gosd's exec helper does for a unit,
// recorded with ptrace from a real spawn and replayed by a generated C
// program with nothing else (no Go runtime, no decoding, no probing), which
// then execs the same program. What that program costs is what the kernel
// charges for the unit's settings.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// sysCall is one recorded system call with the memory its pointer
// arguments point to.
type sysCall struct {
	tid  int
	nr   uint64
	args [6]uint64
	mem  map[int][]byte // argument index -> bytes (a C string includes its NUL)
	ret  int64
}

// argKind says how to read a pointer argument: a NUL-terminated string or
// a block whose size comes from the call.
type argKind struct {
	str  bool
	size func(c *sysCall) int
}

func strArg() argKind        { return argKind{str: true} }
func fixedArg(n int) argKind { return argKind{size: func(*sysCall) int { return n }} }
func sizedBy(i, scale int) argKind {
	return argKind{size: func(c *sysCall) int { return int(c.args[i]) * scale }}
}
func sizeAt0() argKind { return argKind{size: func(*sysCall) int { return 48 }} } // struct sched_attr

// replayed are the calls that change the process or the system: the work
// the unit's settings ask of the kernel. Everything else the helper does
// (reading the mount table, stat and readlink probes, the Go runtime's
// own calls) is left out, so the floor is a lower bound.
var replayed = map[uint64]map[int]argKind{
	syscall.SYS_UNSHARE:            {},
	308 /* setns */ :               {},
	syscall.SYS_MOUNT:              {0: strArg(), 1: strArg(), 2: strArg(), 4: strArg()},
	syscall.SYS_UMOUNT2:            {0: strArg()},
	syscall.SYS_PIVOT_ROOT:         {0: strArg(), 1: strArg()},
	syscall.SYS_MKDIRAT:            {1: strArg()},
	syscall.SYS_MKDIR:              {0: strArg()},
	syscall.SYS_MKNODAT:            {1: strArg()},
	syscall.SYS_SYMLINKAT:          {0: strArg(), 2: strArg()},
	syscall.SYS_FCHMODAT:           {1: strArg()},
	syscall.SYS_FCHOWNAT:           {1: strArg()},
	syscall.SYS_FCHOWN:             {},
	syscall.SYS_FCHMOD:             {},
	syscall.SYS_CHDIR:              {0: strArg()},
	syscall.SYS_FCHDIR:             {},
	syscall.SYS_CHROOT:             {0: strArg()},
	syscall.SYS_UMASK:              {},
	syscall.SYS_OPENAT:             {1: strArg()},
	syscall.SYS_CLOSE:              {},
	436 /* close_range */ :         {},
	syscall.SYS_WRITE:              {1: sizedBy(2, 1)},
	syscall.SYS_PRLIMIT64:          {2: fixedArg(16)},
	syscall.SYS_SETRLIMIT:          {1: fixedArg(16)},
	syscall.SYS_PRCTL:              {},
	syscall.SYS_CAPSET:             {0: fixedArg(8), 1: fixedArg(24)},
	syscall.SYS_SETGROUPS:          {1: sizedBy(0, 4)},
	syscall.SYS_SETRESUID:          {},
	syscall.SYS_SETRESGID:          {},
	syscall.SYS_SETUID:             {},
	syscall.SYS_SETGID:             {},
	syscall.SYS_SETREUID:           {},
	syscall.SYS_SETREGID:           {},
	sysSeccomp:                     {2: fixedArg(16)}, // struct sock_fprog; the program is read separately
	syscall.SYS_PERSONALITY:        {},
	syscall.SYS_SETHOSTNAME:        {0: sizedBy(1, 1)},
	syscall.SYS_SETDOMAINNAME:      {0: sizedBy(1, 1)},
	syscall.SYS_KEYCTL:             {},
	syscall.SYS_IOPRIO_SET:         {},
	syscall.SYS_SETPRIORITY:        {},
	314 /* sched_setattr */ :       {1: sizeAt0()},
	syscall.SYS_SCHED_SETSCHEDULER: {2: fixedArg(4)},
	syscall.SYS_SCHED_SETPARAM:     {1: fixedArg(4)},
	syscall.SYS_SCHED_SETAFFINITY:  {2: sizedBy(1, 1)},
}

// probes are calls the helper makes that change nothing: not replayed,
// and not reported as missing from the floor.
var probes = map[uint64]bool{
	syscall.SYS_READ: true, syscall.SYS_PREAD64: true, syscall.SYS_NEWFSTATAT: true, 332 /* statx */ : true,
	syscall.SYS_READLINKAT: true, syscall.SYS_FSTAT: true, syscall.SYS_FCNTL: true, syscall.SYS_MMAP: true,
	syscall.SYS_MUNMAP: true, syscall.SYS_MPROTECT: true, syscall.SYS_MADVISE: true, syscall.SYS_RT_SIGACTION: true,
	syscall.SYS_RT_SIGPROCMASK: true, syscall.SYS_SIGALTSTACK: true, syscall.SYS_CLONE: true, 435 /* clone3 */ : true,
	syscall.SYS_FUTEX: true, syscall.SYS_GETTID: true, syscall.SYS_GETPID: true, syscall.SYS_GETPPID: true,
	syscall.SYS_SCHED_GETAFFINITY: true, syscall.SYS_ARCH_PRCTL: true, syscall.SYS_SET_TID_ADDRESS: true,
	syscall.SYS_SET_ROBUST_LIST: true, 334 /* rseq */ : true, syscall.SYS_EPOLL_CREATE1: true, syscall.SYS_EPOLL_CTL: true,
	syscall.SYS_EPOLL_PWAIT: true, syscall.SYS_EVENTFD2: true, syscall.SYS_NANOSLEEP: true, syscall.SYS_CLOCK_GETTIME: true,
	318 /* getrandom */ : true, syscall.SYS_CAPGET: true, syscall.SYS_GETUID: true, syscall.SYS_GETEUID: true,
	syscall.SYS_GETGID: true, syscall.SYS_GETEGID: true, syscall.SYS_GETDENTS64: true, syscall.SYS_LSEEK: true,
	syscall.SYS_TGKILL: true, syscall.SYS_SCHED_YIELD: true, syscall.SYS_UNAME: true, syscall.SYS_GETCWD: true,
	syscall.SYS_GETRLIMIT: true, 0x40000000 | syscall.SYS_GETPID /* the x32 probe */ : true, syscall.SYS_EXIT_GROUP: true, syscall.SYS_EXIT: true, syscall.SYS_RT_SIGRETURN: true,
	syscall.SYS_FACCESSAT: true, 439 /* faccessat2 */ : true, syscall.SYS_STATFS: true, syscall.SYS_FSTATFS: true,
	syscall.SYS_GETPGRP: true, syscall.SYS_GETSID: true, syscall.SYS_IOCTL: true, syscall.SYS_WAIT4: true,
}

// recording is what recordHelper saw: the helper's calls on the thread that
// exec'd the program, the exec itself, and the calls that are neither
// replayed nor known probes.
type recording struct {
	calls    []sysCall
	path     string
	argv     []string
	env      []string
	unknown  map[string]int
	nThreads int
}

// recordHelper runs `self` with env (a process that makes one spawn through
// gosd's exec helper and waits for it) under ptrace, following its
// threads and children, and records what the helper process does from its
// exec until it execs the unit's program.
func recordHelper(self string, env []string) (*recording, error) {
	runtime.LockOSThread() // ptrace requests must come from the tracing thread
	defer runtime.UnlockOSThread()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	fd := devnull.Fd()
	pid, err := syscall.ForkExec(self, []string{self}, &syscall.ProcAttr{Env: env, Files: []uintptr{fd, fd, 2},
		Sys: &syscall.SysProcAttr{Ptrace: true}})
	if err != nil {
		return nil, err
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, syscall.WALL, nil); err != nil {
		return nil, err
	}
	const (
		traceSysGood = 0x1
		traceFork    = 0x2
		traceVFork   = 0x4
		traceClone   = 0x8
		traceExec    = 0x10
		exitKill     = 0x100000
	)
	if err := syscall.PtraceSetOptions(pid, traceSysGood|traceFork|traceVFork|traceClone|traceExec|exitKill); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return nil, err
	}
	rec := &recording{unknown: map[string]int{}}
	inCall := map[int]*sysCall{} // tid -> the call it is in (nil entry: in a call not recorded)
	inSys := map[int]bool{}
	helperPid := -1
	finalTid := -1
	perTid := map[int][]sysCall{}
	tgidOf := func(tid int) int {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
		if err != nil {
			return -1
		}
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				return n
			}
		}
		return -1
	}
	threads := map[int]bool{}
	syscall.PtraceSyscall(pid, 0)
	for {
		tid, err := syscall.Wait4(-1, &ws, syscall.WALL, nil)
		if err == syscall.ECHILD {
			break
		}
		if err != nil {
			return nil, err
		}
		if ws.Exited() || ws.Signaled() {
			delete(inSys, tid)
			if tid == pid {
				break
			}
			continue
		}
		if !ws.Stopped() {
			continue
		}
		sig := ws.StopSignal()
		switch {
		case sig == syscall.SIGTRAP|0x80:
			entering := !inSys[tid]
			inSys[tid] = entering
			var regs syscall.PtraceRegs
			if err := syscall.PtraceGetRegs(tid, &regs); err != nil {
				break
			}
			if entering {
				delete(inCall, tid)
				nr := regs.Orig_rax
				if nr == syscall.SYS_EXECVE {
					argv := readStrings(tid, uintptr(regs.Rsi))
					if len(argv) > 0 && argv[0] == "gosd-exec-helper" && helperPid < 0 {
						helperPid = tid
						threads[tid] = true
						break
					}
					if helperPid > 0 && tgidOf(tid) == helperPid {
						rec.path = readString(tid, uintptr(regs.Rdi))
						rec.argv = argv
						rec.env = readStrings(tid, uintptr(regs.Rdx))
						finalTid = tid
					}
					break
				}
				if helperPid < 0 || finalTid >= 0 || tgidOf(tid) != helperPid {
					break
				}
				threads[tid] = true
				kinds, ok := replayed[nr]
				if !ok {
					if !probes[nr] {
						rec.unknown[fmt.Sprint(nr)]++
					}
					break
				}
				c := &sysCall{tid: tid, nr: nr, args: [6]uint64{regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8, regs.R9}, mem: map[int][]byte{}}
				for i, k := range kinds {
					if c.args[i] == 0 {
						continue
					}
					if k.str {
						c.mem[i] = append([]byte(readString(tid, uintptr(c.args[i]))), 0)
					} else {
						c.mem[i] = readMem(tid, uintptr(c.args[i]), k.size(c))
					}
				}
				if nr == sysSeccomp && c.args[0] == 1 && len(c.mem[2]) == 16 {
					n := int(binary.LittleEndian.Uint16(c.mem[2]))
					c.mem[3] = readMem(tid, uintptr(binary.LittleEndian.Uint64(c.mem[2][8:])), 8*n)
				}
				inCall[tid] = c
			} else if c := inCall[tid]; c != nil {
				c.ret = int64(regs.Rax)
				perTid[tid] = append(perTid[tid], *c)
				delete(inCall, tid)
			}
		case ws.TrapCause() == syscall.PTRACE_EVENT_EXEC:
			// The exec'ing thread may have had another tid; its exit
			// stop comes next.
			if old, err := syscall.PtraceGetEventMsg(tid); err == nil && int(old) != tid {
				delete(inSys, int(old))
				if finalTid == int(old) {
					finalTid = tid
					perTid[tid] = perTid[int(old)]
				}
			}
			inSys[tid] = true
		case ws.TrapCause() > 0 || sig == syscall.SIGSTOP:
			// fork/clone events and the first stop of a new task
		default:
			syscall.PtraceSyscall(tid, int(sig))
			continue
		}
		syscall.PtraceSyscall(tid, 0)
	}
	if ws.Exited() && ws.ExitStatus() != 0 {
		return nil, fmt.Errorf("the recorded spawn exited %d", ws.ExitStatus())
	}
	if finalTid < 0 {
		return nil, fmt.Errorf("no exec of the unit's program was seen")
	}
	rec.calls = perTid[finalTid]
	rec.nThreads = len(threads)
	return rec, nil
}

func readMem(tid int, addr uintptr, n int) []byte {
	if n <= 0 || n > 1<<20 {
		return nil
	}
	buf := make([]byte, n)
	got, _ := syscall.PtracePeekData(tid, addr, buf)
	return buf[:got]
}

func readString(tid int, addr uintptr) string {
	var out []byte
	for len(out) < 1<<16 {
		chunk := readMem(tid, addr+uintptr(len(out)), 64)
		if len(chunk) == 0 {
			break
		}
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			return string(append(out, chunk[:i]...))
		}
		out = append(out, chunk...)
	}
	return string(out)
}

func readStrings(tid int, addr uintptr) []string {
	var out []string
	for i := 0; addr != 0 && i < 4096; i++ {
		p := readMem(tid, addr+uintptr(8*i), 8)
		if len(p) < 8 {
			break
		}
		ptr := binary.LittleEndian.Uint64(p)
		if ptr == 0 {
			break
		}
		out = append(out, readString(tid, uintptr(ptr)))
	}
	return out
}

// floorSource is the C program that makes the recorded calls, in order,
// with the recorded arguments, and then the recorded exec. An fd that a
// replayed openat returns is moved to the number the helper got, so later
// calls naming it (and /proc/self/fd/N paths) mean the same file. Failed
// calls are made too (they cost what they cost); their results are not
// checked. Calls the helper made on fds it did not open in the recording
// (the Go runtime's) are left out.
func floorSource(rec *recording) (string, []sysCall) {
	var made []sysCall
	var b strings.Builder
	b.WriteString("#define _GNU_SOURCE\n#include <unistd.h>\n#include <sys/syscall.h>\n\n")
	b.WriteString("static void fd_at(long got, long want) { if (got >= 0 && got != want) { dup2(got, want); close(got); } }\n\n")
	b.WriteString("struct fprog { unsigned short len; const void *filter; };\n\n")
	bytesLit := func(p []byte) string {
		var s strings.Builder
		s.WriteString("{")
		for i, c := range p {
			if i > 0 {
				s.WriteString(",")
			}
			s.WriteString(strconv.Itoa(int(c)))
		}
		if len(p) == 0 {
			s.WriteString("0")
		}
		s.WriteString("}")
		return s.String()
	}
	var body strings.Builder
	opened := map[uint64]bool{}
	for i, c := range rec.calls {
		args := c.args
		ref := [6]string{}
		for j := range args {
			ref[j] = fmt.Sprintf("%dUL", args[j])
		}
		fdArg := func(j int) bool { return opened[args[j]] }
		switch c.nr {
		case syscall.SYS_CLOSE:
			if !fdArg(0) {
				continue
			}
			delete(opened, args[0])
		case syscall.SYS_WRITE:
			if !fdArg(0) {
				continue
			}
		case syscall.SYS_PRLIMIT64:
			if args[2] == 0 {
				continue // a query
			}
			ref[3] = "0"
		case syscall.SYS_PRCTL:
			if args[0] == 0x53564d41 { // PR_SET_VMA: the Go runtime naming its maps
				continue
			}
		}
		for j, m := range c.mem {
			if c.nr == sysSeccomp && j == 3 {
				continue
			}
			fmt.Fprintf(&b, "static unsigned char c%d_%d[] = %s;\n", i, j, bytesLit(m))
			ref[j] = fmt.Sprintf("(long)c%d_%d", i, j)
		}
		if c.nr == sysSeccomp && c.mem[3] != nil {
			fmt.Fprintf(&b, "static const unsigned char f%d[] = %s;\n", i, bytesLit(c.mem[3]))
			fmt.Fprintf(&b, "static struct fprog p%d = { %d, f%d };\n", i, len(c.mem[3])/8, i)
			ref[2] = fmt.Sprintf("(long)&p%d", i)
		}
		if c.nr == syscall.SYS_OPENAT && c.args[2]&(0x200000 /* O_PATH */ |syscall.O_WRONLY|syscall.O_RDWR|syscall.O_CREAT) == 0 {
			continue // opened to be read: a probe (the fd's close is left out with it)
		}
		made = append(made, c)
		if c.nr == syscall.SYS_OPENAT && c.ret >= 0 {
			fmt.Fprintf(&body, "\tfd_at(syscall(%d, %s), %d);\n", c.nr, strings.Join(ref[:4], ", "), c.ret)
			opened[uint64(c.ret)] = true
			continue
		}
		fmt.Fprintf(&body, "\tsyscall(%d, %s);\n", c.nr, strings.Join(ref[:], ", "))
	}
	cArray := func(name string, ss []string) {
		fmt.Fprintf(&b, "static char *%s[] = {", name)
		for _, s := range ss {
			fmt.Fprintf(&b, "%s, ", strconv.Quote(s)) // Go's quoting of printable ASCII is valid C
		}
		b.WriteString("0};\n")
	}
	cArray("argv", rec.argv)
	cArray("envp", rec.env)
	fmt.Fprintf(&b, "\nint main(void) {\n%s\tsyscall(%d, %s, argv, envp);\n\treturn 203;\n}\n", body.String(), syscall.SYS_EXECVE, strconv.Quote(rec.path))
	return b.String(), made
}

// floorSummary counts the calls the floor makes by kind, for the report.
func floorSummary(rec *recording, made []sysCall) []string {
	names := map[uint64]string{syscall.SYS_MOUNT: "mount", syscall.SYS_UNSHARE: "unshare", sysSeccomp: "seccomp",
		syscall.SYS_PRCTL: "prctl", syscall.SYS_OPENAT: "openat", syscall.SYS_CLOSE: "close", syscall.SYS_SYMLINKAT: "symlinkat",
		syscall.SYS_MKNODAT: "mknodat", syscall.SYS_MKDIRAT: "mkdirat", syscall.SYS_WRITE: "write", syscall.SYS_CAPSET: "capset",
		syscall.SYS_SETRESUID: "setresuid", syscall.SYS_SETREUID: "setreuid", syscall.SYS_SETREGID: "setregid", syscall.SYS_SETRESGID: "setresgid", syscall.SYS_SETGROUPS: "setgroups",
		syscall.SYS_PRLIMIT64: "prlimit64", syscall.SYS_UMASK: "umask", syscall.SYS_CHDIR: "chdir", syscall.SYS_KEYCTL: "keyctl",
		syscall.SYS_PERSONALITY: "personality", syscall.SYS_FCHMODAT: "fchmodat", syscall.SYS_FCHOWNAT: "fchownat",
		436 /* close_range */ : "close_range", syscall.SYS_SETHOSTNAME: "sethostname"}
	count := map[string]int{}
	insns := 0
	for _, c := range made {
		n := names[c.nr]
		if n == "" {
			n = fmt.Sprintf("#%d", c.nr)
		}
		count[n]++
		if c.nr == sysSeccomp {
			insns += len(c.mem[3]) / 8
		}
	}
	var parts []string
	for n, k := range count {
		parts = append(parts, fmt.Sprintf("%s %d", n, k))
	}
	sort.Strings(parts)
	out := []string{fmt.Sprintf("calls made (%d): %s; seccomp programs: %d instructions in all", len(made), strings.Join(parts, ", "), insns)}
	if len(rec.unknown) > 0 {
		var u []string
		for n, k := range rec.unknown {
			u = append(u, fmt.Sprintf("#%s ×%d", n, k))
		}
		sort.Strings(u)
		out = append(out, "calls neither replayed nor known probes (left out of the floor): "+strings.Join(u, ", "))
	}
	return out
}

// buildC compiles src statically into dir/name with gcc.
func buildC(dir, name, src string) (string, error) {
	if _, err := exec.LookPath("gcc"); err != nil {
		return "", err
	}
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	if msg, err := exec.Command("gcc", "-O2", "-static", "-o", out, c).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc: %v: %s", err, msg)
	}
	return out, nil
}

const sysSeccomp = 317 // x86-64
