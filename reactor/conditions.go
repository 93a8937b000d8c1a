package reactor

import (
	"fmt"
	"gosd/internal/mountinfo"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	gexec "gosd/exec"
	"gosd/internal/kcmdline"
	"gosd/unitfile"
)

// evalConditions applies systemd.unit(5) "Conditions and Asserts": every
// non-triggering line must hold; if there are triggering ("|") lines, at
// least one of them must hold. "!" negates a line. It returns the first
// failing line (file:line Kind=value) when the set fails, and messages for
// kinds gosd cannot evaluate (those count as met).
func evalConditions(conds []unitfile.Condition, prefix string) (ok bool, failed string, notes []string) {
	anyTrigger, triggerMet := false, false
	for _, c := range conds {
		met, known := checkCondition(c)
		if !known {
			notes = append(notes, fmt.Sprintf("%s: %s%s=%s cannot be evaluated by gosd, treated as met", c.Pos, prefix, c.Kind, c.Value))
			met = true
		} else if c.Negate {
			met = !met
		}
		describe := func() string {
			neg := ""
			if c.Negate {
				neg = "!"
			}
			trig := ""
			if c.Trigger {
				trig = "|"
			}
			return fmt.Sprintf("%s: %s%s=%s%s%s", c.Pos, prefix, c.Kind, trig, neg, c.Value)
		}
		if c.Trigger {
			anyTrigger = true
			if met {
				triggerMet = true
			} else if failed == "" {
				failed = describe()
			}
			continue
		}
		if !met {
			return false, describe(), notes
		}
	}
	if anyTrigger && !triggerMet {
		return false, failed, notes
	}
	return true, "", notes
}

// checkCondition evaluates one line without its "!"; known is false for
// kinds gosd does not evaluate.
func checkCondition(c unitfile.Condition) (met, known bool) {
	v := c.Value
	switch c.Kind {
	case "PathExists":
		_, err := os.Stat(v)
		return err == nil, true
	case "PathExistsGlob":
		m, _ := filepath.Glob(v)
		return len(m) > 0, true
	case "PathIsDirectory":
		st, err := os.Stat(v)
		return err == nil && st.IsDir(), true
	case "PathIsSymbolicLink":
		st, err := os.Lstat(v)
		return err == nil && st.Mode()&os.ModeSymlink != 0, true
	case "PathIsMountPoint":
		return isMountPoint(v), true
	case "PathIsReadWrite":
		return isReadWrite(v), true
	case "DirectoryNotEmpty":
		entries, err := os.ReadDir(v)
		return err == nil && len(entries) > 0, true
	case "FileNotEmpty":
		st, err := os.Stat(v)
		return err == nil && st.Mode().IsRegular() && st.Size() > 0, true
	case "FileIsExecutable":
		st, err := os.Stat(v)
		return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0, true
	case "User":
		return matchUser(v), true
	case "Group":
		return matchGroup(v), true
	case "Host":
		return matchHost(v), true
	case "KernelCommandLine":
		return matchCmdline(v), true
	case "Virtualization":
		return matchVirtualization(v), true
	case "Environment":
		for _, kv := range os.Environ() {
			if kv == v || (!strings.Contains(v, "=") && strings.HasPrefix(kv, v+"=")) {
				return true, true
			}
		}
		return false, true
	case "Architecture":
		return v == "native" || v == unitfile.Architecture(), true
	case "FirstBoot":
		want, err := parseBool(v)
		if err != nil {
			return false, true
		}
		return want == isFirstBoot(), true
	case "Capability":
		return hasCapability(v)
	case "NeedsUpdate":
		return false, true // gosd never runs offline updates
	case "Security":
		return hasSecurity(v)
	}
	return false, false
}

// hasSecurity is ConditionSecurity= (systemd.unit(5)): whether the named
// security technology is enabled, found where the kernel publishes it.
// "cvm" (confidential VM) is not evaluated.
func hasSecurity(v string) (met, known bool) {
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	switch v {
	case "selinux":
		return exists("/sys/fs/selinux/enforce"), true
	case "apparmor":
		b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
		return err == nil && strings.HasPrefix(string(b), "Y"), true
	case "smack":
		return exists("/sys/fs/smackfs"), true
	case "tomoyo":
		return exists("/sys/kernel/security/tomoyo/version"), true
	case "ima":
		return exists("/sys/kernel/security/ima"), true
	case "audit":
		return hasAudit(), true
	case "tpm2":
		// A TPM2 resource manager device, or firmware that announces one.
		if ents, err := os.ReadDir("/sys/class/tpmrm"); err == nil && len(ents) > 0 {
			return true, true
		}
		return exists("/sys/firmware/acpi/tables/TPM2"), true
	case "uefi-secureboot":
		// EFI variable SecureBoot: 4 bytes of attributes, then 1 = on.
		b, err := os.ReadFile("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d0-aa0d-00e098032b8c")
		return err == nil && len(b) == 5 && b[4] == 1, true
	}
	return false, false
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("bad boolean %q", s)
}

// isReadWrite is systemd's ConditionPathIsReadWrite=: the path exists and
// the file system it is on is not mounted read-only (statfs's ST_RDONLY,
// or access(W_OK) failing with EROFS). It is not a permission check:
// /proc/sys/net/ is "read-write" though its mode is r-x and the kernel
// refuses write access to the directory itself, even to root.
func isReadWrite(path string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		// systemd: any error but ENOENT leaves the condition met.
		return err != syscall.ENOENT
	}
	const rdonly = 1 // ST_RDONLY (Linux), MNT_RDONLY (BSD, darwin)
	if uint64(st.Flags)&rdonly != 0 {
		return false
	}
	return syscall.Access(path, 2) != syscall.EROFS
}

// hasCapability is systemd's ConditionCapability=: the capability is in
// the manager's bounding set (CapBnd: in /proc/self/status). known is
// false where there is no such file (not Linux) or the name is unknown.
func hasCapability(name string) (met, known bool) {
	n, ok := gexec.CapabilityNumber(name)
	if !ok || n >= 64 {
		return false, false
	}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false, false
	}
	return capInStatus(string(data), n)
}

// capInStatus reads the CapBnd: mask of a /proc/PID/status text.
func capInStatus(status string, n int) (met, known bool) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return false, false
			}
			return mask&(1<<uint(n)) != 0, true
		}
	}
	return false, false
}

func isMountPoint(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	if mounts, err := mountinfo.Read(); err == nil {
		abs, _ := filepath.Abs(path)
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		for _, m := range mounts {
			if m.Point == abs {
				return true
			}
		}
		return false
	}
	parent, err := os.Stat(filepath.Join(path, ".."))
	if err != nil {
		return false
	}
	s1, s2 := st.Sys().(*syscall.Stat_t), parent.Sys().(*syscall.Stat_t)
	return s1.Dev != s2.Dev || s1.Ino == s2.Ino
}

func matchUser(v string) bool {
	uid := os.Getuid()
	if v == "@system" {
		return uid < 1000
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n == uid
	}
	return lookupName("/etc/passwd", v) == strconv.Itoa(uid)
}

func matchGroup(v string) bool {
	gid := -1
	if n, err := strconv.Atoi(v); err == nil {
		gid = n
	} else if s := lookupName("/etc/group", v); s != "" {
		gid, _ = strconv.Atoi(s)
	}
	if gid < 0 {
		return false
	}
	if gid == os.Getgid() {
		return true
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if g == gid {
			return true
		}
	}
	return false
}

// lookupName returns the id (third field) of name in a colon database.
func lookupName(file, name string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == name {
			return f[2]
		}
	}
	return ""
}

func matchHost(v string) bool {
	if id, err := os.ReadFile("/etc/machine-id"); err == nil && strings.EqualFold(strings.TrimSpace(string(id)), strings.ReplaceAll(v, "-", "")) {
		return true
	}
	host, err := os.Hostname()
	if err != nil {
		return false
	}
	ok, _ := filepath.Match(strings.ToLower(v), strings.ToLower(host))
	return ok
}

func matchCmdline(v string) bool {
	for _, w := range strings.Fields(kcmdline.Read()) {
		if w == v || (!strings.Contains(v, "=") && strings.HasPrefix(w, v+"=")) {
			return true
		}
	}
	return false
}

// virtualization detects, best effort, a container or VM technology and
// says which kind it is.
func virtualization() (name string, container bool) {
	if data, err := os.ReadFile("/run/systemd/container"); err == nil {
		return strings.TrimSpace(string(data)), true
	}
	if data, err := os.ReadFile("/proc/1/environ"); err == nil {
		for _, kv := range strings.Split(string(data), "\x00") {
			if c, ok := strings.CutPrefix(kv, "container="); ok {
				return c, true
			}
		}
	}
	if _, err := os.Stat("/.dockerenv"); err == nil {
		return "docker", true
	}
	if data, err := os.ReadFile("/sys/class/dmi/id/sys_vendor"); err == nil {
		vendor := strings.ToLower(string(data))
		for _, m := range [][2]string{{"qemu", "qemu"}, {"kvm", "kvm"}, {"vmware", "vmware"}, {"microsoft", "microsoft"}, {"innotek", "oracle"}, {"xen", "xen"}, {"amazon ec2", "amazon"}, {"google", "google"}} {
			if strings.Contains(vendor, m[0]) {
				return m[1], false
			}
		}
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil && strings.Contains(string(data), " hypervisor") {
		return "vm-other", false
	}
	return "", false
}

func matchVirtualization(v string) bool {
	name, container := virtualization()
	if b, err := parseBool(v); err == nil {
		return b == (name != "")
	}
	switch v {
	case "vm":
		return name != "" && !container
	case "container":
		return container
	}
	return v == name
}

// isFirstBoot: systemd treats a missing or "uninitialized" /etc/machine-id
// as the first boot.
func isFirstBoot() bool {
	data, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		return true
	}
	s := strings.TrimSpace(string(data))
	return s == "" || s == "uninitialized"
}
