package boot

import (
	"gosd/internal/mountinfo"
	"reflect"
	"testing"
)

func TestParseKernelCmdline(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Cmdline
	}{
		{"", Cmdline{}},
		{"BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet", Cmdline{Quiet: true}},
		{"console=ttyS0 systemd.unit=multi-user.target", Cmdline{Unit: "multi-user.target"}},
		{"gosd.unit=a.target systemd.unit=b.target", Cmdline{Unit: "b.target"}},
		{"systemd.unit=b.target gosd.unit=a.target", Cmdline{Unit: "a.target"}},
		{"systemd.unit=", Cmdline{}},
		{"emergency", Cmdline{Unit: "emergency.target"}},
		{"-b", Cmdline{Unit: "emergency.target"}},
		{"rescue", Cmdline{Unit: "rescue.target"}},
		{"single", Cmdline{Unit: "rescue.target"}},
		{"s", Cmdline{Unit: "rescue.target"}},
		{"S", Cmdline{Unit: "rescue.target"}},
		{"1", Cmdline{Unit: "rescue.target"}},
		{"3", Cmdline{Unit: "runlevel3.target"}},
		{"6", Cmdline{}},
		{"rescue systemd.unit=x.target", Cmdline{Unit: "x.target"}},
		{"systemd.log_level=debug", Cmdline{LogLevel: "debug"}},
		{"systemd.log-level=7", Cmdline{LogLevel: "7"}},
		{"gosd.log_level=info", Cmdline{LogLevel: "info"}},
		{"systemd.show_status", Cmdline{ShowStatus: "true"}},
		{"systemd.show_status=0", Cmdline{ShowStatus: "0"}},
		{"ro quiet splash", Cmdline{Quiet: true}},
		{"systemd.machine_id=0123456789abcdef0123456789abcdef", Cmdline{MachineID: "0123456789abcdef0123456789abcdef"}},
		{"systemd.machine_id=XYZ", Cmdline{}},
		{"systemd.machine_id=00000000000000000000000000000000", Cmdline{}},
		{`systemd.setenv=A=1 systemd.setenv="B=two words" systemd.setenv=C`,
			Cmdline{Environment: []string{"A=1", "B=two words"}}},
		{"  systemd.unit=a.target\t\n", Cmdline{Unit: "a.target"}},
	} {
		if got := ParseKernelCmdline(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseKernelCmdline(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestStatusShown(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "all",
		"quiet":                           "error",
		"quiet systemd.show_status=1":     "all",
		"quiet systemd.show_status":       "all",
		"systemd.show_status=no":          "none",
		"systemd.show_status=false quiet": "none",
		"systemd.show_status=error":       "error",
		"systemd.show_status=auto":        "error",
		"systemd.show_status=bogus":       "all",
		"systemd.show_status=bogus quiet": "error",
	} {
		if got := ParseKernelCmdline(in).StatusShown(); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	const in = `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
90 25 0:50 / /mnt/with\040space ro,relatime - tmpfs my\134src rw
bad line
`
	got := mountinfo.Parse(in)
	want := []mountEntry{
		{Root: "/", Point: "/proc", FSType: "proc", Source: "proc", Options: "rw,nosuid,nodev,noexec,relatime", SuperOptions: "rw"},
		{Root: "/", Point: "/", FSType: "ext4", Source: "/dev/sda1", Options: "rw,relatime", SuperOptions: "rw,errors=remount-ro"},
		{Root: "/", Point: "/mnt/with space", FSType: "tmpfs", Source: `my\src`, Options: "ro,relatime", SuperOptions: "rw"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if m := mountedAt(got, "/mnt/with space"); m == nil || m.FSType != "tmpfs" {
		t.Fatalf("mountedAt: %+v", m)
	}
	if mountedAt(got, "/mnt") != nil {
		t.Fatal("mountedAt matched a parent")
	}
}
