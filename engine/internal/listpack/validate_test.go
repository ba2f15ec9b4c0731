package listpack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestValidateCases(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		deep bool
		ok   bool
	}{
		{"empty", "07000000" + "0000" + "ff", true, true},
		{"one 7-bit int", "09000000" + "0100" + "0501" + "ff", true, true},
		{"short", "070000000000", true, false},
		{"total too big", "08000000" + "0000" + "ff", true, false},
		{"total too small", "06000000" + "0000" + "ffff", true, false},
		{"no end byte", "07000000" + "0000" + "fe", true, false},
		{"count mismatch", "09000000" + "0200" + "0501" + "ff", true, false},
		{"count mismatch shallow", "09000000" + "0200" + "0501" + "ff", false, true},
		{"count unknown", "09000000" + "ffff" + "0501" + "ff", true, true},
		{"bad backlen", "09000000" + "0100" + "0502" + "ff", true, false},
		{"bad encoding byte", "09000000" + "0100" + "f501" + "ff", true, false},
		{"string past end", "0a000000" + "0100" + "8561" + "01" + "ff", true, false},
		{"12-bit length past end", "08000000" + "0100" + "e0" + "ff", true, false},
		{"32-bit length huge", "0d000000" + "0100" + "f0ffffffff" + "01" + "ff", true, false},
		{"end byte early", "0a000000" + "0000" + "ff" + "0501" + "ff", true, false},
		{"12-bit string of 3", "0d000000" + "0100" + "e003616263" + "05" + "ff", true, true},
		{"64-bit int", "11000000" + "0100" + "f40100000000000000" + "09" + "ff", true, true},
		{"second entry bad, shallow", "0b000000" + "0200" + "0501" + "f501" + "ff", false, true},
		{"second entry bad, deep", "0b000000" + "0200" + "0501" + "f501" + "ff", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := hex.DecodeString(tc.hex)
			if err != nil {
				t.Fatal(err)
			}
			err = Validate(b, tc.deep)
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
		})
	}
}

// readAll walks a loaded listpack every way the accessors allow; on a
// blob that passed deep validation none of it may panic.
func readAll(lp *Listpack) int {
	var buf [IntBufSize]byte
	n := 0
	for p, ok := lp.First(); ok; p, ok = lp.Next(p) {
		n += len(lp.GetBytes(p, &buf))
	}
	for p, ok := lp.Last(); ok; p, ok = lp.Prev(p) {
		n += lp.EntrySize(p)
	}
	for i := -lp.Len(); i < lp.Len(); i++ {
		if p, ok := lp.Seek(i); ok {
			n += p
		}
	}
	if p, ok := lp.First(); ok {
		lp.Find(p, []byte("12"), 1)
		lp.Find(p, []byte("x"), 0)
	}
	return n
}

// TestValidateMutations checks that corrupting valid listpacks is caught or
// yields something the accessors can read without panicking.
func TestValidateMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var lp Listpack
	for _, v := range modelValues {
		if len(v) < 200 {
			lp.Append(v)
		}
	}
	orig := lp.Bytes()
	for range 20000 {
		b := bytes.Clone(orig)
		switch rng.IntN(3) {
		case 0:
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		case 1:
			b = b[:rng.IntN(len(b))]
		case 2:
			i := rng.IntN(len(b))
			b[i] ^= 1 << rng.IntN(8)
		}
		if l, err := Load(b); err == nil {
			readAll(&l)
		}
	}
}

func FuzzValidate(f *testing.F) {
	var lp Listpack
	for _, v := range modelValues[:30] {
		lp.Append(v)
	}
	f.Add(lp.Bytes())
	f.Add([]byte{7, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		shallow := Validate(b, false)
		l, err := Load(bytes.Clone(b))
		if err != nil {
			return
		}
		if shallow != nil {
			t.Fatalf("deep validation passed but shallow failed: %v", shallow)
		}
		readAll(&l)
		// A valid blob re-encodes to a valid listpack with the same entries.
		var m [][]byte
		for p, ok := l.First(); ok; p, ok = l.Next(p) {
			m = append(m, l.AppendEntry(nil, p))
		}
		var fresh Listpack
		for _, v := range m {
			fresh.Append(v)
		}
		if err := Validate(fresh.Bytes(), true); err != nil {
			t.Fatal(err)
		}
		if fresh.Len() != l.Len() {
			t.Fatalf("re-encoded %d entries, loaded %d", fresh.Len(), l.Len())
		}
	})
}

// TestLoadSubslice checks that a listpack loaded from part of a larger
// buffer never writes past its part when it grows.
func TestLoadSubslice(t *testing.T) {
	var lp Listpack
	lp.Append([]byte("a"))
	buf := append(bytes.Clone(lp.Bytes()), "TRAILER"...)
	l, err := Load(buf[:lp.Size()])
	if err != nil {
		t.Fatal(err)
	}
	l.Append([]byte("more"))
	if string(buf[lp.Size():]) != "TRAILER" {
		t.Fatalf("bytes after the blob overwritten: %q", buf[lp.Size():])
	}
}
