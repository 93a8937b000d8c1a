// Package seccomp builds the seccomp BPF filters of systemd.exec(5)
// (SystemCallFilter=, SystemCallArchitectures=, RestrictAddressFamilies=,
// RestrictNamespaces=, MemoryDenyWriteExecute=, ...) as pure data: the
// system call tables of x86-64, x86 and x32, systemd's @groups as
// systemd-analyze prints them, systemd's rules for merging allow and deny
// lists, and an assembler from rules to classic BPF programs. Loading
// them into the kernel is exec's job.
package seccomp

//go:generate go run gen_tables.go

import "sync"

type group struct {
	desc    string
	members []string
}

// tableSet are the generated tables (zz_tables.go).
type tableSet struct {
	nums   map[string][3]int16
	errnos map[string]int
	afs    map[string]int
	groups map[string]group
}

var (
	tablesOnce sync.Once
	tablesVal  *tableSet
)

func tbl() *tableSet {
	tablesOnce.Do(func() { tablesVal = buildTables() })
	return tablesVal
}
