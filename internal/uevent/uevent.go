// Package uevent reads what the kernel and udev say about devices: the
// datagrams of the NETLINK_KOBJECT_UEVENT socket (the kernel's own on
// group 1, udev's re-broadcast with its "libudev" header on group 2), the
// uevent files of /sys, and udev's database under /run/udev/data. It only
// parses; the socket, its sender checks and the file reads are the
// caller's. Every parser takes untrusted bytes and returns an error for
// anything it does not recognise, never a partial message.
package uevent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path"
	"strings"
)

// Netlink multicast groups of NETLINK_KOBJECT_UEVENT.
const (
	GroupKernel = 1 // the kernel's uevents
	GroupUdev   = 2 // udev's, after its rules ran and its database was written
)

// udevMagic is libudev's UDEV_MONITOR_MAGIC, in network byte order in the
// header.
const udevMagic = 0xfeedcafe

// udevHeaderSize is the size of libudev's monitor_netlink_header: the
// "libudev\0" prefix, then eight 32-bit fields.
const udevHeaderSize = 8 + 8*4

// Message is one uevent: its action (add, remove, change, move, bind,
// unbind, online, offline), its device path below /sys, and its
// properties (KEY=VALUE pairs, ACTION and DEVPATH among them).
type Message struct {
	Udev    bool // sent by udev (libudev header), else by the kernel
	Action  string
	DevPath string
	Props   map[string]string
}

// Get returns a property, "" when absent.
func (m Message) Get(key string) string { return m.Props[key] }

// Parse reads one datagram. A kernel datagram is "ACTION@DEVPATH\0" then
// KEY=VALUE\0 pairs; udev's starts with its header, whose properties_off
// and properties_len locate the same pairs (without the ACTION@ line).
// ACTION and DEVPATH must be present and DEVPATH a normalized absolute
// path, as libudev requires before it hands a device on.
func Parse(b []byte) (Message, error) {
	var m Message
	var props []byte
	switch {
	case bytes.HasPrefix(b, []byte("libudev\x00")):
		if len(b) < udevHeaderSize {
			return m, errors.New("udev message shorter than its header")
		}
		if binary.BigEndian.Uint32(b[8:12]) != udevMagic {
			return m, errors.New("udev message with a wrong magic")
		}
		off := binary.NativeEndian.Uint32(b[16:20])
		n := binary.NativeEndian.Uint32(b[20:24])
		if off < udevHeaderSize || uint64(off)+uint64(n) > uint64(len(b)) {
			return m, errors.New("udev message properties outside the datagram")
		}
		m.Udev = true
		props = b[off : off+n]
	default:
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return m, errors.New("kernel message without its header line")
		}
		head := string(b[:i])
		at := strings.Index(head, "@/")
		if at <= 0 {
			return m, errors.New("kernel message with an invalid header line")
		}
		props = b[i+1:]
	}
	m.Props = map[string]string{}
	for len(props) > 0 {
		i := bytes.IndexByte(props, 0)
		var kv []byte
		if i < 0 {
			kv, props = props, nil
		} else {
			kv, props = props[:i], props[i+1:]
		}
		if len(kv) == 0 {
			continue
		}
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok || k == "" {
			return Message{}, errors.New("property without '='")
		}
		m.Props[k] = v
	}
	m.Action, m.DevPath = m.Props["ACTION"], m.Props["DEVPATH"]
	if m.Action == "" || !validDevPath(m.DevPath) {
		return Message{}, errors.New("message without ACTION or a valid DEVPATH")
	}
	if old, ok := m.Props["DEVPATH_OLD"]; ok && !validDevPath(old) {
		return Message{}, errors.New("message with an invalid DEVPATH_OLD")
	}
	return m, nil
}

// validDevPath: an absolute, normalized path below /sys ("/devices/...").
func validDevPath(p string) bool {
	return len(p) > 1 && p[0] == '/' && path.Clean(p) == p && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/..") && !strings.ContainsAny(p, "\x00\n")
}

// ParseEnv reads a /sys uevent file: KEY=VALUE lines.
func ParseEnv(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// DB is one device's entry in udev's database (/run/udev/data/ID): its
// symbolic links under /dev (S:), properties (E:), tags (G:) and current
// tags (Q:).
type DB struct {
	Links       []string
	Props       map[string]string
	Tags        []string
	CurrentTags []string
}

// ParseDB reads a database entry; unknown lines are skipped, as udev's
// own reader skips them.
func ParseDB(text string) DB {
	db := DB{Props: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		if len(line) < 2 || line[1] != ':' {
			continue
		}
		v := line[2:]
		switch line[0] {
		case 'S':
			db.Links = append(db.Links, "/dev/"+v)
		case 'E':
			if k, val, ok := strings.Cut(v, "="); ok && k != "" {
				db.Props[k] = val
			}
		case 'G':
			db.Tags = append(db.Tags, v)
		case 'Q':
			db.CurrentTags = append(db.CurrentTags, v)
		}
	}
	return db
}

// HasTag says whether a TAGS= or CURRENT_TAGS= value (":a:b:") holds tag.
func HasTag(list, tag string) bool {
	for _, t := range strings.Split(list, ":") {
		if t == tag {
			return true
		}
	}
	return false
}
