package zset

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var benchSets = map[int]*Set{}

// benchSet returns a shared set of n elements "member:<i>" with score i.
func benchSet(b *testing.B, n int) *Set {
	if s := benchSets[n]; s != nil {
		return s
	}
	s := New()
	var m []byte
	for i := range n {
		m = benchMember(m, i)
		s.Insert(m, float64(i))
	}
	benchSets[n] = s
	return s
}

// probes returns 4096 members of a set of n, in random order.
func probes(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([][]byte, 4096)
	for i := range p {
		p[i] = benchMember(nil, r.IntN(n))
	}
	return p
}

var benchSizes = []int{1_000, 1_000_000}

func BenchmarkInsertGrow(b *testing.B) {
	b.ReportAllocs()
	s := New()
	var m []byte
	i := 0
	for b.Loop() {
		m = benchMember(m, i)
		s.Insert(m, float64(i*7919%1_000_003))
		i++
	}
}

// BenchmarkInsertDelete inserts a new element into a set of n and deletes
// it again.
func BenchmarkInsertDelete(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := benchSet(b, n)
			r := rand.New(rand.NewPCG(3, 4))
			m := []byte("new-member")
			b.ReportAllocs()
			for b.Loop() {
				x := s.Insert(m, float64(r.IntN(n)))
				s.DeleteRef(x)
			}
		})
	}
}

func BenchmarkScore(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s, p := benchSet(b, n), probes(n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok := s.Score(p[i&4095]); !ok {
					b.Fatal("missing")
				}
				i++
			}
		})
	}
}

func BenchmarkRank(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s, p := benchSet(b, n), probes(n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok := s.Rank(p[i&4095], false); !ok {
					b.Fatal("missing")
				}
				i++
			}
		})
	}
}

// BenchmarkRangeIter is ZRANGEBYSCORE min max LIMIT 0 100: find the first
// element in a score range and read 100 elements; ns/op covers all 100.
func BenchmarkRangeIter(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := benchSet(b, n)
			r := rand.New(rand.NewPCG(5, 6))
			b.ReportAllocs()
			got := 0
			for b.Loop() {
				lo := float64(r.IntN(n - 100))
				it := s.IterRange(Range{Min: lo, Max: lo + 99}, false)
				for m, _, ok := it.Next(); ok; m, _, ok = it.Next() {
					got += len(m)
				}
			}
			if got == 0 {
				b.Fatal("empty ranges")
			}
		})
	}
}

// BenchmarkRankIter is ZRANGE start start+99: 100 elements from a random
// rank.
func BenchmarkRankIter(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := benchSet(b, n)
			r := rand.New(rand.NewPCG(7, 8))
			b.ReportAllocs()
			for b.Loop() {
				it := s.IterRank(r.IntN(n-100), false)
				for range 100 {
					it.Next()
				}
			}
		})
	}
}

func BenchmarkPopMinInsert(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := benchSet(b, n)
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				m, sc, _ := s.PopMin()
				buf = append(buf[:0], m...)
				s.Insert(buf, sc+float64(n))
			}
		})
	}
}
