package kv

import (
	"sync"
	"testing"
)

// The benchmarks share one fixture of benchN keys ("key:%012d", 256-byte
// values) in a Store and in the map[string][]byte baseline.
const benchN = 1 << 20

var fixture struct {
	once sync.Once
	s    *Store
	m    map[string][]byte
	keys [][]byte
	miss [][]byte
}

func benchFixture() {
	fixture.once.Do(func() {
		fixture.s, fixture.keys = fill(benchN, 256)
		for fixture.s.Rehash(1000) {
		}
		fixture.m = make(map[string][]byte, benchN)
		for _, k := range fixture.keys {
			fixture.m[string(k)] = make([]byte, 256)
		}
		for i := range 4096 {
			fixture.miss = append(fixture.miss, benchKey(nil, benchN+i))
		}
	})
}

func BenchmarkFind(b *testing.B) {
	benchFixture()
	s, m, keys, miss := fixture.s, fixture.m, fixture.keys, fixture.miss
	var sink int
	b.Run("hit/kv", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(16)
		for i := 0; b.Loop(); i++ {
			v := s.Str(s.Find(keys[(i*7919)&(benchN-1)]))
			sink += len(v) + int(v[0])
		}
	})
	b.Run("hit/map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(16)
		for i := 0; b.Loop(); i++ {
			v := m[string(keys[(i*7919)&(benchN-1)])]
			sink += len(v) + int(v[0])
		}
	})
	// Each lookup depends on the previous one, as in a server where
	// commands do not overlap: latency rather than throughput.
	b.Run("hit-latency/kv", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(16)
		d := 0
		for i := 0; b.Loop(); i++ {
			v := s.Str(s.Find(keys[(i*7919+d)&(benchN-1)]))
			d = int(v[0])
		}
	})
	b.Run("hit-latency/map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(16)
		d := 0
		for i := 0; b.Loop(); i++ {
			v := m[string(keys[(i*7919+d)&(benchN-1)])]
			d = int(v[0])
		}
	})
	b.Run("miss/kv", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(16)
		for i := 0; b.Loop(); i++ {
			sink += int(s.Find(miss[i&4095]))
		}
	})
	b.Run("miss/map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(16)
		for i := 0; b.Loop(); i++ {
			sink += len(m[string(miss[i&4095])])
		}
	})
	_ = sink
}

func BenchmarkSetStringSameSize(b *testing.B) {
	benchFixture()
	s, m, keys := fixture.s, fixture.m, fixture.keys
	val := make([]byte, 256)
	b.Run("kv", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(256 + 16)
		for i := 0; b.Loop(); i++ {
			s.SetString(s.Find(keys[(i*7919)&(benchN-1)]), val)
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(256 + 16)
		for i := 0; b.Loop(); i++ {
			copy(m[string(keys[(i*7919)&(benchN-1)])], val)
		}
	})
}

func BenchmarkInsertDelete(b *testing.B) {
	benchFixture()
	s, m, miss := fixture.s, fixture.m, fixture.miss
	val := make([]byte, 256)
	b.Run("kv", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(256 + 16)
		for i := 0; b.Loop(); i++ {
			s.Delete(s.InsertString(miss[i&4095], val, 0, 0))
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(256 + 16)
		for i := 0; b.Loop(); i++ {
			k := miss[i&4095]
			m[string(k)] = append([]byte(nil), val...)
			delete(m, string(k))
		}
	})
}

// BenchmarkInsertGrow measures inserting into a growing store, resizes
// included (amortized).
func BenchmarkInsertGrow(b *testing.B) {
	val := make([]byte, 64)
	key := make([]byte, 0, 16)
	b.Run("kv", func(b *testing.B) {
		b.ReportAllocs()
		s := New()
		for i := 0; b.Loop(); i++ {
			s.InsertString(benchKey(key, i), val, 0, 0)
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		m := map[string][]byte{}
		for i := 0; b.Loop(); i++ {
			m[string(benchKey(key, i))] = append([]byte(nil), val...)
		}
	})
}

func BenchmarkRandom(b *testing.B) {
	benchFixture()
	s := fixture.s
	b.ReportAllocs()
	var sink Ref
	for i := 0; b.Loop(); i++ {
		sink += s.Random(uint64(i))
	}
	_ = sink
}

func BenchmarkScan(b *testing.B) {
	benchFixture()
	s := fixture.s
	b.ReportAllocs()
	n := 0
	count := func(Ref) { n++ }
	var c uint64
	for b.Loop() {
		c = s.ScanBuckets(c, 100, count)
	}
	b.ReportMetric(float64(n)/float64(b.N), "keys/op")
}
