package dbus

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Type is a message type.
type Type byte

const (
	TypeMethodCall   Type = 1
	TypeMethodReturn Type = 2
	TypeError        Type = 3
	TypeSignal       Type = 4
)

// Flags of a message.
const (
	FlagNoReplyExpected               byte = 0x1
	FlagNoAutoStart                   byte = 0x2
	FlagAllowInteractiveAuthorization byte = 0x4
)

// Header field codes.
const (
	fieldPath        = 1
	fieldInterface   = 2
	fieldMember      = 3
	fieldErrorName   = 4
	fieldReplySerial = 5
	fieldDestination = 6
	fieldSender      = 7
	fieldSignature   = 8
	fieldUnixFDs     = 9
)

// MaxMessageSize bounds a whole message (header, fields, padding, body).
// The specification allows 128 MiB; a service manager's API needs far
// less, and a bound this small keeps a hostile client cheap.
const MaxMessageSize = 1 << 20

// Message is one D-Bus message. Fields that are zero are absent.
type Message struct {
	Type   Type
	Flags  byte
	Serial uint32

	Path        ObjectPath
	Interface   string
	Member      string
	ErrorName   string
	ReplySerial uint32
	Destination string
	Sender      string
	Signature   Signature
	UnixFDs     uint32

	Body []any
}

// Marshal encodes m in little-endian byte order.
func (m *Message) Marshal() ([]byte, error) {
	if m.Serial == 0 {
		return nil, errors.New("dbus: serial must not be zero")
	}
	var body encoder
	if err := body.values(string(m.Signature), m.Body); err != nil {
		return nil, err
	}
	e := encoder{buf: make([]byte, 0, 128+len(body.buf))}
	e.buf = append(e.buf, 'l', byte(m.Type), m.Flags, 1)
	e.u32(uint32(len(body.buf)))
	e.u32(m.Serial)
	var fields []any
	add := func(code byte, sig Signature, v any) {
		fields = append(fields, Struct{code, Variant{Sig: sig, Value: v}})
	}
	if m.Path != "" {
		add(fieldPath, "o", m.Path)
	}
	if m.Interface != "" {
		add(fieldInterface, "s", m.Interface)
	}
	if m.Member != "" {
		add(fieldMember, "s", m.Member)
	}
	if m.ErrorName != "" {
		add(fieldErrorName, "s", m.ErrorName)
	}
	if m.ReplySerial != 0 {
		add(fieldReplySerial, "u", m.ReplySerial)
	}
	if m.Destination != "" {
		add(fieldDestination, "s", m.Destination)
	}
	if m.Sender != "" {
		add(fieldSender, "s", m.Sender)
	}
	if m.Signature != "" {
		add(fieldSignature, "g", m.Signature)
	}
	if m.UnixFDs != 0 {
		add(fieldUnixFDs, "u", m.UnixFDs)
	}
	if err := e.value("a(yv)", fields, 0); err != nil {
		return nil, err
	}
	e.align(8)
	e.buf = append(e.buf, body.buf...)
	if len(e.buf) > MaxMessageSize {
		return nil, errors.New("dbus: message too large")
	}
	return e.buf, nil
}

// MessageLength reads the fixed 16 bytes that start every message and
// returns the whole message's length. It fails on a bad byte-order mark
// or protocol version, or a length beyond max.
func MessageLength(hdr []byte, max int) (int, error) {
	if len(hdr) < 16 {
		return 0, errShort
	}
	var order binary.ByteOrder
	switch hdr[0] {
	case 'l':
		order = binary.LittleEndian
	case 'B':
		order = binary.BigEndian
	default:
		return 0, fmt.Errorf("dbus: bad byte-order mark %#x", hdr[0])
	}
	if hdr[3] != 1 {
		return 0, fmt.Errorf("dbus: unsupported protocol version %d", hdr[3])
	}
	body := uint64(order.Uint32(hdr[4:]))
	fields := uint64(order.Uint32(hdr[12:]))
	total := 16 + (fields+7)&^7 + body
	if total > uint64(max) {
		return 0, fmt.Errorf("dbus: message of %d bytes exceeds the limit of %d", total, max)
	}
	return int(total), nil
}

// ErrFraming wraps ReadMessage's errors after which the stream
// cannot be resynchronised.
var ErrFraming = errors.New("dbus: framing error")

// ErrMalformed wraps ReadMessage's errors for a message whose bytes were
// read whole but do not decode: the stream is still in step.
var ErrMalformed = errors.New("dbus: malformed message")

// SpecMaxMessageSize is the largest message the specification allows
// (128 MiB): a peer may send up to this, even when gosd reads less.
const SpecMaxMessageSize = 1 << 27

// ReadMessage reads one whole message of at most max bytes. A framing
// error (wraps ErrFraming) leaves the stream unusable; other errors are
// the reader's or a malformed message whose bytes were consumed.
func ReadMessage(r *bufio.Reader, max int) (*Message, error) {
	hdr, err := r.Peek(16)
	if err != nil {
		if err == io.EOF && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	n, err := MessageLength(hdr, max)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFraming, err)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	m, err := Unmarshal(buf)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return m, nil
}

// Unmarshal decodes exactly one whole message and validates it: the
// header fields each message type requires, their types, the body
// against the signature field.
func Unmarshal(b []byte) (*Message, error) {
	n, err := MessageLength(b, MaxMessageSize)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("dbus: message length %d, have %d bytes", n, len(b))
	}
	d := decoder{buf: b, order: binary.LittleEndian}
	if b[0] == 'B' {
		d.order = binary.BigEndian
	}
	m := &Message{Type: Type(b[1]), Flags: b[2]}
	bodyLen := int(d.order.Uint32(b[4:]))
	m.Serial = d.order.Uint32(b[8:])
	if m.Serial == 0 {
		return nil, errors.New("dbus: serial is zero")
	}
	d.off = 12
	fv, err := d.value("a(yv)")
	if err != nil {
		return nil, fmt.Errorf("dbus: header fields: %w", err)
	}
	seen := map[byte]bool{}
	for _, f := range fv.([]any) {
		st := f.(Struct)
		code := st[0].(byte)
		v := st[1].(Variant)
		if seen[code] && code <= fieldUnixFDs {
			return nil, fmt.Errorf("dbus: header field %d repeated", code)
		}
		seen[code] = true
		want, known := map[byte]Signature{
			fieldPath: "o", fieldInterface: "s", fieldMember: "s", fieldErrorName: "s",
			fieldReplySerial: "u", fieldDestination: "s", fieldSender: "s",
			fieldSignature: "g", fieldUnixFDs: "u",
		}[code]
		if !known {
			continue // unknown fields are ignored (the specification says so)
		}
		if v.Sig != want {
			return nil, fmt.Errorf("dbus: header field %d has type %q, want %q", code, v.Sig, want)
		}
		switch code {
		case fieldPath:
			m.Path = v.Value.(ObjectPath)
		case fieldInterface:
			m.Interface = v.Value.(string)
			if !validInterface(m.Interface) {
				return nil, errors.New("dbus: invalid interface name")
			}
		case fieldMember:
			m.Member = v.Value.(string)
			if !validMember(m.Member) {
				return nil, errors.New("dbus: invalid member name")
			}
		case fieldErrorName:
			m.ErrorName = v.Value.(string)
			if !validInterface(m.ErrorName) {
				return nil, errors.New("dbus: invalid error name")
			}
		case fieldReplySerial:
			m.ReplySerial = v.Value.(uint32)
			if m.ReplySerial == 0 {
				return nil, errors.New("dbus: reply serial is zero")
			}
		case fieldDestination:
			m.Destination = v.Value.(string)
		case fieldSender:
			m.Sender = v.Value.(string)
		case fieldSignature:
			m.Signature = v.Value.(Signature)
		case fieldUnixFDs:
			m.UnixFDs = v.Value.(uint32)
		}
	}
	switch m.Type {
	case TypeMethodCall:
		if m.Path == "" || m.Member == "" {
			return nil, errors.New("dbus: method call without path or member")
		}
	case TypeSignal:
		if m.Path == "" || m.Interface == "" || m.Member == "" {
			return nil, errors.New("dbus: signal without path, interface or member")
		}
	case TypeError:
		if m.ErrorName == "" || m.ReplySerial == 0 {
			return nil, errors.New("dbus: error without name or reply serial")
		}
	case TypeMethodReturn:
		if m.ReplySerial == 0 {
			return nil, errors.New("dbus: method return without reply serial")
		}
	}
	if err := d.align(8); err != nil {
		return nil, err
	}
	if d.off+bodyLen != len(b) {
		return nil, errors.New("dbus: header length mismatch")
	}
	// The body's offsets count from its own (8-aligned) start.
	bd := decoder{buf: b[d.off:], order: d.order}
	if m.Signature == "" && bodyLen > 0 {
		return nil, errors.New("dbus: body without signature")
	}
	m.Body, err = bd.values(string(m.Signature))
	if err != nil {
		return nil, fmt.Errorf("dbus: body: %w", err)
	}
	if bd.off != len(bd.buf) {
		return nil, errors.New("dbus: trailing bytes after the body")
	}
	return m, nil
}

// validInterface checks an interface or error name: two or more
// "."-separated elements of [A-Za-z0-9_], none starting with a digit, at
// most 255 bytes.
func validInterface(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	elems, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if i == start || isDigit(s[start]) {
				return false
			}
			elems++
			start = i + 1
			continue
		}
		if !isNameChar(s[i]) {
			return false
		}
	}
	return elems >= 2
}

// validMember checks a member name: [A-Za-z0-9_], not starting with a
// digit, 1 to 255 bytes.
func validMember(s string) bool {
	if len(s) == 0 || len(s) > 255 || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_'
}
