package quicklist

import (
	"testing"

	"shoal/engine/internal/listpack"
)

func fixture(n int) *Quicklist {
	q := New(DefaultFill)
	for i := range n {
		q.PushTail([]byte(tenBytes(i)))
	}
	return q
}

// TestNoAllocs asserts that lookups and iteration (LINDEX, LRANGE, LPOS
// scans) do not allocate.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	q := fixture(10000)
	var buf [listpack.IntBufSize]byte
	target := []byte(tenBytes(9999))
	same := []byte(tenBytes(0))
	x, i := 0, 0
	tests := []struct {
		name string
		fn   func()
	}{
		{"Index", func() {
			v, _ := q.Index(i%20000 - 10000)
			x += len(v.Bytes(&buf))
		}},
		{"LRANGE 0 99", func() {
			it := q.Iter(0, true)
			for k := 0; k < 100; k++ {
				v, _ := it.Next()
				x += len(v.Bytes(&buf))
			}
		}},
		{"LRANGE -100 -1 reverse", func() {
			it := q.Iter(-1, false)
			for k := 0; k < 100; k++ {
				v, _ := it.Next()
				x += v.Len()
			}
		}},
		{"scan for a match", func() {
			it := q.Iter(0, true)
			for v, ok := it.Next(); ok; v, ok = it.Next() {
				if v.Equal(target) {
					x++
					break
				}
			}
		}},
		{"Replace same size", func() { q.Replace(i%10000, same) }},
	}
	for _, tc := range tests {
		tc.fn()
		if a := testing.AllocsPerRun(200, func() { tc.fn(); i++ }); a != 0 {
			t.Errorf("%s: %v allocations per call", tc.name, a)
		}
	}
	_ = x
}

func BenchmarkPushTail(b *testing.B) {
	v := []byte("0123456789")
	b.ReportAllocs()
	q := New(DefaultFill)
	for i := 0; b.Loop(); i++ {
		if i%1000000 == 0 {
			q.Clear()
		}
		q.PushTail(v)
	}
}

func BenchmarkPushHead(b *testing.B) {
	v := []byte("0123456789")
	b.ReportAllocs()
	q := New(DefaultFill)
	for i := 0; b.Loop(); i++ {
		if i%1000000 == 0 {
			q.Clear()
		}
		q.PushHead(v)
	}
}

func BenchmarkPopPush(b *testing.B) {
	q := fixture(10000)
	dst := make([]byte, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = q.PopHead(dst[:0])
		q.PushTail(dst)
	}
}

func BenchmarkLRange100(b *testing.B) {
	q := fixture(10000)
	var buf [listpack.IntBufSize]byte
	b.ReportAllocs()
	x := 0
	for b.Loop() {
		it := q.Iter(0, true)
		for k := 0; k < 100; k++ {
			v, _ := it.Next()
			x += len(v.Bytes(&buf))
		}
	}
	_ = x
}

func BenchmarkIndexMiddle(b *testing.B) {
	q := fixture(100000)
	b.ReportAllocs()
	x := 0
	for b.Loop() {
		v, _ := q.Index(50000)
		x += v.Len()
	}
	_ = x
}
