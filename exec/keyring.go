package exec

// keyringSettings is KeyringMode=private or shared for the helper: the
// session keyring is made owned by the service's user (Uid, Gid; -1:
// unchanged), as systemd.exec(5) describes.
type keyringSettings struct {
	Shared   bool
	Uid, Gid int
}
