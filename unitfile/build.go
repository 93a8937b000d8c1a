package unitfile

// BuildInfo is what Build needs besides the entries.
type BuildInfo struct {
	FragmentPath string
	DropIns      []string
	// Expand resolves specifiers (%n, %i, ...) in one value for this unit;
	// the loader sets it. nil means "no specifiers".
	Expand func(string) (string, error)
}

// Build turns the effective entries of one unit (fragment then drop-ins, in
// order) into typed settings. It sets Unit/Install/Service/Socket, Extra,
// Entries, Diags and LoadState (Loaded, or BadSetting when a setting that
// systemd treats as fatal is wrong). The loader fills Name, Type, Template,
// Instance, FragmentPath, DropIns and Names.
//
// STUB: replaced by the typed-settings work.
func Build(name string, entries []Entry, info BuildInfo) *Unit {
	return &Unit{LoadState: Loaded, Entries: entries}
}
