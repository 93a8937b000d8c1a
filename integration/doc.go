// Package integration holds end-to-end tests of the built gosd binary: as
// PID1 of a PID namespace (unshare -p -f --mount-proc), as a subreaper, and
// booted in a real kernel under qemu. The tests need root and Linux.
package integration
