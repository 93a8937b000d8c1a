package unitfile

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// This file holds the identity, seccomp and process settings of
// systemd.exec(5) that gosd enforces in the child (exec/), kept apart
// from the mount and namespace settings.

// ProcessSecurity is the part of ExecContext for identity, system call
// filtering and process settings; it is embedded, so its fields appear at
// the top level of ExecContext's JSON.
type ProcessSecurity struct {
	// IgnoreSIGPIPE: the process starts with SIGPIPE ignored (default yes).
	IgnoreSIGPIPE bool `json:"ignore_sigpipe"`
	// RemoveIPC: the user's System V and POSIX IPC objects are removed
	// when the unit stops (implied by DynamicUser=).
	RemoveIPC bool `json:"remove_ipc,omitempty"`
	// RestrictSUIDSGID: no set-user-ID or set-group-ID files may be made
	// (implied by DynamicUser=).
	RestrictSUIDSGID bool `json:"restrict_suid_sgid,omitempty"`
}

func init() {
	for k, def := range securityKeys {
		execKeys[k] = def
	}
}

var securityKeys = map[string]keyDef{
	"IgnoreSIGPIPE":    boolKey(func(t *buildTarget) *bool { return &t.exec.IgnoreSIGPIPE }),
	"RemoveIPC":        boolKey(func(t *buildTarget) *bool { return &t.exec.RemoveIPC }),
	"RestrictSUIDSGID": boolKey(func(t *buildTarget) *bool { return &t.exec.RestrictSUIDSGID }),
}

// finishDynamicUser applies what DynamicUser=yes implies (systemd.exec(5)
// "DynamicUser="): the user name from the unit name when User= is not set,
// the group of the same name, RemoveIPC=, NoNewPrivileges= and
// RestrictSUIDSGID= (which cannot be turned off), PrivateTmp=,
// ProtectSystem=strict and ProtectHome=read-only. The mount settings are
// listed as not enforced for as long as gosd does not apply them.
func (b *builder) finishDynamicUser() {
	ec := b.t.exec
	if !ec.DynamicUser {
		return
	}
	if ec.User == "" {
		ec.User = DynamicUserName(b.u.Name)
	}
	if ec.Group == "" {
		ec.Group = ec.User
	}
	ec.RemoveIPC, ec.NoNewPrivileges, ec.RestrictSUIDSGID = true, true, true
	pos := settingPosOf(b.u, "DynamicUser")
	for _, implied := range []struct{ key, value string }{
		{"PrivateTmp", "yes"}, {"ProtectSystem", "strict"}, {"ProtectHome", "read-only"},
	} {
		if execUnenforced[implied.key] {
			ec.Unenforced = append(ec.Unenforced, Entry{Section: typeSections[b.u.Type], Key: implied.key,
				Value: implied.value + " (implied by DynamicUser=yes)", Pos: pos})
		}
	}
}

// DynamicUserName is the user name DynamicUser= derives from a unit name
// when User= is not set: the name's prefix (before "@" or the type
// suffix) when it is a valid user name, else "_du" and a hash of it.
// (systemd hashes with siphash24 and a fixed key; gosd uses FNV-1a, so
// the hashed form differs from systemd's.)
func DynamicUserName(unit string) string {
	prefix := unit
	if i := strings.IndexByte(prefix, '@'); i >= 0 {
		prefix = prefix[:i]
	} else if i := strings.LastIndexByte(prefix, '.'); i >= 0 {
		prefix = prefix[:i]
	}
	if ValidUserName(prefix) {
		return prefix
	}
	h := fnv.New64a()
	h.Write([]byte(prefix))
	return fmt.Sprintf("_du%016x", h.Sum64())
}

// ValidUserName is systemd's strict user and group name check: a letter
// or "_" first, then letters, digits, "_" and "-", at most 31 characters.
func ValidUserName(s string) bool {
	if s == "" || len(s) > 31 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}
