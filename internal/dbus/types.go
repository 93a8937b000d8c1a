package dbus

import (
	"errors"
	"fmt"
	"strings"
)

// ObjectPath is a value of type o.
type ObjectPath string

// Signature is a value of type g (also the type of a message body).
type Signature string

// Variant is a value of type v: a single complete type and a value of it.
type Variant struct {
	Sig   Signature
	Value any
}

// MakeVariant wraps a value whose signature follows from its Go type
// (see SignatureOf).
func MakeVariant(v any) Variant {
	s, err := SignatureOf(v)
	if err != nil {
		panic(err)
	}
	return Variant{Sig: s, Value: v}
}

// Struct is a value of a struct type (...): its fields in order.
type Struct []any

// DictEntry is one element of an array of dict entries a{..}.
type DictEntry struct {
	Key, Value any
}

// UnixFD is a value of type h: an index into the message's passed fds.
type UnixFD uint32

// Go representation of each type, for encoding and as decoded:
//
//	y byte         b bool        n int16      q uint16
//	i int32        u uint32      x int64      t uint64
//	d float64      s string      o ObjectPath g Signature
//	h UnixFD       v Variant     (..) Struct  {..} DictEntry
//	ay []byte      as []string   other arrays []any
//
// When encoding, an array also accepts []ObjectPath, []DictEntry,
// []Variant and []Struct.

// Limits from the specification.
const (
	MaxSignatureLength = 255
	MaxArrayDepth      = 32
	MaxStructDepth     = 32
	MaxDepth           = 64       // every container, variants included
	MaxArrayLength     = 64 << 20 // bytes
)

// SignatureOf returns the signature of a Go value of the representation
// above (arrays only as []byte, []string, []ObjectPath).
func SignatureOf(v any) (Signature, error) {
	switch x := v.(type) {
	case byte:
		return "y", nil
	case bool:
		return "b", nil
	case int16:
		return "n", nil
	case uint16:
		return "q", nil
	case int32:
		return "i", nil
	case uint32:
		return "u", nil
	case int64:
		return "x", nil
	case uint64:
		return "t", nil
	case float64:
		return "d", nil
	case string:
		return "s", nil
	case ObjectPath:
		return "o", nil
	case Signature:
		return "g", nil
	case UnixFD:
		return "h", nil
	case Variant:
		return "v", nil
	case []byte:
		return "ay", nil
	case []string:
		return "as", nil
	case []ObjectPath:
		return "ao", nil
	case Struct:
		var b strings.Builder
		b.WriteByte('(')
		for _, f := range x {
			s, err := SignatureOf(f)
			if err != nil {
				return "", err
			}
			b.WriteString(string(s))
		}
		b.WriteByte(')')
		return Signature(b.String()), nil
	}
	return "", fmt.Errorf("dbus: no signature for Go type %T", v)
}

var errBadSignature = errors.New("invalid signature")

// ValidSignature reports whether s is a valid signature: a sequence of
// zero or more single complete types within the length and depth limits.
func ValidSignature(s string) bool {
	if len(s) > MaxSignatureLength {
		return false
	}
	for rest := s; rest != ""; {
		_, r, err := nextType(rest)
		if err != nil {
			return false
		}
		rest = r
	}
	return true
}

// ValidSingleType reports whether s is exactly one single complete type.
func ValidSingleType(s string) bool {
	if s == "" || len(s) > MaxSignatureLength {
		return false
	}
	_, rest, err := nextType(s)
	return err == nil && rest == ""
}

// nextType splits off the first single complete type of sig.
func nextType(sig string) (first, rest string, err error) {
	n, err := typeLen(sig, 0, 0, false)
	if err != nil {
		return "", "", err
	}
	return sig[:n], sig[n:], nil
}

// typeLen is the length of the single complete type at the start of s.
// arrays and structs count the enclosing containers; inArray allows a dict
// entry (only directly inside an array).
func typeLen(s string, arrays, structs int, inArray bool) (int, error) {
	if s == "" {
		return 0, errBadSignature
	}
	switch s[0] {
	case 'y', 'b', 'n', 'q', 'i', 'u', 'x', 't', 'd', 's', 'o', 'g', 'h', 'v':
		return 1, nil
	case 'a':
		if arrays+1 > MaxArrayDepth {
			return 0, errBadSignature
		}
		n, err := typeLen(s[1:], arrays+1, structs, true)
		if err != nil {
			return 0, err
		}
		return 1 + n, nil
	case '(':
		if structs+1 > MaxStructDepth {
			return 0, errBadSignature
		}
		i := 1
		for {
			if i >= len(s) {
				return 0, errBadSignature
			}
			if s[i] == ')' {
				if i == 1 {
					return 0, errBadSignature // empty struct
				}
				return i + 1, nil
			}
			n, err := typeLen(s[i:], arrays, structs+1, false)
			if err != nil {
				return 0, err
			}
			i += n
		}
	case '{':
		if !inArray || structs+1 > MaxStructDepth {
			return 0, errBadSignature
		}
		if len(s) < 2 || !isBasic(s[1]) {
			return 0, errBadSignature
		}
		n, err := typeLen(s[2:], arrays, structs+1, false)
		if err != nil {
			return 0, err
		}
		i := 2 + n
		if i >= len(s) || s[i] != '}' {
			return 0, errBadSignature
		}
		return i + 1, nil
	}
	return 0, errBadSignature
}

func isBasic(c byte) bool {
	return strings.IndexByte("ybnqiuxtdsogh", c) >= 0
}

// alignOf is the alignment of a type by its first character.
func alignOf(c byte) int {
	switch c {
	case 'y', 'g', 'v':
		return 1
	case 'n', 'q':
		return 2
	case 'b', 'i', 'u', 's', 'o', 'a', 'h':
		return 4
	case 'x', 't', 'd', '(', '{':
		return 8
	}
	return 1
}

// ValidObjectPath reports whether p is a valid object path: "/" or
// "/"-separated non-empty elements of [A-Za-z0-9_], no trailing "/".
func ValidObjectPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	if p == "/" {
		return true
	}
	if p[len(p)-1] == '/' {
		return false
	}
	prevSlash := true
	for i := 1; i < len(p); i++ {
		c := p[i]
		if c == '/' {
			if prevSlash {
				return false
			}
			prevSlash = true
			continue
		}
		prevSlash = false
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
