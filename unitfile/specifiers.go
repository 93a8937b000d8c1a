package unitfile

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Specifiers holds the host and manager values behind the "%" specifiers
// of systemd.unit(5) "SPECIFIERS" that do not depend on the unit.
type Specifiers struct {
	Arch            string // %a, systemd's architecture name (x86-64, arm64, ...)
	ImageVersion    string // %A, IMAGE_VERSION= of os-release
	BootID          string // %b
	BuildID         string // %B, BUILD_ID= of os-release
	CacheDir        string // %C
	CredentialsBase string // %d is CredentialsBase + "/" + unit name
	ConfigDir       string // %E
	Group           string // %g
	GID             string // %G
	Home            string // %h
	Hostname        string // %H; %l is its first label
	LogDir          string // %L
	MachineID       string // %m
	ImageID         string // %M, IMAGE_ID= of os-release
	OSID            string // %o, ID= of os-release
	PrettyHostname  string // %q, PRETTY_HOSTNAME= of machine-info, else Hostname
	Shell           string // %s
	StateDir        string // %S
	RuntimeDir      string // %t
	TempDir         string // %T
	User            string // %u
	UID             string // %U
	KernelRelease   string // %v
	VarTempDir      string // %V
	VersionID       string // %w, VERSION_ID= of os-release
	VariantID       string // %W, VARIANT_ID= of os-release
}

// SystemSpecifiers reads the values for the system manager from this host.
// Values that cannot be read are left empty, as systemd leaves them unset.
func SystemSpecifiers() Specifiers {
	s := Specifiers{
		Arch:            Architecture(),
		CacheDir:        "/var/cache",
		CredentialsBase: RunDir + "/credentials",
		ConfigDir:       "/etc",
		LogDir:          "/var/log",
		StateDir:        "/var/lib",
		RuntimeDir:      RunDir,
		TempDir:         "/tmp",
		VarTempDir:      "/var/tmp",
	}
	s.Hostname, _ = os.Hostname()
	s.PrettyHostname = s.Hostname
	if v := envFileValue("/etc/machine-info", "PRETTY_HOSTNAME"); v != "" {
		s.PrettyHostname = v
	}
	s.MachineID = firstLine("/etc/machine-id")
	s.BootID = strings.ReplaceAll(firstLine("/proc/sys/kernel/random/boot_id"), "-", "")
	s.KernelRelease = firstLine("/proc/sys/kernel/osrelease")
	osRelease := "/etc/os-release"
	if _, err := os.Stat(osRelease); err != nil {
		osRelease = "/usr/lib/os-release"
	}
	// One read for the six keys (gosd reads this at every start).
	rel := envFileValues(osRelease)
	s.OSID, s.VersionID, s.VariantID = rel["ID"], rel["VERSION_ID"], rel["VARIANT_ID"]
	s.BuildID, s.ImageID, s.ImageVersion = rel["BUILD_ID"], rel["IMAGE_ID"], rel["IMAGE_VERSION"]

	uid := os.Getuid()
	if uid == 0 {
		// systemd synthesizes root without a user database lookup,
		// except for the shell, which systemd 252 takes from the
		// password database like for any user (`systemd-analyze verify`
		// gives /bin/bash for %s where root's shell is bash).
		s.User, s.UID, s.Group, s.GID, s.Home, s.Shell = "root", "0", "root", "0", "/root", "/bin/sh"
		if sh := passwdShell("0"); sh != "" {
			s.Shell = sh
		}
		return s
	}
	s.UID, s.GID = strconv.Itoa(uid), strconv.Itoa(os.Getgid())
	s.User, s.Group, s.Home, s.Shell = s.UID, s.GID, os.Getenv("HOME"), "/bin/sh"
	if u, err := user.LookupId(s.UID); err == nil {
		s.User, s.Home = u.Username, u.HomeDir
	}
	if g, err := user.LookupGroupId(s.GID); err == nil {
		s.Group = g.Name
	}
	if sh := passwdShell(s.UID); sh != "" {
		s.Shell = sh
	}
	return s
}

// Architecture is the architecture gosd runs on by systemd's name
// (systemd-analyze architectures): %a, ConditionArchitecture=, and the
// Manager's Architecture property.
func Architecture() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86-64"
	case "386":
		return "x86"
	case "arm64":
		return "arm64"
	case "arm":
		return "arm"
	case "ppc64le":
		return "ppc64-le"
	case "ppc64":
		return "ppc64"
	case "s390x":
		return "s390x"
	case "riscv64":
		return "riscv64"
	case "mips64le":
		return "mips64-le"
	case "mips64":
		return "mips64"
	case "mipsle":
		return "mips-le"
	case "mips":
		return "mips"
	case "loong64":
		return "loongarch64"
	}
	return runtime.GOARCH
}

func firstLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return strings.TrimSpace(string(line))
}

// envFileValue reads KEY= from an os-release style file, removing one
// level of quotes.
func envFileValue(path, key string) string {
	return envFileValues(path)[key]
}

// envFileValues reads every KEY=value of an os-release style file; the
// first of a repeated key counts. Empty when the file cannot be read.
func envFileValues(path string) map[string]string {
	vals := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return vals
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		if _, seen := vals[k]; seen {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vals[k] = v
	}
	return vals
}

func passwdShell(uid string) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && fields[2] == uid {
			return fields[6]
		}
	}
	return ""
}

// Expand resolves every "%x" specifier of systemd.unit(5) in value for the
// unit unitName whose fragment is fragmentPath. "%%" is a literal '%'; a
// '%' at the very end is kept, as systemd does; any other unknown
// specifier is an error and the caller decides how severe it is.
func (s *Specifiers) Expand(value string, unitName string, fragmentPath string) (string, error) {
	if strings.IndexByte(value, '%') < 0 {
		return value, nil
	}
	prefix, instance, suffix := SplitName(unitName)
	var b strings.Builder
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(value) {
			b.WriteByte('%')
			break
		}
		i++
		var v string
		var err error
		switch value[i] {
		case '%':
			v = "%"
		case 'a':
			v = s.Arch
		case 'A':
			v = s.ImageVersion
		case 'b':
			v = s.BootID
		case 'B':
			v = s.BuildID
		case 'C':
			v = s.CacheDir
		case 'd':
			v = s.CredentialsBase + "/" + unitName
		case 'E':
			v = s.ConfigDir
		case 'f':
			// The unescaped instance, else the unescaped prefix, as a path.
			if instance != "" {
				v, err = UnescapePath(instance)
			} else {
				v, err = UnescapePath(prefix)
			}
		case 'g':
			v = s.Group
		case 'G':
			v = s.GID
		case 'h':
			v = s.Home
		case 'H':
			v = s.Hostname
		case 'i':
			v = instance
		case 'I':
			v, err = Unescape(instance)
		case 'j':
			v = lastDashComponent(prefix)
		case 'J':
			v, err = Unescape(lastDashComponent(prefix))
		case 'l':
			v, _, _ = strings.Cut(s.Hostname, ".")
		case 'L':
			v = s.LogDir
		case 'm':
			v = s.MachineID
		case 'M':
			v = s.ImageID
		case 'n':
			v = unitName
		case 'N':
			v = strings.TrimSuffix(unitName, "."+suffix)
		case 'o':
			v = s.OSID
		case 'p':
			v = prefix
		case 'P':
			v, err = Unescape(prefix)
		case 'q':
			v = s.PrettyHostname
		case 's':
			v = s.Shell
		case 'S':
			v = s.StateDir
		case 't':
			v = s.RuntimeDir
		case 'T':
			v = s.TempDir
		case 'u':
			v = s.User
		case 'U':
			v = s.UID
		case 'v':
			v = s.KernelRelease
		case 'V':
			v = s.VarTempDir
		case 'w':
			v = s.VersionID
		case 'W':
			v = s.VariantID
		case 'y':
			v = fragmentPath
		case 'Y':
			if fragmentPath != "" {
				v = filepath.Dir(fragmentPath)
			}
		default:
			return "", fmt.Errorf("unknown specifier %%%c in %q", value[i], value)
		}
		if err != nil {
			return "", fmt.Errorf("specifier %%%c of unit %s: %w", value[i], unitName, err)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// lastDashComponent is %j: the part of prefix after its last '-', or all
// of prefix when it has none.
func lastDashComponent(prefix string) string {
	if i := strings.LastIndexByte(prefix, '-'); i >= 0 {
		return prefix[i+1:]
	}
	return prefix
}
