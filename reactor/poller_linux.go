package reactor

import (
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// epollPoller: epoll_create1(EPOLL_CLOEXEC), level-triggered, with an
// eventfd(EFD_CLOEXEC|EFD_NONBLOCK) as the wake-up.
type epollPoller struct {
	epfd, wakefd int
	events       [256]unix.EpollEvent
}

func newPoller() (poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	p := &epollPoller{epfd: epfd, wakefd: wakefd}
	if err := p.add(wakefd); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *epollPoller) add(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

func (p *epollPoller) addPri(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLPRI, Fd: int32(fd)}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

func (p *epollPoller) del(fd int) error {
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

func (p *epollPoller) watchProcess(pid int) {}

func (p *epollPoller) wait(timeout time.Duration, ready []int) ([]int, bool, bool, error) {
	n, err := unix.EpollWait(p.epfd, p.events[:], epollTimeout(timeout))
	if err != nil {
		if err == unix.EINTR {
			return ready, false, false, nil
		}
		return ready, false, false, err
	}
	woken := false
	for _, ev := range p.events[:n] {
		fd := int(ev.Fd)
		if fd == p.wakefd {
			var buf [8]byte
			unix.Read(p.wakefd, buf[:])
			woken = true
			continue
		}
		ready = append(ready, fd)
	}
	return ready, woken, false, nil
}

func (p *epollPoller) wake() {
	one := [8]byte{1}
	unix.Write(p.wakefd, one[:])
}

func (p *epollPoller) close() {
	unix.Close(p.wakefd)
	unix.Close(p.epfd)
}

// epollTimeout is epoll_wait's timeout in ms for a wait of d (-1: none).
// It rounds up, so a deadline is never reported early and re-waited in a
// spin, and stays within an int32: the kernel keeps the low 32 bits, so a
// deadline 25-50 days away (a monthly timer) would otherwise become a
// negative timeout, a wait for ever.
func epollTimeout(d time.Duration) int {
	switch {
	case d < 0:
		return -1
	case d >= math.MaxInt32*time.Millisecond:
		return math.MaxInt32
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}
