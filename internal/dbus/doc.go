// Package dbus owns the D-Bus wire format as gosd speaks it on a
// peer-to-peer connection (no bus daemon): the marshalling and
// unmarshalling of messages — the fixed header, the header fields and the
// body — for the types y b n q i u x t d s o g h a v, structs and dict
// entries, with the specification's alignment rules and both byte orders
// on input (output is always little-endian); signature and object-path
// validation; and the server side of the SASL handshake (AUTH EXTERNAL
// checked against the peer's SO_PEERCRED uid, NEGOTIATE_UNIX_FD, BEGIN).
//
// Input is hostile: every length is checked before it is used, messages
// are bounded (MaxMessageSize), containers nest at most 32 arrays and 32
// structs deep and 64 levels in all (variants included), and malformed
// input is an error, never a panic.
//
// The reference is the D-Bus Specification
// (https://dbus.freedesktop.org/doc/dbus-specification.html), sections
// "Type System", "Message Protocol" and "Authentication Protocol".
package dbus
