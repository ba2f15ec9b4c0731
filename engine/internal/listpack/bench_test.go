package listpack

import (
	"strconv"
	"testing"
)

func BenchmarkFind(b *testing.B) {
	for _, n := range []int{16, 128} {
		lp, fields := hashFixture(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			x := 0
			for i := 0; b.Loop(); i++ {
				p, _ := lp.First()
				q, _ := lp.Find(p, fields[i%n], 1)
				x += q
			}
			_ = x
		})
	}
}

func BenchmarkIterate(b *testing.B) {
	lp, _ := hashFixture(128)
	var buf [IntBufSize]byte
	b.ReportAllocs()
	b.SetBytes(int64(lp.Size()))
	x := 0
	for b.Loop() {
		for p, ok := lp.First(); ok; p, ok = lp.Next(p) {
			x += len(lp.GetBytes(p, &buf))
		}
	}
	_ = x
}

func BenchmarkAppend(b *testing.B) {
	v := []byte("0123456789")
	b.ReportAllocs()
	var lp Listpack
	for i := 0; b.Loop(); i++ {
		if i%600 == 0 {
			lp.Reset()
		}
		lp.Append(v)
	}
}

func BenchmarkPrepend(b *testing.B) {
	v := []byte("0123456789")
	b.ReportAllocs()
	var lp Listpack
	for i := 0; b.Loop(); i++ {
		if i%600 == 0 {
			lp.Reset()
		}
		lp.Prepend(v)
	}
}
