package exec

// Direct says whether Start starts spec's process from the calling thread
// alone: the direct fork of the program (as the unit's own keyring, if
// any), no Go helper, no sandbox, no thread of its own, no namespace kept
// for later, no fds passed beyond stdio. A caller that forks from a thread
// with an fd table of its own (the reactor's fork thread) hands Start
// only such specs: the other paths run parts of the start on other
// threads, which see the process's fd table, not the caller's. False
// when in doubt.
func Direct(spec Spec) bool {
	ec := spec.Exec
	if ec == nil {
		ec = &defaultContext
	}
	if spec.ForceHelper || len(spec.ListenFDs) > 0 || spec.Conn >= 0 {
		return false
	}
	if ec.NeedsMountNamespace() || ec.RootDirectory != "" || ec.PrivateNetwork ||
		ec.NetworkNamespacePath != "" || ec.PrivateIPC || ec.ProtectHostname || ec.PrivateUsers {
		return false // planSandbox, privateUsers, sharedNamespace
	}
	return !needsThread(ec) && !needsHelper(spec, ec, false)
}
