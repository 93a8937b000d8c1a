package sockets

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// FreeBSD control messages as its kernel lays them out (sys/socket.h),
// built by hand: the decoding is shared, only the socket calls are not.

func sockcred2(version, pid, uid, euid, gid, egid uint32, groups ...uint32) []byte {
	var b []byte
	for _, v := range append([]uint32{version, pid, uid, euid, gid, egid, uint32(len(groups))}, groups...) {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	return b
}

func cmsgcred(pid, uid, euid, gid uint32, groups ...uint32) []byte {
	var b []byte
	for _, v := range []uint32{pid, uid, euid, gid} {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	b = binary.NativeEndian.AppendUint16(b, uint16(len(groups)))
	b = append(b, 0, 0) // padding before the gid_t array
	for i := 0; i < 16; i++ {
		var g uint32
		if i < len(groups) {
			g = groups[i]
		}
		b = binary.NativeEndian.AppendUint32(b, g)
	}
	return b
}

func bsdMsg(typ int32, data []byte) unix.SocketControlMessage {
	var m unix.SocketControlMessage
	m.Header.Level, m.Header.Type = bsdSOLSocket, typ
	m.Data = data
	return m
}

func TestFreeBSDCredentials(t *testing.T) {
	rights := func(fds ...uint32) []byte {
		var b []byte
		for _, fd := range fds {
			b = binary.NativeEndian.AppendUint32(b, fd)
		}
		return b
	}
	for _, c := range []struct {
		name string
		msgs []unix.SocketControlMessage
		fds  []int
		cred peerCreds
		ok   bool
	}{
		{"SCM_CREDS2 (LOCAL_CREDS_PERSISTENT)",
			[]unix.SocketControlMessage{bsdMsg(bsdSCMCreds2, sockcred2(0, 4242, 1000, 1001, 2000, 2001, 2001, 5))},
			nil, peerCreds{4242, 1001, 2001}, true},
		{"SCM_CREDS asked by the sender, with two fds",
			[]unix.SocketControlMessage{bsdMsg(unix.SCM_RIGHTS, rights(7, 9)), bsdMsg(bsdSCMCreds, cmsgcred(77, 0, 65534, 65533, 65533))},
			[]int{7, 9}, peerCreds{77, 65534, 65533}, true},
		{"both: the kernel's SCM_CREDS2 wins",
			[]unix.SocketControlMessage{bsdMsg(bsdSCMCreds, cmsgcred(1, 2, 3, 4)), bsdMsg(bsdSCMCreds2, sockcred2(0, 10, 11, 12, 13, 14))},
			nil, peerCreds{10, 12, 14}, true},
		{"none", []unix.SocketControlMessage{bsdMsg(unix.SCM_RIGHTS, rights(3))}, []int{3}, peerCreds{}, false},
		{"unknown sockcred2 version",
			[]unix.SocketControlMessage{bsdMsg(bsdSCMCreds2, sockcred2(1, 10, 11, 12, 13, 14))}, nil, peerCreds{}, false},
		{"truncated", []unix.SocketControlMessage{bsdMsg(bsdSCMCreds2, sockcred2(0, 10, 11, 12, 13, 14)[:20]),
			bsdMsg(bsdSCMCreds, cmsgcred(1, 2, 3, 4)[:12])}, nil, peerCreds{}, false},
		{"another level", []unix.SocketControlMessage{{Header: unix.Cmsghdr{Level: 0, Type: bsdSCMCreds2},
			Data: sockcred2(0, 10, 11, 12, 13, 14)}}, nil, peerCreds{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fds, cred, ok := bsdControl(c.msgs)
			if ok != c.ok || cred != c.cred || len(fds) != len(c.fds) {
				t.Fatalf("got fds %v creds %+v ok %v, want %v %+v %v", fds, cred, ok, c.fds, c.cred, c.ok)
			}
			for i := range fds {
				if fds[i] != c.fds[i] {
					t.Fatalf("fds %v, want %v", fds, c.fds)
				}
			}
			// What Receive then makes of it: credentials or a rejection.
			m, err := finish(Message{Pid: cred.pid, Uid: cred.uid, Gid: cred.gid}, []byte("READY=1"), false, ok)
			if c.ok && (err != nil || m.Pid != c.cred.pid) || !c.ok && err != errNoCreds {
				t.Fatalf("finish: %+v %v", m, err)
			}
		})
	}
}

// A hostile sender controls the data of its own control messages only
// through SCM_RIGHTS (the kernel writes the credentials); any length of
// anything must decode without a panic.
func FuzzFreeBSDControl(f *testing.F) {
	f.Add(int32(bsdSCMCreds2), sockcred2(0, 1, 2, 3, 4, 5))
	f.Add(int32(bsdSCMCreds), cmsgcred(1, 2, 3, 4))
	f.Add(int32(unix.SCM_RIGHTS), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, typ int32, data []byte) {
		bsdControl([]unix.SocketControlMessage{bsdMsg(typ, data)})
	})
}
