// Package reactor owns gosd's single event loop: epoll on Linux, kqueue on
// FreeBSD and darwin. It turns fds, signals, child exits and timers into
// manager events and performs the manager's effects.
package reactor
