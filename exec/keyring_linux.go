package exec

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// setupKeyring gives the process a new anonymous session keyring, linked
// to the user's keyring for KeyringMode=shared, holding the unit's
// invocation ID as the "invocation_id" user key (systemd.exec(5)
// KeyringMode=). It runs on the thread that execs (a session keyring
// belongs to the thread), as root, before the credentials change: the
// real uid and gid are switched for the join so the kernel makes the
// keyring the user's, then switched back. Where the kernel has no
// keyrings or forbids them (a container's seccomp profile), the process
// runs without, as under systemd.
func setupKeyring(k *keyringSettings, env []string) error {
	// The raw system calls change this thread's ids only (Go's
	// syscall.Setreuid changes every thread's: in PID1 that would be
	// every thread of gosd).
	if gid := os.Getgid(); k.Gid >= 0 && k.Gid != gid {
		if err := setreThread(unix.SYS_SETREGID, k.Gid); err != nil {
			return fmt.Errorf("KeyringMode=: changing the real gid: %w", err)
		}
		defer setreThread(unix.SYS_SETREGID, gid)
	}
	if uid := os.Getuid(); k.Uid >= 0 && k.Uid != uid {
		if err := setreThread(unix.SYS_SETREUID, k.Uid); err != nil {
			return fmt.Errorf("KeyringMode=: changing the real uid: %w", err)
		}
		defer setreThread(unix.SYS_SETREUID, uid)
	}
	if err := joinAnonymousKeyring(); err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.EDQUOT) {
			return nil
		}
		return fmt.Errorf("KeyringMode=: setting up the session keyring: %w", err)
	}
	if k.Shared {
		if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, unix.KEY_SPEC_USER_KEYRING, unix.KEY_SPEC_SESSION_KEYRING, 0, 0); err != nil {
			return fmt.Errorf("KeyringMode=shared: linking the user keyring: %w", err)
		}
	}
	for _, kv := range env {
		v, ok := strings.CutPrefix(kv, "INVOCATION_ID=")
		if !ok {
			continue
		}
		id, err := hex.DecodeString(v)
		if err != nil || len(id) != 16 {
			break
		}
		// A failure to add it is only logged by systemd.
		if key, err := unix.AddKey("user", "invocation_id", id, unix.KEY_SPEC_SESSION_KEYRING); err == nil {
			// KEY_POS_VIEW|KEY_POS_READ|KEY_POS_SEARCH|KEY_USR_VIEW|KEY_USR_READ|KEY_USR_SEARCH
			const perm = 0x01000000 | 0x02000000 | 0x08000000 | 0x00010000 | 0x00020000 | 0x00080000
			if err := unix.KeyctlSetperm(key, perm); err != nil {
				return fmt.Errorf("KeyringMode=: restricting the invocation ID key: %w", err)
			}
		}
		break
	}
	return nil
}

// setreThread sets the calling thread's real uid or gid (trap
// SYS_SETREUID or SYS_SETREGID), leaving the effective one.
func setreThread(trap uintptr, id int) error {
	if _, _, e := unix.RawSyscall(trap, uintptr(id), uintptr(^uint32(0)), 0); e != 0 {
		return e
	}
	return nil
}

// joinAnonymousKeyring makes a new anonymous keyring the calling thread's
// session keyring. A NULL name asks for that (x/sys/unix passes "" as a
// name, which the kernel refuses).
func joinAnonymousKeyring() error {
	if _, _, e := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_JOIN_SESSION_KEYRING, 0, 0); e != 0 {
		return e
	}
	return nil
}
