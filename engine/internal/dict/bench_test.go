package dict

import (
	"fmt"
	"testing"
)

const benchN = 100_000

func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "field:%05d", i)
	}
	return keys
}

var benchVal = []byte("v:00000000")

func benchDict(keys [][]byte) *Dict {
	d := NewHash(0)
	for _, k := range keys {
		d.Set(k, benchVal)
	}
	for d.Rehash(1000) {
	}
	return d
}

func benchMap(keys [][]byte) map[string][]byte {
	m := map[string][]byte{}
	for _, k := range keys {
		m[string(k)] = append([]byte(nil), benchVal...)
	}
	return m
}

// The Go map baselines store a copy of each value, as the dict does.

func BenchmarkGet(b *testing.B) {
	keys := benchKeys(benchN)
	b.Run("dict", func(b *testing.B) {
		d := benchDict(keys)
		b.ReportAllocs()
		n := 0
		for i := 0; b.Loop(); i++ {
			v, _ := d.Get(keys[i%benchN])
			n += len(v)
		}
	})
	b.Run("map", func(b *testing.B) {
		m := benchMap(keys)
		b.ReportAllocs()
		n := 0
		for i := 0; b.Loop(); i++ {
			n += len(m[string(keys[i%benchN])])
		}
	})
}

func BenchmarkGetMiss(b *testing.B) {
	keys := benchKeys(benchN)
	miss := benchKeys(2 * benchN)[benchN:]
	b.Run("dict", func(b *testing.B) {
		d := benchDict(keys)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d.Exists(miss[i%benchN])
		}
	})
	b.Run("map", func(b *testing.B) {
		m := benchMap(keys)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			_ = m[string(miss[i%benchN])]
		}
	})
}

// BenchmarkInsert builds a dict of benchN elements per iteration batch:
// the cost per element includes growing.
func BenchmarkInsert(b *testing.B) {
	keys := benchKeys(benchN)
	b.Run("dict", func(b *testing.B) {
		b.ReportAllocs()
		var d *Dict
		for i := 0; b.Loop(); i++ {
			if i%benchN == 0 {
				d = NewHash(0)
			}
			d.Set(keys[i%benchN], benchVal)
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		var m map[string][]byte
		for i := 0; b.Loop(); i++ {
			if i%benchN == 0 {
				m = map[string][]byte{}
			}
			m[string(keys[i%benchN])] = append([]byte(nil), benchVal...)
		}
	})
}

// BenchmarkUpdate rewrites values, alternating their length so that half
// the rewrites move the record.
func BenchmarkUpdate(b *testing.B) {
	keys := benchKeys(benchN)
	vals := [][]byte{benchVal, []byte("v:0000000000000000")}
	b.Run("dict", func(b *testing.B) {
		d := benchDict(keys)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d.Set(keys[i%benchN], vals[(i/benchN)&1])
		}
	})
	b.Run("map", func(b *testing.B) {
		m := benchMap(keys)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			k := string(keys[i%benchN])
			m[k] = append(m[k][:0], vals[(i/benchN)&1]...)
		}
	})
}

// BenchmarkChurn deletes one element and inserts another.
func BenchmarkChurn(b *testing.B) {
	keys := benchKeys(2 * benchN)
	b.Run("dict", func(b *testing.B) {
		d := benchDict(keys[:benchN])
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d.Delete(keys[i%(2*benchN)])
			d.Set(keys[(i+benchN)%(2*benchN)], benchVal)
		}
	})
	b.Run("map", func(b *testing.B) {
		m := benchMap(keys[:benchN])
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			delete(m, string(keys[i%(2*benchN)]))
			m[string(keys[(i+benchN)%(2*benchN)])] = append([]byte(nil), benchVal...)
		}
	})
}

// BenchmarkAll reports the cost per element of a full iteration.
func BenchmarkAll(b *testing.B) {
	keys := benchKeys(benchN)
	b.Run("dict", func(b *testing.B) {
		d := benchDict(keys)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			for k, v := range d.All() {
				n += len(k) + len(v)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/elem")
	})
	b.Run("map", func(b *testing.B) {
		m := benchMap(keys)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			for k, v := range m {
				n += len(k) + len(v)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/elem")
	})
}

func BenchmarkScan(b *testing.B) {
	d := benchDict(benchKeys(benchN))
	b.ReportAllocs()
	c, n := uint64(0), 0
	for b.Loop() {
		c = d.Scan(c, 10, func(k, v []byte) { n++ })
	}
}

func BenchmarkRandom(b *testing.B) {
	d := benchDict(benchKeys(benchN))
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		k, _, _ := d.Random(uint64(i) * 0x9e3779b97f4a7c15)
		n += len(k)
	}
}
