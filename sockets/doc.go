// Package sockets creates and configures the listening sockets of socket
// units, builds the fd-passing environment and receives sd_notify
// datagrams.
//
// Listening sockets (systemd.socket(5)): Open creates every Listen*= fd of
// a unit in order, close-on-exec and non-blocking: stream, datagram and
// seqpacket sockets on IPv4, IPv6, port-only dual stack (falling back to
// IPv4 when the kernel has no IPv6), unix paths and abstract names, vsock
// and netlink; FIFOs, special files and POSIX message queues. Options that
// systemd sets before bind(2) (BindIPv6Only=, FreeBind=, Transparent=,
// ReusePort=, BindToDevice=) fail the unit when refused; the options it
// sets afterwards only produce warnings (Set.Warnings), as systemd only
// logs them. Options a platform lacks report "not supported on <os>".
// SocketMode= is applied exactly (chmod after bind/mkfifo), not masked by
// the umask.
//
// Fd passing (sd_listen_fds(3)): ListenEnv gives LISTEN_FDS and
// LISTEN_FDNAMES; LISTEN_PID is the exec layer's job because only the
// child knows its pid. Accept serves Accept=yes units and forms the
// per-connection instance name exactly as systemd 252 does.
//
// sd_notify (sd_notify(3)): ListenNotify creates the NOTIFY_SOCKET and
// Receive reads one datagram with the sender's kernel-verified
// credentials and any passed fds. On FreeBSD and darwin ListenNotify
// returns "credentials unsupported": the pid of a datagram's sender is not
// available there in a form x/sys decodes.
package sockets
