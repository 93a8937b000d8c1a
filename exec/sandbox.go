package exec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"gosd/unitfile"
)

// The sandbox is what a unit asks of namespaces and its view of the file
// system (systemd.exec(5) "Sandboxing"). The parent turns the settings
// into a plan (this file, pure but for the PrivateTmp= directories); the
// helper carries it out in the child, first thing, while still root
// (sandbox_linux.go), before credentials, capabilities and seccomp.

// sandbox travels to the helper in its instructions.
type sandbox struct {
	Mount *mountPlan `json:",omitempty"` // nil: no mount namespace
	// PrivateNetwork=: a network namespace with only "lo", brought up.
	Network bool `json:",omitempty"`
	// NetFD, IPCFD: the unit's shared network and IPC namespaces, at
	// these fds in the helper, joined instead of new ones (0: none).
	NetFD int `json:",omitempty"`
	IPCFD int `json:",omitempty"`
	// NetworkNamespacePath=: join this network namespace.
	NetNSPath string `json:",omitempty"`
	IPC       bool   `json:",omitempty"` // PrivateIPC=
	UTS       bool   `json:",omitempty"` // ProtectHostname=
}

// mountPlan is the file system view: entries are applied in order (parents
// before children), then the read-only and noexec flags are set, deepest
// setting winning.
type mountPlan struct {
	Root    string       `json:",omitempty"` // RootDirectory=; entries are inside it
	Entries []mountEntry `json:",omitempty"`
	// Propagation is the final propagation of the namespace's mounts:
	// shared (default), slave or private (MountFlags=).
	Propagation string `json:",omitempty"`
	// Insist: the unit would see a different file system without the
	// namespace (RootDirectory=, BindPaths= to another place,
	// TemporaryFileSystem=), so failing to create it fails the unit;
	// otherwise a container that forbids mount namespaces runs the unit
	// without them, as systemd does.
	Insist bool `json:",omitempty"`
	// Inaccessible holds the empty nodes that hide paths: "dir" and "reg"
	// (mode 0000).
	Inaccessible string `json:",omitempty"`
}

// Entry modes; for one path the first in this order wins, as in systemd.
const (
	mInaccessible = iota
	mBind
	mPrivateTmp
	mPrivateDev
	mBindDev
	mEmptyDir
	mSysfs
	mProcfs
	mReadOnly
	mReadWrite
	mExec
	mNoExec
	mTmpfs
	mRun
)

type mountEntry struct {
	Path     string `json:"P"`
	Mode     int    `json:"M"`
	Source   string `json:"S,omitempty"`
	Options  string `json:"O,omitempty"` // tmpfs options; procfs options
	Optional bool   `json:"Q,omitempty"` // a missing path or source is skipped
	ReadOnly bool   `json:"R,omitempty"` // bind mounts, or made read-only by a duplicate
	// ExecFlag: mExec or mNoExec from a duplicate of another mode
	// (NoExecPaths=/ beside ProtectSystem=strict's read-only /).
	ExecFlag int  `json:"X,omitempty"`
	NoRec    bool `json:"N,omitempty"` // bind without submounts
}

// InaccessibleDir is where gosd keeps the nodes that InaccessiblePaths=
// and its kin mount over hidden paths (as systemd keeps
// /run/systemd/inaccessible). A variable for tests.
var InaccessibleDir = "/run/gosd/inaccessible"

// PrivateTmpRoots are where PrivateTmp= directories are made on the host.
var PrivateTmpRoots = [2]string{"/tmp", "/var/tmp"}

// sandboxCapDrops are the capabilities that settings take out of the
// bounding set (systemd.exec(5)).
func sandboxCapDrops(ec *unitfile.ExecContext) []string {
	var drop []string
	if ec.PrivateDevices {
		drop = append(drop, "CAP_MKNOD", "CAP_SYS_RAWIO")
	}
	if ec.ProtectKernelModules {
		drop = append(drop, "CAP_SYS_MODULE")
	}
	if ec.ProtectKernelLogs {
		drop = append(drop, "CAP_SYSLOG")
	}
	return drop
}

// impliedFilters are the system call filters sandboxing settings add
// (systemd.exec(5)): @raw-io for PrivateDevices=, @module for
// ProtectKernelModules=, syslog(2) for ProtectKernelLogs=, _sysctl(2) for
// ProtectKernelTunables=, sethostname(2)/setdomainname(2) for
// ProtectHostname=; each fails with EPERM.
type impliedFilters struct {
	PrivateDevices, KernelModules, KernelLogs, KernelTunables, Hostname bool `json:",omitempty"`
}

func impliedSeccomp(ec *unitfile.ExecContext) impliedFilters {
	return impliedFilters{ec.PrivateDevices, ec.ProtectKernelModules, ec.ProtectKernelLogs, ec.ProtectKernelTunables, ec.ProtectHostname}
}

func (f impliedFilters) any() bool { return f != impliedFilters{} }

// mountAPIVFS is MountAPIVFS= with its default: on with RootDirectory=,
// and implied by ProtectKernelTunables= (systemd.exec(5)).
func mountAPIVFS(ec *unitfile.ExecContext) bool {
	if ec.MountAPIVFS != nil {
		return *ec.MountAPIVFS
	}
	return ec.RootDirectory != "" || ec.ProtectKernelTunables
}

// planSandbox turns the settings into the helper's plan; nil when the unit
// asks for none of it. key names the PrivateTmp= directories (the unit,
// or the unit whose namespace it joins).
func planSandbox(unit, key string, ec *unitfile.ExecContext, fullPrivileges bool) (*sandbox, error) {
	sb := &sandbox{Network: ec.PrivateNetwork, NetNSPath: ec.NetworkNamespacePath, IPC: ec.PrivateIPC, UTS: ec.ProtectHostname}
	if ec.NeedsMountNamespace() || ec.RootDirectory != "" && mountAPIVFS(ec) {
		p, err := planMounts(unit, key, ec, fullPrivileges)
		if err != nil {
			return nil, err
		}
		sb.Mount = p
	}
	if sb.Mount == nil && !sb.Network && sb.NetNSPath == "" && !sb.IPC && !sb.UTS {
		return nil, nil
	}
	return sb, nil
}

func planMounts(unit, key string, ec *unitfile.ExecContext, fullPrivileges bool) (*mountPlan, error) {
	p := &mountPlan{Root: ec.RootDirectory, Propagation: ec.MountFlags, Inaccessible: InaccessibleDir}
	add := func(path string, mode int, optional bool) {
		p.Entries = append(p.Entries, mountEntry{Path: path, Mode: mode, Optional: optional})
	}
	// "+" in ExecStart=: the command runs with full privileges, and
	// systemd sets up no file system sandbox for it (the tests of
	// PrivateTmp=/PrivateDevices= check this), only what changes the
	// root: RootDirectory=, BindPaths=, TemporaryFileSystem=.
	if !fullPrivileges {
		for _, e := range ec.InaccessiblePaths {
			add(e.Path, mInaccessible, e.Optional)
		}
		for _, e := range ec.ReadOnlyPaths {
			add(e.Path, mReadOnly, e.Optional)
		}
		for _, e := range ec.ReadWritePaths {
			add(e.Path, mReadWrite, e.Optional)
		}
		for _, e := range ec.ExecPaths {
			add(e.Path, mExec, e.Optional)
		}
		for _, e := range ec.NoExecPaths {
			add(e.Path, mNoExec, e.Optional)
		}
	}
	for _, b := range ec.BindPaths {
		p.Entries = append(p.Entries, mountEntry{Path: b.Dest, Mode: mBind, Source: b.Source, Optional: b.Optional, ReadOnly: b.ReadOnly, NoRec: b.NonRecursive})
		if b.Source != b.Dest {
			p.Insist = true
		}
	}
	for _, t := range ec.TemporaryFileSystem {
		p.Entries = append(p.Entries, mountEntry{Path: t.Path, Mode: mTmpfs, Options: t.Options})
		p.Insist = true
	}
	if ec.RootDirectory != "" {
		p.Insist = true
		if mountAPIVFS(ec) {
			add("/proc", mProcfs, false)
			add("/sys", mSysfs, false)
			if !ec.PrivateDevices || fullPrivileges {
				add("/dev", mBindDev, false)
			}
			add("/run", mRun, false)
		}
	}
	if fullPrivileges {
		return p, nil
	}
	if ec.PrivateTmp {
		tmp, vartmp, err := privateTmpDirs(unit, key)
		if err != nil {
			return nil, err
		}
		p.Entries = append(p.Entries, mountEntry{Path: "/tmp", Mode: mPrivateTmp, Source: tmp},
			mountEntry{Path: "/var/tmp", Mode: mPrivateTmp, Source: vartmp})
	}
	if ec.PrivateDevices {
		add("/dev", mPrivateDev, false)
	}
	switch ec.ProtectSystem {
	case "strict":
		add("/", mReadOnly, false)
		// The API file systems stay as they are: other settings protect
		// them (ProtectKernelTunables=, PrivateDevices=, ...).
		add("/dev", mReadWrite, true)
		add("/proc", mReadWrite, true)
		add("/sys", mReadWrite, true)
		fallthrough
	case "full":
		add("/etc", mReadOnly, true)
		fallthrough
	case "yes":
		add("/usr", mReadOnly, true)
		add("/boot", mReadOnly, true)
		add("/efi", mReadOnly, true)
	}
	if ec.ProtectSystem == "strict" {
		// The unit's own directories stay writable (systemd.exec(5)
		// "RuntimeDirectory=": "... are writable even with
		// ProtectSystem=strict").
		for _, k := range dirKinds(ec) {
			for _, name := range k.names {
				dir, _, _ := strings.Cut(name, ":")
				if d, err := dirPath(k.root, dir); err == nil {
					add(d, mReadWrite, true)
				}
			}
		}
	}
	home := map[string]int{"yes": mInaccessible, "read-only": mReadOnly, "tmpfs": mEmptyDir}
	if mode, ok := home[ec.ProtectHome]; ok {
		for _, d := range []string{"/home", "/root", "/run/user"} {
			add(d, mode, true)
		}
	}
	if ec.ProtectKernelTunables {
		for _, d := range []string{"/proc/acpi", "/proc/apm", "/proc/asound", "/proc/bus", "/proc/fs",
			"/proc/irq", "/proc/latency_stats", "/proc/mtrr", "/proc/scsi", "/proc/sys",
			"/proc/sysrq-trigger", "/proc/timer_list", "/proc/timer_stats", "/sys"} {
			add(d, mReadOnly, true)
		}
		for _, d := range []string{"/proc/kallsyms", "/proc/kcore", "/sys/kernel/debug", "/sys/kernel/tracing", "/sys/fs/bpf"} {
			add(d, mInaccessible, true)
		}
	}
	if ec.ProtectKernelModules {
		add("/lib/modules", mInaccessible, true)
		add("/usr/lib/modules", mInaccessible, true)
	}
	if ec.ProtectKernelLogs {
		add("/proc/kmsg", mInaccessible, true)
		add("/dev/kmsg", mInaccessible, true)
	}
	if ec.ProtectControlGroups {
		add("/sys/fs/cgroup", mReadOnly, true)
	}
	if ec.ProtectProc != "" || ec.ProcSubset != "" {
		var opts []string
		if ec.ProtectProc != "" {
			opts = append(opts, "hidepid="+ec.ProtectProc)
		}
		if ec.ProcSubset == "pid" {
			opts = append(opts, "subset=pid")
		}
		p.Entries = append(p.Entries, mountEntry{Path: "/proc", Mode: mProcfs, Options: strings.Join(opts, ",")})
	}
	return p, nil
}

// sortEntries orders the plan: parents before children; for one path the
// mode that wins first, and drops the duplicates behind it.
func sortEntries(es []mountEntry) []mountEntry {
	sort.SliceStable(es, func(i, j int) bool {
		if c := comparePaths(es[i].Path, es[j].Path); c != 0 {
			return c < 0
		}
		return es[i].Mode < es[j].Mode
	})
	var out []mountEntry
	for _, e := range es {
		if n := len(out); n > 0 && out[n-1].Path == e.Path {
			// The first mode wins, but read-only sticks (systemd's
			// drop_duplicates): ReadOnlyPaths=/dev with PrivateDevices=.
			out[n-1].ReadOnly = out[n-1].ReadOnly || e.Mode == mReadOnly || e.Mode == mInaccessible || e.ReadOnly
			// So do noexec and exec, noexec first (its mount_entry_noexec
			// and mount_entry_exec).
			if e.Mode == mNoExec || e.Mode == mExec && out[n-1].ExecFlag == 0 {
				out[n-1].ExecFlag = e.Mode
			}
			continue
		}
		out = append(out, e)
	}
	return out
}

// comparePaths compares component by component, so "/a" < "/a/b" < "/a-b".
func comparePaths(a, b string) int {
	ac, bc := strings.Split(strings.Trim(a, "/"), "/"), strings.Split(strings.Trim(b, "/"), "/")
	if a == "/" {
		ac = nil
	}
	if b == "/" {
		bc = nil
	}
	for i := 0; i < len(ac) && i < len(bc); i++ {
		if c := strings.Compare(ac[i], bc[i]); c != 0 {
			return c
		}
	}
	return len(ac) - len(bc)
}

// What a unit's processes share, per namespace key (the unit, or the unit
// whose namespace it joins): the PrivateTmp= directories and the
// PrivateNetwork=/PrivateIPC= namespaces. Made at the first spawn that
// needs them, shared by every process of the unit and of the units that
// join its namespace (systemd.exec(5) "PrivateNetwork=": "all processes of
// the unit share the same network namespace"), released when the last of
// them stops.
var shared struct {
	sync.Mutex
	byKey map[string]*sharedRuntime
	keyOf map[string]string // unit -> key
}

type sharedRuntime struct {
	tmp   [2]string       // the two host directories behind /tmp, /var/tmp
	net   int             // network namespace fd, or -1
	ipc   int             // IPC namespace fd, or -1
	users map[string]bool // units using them
}

// sharedFor returns the key's runtime, made if new, with unit counted as
// a user. The caller holds shared's lock.
func sharedFor(unit, key string) *sharedRuntime {
	if shared.byKey == nil {
		shared.byKey, shared.keyOf = map[string]*sharedRuntime{}, map[string]string{}
	}
	rt := shared.byKey[key]
	if rt == nil {
		rt = &sharedRuntime{net: -1, ipc: -1, users: map[string]bool{}}
		shared.byKey[key] = rt
	}
	rt.users[unit] = true
	shared.keyOf[unit] = key
	return rt
}

func privateTmpDirs(unit, key string) (string, string, error) {
	shared.Lock()
	defer shared.Unlock()
	rt := sharedFor(unit, key)
	if rt.tmp[0] == "" {
		var d [2]string
		for i, root := range PrivateTmpRoots {
			// A fresh name each time (MkdirTemp), 0700, owned by root: a
			// user who guesses it cannot have made it first.
			outer, err := os.MkdirTemp(root, "systemd-private-"+strings.ReplaceAll(key, "/", "_")+"-")
			if err == nil {
				inner := filepath.Join(outer, "tmp")
				if err = os.Mkdir(inner, 0o1777); err == nil {
					err = os.Chmod(inner, 0o1777|os.ModeSticky)
				}
				d[i] = inner
			}
			if err != nil {
				removePrivateTmp(d)
				return "", "", &ExitError{Status: exitNamespace, Err: fmt.Errorf("PrivateTmp=: %w", err)}
			}
		}
		rt.tmp = d
	}
	return rt.tmp[0], rt.tmp[1], nil
}

// sharedNamespace returns the key's network (kind "net") or IPC ("ipc")
// namespace as an fd the caller must not close, made if new.
func sharedNamespace(unit, key, kind string) (int, error) {
	shared.Lock()
	defer shared.Unlock()
	rt := sharedFor(unit, key)
	fd := &rt.net
	if kind == "ipc" {
		fd = &rt.ipc
	}
	if *fd < 0 {
		n, err := newNamespace(kind)
		if err != nil {
			return -1, err
		}
		*fd = n
	}
	return *fd, nil
}

func removePrivateTmp(d [2]string) error {
	var errs []error
	for _, inner := range d {
		if inner != "" {
			errs = append(errs, os.RemoveAll(filepath.Dir(inner)))
		}
	}
	return errors.Join(errs...)
}

// CleanupSandbox releases what the unit's sandbox holds on the host once
// it has stopped: its PrivateTmp= directories and shared namespaces,
// unless a unit that joined its namespace still runs.
func CleanupSandbox(unit string) error {
	shared.Lock()
	defer shared.Unlock()
	key, ok := shared.keyOf[unit]
	if !ok {
		return nil
	}
	delete(shared.keyOf, unit)
	rt := shared.byKey[key]
	delete(rt.users, unit)
	if len(rt.users) > 0 {
		return nil
	}
	delete(shared.byKey, key)
	for _, fd := range []int{rt.net, rt.ipc} {
		if fd >= 0 {
			syscall.Close(fd)
		}
	}
	return removePrivateTmp(rt.tmp)
}

// SavedSandbox is what units' sandboxes hold on the host, handed to the
// new gosd by daemon-reexec: a running unit keeps its /tmp and its
// namespaces, and the directories are still removed when it stops.
type SavedSandbox []SavedRuntime

// SavedRuntime is one namespace key's share; Net and IPC are fds kept open
// across the execve (-1: none).
type SavedRuntime struct {
	Key      string
	Tmp      [2]string
	Net, IPC int
	Users    []string
}

// SaveSandbox returns the state for daemon-reexec.
func SaveSandbox() SavedSandbox {
	shared.Lock()
	defer shared.Unlock()
	var out SavedSandbox
	for key, rt := range shared.byKey {
		sr := SavedRuntime{Key: key, Tmp: rt.tmp, Net: rt.net, IPC: rt.ipc}
		for u := range rt.users {
			sr.Users = append(sr.Users, u)
		}
		out = append(out, sr)
	}
	return out
}

// FDs are the namespace fds that must stay open across the execve.
func (s SavedSandbox) FDs() []int {
	var fds []int
	for _, r := range s {
		for _, fd := range []int{r.Net, r.IPC} {
			if fd >= 0 {
				fds = append(fds, fd)
			}
		}
	}
	return fds
}

// RestoreSandbox takes the state over after daemon-reexec; the fds become
// close-on-exec again.
func RestoreSandbox(s SavedSandbox) {
	shared.Lock()
	defer shared.Unlock()
	for _, sr := range s {
		rt := sharedFor("", sr.Key)
		delete(rt.users, "")
		delete(shared.keyOf, "")
		rt.tmp, rt.net, rt.ipc = sr.Tmp, sr.Net, sr.IPC
		for _, fd := range []int{sr.Net, sr.IPC} {
			if fd >= 0 {
				syscall.CloseOnExec(fd)
			}
		}
		for _, u := range sr.Users {
			rt.users[u] = true
			shared.keyOf[u] = sr.Key
		}
	}
}

// namespaceKey is the unit whose namespace a unit shares: itself, or the
// first (by name) of the units it joins (JoinsNamespaceOf=).
func namespaceKey(unit string, joins []string) string {
	key := unit
	for _, j := range joins {
		if j < key {
			key = j
		}
	}
	return key
}

// ensureInaccessible creates the nodes that hide paths, once.
func ensureInaccessible() error {
	dir := InaccessibleDir
	if st, err := os.Stat(filepath.Join(dir, "reg")); err == nil && st.Mode().Perm() == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d := filepath.Join(dir, "dir")
	if err := os.Mkdir(d, 0); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := os.Chmod(d, 0); err != nil {
		return err
	}
	r := filepath.Join(dir, "reg")
	f, err := os.OpenFile(r, os.O_CREATE|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	f.Close()
	return os.Chmod(r, 0)
}

// unsandboxed is ec without the privilege restrictions that the "+"
// prefix lifts (systemd.service(5) "Table 1. Special executable
// prefixes"); the process environment (umask, limits, nice, directories)
// stays.
func unsandboxed(ec *unitfile.ExecContext) *unitfile.ExecContext {
	e := *ec
	e.CapabilityBoundingSet = nil
	e.AmbientCapabilities = nil
	e.NoNewPrivileges = false
	e.ProcessSecurity = unitfile.ProcessSecurity{IgnoreSIGPIPE: ec.IgnoreSIGPIPE}
	return &e
}
