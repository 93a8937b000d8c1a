package reactor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gosd/exec"
	"gosd/internal/mountinfo"
	"gosd/manager"
	"gosd/unitfile"
)

// probeMount carries out ProbeMount (the reactor's hook of manager/mount.go):
// whether the mount point is mounted now, by /proc/self/mountinfo (the
// mount table on systems without it); when it is not, the directory is
// made for mount(8), as systemd makes it (mkdir -p, DirectoryMode=).
func (r *Reactor) probeMount(e manager.ProbeMount) manager.MountProbed {
	res := manager.MountProbed{Unit: e.Unit}
	if mounts, err := mountinfo.Read(); err == nil {
		for _, m := range mounts {
			if m.Point == e.Where && m.FSType != "autofs" {
				res.Mounted = true
				return res
			}
		}
	}
	res.Err = os.MkdirAll(e.Where, os.FileMode(e.DirectoryMode))
	return res
}

// probeSwap carries out ProbeSwap (the reactor's hook of manager/swap.go):
// whether the device or file is in /proc/swaps, names compared after
// following symbolic links (/dev/disk/by-uuid/... is /dev/vdb2 there).
func (r *Reactor) probeSwap(e manager.ProbeSwap) manager.SwapProbed {
	res := manager.SwapProbed{Unit: e.Unit}
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return res
	}
	want := e.What
	if p, err := filepath.EvalSymlinks(want); err == nil {
		want = p
	}
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) == 0 {
			continue // the header
		}
		if mountinfo.Unescape(f[0]) == want {
			res.Active = true
		}
	}
	return res
}

// mountTools are the programs a mount or swap unit runs as its control
// process; gosd's mount helper does their system call where they are
// missing (boot.MountHelper).
var mountTools = map[string]bool{"mount": true, "umount": true, "swapon": true, "swapoff": true}

// mountTool makes a mount or swap unit's control process the mount helper
// ("gosd mount-helper TOOL ARGS...", the same command line) when the tool
// is not in the unit's search path, and says in the log which was used.
func (r *Reactor) mountTool(s *manager.Spawn) {
	if s.Role != "control" || !mountTools[s.Cmd.Path] || len(s.Cmd.Argv) == 0 ||
		!(strings.HasSuffix(s.Unit, ".mount") || strings.HasSuffix(s.Unit, ".swap")) {
		return
	}
	var ec *unitfile.ExecContext
	if s.Exec != nil {
		ec = s.Exec
	}
	tool := s.Cmd.Path
	// Said at info when it changes (the first use, a tool installed or
	// gone since), at debug for every other use.
	say := func(how, msg string) {
		lvl := manager.LevelDebug
		if r.toolPaths[tool] != how {
			r.toolPaths[tool] = how
			lvl = manager.LevelInfo
		}
		r.logAt(s.Unit, s.Cmd.Pos, lvl, msg)
	}
	if p, err := exec.Resolve(tool, ec); err == nil {
		say(p, fmt.Sprintf("Using %s(8): %s", tool, p))
		return
	}
	self, err := os.Executable()
	if err != nil {
		self = "/proc/self/exe"
	}
	say("mount-helper", fmt.Sprintf("%s(8) not found: using the %s(2) system call (gosd mount-helper)", tool, syscallOf[tool]))
	cmd := s.Cmd
	cmd.Path = self
	cmd.Argv = append([]string{"gosd", "mount-helper"}, s.Cmd.Argv...)
	s.Cmd = cmd
}

var syscallOf = map[string]string{"mount": "mount", "umount": "umount2", "swapon": "swapon", "swapoff": "swapoff"}
