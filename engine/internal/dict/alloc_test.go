package dict

import (
	"fmt"
	"testing"
)

// TestNoAllocs asserts that lookups, iteration, scans, random elements
// and in-place updates do not allocate, in a settled table and in the
// middle of a resize.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, midResize := range []bool{false, true} {
		d := NewHash(0)
		keys := make([][]byte, 0, 5000)
		for i := range 5000 {
			k := fmt.Appendf(nil, "field:%05d", i)
			keys = append(keys, k)
			d.Set(k, []byte("0123456789"))
		}
		if midResize {
			for i := 0; !d.rehashing; i++ {
				d.Set(fmt.Appendf(nil, "more:%d", i), nil)
			}
		}
		miss := []byte("absent")
		same := []byte("abcdefghij")
		var sink int
		i := 0
		for _, tc := range []struct {
			name string
			fn   func()
		}{
			{"Get", func() { v, _ := d.Get(keys[i%len(keys)]); sink += len(v); i++ }},
			{"GetMiss", func() { _, ok := d.Get(miss); sink += len(miss) * b2i(ok) }},
			{"Exists", func() { sink += b2i(d.Exists(keys[i%len(keys)])); i++ }},
			{"All", func() {
				for k, v := range d.All() {
					sink += len(k) + len(v)
				}
			}},
			{"Scan", func() {
				c := uint64(0)
				for {
					c = d.Scan(c, 100, func(k, v []byte) { sink += len(k) })
					if c == 0 {
						break
					}
				}
			}},
			{"Random", func() { k, _, _ := d.Random(uint64(i)); sink += len(k); i++ }},
			{"SetInPlace", func() { d.Set(keys[i%len(keys)], same); i++ }},
		} {
			if midResize && tc.name == "SetInPlace" {
				continue // moves buckets into the new table, which may take a chunk
			}
			if n := testing.AllocsPerRun(20, tc.fn); n != 0 {
				t.Errorf("midResize=%v %s: %.1f allocations per call", midResize, tc.name, n)
			}
		}
		_ = sink
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
