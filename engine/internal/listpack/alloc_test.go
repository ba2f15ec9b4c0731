package listpack

import (
	"strconv"
	"testing"
)

func hashFixture(n int) (Listpack, [][]byte) {
	var lp Listpack
	var fields [][]byte
	for i := range n {
		f := []byte("field:" + strconv.Itoa(i))
		fields = append(fields, f)
		lp.Append(f)
		lp.Append([]byte(strconv.Itoa(i * 1000)))
	}
	return lp, fields
}

// TestNoAllocs asserts that lookups, reads and iteration do not allocate,
// and that in-place mutations within the buffer's capacity do not either.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	lp, fields := hashFixture(64)
	var buf [IntBufSize]byte
	dst := make([]byte, 0, 64)
	x, i := 0, 0
	tests := []struct {
		name string
		fn   func()
	}{
		{"Find skip 1", func() {
			p, _ := lp.First()
			q, _ := lp.Find(p, fields[i%len(fields)], 1)
			x += q
		}},
		{"Find miss", func() {
			p, _ := lp.First()
			q, _ := lp.Find(p, []byte("absent"), 1)
			x += q
		}},
		{"Seek", func() { p, _ := lp.Seek(i%128 - 64); x += p }},
		{"Iterate forward", func() {
			for p, ok := lp.First(); ok; p, ok = lp.Next(p) {
				x += len(lp.GetBytes(p, &buf))
			}
		}},
		{"Iterate backward", func() {
			for p, ok := lp.Last(); ok; p, ok = lp.Prev(p) {
				_, v, _ := lp.Get(p)
				x += int(v)
			}
		}},
		{"AppendEntry", func() { p, _ := lp.Seek(1); dst = lp.AppendEntry(dst[:0], p) }},
		{"Equal", func() {
			p, _ := lp.Seek(2 * (i % 64))
			if lp.Equal(p, fields[i%64]) {
				x++
			}
		}},
		{"RandomPair", func() { p, _ := lp.RandomPair(uint64(i)); x += p }},
		{"ReplaceInt same size", func() { p, _ := lp.Seek(3); lp.ReplaceInt(p, int64(1000+i%2)) }},
		{"Replace same size", func() { p, _ := lp.Seek(0); lp.Replace(p, fields[i%2]) }},
	}
	for _, tc := range tests {
		tc.fn()
		i++
		if a := testing.AllocsPerRun(500, func() { tc.fn(); i++ }); a != 0 {
			t.Errorf("%s: %v allocations per call", tc.name, a)
		}
	}
	_ = x
}
