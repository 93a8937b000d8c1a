package mountinfo

import (
	"testing"
)

func TestParse(t *testing.T) {
	text := `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
35 24 0:30 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate
40 24 0:31 /sub/dir /mnt/with\040space ro,relatime - ext4 /dev/my\134disk rw
bad line
41 24 0:32 / /end\040 rw - tmpfs tmpfs ro,size=10k
`
	got := Parse(text)
	if len(got) != 4 {
		t.Fatalf("got %d mounts: %+v", len(got), got)
	}
	if got[1].FSType != "cgroup2" || got[1].Point != "/sys/fs/cgroup/unified" || got[1].SuperOptions != "rw,nsdelegate" {
		t.Errorf("cgroup2 line: %+v", got[1])
	}
	if m := got[2]; m.Point != "/mnt/with space" || m.Root != "/sub/dir" || m.Source != `/dev/my\disk` || !m.ReadOnly() {
		t.Errorf("escaped line: %+v", m)
	}
	// An escape at the very end of a field is decoded too; a read-only
	// superblock makes the mount read-only.
	if m := got[3]; m.Point != "/end " || !m.ReadOnly() {
		t.Errorf("last line: %+v", m)
	}
	if got[0].ReadOnly() {
		t.Errorf("/proc reported read-only")
	}
}

func TestReadThisMachine(t *testing.T) {
	ms, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Point == "/proc" && m.FSType == "proc" {
			return
		}
	}
	t.Fatalf("/proc not found among %d mounts", len(ms))
}
