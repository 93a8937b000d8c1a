// Package seccomp builds the seccomp BPF filters of systemd.exec(5)
// (SystemCallFilter=, SystemCallArchitectures=, RestrictAddressFamilies=,
// RestrictNamespaces=, MemoryDenyWriteExecute=, ...) as pure data: the
// system call tables of x86-64, x86 and x32, systemd's @groups as
// systemd-analyze prints them, systemd's rules for merging allow and deny
// lists, and an assembler from rules to classic BPF programs. Loading
// them into the kernel is exec's job.
package seccomp

//go:generate go run gen_tables.go

type group struct {
	desc    string
	members []string
}
