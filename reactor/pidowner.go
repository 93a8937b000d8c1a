package reactor

import (
	"strconv"

	"gosd/manager"
)

// pidOwner finds out what the manager needs to judge a pid a service
// names as its main process (manager.PidOwner): whether it is gosd, gone,
// and which unit holds it. With cgroups the pid's cgroup names the unit;
// without, the unit whose process leads the pid's process group or
// session, or the first of its ancestors that is a process of a unit (a
// daemon that left its session and was re-parented to gosd is then of no
// unit: only a privileged source may name it).
func (r *Reactor) pidOwner(pid int) manager.PidOwner {
	o := manager.PidOwner{Pid: pid}
	if pid <= 1 || pid == r.selfPid {
		o.Manager = true
		return o
	}
	st, ok := readProcStat(pid)
	if !ok || st.zombie {
		o.Gone = true
		return o
	}
	if r.cg != nil {
		o.Unit, _ = r.cg.UnitOf(pid)
		return o
	}
	o.Unit = r.treeOwner(pid, st)
	return o
}

// maxAncestors bounds the walk up a process's parents.
const maxAncestors = 64

func (r *Reactor) treeOwner(pid int, st procStat) string {
	for _, p := range []int{pid, st.pgrp, st.session} {
		if pr := r.procs[p]; pr != nil && p > 0 {
			return pr.unit
		}
	}
	for unit, groups := range r.groups {
		if (st.pgrp > 1 && groups[st.pgrp]) || (st.session > 1 && groups[st.session]) {
			return unit
		}
	}
	ppid := st.ppid
	for i := 0; i < maxAncestors && ppid > 1 && ppid != r.selfPid; i++ {
		if pr := r.procs[ppid]; pr != nil {
			return pr.unit
		}
		pst, ok := readProcStat(ppid)
		if !ok {
			break
		}
		ppid = pst.ppid
	}
	return ""
}

// procStat is what gosd reads of a process's state.
type procStat struct {
	zombie              bool
	ppid, pgrp, session int
}

// lastMainPID is the value of the last MAINPID= field, 0 when none is a pid.
func lastMainPID(fields [][2]string) int {
	for i := len(fields) - 1; i >= 0; i-- {
		if fields[i][0] == "MAINPID" {
			n, err := strconv.Atoi(fields[i][1])
			if err != nil || n <= 0 {
				return 0
			}
			return n
		}
	}
	return 0
}
