// Package quicklist implements Redis's quicklist: a list stored as a
// sequence of listpack nodes, each bounded by list-max-listpack-size, the
// encoding of Redis's lists and of RDB_TYPE_LIST_QUICKLIST_2 payloads (whose
// nodes are the listpacks Node returns).
//
// # Layout
//
// Redis links its nodes with prev/next pointers. Here the nodes live in one
// array used as a deque (free slots kept at both ends), which gives the
// same costs, O(1) at both ends and O(nodes) to reach or to add/remove a
// node in the middle (Redis walks O(nodes) to get there), and costs the GC
// one pointer per node (the node's listpack buffer) plus one for the array,
// never one per element.
//
// Node sizes follow Redis 7.0 exactly: with fill < 0 a node holds up to
// 4/8/16/32/64 KB (fill -1..-5) estimated as Redis does (bytes so far +
// element length + 8); with fill >= 0 up to fill entries and 8 KB. Pushing
// the same elements here and into redis-server yields the same nodes, byte
// for byte. An element too big for any node gets a node of its own (Redis
// 7 would make it a "plain" node only above 1 GB, more than a Redis
// argument can hold). Inserting into a full node splits it and merges the
// neighbours back as Redis does; deletions also merge a shrunken node into
// a neighbour when the two fit in one node, so that memory stays tight
// after LREM/LTRIM (Redis 7.0 leaves such nodes sparse).
//
// With a compress depth d > 0 (list-compress-depth), nodes more than d
// nodes away from both ends are kept LZF-compressed, as Redis keeps them:
// a node of at least 48 bytes whose compression saves at least 8 bytes.
// A node is made raw again (permanently) before anything changes it or
// looks at its size; after each change the nodes around it and the nodes
// at depth d from either end are compressed where they are inner. Reads
// (Index, Iter, Node) decompress a compressed node into a buffer of their
// own and leave it compressed.
//
// # Ownership
//
// A Quicklist has no locks: only the goroutine that owns its keyspace (one
// shard's loop) may call its methods. Values returned by Index, Iter.Next
// and the like alias node buffers and stay valid until the next mutation.
// An Iter is invalidated by any mutation not made through it.
package quicklist

import (
	"shoal/engine/internal/listpack"
	"shoal/engine/internal/rdb"
)

const (
	// DefaultFill is Redis's default list-max-listpack-size.
	DefaultFill = -2
	// MinFill and MaxFill bound fill as Redis's quicklistSetFill does.
	MinFill = -5
	MaxFill = 1<<15 - 1

	sizeSafetyLimit      = 8192
	sizeEstimateOverhead = 8

	// A node is compressed when it has at least minCompressBytes and
	// compressing saves at least minCompressImprove (Redis's
	// MIN_COMPRESS_BYTES and MIN_COMPRESS_IMPROVE).
	minCompressBytes   = 48
	minCompressImprove = 8
)

var optimizationLevel = [...]int{4096, 8192, 16384, 32768, 65536}

// Quicklist is a list of byte strings stored in listpack nodes.
type Quicklist struct {
	ns     []listpack.Listpack // nodes; ns[lo:hi] are live, the rest zero
	zs     []zNode             // the compressed form of ns[i] (then zero), by the same index; nil while depth is 0
	lo, hi int
	count  int // elements in all nodes
	fill   int
	depth  int // list-compress-depth: nodes kept raw at each end; 0: none compressed

	decompressions int // nodes decompressed so far (tests bound the work)
}

// zNode is a compressed node: z is the LZF compression of the listpack's
// size bytes holding n entries; z is nil for a raw node.
type zNode struct {
	z       []byte
	n, size int
}

// New returns an empty quicklist with the given list-max-listpack-size,
// clamped to [MinFill, MaxFill]. O(1).
func New(fill int) *Quicklist {
	return &Quicklist{fill: clampFill(fill)}
}

func clampFill(fill int) int {
	return min(max(fill, MinFill), MaxFill)
}

// SetCompressDepth sets list-compress-depth, clamped to [0, 2^31-1], and
// compresses the inner nodes the quicklist already has (a list built
// before its depth was known). O(size) then, O(1) when empty.
func (q *Quicklist) SetCompressDepth(d int) {
	q.depth = min(max(d, 0), 1<<31-1)
	if q.depth > 0 && q.zs == nil && q.ns != nil {
		q.zs = make([]zNode, len(q.ns))
	}
	q.settle(0, q.hi-q.lo-1)
}

// CompressDepth returns the compress depth. O(1).
func (q *Quicklist) CompressDepth() int { return q.depth }

// UncompressedSize returns the bytes of every node's listpack, as if none
// were compressed. O(nodes).
func (q *Quicklist) UncompressedSize() int {
	n := 0
	for i := q.lo; i < q.hi; i++ {
		if z := q.zNode(i); z != nil {
			n += z.size
		} else {
			n += q.ns[i].Size()
		}
	}
	return n
}

// Compressed returns how many nodes are compressed. O(nodes).
func (q *Quicklist) Compressed() int {
	n := 0
	for i := q.lo; i < q.hi && q.zs != nil; i++ {
		if q.zs[i].z != nil {
			n++
		}
	}
	return n
}

// Len returns the number of elements. O(1).
func (q *Quicklist) Len() int { return q.count }

// NodeCount returns the number of nodes. O(1).
func (q *Quicklist) NodeCount() int { return q.hi - q.lo }

// Node returns node i (0 <= i < NodeCount()), for writing RDB payloads; it
// must not be modified through the pointer. O(1), or O(node) to
// decompress a compressed node into a copy.
func (q *Quicklist) Node(i int) *listpack.Listpack { return q.view(i) }

// NodeAllocSize returns the bytes node i holds as it is kept: its
// compressed form when compressed. O(1).
func (q *Quicklist) NodeAllocSize(i int) int {
	if z := q.zNode(q.lo + i); z != nil {
		return cap(z.z)
	}
	return q.ns[q.lo+i].AllocSize()
}

// NodeLen returns the number of entries of node r, compressed or not.
// O(1).
func (q *Quicklist) NodeLen(r int) int {
	if z := q.zNode(q.lo + r); z != nil {
		return z.n
	}
	return q.ns[q.lo+r].Len()
}

// zNode returns the compressed form of slot i, nil when the node is raw.
func (q *Quicklist) zNode(i int) *zNode {
	if q.zs == nil || q.zs[i].z == nil {
		return nil
	}
	return &q.zs[i]
}

// raw makes node r raw, for a change or a size check, and returns it.
// O(node) when it was compressed.
func (q *Quicklist) raw(r int) *listpack.Listpack {
	i := q.lo + r
	if z := q.zNode(i); z != nil {
		q.ns[i] = q.decompress(z)
		*z = zNode{}
	}
	return &q.ns[i]
}

// view returns node r for reading: the node itself when raw, else a
// decompressed copy (the node stays compressed).
func (q *Quicklist) view(r int) *listpack.Listpack {
	i := q.lo + r
	if z := q.zNode(i); z != nil {
		lp := q.decompress(z)
		return &lp
	}
	return &q.ns[i]
}

func (q *Quicklist) decompress(z *zNode) listpack.Listpack {
	q.decompressions++
	b := make([]byte, z.size)
	if err := rdb.LZFDecompress(b, z.z); err != nil {
		panic("quicklist: a compressed node does not decompress: " + err.Error())
	}
	return listpack.Adopt(b, z.n)
}

// compress compresses node r if it is inner (more than depth nodes from
// both ends), raw, and worth it.
func (q *Quicklist) compress(r int) {
	nn := q.hi - q.lo
	if q.depth == 0 || q.zs == nil || r < q.depth || r >= nn-q.depth {
		return
	}
	i := q.lo + r
	if q.zs[i].z != nil {
		return
	}
	b := q.ns[i].Bytes()
	if len(b) < minCompressBytes {
		return
	}
	z, ok := rdb.LZFCompress(nil, b, len(b)-minCompressImprove)
	if !ok {
		return
	}
	q.zs[i] = zNode{z: z[:len(z):len(z)], n: q.ns[i].Len(), size: len(b)}
	q.ns[i] = listpack.Listpack{}
}

// settle compresses, after a change around nodes [a, b], the inner nodes
// among them and the nodes just inside the raw ends, which a change at an
// end moves inward. O(nodes changed + their sizes).
func (q *Quicklist) settle(a, b int) { q.settleExcept(a, b, -1) }

// settleExcept is settle leaving node skip as it is (an iterator's
// current node, which it keeps raw while it deletes in it).
func (q *Quicklist) settleExcept(a, b, skip int) {
	if q.depth == 0 {
		return
	}
	nn := q.hi - q.lo
	for _, r := range [...]int{q.depth, nn - 1 - q.depth} {
		if r != skip {
			q.compress(r)
		}
	}
	for r := max(a, 0); r <= min(b, nn-1); r++ {
		if r != skip {
			q.compress(r)
		}
	}
}

// Fill returns the node size limit in list-max-listpack-size form. O(1).
func (q *Quicklist) Fill() int { return q.fill }

// AllocSize returns the bytes held by node buffers and the node array.
// O(nodes).
func (q *Quicklist) AllocSize() int {
	n := cap(q.ns)*nodeStructSize + cap(q.zs)*zNodeStructSize
	for i := q.lo; i < q.hi; i++ {
		n += q.ns[i].AllocSize()
		if z := q.zNode(i); z != nil {
			n += cap(z.z)
		}
	}
	return n
}

const (
	nodeStructSize  = 32 // unsafe.Sizeof(listpack.Listpack{}) on 64-bit
	zNodeStructSize = 40 // unsafe.Sizeof(zNode{})
)

// sizeFits reports whether a node of newSize bytes and newCount entries is
// within the limit (Redis's quicklistNodeExceedsLimit, negated).
func (q *Quicklist) sizeFits(newSize, newCount int) bool {
	if q.fill < 0 {
		return newSize <= optimizationLevel[-q.fill-1]
	}
	return newSize <= sizeSafetyLimit && newCount <= q.fill
}

// allowInsert reports whether an element of length sz may join node n.
func (q *Quicklist) allowInsert(n *listpack.Listpack, sz int) bool {
	return q.sizeFits(n.Size()+sz+sizeEstimateOverhead, n.Len()+1)
}

// allowMerge reports whether nodes r and r+1 may become one, from their
// sizes alone (a compressed node stays compressed).
func (q *Quicklist) allowMerge(r int) bool {
	return q.sizeFits(q.nodeSize(r)+q.nodeSize(r+1)-listpack.EmptySize, q.NodeLen(r)+q.NodeLen(r+1))
}

// nodeSize is the listpack size of node r, compressed or not. O(1).
func (q *Quicklist) nodeSize(r int) int {
	if z := q.zNode(q.lo + r); z != nil {
		return z.size
	}
	return q.ns[q.lo+r].Size()
}

// ---- ends -------------------------------------------------------------

// PushHead adds s before the first element. O(1) amortized, plus O(node)
// to shift the head node's bytes, as Redis's lpPrepend.
func (q *Quicklist) PushHead(s []byte) {
	if q.hi > q.lo && q.allowInsert(q.raw(0), len(s)) {
		q.ns[q.lo].Prepend(s)
	} else {
		q.insertNode(0, newNode(s))
		q.settle(0, 0)
	}
	q.count++
}

// PushTail adds s after the last element. O(1) amortized.
func (q *Quicklist) PushTail(s []byte) {
	if q.hi > q.lo && q.allowInsert(q.raw(q.hi-q.lo-1), len(s)) {
		q.ns[q.hi-1].Append(s)
	} else {
		q.insertNode(q.hi-q.lo, newNode(s))
		q.settle(0, -1)
	}
	q.count++
}

func newNode(s []byte) listpack.Listpack {
	lp := listpack.New()
	lp.Append(s)
	return lp
}

// PopHead removes the first element and appends it, as bytes, to dst.
// O(node) for the shift inside the head node.
func (q *Quicklist) PopHead(dst []byte) ([]byte, bool) {
	if q.count == 0 {
		return dst, false
	}
	n := q.raw(0)
	dst = n.AppendEntry(dst, listpack.HeaderSize)
	q.deleteAt(0, listpack.HeaderSize)
	return dst, true
}

// PopTail removes the last element and appends it, as bytes, to dst. O(1).
func (q *Quicklist) PopTail(dst []byte) ([]byte, bool) {
	if q.count == 0 {
		return dst, false
	}
	r := q.hi - q.lo - 1
	n := q.raw(r)
	p, _ := n.Last()
	dst = n.AppendEntry(dst, p)
	q.deleteAt(r, p)
	return dst, true
}

// deleteAt removes the entry at p of node r, and the node if it empties.
func (q *Quicklist) deleteAt(r, p int) {
	n := q.raw(r)
	if n.Len() == 1 {
		q.removeNode(r)
	} else {
		n.Delete(p)
	}
	q.count--
}

// ---- index access -----------------------------------------------------

// locate finds element i (negative from the tail) and returns its node and
// its index within the node, walking node counts from the nearer end.
// O(nodes).
func (q *Quicklist) locate(i int) (r, k int, ok bool) {
	if i < 0 {
		i += q.count
	}
	if i < 0 || i >= q.count {
		return 0, 0, false
	}
	nn := q.hi - q.lo
	if i < q.count/2 {
		for r = 0; r < nn; r++ {
			c := q.NodeLen(r)
			if i < c {
				return r, i, true
			}
			i -= c
		}
	} else {
		j := q.count - 1 - i // index from the tail
		for r = nn - 1; r >= 0; r-- {
			c := q.NodeLen(r)
			if j < c {
				return r, c - 1 - j, true
			}
			j -= c
		}
	}
	return 0, 0, false
}

// Index returns element i, negative counting from the tail (LINDEX).
// O(nodes + node entries).
func (q *Quicklist) Index(i int) (listpack.Value, bool) {
	r, k, ok := q.locate(i)
	if !ok {
		return listpack.Value{}, false
	}
	n := q.view(r)
	p, _ := n.Seek(k)
	return n.Value(p), true
}

// Replace sets element i, negative counting from the tail, to s and
// reports whether i was in range (LSET). If the node would outgrow its
// limit the element moves to where an insert would put it. O(nodes + node
// size).
func (q *Quicklist) Replace(i int, s []byte) bool {
	if i < 0 {
		i += q.count
	}
	r, k, ok := q.locate(i)
	if !ok {
		return false
	}
	n := q.raw(r)
	p, _ := n.Seek(k)
	old := n.EntrySize(p)
	if q.sizeFits(n.Size()-old+len(s)+sizeEstimateOverhead, n.Len()) || n.Len() == 1 {
		n.Replace(p, s)
		q.settle(r, r)
		return true
	}
	// Too big for this node: insert after the old entry, then delete it.
	q.insert(r, p, s, true)
	r, k, _ = q.locate(i)
	n = q.raw(r)
	p, _ = n.Seek(k)
	q.deleteAt(r, p)
	q.mergeAround(r)
	q.settle(r-3, r+3)
	return true
}

// DeleteRange removes up to count elements from index start (negative
// counting from the tail) and returns how many it removed (LTRIM). Whole
// nodes in the range are dropped; the nodes at its edges are merged with
// their neighbours when they fit. O(nodes + bytes of the edge nodes).
func (q *Quicklist) DeleteRange(start, count int) int {
	r, k, ok := q.locate(start)
	if !ok || count <= 0 {
		return 0
	}
	first := r
	left := count
	for left > 0 && r < q.hi-q.lo {
		c := q.NodeLen(r)
		del := min(c-k, left)
		if k == 0 && del == c {
			q.removeNode(r)
		} else {
			q.raw(r).DeleteRange(k, del)
			r++
		}
		left -= del
		q.count -= del
		k = 0
	}
	q.mergeAround(first)
	q.settle(first-3, first+3)
	return count - left
}

// Clear removes every element. O(1).
func (q *Quicklist) Clear() {
	clear(q.ns)
	q.ns, q.zs, q.lo, q.hi, q.count = nil, nil, 0, 0, 0
}

// ---- insertion --------------------------------------------------------

// insert adds s before or after the entry at p of node r, as Redis's
// _quicklistInsert: into the node if it has room, else at the edge of the
// neighbour, else in a new node, else by splitting the node.
func (q *Quicklist) insert(r, p int, s []byte, after bool) {
	n := q.raw(r)
	nn := q.hi - q.lo
	q.count++
	if q.allowInsert(n, len(s)) {
		if after {
			n.InsertAfter(p, s)
		} else {
			n.InsertBefore(p, s)
		}
		return
	}
	last, _ := n.Last()
	atTail := after && p == last
	atHead := !after && p == listpack.HeaderSize
	if atTail {
		if r+1 < nn && q.allowInsert(q.raw(r+1), len(s)) {
			q.ns[q.lo+r+1].Prepend(s)
		} else {
			q.insertNode(r+1, newNode(s))
		}
		return
	}
	if atHead {
		if r > 0 && q.allowInsert(q.raw(r-1), len(s)) {
			q.ns[q.lo+r-1].Append(s)
		} else {
			q.insertNode(r, newNode(s))
		}
		return
	}
	// Split: after keeps [..p] here and moves the rest to a new node that
	// starts with s; before moves [..p) to a new node ending with s. Where
	// Redis would let that new node outgrow the limit (s is large), s gets
	// a node of its own instead.
	if after {
		next, _ := n.Next(p)
		tail := n.SplitAt(next)
		if q.allowInsert(&tail, len(s)) {
			tail.Prepend(s)
			q.insertNode(r+1, tail)
		} else {
			q.insertNode(r+1, tail)
			q.insertNode(r+1, newNode(s))
		}
	} else {
		tail := n.SplitAt(p)
		head := q.ns[q.lo+r]
		q.ns[q.lo+r] = tail
		if q.allowInsert(&head, len(s)) {
			head.Append(s)
			q.insertNode(r, head)
			r++ // the center is the node holding p's entry
		} else {
			q.insertNode(r, newNode(s))
			q.insertNode(r, head)
			r += 2
		}
	}
	q.mergeNodes(r)
}

// mergeNodes merges around center as Redis's _quicklistMergeNodes: the two
// nodes before it, the two after it, then center with its neighbours.
func (q *Quicklist) mergeNodes(center int) {
	if center >= 2 && q.tryMerge(center-2) {
		center--
	}
	q.tryMerge(center + 1)
	if center >= 1 && q.tryMerge(center-1) {
		center--
	}
	q.tryMerge(center)
}

// mergeAround merges node r with its neighbours where they fit.
func (q *Quicklist) mergeAround(r int) {
	if r > 0 && q.tryMerge(r-1) {
		r--
	}
	q.tryMerge(r)
}

// tryMerge merges node r+1 into node r if both exist and fit in one node.
func (q *Quicklist) tryMerge(r int) bool {
	if r < 0 || r+1 >= q.hi-q.lo {
		return false
	}
	if !q.allowMerge(r) {
		return false
	}
	a, b := q.raw(r), q.raw(r+1)
	if a.Len() >= b.Len() {
		a.Concat(b)
		q.removeNode(r + 1)
	} else {
		// Keep the larger buffer: prepend a's entries to b.
		merged := a.Clone()
		merged.Concat(b)
		*b = merged
		q.removeNode(r)
	}
	return true
}

// ---- the node deque ---------------------------------------------------

// insertNode puts lp at node index at (0 <= at <= NodeCount()), shifting
// the shorter side. O(1) amortized at the ends, O(nodes) in the middle.
func (q *Quicklist) insertNode(at int, lp listpack.Listpack) {
	nn := q.hi - q.lo
	front := at < nn-at || (at == nn-at && q.lo > 0)
	if (front && q.lo == 0) || (!front && q.hi == len(q.ns)) {
		q.recenter(nn + 1)
	}
	if front {
		copy(q.ns[q.lo-1:], q.ns[q.lo:q.lo+at])
		if q.zs != nil {
			copy(q.zs[q.lo-1:], q.zs[q.lo:q.lo+at])
		}
		q.lo--
	} else {
		copy(q.ns[q.lo+at+1:q.hi+1], q.ns[q.lo+at:q.hi])
		if q.zs != nil {
			copy(q.zs[q.lo+at+1:q.hi+1], q.zs[q.lo+at:q.hi])
		}
		q.hi++
	}
	q.ns[q.lo+at] = lp
	if q.zs != nil {
		q.zs[q.lo+at] = zNode{}
	}
}

// removeNode drops node at, shifting the shorter side, and shrinks the
// array when it is mostly empty.
func (q *Quicklist) removeNode(at int) {
	nn := q.hi - q.lo
	if at < nn-1-at {
		copy(q.ns[q.lo+1:], q.ns[q.lo:q.lo+at])
		q.ns[q.lo] = listpack.Listpack{}
		if q.zs != nil {
			copy(q.zs[q.lo+1:], q.zs[q.lo:q.lo+at])
			q.zs[q.lo] = zNode{}
		}
		q.lo++
	} else {
		copy(q.ns[q.lo+at:], q.ns[q.lo+at+1:q.hi])
		q.hi--
		q.ns[q.hi] = listpack.Listpack{}
		if q.zs != nil {
			copy(q.zs[q.lo+at:], q.zs[q.lo+at+1:q.hi+1])
			q.zs[q.hi] = zNode{}
		}
	}
	if nn-1 == 0 {
		q.ns, q.zs, q.lo, q.hi = nil, nil, 0, 0
	} else if len(q.ns) > 16 && (nn-1)*4 < len(q.ns) {
		q.recenter(nn - 1)
	}
}

// recenter places the live nodes in the middle of an array with room for
// at least need nodes and free slots at both ends. O(nodes).
func (q *Quicklist) recenter(need int) {
	size := len(q.ns)
	switch {
	case need == 1 && size == 0:
		size = 1 // most lists have one node: no spare slots
	case need*2+2 > size || size > 4*need+16:
		size = need*2 + 2
	}
	nn := q.hi - q.lo
	lo := (size - nn) / 2
	if size == len(q.ns) {
		copy(q.ns[lo:], q.ns[q.lo:q.hi])
		clear(q.ns[:lo])
		clear(q.ns[lo+nn:])
		if q.zs != nil {
			copy(q.zs[lo:], q.zs[q.lo:q.hi])
			clear(q.zs[:lo])
			clear(q.zs[lo+nn:])
		}
	} else {
		ns := make([]listpack.Listpack, size)
		copy(ns[lo:], q.ns[q.lo:q.hi])
		q.ns = ns
		if q.depth > 0 {
			zs := make([]zNode, size)
			if q.zs != nil {
				copy(zs[lo:], q.zs[q.lo:q.hi])
			}
			q.zs = zs
		}
	}
	q.lo, q.hi = lo, lo+nn
}

// ---- conversion and RDB -----------------------------------------------

// FromListpack makes a quicklist of lp's elements, taking ownership of lp:
// O(1) when lp fits in one node, else O(n) to split it.
func FromListpack(lp listpack.Listpack, fill int) *Quicklist {
	q := New(fill)
	if lp.Len() == 0 {
		return q
	}
	if q.sizeFits(lp.Size(), lp.Len()) {
		q.insertNode(0, lp)
		q.count = lp.Len()
		return q
	}
	var buf [listpack.IntBufSize]byte
	for p, ok := lp.First(); ok; p, ok = lp.Next(p) {
		q.PushTail(lp.GetBytes(p, &buf))
	}
	return q
}

// ToListpack returns all elements as one listpack and leaves q empty: O(1)
// when q has one node, else O(total bytes).
func (q *Quicklist) ToListpack() listpack.Listpack {
	var lp listpack.Listpack
	switch q.hi - q.lo {
	case 0:
		lp = listpack.New()
	case 1:
		lp = *q.raw(0)
	default:
		lp = q.raw(0).Clone()
		for r := 1; r < q.hi-q.lo; r++ {
			lp.Concat(q.view(r))
		}
	}
	q.Clear()
	return lp
}

// AppendNode adds lp as a new last node, taking ownership of it (loading
// an RDB quicklist node by node); empty listpacks are skipped. The node is
// kept as it is, even if larger than the fill allows, as Redis does. O(1)
// amortized.
func (q *Quicklist) AppendNode(lp listpack.Listpack) {
	if lp.Len() == 0 {
		return
	}
	q.insertNode(q.hi-q.lo, lp)
	q.count += lp.Len()
	q.settle(0, -1)
}
