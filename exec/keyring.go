package exec

import (
	"runtime"
	"strings"

	"gosd/unitfile"
)

// keyringSettings is KeyringMode=private or shared, for the helper or
// the spawning thread: the
// session keyring is made owned by the service's user (Uid, Gid; -1:
// unchanged), as systemd.exec(5) describes.
type keyringSettings struct {
	Shared   bool
	Uid, Gid int
}

// keyringFor is what KeyringMode= asks of the process's session keyring,
// nil for inherit. systemd.exec(5): the default is private for services
// of the system manager and inherit for other units; without keyrings
// (not Linux) there is nothing to set up.
func keyringFor(unit string, ec *unitfile.ExecContext, cred *credentials) *keyringSettings {
	mode := ec.KeyringMode
	if mode == "" && strings.HasSuffix(unit, ".service") {
		mode = "private"
	}
	if mode != "private" && mode != "shared" || runtime.GOOS != "linux" {
		return nil
	}
	k := &keyringSettings{Shared: mode == "shared", Uid: -1, Gid: -1}
	if cred != nil {
		k.Uid, k.Gid = int(cred.uid), int(cred.gid)
	}
	return k
}
