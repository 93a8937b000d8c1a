// Package control is gosd's control API: the JSON-RPC 2.0 protocol types
// (protocol.go), the server on a unix socket (server.go, methods.go), the
// client (client.go), the systemctl-compatible command line that gosdctl,
// systemctl and `gosd ctl` run (ctl.go), and the unit-file operations that
// need no running manager: enable, disable, mask, is-enabled,
// list-unit-files (install.go). docs/control-api.md is the wire reference.
//
// bus.go and bus_api.go serve a part of systemd's own D-Bus API,
// org.freedesktop.systemd1, on its private peer-to-peer socket
// (/run/systemd/private), for programs that talk to PID1 directly
// (systemd-update-utmp, busctl --address). The transport is the control
// server's (the same listener, outbox, back-pressure and reactor hand-off);
// the wire format and the SASL handshake are internal/dbus.
//
// Each connection is read by a goroutine of its own (Go's net package;
// netpoll, used before, read every byte a client sent into its own buffers
// whatever the handler's pace, so a client could make gosd hold or discard
// gigabytes). The goroutine reads one line, checks the peer's uid
// (SO_PEERCRED, read once per connection: uid 0 may do anything, others
// only read), hands the work to the reactor with Backend.Submit, and reads
// the next line only when the answers queued for the client are (nearly)
// written. Answers from the reactor goroutine are queued per connection and
// written by a short-lived goroutine, so the reactor never blocks on a
// client; a client whose queue passes a bound, or that takes no bytes for
// the write timeout, is dropped. A line longer than the bound (1 MiB) is
// answered with an error and the connection closed. docs/control-api.md
// lists every bound.
//
// Every fd is close-on-exec: Go's net package opens and accepts sockets
// with SOCK_CLOEXEC.
package control
