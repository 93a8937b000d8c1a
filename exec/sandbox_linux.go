package exec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"gosd/internal/mountinfo"
)

// applySandbox runs in the helper, on its one locked thread, before
// anything else of the unit's: namespaces are per thread until execve, and
// the new mount namespace must exist before the unit's credentials take
// the right to make it. It returns systemd's exit status on failure.
func applySandbox(sb *sandbox) (int, error) {
	if sb.NetNSPath != "" {
		fd, err := unix.Open(sb.NetNSPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
		}
		if err != nil {
			return exitNetwork, fmt.Errorf("NetworkNamespacePath=%s: %w", sb.NetNSPath, err)
		}
	} else if sb.Network && sb.NetFD == 0 {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return exitNetwork, fmt.Errorf("PrivateNetwork=: %w", err)
		}
		if err := loopbackUp(); err != nil {
			return exitNetwork, fmt.Errorf("PrivateNetwork=: bringing up lo: %w", err)
		}
	}
	if sb.IPC && sb.IPCFD == 0 {
		if err := unix.Unshare(unix.CLONE_NEWIPC); err != nil {
			return exitNamespace, fmt.Errorf("PrivateIPC=: %w", err)
		}
	}
	if sb.UTS {
		// systemd: without the namespace the setting is skipped with a
		// warning (ProtectHostname= "... has no effect if ...").
		if err := unix.Unshare(unix.CLONE_NEWUTS); err != nil && !isPrivilegeError(err) {
			return exitNamespace, fmt.Errorf("ProtectHostname=: %w", err)
		}
	}
	if sb.Mount != nil {
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			if isPrivilegeError(err) && !sb.Mount.Insist {
				fmt.Fprintf(os.Stderr, "gosd-exec-helper: Failed to set up namespace, assuming containerized execution and ignoring: %v\n", err)
				return 0, nil
			}
			return exitNamespace, fmt.Errorf("mount namespace: %w", err)
		}
		if err := applyMounts(sb.Mount); err != nil {
			return exitNamespace, err
		}
	}
	return 0, nil
}

// joinSharedNamespaces enters the unit's shared network and IPC
// namespaces (sb.NetFD, sb.IPCFD, made by gosd) and closes their fds: the
// program must not inherit them.
func joinSharedNamespaces(sb *sandbox) (int, error) {
	for _, j := range []struct {
		fd, flag, status int
		setting          string
	}{{sb.NetFD, unix.CLONE_NEWNET, exitNetwork, "PrivateNetwork="}, {sb.IPCFD, unix.CLONE_NEWIPC, exitNamespace, "PrivateIPC="}} {
		if j.fd == 0 {
			continue
		}
		err := unix.Setns(j.fd, j.flag)
		unix.Close(j.fd)
		if err != nil {
			return j.status, fmt.Errorf("%s joining the unit's namespace: %w", j.setting, err)
		}
	}
	return 0, nil
}

// newNamespace makes a network ("net", with "lo" up) or IPC ("ipc")
// namespace for a unit and returns an fd for it. It is made on a locked
// thread that goes back to its own namespace afterwards; if it cannot, the
// thread stays locked, and Go ends it with the goroutine (or, the main
// thread, parks it for good), so no goroutine of gosd runs in the unit's
// namespace.
func newNamespace(kind string) (int, error) {
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		flag := unix.CLONE_NEWIPC
		if kind == "net" {
			flag = unix.CLONE_NEWNET
		}
		self := "/proc/thread-self/ns/" + kind
		orig, err := unix.Open(self, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{-1, err}
			return
		}
		defer unix.Close(orig)
		if err := unix.Unshare(flag); err != nil {
			runtime.UnlockOSThread()
			done <- result{-1, err}
			return
		}
		fd := -1
		if kind == "net" {
			err = loopbackUp()
			if err != nil {
				err = fmt.Errorf("bringing up lo: %w", err)
			}
		}
		if err == nil {
			fd, err = unix.Open(self, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		}
		if unix.Setns(orig, flag) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{fd, err}
	}()
	r := <-done
	return r.fd, r.err
}

func isPrivilegeError(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL)
}

// loopbackUp sets IFF_UP on "lo" of the new network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// applyMounts builds the unit's view in the new mount namespace: nothing
// propagates out of it (slave), every entry is mounted, parents first, then
// the read-only and noexec flags are set on each entry and the mounts
// below it, except below deeper entries that say otherwise.
func applyMounts(p *mountPlan) error {
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making / a slave mount: %w", err)
	}
	at := func(path string) string {
		if p.Root == "" {
			return path
		}
		return filepath.Join(p.Root, path)
	}
	if p.Root != "" {
		// The root becomes a mount point of its own, so that flags on
		// "/" stay inside it.
		if err := unix.Mount(p.Root, p.Root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("RootDirectory=%s: %w", p.Root, err)
		}
	}
	for i := range p.Entries {
		p.Entries[i].Path = chaseInRoot(p.Root, p.Entries[i].Path)
	}
	entries := sortEntries(p.Entries)
	// Sources are held open from the start: a mount made earlier (a
	// TemporaryFileSystem=/usr) may hide the path of a later source
	// (BindReadOnlyPaths=/usr/bin), which is then bound through
	// /proc/self/fd.
	held := map[string]string{}
	defer func() {
		for _, fdPath := range held {
			n, _ := strconv.Atoi(strings.TrimPrefix(fdPath, "/proc/self/fd/"))
			unix.Close(n)
		}
	}()
	hold := func(path string) {
		if _, ok := held[path]; ok || path == "" {
			return
		}
		if fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0); err == nil {
			held[path] = "/proc/self/fd/" + strconv.Itoa(fd)
		}
	}
	for _, e := range entries {
		hold(e.Source)
	}
	hold(filepath.Join(p.Inaccessible, "dir"))
	hold(filepath.Join(p.Inaccessible, "reg"))
	hold("/dev")
	hold("/sys")
	source := func(path string) string {
		if fdPath, ok := held[path]; ok {
			return fdPath
		}
		return path
	}
	var done []mountEntry
	for _, e := range entries {
		if under := hiddenBy(done, e.Path); under {
			continue
		}
		ok, err := mountEntryAt(p, e, at(e.Path), source)
		if err != nil {
			return err
		}
		if ok {
			done = append(done, e)
		}
	}
	// Flags, parents first: a deeper entry's own setting wins over its
	// parent's, so each entry leaves alone the mounts of deeper entries
	// of another kind. The mount table is read once: this pass changes
	// nothing but flags, and each mount's are computed from all entries
	// before it is remounted.
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	ops := flagOps(done)
	var changes []flagChange
	for i, e := range ops {
		var set, clear uintptr
		switch {
		case e.Mode == mInaccessible:
			set = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
		case e.Mode == mReadOnly, e.Mode == mEmptyDir, e.ReadOnly,
			e.Mode == mTmpfs && hasOption(e.Options, "ro"):
			set = unix.MS_RDONLY
		case e.Mode == mReadWrite:
			clear = unix.MS_RDONLY
		case e.Mode == mNoExec:
			set = unix.MS_NOEXEC
		case e.Mode == mExec:
			clear = unix.MS_NOEXEC
		default:
			continue
		}
		var skip []string
		for _, d := range ops[i+1:] {
			if d.Path != e.Path && isUnder(d.Path, e.Path) && decidesSameFlag(e, d) {
				skip = append(skip, at(d.Path))
			}
		}
		changes = append(changes, flagChange{path: e.Path, dir: at(e.Path), set: set, clear: clear, skip: skip})
	}
	if err := remountAll(mounts, changes); err != nil {
		return err
	}
	prop := uintptr(unix.MS_SHARED)
	switch p.Propagation {
	case "slave":
		prop = unix.MS_SLAVE
	case "private":
		prop = unix.MS_PRIVATE
	}
	if err := unix.Mount("", "/", "", prop|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("MountFlags=: %w", err)
	}
	return nil
}

// flagOps splits the entries that carry both kinds of flag (a read-only
// entry with NoExecPaths= of the same path, an ExecPaths= entry made
// read-only by a duplicate) into one operation per kind, read-only first.
func flagOps(done []mountEntry) []mountEntry {
	var ops []mountEntry
	for _, e := range done {
		if (e.Mode == mExec || e.Mode == mNoExec) && e.ReadOnly {
			ops = append(ops, mountEntry{Path: e.Path, Mode: mReadOnly})
			e.ReadOnly = false
		}
		ops = append(ops, e)
		if e.ExecFlag != 0 && e.Mode != mInaccessible {
			ops = append(ops, mountEntry{Path: e.Path, Mode: e.ExecFlag})
		}
	}
	return ops
}

// decidesSameFlag: a deeper entry that is about the same flag as e
// decides it for its own tree (ReadWritePaths= below ReadOnlyPaths=, a
// TemporaryFileSystem= below ProtectSystem=strict); one about the other
// flag (NoExecPaths= below ReadOnlyPaths=) keeps e's too.
func decidesSameFlag(e, d mountEntry) bool {
	ro := func(m mountEntry) bool { return m.Mode != mExec && m.Mode != mNoExec }
	return ro(e) == ro(d)
}

// hiddenBy says whether path lies below an inaccessible entry already
// applied: there is nothing to mount there.
func hiddenBy(done []mountEntry, path string) bool {
	for _, d := range done {
		if d.Mode == mInaccessible && d.Path != path && isUnder(path, d.Path) {
			return true
		}
	}
	return false
}

func isUnder(path, dir string) bool {
	return dir == "/" || path == dir || strings.HasPrefix(path, dir+"/")
}

func hasOption(opts, name string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == name {
			return true
		}
	}
	return false
}

// mountEntryAt mounts one entry at target; false means an optional entry
// whose path (or source) is missing was skipped.
func mountEntryAt(p *mountPlan, e mountEntry, target string, source func(string) string) (bool, error) {
	missing := func(err error) (bool, error) {
		if e.Optional && errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("%s: %w", e.Path, err)
	}
	switch e.Mode {
	case mInaccessible:
		st, err := os.Lstat(target)
		if err != nil {
			return missing(err)
		}
		src := filepath.Join(p.Inaccessible, "reg")
		if st.IsDir() {
			src = filepath.Join(p.Inaccessible, "dir")
		}
		if err := unix.Mount(source(src), target, "", unix.MS_BIND, ""); err != nil {
			return false, fmt.Errorf("InaccessiblePaths= %s: %w", e.Path, err)
		}
	case mReadOnly, mReadWrite, mExec, mNoExec:
		// A mount point of its own, so that its flags can differ ("/"
		// and other mount points are already).
		if _, err := os.Stat(target); err != nil {
			return missing(err)
		}
		if isMountPoint(target) {
			break
		}
		if err := unix.Mount(target, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return false, fmt.Errorf("%s: %w", e.Path, err)
		}
	case mBind:
		st, err := os.Stat(source(e.Source))
		if err != nil {
			return missing(err)
		}
		if err := makeMountPoint(target, st.IsDir()); err != nil {
			return false, fmt.Errorf("BindPaths= %s: %w", e.Path, err)
		}
		flags := uintptr(unix.MS_BIND | unix.MS_REC)
		if e.NoRec {
			flags = unix.MS_BIND
		}
		if err := unix.Mount(source(e.Source), target, "", flags, ""); err != nil {
			return false, fmt.Errorf("BindPaths= %s:%s: %w", e.Source, e.Path, err)
		}
	case mPrivateTmp:
		if err := makeMountPoint(target, true); err != nil {
			return false, err
		}
		if err := unix.Mount(source(e.Source), target, "", unix.MS_BIND, ""); err != nil {
			return false, fmt.Errorf("PrivateTmp= %s: %w", e.Path, err)
		}
	case mTmpfs, mEmptyDir, mRun:
		if e.Mode == mEmptyDir {
			if _, err := os.Stat(target); err != nil {
				return missing(err)
			}
		}
		if err := makeMountPoint(target, true); err != nil {
			return false, err
		}
		flags, data := tmpfsOptions(e)
		if err := unix.Mount("tmpfs", target, "tmpfs", flags, data); err != nil {
			return false, fmt.Errorf("TemporaryFileSystem= %s: %w", e.Path, err)
		}
	case mPrivateDev:
		if err := privateDev(target); err != nil {
			return false, fmt.Errorf("PrivateDevices=: %w", err)
		}
	case mBindDev:
		if err := makeMountPoint(target, true); err != nil {
			return false, err
		}
		if err := unix.Mount(source("/dev"), target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return false, fmt.Errorf("MountAPIVFS= /dev: %w", err)
		}
	case mSysfs:
		if err := makeMountPoint(target, true); err != nil {
			return false, err
		}
		if err := unix.Mount(source("/sys"), target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return false, fmt.Errorf("MountAPIVFS= /sys: %w", err)
		}
	case mProcfs:
		if err := makeMountPoint(target, true); err != nil {
			return false, err
		}
		err := unix.Mount("proc", target, "proc", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, e.Options)
		if errors.Is(err, unix.EINVAL) && e.Options != "" {
			// Kernels before 5.8 know no per-mount proc options: the
			// setting is then without effect (systemd.exec(5)
			// ProtectProc=). Any other failure fails the unit.
			err = unix.Mount("proc", target, "proc", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, "")
		}
		if errors.Is(err, unix.EPERM) {
			// No privilege over this PID namespace: the user namespace of
			// PrivateUsers= (Debian's redis-server.service), or a
			// container's init without CAP_SYS_ADMIN. systemd then keeps
			// the /proc that is mounted there, or binds the existing one
			// (namespace.c, mount_private_apivfs); ProtectProc= and
			// ProcSubset= do not apply, which gosd says.
			err = nil
			if !isMountPoint(target) {
				err = unix.Mount(source("/proc"), target, "", unix.MS_BIND|unix.MS_REC, "")
			}
			if err == nil && e.Options != "" {
				fmt.Fprintf(os.Stderr, "gosd-exec-helper: /proc (%s): no privilege to mount a /proc of this PID namespace, keeping the existing one: ProtectProc=/ProcSubset= not applied\n", e.Options)
			}
		}
		if err != nil {
			return false, fmt.Errorf("/proc: %w", err)
		}
	}
	return true, nil
}

// chaseInRoot resolves the symbolic links of path as seen from root
// (absolute links start again at root, ".." stops at it), so that a mount
// lands where the unit will see the path and the mount table shows it;
// the missing tail is kept as written.
func chaseInRoot(root, path string) string {
	var done []string
	todo := strings.Split(strings.Trim(path, "/"), "/")
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		full := filepath.Join(root, "/"+strings.Join(append(done, c), "/"))
		link, err := os.Readlink(full)
		if err != nil || hops > 40 {
			done = append(done, c)
			if err != nil && !errors.Is(err, unix.EINVAL) {
				// Missing (or unreadable): the rest as written.
				done = append(done, todo...)
				todo = nil
			}
			continue
		}
		hops++
		if strings.HasPrefix(link, "/") {
			done = nil
		}
		todo = append(strings.Split(strings.Trim(link, "/"), "/"), todo...)
	}
	return "/" + strings.Join(done, "/")
}

func isMountPoint(path string) bool {
	// statx says it in one call (Linux 5.8+); reading the mount table
	// instead, once per sandboxed path, was 16% of a sandboxed spawn's
	// CPU (perf, BenchmarkSpawnRedisSandboxed with the gosd binary).
	var st unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, &st) == nil &&
		st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		return st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return false
	}
	for _, m := range mounts {
		if m.Point == path {
			return true
		}
	}
	return false
}

// makeMountPoint creates a missing mount point (a directory, or an empty
// file for a file), and the directories above it with mode 0755 whatever
// the umask.
func makeMountPoint(target string, dir bool) error {
	if _, err := os.Lstat(target); err == nil {
		return nil
	}
	if err := mkdirAll(filepath.Dir(target)); err != nil {
		return err
	}
	if dir {
		return mkdirAll(target)
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

func mkdirAll(dir string) error {
	if _, err := os.Lstat(dir); err == nil {
		return nil
	}
	if err := mkdirAll(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return os.Chmod(dir, 0o755)
}

// tmpfsOptions splits TemporaryFileSystem= options into mount flags and
// tmpfs data; the defaults are nodev,strictatime,mode=0755 (systemd.exec(5)).
// "ro" is applied after the mounts below it exist.
func tmpfsOptions(e mountEntry) (uintptr, string) {
	flags := uintptr(unix.MS_NODEV | unix.MS_STRICTATIME)
	mode := "mode=0755"
	var data []string
	if e.Mode == mRun {
		flags |= unix.MS_NOSUID
	}
	for _, o := range strings.Split(e.Options, ",") {
		switch o {
		case "", "ro", "rw":
		case "dev":
			flags &^= unix.MS_NODEV
		case "nodev":
			flags |= unix.MS_NODEV
		case "suid":
			flags &^= unix.MS_NOSUID
		case "nosuid":
			flags |= unix.MS_NOSUID
		case "exec":
			flags &^= unix.MS_NOEXEC
		case "noexec":
			flags |= unix.MS_NOEXEC
		case "strictatime":
			flags |= unix.MS_STRICTATIME
		case "nostrictatime":
			flags &^= unix.MS_STRICTATIME
		case "relatime":
			flags = flags&^unix.MS_STRICTATIME | unix.MS_RELATIME
		case "noatime":
			flags = flags&^unix.MS_STRICTATIME | unix.MS_NOATIME
		default:
			if strings.HasPrefix(o, "mode=") {
				mode = o
				continue
			}
			data = append(data, o)
		}
	}
	return flags, strings.Join(append([]string{mode}, data...), ",")
}

// flagChange sets and clears per-mount flags on dir and every mount below
// it, except those at or below skip.
type flagChange struct {
	path       string // the entry's path, for messages
	dir        string
	set, clear uintptr
	skip       []string
}

func (c flagChange) covers(point string) bool {
	if !isUnder(point, c.dir) {
		return false
	}
	for _, s := range c.skip {
		if isUnder(point, s) {
			return false
		}
	}
	return true
}

// remountAll applies the changes, in order, to every mount they cover,
// each keeping its other flags, with one remount per mount that changes
// (ProtectSystem=strict with NoExecPaths=/ would remount every mount
// twice otherwise). Only the top mount of a stack at one point is
// visible, and gets the flags. A mount that refuses the joint remount
// gets the changes one by one, as if made apart: a mount below a
// change's own path that cannot be remounted (one we cannot see into, or
// that a submount hides) is left as it is for that change only.
func remountAll(mounts []mountinfo.Mount, changes []flagChange) error {
	for i := range mounts {
		m := &mounts[i]
		if obstructed(mounts, i) {
			continue
		}
		old := mountFlags(m.Options)
		flags := old
		var applied []flagChange
		for _, c := range changes {
			if c.covers(m.Point) {
				flags = flags&^c.clear | c.set
				applied = append(applied, c)
			}
		}
		if flags == old {
			continue
		}
		if unix.Mount("", m.Point, "", unix.MS_BIND|unix.MS_REMOUNT|flags, "") == nil {
			continue
		}
		cur := old
		for _, c := range applied {
			next := cur&^c.clear | c.set
			if next == cur {
				continue
			}
			if err := unix.Mount("", m.Point, "", unix.MS_BIND|unix.MS_REMOUNT|next, ""); err != nil {
				if m.Point != c.dir && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOENT)) {
					continue
				}
				return fmt.Errorf("%s: remount %s: %w", c.path, m.Point, err)
			}
			cur = next
		}
	}
	return nil
}

// obstructed says whether mounts[i] is hidden by a later mount at its
// own point or above it (the /dev/pts of the /dev that PrivateDevices=
// covered): mountinfo lists mounts in the order they were made, and a
// path reaches only the last. systemd skips those too ("mount points that
// are obstructed by a later mount").
func obstructed(mounts []mountinfo.Mount, i int) bool {
	for _, later := range mounts[i+1:] {
		if isUnder(mounts[i].Point, later.Point) {
			return true
		}
	}
	return false
}

// mountFlags are the per-mount flags in mountinfo's options that a bind
// remount must repeat to keep them.
func mountFlags(opts string) uintptr {
	var f uintptr
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "ro":
			f |= unix.MS_RDONLY
		case "nosuid":
			f |= unix.MS_NOSUID
		case "nodev":
			f |= unix.MS_NODEV
		case "noexec":
			f |= unix.MS_NOEXEC
		case "noatime":
			f |= unix.MS_NOATIME
		case "nodiratime":
			f |= unix.MS_NODIRATIME
		case "relatime":
			f |= unix.MS_RELATIME
		case "strictatime":
			f |= unix.MS_STRICTATIME
		}
	}
	return f
}

// privateDev mounts a minimal /dev at target (systemd.exec(5)
// PrivateDevices=): a tmpfs with null, zero, full, random, urandom, tty
// bound from the host, a private devpts, the host's /dev/shm (and mqueue,
// hugepages where there), and the usual symlinks; no /dev/kmsg, no disks.
func privateDev(target string) error {
	old, err := unix.Open(target, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(old)
	from := func(name string) string { return "/proc/self/fd/" + strconv.Itoa(old) + "/" + name }
	if err := unix.Mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return err
	}
	for _, n := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		if _, err := os.Stat(from(n)); err != nil {
			continue
		}
		if err := makeMountPoint(filepath.Join(target, n), false); err != nil {
			return err
		}
		if err := unix.Mount(from(n), filepath.Join(target, n), "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("/dev/%s: %w", n, err)
		}
	}
	pts := filepath.Join(target, "pts")
	if err := mkdirAll(pts); err != nil {
		return err
	}
	if err := unix.Mount("devpts", pts, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620,gid=5"); err == nil {
		os.Symlink("pts/ptmx", filepath.Join(target, "ptmx"))
	}
	for _, d := range []string{"shm", "mqueue", "hugepages"} {
		if st, err := os.Stat(from(d)); err != nil || !st.IsDir() {
			continue
		}
		dst := filepath.Join(target, d)
		if err := mkdirAll(dst); err != nil {
			return err
		}
		if err := unix.Mount(from(d), dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil && d == "shm" {
			return fmt.Errorf("/dev/shm: %w", err)
		}
	}
	for link, to := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "core": "/proc/kcore",
		"log": "/run/systemd/journal/dev-log"} {
		os.Symlink(to, filepath.Join(target, link))
	}
	// Node creation is over: nothing may add a device later.
	return unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_STRICTATIME, "")
}
