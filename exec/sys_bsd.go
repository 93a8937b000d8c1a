//go:build freebsd || darwin

package exec

import (
	"fmt"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

func setPidFD(attr *syscall.SysProcAttr, fd *int)      {}
func setCgroupFD(attr *syscall.SysProcAttr, fd int)    {}
func setAmbient(attr *syscall.SysProcAttr, caps []int) {}

func pidfdSignal(pidfd int, sig syscall.Signal) error { return syscall.ENOSYS }

var rlimits = map[string]int{
	"CPU": unix.RLIMIT_CPU, "FSIZE": unix.RLIMIT_FSIZE, "DATA": unix.RLIMIT_DATA,
	"STACK": unix.RLIMIT_STACK, "CORE": unix.RLIMIT_CORE, "NOFILE": unix.RLIMIT_NOFILE,
	"AS": unix.RLIMIT_AS, "RSS": unix.RLIMIT_RSS, "NPROC": unix.RLIMIT_NPROC,
	"MEMLOCK": unix.RLIMIT_MEMLOCK,
}

func rlimitResource(name string) (int, bool) {
	r, ok := rlimits[name]
	return r, ok
}

// closeStrayFDs marks fds from `from` up close-on-exec (best effort: the
// first 4096).
func closeStrayFDs(from int) error {
	for fd := from; fd < 4096; fd++ {
		syscall.CloseOnExec(fd)
	}
	return nil
}

func setNice(n int) error { return syscall.Setpriority(syscall.PRIO_PROCESS, 0, n) }

var errLinuxOnly = fmt.Errorf("not supported on %s", runtime.GOOS)

func dropBoundingSet(keep []int) error { return errLinuxOnly }
func raiseAmbient(caps []int) error    { return errLinuxOnly }
func setNoNewPrivs() error             { return errLinuxOnly }

func setCredentials(c *helperCred, ambient []int) (int, error) {
	groups := make([]int, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return exitGroup, err
	}
	if err := syscall.Setgid(int(c.Gid)); err != nil {
		return exitGroup, err
	}
	if err := syscall.Setuid(int(c.Uid)); err != nil {
		return exitUser, err
	}
	if len(ambient) > 0 {
		return exitCapabilities, errLinuxOnly
	}
	return 0, nil
}

// threadSpawn: the BSDs keep nice and the rest per process, and fork
// rather than clone from the calling thread; the Go helper does it.
const threadSpawn = false

func spawnOnThread(path string, argv []string, pa *syscall.ProcAttr, ec *unitfile.ExecContext, keyring *keyringSettings) (int, int, error) {
	return -1, exitExec, errLinuxOnly
}

// privateUsers: user namespaces are Linux's; the unit is refused rather
// than run with more privileges than it asked for.
func privateUsers(attr *syscall.SysProcAttr, cred *credentials) error {
	return fmt.Errorf("PrivateUsers= needs Linux user namespaces")
}

// forkWithKeyring: kernel keyrings are Linux's (keyringFor asks for none
// elsewhere).
func forkWithKeyring(path string, argv []string, pa *syscall.ProcAttr, keyring *keyringSettings) (int, int, error) {
	return -1, exitExec, errLinuxOnly
}
