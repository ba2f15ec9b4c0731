package kv

import "math/bits"

// Scan visits the keys of one bucket of the smaller table (and, during a
// resize, of the buckets of the larger table that it expands to) and
// returns the next cursor, 0 when the scan is complete. Start with cursor
// 0. This is Redis's dictScan: the cursor's bits are incremented from the
// top (reverse binary), so every key present for the whole scan is visited
// at least once even if the table grows or shrinks between calls; a key may
// be visited more than once. fn must not change the store (collect refs and
// act after the call). O(1 + size ratio of the two tables) buckets.
func (s *Store) Scan(cursor uint64, fn func(r Ref)) uint64 {
	v, _ := s.scanStep(cursor, fn)
	return v
}

// ScanBuckets is Scan continued until about maxBuckets buckets have been
// visited or the scan is complete; it returns the next cursor as Scan does.
// O(maxBuckets + size ratio) buckets plus the keys visited.
func (s *Store) ScanBuckets(cursor uint64, maxBuckets int, fn func(r Ref)) uint64 {
	visited := 0
	for {
		var n int
		cursor, n = s.scanStep(cursor, fn)
		visited += n
		if cursor == 0 || visited >= maxBuckets {
			return cursor
		}
	}
}

// volatileScanBuckets bounds the buckets ScanVolatile visits per key asked
// for, so a store with few volatile keys does not make it sweep the table.
const volatileScanBuckets = 16

// ScanVolatile is Scan restricted to keys with an expire time (for active
// expiry): it calls fn for such keys until it has called it about count
// times, has visited 16*count+64 buckets, or the scan is complete, and
// returns the next cursor as Scan does. O(count) buckets plus their keys.
func (s *Store) ScanVolatile(cursor uint64, count int, fn func(r Ref)) uint64 {
	if s.volatile == 0 {
		return 0
	}
	budget := volatileScanBuckets*count + 64
	visited, called := 0, 0
	wrap := func(r Ref) {
		if s.ents.segs[r>>segShift][r&segMask].expire != NoExpire {
			called++
			fn(r)
		}
	}
	for {
		var n int
		cursor, n = s.scanStep(cursor, wrap)
		visited += n
		if cursor == 0 || called >= count || visited >= budget {
			return cursor
		}
	}
}

// scanStep is one step of Redis's dictScan; it returns the next cursor and
// the number of buckets visited.
func (s *Store) scanStep(v uint64, fn func(Ref)) (uint64, int) {
	if !s.rehashing {
		m0 := s.t[0].mask
		s.emit(&s.t[0], v&m0, fn)
		v |= ^m0
		v = bits.Reverse64(bits.Reverse64(v) + 1)
		return v, 1
	}
	small, large := &s.t[0], &s.t[1]
	if small.mask > large.mask {
		small, large = large, small
	}
	m0, m1 := small.mask, large.mask
	s.emit(small, v&m0, fn)
	n := 1
	for {
		s.emit(large, v&m1, fn)
		n++
		v |= ^m1
		v = bits.Reverse64(bits.Reverse64(v) + 1)
		if v&(m0^m1) == 0 {
			return v, n
		}
	}
}

func (s *Store) emit(t *table, i uint64, fn func(Ref)) {
	for id := t.head(i); id != 0; {
		next := s.ents.segs[id>>segShift][id&segMask].next
		fn(Ref(id))
		id = next
	}
}

// Random sampling, after Redis's dictGetSomeKeys and
// dictGetFairRandomKey: walk consecutive buckets from a random one,
// collecting keys (jumping elsewhere after a long run of empty buckets),
// then, for Random, pick one of them. Picking from a sample rather than
// from one bucket's chain keeps keys in long chains from being
// under-chosen.
const (
	randSample   = 20
	randFallback = 4096 // further buckets probed if the walk found nothing
)

// Random returns a random key, Nil only when the store is empty. rnd seeds
// the choice (the caller's random number); the same rnd on the same store
// gives the same key. Bounded work: at most 10*20+4096 buckets and 20 keys
// (the fallback probes are needed only on a table left very sparse
// mid-shrink; tables of up to 4096 buckets are swept whole, so on them it
// never misses). No allocation.
func (s *Store) Random(rnd uint64) Ref {
	var sample [randSample]Ref
	n := s.Sample(rnd, sample[:])
	if n == 0 {
		return Nil
	}
	pick := rnd ^ 0x5851f42d4c957f2d // independent of where Sample started
	return sample[splitmix(&pick)%uint64(n)]
}

// Sample fills dst with up to len(dst) keys from consecutive buckets
// starting at a random one (seeded by rnd) and returns how many it found,
// as Redis's dictGetSomeKeys does for eviction: cheap, random in where it
// starts, not a uniform sample. A key appears twice only if the walk,
// jumping after long empty runs, lands on a bucket it already took. It
// returns 0 only when the store is empty. Bounded work: at most
// 10*len(dst)+4096 buckets and len(dst) keys. No allocation.
func (s *Store) Sample(rnd uint64, dst []Ref) int {
	if s.count == 0 || len(dst) == 0 {
		return 0
	}
	return s.sampleWalk(rnd, dst, 10*len(dst), false)
}

// SampleVolatile is Sample restricted to keys with an expire time (for
// the volatile eviction policies): it walks consecutive buckets from a
// random one (seeded by rnd), jumping elsewhere after long runs without
// such keys, and returns how many it put in dst. It returns 0 only when
// no key has an expire time, or when they are so sparse that the walk's
// budget found none: 16*len(dst)+64 buckets, then up to 4096 more from
// random places (the whole table when it is no bigger). No allocation.
func (s *Store) SampleVolatile(rnd uint64, dst []Ref) int {
	if s.volatile == 0 || len(dst) == 0 {
		return 0
	}
	return s.sampleWalk(rnd, dst, volatileScanBuckets*len(dst)+64, true)
}

// sampleWalk is Sample's and SampleVolatile's walk over at most steps
// buckets (then the fallback), keeping only keys with an expire time when
// volatile.
func (s *Store) sampleWalk(rnd uint64, dst []Ref, steps int, volatile bool) int {
	st := rnd
	mask := s.t[0].mask
	if s.rehashing {
		mask = max(mask, s.t[1].mask)
	}
	j := splitmix(&st) & mask
	n, empty := 0, 0
	steps = min(steps, int(min(mask, 1<<30))+1) // a small table once round
	for step := 0; step < steps && n < len(dst); step++ {
		before := n
		n = s.sampleAt(j, dst, n, volatile)
		if n == before {
			empty++
		} else {
			empty = 0
		}
		if empty >= 5 && empty > len(dst) {
			j = splitmix(&st) & mask
			empty = 0
		} else {
			j = (j + 1) & mask
		}
	}
	if n == 0 {
		if mask < randFallback {
			for k := uint64(0); k <= mask && n == 0; k++ {
				n = s.sampleAt((j+k)&mask, dst, n, volatile)
			}
		} else {
			for k := 0; k < randFallback && n == 0; k++ {
				n = s.sampleAt(splitmix(&st)&mask, dst, n, volatile)
			}
		}
	}
	return n
}

// sampleAt appends to sample[n:] the keys at position j of both tables
// (where the position exists and holds keys; only those with an expire
// time when volatile) and returns the new count.
func (s *Store) sampleAt(j uint64, sample []Ref, n int, volatile bool) int {
	t0 := &s.t[0]
	if j <= t0.mask && (!s.rehashing || j >= s.rehashIdx) {
		n = s.sampleChain(t0.head(j), sample, n, volatile)
	}
	if s.rehashing && j <= s.t[1].mask {
		n = s.sampleChain(s.t[1].head(j), sample, n, volatile)
	}
	return n
}

func (s *Store) sampleChain(id uint32, sample []Ref, n int, volatile bool) int {
	for ; id != 0 && n < len(sample); id = s.ents.segs[id>>segShift][id&segMask].next {
		if !volatile || s.ents.segs[id>>segShift][id&segMask].expire != NoExpire {
			sample[n] = Ref(id)
			n++
		}
	}
	return n
}

// splitmix steps a SplitMix64 generator.
func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
