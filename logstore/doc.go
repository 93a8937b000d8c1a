// Package logstore keeps gosd's own log when no systemd-journald runs: one
// bounded in-memory store of entries (realtime and monotonic timestamps,
// priority, unit, pid, identifier, message) shared by every unit, an
// optional size-capped persistent log of rotated files under
// /var/log/gosd written by one goroutine off the reactor, per-source rate
// limits as journald applies them, and the parsers for what arrives on
// the sockets gosd serves in journald's place: syslog datagrams (RFC 3164
// and RFC 5424, /dev/log) and journald's native protocol
// (/run/systemd/journal/socket). It also renders entries as journalctl's
// output modes (short, short-iso, short-precise, short-monotonic, cat,
// json) for `gosdctl logs` and gosd's `journalctl`.
//
// It does no socket I/O and knows nothing of units beyond their names: the
// reactor receives, attributes and hands entries in (reactor/logsockets.go).
// Everything here is safe for use from several goroutines unless a method
// says otherwise. It imports the standard library and x/sys only.
package logstore
