package listpack

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestEntryEncodings pins the bytes of single entries (encoding, data,
// backlen) to the listpack specification.
func TestEntryEncodings(t *testing.T) {
	tests := []struct {
		in    string
		entry string // hex
		isInt bool
	}{
		{"0", "0001", true},
		{"127", "7f01", true},
		{"128", "c08002", true},
		{"-1", "dfff02", true},
		{"4095", "cfff02", true},
		{"-4096", "d00002", true},
		{"4096", "f1001003", true},
		{"-32768", "f1008003", true},
		{"32768", "f200800004", true},
		{"-8388608", "f200008004", true},
		{"8388608", "f30000800005", true},
		{"2147483648", "f4000000800000000009", true},
		{"9223372036854775807", "f4ffffffffffffff7f09", true},
		{"-9223372036854775808", "f4000000000000008009", true},
		{"", "8001", false},
		{"abc", "8361626304", false},
		{"-0", "822d3003", false},
		{"01", "8230310" + "3", false},
		{strings.Repeat("a", 63), "bf" + strings.Repeat("61", 63) + "40", false},
		{strings.Repeat("a", 64), "e040" + strings.Repeat("61", 64) + "42", false},
		{strings.Repeat("a", 126), "e07e" + strings.Repeat("61", 126) + "0180", false},
		{strings.Repeat("a", 4096), "f000100000" + strings.Repeat("61", 4096) + "2085", false},
		{strings.Repeat("a", 16378), "f0fa3f0000" + strings.Repeat("61", 16378) + "00ffff", false},
	}
	for _, tc := range tests {
		name := tc.in
		if len(name) > 20 {
			name = name[:5] + "...x" + string(rune('0'+len(tc.in)%10))
		}
		t.Run(name, func(t *testing.T) {
			var lp Listpack
			p := lp.Append([]byte(tc.in))
			got := hex.EncodeToString(lp.Bytes()[HeaderSize : lp.Size()-1])
			if got != tc.entry {
				if len(got) > 80 {
					got, tc.entry = got[:40]+"..."+got[len(got)-20:], tc.entry[:40]+"..."+tc.entry[len(tc.entry)-20:]
				}
				t.Fatalf("entry %s, want %s", got, tc.entry)
			}
			if _, _, isInt := lp.Get(p); isInt != tc.isInt {
				t.Fatalf("isInt %v, want %v", isInt, tc.isInt)
			}
			var buf [IntBufSize]byte
			if string(lp.GetBytes(p, &buf)) != tc.in {
				t.Fatal("does not read back")
			}
			if lp.EntrySize(p) != len(tc.entry)/2 {
				t.Fatalf("EntrySize %d, want %d", lp.EntrySize(p), len(tc.entry)/2)
			}
		})
	}
}

func TestRandomPositions(t *testing.T) {
	lp, _ := hashFixture(10)
	seen := map[int]bool{}
	for r := range uint64(40) {
		p, ok := lp.RandomPair(r)
		if !ok {
			t.Fatal("RandomPair on a non-empty listpack")
		}
		want, _ := lp.Seek(2 * int(r%10))
		if p != want {
			t.Fatalf("RandomPair(%d) at %d, want pair %d at %d", r, p, r%10, want)
		}
		q, _ := lp.Random(r)
		seen[q] = true
	}
	if len(seen) != 20 {
		t.Fatalf("Random reached %d of 20 entries", len(seen))
	}
	var empty Listpack
	if _, ok := empty.Random(1); ok {
		t.Fatal("Random on an empty listpack")
	}
	if _, ok := empty.RandomPair(1); ok {
		t.Fatal("RandomPair on an empty listpack")
	}
}
