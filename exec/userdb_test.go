package exec

import (
	"bufio"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// The varlink service answers nss-systemd's questions from the allocation
// records: by name, by uid, groups, enumeration with "more"; anything
// else gets varlink's errors, and a hostile client only loses its own
// connection.
func TestUserDB(t *testing.T) {
	users := NewDynamicUsers(t.TempDir())
	id, err := users.Acquire("web.service", "gosdweb", "")
	if err != nil {
		t.Fatal(err)
	}
	users.Acquire("db.service", "gosddb", "")
	sock := filepath.Join(t.TempDir(), "io.systemd.DynamicUser")
	udb, err := ServeUserDB(sock, users.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer udb.Close()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	call := func(msg string) []string {
		c.Write(append([]byte(msg), 0))
		var out []string
		for {
			b, err := r.ReadBytes(0)
			if err != nil {
				t.Fatalf("%s: %v", msg, err)
			}
			out = append(out, string(b[:len(b)-1]))
			var rep struct{ Continues bool }
			json.Unmarshal(b[:len(b)-1], &rep)
			if !rep.Continues {
				return out
			}
		}
	}
	uid := func(s string) string { return strings.TrimSpace(s) }
	got := call(`{"method":"io.systemd.UserDatabase.GetUserRecord","parameters":{"userName":"gosdweb","service":"io.systemd.DynamicUser"}}`)
	if len(got) != 1 || !strings.Contains(got[0], `"uid":`+uid(jsonNum(id.UID))) || !strings.Contains(got[0], `"userName":"gosdweb"`) {
		t.Errorf("by name: %v", got)
	}
	got = call(`{"method":"io.systemd.UserDatabase.GetGroupRecord","parameters":{"gid":` + jsonNum(id.GID) + `,"service":"io.systemd.DynamicUser"}}`)
	if len(got) != 1 || !strings.Contains(got[0], `"groupName":"gosdweb"`) {
		t.Errorf("group by gid: %v", got)
	}
	if got = call(`{"method":"io.systemd.UserDatabase.GetUserRecord","parameters":{"service":"io.systemd.DynamicUser"},"more":true}`); len(got) != 2 {
		t.Errorf("enumeration: %v", got)
	}
	for msg, want := range map[string]string{
		`{"method":"io.systemd.UserDatabase.GetUserRecord","parameters":{"userName":"root","service":"io.systemd.DynamicUser"}}`: "NoRecordFound",
		`{"method":"io.systemd.UserDatabase.GetUserRecord","parameters":{"userName":"gosdweb","service":"other"}}`:               "BadService",
		`{"method":"io.systemd.Nope","parameters":{}}`:                                                                           "MethodNotFound",
	} {
		if got := call(msg); len(got) != 1 || !strings.Contains(got[0], want) {
			t.Errorf("%s: %v, want %s", msg, got, want)
		}
	}
	// Garbage ends that connection only.
	bad, _ := net.Dial("unix", sock)
	bad.Write([]byte("not json\x00"))
	if _, err := bufio.NewReader(bad).ReadBytes(0); err == nil {
		t.Error("a garbage message got an answer")
	}
	bad.Close()
	users.Release("web.service")
	if got := call(`{"method":"io.systemd.UserDatabase.GetUserRecord","parameters":{"userName":"gosdweb","service":"io.systemd.DynamicUser"}}`); !strings.Contains(got[0], "NoRecordFound") {
		t.Errorf("after release: %v", got)
	}
}

func jsonNum(n uint32) string { b, _ := json.Marshal(n); return string(b) }
