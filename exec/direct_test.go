package exec

import (
	"testing"

	"gosd/unitfile"
)

// Direct must be false for every spec whose start leaves the calling
// thread: the sandbox (namespaces are made on threads of their own), the
// per-thread settings (spawnOnThread), the Go helper, passed fds.
func TestDirect(t *testing.T) {
	nice := 5
	cmd := unitfile.ExecCommand{Path: "/bin/true", Argv: []string{"/bin/true"}}
	for _, c := range []struct {
		name string
		spec Spec
		want bool
	}{
		// systemd's default umask is 022: a process with another needs a
		// thread of its own for it.
		{"defaults", Spec{Cmd: cmd, Conn: -1}, processUmask == 0o022},
		{"user", Spec{Cmd: cmd, Conn: -1, Exec: &unitfile.ExecContext{UMask: 0o022, User: "nobody", ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}}, processUmask == 0o022},
		{"helper forced", Spec{Cmd: cmd, Conn: -1, ForceHelper: true}, false},
		{"listen fds", Spec{Cmd: cmd, Conn: -1, ListenFDs: []int{3}}, false},
		{"connection", Spec{Cmd: cmd, Conn: 3}, false},
		{"private tmp", Spec{Cmd: cmd, Conn: -1, Exec: &unitfile.ExecContext{UMask: 0o022, PrivateTmp: true, ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}}, false},
		{"private network", Spec{Cmd: cmd, Conn: -1, Exec: &unitfile.ExecContext{UMask: 0o022, PrivateNetwork: true, ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}}, false},
		{"root directory", Spec{Cmd: cmd, Conn: -1, Exec: &unitfile.ExecContext{UMask: 0o022, RootDirectory: "/srv", ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}}, false},
		{"nice (own thread)", Spec{Cmd: cmd, Conn: -1, Exec: &unitfile.ExecContext{UMask: 0o022, Nice: &nice, ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}}, false},
		{"umask (own thread)", Spec{Cmd: cmd, Conn: -1, Exec: &unitfile.ExecContext{UMask: 0o077, ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}}, false},
		{"limits (helper)", Spec{Cmd: cmd, Conn: -1, Exec: &unitfile.ExecContext{UMask: 0o022, Limits: map[string]unitfile.Rlimit{"NOFILE": {Soft: 10, Hard: 10}}, ProcessSecurity: unitfile.ProcessSecurity{IgnoreSIGPIPE: true}}}, false},
	} {
		if got := Direct(c.spec); got != c.want {
			t.Errorf("%s: Direct = %v, want %v", c.name, got, c.want)
		}
	}
}
