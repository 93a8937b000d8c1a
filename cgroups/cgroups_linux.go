package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// controllersUsed are the controllers Apply writes to; only these are
// enabled for units (each enabled controller costs the kernel accounting).
var controllersUsed = []string{"cpu", "io", "memory", "pids"}

// Hierarchy is gosd's part of the cgroup v2 tree: the root below which
// slices and units live.
type Hierarchy struct {
	mount   mount
	rootRel string // the root as a hierarchy path, as /proc/PID/cgroup shows it
	root    string // the root's directory

	mu     sync.Mutex
	slices map[string]bool // slice directories known to exist (Create)
}

// Group is one unit's cgroup.
type Group struct {
	unit string
	dir  string
	root string // the hierarchy's root, up to which Apply enables controllers
}

// Detect finds cgroup v2 and gosd's place in it, moving gosd into
// <own>/init.scope unless it is in the real root cgroup (see the package
// doc), and enables the controllers it can for units. The error matches
// ErrUnavailable when the caller must fall back to process groups.
func Detect() (*Hierarchy, error) {
	o, err := FindOwn()
	if err != nil {
		return nil, err
	}
	return o.Detect()
}

// Own is the calling process's place in cgroup v2 (FindOwn): its own
// cgroup and the mount it is seen through. Reading it takes
// /proc/self/cgroup and /proc/self/mountinfo (0.15 ms measured); a caller
// that needs it for several steps at start reads it once.
type Own struct {
	m   mount
	own string
}

// FindOwn reads the calling process's place in cgroup v2. The error
// matches ErrUnavailable when there is none.
func FindOwn() (Own, error) {
	m, own, err := findOwn()
	return Own{m: m, own: own}, err
}

// Dir is the directory of the own cgroup (OwnDir).
func (o Own) Dir() string { return o.m.dir(o.own) }

// Detect is the package's Detect from o, which it may make stale (it can
// move the process into init.scope).
func (o Own) Detect() (*Hierarchy, error) {
	m, own := o.m, o.own
	// Already in init.scope (a re-exec of gosd, or a second Detect): the
	// root is its parent and nothing moves.
	if parent, ok := strings.CutSuffix(own, "/init.scope"); ok {
		if parent == "" {
			parent = "/"
		}
		h := &Hierarchy{mount: m, rootRel: parent, root: m.dir(parent)}
		if err := checkWritable(h.root); err != nil {
			return nil, err
		}
		enableControllers(h.root)
		return h, nil
	}
	h := &Hierarchy{mount: m, rootRel: own, root: m.dir(own)}
	if err := checkWritable(h.root); err != nil {
		return nil, err
	}
	// The real root cgroup has no cgroup.type; every other one (a cgroup
	// namespace's root included) obeys the no-internal-processes rule.
	if _, err := os.Stat(filepath.Join(h.root, "cgroup.type")); err == nil {
		scope := filepath.Join(h.root, "init.scope")
		if err := mkdir(scope); err != nil {
			return nil, err
		}
		if err := writeFile(filepath.Join(scope, "cgroup.procs"), strconv.Itoa(os.Getpid())); err != nil {
			return nil, fmt.Errorf("cgroups: moving gosd into %s: %w", scope, err)
		}
	}
	enableControllers(h.root)
	return h, nil
}

// DetectAt is Detect with <own cgroup>/sub as the root, created if
// missing; it moves no process. For tests and for callers that place
// themselves.
func DetectAt(sub string) (*Hierarchy, error) {
	o, err := FindOwn()
	if err != nil {
		return nil, err
	}
	return o.DetectAt(sub)
}

// DetectAt is the package's DetectAt from o.
func (o Own) DetectAt(sub string) (*Hierarchy, error) {
	m, own := o.m, o.own
	rel := filepath.Join(own, sub)
	if _, ok := below(rel, own); !ok || rel == own {
		return nil, fmt.Errorf("cgroups: DetectAt(%q) must name a directory below the own cgroup", sub)
	}
	if err := checkWritable(m.dir(own)); err != nil {
		return nil, err
	}
	h := &Hierarchy{mount: m, rootRel: rel, root: m.dir(rel)}
	if err := os.MkdirAll(h.root, 0o755); err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	enableControllers(h.root)
	return h, nil
}

// findOwn returns the cgroup2 mount and gosd's own cgroup path.
func findOwn() (mount, string, error) {
	procCgroup, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return mount{}, "", fmt.Errorf("cgroups: %w: %w", err, ErrUnavailable)
	}
	own, ok := v2Path(string(procCgroup))
	if !ok {
		return mount{}, "", fmt.Errorf("cgroups: no cgroup v2 line in /proc/self/cgroup: %w", ErrUnavailable)
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return mount{}, "", fmt.Errorf("cgroups: %w: %w", err, ErrUnavailable)
	}
	m, err := chooseMount(cgroup2Mounts(string(mountinfo)), own)
	return m, own, err
}

// checkWritable fails with ErrUnavailable unless gosd may create cgroups
// in dir and move processes into it (access(2) also says EROFS).
func checkWritable(dir string) error {
	for _, p := range []string{dir, filepath.Join(dir, "cgroup.procs")} {
		if err := unix.Access(p, unix.W_OK); err != nil {
			return fmt.Errorf("cgroups: cannot write %s: %w: %w", p, err, ErrUnavailable)
		}
	}
	return nil
}

// enableControllers turns on, for dir's children, each used controller
// dir offers. One write per controller: a write naming several fails
// whole when one of them is refused.
func enableControllers(dir string) {
	offered, _ := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	have := strings.Fields(string(offered))
	for _, c := range controllersUsed {
		for _, h := range have {
			if h == c {
				// Refusals (EBUSY: dir holds processes) leave the
				// controller off; Apply then reports it unavailable.
				_ = writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+"+c)
			}
		}
	}
}

// Root is the directory below which slices and units live.
func (h *Hierarchy) Root() string { return h.root }

// Controllers lists the controllers units below the root can use.
func (h *Hierarchy) Controllers() []string {
	b, _ := os.ReadFile(filepath.Join(h.root, "cgroup.subtree_control"))
	return strings.Fields(string(b))
}

// Create makes (or reuses) the cgroup of unit in slice ("" is
// system.slice), creating the slices on the way.
func (h *Hierarchy) Create(unit, slice string) (*Group, error) {
	name, err := escapeUnit(unit)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for try := 0; ; try++ {
		dir, err := h.sliceDir(slice)
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(dir, name)
		err = unix.Mkdir(dir, 0o755)
		if err == unix.ENOENT && try == 0 && dir != filepath.Join(h.root, name) {
			h.slices = nil // a slice was removed behind our back: make them again
			continue
		}
		if err != nil && err != unix.EEXIST {
			return nil, fmt.Errorf("cgroups: %w", &os.PathError{Op: "mkdir", Path: dir, Err: err})
		}
		return &Group{unit: unit, dir: dir, root: h.root}, nil
	}
}

// Slice makes (or reuses) the cgroup of a slice unit ("" is
// system.slice) and the slices above it, for the slice's own resource
// settings. "-.slice" is the root, which is not the slice's to set: it
// is an error.
func (h *Hierarchy) Slice(slice string) (*Group, error) {
	if slice == "-.slice" {
		return nil, fmt.Errorf("cgroups: -.slice is gosd's root cgroup %s, whose settings belong to its parent", h.root)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	dir, err := h.sliceDir(slice)
	if err != nil {
		return nil, err
	}
	if slice == "" {
		slice = DefaultSlice
	}
	return &Group{unit: slice, dir: dir, root: h.root}, nil
}

// sliceDir creates the directories of slice and the slices above it
// (h.mu held) and returns the slice's.
func (h *Hierarchy) sliceDir(slice string) (string, error) {
	slices, err := slicePath(slice)
	if err != nil {
		return "", err
	}
	dir := h.root
	if slices == "" {
		return dir, nil
	}
	for _, s := range strings.Split(slices, "/") {
		dir = filepath.Join(dir, s)
		if h.slices[dir] {
			continue // one mkdir per unit start, not one per level
		}
		created, err := mkdirNew(dir)
		if err != nil {
			return "", err
		}
		if created {
			enableControllers(dir)
		}
		if h.slices == nil {
			h.slices = map[string]bool{}
		}
		h.slices[dir] = true
	}
	return dir, nil
}

// UnitOf maps pid to the unit whose cgroup (or a cgroup below it) the
// process is in, from /proc/PID/cgroup. It is false for processes outside
// gosd's root. gosd itself, when moved, is in "init.scope".
func (h *Hierarchy) UnitOf(pid int) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", false
	}
	p, ok := v2Path(string(b))
	if !ok {
		return "", false
	}
	rel, ok := below(p, h.rootRel)
	if !ok {
		return "", false
	}
	return unitFromPath(rel)
}

// Path is the group's directory.
func (g *Group) Path() string { return g.dir }

// Unit is the unit name the group was created for.
func (g *Group) Unit() string { return g.unit }

// OpenFD opens the group's directory for SysProcAttr{UseCgroupFD: true,
// CgroupFD: fd}: O_PATH is enough for CLONE_INTO_CGROUP. The caller
// closes it.
func (g *Group) OpenFD() (int, error) {
	fd, err := unix.Open(g.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("cgroups: %w", &os.PathError{Op: "open", Path: g.dir, Err: err})
	}
	return fd, nil
}

// Procs lists the pids in the group and in any cgroup below it (a
// delegated subtree).
func (g *Group) Procs() ([]int, error) { return g.ProcsFD(-1) }

// ProcsFD is Procs through the group's directory fd (OpenFD; -1: by
// path). With the fd, the common case, a unit that made no cgroups of
// its own, is an fstat and one small read without a path lookup from the
// root: kernfs keeps a directory's link count at 2 + its subdirectories.
// Measured stopping 1000 simple services, the reads by path (cgroup.stat,
// then cgroup.procs) were two thirds of gosd's signalling cost.
func (g *Group) ProcsFD(dirFD int) ([]int, error) {
	if dirFD >= 0 {
		var st unix.Stat_t
		if err := unix.Fstat(dirFD, &st); err == nil && st.Nlink == 2 {
			b, err := readSmallAt(dirFD, "cgroup.procs")
			if err != nil {
				return nil, fmt.Errorf("cgroups: %w", &os.PathError{Op: "read", Path: filepath.Join(g.dir, "cgroup.procs"), Err: err})
			}
			return parsePids(nil, b), nil
		}
	}
	// The common case by path is two small reads: walking the directory
	// (a getdents and an lstat of some 30 files) was half of the stop
	// path's cgroup time at 1000 units.
	if b, err := readSmall(filepath.Join(g.dir, "cgroup.stat")); err == nil && descendants(b) == 0 {
		b, err := readSmall(filepath.Join(g.dir, "cgroup.procs"))
		if err != nil {
			return nil, fmt.Errorf("cgroups: %w", err)
		}
		return parsePids(nil, b), nil
	}
	var pids []int
	err := filepath.WalkDir(g.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if p != g.dir && errors.Is(err, os.ErrNotExist) {
				return nil // a subgroup removed meanwhile
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		b, err := readSmall(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			if p != g.dir && errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		pids = parsePids(pids, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	return pids, nil
}

// parsePids appends the pids of a cgroup.procs to pids.
func parsePids(pids []int, b []byte) []int {
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// descendants is cgroup.stat's nr_descendants (live child cgroups at any
// depth); -1 when it cannot be read.
func descendants(stat []byte) int {
	for _, line := range strings.Split(string(stat), "\n") {
		if v, ok := strings.CutPrefix(line, "nr_descendants "); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	return -1
}

// Populated reports whether any process is in the group or below it.
func (g *Group) Populated() (bool, error) {
	b, err := os.ReadFile(filepath.Join(g.dir, "cgroup.events"))
	if err != nil {
		return false, fmt.Errorf("cgroups: %w", err)
	}
	return parsePopulated(b)
}

// EventsFD opens the group's cgroup.events for the reactor: register it
// with epoll for EPOLLPRI; when it fires, call PopulatedFD(fd), which
// reads the new state and re-arms the notification. The caller closes it.
func (g *Group) EventsFD() (int, error) {
	p := filepath.Join(g.dir, "cgroup.events")
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, fmt.Errorf("cgroups: %w", &os.PathError{Op: "open", Path: p, Err: err})
	}
	return fd, nil
}

// PopulatedFD reads "populated" from an fd returned by EventsFD.
func PopulatedFD(fd int) (bool, error) {
	var buf [256]byte
	n, err := unix.Pread(fd, buf[:], 0)
	if err != nil {
		return false, fmt.Errorf("cgroups: reading cgroup.events: %w", err)
	}
	return parsePopulated(buf[:n])
}

func parsePopulated(events []byte) (bool, error) {
	for _, line := range bytes.Split(events, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("populated ")); ok {
			return string(v) == "1", nil
		}
	}
	return false, fmt.Errorf("cgroups: no populated line in cgroup.events")
}

// Kill sends SIGKILL to every process in the group and below, through
// cgroup.kill (Linux 5.14+, which also catches processes forking at that
// moment), else by signalling each pid until no new pid appears. It
// returns once all are signalled; the group empties when they have died
// (watch EventsFD).
func (g *Group) Kill() error {
	err := writeFile(filepath.Join(g.dir, "cgroup.kill"), "1")
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Stat(g.dir); statErr != nil {
			return fmt.Errorf("cgroups: %w", statErr) // the group is gone
		}
		return g.killEach() // a kernel before 5.14
	}
	if err != nil {
		return fmt.Errorf("cgroups: %w", err)
	}
	return nil
}

// killEach is Kill without cgroup.kill. A process that got SIGKILL can no
// longer fork (the kernel fails a fork with a fatal signal pending), so
// rounds end when one finds nobody new.
func (g *Group) killEach() error {
	killed := map[int]bool{}
	for {
		pids, err := g.Procs()
		if err != nil {
			return err
		}
		fresh := 0
		for _, pid := range pids {
			if !killed[pid] {
				fresh++
				killed[pid] = true
				_ = unix.Kill(pid, unix.SIGKILL) // ESRCH: gone already
			}
		}
		if fresh == 0 {
			return nil
		}
	}
}

// Signal sends sig to every process in the group and below, then each of
// more to the same process (systemd's SIGTERM+SIGCONT goes to every pid
// in turn, from one listing). Processes forked while it runs may be
// missed; use Kill to end a group.
func (g *Group) Signal(sig syscall.Signal, more ...syscall.Signal) error {
	return g.SignalFD(-1, sig, more...)
}

// SignalFD is Signal listing the processes through the group's
// directory fd (ProcsFD).
func (g *Group) SignalFD(dirFD int, sig syscall.Signal, more ...syscall.Signal) error {
	return g.SignalFDExcept(dirFD, 0, sig, more...)
}

// SignalFDExcept is SignalFD sparing process skip (0: none), which the
// caller signalled itself (a unit's main process, as systemd's
// cg_kill spares the pids it already signalled).
func (g *Group) SignalFDExcept(dirFD, skip int, sig syscall.Signal, more ...syscall.Signal) error {
	pids, err := g.ProcsFD(dirFD)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if pid == skip {
			continue
		}
		for _, s := range append([]syscall.Signal{sig}, more...) {
			if err := unix.Kill(pid, s); err != nil {
				if err == unix.ESRCH {
					break
				}
				return fmt.Errorf("cgroups: signal %d to %d: %w", s, pid, err)
			}
		}
	}
	return nil
}

// Apply writes rc's settings to the group (startup: the system is
// starting or stopping, see settings). A controller the group lacks is
// enabled in the subtree_control of each cgroup from the root down to
// the group's parent, as systemd does when a unit needs it; settings
// whose controller still is not there (hybrid layouts usually offer
// none) are returned by name in notApplied, e.g. "MemoryMax"; a refused
// write is an error.
func (g *Group) Apply(rc unitfile.ResourceControl, startup bool) (notApplied []string, err error) {
	set := settings(rc, startup)
	if len(set) == 0 {
		return nil, nil // the common case: nothing to read or write
	}
	have, err := g.controllers()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, s := range set {
		if !have[s.controller] && g.enable(s.controller) {
			have[s.controller] = true
		}
		if !have[s.controller] {
			notApplied = append(notApplied, s.name)
			continue
		}
		err := writeFile(filepath.Join(g.dir, s.file), s.value)
		if errors.Is(err, os.ErrNotExist) {
			// e.g. memory.swap.max without swap accounting
			notApplied = append(notApplied, s.name)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("cgroups: %s=%s: %w", s.name, s.value, err))
		}
	}
	return notApplied, errors.Join(errs...)
}

// controllers reads the group's cgroup.controllers as a set.
func (g *Group) controllers() (map[string]bool, error) {
	b, err := os.ReadFile(filepath.Join(g.dir, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	have := map[string]bool{}
	for _, c := range strings.Fields(string(b)) {
		have[c] = true
	}
	return have, nil
}

// enable turns controller c on for the group: "+c" in the subtree_control
// of the root and of every cgroup below it down to the group's parent,
// top first (a level can only pass on what it was given). A refusal
// (the root's parent does not offer c, or a level holds processes: EBUSY)
// leaves it off. It reports whether the group has c now.
func (g *Group) enable(c string) bool {
	if g.root == "" {
		return false
	}
	rel, err := filepath.Rel(g.root, filepath.Dir(g.dir))
	if err != nil || strings.HasPrefix(rel, "..") {
		return false
	}
	dir := g.root
	_ = writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+"+c)
	if rel != "." {
		for _, part := range strings.Split(rel, "/") {
			dir = filepath.Join(dir, part)
			_ = writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+"+c)
		}
	}
	have, err := g.controllers()
	return err == nil && have[c]
}

// Remove deletes the group (and any cgroups below it). It fails while
// processes remain; removing a removed group is not an error.
func (g *Group) Remove() error {
	err := unix.Rmdir(g.dir)
	if err == unix.EBUSY {
		// Busy with processes, or with cgroups below it (a delegated
		// subtree): remove those and try again. Listing only here keeps
		// the common case to one rmdir.
		if err := g.removeChildren(); err != nil {
			return err
		}
		err = unix.Rmdir(g.dir)
	}
	if err != nil && err != unix.ENOENT {
		return fmt.Errorf("cgroups: %w", &os.PathError{Op: "rmdir", Path: g.dir, Err: err})
	}
	return nil
}

func (g *Group) removeChildren() error {
	entries, err := os.ReadDir(g.dir)
	if err != nil {
		return fmt.Errorf("cgroups: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := (&Group{dir: filepath.Join(g.dir, e.Name())}).Remove(); err != nil {
				return err
			}
		}
	}
	return nil
}

// mkdir creates dir; an existing one is fine.
func mkdir(dir string) error {
	_, err := mkdirNew(dir)
	return err
}

// mkdirNew creates dir and says whether it was new.
func mkdirNew(dir string) (bool, error) {
	err := unix.Mkdir(dir, 0o755)
	if err == unix.EEXIST {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cgroups: %w", &os.PathError{Op: "mkdir", Path: dir, Err: err})
	}
	return true, nil
}

// writeFile writes one value to a cgroup file with a single write(2), as
// the kernel parses each write on its own.
func writeFile(p, value string) error {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return &os.PathError{Op: "write", Path: p, Err: err}
	}
	return nil
}

// readSmall reads a whole cgroup file with plain open/read/close (os.ReadFile
// also registers the fd with the runtime's poller and stats it).
func readSmall(p string) ([]byte, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	return readAll(fd, p)
}

// readSmallAt is readSmall of a file in the directory dirFD.
func readSmallAt(dirFD int, name string) ([]byte, error) {
	fd, err := unix.Openat(dirFD, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return readAll(fd, name)
}

// readAll reads fd to its end and closes it.
func readAll(fd int, p string) ([]byte, error) {
	defer unix.Close(fd)
	b := make([]byte, 0, 512)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

// Rel is the hierarchy path of a directory below the root, as
// /proc/PID/cgroup shows it (e.g. "/system.slice/foo.service").
func (h *Hierarchy) Rel(dir string) string {
	rel, ok := strings.CutPrefix(dir, h.root)
	if !ok {
		return ""
	}
	return path.Join("/", h.rootRel, rel)
}

// Stats are the figures of a group that status shows; Have* say which
// files exist (memory.current needs the memory controller).
type Stats struct {
	Pids          []int
	TasksCurrent  uint64 // pids.current, else the number of Pids
	MemoryCurrent uint64
	HaveMemory    bool
	CPUUsageNSec  uint64 // cpu.stat usage_usec * 1000
	HaveCPU       bool
}

// Stats reads the group's current figures.
func (g *Group) Stats() Stats {
	var s Stats
	s.Pids, _ = g.Procs()
	s.TasksCurrent = uint64(len(s.Pids))
	if v, err := readUint(filepath.Join(g.dir, "pids.current")); err == nil {
		s.TasksCurrent = v
	}
	if v, err := readUint(filepath.Join(g.dir, "memory.current")); err == nil {
		s.MemoryCurrent, s.HaveMemory = v, true
	}
	if b, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat")); err == nil {
		if v, ok := keyed(b, "usage_usec"); ok {
			s.CPUUsageNSec, s.HaveCPU = v*1000, true
		}
	}
	return s
}

// Node is one cgroup below a group, for status' tree: its directory name
// (a unit's name, "_"-escaped as Create makes it, or a slice's), the
// processes in it and the cgroups below it.
type Node struct {
	Name     string
	Pids     []int
	Children []Node
}

// Tree reads the group's own processes and the cgroups below it, as
// systemctl status prints a slice's members. Children are in name order;
// a cgroup removed meanwhile is left out.
func (g *Group) Tree() Node {
	return readNode(g.dir, filepath.Base(g.dir))
}

func readNode(dir, name string) Node {
	n := Node{Name: name}
	if b, err := readSmall(filepath.Join(dir, "cgroup.procs")); err == nil {
		n.Pids = parsePids(nil, b)
	}
	entries, _ := os.ReadDir(dir) // sorted by name
	for _, e := range entries {
		if e.IsDir() {
			n.Children = append(n.Children, readNode(filepath.Join(dir, e.Name()), e.Name()))
		}
	}
	return n
}

// FindSlice returns the group of a slice whose cgroup exists, making
// nothing ("" is system.slice, "-.slice" the root).
func (h *Hierarchy) FindSlice(slice string) (*Group, bool) {
	rel, err := slicePath(slice)
	if err != nil {
		return nil, false
	}
	dir := filepath.Join(h.root, rel)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, false
	}
	if slice == "" {
		slice = DefaultSlice
	}
	return &Group{unit: slice, dir: dir, root: h.root}, true
}

// MemoryEventsFD opens memory.events (memory controller only) for
// EPOLLPRI; OOMKillsFD reads its oom_kill count. The caller closes it.
func (g *Group) MemoryEventsFD() (int, error) {
	p := filepath.Join(g.dir, "memory.events")
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, fmt.Errorf("cgroups: %w", &os.PathError{Op: "open", Path: p, Err: err})
	}
	return fd, nil
}

// OOMKillsFD reads the oom_kill count from an fd of MemoryEventsFD and
// re-arms its notification.
func OOMKillsFD(fd int) (uint64, error) {
	var buf [512]byte
	n, err := unix.Pread(fd, buf[:], 0)
	if err != nil {
		return 0, fmt.Errorf("cgroups: reading memory.events: %w", err)
	}
	v, _ := keyed(buf[:n], "oom_kill")
	return v, nil
}

func readUint(p string) (uint64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// keyed finds "key value" in a flat-keyed cgroup file.
func keyed(b []byte, key string) (uint64, bool) {
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(key+" ")); ok {
			n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// OwnDir is the directory of the calling process's own cgroup: where
// DetectAt makes its subtree, beside those of other supervisors started
// in the same cgroup.
func OwnDir() (string, error) {
	m, own, err := findOwn()
	if err != nil {
		return "", err
	}
	return m.dir(own), nil
}

// RemoveTree ends a cgroup tree left behind by a supervisor that is gone:
// every process in it is killed (cgroup.kill on the top, which takes the
// whole subtree), then, once the tree is empty or wait has passed, its
// directories are removed bottom-up. A process that does not die in time
// (uninterruptible sleep) keeps its directories, and the error says so.
// killed is how many processes were in the tree.
func RemoveTree(dir string, wait time.Duration) (killed int, err error) {
	top := &Group{dir: dir}
	pids, _ := top.Procs()
	if err := top.Kill(); err != nil {
		if _, statErr := os.Stat(dir); statErr != nil {
			return 0, nil // gone already
		}
		return 0, err
	}
	deadline := time.Now().Add(wait)
	for {
		populated, err := top.Populated()
		if err != nil || !populated {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	var dirs []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	var errs []error
	for i := len(dirs) - 1; i >= 0; i-- { // WalkDir lists parents before children
		if err := unix.Rmdir(dirs[i]); err != nil && err != unix.ENOENT {
			errs = append(errs, fmt.Errorf("cgroups: %w", &os.PathError{Op: "rmdir", Path: dirs[i], Err: err}))
		}
	}
	return len(pids), errors.Join(errs...)
}
