// Package unitfile reads systemd unit files the way systemd does: syntax,
// search paths, drop-ins, templates and instances, specifiers, [Install],
// and typed settings that keep the file and line of every value. It does
// file I/O only while loading; a loaded Set answers everything from memory,
// so the manager can instantiate templates without touching the disk.
package unitfile
