package dbus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// encoder appends values in little-endian order. Offsets (for alignment)
// count from the start of buf, so buf must start at an 8-aligned position
// of the message (the header, or the body).
type encoder struct {
	buf []byte
}

func (e *encoder) align(n int) {
	for len(e.buf)%n != 0 {
		e.buf = append(e.buf, 0)
	}
}

func (e *encoder) u32(v uint32) {
	e.align(4)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, v)
}

func (e *encoder) str(s string) {
	e.u32(uint32(len(s)))
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
}

func (e *encoder) sig(s string) error {
	if !ValidSignature(s) {
		return fmt.Errorf("dbus: invalid signature %q", s)
	}
	e.buf = append(e.buf, byte(len(s)))
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
	return nil
}

func typeErr(t string, v any) error {
	return fmt.Errorf("dbus: cannot encode %T as %q", v, t)
}

// values encodes a sequence of values of signature sig.
func (e *encoder) values(sig string, vals []any) error {
	for i := 0; sig != ""; i++ {
		t, rest, err := nextType(sig)
		if err != nil {
			return fmt.Errorf("dbus: invalid signature %q", sig)
		}
		if i >= len(vals) {
			return fmt.Errorf("dbus: too few values for signature")
		}
		if err := e.value(t, vals[i], 0); err != nil {
			return err
		}
		sig = rest
		if sig == "" && i+1 != len(vals) {
			return fmt.Errorf("dbus: too many values for signature")
		}
	}
	return nil
}

// value encodes v as the single complete type t.
func (e *encoder) value(t string, v any, depth int) error {
	if depth > MaxDepth {
		return errors.New("dbus: value nested too deep")
	}
	switch t[0] {
	case 'y':
		x, ok := v.(byte)
		if !ok {
			return typeErr(t, v)
		}
		e.buf = append(e.buf, x)
	case 'b':
		x, ok := v.(bool)
		if !ok {
			return typeErr(t, v)
		}
		var n uint32
		if x {
			n = 1
		}
		e.u32(n)
	case 'n', 'q':
		var n uint16
		switch x := v.(type) {
		case int16:
			n = uint16(x)
		case uint16:
			n = x
		default:
			return typeErr(t, v)
		}
		e.align(2)
		e.buf = binary.LittleEndian.AppendUint16(e.buf, n)
	case 'i', 'u', 'h':
		var n uint32
		switch x := v.(type) {
		case int32:
			n = uint32(x)
		case uint32:
			n = x
		case UnixFD:
			n = uint32(x)
		default:
			return typeErr(t, v)
		}
		e.u32(n)
	case 'x', 't', 'd':
		var n uint64
		switch x := v.(type) {
		case int64:
			n = uint64(x)
		case uint64:
			n = x
		case float64:
			n = math.Float64bits(x)
		default:
			return typeErr(t, v)
		}
		e.align(8)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, n)
	case 's':
		x, ok := v.(string)
		if !ok || !utf8.ValidString(x) || hasNul(x) {
			return typeErr(t, v)
		}
		e.str(x)
	case 'o':
		x, ok := v.(ObjectPath)
		if !ok || !ValidObjectPath(string(x)) {
			return typeErr(t, v)
		}
		e.str(string(x))
	case 'g':
		x, ok := v.(Signature)
		if !ok {
			return typeErr(t, v)
		}
		return e.sig(string(x))
	case 'v':
		x, ok := v.(Variant)
		if !ok || !ValidSingleType(string(x.Sig)) {
			return typeErr(t, v)
		}
		if err := e.sig(string(x.Sig)); err != nil {
			return err
		}
		return e.value(string(x.Sig), x.Value, depth+1)
	case 'a':
		return e.array(t, v, depth)
	case '(':
		x, ok := v.(Struct)
		if !ok {
			return typeErr(t, v)
		}
		e.align(8)
		fields := t[1 : len(t)-1]
		for i := 0; fields != ""; i++ {
			ft, rest, err := nextType(fields)
			if err != nil || i >= len(x) {
				return typeErr(t, v)
			}
			if err := e.value(ft, x[i], depth+1); err != nil {
				return err
			}
			fields = rest
			if fields == "" && i+1 != len(x) {
				return typeErr(t, v)
			}
		}
	case '{':
		x, ok := v.(DictEntry)
		if !ok {
			return typeErr(t, v)
		}
		e.align(8)
		kt := t[1:2]
		vt := t[2 : len(t)-1]
		if err := e.value(kt, x.Key, depth+1); err != nil {
			return err
		}
		return e.value(vt, x.Value, depth+1)
	default:
		return fmt.Errorf("dbus: invalid type %q", t)
	}
	return nil
}

func (e *encoder) array(t string, v any, depth int) error {
	elem := t[1:]
	var items []any
	switch x := v.(type) {
	case []byte:
		if elem != "y" {
			return typeErr(t, v)
		}
		e.u32(uint32(len(x)))
		e.buf = append(e.buf, x...)
		return nil
	case []any:
		items = x
	case []string:
		items = anySlice(x)
	case []ObjectPath:
		items = anySlice(x)
	case []DictEntry:
		items = anySlice(x)
	case []Variant:
		items = anySlice(x)
	case []Struct:
		items = anySlice(x)
	default:
		return typeErr(t, v)
	}
	e.u32(0)
	lenAt := len(e.buf) - 4
	e.align(alignOf(elem[0]))
	start := len(e.buf)
	for _, it := range items {
		if err := e.value(elem, it, depth+1); err != nil {
			return err
		}
	}
	n := len(e.buf) - start
	if n > MaxArrayLength {
		return errors.New("dbus: array too long")
	}
	binary.LittleEndian.PutUint32(e.buf[lenAt:], uint32(n))
	return nil
}

// anySlice lets the typed slices callers build be encoded as arrays.
func anySlice[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func hasNul(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// decoder reads values from buf; off counts from an 8-aligned position of
// the message, like encoder's.
type decoder struct {
	buf   []byte
	off   int
	order binary.ByteOrder
	// containers currently open
	arrays, structs, depth int
}

var errShort = errors.New("dbus: message truncated")

func (d *decoder) align(n int) error {
	for d.off%n != 0 {
		if d.off >= len(d.buf) {
			return errShort
		}
		if d.buf[d.off] != 0 {
			return errors.New("dbus: non-zero padding")
		}
		d.off++
	}
	return nil
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.buf)-d.off {
		return nil, errShort
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b, nil
}

func (d *decoder) u32() (uint32, error) {
	if err := d.align(4); err != nil {
		return 0, err
	}
	b, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return d.order.Uint32(b), nil
}

// str reads the bytes of s or o (length, bytes, nul) as a valid UTF-8
// string without nul bytes.
func (d *decoder) str() (string, error) {
	n, err := d.u32()
	if err != nil {
		return "", err
	}
	if int64(n) >= int64(len(d.buf)-d.off) {
		return "", errShort
	}
	b, _ := d.take(int(n) + 1)
	if b[n] != 0 {
		return "", errors.New("dbus: string not nul-terminated")
	}
	s := string(b[:n])
	if !utf8.ValidString(s) || hasNul(s) {
		return "", errors.New("dbus: invalid string")
	}
	return s, nil
}

func (d *decoder) sig() (string, error) {
	lb, err := d.take(1)
	if err != nil {
		return "", err
	}
	b, err := d.take(int(lb[0]) + 1)
	if err != nil {
		return "", err
	}
	if b[lb[0]] != 0 {
		return "", errors.New("dbus: signature not nul-terminated")
	}
	s := string(b[:lb[0]])
	if !ValidSignature(s) {
		return "", errBadSignature
	}
	return s, nil
}

// values decodes a sequence of values of a valid signature sig.
func (d *decoder) values(sig string) ([]any, error) {
	var out []any
	for sig != "" {
		t, rest, err := nextType(sig)
		if err != nil {
			return nil, err
		}
		v, err := d.value(t)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		sig = rest
	}
	return out, nil
}

// value decodes one value of the single complete type t.
func (d *decoder) value(t string) (any, error) {
	switch t[0] {
	case 'y':
		b, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return b[0], nil
	case 'b':
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		if n > 1 {
			return nil, errors.New("dbus: boolean not 0 or 1")
		}
		return n == 1, nil
	case 'n', 'q':
		if err := d.align(2); err != nil {
			return nil, err
		}
		b, err := d.take(2)
		if err != nil {
			return nil, err
		}
		n := d.order.Uint16(b)
		if t[0] == 'n' {
			return int16(n), nil
		}
		return n, nil
	case 'i', 'u', 'h':
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		switch t[0] {
		case 'i':
			return int32(n), nil
		case 'h':
			return UnixFD(n), nil
		}
		return n, nil
	case 'x', 't', 'd':
		if err := d.align(8); err != nil {
			return nil, err
		}
		b, err := d.take(8)
		if err != nil {
			return nil, err
		}
		n := d.order.Uint64(b)
		switch t[0] {
		case 'x':
			return int64(n), nil
		case 'd':
			return math.Float64frombits(n), nil
		}
		return n, nil
	case 's':
		return d.str()
	case 'o':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		if !ValidObjectPath(s) {
			return nil, errors.New("dbus: invalid object path")
		}
		return ObjectPath(s), nil
	case 'g':
		s, err := d.sig()
		return Signature(s), err
	case 'v':
		s, err := d.sig()
		if err != nil {
			return nil, err
		}
		if !ValidSingleType(s) {
			return nil, errors.New("dbus: variant signature is not a single complete type")
		}
		if err := d.enter(); err != nil {
			return nil, err
		}
		defer d.leave()
		v, err := d.value(s)
		if err != nil {
			return nil, err
		}
		return Variant{Sig: Signature(s), Value: v}, nil
	case 'a':
		return d.array(t)
	case '(':
		if err := d.openStruct(); err != nil {
			return nil, err
		}
		defer d.closeStruct()
		vals, err := d.values(t[1 : len(t)-1])
		if err != nil {
			return nil, err
		}
		return Struct(vals), nil
	case '{':
		if err := d.openStruct(); err != nil {
			return nil, err
		}
		defer d.closeStruct()
		k, err := d.value(t[1:2])
		if err != nil {
			return nil, err
		}
		v, err := d.value(t[2 : len(t)-1])
		if err != nil {
			return nil, err
		}
		return DictEntry{Key: k, Value: v}, nil
	}
	return nil, errBadSignature
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > MaxDepth || d.arrays > MaxArrayDepth || d.structs > MaxStructDepth {
		return errors.New("dbus: containers nested too deep")
	}
	return nil
}

func (d *decoder) leave() { d.depth-- }

// openStruct starts a struct or dict entry: 8-byte alignment, and one
// more level of struct nesting within the limits. closeStruct ends it.
func (d *decoder) openStruct() error {
	if err := d.align(8); err != nil {
		return err
	}
	d.structs++
	if err := d.enter(); err != nil {
		d.structs--
		return err
	}
	return nil
}

func (d *decoder) closeStruct() {
	d.leave()
	d.structs--
}

func (d *decoder) array(t string) (any, error) {
	n, err := d.u32()
	if err != nil {
		return nil, err
	}
	if n > MaxArrayLength {
		return nil, errors.New("dbus: array too long")
	}
	elem := t[1:]
	if err := d.align(alignOf(elem[0])); err != nil {
		return nil, err
	}
	if int64(n) > int64(len(d.buf)-d.off) {
		return nil, errShort
	}
	if elem == "y" {
		b, _ := d.take(int(n))
		return append([]byte(nil), b...), nil
	}
	d.arrays++
	defer func() { d.arrays-- }()
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.leave()
	end := d.off + int(n)
	// Decode within the array's bytes only.
	full := d.buf
	d.buf = full[:end]
	defer func() { d.buf = full }()
	var strs []string
	var items []any
	for d.off < end {
		v, err := d.value(elem)
		if err != nil {
			return nil, err
		}
		if elem == "s" {
			strs = append(strs, v.(string))
		} else {
			items = append(items, v)
		}
	}
	if elem == "s" {
		if strs == nil {
			strs = []string{}
		}
		return strs, nil
	}
	if items == nil {
		items = []any{}
	}
	return items, nil
}
