package reactor

import "golang.org/x/sys/unix"

// openClockWatch returns a timerfd that becomes readable (its read fails
// with ECANCELED) when the wall clock is set, or -1.
func openClockWatch() int {
	fd, err := unix.TimerfdCreate(unix.CLOCK_REALTIME, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return -1
	}
	if !rearmClockWatch(fd) {
		unix.Close(fd)
		return -1
	}
	return fd
}

// rearmClockWatch drains the fd and arms it again: an absolute deadline
// that never comes, cancelled by the kernel when the clock is set.
func rearmClockWatch(fd int) bool {
	var buf [8]byte
	unix.Read(fd, buf[:])
	spec := unix.ItimerSpec{Value: unix.Timespec{Sec: 1 << 62}}
	return unix.TimerfdSettime(fd, unix.TFD_TIMER_ABSTIME|unix.TFD_TIMER_CANCEL_ON_SET, &spec, nil) == nil
}
