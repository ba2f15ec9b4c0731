package zset

import (
	"math"
	"runtime"
	"testing"
)

func filled(n int) *Set {
	s := New()
	var m []byte
	for i := range n {
		m = benchMember(m, i)
		s.Insert(m, float64(i%(n/4+1)))
	}
	return s
}

// TestReadsDoNotAllocate asserts that lookups, ranks, range searches,
// iteration and scans allocate nothing.
func TestReadsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := filled(5000)
	m := benchMember(nil, 1234)
	lex := LexRange{Min: LexBound{Kind: Inclusive, Value: []byte("member:1")}, Max: LexBound{Kind: PlusInf}}
	r := Range{Min: 10, Max: 500, MinEx: true}
	var sink float64
	var n int
	scanFn := func(Ref) { n++ }
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Score", func() { v, _ := s.Score(m); sink += v }},
		{"Find", func() { n += int(s.Find(m)) }},
		{"Rank", func() { v, _ := s.Rank(m, false); n += v }},
		{"RevRank", func() { v, _ := s.Rank(m, true); n += v }},
		{"ByRank", func() { n += int(s.ByRank(2500)) }},
		{"Random", func() { n += int(s.Random(0x1234567890abcdef)) }},
		{"Count", func() { n += s.Count(r) }},
		{"CountLex", func() { n += s.CountLex(lex) }},
		{"IterRank", func() {
			it := s.IterRank(100, false)
			for range 100 {
				mm, sc, _ := it.Next()
				n += len(mm)
				sink += sc
			}
		}},
		{"IterRangeRev", func() {
			it := s.IterRange(r, true)
			for mm, sc, ok := it.Next(); ok; mm, sc, ok = it.Next() {
				n += len(mm)
				sink += sc
			}
		}},
		{"IterLex", func() {
			it := s.IterLex(lex, false)
			for range 50 {
				it.Next()
			}
		}},
		{"Scan", func() { s.Scan(12345, scanFn) }},
		{"UpdateInPlace", func() { s.Update(s.Find(m), 308.5) }},
	} {
		if a := testing.AllocsPerRun(200, tc.f); a != 0 {
			t.Errorf("%s: %v allocations per call", tc.name, a)
		}
	}
	_ = math.Abs(sink) + float64(n)
}

// TestChurnDoesNotAllocate asserts that once a set has reached a size,
// deleting and re-inserting elements reuses nodes, towers and index
// without allocating (member pages aside, which compaction replaces now
// and then).
func TestChurnDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := filled(5000)
	m := benchMember(nil, 77)
	a := testing.AllocsPerRun(1000, func() {
		sc, _ := s.Score(m)
		s.Delete(m)
		s.Insert(m, sc)
		s.Update(s.Find(m), -sc)
		s.Update(s.Find(m), sc)
	})
	if a > 0.01 {
		t.Errorf("%v allocations per delete+insert+moves", a)
	}
}

// TestNewIsSmall holds an empty set to the size its doc states.
func TestNewIsSmall(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	var sink *Set
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 1000
	keep := make([]*Set, n)
	for i := range keep {
		keep[i] = New()
	}
	runtime.ReadMemStats(&after)
	per := float64(after.TotalAlloc-before.TotalAlloc-uint64(n*8)) / n
	sink = keep[n-1]
	t.Logf("New: %.0f bytes, Bytes() %d", per, sink.Bytes())
	if per > 1536 {
		t.Errorf("New allocates %.0f bytes", per)
	}
}
