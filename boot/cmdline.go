package boot

import (
	"strings"

	"gosd/internal/kcmdline"
)

// Cmdline is what gosd takes from the kernel command line
// (kernel-command-line(7)); everything else there is ignored.
type Cmdline struct {
	// Unit is the unit to boot into instead of default.target: from
	// systemd.unit= or gosd.unit= (the later word wins), or from the
	// runlevel words: emergency and -b give emergency.target; rescue,
	// single, s, S and 1 give rescue.target; 2-5 give runlevelN.target.
	Unit string
	// LogLevel from systemd.log_level= or gosd.log_level= (as given:
	// a name such as "debug" or a number).
	LogLevel string
	// ShowStatus from systemd.show_status= (as given; "" when absent).
	ShowStatus string
	// Quiet: the word quiet, which makes the status lines' default
	// "error" (systemd(1), systemd.show_status).
	Quiet bool
	// MachineID from systemd.machine_id= (32 lower-case hex digits), used
	// when /etc/machine-id is empty.
	MachineID string
	// Environment from systemd.setenv=NAME=VALUE, in order.
	Environment []string
}

// ReadKernelCmdline returns the kernel command line's options, "" where
// there are none: /proc/cmdline, or gosd's own in a container (kcmdline).
func ReadKernelCmdline() string { return kcmdline.Read() }

// ParseKernelCmdline reads the words gosd knows. Words are separated by
// white space; double quotes group a value with spaces (the kernel's own
// rule), and `rd.` forms are ignored: gosd is not an initrd manager.
func ParseKernelCmdline(cmdline string) Cmdline {
	var c Cmdline
	for _, w := range splitCmdline(cmdline) {
		key, val, hasVal := strings.Cut(w, "=")
		// kernel-command-line(7): "-" and "_" are the same in systemd's keys.
		key = strings.ReplaceAll(key, "-", "_")
		switch {
		case hasVal && (key == "systemd.unit" || key == "gosd.unit"):
			if val != "" {
				c.Unit = val
			}
		case hasVal && (key == "systemd.log_level" || key == "gosd.log_level"):
			c.LogLevel = val
		case key == "systemd.show_status":
			if hasVal {
				c.ShowStatus = val
			} else {
				c.ShowStatus = "true"
			}
		case hasVal && key == "systemd.machine_id":
			if validMachineID(val) {
				c.MachineID = val
			}
		case hasVal && key == "systemd.setenv":
			if strings.Contains(val, "=") {
				c.Environment = append(c.Environment, val)
			}
		case w == "quiet":
			c.Quiet = true
		case !hasVal:
			if u := runlevelUnit(w); u != "" {
				c.Unit = u
			}
		}
	}
	return c
}

// StatusShown is what the status lines on the console show, as systemd(1)
// reads systemd.show_status= and quiet: "all", "error" (only failures) or
// "none". systemd's "auto" shows nothing until the boot is slow and then
// everything; gosd shows failures only for it. A word it does not know
// leaves the default.
func (c Cmdline) StatusShown() string {
	switch strings.ToLower(c.ShowStatus) {
	case "1", "yes", "y", "true", "t", "on":
		return "all"
	case "0", "no", "n", "false", "f", "off":
		return "none"
	case "error", "auto":
		return "error"
	}
	if c.Quiet {
		return "error"
	}
	return "all"
}

// runlevelUnit maps the SysV words systemd still honours to targets.
func runlevelUnit(w string) string {
	switch w {
	case "emergency", "-b":
		return "emergency.target"
	case "rescue", "single", "s", "S", "1":
		return "rescue.target"
	case "2", "3", "4", "5":
		return "runlevel" + w + ".target"
	}
	return ""
}

func splitCmdline(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			inWord = true
		case !inQuote && (r == ' ' || r == '\t' || r == '\n'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func validMachineID(s string) bool {
	if len(s) != 32 || s == strings.Repeat("0", 32) {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
