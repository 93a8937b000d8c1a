package exec

import (
	"reflect"
	"strings"
	"syscall"
	"testing"

	"gosd/internal/seccomp"
	"gosd/unitfile"
)

// secUnit builds a unit's process environment from [Service] lines, so
// the settings are merged exactly as a unit file's are.
func secUnit(t *testing.T, lines ...string) *unitfile.ExecContext {
	t.Helper()
	entries := []unitfile.Entry{{Section: "Service", Key: "ExecStart", Value: "/bin/true"}}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, "=")
		entries = append(entries, unitfile.Entry{Section: "Service", Key: k, Value: v})
	}
	u := unitfile.Build("sec.service", entries, unitfile.BuildInfo{})
	for _, d := range u.Diags {
		t.Logf("%v", d)
	}
	return &u.Service.Exec
}

func py(script string) unitfile.ExecCommand {
	return unitfile.ExecCommand{Path: "/usr/bin/python3", Argv: []string{"/usr/bin/python3", "-c", script}}
}

// Each setting against a real process that tries what it forbids: killed
// with SIGSYS where systemd kills, the errno systemd gives otherwise.
func TestSeccompSettings(t *testing.T) {
	const errnoOf = "import sys\ntry:\n  f()\n  print('allowed')\nexcept OSError as e:\n  print(e.errno)\n"
	settime := "import time\ndef f(): time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_REALTIME))\n" + errnoOf
	uname := "import os\ndef f(): os.uname()\n" + errnoOf
	for _, c := range []struct {
		name     string
		settings []string
		cmd      unitfile.ExecCommand
		want     string // output, or "SIGSYS"
	}{
		{"deny @clock kills", []string{"SystemCallFilter=~@clock"}, py(settime), "SIGSYS"},
		{"deny @clock EPERM", []string{"SystemCallFilter=~@clock", "SystemCallErrorNumber=EPERM"}, py(settime), "1\n"},
		{"ProtectClock", []string{"ProtectClock=yes"}, py(settime), "1\n"},
		{"not filtered", []string{"SystemCallFilter=~@mount"}, py(uname), "allowed\n"},
		{"allow list with errno", []string{"SystemCallFilter=@system-service", "SystemCallFilter=~uname:EILSEQ", "SystemCallErrorNumber=EACCES"}, py(uname), "84\n"},
		{"allow list error number", []string{"SystemCallFilter=@basic-io @file-system @process @signal @network-io @io-event @ipc @resources", "SystemCallErrorNumber=EACCES"}, py(uname), "13\n"},
		{"address families", []string{"RestrictAddressFamilies=AF_UNIX"},
			py("import socket\ndef f(): socket.socket(socket.AF_INET)\n" + errnoOf), "97\n"},
		{"address families unix allowed", []string{"RestrictAddressFamilies=AF_UNIX AF_INET", "RestrictAddressFamilies=~AF_INET"},
			py("import socket\ndef f(): socket.socket(socket.AF_UNIX)\n" + errnoOf), "allowed\n"},
		{"namespaces", []string{"RestrictNamespaces=yes"}, shell(`unshare -u true 2>/dev/null && echo allowed || echo denied`), "denied\n"},
		{"namespaces kept", []string{"RestrictNamespaces=uts"}, shell(`unshare -u true && echo allowed`), "allowed\n"},
		{"namespaces others", []string{"RestrictNamespaces=uts"}, shell(`unshare -n true 2>/dev/null && echo allowed || echo denied`), "denied\n"},
		{"write+execute memory", []string{"MemoryDenyWriteExecute=yes"},
			py("import mmap\ndef f(): mmap.mmap(-1, 4096, prot=mmap.PROT_READ|mmap.PROT_WRITE|mmap.PROT_EXEC)\n" + errnoOf), "1\n"},
		{"suid", []string{"RestrictSUIDSGID=yes"},
			py("import os, tempfile\nd = tempfile.mkdtemp()\ndef f(): os.mkdir(d + '/x', 0o4755)\n" + errnoOf), "1\n"},
		{"realtime", []string{"RestrictRealtime=yes"},
			py("import os\ndef f(): os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))\n" + errnoOf), "1\n"},
		{"personality", []string{"LockPersonality=yes"},
			py("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\ndef f():\n  if libc.personality(8) < 0: raise OSError(ctypes.get_errno(), '')\n" + errnoOf), "1\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ec := secUnit(t, c.settings...)
			out, ws := run(t, Spec{Cmd: c.cmd, Exec: ec})
			if c.want == "SIGSYS" {
				if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
					t.Errorf("%v: want SIGSYS, got %v %q", c.settings, ws, out)
				}
				return
			}
			if ws.ExitStatus() != 0 || out != c.want {
				t.Errorf("%v: got %q (%v), want %q", c.settings, out, ws, c.want)
			}
		})
	}
}

// SystemCallArchitectures=native kills a process that makes an x86
// (int 0x80) system call, which would otherwise bypass x86-64 filters.
func TestSeccompArchitectures(t *testing.T) {
	// getpid through int 0x80, from an executable page.
	script := `import ctypes, mmap
code = bytes([0xb8, 0x14, 0, 0, 0, 0xcd, 0x80, 0xc3])  # mov eax,20; int 0x80; ret
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ|mmap.PROT_WRITE|mmap.PROT_EXEC)
m.write(code)
addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
print(ctypes.CFUNCTYPE(ctypes.c_int)(addr)() > 0)
`
	out, ws := run(t, Spec{Cmd: py(script), Exec: secUnit(t)})
	if ws.ExitStatus() != 0 || out != "True\n" {
		t.Skipf("no x86 system calls here: %q %v", out, ws)
	}
	out, ws = run(t, Spec{Cmd: py(script), Exec: secUnit(t, "SystemCallArchitectures=native")})
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Errorf("x86 call under SystemCallArchitectures=native: %q %v", out, ws)
	}
	// A deny list covers the x86 numbers too (getpid is 20 there, 39 on x86-64).
	out, ws = run(t, Spec{Cmd: py(script), Exec: secUnit(t, "SystemCallFilter=~getpid")})
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Errorf("x86 getpid under SystemCallFilter=~getpid: %q %v", out, ws)
	}
}

// A filter for a unit that drops root needs no_new_privs, which is then
// implied (as systemd does); a root unit keeps its privileges.
func TestSeccompImpliesNoNewPrivs(t *testing.T) {
	for user, want := range map[string]string{"nobody": "NoNewPrivs:\t1\n", "": "NoNewPrivs:\t0\n"} {
		ec := secUnit(t, "SystemCallFilter=~@mount", "User="+user)
		out, ws := run(t, Spec{Cmd: shell(`grep NoNewPrivs /proc/self/status`), Exec: ec})
		if ws.ExitStatus() != 0 || out != want {
			t.Errorf("User=%q: %q %v", user, out, ws)
		}
	}
}

// redisLike is the part of Debian's redis-server.service that runs in the
// child (its mount settings aside): what a hardened daemon costs to start.
func redisLike(b *testing.B) *unitfile.ExecContext {
	entries := []unitfile.Entry{{Section: "Service", Key: "ExecStart", Value: "/bin/true"}}
	for _, l := range []string{"UMask=007", "LimitNOFILE=65535", "NoNewPrivileges=true",
		"CapabilityBoundingSet=CAP_SETGID CAP_SETUID CAP_SYS_RESOURCE", "MemoryDenyWriteExecute=true",
		"LockPersonality=true", "RestrictRealtime=true", "RestrictNamespaces=true", "RestrictSUIDSGID=true",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallArchitectures=native",
		"SystemCallFilter=@system-service", "SystemCallFilter=~ @privileged @resources", "ProtectClock=true"} {
		k, v, _ := strings.Cut(l, "=")
		entries = append(entries, unitfile.Entry{Section: "Service", Key: k, Value: v})
	}
	return &unitfile.Build("redis-server.service", entries, unitfile.BuildInfo{}).Service.Exec
}

func BenchmarkSpawnRedisHardened(b *testing.B) { benchSpawnWith(b, redisLike(b), false) }

// CPUAffinity=, IOSchedulingClass=/Priority= and CPUSchedulingPolicy=
// reach the program.
func TestSchedulingSettings(t *testing.T) {
	ec := secUnit(t, "CPUAffinity=0", "IOSchedulingClass=best-effort", "IOSchedulingPriority=6", "CPUSchedulingPolicy=batch")
	out, ws := run(t, Spec{Cmd: shell(`grep Cpus_allowed_list /proc/self/status | tr -d '\t'; LC_ALL=C ionice; LC_ALL=C chrt -p $$ | head -1 | sed 's/.*: //'`), Exec: ec})
	if want := "Cpus_allowed_list:0\nbest-effort: prio 6\nSCHED_BATCH\n"; ws.ExitStatus() != 0 || out != want {
		t.Errorf("got %q %v, want %q", out, ws, want)
	}
	ec = secUnit(t, "IOSchedulingClass=idle")
	if out, _ := run(t, Spec{Cmd: shell(`LC_ALL=C ionice`), Exec: ec}); out != "idle\n" {
		t.Errorf("idle: %q", out)
	}
}

// Personality= changes what uname reports (and LockPersonality= keeps
// it); SecureBits= reach the program.
func TestPersonalityAndSecureBits(t *testing.T) {
	ec := secUnit(t, "Personality=x86", "LockPersonality=yes")
	if out, ws := run(t, Spec{Cmd: shell(`uname -m`), Exec: ec}); ws.ExitStatus() != 0 || out != "i686\n" {
		t.Errorf("Personality=x86: %q %v", out, ws)
	}
	ec = secUnit(t, "SecureBits=noroot", "SecureBits=no-setuid-fixup")
	out, ws := run(t, Spec{Cmd: shell(`capsh --print | grep -E 'secure-(noroot|no-suid-fixup):'`), Exec: ec})
	if ws.ExitStatus() != 0 || !strings.Contains(out, "secure-noroot: yes") || !strings.Contains(out, "secure-no-suid-fixup: yes") {
		t.Errorf("SecureBits=: %q %v", out, ws)
	}
}

// The programs reach the helper as they were built: none, an empty one
// and several; a truncated argument is refused, never read past.
func TestFiltersArgument(t *testing.T) {
	for _, progs := range [][][]byte{{}, {{}}, {{1, 2, 3, 4, 5, 6, 7, 8}, make([]byte, 8*300)}} {
		got, err := decodeFilters(encodeFilters(progs))
		if err != nil || len(got) != len(progs) {
			t.Fatalf("%d programs: got %d, %v", len(progs), len(got), err)
		}
		for i := range progs {
			if string(got[i]) != string(progs[i]) {
				t.Errorf("program %d differs", i)
			}
		}
	}
	arg := encodeFilters([][]byte{make([]byte, 16)})
	for _, bad := range []string{arg[:len(arg)-4], "AAAA", "!"} {
		if _, err := decodeFilters(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The cache of built filters never serves a list that changed in place.
func TestFilterCacheFollowsContent(t *testing.T) {
	var l seccomp.SyscallList
	l.Add("~getpid")
	abis := runningABIs()
	first, err := syscallFilterPrograms(&l, 0, abis)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := syscallFilterPrograms(&l, 0, abis)
	if len(again) == 0 || &again[0][0] != &first[0][0] {
		t.Error("the same list was built twice")
	}
	l.Add("~uname")
	changed, _ := syscallFilterPrograms(&l, 0, abis)
	if len(changed[0]) == len(first[0]) {
		t.Errorf("a list changed in place got its old programs (%d instructions)", len(changed[0]))
	}
	if other, _ := syscallFilterPrograms(&l, 1, abis); reflect.DeepEqual(other, changed) {
		t.Error("another error number got the same programs")
	}
}
