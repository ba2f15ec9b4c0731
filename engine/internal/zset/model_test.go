package zset

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the reference: elements kept sorted in a slice, with a map from
// member to score to find them by binary search.
type model struct {
	els    []mel
	scores map[string]float64
}

type mel struct {
	m     string
	score float64
}

func melLess(a, b mel) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.m < b.m
}

func melCmp(a, b mel) int {
	if melLess(a, b) {
		return -1
	}
	if melLess(b, a) {
		return 1
	}
	return 0
}

func (md *model) find(m string) int {
	sc, ok := md.scores[m]
	if !ok {
		return -1
	}
	i, found := slices.BinarySearchFunc(md.els, mel{m, sc}, melCmp)
	if !found {
		panic("model: member not at its place")
	}
	return i
}

func (md *model) set(m string, score float64) {
	if i := md.find(m); i >= 0 {
		md.cut(i, i+1)
	}
	e := mel{m, score}
	i, _ := slices.BinarySearchFunc(md.els, e, melCmp)
	md.els = slices.Insert(md.els, i, e)
	if md.scores == nil {
		md.scores = map[string]float64{}
	}
	md.scores[m] = score
}

// cut deletes the elements of indexes [lo, hi).
func (md *model) cut(lo, hi int) {
	for _, e := range md.els[lo:hi] {
		delete(md.scores, e.m)
	}
	md.els = slices.Delete(md.els, lo, hi)
}

// source supplies the driver's choices: a PRNG, or fuzz input.
type source interface {
	next(n int) int // in [0, n)
	done() bool
}

type rngSource struct{ r *rand.Rand }

func (r rngSource) next(n int) int { return r.r.IntN(n) }
func (r rngSource) done() bool     { return false }

type byteSource struct{ b []byte }

func (s *byteSource) next(n int) int {
	if len(s.b) == 0 {
		return 0
	}
	v := int(s.b[0])
	s.b = s.b[1:]
	if n > 256 && len(s.b) > 0 {
		v = v<<8 | int(s.b[0])
		s.b = s.b[1:]
	}
	return v % n
}
func (s *byteSource) done() bool { return len(s.b) == 0 }

var scorePool = []float64{math.Inf(-1), -2.5, -1, math.Copysign(0, -1), 0, 1, 1.5, 2, 3, 7, 1e10, math.Inf(1)}

// driver applies random operations to a Set and the model and compares
// every answer.
type driver struct {
	tb     testing.TB
	src    source
	s      *Set
	md     model
	lex    bool // all scores equal: lex operations are meaningful
	nmem   int  // size of the member universe
	bigOK  bool // members may exceed a page's bigRecord size
	ops    int
	checks int  // check invariants every checks ops (0: never)
	grow   bool // favour inserts
	shrink bool // favour deletes
	maxLen int
}

func (d *driver) member() string {
	i := d.src.next(d.nmem)
	switch {
	case i == 0:
		return ""
	case i == 1 && d.bigOK:
		return string(bytes.Repeat([]byte("big"), 6000+d.src.next(4)))
	case i%7 == 0:
		return fmt.Sprintf("long-member-%d-%s", i, bytes.Repeat([]byte{'x'}, 40+i%200))
	}
	return fmt.Sprintf("member:%d", i)
}

func (d *driver) score() float64 {
	if d.lex {
		return 0
	}
	if d.src.next(4) == 0 {
		return float64(d.src.next(1000)) / 8
	}
	return scorePool[d.src.next(len(scorePool))]
}

func (d *driver) rangeSpec() Range {
	return Range{Min: d.score(), Max: d.score(), MinEx: d.src.next(2) == 0, MaxEx: d.src.next(2) == 0}
}

func (d *driver) lexBound() LexBound {
	switch d.src.next(6) {
	case 0:
		return LexBound{Kind: MinusInf}
	case 1:
		return LexBound{Kind: PlusInf}
	case 2, 3:
		return LexBound{Kind: Exclusive, Value: []byte(d.member())}
	}
	return LexBound{Kind: Inclusive, Value: []byte(d.member())}
}

func (d *driver) fail(format string, args ...any) {
	d.tb.Helper()
	d.tb.Fatalf("op %d: "+format, append([]any{d.ops}, args...)...)
}

// modelRange returns the model's indexes [lo, hi) of elements matching in.
func (d *driver) modelRange(in func(mel) bool) (int, int) {
	lo := -1
	hi := -1
	for i, e := range d.md.els {
		if in(e) {
			if lo < 0 {
				lo = i
			}
			hi = i + 1
		}
	}
	if lo < 0 {
		return 0, 0
	}
	for i := lo; i < hi; i++ {
		if !in(d.md.els[i]) {
			d.fail("model range not contiguous")
		}
	}
	return lo, hi
}

func (d *driver) expectIter(what string, it Iter, want []mel) {
	d.tb.Helper()
	for i, w := range want {
		m, sc, ok := it.Next()
		if !ok || string(m) != w.m || !sameScore(sc, w.score) {
			d.fail("%s: element %d is %q %v %v, want %q %v", what, i, m, sc, ok, w.m, w.score)
		}
	}
	if m, _, ok := it.Next(); ok {
		d.fail("%s: extra element %q after %d", what, m, len(want))
	}
}

func sameScore(a, b float64) bool { return a == b && math.Signbit(a) == math.Signbit(b) }

func reversed(els []mel) []mel {
	r := slices.Clone(els)
	slices.Reverse(r)
	return r
}

func (d *driver) step() {
	d.ops++
	s, md := d.s, &d.md
	n := len(md.els)
	op := d.src.next(24)
	if d.grow && d.src.next(10) != 0 {
		op = 0
	} else if d.shrink && d.src.next(4) != 0 {
		op = []int{6, 7, 14, 15}[d.src.next(4)]
	} else if (op == 12 || op == 13 || op >= 21) && (d.grow || d.src.next(4) != 0) {
		op = 8 // keep range deletions rarer than the rest
	}
	switch op {
	case 0, 1, 2, 3, 4: // Add
		m, sc := d.member(), d.score()
		_, added := s.Add([]byte(m), sc)
		if added != (md.find(m) < 0) {
			d.fail("Add(%q) added %v", m, added)
		}
		md.set(m, sc)
	case 5: // Update through Find
		m := d.member()
		r := s.Find([]byte(m))
		if (r != Nil) != (md.find(m) >= 0) {
			d.fail("Find(%q) = %d", m, r)
		}
		if r != Nil {
			sc := d.score()
			s.Update(r, sc)
			md.set(m, sc)
			if string(s.Member(r)) != m || !sameScore(s.ScoreOf(r), sc) {
				d.fail("Ref changed by Update")
			}
		}
	case 6, 7: // Delete
		m := d.member()
		i := md.find(m)
		if s.Delete([]byte(m)) != (i >= 0) {
			d.fail("Delete(%q)", m)
		}
		if i >= 0 {
			md.cut(i, i+1)
		}
	case 8: // Score, Rank
		m := d.member()
		i := md.find(m)
		sc, ok := s.Score([]byte(m))
		if ok != (i >= 0) || ok && !sameScore(sc, md.els[i].score) {
			d.fail("Score(%q) = %v %v", m, sc, ok)
		}
		for _, rev := range []bool{false, true} {
			r, ok := s.Rank([]byte(m), rev)
			want := i
			if rev && i >= 0 {
				want = n - 1 - i
			}
			if ok != (i >= 0) || ok && r != want {
				d.fail("Rank(%q, %v) = %d %v, want %d", m, rev, r, ok, want)
			}
		}
	case 9: // ByRank, Random, IterRank
		k := d.src.next(n+2) - 1
		r := s.ByRank(k)
		if (r != Nil) != (k >= 0 && k < n) || r != Nil && string(s.Member(r)) != md.els[k].m {
			d.fail("ByRank(%d) = %d", k, r)
		}
		if r != Nil && s.RankOf(r, false) != k {
			d.fail("RankOf(ByRank(%d))", k)
		}
		rnd := uint64(d.src.next(1<<16)) << 48
		if rr := s.Random(rnd); n > 0 && string(s.Member(rr)) != md.els[int(rnd>>48)*n>>16].m || n == 0 && rr != Nil {
			d.fail("Random")
		}
		rev := d.src.next(2) == 0
		want := md.els
		if rev {
			want = reversed(want)
		}
		if k < 0 || k >= n {
			want = nil
		} else {
			want = want[k:]
		}
		if len(want) > 50 {
			want = want[:50]
		}
		it := s.IterRank(k, rev)
		for i, w := range want {
			m, sc, ok := it.Next()
			if !ok || string(m) != w.m || !sameScore(sc, w.score) {
				d.fail("IterRank(%d, %v) element %d", k, rev, i)
			}
		}
	case 10, 11: // score range queries
		rg := d.rangeSpec()
		lo, hi := d.modelRange(func(e mel) bool { return rg.Contains(e.score) })
		if rg.Empty() {
			lo, hi = 0, 0
		}
		f, fr := s.FirstInRange(rg)
		l, lr := s.LastInRange(rg)
		if lo == hi {
			if f != Nil || l != Nil || fr != -1 || lr != -1 {
				d.fail("range %+v: first %d last %d, want none", rg, f, l)
			}
		} else if f == Nil || string(s.Member(f)) != md.els[lo].m || fr != lo || string(s.Member(l)) != md.els[hi-1].m || lr != hi-1 {
			d.fail("range %+v: first %d@%d last %d@%d, want %d..%d", rg, f, fr, l, lr, lo, hi-1)
		}
		if c := s.Count(rg); c != hi-lo {
			d.fail("Count(%+v) = %d, want %d", rg, c, hi-lo)
		}
		rev := d.src.next(2) == 0
		want := md.els[lo:hi]
		if rev {
			want = reversed(want)
		}
		d.expectIter("IterRange", s.IterRange(rg, rev), want)
	case 12: // DeleteRange
		rg := d.rangeSpec()
		lo, hi := d.modelRange(func(e mel) bool { return rg.Contains(e.score) })
		if rg.Empty() {
			lo, hi = 0, 0
		}
		if c := s.DeleteRange(rg); c != hi-lo {
			d.fail("DeleteRange(%+v) = %d, want %d", rg, c, hi-lo)
		}
		md.cut(lo, hi)
	case 13: // DeleteRanks
		a, b := d.src.next(n+4)-2, d.src.next(n+4)-2
		lo, hi := max(a, 0), min(b, n-1)+1
		if lo >= hi {
			lo, hi = 0, 0
		}
		if c := s.DeleteRanks(a, b); c != hi-lo {
			d.fail("DeleteRanks(%d, %d) = %d, want %d", a, b, c, hi-lo)
		}
		md.cut(lo, hi)
	case 14, 15: // pops
		var m []byte
		var sc float64
		var ok bool
		var i int
		if op == 14 {
			m, sc, ok = s.PopMin()
		} else {
			m, sc, ok = s.PopMax()
			i = n - 1
		}
		if ok != (n > 0) || ok && (string(m) != md.els[i].m || !sameScore(sc, md.els[i].score)) {
			d.fail("pop %d: %q %v %v", op, m, sc, ok)
		}
		if ok {
			md.cut(i, i+1)
		}
	case 16: // full iteration both ways, First/Last/Next/Prev
		d.expectIter("forward", s.IterRank(0, false), md.els)
		d.expectIter("backward", s.IterRank(0, true), reversed(md.els))
		if n > 0 {
			if string(s.Member(s.First())) != md.els[0].m || string(s.Member(s.Last())) != md.els[n-1].m {
				d.fail("First/Last")
			}
			if s.Prev(s.First()) != Nil || s.Next(s.Last()) != Nil {
				d.fail("Prev/Next at the ends")
			}
		} else if s.First() != Nil || s.Last() != Nil {
			d.fail("First/Last of empty")
		}
	case 17: // Scan
		seen := map[string]bool{}
		cur, rounds := uint64(0), 0
		limit := int(s.d.t[0].size() + s.d.t[1].size())
		for {
			cur = s.Scan(cur, func(r Ref) { seen[string(s.Member(r))] = true })
			if rounds++; cur == 0 {
				break
			}
			if rounds > limit {
				d.fail("Scan did not finish in %d calls", limit)
			}
		}
		if len(seen) != n {
			d.fail("Scan saw %d of %d", len(seen), n)
		}
	default: // lex operations (only when scores are all equal)
		if !d.lex {
			m, sc := d.member(), d.score()
			if s.Find([]byte(m)) == Nil {
				s.Insert([]byte(m), sc)
				md.set(m, sc)
			}
			return
		}
		rg := LexRange{Min: d.lexBound(), Max: d.lexBound()}
		lo, hi := d.modelRange(func(e mel) bool { return rg.Contains([]byte(e.m)) })
		if rg.Empty() {
			lo, hi = 0, 0
		}
		switch op {
		case 18, 19, 20:
			f, fr := s.FirstInLex(rg)
			l, lr := s.LastInLex(rg)
			if lo == hi {
				if f != Nil || l != Nil {
					d.fail("lex %+v: want none", rg)
				}
			} else if f == Nil || l == Nil || fr != lo || lr != hi-1 || string(s.Member(f)) != md.els[lo].m || string(s.Member(l)) != md.els[hi-1].m {
				d.fail("lex %+v: first %d@%d last %d@%d, want %d..%d", rg, f, fr, l, lr, lo, hi-1)
			}
			if c := s.CountLex(rg); c != hi-lo {
				d.fail("CountLex = %d, want %d", c, hi-lo)
			}
			rev := d.src.next(2) == 0
			want := md.els[lo:hi]
			if rev {
				want = reversed(want)
			}
			d.expectIter("IterLex", s.IterLex(rg, rev), want)
		default:
			if c := s.DeleteLex(rg); c != hi-lo {
				d.fail("DeleteLex(%+v) = %d, want %d", rg, c, hi-lo)
			}
			md.cut(lo, hi)
		}
	}
	d.maxLen = max(d.maxLen, len(md.els))
	if s.Len() != len(md.els) {
		d.fail("Len %d, model %d", s.Len(), len(md.els))
	}
	if d.checks > 0 && d.ops%d.checks == 0 {
		if err := s.checkInvariants(); err != nil {
			d.fail("invariants: %v", err)
		}
	}
}

// TestModel runs long random operation sequences against the sorted-slice
// model, in mixed-score and equal-score (lex) modes, through growth and
// shrink phases.
func TestModel(t *testing.T) {
	steps := 30000
	if testing.Short() || raceEnabled {
		steps = 6000
	}
	for seed := range uint64(6) {
		for _, lex := range []bool{false, true} {
			t.Run(fmt.Sprintf("seed=%d/lex=%v", seed, lex), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, 99))
				d := &driver{tb: t, src: rngSource{r}, s: New(), lex: lex, nmem: 50 + int(seed)*1000, bigOK: seed%2 == 1, checks: 97}
				for i := range steps {
					d.grow = i%10000 < 3000
					d.step()
				}
				t.Logf("%d ops, max length %d, final %d, pages %d, buckets %d", d.ops, d.maxLen, d.s.Len(), len(d.s.ar.pages), d.s.d.t[0].size())
				if err := d.s.checkInvariants(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestModelShrink grows a set over several node segments, then deletes
// most of it, so that deletes move nodes down and release segments while
// every answer is still checked against the model.
func TestModelShrink(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	d := &driver{tb: t, src: rngSource{r}, s: New(), nmem: 30000, checks: 1999}
	d.grow = true
	peak := 14000
	if testing.Short() || raceEnabled {
		peak = 9000
	}
	for d.s.Len() < peak {
		d.step()
	}
	segs := len(d.s.nodes)
	d.grow, d.shrink = false, true
	for d.s.Len() > 300 {
		d.step()
	}
	d.shrink = false
	for d.s.Tidy(100) {
	}
	for range 3000 {
		d.step()
	}
	if err := d.s.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d ops; node segments %d at the peak, %d at %d elements", d.ops, segs, len(d.s.nodes), d.s.Len())
	if segs < 3 || len(d.s.nodes) > 1 {
		t.Errorf("node segments: %d at the peak, %d after shrinking", segs, len(d.s.nodes))
	}
}
