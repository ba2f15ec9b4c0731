package kv

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestSizeClasses(t *testing.T) {
	if classSize[0] != minClassSize || classSize[numClasses-1] != maxClassSize {
		t.Fatalf("classes span %d..%d", classSize[0], classSize[numClasses-1])
	}
	for c := 1; c < numClasses; c++ {
		prev, cur := classSize[c-1], classSize[c]
		if cur <= prev || (cur-prev)*8 > prev {
			t.Fatalf("class %d: %d after %d is more than 12.5%% apart", c, cur, prev)
		}
		if classPage[c]%cur != 0 && classPage[c]/cur < 8 {
			t.Fatalf("class %d: page %d holds fewer than 8 slots", c, classPage[c])
		}
		if classPage[c] > locOffMask {
			t.Fatalf("class %d: page %d too big for a location", c, classPage[c])
		}
	}
	// Every size maps to the smallest class that holds it.
	for n := 0; n <= maxClassSize+1; n++ {
		c := classOf(n)
		if n > maxClassSize {
			if c != hugeClass {
				t.Fatalf("classOf(%d) = %d, want huge", n, c)
			}
			continue
		}
		if int(classSize[c]) < n || (c > 0 && int(classSize[c-1]) >= n) {
			t.Fatalf("classOf(%d) = %d (size %d)", n, c, classSize[c])
		}
	}
	table := []struct{ n, size int }{
		{0, 16}, {1, 16}, {16, 16}, {17, 18}, {32, 32}, {33, 36}, {275, 288},
		{288, 288}, {289, 320}, {1000, 1024}, {1025, 1152}, {maxClassSize, maxClassSize},
	}
	for _, tc := range table {
		if got := classSize[classOf(tc.n)]; int(got) != tc.size {
			t.Errorf("class of %d bytes has size %d, want %d", tc.n, got, tc.size)
		}
	}
}

func TestRecordCodec(t *testing.T) {
	tests := []struct {
		klen, vlen int
		hl         int
	}{
		{0, 0, 2}, {1, 0, 2}, {16, 256, 3}, {127, 127, 2}, {128, 127, 3},
		{127, 128, 3}, {300, 20000, 5}, {16383, 16384, 5}, {5, 1 << 21, 5},
		{5, 512 << 20, 6}, {512 << 20, 0, 6},
	}
	for _, tc := range tests {
		if got := headerLen(tc.klen, tc.vlen); got != tc.hl {
			t.Errorf("headerLen(%d, %d) = %d, want %d", tc.klen, tc.vlen, got, tc.hl)
		}
		if got := recordLen(tc.klen, tc.vlen); got != tc.hl+tc.klen+tc.vlen {
			t.Errorf("recordLen(%d, %d) = %d", tc.klen, tc.vlen, got)
		}
		b := make([]byte, 16)
		if n := putHeader(b, tc.klen, tc.vlen); n != tc.hl {
			t.Errorf("putHeader(%d, %d) wrote %d bytes, want %d", tc.klen, tc.vlen, n, tc.hl)
		}
		k, v, hl := header(b)
		if k != tc.klen || v != tc.vlen || hl != tc.hl {
			t.Errorf("header of (%d, %d) decodes as (%d, %d, %d)", tc.klen, tc.vlen, k, v, hl)
		}
	}
	for x := uint64(0); x < 1<<22; x = x*3 + 1 {
		var b [binary.MaxVarintLen64]byte
		if n := binary.PutUvarint(b[:], x); n != uvarintLen(x) {
			t.Fatalf("uvarintLen(%d) = %d, want %d", x, uvarintLen(x), n)
		}
	}
}

func TestLocPacking(t *testing.T) {
	tests := []struct {
		class     int
		page, off uint32
	}{
		{0, 0, 0}, {numClasses - 1, locPageMask, locOffMask}, {hugeClass, 12345, 0}, {7, 1, 65520},
	}
	for _, tc := range tests {
		for _, flags := range []uint64{0, locLive, locLive | locObject} {
			loc := makeLoc(tc.class, tc.page, tc.off) | flags
			if locClass(loc) != tc.class || locPage(loc) != tc.page || locOff(loc) != tc.off || loc&(locLive|locObject) != flags {
				t.Fatalf("loc %x of %+v flags %x unpacks as %d %d %d", loc, tc, flags, locClass(loc), locPage(loc), locOff(loc))
			}
		}
	}
}

// FuzzRecordCodec writes a record into a slot and reads it back.
func FuzzRecordCodec(f *testing.F) {
	f.Add([]byte("key:000000000001"), bytes.Repeat([]byte("v"), 256))
	f.Add([]byte{}, []byte{})
	f.Add(bytes.Repeat([]byte{0x80}, 200), []byte{0xff})
	f.Fuzz(func(t *testing.T, key, val []byte) {
		n := recordLen(len(key), len(val))
		b := make([]byte, n+8)
		hl := putHeader(b, len(key), len(val))
		copy(b[hl:], key)
		copy(b[hl+len(key):], val)
		k, v, h := header(b)
		if h != hl || k != len(key) || v != len(val) || hl+k+v != n {
			t.Fatalf("header (%d, %d, %d), wrote (%d, %d, %d)", k, v, h, len(key), len(val), hl)
		}
		if !bytes.Equal(b[h:h+k], key) || !bytes.Equal(b[h+k:h+k+v], val) {
			t.Fatal("record bytes differ")
		}
		if c := classOf(n); c != hugeClass && int(classSize[c]) < n {
			t.Fatalf("record of %d bytes in class of %d", n, classSize[c])
		}
	})
}
