package unitfile

import (
	"fmt"
	"strconv"
	"strings"
)

// Signal numbers differ between operating systems, so each OS has its own
// table (signals_<os>.go): signalNames[n] is the name of signal n without
// "SIG", and sigRTMin/sigRTMax bound the real-time signals (0 when the OS
// has none).

// ParseSignal parses a signal as KillSignal= and friends accept it
// (systemd.kill(5), signal(7)): a name with or without "SIG" ("SIGTERM",
// "TERM"), a number ("15"), or a real-time signal "SIGRTMIN+n" /
// "SIGRTMAX-n" where the OS has them.
func ParseSignal(s string) (int, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.Atoi(t); err == nil {
		if n < 1 || n > maxSignal() {
			return 0, fmt.Errorf("invalid signal number %q", s)
		}
		return n, nil
	}
	name := strings.TrimPrefix(t, "SIG")
	for n, v := range signalNames {
		if v != "" && v == name {
			return n, nil
		}
	}
	for alias, n := range signalAliases {
		if alias == name {
			return n, nil
		}
	}
	if sigRTMin > 0 {
		base, off := name, 0
		if i := strings.IndexAny(name, "+-"); i > 0 {
			base = name[:i]
			o, err := strconv.Atoi(name[i+1:])
			if err != nil || o < 0 {
				return 0, fmt.Errorf("invalid signal %q", s)
			}
			off = o
			if name[i] == '-' {
				off = -o
			}
		}
		n := 0
		switch {
		case base == "RTMIN" && off >= 0:
			n = sigRTMin + off
		case base == "RTMAX" && off <= 0:
			n = sigRTMax + off
		}
		if n >= sigRTMin && n <= sigRTMax {
			return n, nil
		}
	}
	return 0, fmt.Errorf("invalid signal %q", s)
}

// SignalName returns "SIGTERM" for 15 (on Linux), "SIGRTMIN+3" for a
// real-time signal, or the number as text when the signal has no name.
func SignalName(n int) string {
	if n > 0 && n < len(signalNames) && signalNames[n] != "" {
		return "SIG" + signalNames[n]
	}
	if sigRTMin > 0 && n >= sigRTMin && n <= sigRTMax {
		if n == sigRTMin {
			return "SIGRTMIN"
		}
		return fmt.Sprintf("SIGRTMIN+%d", n-sigRTMin)
	}
	return strconv.Itoa(n)
}

func maxSignal() int {
	if sigRTMax > 0 {
		return sigRTMax
	}
	for n := len(signalNames) - 1; n > 0; n-- {
		if signalNames[n] != "" {
			return n
		}
	}
	return 0
}
