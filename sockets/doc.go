// Package sockets creates and configures the listening sockets of socket
// units, builds the fd-passing environment (LISTEN_FDS, LISTEN_FDNAMES,
// LISTEN_PID) and receives and parses sd_notify datagrams.
package sockets
