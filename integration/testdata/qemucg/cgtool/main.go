// Command cgtool is the qemu cgroup test's workload (integration/
// qemu_cgroup_test.go), built static and run as a unit inside the VM. It
// writes to /dev/console, so its lines reach the serial console whatever
// the unit's StandardOutput= is.
//
//	cgtool mem MB    allocate and touch MB megabytes in 10 MB steps
//	cgtool hold MB   allocate and touch MB megabytes, burn ~0.3 s of CPU, sleep
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

var con = func() *os.File {
	f, err := os.OpenFile("/dev/console", os.O_WRONLY, 0)
	if err != nil {
		return os.Stdout
	}
	return f
}()

func say(format string, args ...any) { fmt.Fprintf(con, format+"\n", args...) }

// cgroupDir is this process's cgroup v2 directory ("0::/path").
func cgroupDir() (string, string) {
	b, _ := os.ReadFile("/proc/self/cgroup")
	for _, line := range strings.Split(string(b), "\n") {
		if rel, ok := strings.CutPrefix(line, "0::"); ok {
			return rel, "/sys/fs/cgroup" + rel
		}
	}
	return "?", "/nonexistent"
}

func read(dir, file string) string {
	b, err := os.ReadFile(dir + "/" + file)
	if err != nil {
		return "unreadable"
	}
	return strings.TrimSpace(string(b))
}

// touch allocates n bytes and writes every page, so they are charged.
func touch(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

func main() {
	if len(os.Args) != 3 {
		say("usage: cgtool mem|hold MB")
		os.Exit(2)
	}
	mb, err := strconv.Atoi(os.Args[2])
	if err != nil {
		say("cgtool: %v", err)
		os.Exit(2)
	}
	rel, dir := cgroupDir()
	var keep [][]byte
	switch os.Args[1] {
	case "mem":
		say("MEMHOG cgroup=%s memory.max=%s", rel, read(dir, "memory.max"))
		for done := 10; done <= mb; done += 10 {
			keep = append(keep, touch(10<<20))
			say("MEMHOG allocated %d MB memory.current=%s", done, read(dir, "memory.current"))
		}
		say("MEMHOG survived %d MB", mb)
	case "hold":
		keep = append(keep, touch(mb<<20))
		for t := time.Now(); time.Since(t) < 300*time.Millisecond; {
		}
		say("HOLDER ready cgroup=%s memory.current=%s", rel, read(dir, "memory.current"))
		os.WriteFile("/run/holder-ready", nil, 0o644)
		for {
			time.Sleep(time.Hour)
		}
	default:
		say("cgtool: unknown mode %q", os.Args[1])
		os.Exit(2)
	}
	_ = keep
}
