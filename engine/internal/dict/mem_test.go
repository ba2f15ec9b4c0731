package dict

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
)

// Redis 7.0.15 bytes per element, measured on redis-server with fields
// "field:%05d" (11 bytes) and values "v:%08d" (10 bytes): MEMORY USAGE of
// the key divided by its elements, and the growth of INFO used_memory
// per element (1000 keys of 100 elements, or one key of 100,000). The
// hash figures for 100 elements use hash-max-listpack-entries 0 (the
// hashtable encoding); with the default listpack they are 26.1 and 27.0.
var redisPerElem = map[string][2]float64{
	"hash/100":    {67.28, 75.52},
	"hash/100000": {66.48, 74.49},
	"set/100":     {56.40, 64.88},
	"set/100000":  {55.72, 63.73},
}

func heapLive() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryPerElement builds hashes and sets of 100 and 100,000 elements
// and compares their bytes per element, by MemoryUsage and by the growth
// of the Go heap, with Redis's; both must be within 1.2 times Redis's
// MEMORY USAGE figure.
func TestMemoryPerElement(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	for _, values := range []bool{true, false} {
		for _, n := range []int{100, 100_000} {
			kind := "set"
			if values {
				kind = "hash"
			}
			name := fmt.Sprintf("%s/%d", kind, n)
			copies := max(1, 100_000/n) // smooth the small case over many dicts
			ds := make([]*Dict, copies)
			key := make([]byte, 0, 16)
			val := make([]byte, 0, 16)
			before := heapLive()
			usage := 0
			for c := range ds {
				d := newDict(values, 0)
				for i := range n {
					key = fmt.Appendf(key[:0], "field:%05d", i)
					if values {
						val = fmt.Appendf(val[:0], "v:%08d", i)
					}
					d.Set(key, val)
				}
				ds[c] = d
				usage += d.MemoryUsage()
			}
			heap := float64(heapLive()-before) / float64(n*copies)
			per := float64(usage) / float64(n*copies)
			r := redisPerElem[name]
			t.Logf("%-12s ours: MemoryUsage %.1f B/elem, Go heap %.1f B/elem; Redis: MEMORY USAGE %.1f, used_memory %.1f; ratio %.2f",
				name, per, heap, r[0], r[1], max(per, heap)/r[0])
			if per > 1.2*r[0] || heap > 1.2*r[0] {
				t.Errorf("%s: %.1f (accounted) / %.1f (heap) bytes per element, over 1.2 x Redis's %.1f", name, per, heap, r[0])
			}
			for _, d := range ds {
				check(t, d)
			}
			runtime.KeepAlive(ds)
		}
	}
}

// TestGCScan checks that a big dict gives the garbage collector almost
// nothing to scan: no pointer per element.
func TestGCScan(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("loads a million elements")
	}
	d := NewHash(0)
	key := make([]byte, 0, 16)
	for i := range 1_000_000 {
		key = fmt.Appendf(key[:0], "field:%07d", i)
		d.Set(key, []byte("0123456789"))
	}
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	scan, live := sample[0].Value.Uint64(), sample[1].Value.Uint64()
	t.Logf("scannable heap %d bytes, live heap %d bytes, %d pages", scan, live, len(d.pages))
	if scan*20 >= live {
		t.Errorf("scannable heap %d is not under 5%% of the live heap %d", scan, live)
	}
	runtime.KeepAlive(d)
}
