package boot

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The mount helper stands in for mount(8), umount(8), swapon(8) and
// swapoff(8) where they are missing (a busybox or minimal microVM): the
// reactor runs "gosd mount-helper TOOL ARGS..." as a mount or swap unit's
// control process instead, with the command line the manager made for the
// tool, and the helper does the system call. It reads that command line
// only: "mount [-s] [-w] [-t TYPE] [-o OPTIONS] WHAT WHERE", "umount [-c]
// [-l] [-f] WHERE", "swapon [-p PRIORITY] [-o OPTIONS] WHAT", "swapoff
// WHAT". Exit status 32 is mount(8)'s "mount failure".

// MountCall is one mount(2) call: the options of mount(8) turned into
// flags (Linux MS_* values) and the rest passed as data, as mount(8)
// does for the common ones.
type MountCall struct {
	Source, Target, FSType string
	Flags                  uintptr
	Data                   string
	// Then is a second call mount(8) makes after the first: the
	// read-only (and nosuid, ...) remount of a bind mount, or the change
	// of propagation (private, shared, ...); Flags 0: none.
	Then uintptr
}

// Linux's MS_* values (sys/mount.h); the options are parsed on every
// system so that the parsing is testable everywhere.
const (
	msRdonly      = 0x1
	msNosuid      = 0x2
	msNodev       = 0x4
	msNoexec      = 0x8
	msSynchronous = 0x10
	msRemount     = 0x20
	msMandlock    = 0x40
	msDirsync     = 0x80
	msNosymfollow = 0x100
	msNoatime     = 0x400
	msNodiratime  = 0x800
	msBind        = 0x1000
	msRec         = 0x4000
	msSilent      = 0x8000
	msUnbindable  = 0x20000
	msPrivate     = 0x40000
	msSlave       = 0x80000
	msShared      = 0x100000
	msRelatime    = 0x200000
	msStrictatime = 0x1000000
	msLazytime    = 0x2000000
	// atimeMask: the atime options replace each other.
	atimeMask = msNoatime | msRelatime | msStrictatime
)

// mountFlagOptions: option -> flags it sets, and flags it clears.
var mountFlagOptions = map[string][2]uintptr{
	"ro": {msRdonly, 0}, "rw": {0, msRdonly},
	"nosuid": {msNosuid, 0}, "suid": {0, msNosuid},
	"nodev": {msNodev, 0}, "dev": {0, msNodev},
	"noexec": {msNoexec, 0}, "exec": {0, msNoexec},
	"sync": {msSynchronous, 0}, "async": {0, msSynchronous},
	"dirsync": {msDirsync, 0},
	"mand":    {msMandlock, 0}, "nomand": {0, msMandlock},
	"remount": {msRemount, 0},
	"bind":    {msBind, 0}, "rbind": {msBind | msRec, 0},
	"noatime": {msNoatime, atimeMask}, "relatime": {msRelatime, atimeMask},
	"strictatime": {msStrictatime, atimeMask}, "atime": {0, msNoatime},
	"norelatime": {0, msRelatime},
	"nodiratime": {msNodiratime, 0}, "diratime": {0, msNodiratime},
	"lazytime": {msLazytime, 0}, "nolazytime": {0, msLazytime},
	"silent": {msSilent, 0}, "loud": {0, msSilent},
	"nosymfollow": {msNosymfollow, 0}, "symfollow": {0, msNosymfollow},
}

// propagationOptions need a call of their own (mount(8) makes it).
var propagationOptions = map[string]uintptr{
	"private": msPrivate, "rprivate": msPrivate | msRec,
	"shared": msShared, "rshared": msShared | msRec,
	"slave": msSlave, "rslave": msSlave | msRec,
	"unbindable": msUnbindable, "runbindable": msUnbindable | msRec,
}

// userspaceOptions mean something to mount(8), fstab or systemd only:
// the kernel never sees them.
func userspaceOption(o string) bool {
	switch o {
	case "", "defaults", "auto", "noauto", "nofail", "user", "nouser", "users", "owner", "group", "_netdev":
		return true
	}
	return strings.HasPrefix(o, "x-") || strings.HasPrefix(o, "comment=")
}

// ParseMount turns a mount(8) command line's TYPE, OPTIONS, WHAT and
// WHERE into the mount(2) call(s) it makes.
func ParseMount(fstype, options, what, where string) (MountCall, error) {
	c := MountCall{Source: what, Target: where, FSType: fstype}
	var data []string
	var propagation uintptr
	for _, o := range strings.Split(options, ",") {
		if f, ok := mountFlagOptions[o]; ok {
			c.Flags = c.Flags&^f[1] | f[0]
			continue
		}
		if f, ok := propagationOptions[o]; ok {
			propagation = f
			continue
		}
		switch {
		case userspaceOption(o):
		case o == "loop" || strings.HasPrefix(o, "loop="):
			return c, fmt.Errorf("option %q needs losetup, which gosd's mount helper does not do", o)
		default:
			data = append(data, o)
		}
	}
	c.Data = strings.Join(data, ",")
	switch {
	case c.Flags&msBind != 0 && c.Flags&msRemount == 0:
		// A bind mount ignores every other flag: mount(8) applies them
		// with a remount of the new mount.
		if rest := c.Flags &^ (msBind | msRec); rest != 0 {
			c.Then = msRemount | msBind | rest
		}
		c.Flags &= msBind | msRec
		c.FSType, c.Data = "", ""
	case propagation != 0 && c.Flags == 0 && (what == "none" || what == ""):
		// Only a change of propagation: that is the one call.
		c.Flags, c.Source, c.FSType = propagation, "", ""
		return c, nil
	}
	if propagation != 0 {
		if c.Then != 0 {
			return c, fmt.Errorf("a propagation option with a bind mount's remount is not supported")
		}
		c.Then = propagation
	}
	if c.Flags&msRemount != 0 {
		c.Source, c.FSType = "", ""
	}
	return c, nil
}

// SwapFlags are swapon(2)'s flags for a priority (nil: the kernel's
// default) and swapon(8)'s options (discard, discard=once|pages, pri=N).
func SwapFlags(priority *int, options string) (int, error) {
	const (
		swapFlagPrefer      = 0x8000
		swapFlagPrioMask    = 0x7fff
		swapFlagDiscard     = 0x10000
		swapFlagDiscardOnce = 0x20000
		swapFlagDiscardPage = 0x40000
	)
	flags := 0
	for _, o := range strings.Split(options, ",") {
		switch {
		case o == "discard":
			flags |= swapFlagDiscard
		case o == "discard=once":
			flags |= swapFlagDiscard | swapFlagDiscardOnce
		case o == "discard=pages":
			flags |= swapFlagDiscard | swapFlagDiscardPage
		case strings.HasPrefix(o, "pri="):
			p, err := strconv.Atoi(strings.TrimPrefix(o, "pri="))
			if err != nil {
				return 0, fmt.Errorf("bad priority %q", o)
			}
			if priority == nil {
				priority = &p
			}
		}
	}
	if priority != nil && *priority >= 0 {
		flags |= swapFlagPrefer | (*priority & swapFlagPrioMask)
	}
	return flags, nil
}

// helperArgs is the parsed command line of a tool.
type helperArgs struct {
	flags map[string]string // "-t" -> "ext4"; "-l" -> ""
	args  []string
}

// parseHelperArgs reads options (withValue: those that take one) and the
// operands after them.
func parseHelperArgs(argv []string, withValue string) (helperArgs, error) {
	h := helperArgs{flags: map[string]string{}}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			h.args = append(h.args, argv[i+1:]...)
			break
		}
		if len(a) != 2 || a[0] != '-' {
			h.args = append(h.args, a)
			continue
		}
		if strings.IndexByte(withValue, a[1]) >= 0 {
			if i+1 >= len(argv) {
				return h, fmt.Errorf("%s needs a value", a)
			}
			h.flags[a] = argv[i+1]
			i++
			continue
		}
		h.flags[a] = ""
	}
	return h, nil
}

// MountHelper runs "gosd mount-helper TOOL ARGS..." and returns its exit
// status; what it did or why it failed goes to w (the unit's log).
func MountHelper(argv []string, w io.Writer) int {
	if len(argv) == 0 {
		fmt.Fprintln(w, "gosd mount-helper: no tool named")
		return 1
	}
	tool, rest := argv[0], argv[1:]
	fail := func(err error) int {
		fmt.Fprintf(w, "gosd mount-helper (%s(2)): %v\n", tool, err)
		return 32
	}
	switch tool {
	case "mount":
		h, err := parseHelperArgs(rest, "to")
		if err != nil {
			return fail(err)
		}
		if len(h.args) != 2 {
			return fail(fmt.Errorf("want WHAT WHERE, got %q", h.args))
		}
		c, err := ParseMount(h.flags["-t"], h.flags["-o"], h.args[0], h.args[1])
		if err != nil {
			return fail(err)
		}
		if err := doMount(c); err != nil {
			return fail(fmt.Errorf("%s on %s: %w", c.Source, c.Target, err))
		}
		fmt.Fprintf(w, "gosd mount-helper: mounted %s on %s with mount(2) (type %q, flags %#x, data %q)\n",
			h.args[0], c.Target, c.FSType, c.Flags, c.Data)
	case "umount":
		h, err := parseHelperArgs(rest, "")
		if err != nil {
			return fail(err)
		}
		if len(h.args) != 1 {
			return fail(fmt.Errorf("want WHERE, got %q", h.args))
		}
		_, lazy := h.flags["-l"]
		_, force := h.flags["-f"]
		if err := doUnmount(h.args[0], lazy, force); err != nil {
			return fail(fmt.Errorf("%s: %w", h.args[0], err))
		}
		fmt.Fprintf(w, "gosd mount-helper: unmounted %s with umount2(2)\n", h.args[0])
	case "swapon":
		h, err := parseHelperArgs(rest, "po")
		if err != nil {
			return fail(err)
		}
		if len(h.args) != 1 {
			return fail(fmt.Errorf("want WHAT, got %q", h.args))
		}
		var prio *int
		if p, ok := h.flags["-p"]; ok {
			n, err := strconv.Atoi(p)
			if err != nil {
				return fail(fmt.Errorf("bad priority %q", p))
			}
			prio = &n
		}
		flags, err := SwapFlags(prio, h.flags["-o"])
		if err != nil {
			return fail(err)
		}
		if err := doSwapon(h.args[0], flags); err != nil {
			return fail(fmt.Errorf("%s: %w", h.args[0], err))
		}
		fmt.Fprintf(w, "gosd mount-helper: swap on %s with swapon(2) (flags %#x)\n", h.args[0], flags)
	case "swapoff":
		if len(rest) != 1 {
			return fail(fmt.Errorf("want WHAT, got %q", rest))
		}
		if err := swapoff(rest[0]); err != nil {
			return fail(fmt.Errorf("%s: %w", rest[0], err))
		}
		fmt.Fprintf(w, "gosd mount-helper: swap off %s with swapoff(2)\n", rest[0])
	default:
		fmt.Fprintf(w, "gosd mount-helper: unknown tool %q\n", tool)
		return 1
	}
	return 0
}
