package exec

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// The in-child helper is gosd's own binary started with argv[0] ==
// HelperArgv0, the instructions as JSON in argv[1] and, for a unit with
// system call filters, the programs in argv[2] (encodeFilters). It applies what
// SysProcAttr cannot (FINDINGS.md "Spawning": LISTEN_PID, umask, rlimits,
// nice, oom_score_adj, the capability bounding set, no_new_privs, stray
// fds) and then execve's the target with the environment it was given.
const HelperArgv0 = "gosd-exec-helper"

type limit struct {
	Name     string // NOFILE for LimitNOFILE=, for messages
	Resource int
	Soft     uint64
	Hard     uint64
}

type helperCred struct {
	Uid, Gid uint32
	Groups   []uint32
}

type instructions struct {
	Path            string
	Argv            []string
	NListen         int
	Umask           int
	Limits          []limit
	Nice            *int
	OOMScoreAdjust  *int
	NoNewPrivileges bool
	SetBounding     bool
	BoundingSet     []int // capabilities kept when SetBounding
	Ambient         []int
	Cred            *helperCred
	Chroot          string
	Dir             string
	IgnoreSIGPIPE   bool
	PrivateDirs     []privateRoot // DynamicUser= directories (private_linux.go)
	Seccomp         [][]byte      // the unit's seccomp programs, in load order (seccompPrograms)
	// Sandbox: namespaces and the file system view (sandbox.go), set up
	// first, while the helper is still root.
	Sandbox *sandbox `json:",omitempty"`
	Sched   *schedSettings
	Utmp    *utmpEntry
	Keyring *keyringSettings `json:",omitempty"`
}

var helper struct {
	mu   sync.Mutex
	path string
}

// openHelper finds gosd's own binary: /proc/self/exe where /proc allows
// it, so that replacing the binary on disk cannot break spawning (the link
// names the running binary's inode, replaced or not). Not an fd of gosd's
// (/proc/self/fd/N): Go's child moves fds onto numbers it picks before its
// execve, over 0..len(Files)-1 and from the highest fd it is given + 1 up
// (its error pipe first), so any fixed N is replaced by another fd for
// some child, and the exec fails with EACCES. As PID1, journald (fds up to
// 76, the binary at 77) failed every start so in one Debian boot of four.
// A failure is not kept: as the kernel's init, gosd starts before /proc
// is mounted, and the next spawn (after early boot) must try again.
func openHelper() (string, error) {
	helper.mu.Lock()
	defer helper.mu.Unlock()
	if helper.path != "" {
		return helper.path, nil
	}
	if runtime.GOOS == "linux" {
		if _, err := os.Stat("/proc/self/exe"); err == nil {
			helper.path = "/proc/self/exe"
			return helper.path, nil
		}
	}
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	helper.path = path
	return path, nil
}

// UseHelperBinary makes path, a gosd binary, the in-child helper instead
// of this process's own executable: for a program that spawns as gosd
// does without being gosd (the benchmark harness, which measures the
// release binary's helper).
func UseHelperBinary(path string) {
	helper.mu.Lock()
	defer helper.mu.Unlock()
	helper.path = path
}

// RunHelperIfRequested must be the first call in main (and in TestMain of
// any test that spawns through the helper). In helper mode it never
// returns: it sets the process up and execs the target, or exits with
// systemd's exit status for the step that failed. Otherwise it marks every
// fd gosd inherited (above 2) close-on-exec, so no service ever sees one,
// opens the helper binary and makes the LISTEN_PID stub for later spawns
// and returns.
func RunHelperIfRequested() {
	if (len(os.Args) == 2 || len(os.Args) == 3) && os.Args[0] == HelperArgv0 {
		runtime.LockOSThread() // per-thread state (nice, caps, creds) must be on the exec'ing thread
		var ins instructions
		if err := json.Unmarshal([]byte(os.Args[1]), &ins); err != nil {
			helperFail(exitExec, fmt.Errorf("bad helper instructions: %w", err))
		}
		if len(os.Args) == 3 {
			progs, err := decodeFilters(os.Args[2])
			if err != nil {
				helperFail(exitSeccomp, fmt.Errorf("bad helper instructions: %w", err))
			}
			ins.Seccomp = progs
		}
		status, err := applyAndExec(&ins)
		helperFail(status, err)
	}
	closeStrayFDs(3)
	ignoreSIGPIPE()
	openHelper()
	listenPIDStub(0) // made now, not on a socket's first connection
}

// sigpipeIgnored says gosd ignores SIGPIPE, so a directly spawned child
// starts with it ignored too (IgnoreSIGPIPE=yes, systemd's default); a
// unit that wants it back goes through the helper. For gosd itself it
// means a write to a closed pipe returns EPIPE instead of ending it.
var sigpipeIgnored bool

func ignoreSIGPIPE() {
	signal.Ignore(syscall.SIGPIPE)
	sigpipeIgnored = true
}

func helperFail(status int, err error) {
	fmt.Fprintf(os.Stderr, "gosd-exec-helper: %v\n", err)
	os.Exit(status)
}

// startHelper forks the helper. Chroot and the working directory are left
// to it, because the helper path lives outside any RootDirectory=.
func startHelper(ins instructions, pa *syscall.ProcAttr) (int, error) {
	path, err := openHelper()
	if err != nil {
		return 0, fmt.Errorf("helper binary: %w", err)
	}
	ins.Chroot, pa.Sys.Chroot = pa.Sys.Chroot, ""
	ins.Dir, pa.Dir = pa.Dir, ""
	data, err := json.Marshal(ins)
	if err != nil {
		return 0, err
	}
	argv := []string{HelperArgv0, string(data)}
	if ins.Seccomp != nil {
		argv = append(argv, encodeFilters(ins.Seccomp))
	}
	// The helper's own environment is the unit's with helperGODEBUG in
	// front, which the helper takes out before it execs the program; not
	// where the unit sets a GODEBUG (Go's runtime keeps only the first of
	// a name: the unit's would be lost).
	attr := *pa
	if !slices.ContainsFunc(pa.Env, func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") }) {
		attr.Env = append([]string{helperGODEBUG}, pa.Env...)
	}
	return syscall.ForkExec(path, argv, &attr)
}

// helperGODEBUG goes first in the helper's environment, for its Go
// runtime only: no transparent huge pages for its heap. The kernels of
// Debian and others have THP "always", so the helper's first heap page
// was a 2 MiB one that the kernel zeroes, for a process that lives a few
// milliseconds: 14 of the helper's 110 perf samples in the Debian boot.
// Debian boot, instruction-counted clock, 2 boots each: PID1's CPU clock
// 460.2, 456.4 -> 451.9, 450.9 ms, uptime 2.82, 2.81 -> 2.81, 2.81 s.
// The unknown setting gosdexechelper marks it as the helper's (the
// runtime ignores it).
const helperGODEBUG = "GODEBUG=disablethp=1,gosdexechelper=1"

// encodeFilters packs programs as base64 of, for each, its length in
// bytes (4, little endian) and its bytes; none gives "" (the helper then
// still sets no_new_privs as for a unit with filters).
func encodeFilters(progs [][]byte) string {
	var b []byte
	for _, p := range progs {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return base64.RawStdEncoding.EncodeToString(b)
}

func decodeFilters(s string) ([][]byte, error) {
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	progs := [][]byte{}
	for len(b) > 0 {
		if len(b) < 4 || uint64(len(b)-4) < uint64(binary.LittleEndian.Uint32(b)) {
			return nil, errors.New("truncated seccomp program")
		}
		n := binary.LittleEndian.Uint32(b)
		progs = append(progs, b[4:4+n])
		b = b[4+n:]
	}
	return progs, nil
}
