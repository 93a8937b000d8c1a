package sockets

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func FuzzParseNotify(f *testing.F) {
	for _, s := range []string{"READY=1", "READY=1\nSTATUS=x\n", "", "\x00", "=\n=", "\xff=1", "a=b=c\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fields, err := parseNotify(data)
		if err != nil {
			return
		}
		for _, kv := range fields {
			if kv[0] == "" || bytes.ContainsAny([]byte(kv[0]), "=\n") || bytes.ContainsRune([]byte(kv[1]), '\n') ||
				!utf8.ValidString(kv[0]) || !utf8.ValidString(kv[1]) {
				t.Fatalf("bad field %q", kv)
			}
		}
	})
}
