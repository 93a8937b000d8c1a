package exec

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// The dynamic users are made known to the rest of the system as systemd's
// PID1 makes them known: a varlink service, io.systemd.DynamicUser, in
// /run/systemd/userdb/, speaking the io.systemd.UserDatabase interface,
// which nss-systemd (libnss-systemd) asks, so that `id -nu` and ls -l name
// a dynamic user. It reads the allocation records (DynamicUsers.Dir) on
// each query and holds no state of its own: nothing here touches the
// reactor, and a slow or hostile client only ties up its own goroutine.

// DefaultUserDBSocket is where systemd serves its dynamic users.
const DefaultUserDBSocket = "/run/systemd/userdb/io.systemd.DynamicUser"

const (
	userdbService    = "io.systemd.DynamicUser"
	userdbMaxMessage = 64 << 10
	userdbMaxConns   = 64
	userdbIdle       = 30 * time.Second
)

// UserDB is a running io.systemd.DynamicUser service.
type UserDB struct {
	ln    *net.UnixListener
	dir   string
	path  string
	slots chan struct{}
	wg    sync.WaitGroup
}

// ServeUserDB serves the dynamic users recorded in dir at path.
func ServeUserDB(path, dir string) (*UserDB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o666); err != nil { // every user's lookups come here
		ln.Close()
		return nil, err
	}
	u := &UserDB{ln: ln, dir: dir, path: path, slots: make(chan struct{}, userdbMaxConns)}
	u.wg.Add(1)
	go u.accept()
	return u, nil
}

// Close stops serving and waits for the connections to end.
func (u *UserDB) Close() error {
	err := u.ln.Close()
	u.wg.Wait()
	return err
}

func (u *UserDB) accept() {
	defer u.wg.Done()
	for {
		c, err := u.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: do not spin
			continue
		}
		select {
		case u.slots <- struct{}{}:
		default:
			c.Close() // too many at once: this one is refused, the others go on
			continue
		}
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			defer func() { <-u.slots }()
			defer c.Close()
			u.serve(c)
		}()
	}
}

type varlinkCall struct {
	Method     string          `json:"method"`
	Parameters json.RawMessage `json:"parameters"`
	More       bool            `json:"more"`
	Oneway     bool            `json:"oneway"`
}

type userdbQuery struct {
	UID       *uint32 `json:"uid"`
	UserName  *string `json:"userName"`
	GID       *uint32 `json:"gid"`
	GroupName *string `json:"groupName"`
	Service   string  `json:"service"`
}

// serve answers NUL-terminated JSON calls until the client goes, idles or
// sends something too long.
func (u *UserDB) serve(c *net.UnixConn) {
	r := bufio.NewReaderSize(c, userdbMaxMessage)
	for {
		c.SetDeadline(time.Now().Add(userdbIdle))
		msg, err := r.ReadSlice(0)
		if err != nil {
			return // EOF, timeout, or a message beyond the limit
		}
		var call varlinkCall
		if json.Unmarshal(msg[:len(msg)-1], &call) != nil {
			return
		}
		replies := u.answer(call)
		if call.Oneway {
			continue
		}
		for _, rep := range replies {
			b, _ := json.Marshal(rep)
			if _, err := c.Write(append(b, 0)); err != nil {
				return
			}
		}
	}
}

type varlinkReply struct {
	Parameters any    `json:"parameters,omitempty"`
	Continues  bool   `json:"continues,omitempty"`
	Error      string `json:"error,omitempty"`
}

func errReply(name string) []varlinkReply {
	return []varlinkReply{{Error: name, Parameters: struct{}{}}}
}

func (u *UserDB) answer(call varlinkCall) []varlinkReply {
	var q userdbQuery
	if len(call.Parameters) > 0 && json.Unmarshal(call.Parameters, &q) != nil {
		return errReply("org.varlink.service.InvalidParameter")
	}
	group := false
	switch call.Method {
	case "io.systemd.UserDatabase.GetUserRecord":
	case "io.systemd.UserDatabase.GetGroupRecord":
		group = true
	case "io.systemd.UserDatabase.GetMemberships":
		return errReply("io.systemd.UserDatabase.NoRecordFound") // dynamic users are members of nothing
	default:
		return []varlinkReply{{Error: "org.varlink.service.MethodNotFound", Parameters: map[string]string{"method": call.Method}}}
	}
	if q.Service != userdbService {
		return errReply("io.systemd.UserDatabase.BadService")
	}
	id, name := q.UID, q.UserName
	if group {
		id, name = q.GID, q.GroupName
	}
	var out []varlinkReply
	for _, e := range u.entries() {
		if id != nil && *id != e.id || name != nil && *name != e.name {
			continue
		}
		out = append(out, varlinkReply{Parameters: map[string]any{"record": userdbRecord(e, group), "incomplete": false}})
	}
	switch {
	case len(out) == 0:
		return errReply("io.systemd.UserDatabase.NoRecordFound")
	case len(out) > 1 && !call.More:
		return errReply("io.systemd.UserDatabase.EnumerationNotSupported")
	}
	for i := range out[:len(out)-1] {
		out[i].Continues = true
	}
	return out
}

type dynEntry struct {
	id   uint32
	name string
}

// entries reads the allocation records: files named by the uid, holding
// the name.
func (u *UserDB) entries() []dynEntry {
	ents, err := os.ReadDir(u.dir)
	if err != nil {
		return nil
	}
	var out []dynEntry
	for _, e := range ents {
		id, err := strconv.ParseUint(e.Name(), 10, 32)
		if err != nil || id < dynamicUIDMin || id > dynamicUIDMax {
			continue
		}
		data, err := os.ReadFile(filepath.Join(u.dir, e.Name()))
		if err != nil || len(data) == 0 || len(data) > 64 {
			continue
		}
		out = append(out, dynEntry{uint32(id), string(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// userdbRecord is a JSON user or group record (systemd's "JSON User
// Records") of a dynamic user, as systemd's PID1 describes one.
func userdbRecord(e dynEntry, group bool) map[string]any {
	if group {
		return map[string]any{"groupName": e.name, "gid": e.id, "service": userdbService, "disposition": "dynamic"}
	}
	return map[string]any{
		"userName": e.name, "uid": e.id, "gid": e.id, "realName": "Dynamic User",
		"homeDirectory": "/", "shell": "/usr/sbin/nologin", "locked": true,
		"service": userdbService, "disposition": "dynamic",
	}
}
