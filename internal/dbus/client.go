package dbus

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// This file is the client side: what gosd needs to talk to a bus daemon
// (the system bus, to follow Type=dbus services' names).

// ParseAddress picks the first unix transport of a D-Bus server address
// ("unix:path=/run/dbus/system_bus_socket", "unix:abstract=name"; several
// addresses are separated by ';', values are %-escaped) and returns the
// name to dial as a unix socket: the path, or "@name" for the Linux
// abstract namespace. Other transports are skipped.
func ParseAddress(addr string) (string, error) {
	for _, a := range strings.Split(addr, ";") {
		kind, rest, ok := strings.Cut(a, ":")
		if !ok || kind != "unix" {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			v, err := unescapeAddress(v)
			if err != nil {
				return "", fmt.Errorf("dbus: address %q: %v", addr, err)
			}
			switch {
			case k == "path" && v != "":
				return v, nil
			case k == "abstract" && v != "":
				return "@" + v, nil
			}
		}
	}
	return "", fmt.Errorf("dbus: address %q has no unix:path= or unix:abstract= part", addr)
}

func unescapeAddress(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errors.New("truncated %-escape")
		}
		x, err := hex.DecodeString(s[i+1 : i+3])
		if err != nil {
			return "", errors.New("bad %-escape")
		}
		b.Write(x)
		i += 2
	}
	return b.String(), nil
}

// ClientAuth is the client side of the SASL handshake with the EXTERNAL
// mechanism: the nul byte, "AUTH EXTERNAL <uid in decimal, hex-encoded>",
// the server's "OK <guid>", then "BEGIN". After it the stream carries
// messages; r must be the reader used for them (it may hold no message
// bytes yet: the server sends nothing before the client's first message).
func ClientAuth(r *bufio.Reader, w io.Writer, uid int) error {
	id := hex.EncodeToString([]byte(strconv.Itoa(uid)))
	if _, err := io.WriteString(w, "\x00AUTH EXTERNAL "+id+"\r\n"); err != nil {
		return err
	}
	line, err := readAuthLine(r)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(line), "OK ") {
		return fmt.Errorf("%w: server answered %q", ErrAuth, truncate(string(line), 80))
	}
	_, err = io.WriteString(w, "BEGIN\r\n")
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
