package rdb

import (
	"hash/crc64"
	"math/rand"
	"testing"
)

func TestCRC64CheckValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"", 0},
		// Redis's crc64.c test: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca.
		{"123456789", 0xe9c6d914c4b8d9ca},
		// The footer of redis-server 7.0.15's DUMP of the string "hello":
		// 00 05 "hello" 0a 00, then this CRC.
		{"\x00\x05hello\x0a\x00", 0x0a20346576df7263},
	} {
		if got := CRC64(0, []byte(tc.in)); got != tc.want {
			t.Errorf("CRC64(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

// TestCRC64Model checks the sliced table against the standard library's
// bytewise CRC with the same polynomial (whose initial value and final
// xor are all ones: undone around the call), over random data cut at
// random points, so the running form is covered too.
func TestCRC64Model(t *testing.T) {
	tab := crc64.MakeTable(jonesReflected)
	model := func(crc uint64, p []byte) uint64 { return ^crc64.Update(^crc, tab, p) }
	rng := rand.New(rand.NewSource(1))
	for range 200 {
		b := make([]byte, rng.Intn(300))
		rng.Read(b)
		want := model(0, b)
		if got := CRC64(0, b); got != want {
			t.Fatalf("CRC64 of %d bytes = %#x, want %#x", len(b), got, want)
		}
		cut := 0
		if len(b) > 0 {
			cut = rng.Intn(len(b))
		}
		if got := CRC64(CRC64(0, b[:cut]), b[cut:]); got != want {
			t.Fatalf("running CRC64 cut at %d = %#x, want %#x", cut, got, want)
		}
		if got := crcByte(CRC64(0, b), 0x5a); got != model(0, append(b, 0x5a)) {
			t.Fatalf("crcByte mismatch")
		}
	}
}

// TestCRC64Lengths covers the fold's edges: every length around the
// multiples of 64 up to a few KiB, at every alignment of the first byte,
// and the table alone against the same model.
func TestCRC64Lengths(t *testing.T) {
	tab := crc64.MakeTable(jonesReflected)
	model := func(crc uint64, p []byte) uint64 { return ^crc64.Update(^crc, tab, p) }
	rng := rand.New(rand.NewSource(2))
	buf := make([]byte, 4096+16)
	rng.Read(buf)
	for n := 0; n <= 4096; n++ {
		if n > 600 && n%64 > 2 && n%64 < 62 {
			continue
		}
		off := n % 16
		p := buf[off : off+n]
		init := rng.Uint64()
		want := model(init, p)
		if got := CRC64(init, p); got != want {
			t.Fatalf("CRC64(%#x, %d bytes at +%d) = %#x, want %#x", init, n, off, got, want)
		}
		if got := crcTable(init, p); got != want {
			t.Fatalf("crcTable(%#x, %d bytes at +%d) = %#x, want %#x", init, n, off, got, want)
		}
	}
}

func FuzzCRC64(f *testing.F) {
	tab := crc64.MakeTable(jonesReflected)
	f.Add(uint64(0), []byte("123456789"))
	f.Add(uint64(1), make([]byte, 1000))
	f.Fuzz(func(t *testing.T, crc uint64, p []byte) {
		if got, want := CRC64(crc, p), ^crc64.Update(^crc, tab, p); got != want {
			t.Fatalf("CRC64(%#x, %d bytes) = %#x, want %#x", crc, len(p), got, want)
		}
	})
}

// BenchmarkCRC64 is the checksum over 64 KiB, the size a rewrite feeds it
// (folded where the CPU can); BenchmarkCRC64Table is the table alone.
func BenchmarkCRC64(b *testing.B) { benchCRC(b, CRC64) }

func BenchmarkCRC64Table(b *testing.B) { benchCRC(b, crcTable) }

func benchCRC(b *testing.B, f func(uint64, []byte) uint64) {
	p := make([]byte, 64<<10)
	rand.New(rand.NewSource(1)).Read(p)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	var crc uint64
	for b.Loop() {
		crc = f(crc, p)
	}
}
