package reactor

import (
	"bytes"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"gosd/logstore"
)

// The kernel's messages, read from /dev/kmsg into the log store as
// journald collects them (_TRANSPORT=kernel; journalctl -k): on the init of
// a machine, where they are the machine's (Config.ReadKmsg). Each read of
// /dev/kmsg returns one record, "PRI,SEQ,USEC,FLAGS;MESSAGE\n" followed by
// " KEY=VALUE" lines (Documentation/ABI/testing/dev-kmsg); reading starts
// at the oldest record the kernel still holds, so the boot's messages from
// before gosd ran are kept too. Records a user space process wrote (a
// facility other than the kernel's) are skipped: gosd's own
// StandardOutput=kmsg lines are in the store already.

type kmsgReader struct {
	fd int
}

func (r *Reactor) openKmsgReader() {
	if !r.cfg.ReadKmsg || r.kmsgRead != nil {
		return
	}
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		r.logf("", "kernel messages: /dev/kmsg: %v", err)
		return
	}
	k := &kmsgReader{fd: fd}
	if err := r.addSource(fd, k); err != nil {
		unix.Close(fd)
		r.logf("", "kernel messages: %v", err)
		return
	}
	r.kmsgRead = k
}

func (r *Reactor) closeKmsgReader() {
	if r.kmsgRead != nil {
		r.removeSource(r.kmsgRead.fd)
		unix.Close(r.kmsgRead.fd)
		r.kmsgRead = nil
	}
}

// readKmsg takes a bounded number of records per turn.
func (r *Reactor) readKmsg(k *kmsgReader) {
	for i := 0; i < logDatagramsPerTurn; i++ {
		n, err := unix.Read(k.fd, r.readBuf)
		switch {
		case err == unix.EAGAIN:
			return
		case err == unix.EPIPE || err == unix.EINTR:
			continue // records overwritten before they were read: go on with the next
		case err != nil || n <= 0:
			r.logf("", "kernel messages: %v", err)
			r.closeKmsgReader()
			return
		}
		e, seq, ok := parseKmsgRecord(r.readBuf[:n])
		if !ok || seq < r.kmsgNext {
			continue
		}
		r.kmsgNext = seq + 1
		if e.Facility != 0 {
			continue
		}
		if ok, _ := r.limiter.Allow("kernel", time.Duration(e.Monotonic)*time.Microsecond); !ok {
			continue
		}
		// The record's time is CLOCK_MONOTONIC; the wall clock is now's
		// minus the record's age.
		rt, mono := logstore.Now()
		e.Realtime = rt - (mono - e.Monotonic)
		r.store.Add(e)
	}
}

// parseKmsgRecord reads one /dev/kmsg record; the message's escapes
// ("\x0a") are undone.
func parseKmsgRecord(b []byte) (e logstore.Entry, seq uint64, ok bool) {
	semi := bytes.IndexByte(b, ';')
	if semi < 0 {
		return e, 0, false
	}
	f := bytes.SplitN(b[:semi], []byte{','}, 4)
	if len(f) < 3 {
		return e, 0, false
	}
	pri, err1 := strconv.Atoi(string(f[0]))
	seq, err2 := strconv.ParseUint(string(f[1]), 10, 64)
	usec, err3 := strconv.ParseInt(string(f[2]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || pri < 0 {
		return e, 0, false
	}
	msg := b[semi+1:]
	if nl := bytes.IndexByte(msg, '\n'); nl >= 0 {
		msg = msg[:nl] // " KEY=VALUE" lines follow
	}
	e = logstore.Entry{Monotonic: max(usec, 1), Priority: pri & 7, Facility: pri >> 3, Ident: "kernel",
		Message: string(unescapeKmsg(msg)), Transport: logstore.TransportKernel}
	return e, seq, true
}

func unescapeKmsg(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' {
			if v, err := strconv.ParseUint(string(b[i+2:i+4]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 3
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}
