package exec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"gosd/unitfile"
)

// Spec is everything needed to start one process of a unit.
type Spec struct {
	Unit string
	Cmd  unitfile.ExecCommand
	// Exec is the unit's process environment; nil means systemd's defaults.
	Exec *unitfile.ExecContext
	// Env is the manager's variables (MAINPID, INVOCATION_ID, ...), applied
	// last.
	Env []string
	// GlobalEnv is the manager's environment block (systemctl
	// set-environment), the first source after the default $PATH: the
	// unit's own settings override it.
	GlobalEnv []string
	// NotifySocket, when set, becomes $NOTIFY_SOCKET.
	NotifySocket string
	// ListenFDs are passed at fd 3.. with LISTEN_FDS, LISTEN_FDNAMES and
	// LISTEN_PID (the child's own pid, set in the child).
	ListenFDs   []int
	ListenNames []string
	// Conn is an Accept=yes connection (StandardInput=socket), or -1.
	Conn int
	// Stdout and Stderr are the write ends of the reactor's log pipes, used
	// for journal, syslog, kmsg and their +console forms; -1 means none
	// (those kinds then go to /dev/null).
	Stdout, Stderr int
	// CgroupFD, when > 0, is an fd of the unit's cgroup directory
	// (cgroups.Group.OpenFD): the process is created in that cgroup
	// (clone3 CLONE_INTO_CGROUP), on the direct and the helper path alike,
	// so it never runs outside it. Linux only; ignored elsewhere. The caller
	// keeps owning the fd.
	CgroupFD int
	// Dynamic is the DynamicUser= identity the caller allocated for the
	// unit (DynamicUsers.Acquire); required when Exec.DynamicUser is set.
	Dynamic *Identity
	// JoinsNamespaceOf= of the unit: PrivateTmp= directories are shared
	// with those units.
	JoinsNamespaceOf []string
	// ForceHelper starts through the in-child helper even when the direct
	// path would do (benchmarks and tests).
	ForceHelper bool
}

// Process is a started process. It is its own session and process group
// leader, so Pgid == Pid, unless it was started with SamePgrp (Pgid is
// gosd's own group then).
type Process struct {
	Pid   int
	PidFD int // -1 when the platform has no pidfds
	Pgid  int
	// Uid and Gid the process runs as (User=/Group=, else gosd's own).
	Uid, Gid int
}

// defaultPath is systemd's fixed search path for bare command names and the
// default $PATH of system services (systemd.exec(5) "Command lines",
// "Environment variables in spawned processes").
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ExitError is a start failure with the exit status systemd would report for
// it (systemd.exec(5) "PROCESS EXIT CODES").
type ExitError struct {
	Status int // 200 CHDIR... 203 EXEC, 216 GROUP, 217 USER, ...
	Err    error
}

func (e *ExitError) Error() string { return fmt.Sprintf("%v (status %d)", e.Err, e.Status) }
func (e *ExitError) Unwrap() error { return e.Err }

// Missing says the exec step failed because the program does not exist.
func (e *ExitError) Missing() bool {
	return e.Status == exitExec && errors.Is(e.Err, fs.ErrNotExist)
}

// systemd's exit codes for set-up failures (systemd.exec(5)).
const (
	exitChdir           = 200
	exitNice            = 201
	exitFDs             = 202
	exitExec            = 203
	exitStdin           = 208
	exitStdout          = 209
	exitLimits          = 205
	exitOOMAdjust       = 206
	exitGroup           = 216
	exitUser            = 217
	exitCapabilities    = 218
	exitNoNewPrivs      = 227 // EXIT_NO_NEW_PRIVILEGES
	exitKeyring         = 237
	exitSeccomp         = 228
	exitAddressFamilies = 232
	exitChroot          = 210
	exitRuntimeDir      = 233
	exitStateDir        = 238
	exitCacheDir        = 239
	exitLogsDir         = 240
	exitConfigDir       = 241
	exitNamespace       = 226
	exitNetwork         = 225
	exitIOPrio          = 211
	exitSetScheduler    = 214
	exitCPUAffinity     = 215
	exitCredentials     = 243
	exitPersonality     = 230
	exitSecureBits      = 213
)

var defaultContext = unitfile.ExecContext{UMask: 0o022, ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}

// Start starts the process described by spec. It never waits for it: the
// caller (the reactor) is the one reaper.
func Start(spec Spec) (Process, error) {
	ec := spec.Exec
	if ec == nil {
		ec = &defaultContext
	}
	var cred *credentials
	switch {
	case ec.DynamicUser:
		// Never run as gosd's own user when the allocation is missing.
		if spec.Dynamic == nil {
			return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitUser, Err: errors.New("DynamicUser=yes but no dynamic user was allocated")}
		}
		c, err := dynamicCredentials(*spec.Dynamic, ec.SupplementaryGroups)
		if err != nil {
			return Process{Pid: -1, PidFD: -1}, err
		}
		cred = c
	case ec.User != "" || ec.Group != "" || len(ec.SupplementaryGroups) > 0:
		c, err := resolveCredentials(ec.User, ec.Group, ec.SupplementaryGroups)
		if err != nil {
			return Process{Pid: -1, PidFD: -1}, err
		}
		cred = c
	}
	dirEnv, err := makeDirectories(ec, cred)
	if err != nil {
		return Process{Pid: -1, PidFD: -1}, err
	}
	// Best effort, as systemd: a terminal that cannot be reset does not
	// stop the unit.
	ResetTTY(ec)
	credEnv, err := setupCredentials(spec.Unit, ec, cred)
	if err != nil {
		return Process{Pid: -1, PidFD: -1}, err
	}
	dirEnv = append(dirEnv, credEnv...)
	env, err := buildEnv(spec, ec, cred, dirEnv)
	if err != nil {
		return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitExec, Err: err}
	}
	argv := unitfile.ExpandArgv(spec.Cmd, env)
	if len(argv) == 0 {
		return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitExec, Err: errors.New("empty command line")}
	}
	path, err := resolvePath(spec.Cmd.Path, argv[0], ec.RootDirectory, searchPath(ec))
	if err != nil {
		return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitExec, Err: err}
	}
	dir, err := workingDirectory(ec, cred)
	if err != nil {
		return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitChdir, Err: err}
	}
	files, closeAfter, err := stdio(spec, ec)
	defer func() {
		for _, f := range closeAfter {
			f.Close()
		}
	}()
	if err != nil {
		return Process{Pid: -1, PidFD: -1}, err
	}
	files = append(files, uintptrs(spec.ListenFDs)...)

	// A process gets its own session, but mount(8) and umount(8) stay in
	// gosd's process group (SamePgrp): autofs lets that group through an
	// automount point without a request, so a mount over one does not
	// wait for itself (systemd's same_pgrp for mount units).
	attr := &syscall.SysProcAttr{Setsid: !ec.SamePgrp, Chroot: ec.RootDirectory}
	if ec.StandardInput.Kind == "tty" || strings.HasPrefix(ec.StandardInput.Kind, "tty-") {
		attr.Setctty = true
		attr.Ctty = 0
	}
	switch {
	case spec.Cmd.FullPrivileges:
		// "+": none of the privilege restrictions apply to this command
		// (systemd.service(5) "Table 1"): no user switch, bounding set,
		// ambient set, no_new_privs or system call filters.
		cred = nil
		ec = unsandboxed(ec)
	case spec.Cmd.NoSetuid:
		// "!": only the user and group switch is left out; the process
		// changes credentials itself.
		cred = nil
	}
	caps, err := capabilityNumbers(ec.AmbientCapabilities)
	if err != nil {
		return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitCapabilities, Err: err}
	}
	sb, err := planSandbox(spec.Unit, namespaceKey(spec.Unit, spec.JoinsNamespaceOf), ec, spec.Cmd.FullPrivileges)
	if err != nil {
		return Process{Pid: -1, PidFD: -1}, err
	}
	if sb != nil && sb.Mount != nil {
		if err := ensureInaccessible(); err != nil {
			return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitNamespace, Err: fmt.Errorf("%s: %w", InaccessibleDir, err)}
		}
	}
	if sb != nil && !(ec.PrivateUsers && !spec.Cmd.FullPrivileges) {
		// One network and IPC namespace for all the unit's processes.
		// Not under PrivateUsers=: a process in a user namespace of its
		// own may not enter a namespace owned by gosd's, so each gets
		// its own, as before.
		key := namespaceKey(spec.Unit, spec.JoinsNamespaceOf)
		for _, ns := range []struct {
			want bool
			kind string
			at   *int
			exit int
		}{{sb.Network && sb.NetNSPath == "", "net", &sb.NetFD, exitNetwork}, {sb.IPC, "ipc", &sb.IPCFD, exitNamespace}} {
			if !ns.want {
				continue
			}
			fd, err := sharedNamespace(spec.Unit, key, ns.kind)
			if err != nil {
				return Process{Pid: -1, PidFD: -1}, &ExitError{Status: ns.exit, Err: fmt.Errorf("%s namespace: %w", ns.kind, err)}
			}
			*ns.at = len(files)
			files = append(files, uintptr(fd))
		}
	}
	if ec.PrivateUsers && !spec.Cmd.FullPrivileges {
		if err := privateUsers(attr, cred); err != nil {
			return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitUser, Err: err}
		}
	}
	pa := &syscall.ProcAttr{Dir: dir, Env: env, Files: files, Sys: attr}

	var pidfd = -1
	setPidFD(attr, &pidfd)
	if spec.CgroupFD > 0 {
		setCgroupFD(attr, spec.CgroupFD)
	}
	var pid int
	// LISTEN_PID=<own pid> by the stub or, where there is none, a POSIX
	// shell; both exec the program in place (same pid) (listenpid.go).
	// Both run from gosd's root (no RootDirectory=). The program's argv
	// goes through the shell's "$@" untouched, so no quoting, but "$@"
	// cannot make argv[0] differ from the program; the stub can.
	stub := ""
	if len(spec.ListenFDs) > 0 && ec.RootDirectory == "" {
		stub = listenPIDStubFor(files)
	}
	shellOK := ec.RootDirectory == "" && !spec.Cmd.ArgvZero && argv[0] == path && listenPIDShell != ""
	keyring := keyringFor(spec.Unit, ec, cred)
	if spec.ForceHelper || sb != nil || needsHelper(spec, ec, stub != "" || shellOK) {
		ins := instructions{
			Path: path, Argv: argv, NListen: len(spec.ListenFDs),
			Umask: int(ec.UMask), Nice: ec.Nice, OOMScoreAdjust: ec.OOMScoreAdjust,
			NoNewPrivileges: ec.NoNewPrivileges, Ambient: caps,
			IgnoreSIGPIPE: ec.IgnoreSIGPIPE, PrivateDirs: privateRoots(ec),
			Sandbox: sb,
		}
		ins.Sched = schedFrom(&ec.ProcessSecurity)
		ins.Keyring = keyring
		ins.Utmp = utmpFor(ec, cred)
		implied := impliedSeccomp(ec)
		if spec.Cmd.FullPrivileges || runtime.GOOS != "linux" {
			implied = impliedFilters{} // "+" lifts them; elsewhere there is no seccomp
		}
		if ec.Seccomp() || implied.any() {
			persona := currentPersona()
			if ec.Personality != nil {
				persona = *ec.Personality // LockPersonality= keeps Personality= when set
			}
			progs, status, err := seccompPrograms(&seccompSettings{Sec: ec.ProcessSecurity, Persona: persona, Implied: implied})
			if err != nil {
				return Process{Pid: -1, PidFD: -1}, &ExitError{Status: status, Err: err}
			}
			ins.Seccomp = progs
		}
		for name, l := range ec.Limits {
			res, ok := rlimitResource(name)
			if !ok {
				return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitLimits, Err: fmt.Errorf("unknown limit Limit%s=", name)}
			}
			ins.Limits = append(ins.Limits, limit{Name: name, Resource: res, Soft: l.Soft, Hard: l.Hard})
		}
		if ec.CapabilityBoundingSet != nil {
			keep, err := boundingSet(ec.CapabilityBoundingSet)
			if err != nil {
				return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitCapabilities, Err: err}
			}
			ins.BoundingSet = keep
			ins.SetBounding = true
		}
		if drops := sandboxCapDrops(ec); len(drops) > 0 && !spec.Cmd.FullPrivileges {
			// PrivateDevices= and the Protect* settings take these out
			// of the bounding set (systemd.exec(5)).
			if !ins.SetBounding {
				ins.BoundingSet, ins.SetBounding = allCaps(), true
			}
			ins.BoundingSet = withoutCaps(ins.BoundingSet, drops)
		}
		if cred != nil {
			ins.Cred = &helperCred{Uid: cred.uid, Gid: cred.gid, Groups: cred.groups}
		}
		pid, err = startHelper(ins, pa)
	} else {
		if cred != nil {
			attr.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid, Groups: cred.groups}
		}
		setAmbient(attr, caps)
		var status int
		direct := func(path string, argv []string) {
			switch {
			case needsThread(ec):
				pid, status, err = spawnOnThread(path, argv, pa, ec, keyring)
			case keyring != nil:
				pid, status, err = forkWithKeyring(path, argv, pa, keyring)
			default:
				pid, err = syscall.ForkExec(path, argv, pa)
			}
		}
		shell := func() {
			pa.Env = env
			direct(listenPIDShell, append([]string{"sh", "-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$@"`, "sh"}, argv...))
		}
		if len(spec.ListenFDs) > 0 {
			// The stub or the shell execs the program, after the fork
			// succeeded: a missing one must fail here all the same, as
			// on the other paths ("-" lets a unit go on without it).
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitExec, Err: fmt.Errorf("%s: %w", path, err)}
			}
		}
		switch {
		case len(spec.ListenFDs) == 0:
			direct(path, argv)
		case stub != "":
			pa.Env = withListenPIDSlot(env)
			direct(stub, append([]string{listenPIDArgv0, path}, argv...))
			if err != nil && shellOK {
				// The stub never ran (the error is the fork's or its
				// execve's). The shell tries the same spawn; if the
				// kernel refused to execute the memfd (an LSM, say)
				// and the shell manages, the stub is not tried again.
				// A passing failure (EAGAIN at pids.max) keeps it.
				refused := errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOEXEC)
				if shell(); err == nil && refused {
					stubFailed()
				}
			}
		default:
			shell()
		}
		if err != nil && status != exitExec && status != 0 {
			return Process{Pid: -1, PidFD: -1}, &ExitError{Status: status, Err: err}
		}
	}
	if err != nil {
		return Process{Pid: -1, PidFD: -1}, &ExitError{Status: exitExec, Err: fmt.Errorf("%s: %w", path, err)}
	}
	uid, gid := os.Getuid(), os.Getgid()
	if cred != nil {
		uid, gid = int(cred.uid), int(cred.gid)
	}
	pgid := pid
	if ec.SamePgrp {
		pgid = syscall.Getpgrp()
	}
	return Process{Pid: pid, PidFD: pidfd, Pgid: pgid, Uid: uid, Gid: gid}, nil
}

func uintptrs(fds []int) []uintptr {
	out := make([]uintptr, len(fds))
	for i, fd := range fds {
		out[i] = uintptr(fd)
	}
	return out
}

// needsHelper says whether the unit needs the Go helper: a step only the
// child itself can take (FINDINGS.md "Spawning"): resource limits (Go's
// fork restores its own RLIMIT_NOFILE in the child, so the parent cannot
// lend them), LISTEN_PID where neither the stub nor the shell can set it,
// or per-thread state where threads cannot carry it (spawnOnThread).
func needsHelper(spec Spec, ec *unitfile.ExecContext, listenPIDOK bool) bool {
	return len(ec.Limits) > 0 ||
		len(spec.ListenFDs) > 0 && !listenPIDOK || // LISTEN_PID must be the child's own pid
		!threadSpawn && needsThread(ec) ||
		ec.IgnoreSIGPIPE != sigpipeIgnored || // a child inherits gosd's SIGPIPE disposition
		len(privateRoots(ec)) > 0 ||
		ec.Seccomp() || // filters are loaded last, by the process that execs
		ec.ProcessSettings() ||
		ec.UtmpIdentifier != "" // recorded with the process's own pid, before it runs
}

// needsThread says whether the child needs state that spawnOnThread gives
// it: umask, nice, oom_score_adj, no_new_privs, the bounding set.
func needsThread(ec *unitfile.ExecContext) bool {
	return int(ec.UMask) != processUmask || ec.Nice != nil || ec.OOMScoreAdjust != nil ||
		ec.NoNewPrivileges || ec.CapabilityBoundingSet != nil
}

// listenPIDShell is the POSIX shell used for the LISTEN_PID step, "" when
// there is none (a minimal image): then the Go helper does it.
var listenPIDShell = func() string {
	if st, err := os.Stat("/bin/sh"); err == nil && st.Mode()&0o111 != 0 {
		return "/bin/sh"
	}
	return ""
}()

// processUmask is gosd's own umask, inherited by a directly spawned child.
var processUmask = func() int {
	m := syscall.Umask(0o022)
	syscall.Umask(m)
	return m
}()

// resolvePath finds the program: an absolute path as is, a bare name in the
// fixed search path (systemd.service(5): "a bare name ... is searched in
// /usr/local/sbin, ..."), looked up under RootDirectory when set.
func resolvePath(path, argv0, root, search string) (string, error) {
	if path == "" {
		path = argv0
	}
	if filepath.IsAbs(path) {
		return path, nil
	}
	if strings.Contains(path, "/") {
		return "", fmt.Errorf("%q: relative paths are not allowed", path)
	}
	for _, d := range filepath.SplitList(search) {
		full := filepath.Join(d, path)
		st, err := os.Stat(filepath.Join(root, full))
		if err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return full, nil
		}
	}
	return "", fmt.Errorf("%q: not found in %s", path, search)
}

// workingDirectory applies WorkingDirectory= (systemd.exec(5)): "~" is the
// user's home, a "-" prefix (WorkingDirectoryOptional) makes a missing
// directory non-fatal; the default for system services is "/". The path is
// relative to RootDirectory (Go chroots before it chdirs).
func workingDirectory(ec *unitfile.ExecContext, cred *credentials) (string, error) {
	dir := ec.WorkingDirectory
	switch {
	case dir == "":
		return "/", nil
	case dir == "~":
		dir = "/root"
		if cred != nil && cred.home != "" {
			dir = cred.home
		}
	}
	st, err := os.Stat(filepath.Join(ec.RootDirectory, dir))
	if err == nil && !st.IsDir() {
		err = fmt.Errorf("%s: not a directory", dir)
	}
	if err != nil {
		if ec.WorkingDirectoryOptional {
			return "/", nil
		}
		return "", fmt.Errorf("WorkingDirectory=%s: %w", dir, err)
	}
	return dir, nil
}

// Signal sends sig to one process, through its pidfd when it has one (no pid
// reuse race).
func Signal(p Process, sig syscall.Signal) error {
	if p.PidFD >= 0 {
		if err := pidfdSignal(p.PidFD, sig); err == nil || !errors.Is(err, syscall.ENOSYS) {
			return err
		}
	}
	if p.Pid <= 0 {
		return fmt.Errorf("bad pid %d", p.Pid)
	}
	return syscall.Kill(p.Pid, sig)
}

// SignalGroup sends sig to every process of process group pgid.
func SignalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return fmt.Errorf("bad process group %d", pgid)
	}
	return syscall.Kill(-pgid, sig)
}

// searchPath is where bare command names are looked up, and the default
// $PATH: ExecSearchPath= when set (systemd.exec(5)), else systemd's
// fixed list.
func searchPath(ec *unitfile.ExecContext) string {
	if len(ec.ExecSearchPath) > 0 {
		return strings.Join(ec.ExecSearchPath, ":")
	}
	return defaultPath
}

// Resolve finds a bare command name where a process of ec would find it
// (ExecSearchPath=, else systemd's fixed search path; under
// RootDirectory=): the reactor asks before a mount or swap unit runs
// mount(8) and friends, to use the system call where they are missing.
func Resolve(name string, ec *unitfile.ExecContext) (string, error) {
	if ec == nil {
		ec = &unitfile.ExecContext{}
	}
	return resolvePath(name, name, ec.RootDirectory, searchPath(ec))
}
