package reactor

import "testing"

func TestParseKmsgRecord(t *testing.T) {
	e, seq, ok := parseKmsgRecord([]byte("6,339,5140900,-;NET: Registered protocol family 10\\x0aend\n SUBSYSTEM=net\n"))
	if !ok || seq != 339 || e.Priority != 6 || e.Facility != 0 || e.Monotonic != 5140900 || e.Message != "NET: Registered protocol family 10\nend" || e.Transport != "kernel" {
		t.Fatalf("%+v %d %v", e, seq, ok)
	}
	if e, _, ok := parseKmsgRecord([]byte("30,340,5140901,-;sh[92]: from user space\n")); !ok || e.Facility != 3 || e.Priority != 6 {
		t.Fatalf("user space record: %+v", e)
	}
	for _, bad := range []string{"", "no semicolon", "x,1,2;m", "6,1;m"} {
		if _, _, ok := parseKmsgRecord([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
