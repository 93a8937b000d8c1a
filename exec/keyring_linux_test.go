package exec

import (
	"fmt"
	"os"
	"path/filepath"
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
	for _, tc := range []struct{ unit, setting, mode string }{
		{"k.service", "private", "private"}, {"k.service", "shared", "shared"}, {"k.service", "inherit", "inherit"},
		// The defaults: private for services, inherit for other units.
		{"k.service", "", "private"}, {"k.socket", "", "inherit"},
	} {
		mode := tc.mode
		ec := ctx()
		ec.KeyringMode = tc.setting
		ec.User = "nobody"
		cmd := shell("exec python3 -c '" + script + "'")
		out, ws := run(t, Spec{Unit: tc.unit, Cmd: cmd, Exec: ec, Env: []string{"INVOCATION_ID=" + inv}})
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
	// The keyring was set up on a thread of this process, with its real
	// uid switched for the moment: every thread left is root's still.
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, st := range tasks {
		b, _ := os.ReadFile(st)
		for _, l := range strings.Split(string(b), "\n") {
			if (strings.HasPrefix(l, "Uid:") || strings.HasPrefix(l, "Gid:")) && len(strings.Fields(l)) == 5 && strings.Fields(l)[1] != "0" {
				t.Errorf("%s: %s", st, l)
			}
		}
	}
}
