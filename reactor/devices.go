package reactor

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gosd/internal/uevent"
	"gosd/manager"
)

// Devices, followed for device units (manager/device.go), as systemd
// follows them (systemd.device(5)): with udev, the devices udev tagged
// "systemd" (its database under /run/udev at start, its re-broadcast
// uevents after); without udev (no /run/udev/control: a container, a
// microVM without it), the kernel's own uevents and /sys, with the tags
// udev's 99-systemd.rules would give: block devices, network interfaces
// (also named /sys/subsystem/net/devices/NAME) and serial ttys. The
// socket side is Linux only (devices_linux.go); the rest here reads files
// under roots that tests point elsewhere.

// deviceFS is where devices are read from: /sys, /run/udev and /dev.
type deviceFS struct{ sys, udev, dev string }

// coldplugResult is what startDeviceWatch's goroutine read (Linux).
type coldplugResult struct {
	devs     []manager.Device
	panicked any
}

var hostDeviceFS = deviceFS{sys: "/sys", udev: "/run/udev", dev: "/dev"}

// udevRunning says whether udev serves this system (its control socket
// exists), as systemd and libudev decide it.
func (fs deviceFS) udevRunning() bool {
	_, err := os.Lstat(filepath.Join(fs.udev, "control"))
	return err == nil
}

// kernelClasses are the /sys/class directories whose devices the rules
// tag without udev (a subset of 99-systemd.rules: the ones that need no
// udev database).
var kernelClasses = []string{"block", "net", "tty", "misc", "ptp", "ubi"}

// kernelDevice is the device a kernel uevent (or a /sys uevent file)
// describes, as udev's 99-systemd.rules would tag it; ok is false for
// devices the rules do not tag.
func (fs deviceFS) kernelDevice(props map[string]string) (d manager.Device, ok bool) {
	devPath := props["DEVPATH"]
	sysname := path.Base(devPath)
	sub := props["SUBSYSTEM"]
	d.SysPath = fs.sys + devPath
	d.Ready = true
	switch sub {
	case "block":
		// Not ready until set up (the rules' SYSTEMD_READY=0): a loop
		// device without a backing file, an nbd device without a
		// server.
		if props["DEVTYPE"] == "disk" {
			switch {
			case strings.HasPrefix(sysname, "loop") && !fs.exists(devPath, "loop/backing_file"):
				d.Ready = false
			case strings.HasPrefix(sysname, "nbd") && !fs.exists(devPath, "pid"):
				d.Ready = false
			case strings.HasPrefix(sysname, "md") && !fs.exists(devPath, "md/array_state"):
				d.Ready = false
			}
		}
	case "net":
		name := props["INTERFACE"]
		if name == "" {
			name = sysname
		}
		if name == "lo" {
			return d, false
		}
		d.Aliases = []string{"/sys/subsystem/net/devices/" + name}
	case "tty":
		if !ttyTagged(sysname) {
			return d, false
		}
		// A legacy serial port the hardware does not have.
		if strings.HasPrefix(sysname, "ttyS") && fs.attr(devPath, "port") == "0x0" && fs.attr(devPath, "iomem_base") == "0x0" {
			d.Ready = false
		}
	case "misc":
		if sysname != "rfkill" {
			return d, false
		}
		d.Wants = []string{"systemd-rfkill.socket"}
	case "ptp", "ubi":
	default:
		return d, false
	}
	if n := props["DEVNAME"]; n != "" {
		d.Node = fs.devNode(n)
	}
	return d, true
}

// ttyTagged: KERNEL=="tty[a-zA-Z]*|hvc*|xvc*|hvsi*|ttysclp*|sclp_line*".
func ttyTagged(n string) bool {
	if len(n) > 3 && strings.HasPrefix(n, "tty") {
		c := n[3]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return true
		}
	}
	for _, p := range []string{"hvc", "xvc", "hvsi", "sclp_line"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// devNode makes a DEVNAME (relative from the kernel, absolute from udev)
// an absolute path under /dev.
func (fs deviceFS) devNode(n string) string {
	if strings.HasPrefix(n, "/") {
		return n
	}
	return "/dev/" + n
}

func (fs deviceFS) exists(devPath, rel string) bool {
	_, err := os.Stat(filepath.Join(fs.sys, devPath, rel))
	return err == nil
}

// attr reads a small sysfs attribute, "" when it cannot.
func (fs deviceFS) attr(devPath, rel string) string {
	f, err := os.Open(filepath.Join(fs.sys, devPath, rel))
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	return strings.TrimSpace(string(buf[:n]))
}

// udevDevice is the device a udev message (or udev's database merged
// with the uevent file) describes: ready when it carries the current tag
// "systemd" and SYSTEMD_READY= is not false, as systemd's
// device_is_ready; its links are the DEVLINKS that are still this
// device's node (two disks may want one /dev/disk/by-label link: the one
// whose node it is wins, as systemd checks).
func (fs deviceFS) udevDevice(action string, props map[string]string) manager.Device {
	d := manager.Device{SysPath: fs.sys + props["DEVPATH"]}
	tags, ok := props["CURRENT_TAGS"]
	if !ok {
		tags = props["TAGS"]
	}
	d.Ready = action != "remove" && uevent.HasTag(tags, "systemd") && !falseWord(props["SYSTEMD_READY"])
	if !d.Ready {
		return d
	}
	if n := props["DEVNAME"]; n != "" {
		d.Node = fs.devNode(n)
	}
	for _, l := range strings.Fields(props["DEVLINKS"]) {
		if strings.HasPrefix(l, "/dev/block/") || strings.HasPrefix(l, "/dev/char/") {
			continue
		}
		if !fs.linkIsDevice(l, props["MAJOR"], props["MINOR"]) {
			continue
		}
		d.Links = append(d.Links, l)
	}
	for _, a := range strings.Fields(props["SYSTEMD_ALIAS"]) {
		if path.IsAbs(a) && path.Clean(a) == a {
			d.Aliases = append(d.Aliases, a)
		}
	}
	d.Wants = strings.Fields(props["SYSTEMD_WANTS"])
	return d
}

// falseWord: a value systemd's parse_boolean reads as false.
func falseWord(v string) bool {
	switch strings.ToLower(v) {
	case "0", "no", "n", "false", "f", "off":
		return true
	}
	return false
}

// coldplug lists every device present now: from udev's database when
// udev runs, else from the kernel's /sys classes.
func (fs deviceFS) coldplug() []manager.Device {
	if fs.udevRunning() {
		return fs.udevColdplug()
	}
	var out []manager.Device
	for _, class := range kernelClasses {
		dir := filepath.Join(fs.sys, "class", class)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			n := e.Name()
			switch {
			case class == "tty" && !ttyTagged(n), class == "misc" && n != "rfkill", class == "net" && n == "lo":
				continue
			}
			devPath, ok := fs.classDevPath(filepath.Join(dir, n))
			if !ok {
				continue
			}
			props := fs.ueventFile(devPath)
			props["SUBSYSTEM"], props["DEVPATH"] = class, devPath
			if d, ok := fs.kernelDevice(props); ok && d.Ready {
				out = append(out, d)
			}
		}
	}
	return out
}

// classDevPath follows a /sys/class (or /sys/dev, /sys/bus) link to the
// device's path below /sys ("/devices/...").
func (fs deviceFS) classDevPath(link string) (string, bool) {
	target, err := os.Readlink(link)
	if err != nil {
		return "", false
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(link), target)
	}
	rel, err := filepath.Rel(fs.sys, filepath.Clean(target))
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", false
	}
	return "/" + filepath.ToSlash(rel), true
}

// ueventFile reads a device's /sys uevent file.
func (fs deviceFS) ueventFile(devPath string) map[string]string {
	b, err := os.ReadFile(filepath.Join(fs.sys, devPath, "uevent"))
	if err != nil || len(b) > 64<<10 {
		return map[string]string{}
	}
	return uevent.ParseEnv(string(b))
}

// udevColdplug reads the devices udev tagged "systemd": the ids under
// tags/systemd (every id of data/ where udev keeps no tag index), each
// one's database entry and uevent file.
func (fs deviceFS) udevColdplug() []manager.Device {
	ents, err := os.ReadDir(filepath.Join(fs.udev, "tags", "systemd"))
	if err != nil {
		ents, _ = os.ReadDir(filepath.Join(fs.udev, "data"))
	}
	var ids []string
	for _, e := range ents {
		ids = append(ids, e.Name())
	}
	sort.Strings(ids)
	var ifindex map[string]string // lazily: ifindex -> /sys/class/net link
	var out []manager.Device
	for _, id := range ids {
		var link string
		switch {
		case strings.HasPrefix(id, "b"):
			link = filepath.Join(fs.sys, "dev", "block", id[1:])
		case strings.HasPrefix(id, "c"):
			link = filepath.Join(fs.sys, "dev", "char", id[1:])
		case strings.HasPrefix(id, "n"):
			if ifindex == nil {
				ifindex = fs.netIndexes()
			}
			link = ifindex[id[1:]]
		case strings.HasPrefix(id, "+"):
			sub, name, ok := strings.Cut(id[1:], ":")
			if !ok || strings.ContainsAny(name, "/") || strings.ContainsAny(sub, "/") {
				continue
			}
			link = filepath.Join(fs.sys, "bus", sub, "devices", name)
			if _, err := os.Lstat(link); err != nil {
				link = filepath.Join(fs.sys, "class", sub, name)
			}
		}
		if link == "" || strings.Contains(id, "/") || strings.Contains(id, "..") {
			continue
		}
		devPath, ok := fs.classDevPath(link)
		if !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(fs.udev, "data", id))
		if err != nil || len(b) > 1<<20 {
			continue
		}
		db := uevent.ParseDB(string(b))
		props := fs.ueventFile(devPath)
		for k, v := range db.Props {
			props[k] = v
		}
		props["DEVPATH"] = devPath
		props["DEVLINKS"] = strings.Join(db.Links, " ")
		tags := db.CurrentTags
		if len(tags) == 0 {
			tags = db.Tags // a database written before current tags
		}
		props["CURRENT_TAGS"] = ":" + strings.Join(tags, ":") + ":"
		if d := fs.udevDevice("add", props); d.Ready {
			out = append(out, d)
		}
	}
	return out
}

// netIndexes maps each network interface's ifindex to its /sys/class/net
// link.
func (fs deviceFS) netIndexes() map[string]string {
	out := map[string]string{}
	dir := filepath.Join(fs.sys, "class", "net")
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if i := fs.attr("/class/net/"+e.Name(), "ifindex"); i != "" {
			out[i] = filepath.Join(dir, e.Name())
		}
	}
	return out
}

// uevent adds to ev what one message says: the device it describes, ready
// or not, when it counts for device units or was reported before (so a
// device that loses its tag, or goes, is reported gone). A kernel message
// counts only while udev does not run; "move" (a renamed interface) also
// reports the old path gone.
func (fs deviceFS) uevent(m uevent.Message, reported map[string]bool, ev *manager.DevicesChanged) {
	if !m.Udev && fs.udevRunning() {
		return
	}
	gone := func(sysPath string) {
		if reported[sysPath] {
			delete(reported, sysPath)
			ev.Devices = append(ev.Devices, manager.Device{SysPath: sysPath})
		}
	}
	if m.Action == "move" {
		if old := m.Get("DEVPATH_OLD"); old != "" {
			gone(fs.sys + old)
		}
	}
	var d manager.Device
	switch {
	case m.Udev:
		d = fs.udevDevice(m.Action, m.Props)
	case m.Action == "remove":
		d = manager.Device{SysPath: fs.sys + m.DevPath}
	default:
		var ok bool
		if d, ok = fs.kernelDevice(m.Props); !ok {
			d = manager.Device{SysPath: fs.sys + m.DevPath}
		}
	}
	if !d.Ready {
		gone(d.SysPath)
		return
	}
	reported[d.SysPath] = true
	ev.Devices = append(ev.Devices, d)
}
