package dict

import (
	"iter"
	"math/bits"
)

// Scan continues a scan at cursor (0 starts one) and returns the next
// cursor, 0 when the scan is complete. It calls fn for the elements of
// whole buckets until it has called it count times or more, or has taken
// 10*count steps (count < 1 counts as 1), as HSCAN and SSCAN do with
// COUNT. A step visits one bucket of the smaller table and, during a
// resize, the buckets of the larger table it expands to.
//
// The cursor is Redis's reverse-binary one: every element present from the
// start of a scan to its end is passed to fn at least once, however the
// table grows or shrinks between calls; an element may be passed more
// than once. fn must not change d; its slices alias d until the next
// change. O(count) steps plus the elements visited; no allocation.
func (d *Dict) Scan(cursor uint64, count int, fn func(key, val []byte)) uint64 {
	if d.count == 0 {
		return 0
	}
	count = max(count, 1)
	steps, emitted := 10*count, 0
	for {
		cursor = d.scanStep(cursor, fn, &emitted)
		steps--
		if cursor == 0 || steps == 0 || emitted >= count {
			return cursor
		}
	}
}

func (d *Dict) scanStep(v uint64, fn func(key, val []byte), emitted *int) uint64 {
	if !d.rehashing {
		m := d.t[0].mask
		d.emit(&d.t[0], v&m, fn, emitted)
		return nextCursor(v, m)
	}
	small, large := &d.t[0], &d.t[1]
	if small.mask > large.mask {
		small, large = large, small
	}
	m0, m1 := small.mask, large.mask
	d.emit(small, v&m0, fn, emitted)
	// Visit every bucket of the large table that expands small's bucket
	// v&m0: the ones whose low bits are v&m0.
	for {
		d.emit(large, v&m1, fn, emitted)
		v = nextCursor(v, m1)
		if v&(m0^m1) == 0 {
			return v
		}
	}
}

// nextCursor increments the bits of v under mask from the top down.
func nextCursor(v, mask uint64) uint64 {
	v |= ^mask
	return bits.Reverse64(bits.Reverse64(v) + 1)
}

func (d *Dict) emit(t *table, i uint64, fn func(key, val []byte), emitted *int) {
	for loc := t.head(i); loc != 0; {
		r := d.rec(loc)
		loc = recNext(r)
		k, v, _ := d.parse(r)
		fn(k, v)
		*emitted++
	}
}

// All iterates over every element, for HGETALL, SMEMBERS and the like.
// The slices alias d. Inside the loop d must not change, except that
// Delete may remove the element just yielded (then no housekeeping runs
// until the loop ends). Each element is yielded exactly once if nothing is
// deleted. O(buckets + elements) for the whole loop; no allocation.
func (d *Dict) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(key, val []byte) bool) {
		if d.count == 0 {
			return
		}
		d.iterating++
		defer func() { d.iterating-- }()
		if d.rehashing && !d.walk(&d.t[0], d.rehashIdx, yield) {
			return
		}
		if d.rehashing {
			d.walk(&d.t[1], 0, yield)
			return
		}
		d.walk(&d.t[0], 0, yield)
	}
}

// walk yields the elements of t's buckets from bucket from on, and
// reports whether the caller wants more.
func (d *Dict) walk(t *table, from uint64, yield func(key, val []byte) bool) bool {
	for i := from; i <= t.mask; {
		c := t.chunks[i>>t.shift]
		if isZeroChunk(c) {
			i = (i | t.cmask) + 1
			continue
		}
		for j := i & t.cmask; j < uint64(len(c)); j++ {
			for loc := c[j]; loc != 0; {
				r := d.rec(loc)
				d.yielded = loc
				next := recNext(r)
				k, v, _ := d.parse(r)
				if !yield(k, v) {
					return false
				}
				loc = next
			}
		}
		i = (i | t.cmask) + 1
	}
	return true
}

// Random elements. Random probes uniformly random bucket positions (of the
// part of both tables that holds elements) and accepts a bucket with chain
// length L with probability L/M, then picks one of its L elements
// uniformly, so every element is equally likely when no chain is longer
// than M. M starts at randomChain and rises to the longest chain Random
// meets (up to maxRandomChain; a finished resize resets it): chains longer
// than 4 are rare at a load factor of at most 1, and once one is met its
// elements are picked as often as the others. When that fails randomTries
// times (a table left very sparse), it falls back to Redis's
// dictGetFairRandomKey: walk consecutive buckets from a random one
// collecting up to fairSample elements, then pick one of them, and sweeps
// the table as a last resort.
const (
	randomChain    = 4
	maxRandomChain = 64
	randomTries    = 256
	fairSample     = 15
)

// Random returns a random element; ok is false only when d is empty. rnd
// is the caller's random number: the same rnd on the same dict gives the
// same element. The slices alias d. For k distinct elements (SRANDMEMBER,
// HRANDFIELD and SPOP with a count) the engine calls Random repeatedly
// into a set when k is small next to Len, and otherwise copies with All
// and deletes Random elements from the copy, as Redis does.
//
// Random changes nothing but the bound M it learns, so it may be called
// wherever Get may. O(1) expected: M/load probes, about 5 at a load factor
// of 0.8 and 32 at the shrink threshold of 1/8; at most randomTries probes
// and then 150 buckets, except in a table left very sparse in the middle
// of a shrink, where the last resort sweeps buckets until it finds an
// element. No allocation.
func (d *Dict) Random(rnd uint64) (key, val []byte, ok bool) {
	if d.count == 0 {
		return nil, nil, false
	}
	if d.randM == 0 {
		d.randM = randomChain
	}
	st := rnd
	t0, t1 := &d.t[0], &d.t[1]
	lo, n0, n1 := uint64(0), t0.size(), uint64(0)
	if d.rehashing {
		lo, n0, n1 = d.rehashIdx, t0.size()-d.rehashIdx, t1.size()
	}
	for range randomTries {
		p, _ := bits.Mul64(splitmix(&st), n0+n1)
		var loc uint32
		if p < n0 {
			loc = t0.head(lo + p)
		} else {
			loc = t1.head(p - n0)
		}
		if loc == 0 {
			continue
		}
		l := uint64(0)
		for c := loc; c != 0; c = d.next(c) {
			l++
		}
		if l > d.randM {
			d.randM = min(l, maxRandomChain)
		}
		x := splitmix(&st)
		if l < d.randM && x%d.randM >= l {
			continue
		}
		for k := (x >> 32) % l; k > 0; k-- {
			loc = d.next(loc)
		}
		key, val, _ = d.parse(d.rec(loc))
		return key, val, true
	}
	var sample [fairSample]uint32
	n := d.sample(&st, sample[:min(fairSample, d.count)])
	if n == 0 {
		n = d.sweep(&st, sample[:1])
	}
	key, val, _ = d.parse(d.rec(sample[splitmix(&st)%uint64(n)]))
	return key, val, true
}

// sample fills dst with elements of consecutive buckets from a random one
// and returns how many it found. It looks at no more than 10*len(dst)
// positions, jumping to a random one after more than max(5, len(dst))
// empty ones in a row.
func (d *Dict) sample(st *uint64, dst []uint32) int {
	mask := d.t[0].mask
	if d.rehashing {
		mask = max(mask, d.t[1].mask)
	}
	j := splitmix(st) & mask
	n, empty := 0, 0
	for steps := 10 * len(dst); steps > 0 && n < len(dst); steps-- {
		before := n
		n = d.collect(j, dst, n)
		if n > before {
			empty = 0
			j = (j + 1) & mask
			continue
		}
		if empty++; empty >= 5 && empty > len(dst) {
			j, empty = splitmix(st)&mask, 0
		} else {
			j = (j + 1) & mask
		}
	}
	return n
}

// sweep looks at every position from a random one, wrapping, until it
// finds an element. O(buckets) at worst.
func (d *Dict) sweep(st *uint64, dst []uint32) int {
	mask := d.t[0].mask
	if d.rehashing {
		mask = max(mask, d.t[1].mask)
	}
	j := splitmix(st) & mask
	for k := uint64(0); k <= mask; k++ {
		if n := d.collect((j+k)&mask, dst, 0); n > 0 {
			return n
		}
	}
	panic("dict: internal error: no element found in a non-empty dict")
}

// collect appends to dst[n:] the elements at position j of the live part
// of both tables and returns the new count.
func (d *Dict) collect(j uint64, dst []uint32, n int) int {
	t0 := &d.t[0]
	if j <= t0.mask && (!d.rehashing || j >= d.rehashIdx) {
		n = d.chain(t0.head(j), dst, n)
	}
	if d.rehashing && j <= d.t[1].mask {
		n = d.chain(d.t[1].head(j), dst, n)
	}
	return n
}

func (d *Dict) chain(loc uint32, dst []uint32, n int) int {
	for ; loc != 0 && n < len(dst); loc = d.next(loc) {
		dst[n] = loc
		n++
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
