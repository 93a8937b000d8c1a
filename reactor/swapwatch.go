package reactor

import (
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"gosd/internal/mountinfo"
	"gosd/manager"
)

// The swap table, followed for swap units (manager/swap.go): as the mount
// table, /proc/swaps signals POLLPRI after every swapon and swapoff, and
// reading it through the same fd takes the signal back. Each change is
// fed as the swaps that came and went; the first report, at start, lists
// every swap on then.

// swapsSource marks the /proc/swaps fd in r.sources.
type swapsSource struct{}

func (r *Reactor) openSwapWatch() {
	fd, err := unix.Open("/proc/swaps", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	if err := r.poll.addPri(fd); err != nil {
		unix.Close(fd)
		return
	}
	r.sources[fd] = swapsSource{}
	r.swapFD = fd
	r.swaps = map[string]bool{}
	r.onSwapsChanged()
}

func (r *Reactor) closeSwapWatch() { r.closeSource(&r.swapFD) }

// onSwapsChanged reads /proc/swaps through the watched fd and feeds what
// changed.
func (r *Reactor) onSwapsChanged() {
	text, err := readAllAt(r.swapFD)
	if err != nil {
		r.logf("", "reading /proc/swaps: %v", err)
		return
	}
	now := parseSwapTable(text)
	var ev manager.SwapsChanged
	for what, sw := range now {
		if !r.swaps[what] {
			ev.Added = append(ev.Added, sw)
		}
	}
	for what := range r.swaps {
		if _, ok := now[what]; !ok {
			ev.Removed = append(ev.Removed, what)
		}
	}
	if len(ev.Added)+len(ev.Removed) == 0 {
		return
	}
	for _, a := range ev.Added {
		r.swaps[a.What] = true
	}
	for _, w := range ev.Removed {
		delete(r.swaps, w)
	}
	slices.SortFunc(ev.Added, func(a, b manager.SwapDevice) int { return strings.Compare(a.What, b.What) })
	slices.Sort(ev.Removed)
	r.Feed(ev)
}

// parseSwapTable reads /proc/swaps: "Filename Type Size Used Priority"
// after a header line, names with the kernel's octal escapes.
func parseSwapTable(text string) map[string]manager.SwapDevice {
	out := map[string]manager.SwapDevice{}
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 5 {
			continue
		}
		prio, _ := strconv.Atoi(f[4])
		what := mountinfo.Unescape(f[0])
		out[what] = manager.SwapDevice{What: what, Type: f[1], Priority: prio}
	}
	return out
}
