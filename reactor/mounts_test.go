package reactor

import "testing"

// /proc/swaps: the header is no swap; names are unescaped; the priority
// is kept.
func TestParseSwapTable(t *testing.T) {
	got := parseSwapTable("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" +
		"/dev/vdb2                               partition\t1048572\t\t0\t\t-2\n" +
		"/swap\\040file                          file\t\t65532\t\t0\t\t5\n")
	if len(got) != 2 || got["/dev/vdb2"].Priority != -2 || got["/dev/vdb2"].Type != "partition" ||
		got["/swap file"].Priority != 5 {
		t.Fatalf("%+v", got)
	}
}
