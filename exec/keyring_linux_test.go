package exec

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// keyringProbe is a python3 script that prints the process's session
// keyring (id and description) and the invocation_id key's bytes, read
// through keyctl(2) itself.
const keyringProbe = `
import ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
def keyctl(*a): return libc.syscall(%d, *a)
ses = keyctl(0, ctypes.c_long(-3), 0)
buf = ctypes.create_string_buffer(256)
keyctl(6, ses, buf, 256)
print(ses, buf.value.decode())
key = keyctl(10, ses, b"user", b"invocation_id", 0)
n = keyctl(11, key, buf, 256) if key > 0 else -1
print(buf.raw[:n].hex() if n > 0 else "no-key")
usr = keyctl(0, ctypes.c_long(-4), 0)
n = keyctl(11, ses, buf, 256)
print("linked" if n > 0 and usr in struct.unpack("%%di" %% (n // 4), buf.raw[:n]) else "unlinked")
`

// KeyringMode=private gives the unit a session keyring of its own, owned
// by its user, holding its invocation ID; shared links the user's keyring
// into it; inherit (and no setting) keeps gosd's (systemd.exec(5)).
func TestKeyringMode(t *testing.T) {
	if _, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, true); err != nil {
		t.Fatalf("this kernel or container refuses keyrings: %v", err)
	}
	const inv = "0123456789abcdef0123456789abcdef"
	script := fmt.Sprintf(keyringProbe, unix.SYS_KEYCTL)
	for _, mode := range []string{"private", "shared", "inherit"} {
		ec := ctx()
		ec.KeyringMode = mode
		ec.User = "nobody"
		cmd := shell("exec python3 -c '" + script + "'")
		out, ws := run(t, Spec{Unit: "k.service", Cmd: cmd, Exec: ec, Env: []string{"INVOCATION_ID=" + inv}})
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if ws.ExitStatus() != 0 || len(lines) != 3 {
			t.Fatalf("%s: exit %v: %s", mode, ws, out)
		}
		var id int
		var desc string
		fmt.Sscan(lines[0], &id, &desc)
		// An anonymous session keyring of nobody's: "keyring;UID;GID;PERM;_ses".
		own := strings.HasPrefix(desc, "keyring;65534;") && strings.HasSuffix(desc, ";_ses")
		switch mode {
		case "inherit":
			// The spawning thread's, or without one nobody's
			// user-session keyring ("_uid_ses.65534").
			if own || lines[1] != "no-key" {
				t.Errorf("inherit: session keyring %d %q, invocation_id %q", id, desc, lines[1])
			}
		default:
			if !own || lines[1] != inv {
				t.Errorf("%s: session keyring %d %q, invocation_id %q", mode, id, desc, lines[1])
			}
			if want := map[string]string{"private": "unlinked", "shared": "linked"}[mode]; lines[2] != want {
				t.Errorf("%s: the user keyring is %s, want %s", mode, lines[2], want)
			}
		}
	}
}
