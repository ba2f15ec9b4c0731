package quicklist

import "shoal/engine/internal/listpack"

// Iter walks a quicklist from an index towards the tail or the head
// (LRANGE, LREM, LPOS, LINSERT), allocating nothing but the decompressed
// copy of each compressed node it enters. It is a value: keep it on the
// stack. Mutating the quicklist other than through the iterator
// invalidates it.
type Iter struct {
	q       *Quicklist
	node    int  // node of the next entry, relative to q.lo; out of range when done
	pos     int  // position of the next entry in that node
	fwd     bool // towards the tail
	curNode int  // node and position of the entry Next returned last, or -1
	curPos  int
	// view is node viewNode decompressed, while the iterator reads a
	// compressed node; viewNode is -1 otherwise.
	view     listpack.Listpack
	viewNode int
	// dirty: Delete made node `node` raw and changed it; it is compressed
	// again when the iterator leaves it or at Done, not after every
	// deletion (LREM in one node costs one decompression, as in Redis).
	dirty bool
}

// Done ends an iteration that deleted: the node it was in is compressed
// again if it should be. Calling it after any iteration is harmless.
func (it *Iter) Done() { it.left(it.node) }

// left is called when the iterator moves off node r.
func (it *Iter) left(r int) {
	if it.dirty {
		it.dirty = false
		it.q.settle(r, r)
	}
}

// at returns node r to read, decompressed into it.view when compressed.
func (it *Iter) at(r int) *listpack.Listpack {
	q := it.q
	if q.zNode(q.lo+r) == nil {
		return &q.ns[q.lo+r]
	}
	if it.viewNode != r {
		it.view = *q.view(r)
		it.viewNode = r
	}
	return &it.view
}

// Iter returns an iterator starting at element start (negative counting
// from the tail), moving towards the tail if forward, else towards the
// head. O(nodes + node entries) to find the start.
func (q *Quicklist) Iter(start int, forward bool) Iter {
	it := Iter{q: q, fwd: forward, curNode: -1, node: -1, viewNode: -1}
	r, k, ok := q.locate(start)
	if !ok {
		return it
	}
	it.node = r
	it.pos, _ = it.at(r).Seek(k)
	return it
}

// Next returns the next element. O(1).
func (it *Iter) Next() (listpack.Value, bool) {
	q := it.q
	if it.node < 0 || it.node >= q.hi-q.lo {
		return listpack.Value{}, false
	}
	n := it.at(it.node)
	v := n.Value(it.pos)
	it.curNode, it.curPos = it.node, it.pos
	var ok bool
	if it.fwd {
		if it.pos, ok = n.Next(it.pos); !ok {
			it.node++
			it.left(it.node - 1)
			it.pos = listpack.HeaderSize
		}
	} else {
		if it.pos, ok = n.Prev(it.pos); !ok {
			it.node--
			it.left(it.node + 1)
			if it.node >= 0 {
				it.pos, _ = it.at(it.node).Last()
			}
		}
	}
	return v, true
}

// Delete removes the element Next returned last; iteration continues with
// the element that would have followed it. A node left small is merged
// into its already visited neighbour when the two fit in one node. O(node).
func (it *Iter) Delete() {
	q := it.q
	r, p := it.curNode, it.curPos
	if r < 0 {
		panic("quicklist: Iter.Delete without a current element")
	}
	it.curNode = -1
	if it.viewNode == r && q.zNode(q.lo+r) != nil {
		// The copy being read becomes the node: no second decompression.
		q.ns[q.lo+r], q.zs[q.lo+r] = it.view, zNode{}
	}
	it.view, it.viewNode = listpack.Listpack{}, -1 // node numbers and contents change
	// Nodes merged around r are compressed again at once; the node the
	// iterator is in stays raw until it leaves it (dirty).
	defer func() {
		if it.node == r && it.node < q.hi-q.lo {
			it.dirty = true
			q.settleExcept(r-3, r+3, r)
		} else {
			q.settle(r-3, r+3)
		}
	}()
	n := q.raw(r)
	if n.Len() == 1 {
		q.removeNode(r)
		q.count--
		if it.node > r {
			it.node--
		}
		return
	}
	sz := n.EntrySize(p)
	n.Delete(p)
	q.count--
	if it.fwd {
		if it.node == r {
			it.pos -= sz
		}
		// Merge the node into the visited one before it.
		if r > 0 {
			prevSize := q.nodeSize(r - 1)
			if q.tryMerge(r - 1) {
				switch it.node {
				case r:
					it.pos += prevSize - listpack.EmptySize
					it.node--
				case r + 1:
					it.node--
				}
			}
		}
	} else if r+1 < q.hi-q.lo {
		// Merge the visited node after it into this one: positions in
		// this node and before it stay put.
		q.tryMerge(r)
	}
}

// Insert adds s before or after the element Next returned last (LINSERT)
// and ends the iteration. O(node), plus a split and merges when the node
// is full.
func (it *Iter) Insert(s []byte, after bool) {
	if it.curNode < 0 {
		panic("quicklist: Iter.Insert without a current element")
	}
	it.q.insert(it.curNode, it.curPos, s, after)
	it.q.settle(it.curNode-3, it.curNode+3)
	it.curNode, it.node, it.viewNode = -1, -1, -1
}
