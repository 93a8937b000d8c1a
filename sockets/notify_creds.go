package sockets

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// FreeBSD's sender credentials for sd_notify (unix(4), sys/socket.h,
// sys/un.h). They are decoded here, without a build tag, so that the
// Linux tests cover the decoding; only the socket calls around them
// (notify_freebsd.go) are FreeBSD's alone.
const (
	bsdSOLSocket = 0xffff // SOL_SOCKET
	bsdSOLLocal  = 0      // SOL_LOCAL
	// LOCAL_CREDS_PERSISTENT (FreeBSD 13+): the kernel attaches an
	// SCM_CREDS2 message to every datagram received on the socket.
	bsdLocalCredsPersistent = 3
	// SCM_CREDS carries a struct cmsgcred the kernel fills in when the
	// sender attaches an (empty) SCM_CREDS message; SCM_CREDS2 carries a
	// struct sockcred2 (LOCAL_CREDS_PERSISTENT).
	bsdSCMCreds  = 0x03
	bsdSCMCreds2 = 0x08
)

// peerCreds is who sent a datagram: pid, effective uid and gid.
type peerCreds struct{ pid, uid, gid int }

// parseSockcred2 decodes struct sockcred2 { int sc_version; pid_t
// sc_pid; uid_t sc_uid, sc_euid; gid_t sc_gid, sc_egid; int sc_ngroups;
// gid_t sc_groups[]; } (version 0, every field 32 bits, host order).
func parseSockcred2(b []byte) (peerCreds, bool) {
	if len(b) < 28 {
		return peerCreds{}, false
	}
	u32 := func(off int) uint32 { return binary.NativeEndian.Uint32(b[off:]) }
	if u32(0) != 0 {
		return peerCreds{}, false // a layout this code does not know
	}
	return peerCreds{pid: int(int32(u32(4))), uid: int(u32(12)), gid: int(u32(20))}, true
}

// parseCmsgcred decodes struct cmsgcred { pid_t cmcred_pid; uid_t
// cmcred_uid, cmcred_euid; gid_t cmcred_gid; short cmcred_ngroups;
// gid_t cmcred_groups[CMGROUP_MAX]; }: pid, euid and the real gid (the
// structure has no effective gid apart from cmcred_groups[0]).
func parseCmsgcred(b []byte) (peerCreds, bool) {
	if len(b) < 16 {
		return peerCreds{}, false
	}
	u32 := func(off int) uint32 { return binary.NativeEndian.Uint32(b[off:]) }
	return peerCreds{pid: int(int32(u32(0))), uid: int(u32(8)), gid: int(u32(12))}, true
}

// bsdControl gathers what FreeBSD control messages carry: the passed fds,
// and the sender's credentials from SCM_CREDS2 when present, else from
// SCM_CREDS. ok is false when no credentials came (or none decoded).
func bsdControl(cmsgs []unix.SocketControlMessage) (fds []int, cred peerCreds, ok bool) {
	var fromCreds2, fromCreds bool
	var c2, c1 peerCreds
	for i := range cmsgs {
		c := &cmsgs[i]
		if c.Header.Level != bsdSOLSocket {
			continue
		}
		switch c.Header.Type {
		case unix.SCM_RIGHTS: // an array of ints (ParseUnixRights checks Linux's SOL_SOCKET)
			for off := 0; off+4 <= len(c.Data); off += 4 {
				fds = append(fds, int(int32(binary.NativeEndian.Uint32(c.Data[off:]))))
			}
		case bsdSCMCreds2:
			c2, fromCreds2 = parseSockcred2(c.Data)
		case bsdSCMCreds:
			c1, fromCreds = parseCmsgcred(c.Data)
		}
	}
	switch {
	case fromCreds2:
		return fds, c2, true
	case fromCreds:
		return fds, c1, true
	}
	return fds, peerCreds{}, false
}

// bsdNotifyOOBSize holds a sockcred2 with up to 1024 groups, a cmsgcred
// (CMGROUP_MAX 16 groups) and the most fds a datagram may pass.
var bsdNotifyOOBSize = unix.CmsgSpace(28+4*1024) + unix.CmsgSpace(20+4*16) + unix.CmsgSpace(4*NotifyMaxFds)
