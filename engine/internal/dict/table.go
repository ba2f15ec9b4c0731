package dict

import "math/bits"

// A table is a power-of-two array of bucket heads (record locations, 0 for
// an empty bucket); an element with hash h sits in bucket h&mask. Tables of
// more than chunkLen buckets are split in 64 KiB chunks that start as the
// shared read-only zeroChunk and get memory of their own on the first
// write, so starting even a huge resize costs one small allocation, and a
// chunk the rehash has emptied is given back at once.
const (
	minBuckets = 4
	chunkShift = 14
	chunkLen   = 1 << chunkShift

	// stepBuckets is how many non-empty buckets a mutating call moves
	// while a resize is in progress (hurryBuckets when the target is
	// already full); emptyVisits bounds the empty buckets looked at per
	// bucket moved.
	stepBuckets  = 2
	hurryBuckets = 8
	emptyVisits  = 10
)

var zeroChunk [chunkLen]uint32

type table struct {
	chunks [][]uint32
	mask   uint64 // buckets - 1
	shift  uint   // bucket i is chunks[i>>shift][i&cmask]
	cmask  uint64
	used   int // records linked into this table
	owned  int // chunks with memory of their own
}

func newTable(size uint64) table {
	if size <= chunkLen {
		return table{
			chunks: [][]uint32{make([]uint32, size)},
			mask:   size - 1,
			shift:  uint(bits.TrailingZeros64(size)),
			cmask:  size - 1,
			owned:  1,
		}
	}
	t := table{
		chunks: make([][]uint32, size>>chunkShift),
		mask:   size - 1,
		shift:  chunkShift,
		cmask:  chunkLen - 1,
	}
	for i := range t.chunks {
		t.chunks[i] = zeroChunk[:]
	}
	return t
}

func (t *table) size() uint64 { return t.mask + 1 }

// bytes is the memory the table holds.
func (t *table) bytes() int {
	if t.chunks == nil {
		return 0
	}
	if len(t.chunks) == 1 {
		return 4*len(t.chunks[0]) + 24
	}
	return t.owned*chunkLen*4 + 24*cap(t.chunks)
}

func (t *table) head(i uint64) uint32 { return t.chunks[i>>t.shift][i&t.cmask] }

func isZeroChunk(c []uint32) bool { return len(c) == chunkLen && &c[0] == &zeroChunk[0] }

// setHead sets bucket i's head, giving its chunk memory of its own first
// if it has none.
func (t *table) setHead(i uint64, loc uint32) {
	c := t.chunks[i>>t.shift]
	if isZeroChunk(c) {
		if loc == 0 {
			return
		}
		c = make([]uint32, chunkLen)
		t.chunks[i>>t.shift] = c
		t.owned++
	}
	c[i&t.cmask] = loc
}

// bucketOf returns the table and bucket where an element of hash h is, or
// is inserted: t[1] during a resize once t[0]'s bucket i has been moved,
// else t[0]. New elements join t[0] while their bucket there has not been
// moved (the rehash takes them along), so every element has one possible
// place and a lookup walks one chain.
func (d *Dict) bucketOf(h uint64) (*table, uint64) {
	t := &d.t[0]
	i := h & t.mask
	if d.rehashing && i < d.rehashIdx {
		t = &d.t[1]
		i = h & t.mask
	}
	return t, i
}

// growIfFull starts doubling the table when it is full (load factor 1).
// O(1); allocates the new bucket array (one 64 KiB chunk list at most).
func (d *Dict) growIfFull() {
	if d.t[0].chunks == nil {
		d.t[0] = newTable(minBuckets)
		return
	}
	if !d.rehashing && uint64(d.t[0].used) >= d.t[0].size() {
		d.startResize(d.t[0].size() * 2)
	}
}

// shrinkIfSparse starts shrinking a table under 1/8 full to the smallest
// size it fills at most half (never below minBuckets). O(1).
func (d *Dict) shrinkIfSparse() {
	if d.rehashing {
		return
	}
	size, used := d.t[0].size(), uint64(d.t[0].used)
	if size <= minBuckets || used*8 >= size {
		return
	}
	target := uint64(minBuckets)
	if used > 0 {
		target = max(target, 2<<bits.Len64(used-1))
	}
	if target < size {
		d.startResize(target)
	}
}

func (d *Dict) startResize(size uint64) {
	d.t[1] = newTable(size)
	d.rehashing = true
	d.rehashIdx = 0
}

// rehashStep moves up to n non-empty buckets of t[0] into t[1], looking at
// no more than emptyVisits*n empty buckets (a chunk never written counts
// as one), and ends the resize when t[0] is exhausted. Each record moved
// is hashed again. O(n) buckets plus the records in them.
func (d *Dict) rehashStep(n int) {
	t0, t1 := &d.t[0], &d.t[1]
	size0 := t0.size()
	empty := emptyVisits * n
	for n > 0 && empty > 0 && d.rehashIdx < size0 {
		c := t0.chunks[d.rehashIdx>>t0.shift]
		if isZeroChunk(c) {
			d.rehashIdx = (d.rehashIdx | t0.cmask) + 1
			empty--
			continue
		}
		i := d.rehashIdx & t0.cmask
		if loc := c[i]; loc == 0 {
			empty--
		} else {
			for loc != 0 {
				r := d.rec(loc)
				next := recNext(r)
				key, _, _ := d.parse(r)
				j := d.hash(key) & t1.mask
				setRecNext(r, t1.head(j))
				t1.setHead(j, loc)
				t0.used--
				t1.used++
				loc = next
			}
			c[i] = 0
			n--
		}
		d.rehashIdx++
		if d.rehashIdx&t0.cmask == 0 && len(t0.chunks) > 1 {
			// The chunk just passed stays empty: give it back.
			t0.chunks[(d.rehashIdx-1)>>t0.shift] = zeroChunk[:]
			t0.owned--
		}
	}
	if d.rehashIdx >= size0 {
		if invariants && t0.used != 0 {
			panic("dict: internal error: rehash left records behind")
		}
		d.t[0], d.t[1] = *t1, table{}
		d.rehashing = false
		d.rehashIdx = 0
		d.randM = randomChain
	}
}

// Rehash is idle-time housekeeping for the loop's cron: it moves up to n
// buckets of a resize in progress (starting a shrink first if deletions
// made one due) and evacuates up to 64*n bytes of records from pages
// queued for cleaning. It returns true while work remains. O(n) buckets
// plus the records moved. Not to be called inside All.
func (d *Dict) Rehash(n int) bool {
	d.checkNotIterating()
	if n <= 0 {
		return d.rehashing || d.cleaning()
	}
	d.shrinkIfSparse()
	if d.rehashing {
		d.rehashStep(n)
	}
	if d.cleaning() {
		d.clean(64 * n)
	}
	return d.rehashing || d.cleaning()
}
