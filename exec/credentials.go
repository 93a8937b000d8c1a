package exec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"gosd/unitfile"
)

// credentialLimit is systemd's limit on a unit's credentials, all together.
const credentialLimit = 1 << 20

// credentialStores are searched for a LoadCredential= given by name,
// after the manager's own credentials ($CREDENTIALS_DIRECTORY).
var credentialStores = []string{"/etc/credstore", "/run/credstore", "/usr/lib/credstore"}

// CredentialsDir is where a unit's credentials are: RUNTIME/credentials/UNIT.
func CredentialsDir(unit string) string {
	return filepath.Join(DirectoryRoots.Runtime, "credentials", unit)
}

// setupCredentials writes the unit's LoadCredential= and SetCredential=
// data to its credentials directory, on memory that is never swapped
// (ramfs) where gosd may mount, readable only by the unit's user, and
// returns $CREDENTIALS_DIRECTORY. Encrypted credentials are refused:
// gosd has no systemd-creds keys.
func setupCredentials(unit string, ec *unitfile.ExecContext, cred *credentials) ([]string, error) {
	if len(ec.Credentials) == 0 {
		return nil, nil
	}
	fail := func(err error) ([]string, error) { return nil, &ExitError{Status: exitCredentials, Err: err} }
	if !unitfile.ValidName(unit) {
		return fail(fmt.Errorf("credentials: bad unit name %q", unit))
	}
	data := map[string][]byte{}
	var order []string
	total := 0
	put := func(id string, b []byte) error {
		if _, dup := data[id]; dup {
			return nil // the first source of an ID wins
		}
		if total += len(b); total > credentialLimit {
			return fmt.Errorf("credentials of %s exceed 1 MiB", unit)
		}
		data[id] = b
		order = append(order, id)
		return nil
	}
	hasSet := map[string]bool{}
	for _, c := range ec.Credentials {
		if c.Set {
			hasSet[c.ID] = true
		}
	}
	for _, c := range ec.Credentials {
		if c.Encrypted {
			return fail(fmt.Errorf("credential %s: encrypted credentials (LoadCredentialEncrypted=, SetCredentialEncrypted=) are not supported by gosd", c.ID))
		}
		if c.Set {
			continue // defaults, after every LoadCredential=
		}
		loaded, err := loadCredential(c)
		if err != nil {
			if hasSet[c.ID] {
				continue // SetCredential= is the fallback
			}
			return fail(err)
		}
		for _, l := range loaded {
			if err := put(l.id, l.data); err != nil {
				return fail(err)
			}
		}
	}
	for _, c := range ec.Credentials {
		if c.Set {
			if err := put(c.ID, c.Value); err != nil {
				return fail(err)
			}
		}
	}
	dir := CredentialsDir(unit)
	uid, gid := os.Getuid(), os.Getgid()
	if cred != nil {
		uid, gid = int(cred.uid), int(cred.gid)
	}
	if err := writeCredentials(dir, order, data, uid, gid); err != nil {
		return fail(err)
	}
	return []string{"CREDENTIALS_DIRECTORY=" + dir}, nil
}

type loadedCredential struct {
	id   string
	data []byte
}

// loadCredential reads one LoadCredential=: an absolute file, every
// file below an absolute directory (as ID_NAME, links skipped), or what
// an AF_UNIX stream socket sends; a name is looked up in the manager's
// own credentials and the stores, and its absence is no error.
func loadCredential(c unitfile.Credential) ([]loadedCredential, error) {
	if !filepath.IsAbs(c.Path) {
		var dirs []string
		if d := os.Getenv("CREDENTIALS_DIRECTORY"); d != "" {
			dirs = append(dirs, d)
		}
		for _, d := range append(dirs, credentialStores...) {
			b, err := readLimited(filepath.Join(d, c.Path))
			if err == nil {
				return []loadedCredential{{c.ID, b}}, nil
			}
		}
		return nil, nil
	}
	st, err := os.Stat(c.Path)
	if err != nil {
		return nil, fmt.Errorf("credential %s: %w", c.ID, err)
	}
	switch {
	case st.Mode()&fs.ModeSocket != 0:
		// DialUnix, not Dial: no name resolution linked into PID1.
		conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: c.Path, Net: "unix"})
		if err != nil {
			return nil, fmt.Errorf("credential %s: %w", c.ID, err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second)) // a unit controls the peer: never wait for ever
		b, err := io.ReadAll(io.LimitReader(conn, credentialLimit+1))
		if err != nil {
			return nil, fmt.Errorf("credential %s: %w", c.ID, err)
		}
		return []loadedCredential{{c.ID, b}}, nil
	case st.IsDir():
		var out []loadedCredential
		err := filepath.WalkDir(c.Path, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := readLimited(p)
			if err != nil {
				return err
			}
			out = append(out, loadedCredential{c.ID + "_" + d.Name(), b})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("credential %s: %w", c.ID, err)
		}
		return out, nil
	}
	b, err := readLimited(c.Path)
	if err != nil {
		return nil, fmt.Errorf("credential %s: %w", c.ID, err)
	}
	return []loadedCredential{{c.ID, b}}, nil
}

// readLimited reads a regular file of at most credentialLimit bytes
// (never a FIFO or device a unit planted: opened non-blocking, checked).
func readLimited(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscallNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, credentialLimit+1))
	if err == nil && len(b) > credentialLimit {
		err = fmt.Errorf("%s is larger than 1 MiB", path)
	}
	return b, err
}

// CleanupCredentials removes a unit's credentials when it stops.
func CleanupCredentials(unit string) error {
	if !unitfile.ValidName(unit) {
		return nil
	}
	dir := CredentialsDir(unit)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	unmountCredentials(dir)
	return os.RemoveAll(dir)
}

// writeCredentials fills dir afresh: 0400 files in a 0500 directory of
// the unit's user, then made read-only where it is a mount.
func writeCredentials(dir string, order []string, data map[string][]byte, uid, gid int) error {
	if err := CleanupCredentials(filepath.Base(dir)); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	mounted := mountCredentials(dir)
	for _, id := range order {
		p := filepath.Join(dir, id)
		if err := os.WriteFile(p, data[id], 0o400); err != nil {
			return err
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		return err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return err
	}
	if mounted {
		return remountReadOnly(dir)
	}
	return nil
}
