package rdb

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"
)

// lzfInputs are strings of every kind of redundancy: none, runs, short
// and long repeats, repeats farther back than the 8 KB window.
func lzfInputs() [][]byte {
	rng := rand.New(rand.NewSource(7))
	random := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	far := random(9000)
	far = append(far, far[:300]...) // a repeat beyond the window
	words := make([]byte, 0, 70000)
	for len(words) < 70000 { // past 65536: table positions alias
		words = append(words, []string{"alpha ", "beta ", "gamma ", "delta "}[rng.Intn(4)]...)
	}
	return [][]byte{
		[]byte("a"),
		[]byte("abc"),
		[]byte(strings.Repeat("a", 21)),
		[]byte(strings.Repeat("a", 1000)),
		[]byte(strings.Repeat("ab", 700)),
		[]byte(strings.Repeat("0123456789", 50)),
		[]byte("hello hello hello hello hello world, hello world!"),
		random(40),
		random(5000),
		far,
		words,
		append(random(100), bytes.Repeat([]byte("xyz"), 200)...),
	}
}

func TestLZFRoundTrip(t *testing.T) {
	for i, in := range lzfInputs() {
		c, ok := LZFCompress(nil, in, len(in)*2+64)
		if !ok {
			t.Fatalf("input %d (%d bytes): compression gave up with room to spare", i, len(in))
		}
		out := make([]byte, len(in))
		if err := LZFDecompress(out, c); err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("input %d: round trip differs", i)
		}
		again, _ := LZFCompress([]byte("prefix"), in, len(in)*2+64)
		if !bytes.Equal(again[6:], c) || string(again[:6]) != "prefix" {
			t.Fatalf("input %d: compression is not deterministic or clobbers dst", i)
		}
		// A limit one byte short of the output makes it give up.
		if len(c) > 0 {
			if short, ok := LZFCompress([]byte("x"), in, len(c)-1); ok || string(short) != "x" {
				t.Fatalf("input %d: limit %d not enforced (ok %v, %d bytes)", i, len(c)-1, ok, len(short))
			}
		}
	}
	// Redundant input compresses well.
	c, _ := LZFCompress(nil, bytes.Repeat([]byte("a"), 10000), 10000)
	if len(c) > 150 {
		t.Errorf("10000 x 'a' compressed to %d bytes", len(c))
	}
}

// TestLZFGolden decompresses what liblzf (redis-server 7.0.15's DUMP of
// a 49-byte string) produced.
func TestLZFGolden(t *testing.T) {
	in := []byte{0x31, 0x06, 'h', 'e', 'l', 'l', 'o', ' ', 'h', 0xe0, 0x0e, 0x05, 0x05, 'w', 'o', 'r', 'l',
		'd', ',', 0xa0, 0x1e, 0x40, 0x0c, 0x01, 'd', '!'}
	in = in[1:] // the first byte above is the uncompressed length (49)
	out := make([]byte, 49)
	if err := LZFDecompress(out, in); err != nil {
		t.Fatal(err)
	}
	if string(out) != "hello hello hello hello hello world, hello world!" {
		t.Fatalf("got %q", out)
	}
}

func TestLZFCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		n    int
	}{
		{"literal past input", []byte{5, 'a', 'b'}, 6},
		{"literal past output", []byte{2, 'a', 'b', 'c'}, 2},
		{"reference before start", []byte{0, 'a', 0x20, 0x05}, 4},
		{"reference missing offset", []byte{0, 'a', 0x20}, 4},
		{"long reference missing length", []byte{0, 'a', 0xe0}, 20},
		{"reference past output", []byte{0, 'a', 0x20, 0x00}, 3},
		{"short output", []byte{1, 'a', 'b'}, 3},
	} {
		err := LZFDecompress(make([]byte, tc.n), tc.in)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	// An overlapping reference repeats: "a" then 9 copies at distance 1.
	out := make([]byte, 10)
	if err := LZFDecompress(out, []byte{0, 'a', 7 << 5, 0, 0}); err != nil || string(out) != "aaaaaaaaaa" {
		t.Errorf("overlap: %q %v", out, err)
	}
}

func TestLZFNoAlloc(t *testing.T) {
	in := []byte(strings.Repeat("hello world ", 40))
	dst := make([]byte, 0, 1024)
	out := make([]byte, len(in))
	c, _ := LZFCompress(dst, in, len(in))
	n := testing.AllocsPerRun(100, func() {
		c, _ = LZFCompress(dst[:0], in, len(in))
		if err := LZFDecompress(out, c); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per compress+decompress", n)
	}
}

func FuzzLZF(f *testing.F) {
	for _, in := range lzfInputs()[:8] {
		c, _ := LZFCompress(nil, in, len(in)*2+64)
		f.Add(in, c, uint16(len(in)))
	}
	f.Add([]byte{}, []byte{0, 'a', 0xe0, 0xff, 0}, uint16(300))
	f.Fuzz(func(t *testing.T, plain, stream []byte, n uint16) {
		// Any stream: decompression never panics, and an accepted one
		// fills the output exactly.
		_ = LZFDecompress(make([]byte, n), stream)
		// Any input: compression round-trips and respects its limit.
		c, ok := LZFCompress(nil, plain, len(plain)+len(plain)/16+8)
		if !ok {
			t.Fatalf("compression of %d bytes gave up under a generous limit", len(plain))
		}
		out := make([]byte, len(plain))
		if err := LZFDecompress(out, c); err != nil || !bytes.Equal(out, plain) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func BenchmarkLZFCompress(b *testing.B) {
	in := lzfInputs()[10][:16384]
	dst := make([]byte, 0, len(in))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		LZFCompress(dst[:0], in, len(in))
	}
}

func BenchmarkLZFDecompress(b *testing.B) {
	in := lzfInputs()[10][:16384]
	c, _ := LZFCompress(nil, in, len(in))
	out := make([]byte, len(in))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := LZFDecompress(out, c); err != nil {
			b.Fatal(err)
		}
	}
}
