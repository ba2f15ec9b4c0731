package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"shoal/engine/internal/listpack"
)

// buildZiplist encodes entries as Redis's ziplist.c would: integers in the
// narrowest integer encoding, strings by length. It is the test's own
// encoder, written from the format description.
func buildZiplist(entries []string) []byte {
	zl := make([]byte, zlHeader)
	prev, last := 0, zlHeader
	for _, s := range entries {
		start := len(zl)
		if prev < 254 {
			zl = append(zl, byte(prev))
		} else {
			zl = append(zl, 0xfe)
			zl = binary.LittleEndian.AppendUint32(zl, uint32(prev))
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(v, 10) == s {
			switch {
			case v >= 0 && v <= 12:
				zl = append(zl, 0xf1+byte(v))
			case v >= math.MinInt8 && v <= math.MaxInt8:
				zl = append(zl, 0xfe, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				zl = binary.LittleEndian.AppendUint16(append(zl, 0xc0), uint16(v))
			case v >= -(1<<23) && v < 1<<23:
				zl = append(zl, 0xf0, byte(v), byte(v>>8), byte(v>>16))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				zl = binary.LittleEndian.AppendUint32(append(zl, 0xd0), uint32(v))
			default:
				zl = binary.LittleEndian.AppendUint64(append(zl, 0xe0), uint64(v))
			}
		} else {
			switch n := len(s); {
			case n < 64:
				zl = append(zl, byte(n))
			case n < 16384:
				zl = append(zl, 0x40|byte(n>>8), byte(n))
			default:
				zl = binary.BigEndian.AppendUint32(append(zl, 0x80), uint32(n))
			}
			zl = append(zl, s...)
		}
		prev, last = len(zl)-start, start
	}
	zl = append(zl, zlEnd)
	binary.LittleEndian.PutUint32(zl, uint32(len(zl)))
	binary.LittleEndian.PutUint32(zl[4:], uint32(last))
	n := len(entries)
	if n > 0xfffe {
		n = 0xffff
	}
	binary.LittleEndian.PutUint16(zl[8:], uint16(n))
	return zl
}

func listpackOf(entries []string) []byte {
	lp := listpack.New()
	for _, e := range entries {
		lp.Append([]byte(e))
	}
	return lp.Bytes()
}

func TestZiplistToListpack(t *testing.T) {
	// The example of ziplist.c's documentation: the entries 2 and 5.
	golden := []byte{0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x02, 0, 0x00, 0xf3, 0x02, 0xf6, 0xff}
	lp, err := ZiplistToListpack(golden)
	if err != nil || !bytes.Equal(lp.Bytes(), listpackOf([]string{"2", "5"})) {
		t.Fatalf("golden ziplist: %q, %v", lp.Bytes(), err)
	}
	for _, entries := range [][]string{
		{},
		{"a"},
		{"0", "12", "13", "-1", "127", "-128", "200", "-30000", "70000", "-8388608", "8388607",
			"8388608", "2147483647", "-2147483649", "9223372036854775807", "-9223372036854775808"},
		{"012", "+1", "-0", "1.5", ""},
		{strings.Repeat("x", 63), strings.Repeat("y", 64), strings.Repeat("z", 300), "after a big prevlen"},
		{strings.Repeat("w", 20000), "tail"},
	} {
		zl := buildZiplist(entries)
		lp, err := ZiplistToListpack(zl)
		if err != nil {
			t.Fatalf("%d entries: %v", len(entries), err)
		}
		if !bytes.Equal(lp.Bytes(), listpackOf(entries)) {
			t.Fatalf("%d entries: listpack differs", len(entries))
		}
	}
}

func TestZiplistCorrupt(t *testing.T) {
	good := buildZiplist([]string{"hello", "42", strings.Repeat("x", 300), "end"})
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, tc := range []struct {
		name string
		zl   []byte
	}{
		{"short", good[:10]},
		{"size mismatch", mutate(func(b []byte) []byte { b[0]++; return b })},
		{"no end byte", mutate(func(b []byte) []byte { b[len(b)-1] = 0; return b })},
		{"tail past end", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], uint32(len(b))); return b })},
		{"tail not last", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], zlHeader); return b })},
		{"count", mutate(func(b []byte) []byte { b[8] = 3; return b })},
		{"first prevlen", mutate(func(b []byte) []byte { b[zlHeader] = 1; return b })},
		{"bad encoding", mutate(func(b []byte) []byte { b[zlHeader+1] = 0xc5; return b })},
		{"string past end", mutate(func(b []byte) []byte { b[zlHeader+1] = 0x3f; return b })},
		{"truncated", append(bytes.Clone(good[:len(good)-3]), zlEnd)},
	} {
		zl := tc.zl
		if tc.name == "truncated" {
			binary.LittleEndian.PutUint32(zl, uint32(len(zl)))
		}
		if _, err := ZiplistToListpack(zl); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// An unknown count (65535) is accepted.
	b := bytes.Clone(good)
	binary.LittleEndian.PutUint16(b[8:], 0xffff)
	if _, err := ZiplistToListpack(b); err != nil {
		t.Errorf("count 65535: %v", err)
	}
}

func TestZipmapToListpack(t *testing.T) {
	// The example of zipmap.c's documentation: foo => bar, hello => world.
	zm := []byte("\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff")
	lp, maxLen, err := ZipmapToListpack(zm)
	if err != nil || maxLen != 5 || !bytes.Equal(lp.Bytes(), listpackOf([]string{"foo", "bar", "hello", "world"})) {
		t.Fatalf("golden zipmap: %q, %d, %v", lp.Bytes(), maxLen, err)
	}
	// Free bytes after a value, a 5-byte length and an unknown count.
	big := strings.Repeat("v", 300)
	zm2 := []byte("\xfe\x01k\xfe\x2c\x01\x00\x00\x02")
	zm2 = append(zm2, big...)
	zm2 = append(zm2, "zz\x02k2\x01\x011A\xff"...)
	lp, maxLen, err = ZipmapToListpack(zm2)
	if err != nil || maxLen != 300 || !bytes.Equal(lp.Bytes(), listpackOf([]string{"k", big, "k2", "1"})) {
		t.Fatalf("zipmap with free bytes: %d, %v", maxLen, err)
	}
	for _, bad := range []string{
		"",
		"\x01",
		"\x03\x03foo\x03\x00bar\xff",  // count
		"\x01\x03foo\x03\x00ba\xff",   // value runs into the end byte
		"\x01\x03foo\x03\x05bar\xff",  // free bytes past the end
		"\x01\x09foo\x03\x00bar\xff",  // key past the end
		"\x01\x03foo\xfe\x00\x00\xff", // 5-byte length cut
	} {
		if _, _, err := ZipmapToListpack([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("zipmap %q: %v", bad, err)
		}
	}
}

func TestUniq(t *testing.T) {
	var u Uniq
	for _, tc := range []struct {
		entries []string
		pairs   bool
		ok      bool
	}{
		{[]string{"a", "1", "b", "1"}, true, true},
		{[]string{"a", "1", "a", "2"}, true, false},
		{[]string{"7", "x", "07", "y", "7", "z"}, true, false}, // the integer 7 twice
		{[]string{"a", "1", "b"}, true, false},                 // odd
		{[]string{"x", "y", "z"}, false, true},
		{[]string{"x", "y", "x"}, false, false},
		{[]string{}, false, true},
	} {
		lp, err := listpack.Load(listpackOf(tc.entries))
		if err != nil {
			t.Fatal(err)
		}
		if tc.pairs {
			err = u.Pairs(&lp)
		} else {
			err = u.All(&lp)
		}
		if (err == nil) != tc.ok {
			t.Errorf("%v (pairs %v): %v", tc.entries, tc.pairs, err)
		}
	}
}

func FuzzZiplist(f *testing.F) {
	f.Add(buildZiplist([]string{"a", "1", "-300", strings.Repeat("q", 270), "x"}))
	f.Add(buildZiplist(nil))
	f.Add([]byte("\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if lp, err := ZiplistToListpack(b); err == nil {
			if err := listpack.Validate(lp.Bytes(), true); err != nil {
				t.Fatalf("accepted ziplist gave an invalid listpack: %v", err)
			}
		}
		if lp, _, err := ZipmapToListpack(b); err == nil {
			if err := listpack.Validate(lp.Bytes(), true); err != nil || lp.Len()%2 != 0 {
				t.Fatalf("accepted zipmap gave an invalid listpack: %v", err)
			}
		}
	})
}
