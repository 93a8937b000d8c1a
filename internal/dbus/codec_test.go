package dbus

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Byte sequences below are assembled by hand from the specification's
// rules, not produced by the encoder under test.

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
func zeros(n int) []byte { return make([]byte, n) }

// pingLE is METHOD_CALL serial 1, PATH "/", MEMBER "Ping", no body.
var pingLE = cat(
	[]byte{'l', 1, 0, 1}, le32(0), le32(1),
	le32(29), // header field array: 16..45
	// offset 16: (PATH, o "/")
	[]byte{1, 1, 'o', 0}, le32(1), []byte{'/', 0}, zeros(6),
	// offset 32: (MEMBER, s "Ping")
	[]byte{3, 1, 's', 0}, le32(4), []byte("Ping\x00"),
	zeros(3), // pad to 48
)

// getBE is a big-endian Properties.Get("org.freedesktop.systemd1.Manager",
// "Version") on /org/freedesktop/systemd1, serial 7.
var getBE = func() []byte {
	iface := "org.freedesktop.systemd1.Manager" // 32 bytes
	body := cat(be32(32), []byte(iface+"\x00"), zeros(3), be32(7), []byte("Version\x00"))
	path := "/org/freedesktop/systemd1" // 25 bytes
	fields := cat(
		// 16: PATH: 1+3 sig bytes, 4 len, 26 bytes -> 50, pad to 56
		[]byte{1, 1, 'o', 0}, be32(25), []byte(path+"\x00"), zeros(6),
		// 56: MEMBER "Get": 4 + 4 + 4 -> 68, pad to 72
		[]byte{3, 1, 's', 0}, be32(3), []byte("Get\x00"), zeros(4),
		// 72: SIGNATURE "ss": 1 code, 3 sig "g", then g: 1 len, "ss", nul -> 80
		[]byte{8, 1, 'g', 0}, []byte{2, 's', 's', 0},
	)
	return cat([]byte{'B', 1, 0, 1}, be32(uint32(len(body))), be32(7), be32(uint32(len(fields))), fields, body)
}()

func TestMarshalPingByHand(t *testing.T) {
	m := &Message{Type: TypeMethodCall, Serial: 1, Path: "/", Member: "Ping"}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, pingLE) {
		t.Fatalf("marshal:\n got % x\nwant % x", b, pingLE)
	}
	got, err := Unmarshal(pingLE)
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != "/" || got.Member != "Ping" || got.Serial != 1 || got.Type != TypeMethodCall || len(got.Body) != 0 {
		t.Fatalf("unmarshal: %+v", got)
	}
}

func TestUnmarshalBigEndian(t *testing.T) {
	m, err := Unmarshal(getBE)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"org.freedesktop.systemd1.Manager", "Version"}
	if m.Serial != 7 || m.Path != "/org/freedesktop/systemd1" || m.Member != "Get" || m.Signature != "ss" || !reflect.DeepEqual(m.Body, want) {
		t.Fatalf("got %+v", m)
	}
}

func enc(t *testing.T, sig string, v ...any) []byte {
	t.Helper()
	var e encoder
	if err := e.values(sig, v); err != nil {
		t.Fatal(err)
	}
	return e.buf
}

func TestEncodeValuesByHand(t *testing.T) {
	cases := []struct {
		sig  string
		val  []any
		want []byte
	}{
		{"y", []any{byte(7)}, []byte{7}},
		{"b", []any{true}, []byte{1, 0, 0, 0}},
		{"n", []any{int16(-2)}, []byte{0xfe, 0xff}},
		{"q", []any{uint16(0x1234)}, []byte{0x34, 0x12}},
		{"yq", []any{byte(1), uint16(2)}, []byte{1, 0, 2, 0}},
		{"i", []any{int32(-1)}, []byte{0xff, 0xff, 0xff, 0xff}},
		{"yu", []any{byte(1), uint32(2)}, []byte{1, 0, 0, 0, 2, 0, 0, 0}},
		{"x", []any{int64(-2)}, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"yt", []any{byte(9), uint64(1)}, cat([]byte{9}, zeros(7), []byte{1}, zeros(7))},
		{"d", []any{1.0}, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
		{"s", []any{"foo"}, []byte{3, 0, 0, 0, 'f', 'o', 'o', 0}},
		{"o", []any{ObjectPath("/a")}, []byte{2, 0, 0, 0, '/', 'a', 0}},
		{"g", []any{Signature("a{sv}")}, []byte{5, 'a', '{', 's', 'v', '}', 0}},
		{"v", []any{Variant{"u", uint32(5)}}, []byte{1, 'u', 0, 0, 5, 0, 0, 0}},
		// The specification's example: an empty array of int64 still pads
		// to the element's alignment after the length.
		{"ax", []any{[]any{}}, cat(le32(0), zeros(4))},
		{"ay", []any{[]byte{1, 2}}, cat(le32(2), []byte{1, 2})},
		{"as", []any{[]string{"a", "bc"}}, cat(le32(15), le32(1), []byte("a\x00"), zeros(2), le32(2), []byte("bc\x00"))},
		{"a{sv}", []any{[]DictEntry{{"a", Variant{"u", uint32(5)}}}},
			cat(le32(16), zeros(4), le32(1), []byte("a\x00"), []byte{1, 'u', 0}, zeros(3), le32(5))},
		{"(yt)", []any{Struct{byte(1), uint64(2)}}, cat([]byte{1}, zeros(7), []byte{2}, zeros(7))},
		{"y(y)", []any{byte(1), Struct{byte(2)}}, cat([]byte{1}, zeros(7), []byte{2})},
	}
	for _, c := range cases {
		got := enc(t, c.sig, c.val...)
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s: got % x, want % x", c.sig, got, c.want)
			continue
		}
		d := decoder{buf: c.want, order: binary.LittleEndian}
		vals, err := d.values(c.sig)
		if err != nil {
			t.Errorf("%s: decode: %v", c.sig, err)
			continue
		}
		if d.off != len(c.want) {
			t.Errorf("%s: decoded %d of %d bytes", c.sig, d.off, len(c.want))
		}
		var e encoder
		if err := e.values(c.sig, vals); err != nil || !bytes.Equal(e.buf, c.want) {
			t.Errorf("%s: re-encode of %#v: % x (%v)", c.sig, vals, e.buf, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		sig  string
		b    []byte
	}{
		{"bool 2", "b", []byte{2, 0, 0, 0}},
		{"nonzero padding", "yu", []byte{1, 9, 0, 0, 2, 0, 0, 0}},
		{"string without nul", "s", []byte{1, 0, 0, 0, 'a', 'b'}},
		{"string with nul inside", "s", []byte{2, 0, 0, 0, 'a', 0, 0}},
		{"invalid utf-8", "s", []byte{1, 0, 0, 0, 0xff, 0}},
		{"string length past end", "s", cat(le32(0xffffffff), []byte("a\x00"))},
		{"bad object path", "o", []byte{2, 0, 0, 0, 'a', 'b', 0}},
		{"bad signature value", "g", []byte{2, 'a', ')', 0}},
		{"variant with two types", "v", []byte{2, 'y', 'y', 0, 1, 1}},
		{"array past end", "ay", cat(le32(100), []byte{1})},
		{"array too long", "ay", le32(MaxArrayLength + 1)},
		{"array element overruns", "au", cat(le32(2), []byte{1, 0, 0, 0})},
		{"truncated u32", "u", []byte{1, 0}},
		{"empty", "y", nil},
	}
	for _, c := range cases {
		d := decoder{buf: c.b, order: binary.LittleEndian}
		if v, err := d.values(c.sig); err == nil {
			t.Errorf("%s: decoded %#v, want an error", c.name, v)
		}
	}
}

func TestSignatures(t *testing.T) {
	good := []string{"", "y", "a{sv}", "(ii)", "a(yv)", "aay", "a{s(ii)}", "v", strings.Repeat("a", 32) + "y",
		strings.Repeat("(", 32) + "y" + strings.Repeat(")", 32)}
	bad := []string{"a", "(", ")", "()", "{sv}", "a{vs}", "a{s}", "a{sss}", "z", "(y", "a{sv",
		strings.Repeat("a", 33) + "y", strings.Repeat("(", 33) + "y" + strings.Repeat(")", 33),
		strings.Repeat("y", 256)}
	for _, s := range good {
		if !ValidSignature(s) {
			t.Errorf("%q: want valid", s)
		}
	}
	for _, s := range bad {
		if ValidSignature(s) {
			t.Errorf("%q: want invalid", s)
		}
	}
	for _, p := range []string{"/", "/a", "/a/b_1"} {
		if !ValidObjectPath(p) {
			t.Errorf("%q: want valid path", p)
		}
	}
	for _, p := range []string{"", "a", "/a/", "//", "/a//b", "/a-b"} {
		if ValidObjectPath(p) {
			t.Errorf("%q: want invalid path", p)
		}
	}
}

// nestedVariants is n variants, each holding the next, the innermost
// holding a byte: decoded with signature "v", whose own variant header is
// the first of the n.
func nestedVariants(n int) []byte {
	var b []byte
	for i := 0; i < n-1; i++ {
		b = append(b, 1, 'v', 0)
	}
	return append(b, 1, 'y', 0, 42)
}

func TestNestingLimits(t *testing.T) {
	d := decoder{buf: nestedVariants(64), order: binary.LittleEndian}
	if _, err := d.values("v"); err != nil {
		t.Fatalf("64 variants: %v", err)
	}
	d = decoder{buf: nestedVariants(65), order: binary.LittleEndian}
	if _, err := d.values("v"); err == nil {
		t.Fatal("65 nested variants accepted")
	}
	// Arrays counted across variants: av holding av holding ... 33 deep.
	var b []byte
	var build func(n int)
	build = func(n int) {
		// an array (aligned 4) of one variant
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		at := len(b)
		b = append(b, 0, 0, 0, 0)
		start := len(b)
		if n == 0 {
			b = append(b, 1, 'y', 0, 1)
		} else {
			b = append(b, 2, 'a', 'v', 0)
			build(n - 1)
		}
		binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-start))
	}
	build(40)
	d = decoder{buf: b, order: binary.LittleEndian}
	if _, err := d.values("av"); err == nil {
		t.Fatal("41 arrays nested through variants accepted")
	}
}

func TestMessageErrors(t *testing.T) {
	set := func(b []byte, i int, v byte) []byte {
		c := append([]byte(nil), b...)
		c[i] = v
		return c
	}
	cases := map[string][]byte{
		"bad endianness":  set(pingLE, 0, 'x'),
		"bad version":     set(pingLE, 3, 2),
		"zero serial":     cat(pingLE[:8], le32(0), pingLE[12:]),
		"truncated":       pingLE[:30],
		"short header":    pingLE[:10],
		"huge body":       cat(pingLE[:4], le32(0xffffffff), pingLE[8:]),
		"huge fields":     cat(pingLE[:12], le32(0x7fffffff), pingLE[16:]),
		"body no sig":     cat(pingLE[:4], le32(8), pingLE[8:], zeros(8)),
		"path wrong type": set(pingLE, 18, 's'),
		"member missing":  cat(pingLE[:12], le32(10), pingLE[16:26], zeros(6)),
		"trailing byte":   append(append([]byte(nil), pingLE...), 0),
		"no path":         cat(pingLE[:12], le32(13), pingLE[32:45], zeros(3)),
	}
	for name, b := range cases {
		if m, err := Unmarshal(b); err == nil {
			t.Errorf("%s: accepted %+v", name, m)
		}
	}
	// Wrong body signature declared: "u" but body is a 2-byte value.
	m := &Message{Type: TypeMethodCall, Serial: 2, Path: "/", Member: "X", Signature: "q", Body: []any{uint16(1)}}
	b, _ := m.Marshal()
	b[len(b)-10] = 'u' // the signature byte in the SIGNATURE field
	if _, err := Unmarshal(b); err == nil {
		t.Error("mismatched body signature accepted")
	}
}

func TestRoundTrip(t *testing.T) {
	m := &Message{Type: TypeMethodReturn, Serial: 3, ReplySerial: 9, Destination: ":1.1",
		Signature: "a{sv}dasx(ybnq)",
		Body: []any{
			[]DictEntry{{"A", Variant{"t", uint64(1)}}, {"B", Variant{"as", []string{"x"}}}},
			math.Pi, []string{}, int64(-5), Struct{byte(1), true, int16(-3), uint16(4)},
		}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := got.Marshal()
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs: %v", err)
	}
	if got.Body[0].([]any)[1].(DictEntry).Value.(Variant).Value.([]string)[0] != "x" {
		t.Fatalf("body: %#v", got.Body)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(pingLE)
	f.Add(getBE)
	m := &Message{Type: TypeMethodReturn, Serial: 3, ReplySerial: 9, Signature: "a{sv}v",
		Body: []any{[]DictEntry{{"A", Variant{"t", uint64(1)}}}, Variant{"(yd)", Struct{byte(1), 2.0}}}}
	b, _ := m.Marshal()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Unmarshal(data)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("re-marshal of an accepted message: %v", err)
		}
		m2, err := Unmarshal(out)
		if err != nil {
			t.Fatalf("unmarshal of a re-marshalled message: %v", err)
		}
		out2, err := m2.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("not stable: %v", err)
		}
	})
}
