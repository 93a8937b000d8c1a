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
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
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
	file *os.File // the binary, path /proc/self/fd/<its fd> (unless UseHelperBinary)
}

// helperFD is where the binary's fd goes, next to the LISTEN_PID stub's
// (minStubFD, which says why there): Go's child dup2s the fds it is given
// over 0..n before it execs, so /proc/self/fd/N must be above them.
const helperFD = 62

// openHelper opens gosd's own binary, by fd where /proc allows it, so that
// replacing the binary on disk cannot break spawning. A failure is not
// kept: as the kernel's init, gosd starts before /proc is mounted, and the
// next spawn (after early boot) must try again.
func openHelper() (string, error) {
	return helperFor(0)
}

// helperFor is the helper's path for a child given nfiles fds: by fd when
// that fd is above them, else the binary on disk.
func helperFor(nfiles int) (string, error) {
	helper.mu.Lock()
	defer helper.mu.Unlock()
	if helper.path == "" && runtime.GOOS == "linux" {
		if f, err := os.OpenFile("/proc/self/exe", os.O_RDONLY|syscall.O_CLOEXEC, 0); err == nil {
			if high, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, helperFD); err == nil {
				f.Close()
				f = os.NewFile(uintptr(high), "/proc/self/exe")
			}
			helper.file = f
			helper.path = "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
		}
	}
	if helper.path == "" {
		path, err := os.Executable()
		if err != nil {
			return "", err
		}
		helper.path = path
	}
	if f := helper.file; f != nil && int(f.Fd()) < nfiles && helper.path == "/proc/self/fd/"+strconv.Itoa(int(f.Fd())) {
		// The child's own fds would cover it.
		return os.Executable()
	}
	return helper.path, nil
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
	path, err := helperFor(len(pa.Files))
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
	return syscall.ForkExec(path, argv, pa)
}

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
