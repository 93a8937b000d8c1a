//go:build freebsd || darwin

package reactor

import (
	"time"

	"golang.org/x/sys/unix"
)

// kqueuePoller: EVFILT_READ for fds, EVFILT_USER as the wake-up,
// EVFILT_PROC/NOTE_EXIT as a child-exit wake source.
type kqueuePoller struct {
	kq     int
	events [256]unix.Kevent_t
}

const wakeIdent = 0

func newPoller() (poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(kq)
	p := &kqueuePoller{kq: kq}
	var ev unix.Kevent_t
	unix.SetKevent(&ev, wakeIdent, unix.EVFILT_USER, unix.EV_ADD|unix.EV_CLEAR)
	if err := p.change(ev); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return p, nil
}

func (p *kqueuePoller) change(ev unix.Kevent_t) error {
	_, err := unix.Kevent(p.kq, []unix.Kevent_t{ev}, nil, nil)
	return err
}

func (p *kqueuePoller) addPri(fd int) error { return unix.EOPNOTSUPP }

func (p *kqueuePoller) add(fd int) error {
	var ev unix.Kevent_t
	unix.SetKevent(&ev, fd, unix.EVFILT_READ, unix.EV_ADD)
	return p.change(ev)
}

func (p *kqueuePoller) del(fd int) error {
	var ev unix.Kevent_t
	unix.SetKevent(&ev, fd, unix.EVFILT_READ, unix.EV_DELETE)
	return p.change(ev)
}

func (p *kqueuePoller) watchProcess(pid int) {
	var ev unix.Kevent_t
	unix.SetKevent(&ev, pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
	ev.Fflags = unix.NOTE_EXIT
	// ESRCH: it already exited; the SIGCHLD wake reaps it.
	p.change(ev)
}

func (p *kqueuePoller) wait(timeout time.Duration, ready []int) ([]int, bool, bool, error) {
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, p.events[:], ts)
	if err != nil {
		if err == unix.EINTR {
			return ready, false, false, nil
		}
		return ready, false, false, err
	}
	woken, exited := false, false
	for _, ev := range p.events[:n] {
		switch ev.Filter {
		case unix.EVFILT_USER:
			woken = true
		case unix.EVFILT_PROC:
			exited = true
		default:
			ready = append(ready, int(ev.Ident))
		}
	}
	return ready, woken, exited, nil
}

func (p *kqueuePoller) wake() {
	var ev unix.Kevent_t
	unix.SetKevent(&ev, wakeIdent, unix.EVFILT_USER, 0)
	ev.Fflags = unix.NOTE_TRIGGER
	p.change(ev)
}

func (p *kqueuePoller) close() { unix.Close(p.kq) }
