package exec

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// credentials are a resolved User=, Group= and SupplementaryGroups=.
type credentials struct {
	user, home, shell string
	uid, gid          uint32
	groups            []uint32
}

// passwdFile and groupFile are read directly (no cgo, no NSS), as the
// static binary must.
var (
	passwdFile = "/etc/passwd"
	groupFile  = "/etc/group"
)

// lookupColon finds the line of a colon-separated database whose first
// field is name, or whose third field is name when name is numeric.
func lookupColon(file, name string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, numErr := strconv.ParseUint(name, 10, 32)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 4 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if fields[0] == name || (numErr == nil && fields[2] == name) {
			return fields, nil
		}
	}
	return nil, sc.Err()
}

// resolveCredentials resolves names or numbers as systemd.exec(5) User= and
// Group= say: User= alone gives the user's primary group and its home and
// shell; a numeric user absent from /etc/passwd is allowed.
func resolveCredentials(user, group string, supplementary []string) (*credentials, error) {
	c := &credentials{}
	if user != "" {
		fields, err := lookupColon(passwdFile, user)
		if err != nil {
			return nil, &ExitError{Status: exitUser, Err: err}
		}
		switch {
		case fields != nil && len(fields) >= 7:
			uid, err1 := strconv.ParseUint(fields[2], 10, 32)
			gid, err2 := strconv.ParseUint(fields[3], 10, 32)
			if err1 != nil || err2 != nil {
				return nil, &ExitError{Status: exitUser, Err: fmt.Errorf("User=%s: bad passwd entry", user)}
			}
			c.user, c.uid, c.gid, c.home, c.shell = fields[0], uint32(uid), uint32(gid), fields[5], fields[6]
		default:
			uid, err := strconv.ParseUint(user, 10, 32)
			if err != nil {
				return nil, &ExitError{Status: exitUser, Err: fmt.Errorf("User=%s: no such user", user)}
			}
			c.uid, c.gid = uint32(uid), uint32(uid)
			c.home, c.shell = "/", "/usr/sbin/nologin"
		}
	}
	if group != "" {
		gid, err := resolveGroup(group)
		if err != nil {
			return nil, &ExitError{Status: exitGroup, Err: fmt.Errorf("Group=%s: %w", group, err)}
		}
		c.gid = gid
	}
	c.groups = []uint32{}
	if c.user != "" {
		// Like initgroups(3): the user's memberships in /etc/group.
		c.groups = memberGroups(c.user)
	}
	for _, g := range supplementary {
		gid, err := resolveGroup(g)
		if err != nil {
			return nil, &ExitError{Status: exitGroup, Err: fmt.Errorf("SupplementaryGroups=%s: %w", g, err)}
		}
		c.groups = append(c.groups, gid)
	}
	return c, nil
}

func resolveGroup(name string) (uint32, error) {
	fields, err := lookupColon(groupFile, name)
	if err != nil {
		return 0, err
	}
	if fields != nil {
		gid, err := strconv.ParseUint(fields[2], 10, 32)
		return uint32(gid), err
	}
	gid, err := strconv.ParseUint(name, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("no such group")
	}
	return uint32(gid), nil
}

// memberGroups lists the groups that name the user as a member.
func memberGroups(user string) []uint32 {
	out := []uint32{}
	data, err := os.ReadFile(groupFile)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Split(line, ":")
		if len(fields) < 4 {
			continue
		}
		for _, m := range strings.Split(fields[3], ",") {
			if m == user {
				if gid, err := strconv.ParseUint(fields[2], 10, 32); err == nil {
					out = append(out, uint32(gid))
				}
			}
		}
	}
	return out
}
