package sockets

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"gosd/unitfile"
)

// defaultBacklog is used when Backlog= is unset (0). Linux clamps any
// listen(2) backlog to net.core.somaxconn, 4096 on current kernels.
const defaultBacklog = 4096

// Set is the open listening fds of one socket unit, in Listen*= order.
type Set struct {
	fds      []int
	names    []string
	paths    []string // socket files and FIFOs this Set created, for RemoveOnStop=
	mqueues  []string // message queue names, for RemoveOnStop=
	symlinks []string // Symlinks= created
	warnings []string
}

// FDs returns the listening fds in Listen*= order; they are passed to the
// service at fd 3, 4, ... in this order.
func (s *Set) FDs() []int { return s.fds }

// Names returns one LISTEN_FDNAMES entry per fd: FileDescriptorName= or,
// when unset, the socket unit's name (systemd.socket(5)).
func (s *Set) Names() []string { return s.names }

// Warnings returns the problems that systemd only logs: socket options the
// kernel or platform refused and symlinks that could not be created. Each
// names the Listen line or setting.
func (s *Set) Warnings() []string { return s.warnings }

// Close closes every fd. With removeOnStop (RemoveOnStop=yes) it also
// removes the socket files, FIFOs, message queues and Symlinks= it created;
// without it they stay, as systemd.socket(5) describes, so a restarted
// service that still holds an fd keeps working.
func (s *Set) Close(removeOnStop bool) error {
	var errs []error
	for _, fd := range s.fds {
		if err := unix.Close(fd); err != nil {
			errs = append(errs, err)
		}
	}
	s.fds = nil
	if removeOnStop {
		for _, p := range append(s.paths, s.symlinks...) {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		for _, q := range s.mqueues {
			if err := mqUnlink(q); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("mq_unlink %s: %w", q, err))
			}
		}
		s.paths, s.symlinks, s.mqueues = nil, nil, nil
	}
	return errors.Join(errs...)
}

// Open creates every listening fd of a socket unit, in Listen*= order,
// close-on-exec and non-blocking, configured as systemd.socket(5) says. On
// failure it closes what it opened and the error names the Listen line.
// Option failures that systemd only logs are in Warnings.
func Open(unit string, s *unitfile.Socket) (*Set, error) {
	set := &Set{}
	name := s.FileDescriptorName
	if name == "" {
		name = unit
	}
	uid, gid, err := socketOwner(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", unit, err)
	}
	for i := range s.Listen {
		l := &s.Listen[i]
		fd, err := openOne(set, l, s, uid, gid)
		if err != nil {
			set.Close(false)
			return nil, fmt.Errorf("%s: Listen%s=%s: %w", l.Pos, l.Kind, l.Address, err)
		}
		set.fds = append(set.fds, fd)
		set.names = append(set.names, name)
	}
	set.makeSymlinks(s)
	return set, nil
}

// makeSymlinks creates Symlinks=. systemd.socket(5): only allowed when the
// unit has exactly one AF_UNIX path socket or FIFO; failures are logged only.
func (set *Set) makeSymlinks(s *unitfile.Socket) {
	if len(s.Symlinks) == 0 {
		return
	}
	if len(set.paths) != 1 {
		set.warnings = append(set.warnings, "Symlinks= ignored: the unit must have exactly one socket file or FIFO")
		return
	}
	target := set.paths[0]
	for _, link := range s.Symlinks {
		_ = os.MkdirAll(filepath.Dir(link), os.FileMode(s.DirectoryMode))
		err := os.Symlink(target, link)
		if errors.Is(err, os.ErrExist) {
			if cur, rerr := os.Readlink(link); rerr == nil && cur == target {
				err = nil // already right: idempotent, as systemd
			} else if s.RemoveOnStop && os.Remove(link) == nil {
				err = os.Symlink(target, link)
			}
		}
		if err != nil {
			set.warnings = append(set.warnings, fmt.Sprintf("Symlinks=%s: %v", link, err))
			continue
		}
		set.symlinks = append(set.symlinks, link)
	}
}

func openOne(set *Set, l *unitfile.Listen, s *unitfile.Socket, uid, gid int) (int, error) {
	switch l.Kind {
	case unitfile.ListenStream, unitfile.ListenDatagram, unitfile.ListenSequentialPacket:
		return openSocket(set, l, s, uid, gid)
	case unitfile.ListenNetlink:
		return openSocket(set, l, s, uid, gid)
	case unitfile.ListenFIFO:
		return openFIFO(set, l, s, uid, gid)
	case unitfile.ListenSpecial:
		return openSpecial(l, s)
	case unitfile.ListenMessageQueue:
		return openMessageQueue(set, l, s, uid, gid)
	case unitfile.ListenUSBFunction:
		return -1, errors.New("USB FunctionFS endpoints are not supported by gosd")
	}
	return -1, fmt.Errorf("unknown listen kind %q", l.Kind)
}

func sockType(k unitfile.ListenKind) int {
	switch k {
	case unitfile.ListenDatagram:
		return unix.SOCK_DGRAM
	case unitfile.ListenSequentialPacket:
		return unix.SOCK_SEQPACKET
	case unitfile.ListenNetlink:
		return unix.SOCK_RAW
	}
	return unix.SOCK_STREAM
}

// address resolves a Listen line to a socket domain and address.
func address(l *unitfile.Listen) (domain, proto int, sa unix.Sockaddr, err error) {
	if l.Kind == unitfile.ListenNetlink {
		return netlinkAddress(l)
	}
	switch l.Family {
	case "inet":
		if l.Port < 0 || l.Port > 65535 {
			return 0, 0, nil, fmt.Errorf("port %d out of range", l.Port)
		}
		if l.Host == "" {
			// Port-only: [::]:port; the caller falls back to 0.0.0.0 when
			// the kernel has no IPv6 (systemd.socket(5) ListenStream=).
			return unix.AF_INET6, 0, &unix.SockaddrInet6{Port: l.Port}, nil
		}
		ip, err := netip.ParseAddr(l.Host)
		if err != nil {
			return 0, 0, nil, fmt.Errorf("bad IP address %q", l.Host)
		}
		if ip.Is4() {
			return unix.AF_INET, 0, &unix.SockaddrInet4{Port: l.Port, Addr: ip.As4()}, nil
		}
		sa6 := &unix.SockaddrInet6{Port: l.Port, Addr: ip.As16()}
		if z := ip.Zone(); z != "" {
			if sa6.ZoneId, err = zoneIndex(z); err != nil {
				return 0, 0, nil, err
			}
		}
		return unix.AF_INET6, 0, sa6, nil
	case "unix":
		if l.Path == "" {
			return 0, 0, nil, errors.New("empty socket path")
		}
		if l.Abstract {
			if !abstractSupported {
				return 0, 0, nil, fmt.Errorf("abstract sockets are not supported on %s", runtime.GOOS)
			}
			// x/sys turns a leading '@' into the NUL that marks the
			// abstract namespace.
			return unix.AF_UNIX, 0, &unix.SockaddrUnix{Name: "@" + l.Path}, nil
		}
		return unix.AF_UNIX, 0, &unix.SockaddrUnix{Name: l.Path}, nil
	case "vsock":
		return vsockAddress(l)
	}
	return 0, 0, nil, fmt.Errorf("unknown address family %q", l.Family)
}

func zoneIndex(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, fmt.Errorf("IPv6 zone %q: %w", zone, err)
	}
	return uint32(ifi.Index), nil
}

func openSocket(set *Set, l *unitfile.Listen, s *unitfile.Socket, uid, gid int) (int, error) {
	domain, proto, sa, err := address(l)
	if err != nil {
		return -1, err
	}
	typ := sockType(l.Kind)
	fd, err := newSocket(domain, typ, proto)
	if err != nil && l.Family == "inet" && l.Host == "" && errors.Is(err, unix.EAFNOSUPPORT) {
		domain, sa = unix.AF_INET, &unix.SockaddrInet4{Port: l.Port}
		fd, err = newSocket(domain, typ, 0)
	}
	if err != nil {
		return -1, socketError(domain, err)
	}
	if err := prepareAndBind(set, fd, domain, typ, sa, l, s, uid, gid); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// prepareAndBind sets the options that must precede bind(2) (failures are
// fatal, as in systemd), binds, listens and applies the remaining options
// (failures are warnings, as in systemd).
func prepareAndBind(set *Set, fd, domain, typ int, sa unix.Sockaddr, l *unitfile.Listen, s *unitfile.Socket, uid, gid int) error {
	if domain == unix.AF_INET6 {
		switch s.BindIPv6Only {
		case "both":
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
				return fmt.Errorf("IPV6_V6ONLY: %w", err)
			}
		case "ipv6-only":
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
				return fmt.Errorf("IPV6_V6ONLY: %w", err)
			}
		case "", "default":
			// the kernel's default (net.ipv6.bindv6only)
		default:
			return fmt.Errorf("bad BindIPv6Only=%q", s.BindIPv6Only)
		}
	}
	inet := domain == unix.AF_INET || domain == unix.AF_INET6
	if inet && s.FreeBind {
		if err := setOpt(fd, freeBindOpt(domain), 1); err != nil {
			return fmt.Errorf("FreeBind=: %w", err)
		}
	}
	if inet && s.Transparent {
		if err := setOpt(fd, transparentOpt(domain), 1); err != nil {
			return fmt.Errorf("Transparent=: %w", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if s.ReusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fmt.Errorf("ReusePort=: %w", err)
		}
	}
	if s.BindToDevice != "" && domain != unix.AF_UNIX {
		if err := bindToDevice(fd, s.BindToDevice); err != nil {
			return fmt.Errorf("BindToDevice=%s: %w", s.BindToDevice, err)
		}
	}
	if domain == unix.AF_UNIX && !l.Abstract {
		if err := bindUnixPath(set, fd, sa, l.Path, s, uid, gid); err != nil {
			return err
		}
	} else if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if typ == unix.SOCK_STREAM || typ == unix.SOCK_SEQPACKET {
		backlog := s.Backlog
		if backlog <= 0 {
			backlog = defaultBacklog
		}
		if err := unix.Listen(fd, backlog); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	for _, w := range applyOptions(fd, domain, s) {
		set.warnings = append(set.warnings, fmt.Sprintf("%s: %s", l.Pos, w))
	}
	return nil
}

// bindUnixPath binds a socket file: parents are made with DirectoryMode=, a
// stale socket file left by an earlier run is removed (systemd unlinks and
// retries on EADDRINUSE; we only remove sockets, never other files), then the
// file gets SocketMode= and SocketUser=/SocketGroup=.
func bindUnixPath(set *Set, fd int, sa unix.Sockaddr, path string, s *unitfile.Socket, uid, gid int) error {
	if err := os.MkdirAll(filepath.Dir(path), os.FileMode(s.DirectoryMode)); err != nil {
		return err
	}
	err := unix.Bind(fd, sa)
	if errors.Is(err, unix.EADDRINUSE) {
		if fi, serr := os.Lstat(path); serr == nil && fi.Mode()&os.ModeSocket != 0 {
			if os.Remove(path) == nil {
				err = unix.Bind(fd, sa)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("bind %s: %w", path, err)
	}
	set.paths = append(set.paths, path)
	// bind(2) applied the umask; SocketMode= is meant exactly.
	if err := os.Chmod(path, os.FileMode(s.SocketMode&0o7777)); err != nil {
		return err
	}
	if uid >= 0 || gid >= 0 {
		if err := os.Lchown(path, uid, gid); err != nil {
			return fmt.Errorf("SocketUser=/SocketGroup=: %w", err)
		}
	}
	return nil
}

// socketOwner resolves SocketUser= and SocketGroup= (names or numbers);
// -1 means unchanged.
func socketOwner(s *unitfile.Socket) (uid, gid int, err error) {
	uid, gid = -1, -1
	if s.SocketUser != "" {
		if n, perr := strconv.Atoi(s.SocketUser); perr == nil && n >= 0 {
			uid = n
		} else {
			u, lerr := user.Lookup(s.SocketUser)
			if lerr != nil {
				return -1, -1, fmt.Errorf("SocketUser=%s: %w", s.SocketUser, lerr)
			}
			uid, _ = strconv.Atoi(u.Uid)
			if s.SocketGroup == "" {
				// systemd uses the user's primary group when only
				// SocketUser= is given.
				gid, _ = strconv.Atoi(u.Gid)
			}
		}
	}
	if s.SocketGroup != "" {
		if n, perr := strconv.Atoi(s.SocketGroup); perr == nil && n >= 0 {
			gid = n
		} else {
			g, lerr := user.LookupGroup(s.SocketGroup)
			if lerr != nil {
				return -1, -1, fmt.Errorf("SocketGroup=%s: %w", s.SocketGroup, lerr)
			}
			gid, _ = strconv.Atoi(g.Gid)
		}
	}
	return uid, gid, nil
}

// openFIFO makes (or reuses) a FIFO and opens it O_RDWR, so that it never
// reports EOF when writers come and go.
func openFIFO(set *Set, l *unitfile.Listen, s *unitfile.Socket, uid, gid int) (int, error) {
	if l.Path == "" {
		return -1, errors.New("empty FIFO path")
	}
	if err := os.MkdirAll(filepath.Dir(l.Path), os.FileMode(s.DirectoryMode)); err != nil {
		return -1, err
	}
	// An existing FIFO is reused, as systemd does.
	if err := unix.Mkfifo(l.Path, s.SocketMode&0o777); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("mkfifo: %w", err)
	}
	fd, err := unix.Open(l.Path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, fmt.Errorf("open: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		unix.Close(fd)
		return -1, fmt.Errorf("%s exists and is not a FIFO", l.Path)
	}
	set.paths = append(set.paths, l.Path)
	// mkfifo(2) applied the umask; SocketMode= is meant exactly.
	err = unix.Fchmod(fd, s.SocketMode&0o7777)
	if err == nil && (uid >= 0 || gid >= 0) {
		err = unix.Fchown(fd, uid, gid)
	}
	if err == nil && s.PipeSize > 0 {
		if perr := setPipeSize(fd, s.PipeSize); perr != nil {
			set.warnings = append(set.warnings, fmt.Sprintf("%s: PipeSize=: %v", l.Pos, perr))
		}
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// openSpecial opens a character device or a /proc or /sys file, read-only
// unless Writable=yes (systemd.socket(5) ListenSpecial=).
func openSpecial(l *unitfile.Listen, s *unitfile.Socket) (int, error) {
	flags := unix.O_RDONLY
	if s.Writable {
		flags = unix.O_RDWR
	}
	fd, err := unix.Open(l.Path, flags|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, fmt.Errorf("open: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if m := st.Mode & unix.S_IFMT; m != unix.S_IFREG && m != unix.S_IFCHR {
		unix.Close(fd)
		return -1, fmt.Errorf("%s is neither a character device nor a regular file", l.Path)
	}
	return fd, nil
}

// SavedSet is a Set as values, for handing its fds to a re-executed gosd
// (daemon-reexec): the fds stay open across the exec.
type SavedSet struct {
	FDs      []int
	Names    []string
	Paths    []string
	MQueues  []string
	Symlinks []string
}

// Save returns the Set as values.
func (s *Set) Save() SavedSet {
	return SavedSet{FDs: s.fds, Names: s.names, Paths: s.paths, MQueues: s.mqueues, Symlinks: s.symlinks}
}

// RestoreSet makes a Set from fds inherited across an exec.
func RestoreSet(v SavedSet) *Set {
	return &Set{fds: v.FDs, names: v.Names, paths: v.Paths, mqueues: v.MQueues, symlinks: v.Symlinks}
}
