package dbus

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Limits of the SASL exchange.
const (
	maxAuthLine     = 4096 // bytes in one command line
	maxAuthCommands = 32   // commands before BEGIN
)

// AuthResult is what the handshake agreed.
type AuthResult struct {
	UID    int  // the authenticated uid (the peer's SO_PEERCRED uid)
	UnixFD bool // the client asked for and was granted fd passing
}

// ErrAuth: the client did not authenticate (it gave up, sent BEGIN before
// OK, or exhausted the command budget); the connection should be closed.
var ErrAuth = errors.New("dbus: authentication failed")

// ServerAuth runs the server side of the SASL handshake on a fresh
// connection: the client's initial nul byte, then line commands until
// BEGIN. Only the EXTERNAL mechanism is offered; it succeeds when the
// identity the client claims (its uid in decimal, hex-encoded; or none,
// meaning "whatever the transport says") equals peerUID, the uid the
// kernel reported for the socket, and allow(peerUID) is true.
// NEGOTIATE_UNIX_FD is answered AGREE_UNIX_FD when unixFD is true. On
// success the reader is positioned at the first byte of the first message.
func ServerAuth(r *bufio.Reader, w io.Writer, guid string, peerUID int, allow func(uid int) bool, unixFD bool) (AuthResult, error) {
	res := AuthResult{UID: peerUID}
	nul, err := r.ReadByte()
	if err != nil {
		return res, err
	}
	if nul != 0 {
		return res, errors.New("dbus: authentication did not start with a nul byte")
	}
	send := func(s string) error {
		_, err := io.WriteString(w, s+"\r\n")
		return err
	}
	const (
		waitAuth = iota
		waitData
		waitBegin
	)
	state := waitAuth
	check := func(claim []byte) bool {
		if len(claim) > 0 {
			id, err := hex.DecodeString(string(claim))
			if err != nil {
				return false
			}
			uid, err := strconv.Atoi(string(id))
			if err != nil || strconv.Itoa(uid) != string(id) || uid != peerUID {
				return false
			}
		}
		return peerUID >= 0 && (allow == nil || allow(peerUID))
	}
	accept := func(claim []byte) error {
		if check(claim) {
			state = waitBegin
			return send("OK " + guid)
		}
		state = waitAuth
		return send("REJECTED EXTERNAL")
	}
	for i := 0; i < maxAuthCommands; i++ {
		line, err := readAuthLine(r)
		if err != nil {
			return res, err
		}
		cmd, arg, _ := bytes.Cut(line, []byte(" "))
		switch string(cmd) {
		case "AUTH":
			if state != waitAuth {
				err = send("ERROR \"AUTH not expected now\"")
				break
			}
			mech, initial, hasInitial := bytes.Cut(arg, []byte(" "))
			switch {
			case string(mech) != "EXTERNAL":
				err = send("REJECTED EXTERNAL")
			case !hasInitial:
				state = waitData
				err = send("DATA")
			default:
				err = accept(initial)
			}
		case "DATA":
			if state != waitData {
				err = send("ERROR \"DATA not expected now\"")
				break
			}
			err = accept(bytes.TrimSpace(arg))
		case "CANCEL", "ERROR":
			state = waitAuth
			err = send("REJECTED EXTERNAL")
		case "NEGOTIATE_UNIX_FD":
			switch {
			case state != waitBegin:
				err = send("ERROR \"NEGOTIATE_UNIX_FD not expected now\"")
			case !unixFD:
				err = send("ERROR \"fd passing is not supported\"")
			default:
				res.UnixFD = true
				err = send("AGREE_UNIX_FD")
			}
		case "BEGIN":
			if state != waitBegin {
				return res, ErrAuth
			}
			return res, nil
		default:
			err = send("ERROR \"unknown command\"")
		}
		if err != nil {
			return res, err
		}
	}
	return res, ErrAuth
}

// readAuthLine reads one command line ending in \r\n (a bare \n is taken
// too) without the line ending, bounded in length: a longer line is an
// error as soon as its first maxAuthLine+1 bytes have arrived, without
// waiting for its end.
func readAuthLine(r *bufio.Reader) ([]byte, error) {
	for {
		n := r.Buffered()
		buf, _ := r.Peek(n)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			if i > maxAuthLine {
				break
			}
			line := strings.TrimRight(string(buf[:i]), "\r")
			r.Discard(i + 1)
			return []byte(line), nil
		}
		if n > maxAuthLine {
			break
		}
		// Wait for at least one more byte.
		if _, err := r.Peek(n + 1); err != nil {
			if err == bufio.ErrBufferFull {
				break
			}
			if err == io.EOF && n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return nil, errors.New("dbus: authentication line too long")
}
