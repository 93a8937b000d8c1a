package exec

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gosd/unitfile"
)

// Identity is the user and group a DynamicUser= unit runs as.
type Identity struct {
	User     string
	UID, GID uint32
	// Static: a user of that name exists in /etc/passwd and is used as is
	// (systemd.exec(5) "DynamicUser=").
	Static bool
}

// Dynamic users come from systemd's range (systemd.exec(5) "DynamicUser=").
const (
	dynamicUIDMin = 61184
	dynamicUIDMax = 65519
)

// DynamicUsers hands out DynamicUser= uids. An allocation is a file named
// by the uid in Dir holding the user name, created exclusively, so two
// managers sharing Dir never hand out one uid twice, and a re-executed
// gosd (or one restarted after a crash) finds the uid its running units
// hold. Units that name the same user share its uid; it is released when
// the last of them stops. Not safe for concurrent use: the reactor owns it.
type DynamicUsers struct {
	Dir    string
	byName map[string]*dynamicUser
	byUnit map[string][]string // unit -> names it holds (user, and group when different)
}

type dynamicUser struct {
	id    uint32
	units map[string]bool
}

// NewDynamicUsers keeps its allocations in dir (created when needed).
func NewDynamicUsers(dir string) *DynamicUsers {
	return &DynamicUsers{Dir: dir, byName: map[string]*dynamicUser{}, byUnit: map[string][]string{}}
}

// Acquire gives unit the identity of user (and group, "" meaning the same
// name): a static user or group of that name when one exists, else a uid
// (and gid, equal to it) from the dynamic range, the same one for as long
// as any unit holds the name.
func (d *DynamicUsers) Acquire(unit, user, group string) (Identity, error) {
	if group == "" {
		group = user
	}
	// A user that exists (by name, or a number such as User=1) is static.
	pw, _ := lookupColon(passwdFile, user)
	gr, _ := lookupColon(groupFile, group)
	if pw == nil && (!unitfile.ValidUserName(user) || !unitfile.ValidUserName(group)) {
		return Identity{}, &ExitError{Status: exitUser, Err: fmt.Errorf("DynamicUser=: invalid user or group name %q/%q", user, group)}
	}
	// systemd.exec(5): a static user requires a static group of the name
	// when one of them exists.
	if pw != nil {
		uid, err1 := strconv.ParseUint(pw[2], 10, 32)
		gid, err2 := strconv.ParseUint(pw[3], 10, 32)
		if err1 != nil || err2 != nil {
			return Identity{}, &ExitError{Status: exitUser, Err: fmt.Errorf("User=%s: bad passwd entry", user)}
		}
		if group != user {
			g, err := resolveGroup(group)
			if err != nil {
				return Identity{}, &ExitError{Status: exitGroup, Err: fmt.Errorf("Group=%s: %w", group, err)}
			}
			gid = uint64(g)
		}
		return Identity{User: user, UID: uint32(uid), GID: uint32(gid), Static: true}, nil
	}
	if gr != nil && group == user {
		return Identity{}, &ExitError{Status: exitUser, Err: fmt.Errorf("DynamicUser=: group %s exists statically but user %s does not", group, user)}
	}
	uid, err := d.hold(unit, user)
	if err != nil {
		return Identity{}, &ExitError{Status: exitUser, Err: err}
	}
	gid := uid
	if group != user {
		if gr != nil {
			g, err := strconv.ParseUint(gr[2], 10, 32)
			if err != nil {
				return Identity{}, &ExitError{Status: exitGroup, Err: fmt.Errorf("Group=%s: bad group entry", group)}
			}
			gid = uint32(g)
		} else if gid, err = d.hold(unit, group); err != nil {
			return Identity{}, &ExitError{Status: exitGroup, Err: err}
		}
	}
	return Identity{User: user, UID: uid, GID: gid}, nil
}

// hold records that unit holds name, allocating its id if nobody did.
func (d *DynamicUsers) hold(unit, name string) (uint32, error) {
	du := d.byName[name]
	if du == nil {
		id, err := d.allocate(name)
		if err != nil {
			return 0, err
		}
		du = &dynamicUser{id: id, units: map[string]bool{}}
		d.byName[name] = du
	}
	if !du.units[unit] {
		du.units[unit] = true
		d.byUnit[unit] = append(d.byUnit[unit], name)
	}
	return du.id, nil
}

// allocate finds name's recorded uid, or records a free one: not in
// /etc/passwd or /etc/group and not recorded in Dir. The first candidate
// is a hash of the name, so a name tends to get the same uid each time.
func (d *DynamicUsers) allocate(name string) (uint32, error) {
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return 0, fmt.Errorf("dynamic users: %w", err)
	}
	ents, err := os.ReadDir(d.Dir)
	if err != nil {
		return 0, fmt.Errorf("dynamic users: %w", err)
	}
	for _, e := range ents {
		id, err := strconv.ParseUint(e.Name(), 10, 32)
		if err != nil || id < dynamicUIDMin || id > dynamicUIDMax {
			continue
		}
		if data, err := os.ReadFile(filepath.Join(d.Dir, e.Name())); err == nil && string(data) == name {
			return uint32(id), nil
		}
	}
	used := idsIn(passwdFile)
	for id := range idsIn(groupFile) {
		used[id] = true
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	const n = dynamicUIDMax - dynamicUIDMin + 1
	start := h.Sum32() % n
	for i := uint32(0); i < n; i++ {
		id := dynamicUIDMin + (start+i)%n
		if used[id] {
			continue
		}
		f, err := os.OpenFile(filepath.Join(d.Dir, strconv.Itoa(int(id))), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("dynamic users: %w", err)
		}
		_, err = f.WriteString(name)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return 0, fmt.Errorf("dynamic users: %w", err)
		}
		return id, nil
	}
	return 0, errors.New("dynamic users: no free uid in 61184-65519")
}

// Release drops unit's hold on its names and returns the ids nobody holds
// any more (released: their IPC objects are the caller's to remove).
func (d *DynamicUsers) Release(unit string) []uint32 {
	var freed []uint32
	for _, name := range d.byUnit[unit] {
		du := d.byName[name]
		if du == nil {
			continue
		}
		delete(du.units, unit)
		if len(du.units) == 0 {
			delete(d.byName, name)
			os.Remove(filepath.Join(d.Dir, strconv.Itoa(int(du.id))))
			freed = append(freed, du.id)
		}
	}
	delete(d.byUnit, unit)
	return freed
}

// Lookup returns the dynamic uid held under name, if any (for the userdb
// service and tests).
func (d *DynamicUsers) Lookup(name string) (uint32, bool) {
	if du := d.byName[name]; du != nil {
		return du.id, true
	}
	return 0, false
}

// idsIn lists the ids (third field) of a colon-separated database.
func idsIn(file string) map[uint32]bool {
	out := map[uint32]bool{}
	data, err := os.ReadFile(file)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Split(line, ":")
		if len(fields) < 3 {
			continue
		}
		if id, err := strconv.ParseUint(fields[2], 10, 32); err == nil {
			out[uint32(id)] = true
		}
	}
	return out
}

// dynamicCredentials are the credentials of a DynamicUser= identity: a
// dynamic user has "/" as home and no login shell, as nss-systemd shows it.
func dynamicCredentials(id Identity, supplementary []string) (*credentials, error) {
	if id.Static {
		c, err := resolveCredentials(id.User, "", supplementary)
		if err != nil {
			return nil, err
		}
		c.gid = id.GID
		return c, nil
	}
	c := &credentials{user: id.User, uid: id.UID, gid: id.GID, home: "/", shell: "/usr/sbin/nologin", groups: []uint32{}}
	for _, g := range supplementary {
		gid, err := resolveGroup(g)
		if err != nil {
			return nil, &ExitError{Status: exitGroup, Err: fmt.Errorf("SupplementaryGroups=%s: %w", g, err)}
		}
		c.groups = append(c.groups, gid)
	}
	return c, nil
}

// RemoveUserIPC applies RemoveIPC= for a unit with a static User= or
// Group= when it stops: their IPC objects are removed, never root's
// (systemd.exec(5) "RemoveIPC="). DynamicUser= units are handled when
// their uid is released.
func RemoveUserIPC(ec *unitfile.ExecContext) error {
	if !ec.RemoveIPC || ec.DynamicUser || ec.User == "" && ec.Group == "" {
		return nil
	}
	c, err := resolveCredentials(ec.User, ec.Group, nil)
	if err != nil {
		return err
	}
	uid, gid := c.uid, c.gid
	if ec.User == "" {
		uid = ^uint32(0) // only the group's objects
	}
	if uid == 0 || gid == 0 {
		return nil
	}
	return RemoveIPC(uid, gid)
}
