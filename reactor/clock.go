package reactor

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"gosd/manager"
	"gosd/unitfile"
)

// The wall clock for timer units (manager.ClockSet): reported at start and
// whenever it is set. On Linux a timerfd with TFD_TIMER_CANCEL_ON_SET
// (clockWatch) tells of every settimeofday/clock_settime, NTP steps
// included, without a wake-up otherwise; elsewhere a jump is only seen at
// the next restart or daemon-reexec (calendar timers keep their monotonic
// deadline until then).

// DefaultTimerStampDir is where Persistent= timers keep their last trigger,
// as systemd does: the mtime of stamp-NAME.timer.
const DefaultTimerStampDir = "/var/lib/systemd/timers"

type clockSource struct{}

// clockSet is the ClockSet to feed now: the wall clock, the monotonic time
// of the boot on the reactor's clock (CLOCK_MONOTONIC is time since boot,
// the clock systemd's OnBootSec= counts on) and the machine id.
func (r *Reactor) clockSet() manager.ClockSet {
	c := manager.ClockSet{Realtime: time.Now().Round(0)}
	// The local zone is loaded (from /etc/localtime or $TZ) on its first
	// use: here, so that no Step of the manager reads a file.
	c.Realtime.Zone()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
		c.Boot = min(r.Now()-time.Duration(ts.Nano()), 0)
	}
	if b, err := os.ReadFile("/etc/machine-id"); err == nil {
		c.MachineID = strings.TrimSpace(string(b))
	}
	return c
}

// onClockChanged re-arms the watch and reports the new wall clock.
func (r *Reactor) onClockChanged(fd int) {
	if !rearmClockWatch(fd) {
		r.removeSource(fd)
		unix.Close(fd)
		r.logf("", "wall clock changes are no longer followed")
	}
	r.logAt("", unitfile.Pos{}, manager.LevelInfo, "Wall clock changed, re-planning calendar timers")
	r.Feed(r.clockSet())
}

func (r *Reactor) stampPath(unit string) string {
	dir := r.cfg.TimerStampDir
	if dir == "" {
		dir = DefaultTimerStampDir
	}
	return filepath.Join(dir, "stamp-"+unit)
}

// readStamp is a Persistent= timer's last trigger: zero without a stamp.
// A missing stamp is created with the time now, as systemd's timer_start
// does, so that an elapse missed before the next boot is caught up then.
func (r *Reactor) readStamp(unit string) manager.TimerStamp {
	st := manager.TimerStamp{Unit: unit}
	fi, err := os.Lstat(r.stampPath(unit))
	switch {
	case err == nil && fi.Mode().IsRegular():
		st.Last = fi.ModTime()
	case os.IsNotExist(err):
		r.writeStamp(unit, time.Now())
	}
	return st
}

func (r *Reactor) writeStamp(unit string, at time.Time) {
	p := r.stampPath(unit)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.logf(unit, "timer stamp: %v", err)
		return
	}
	// O_NOFOLLOW and the time set on the open fd: a symbolic link
	// planted at the stamp's name is never followed.
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		r.logf(unit, "timer stamp %s: %v", p, err)
		return
	}
	defer unix.Close(fd)
	tv := []unix.Timeval{unix.NsecToTimeval(at.UnixNano()), unix.NsecToTimeval(at.UnixNano())}
	if err := unix.Futimes(fd, tv); err != nil {
		r.logf(unit, "timer stamp %s: %v", p, err)
	}
}
