package quicklist

import "shoal/engine/internal/listpack"

// Iter walks a quicklist from an index towards the tail or the head
// without allocating (LRANGE, LREM, LPOS, LINSERT). It is a value: keep it
// on the stack. Mutating the quicklist other than through the iterator
// invalidates it.
type Iter struct {
	q       *Quicklist
	node    int  // node of the next entry, relative to q.lo; out of range when done
	pos     int  // position of the next entry in that node
	fwd     bool // towards the tail
	curNode int  // node and position of the entry Next returned last, or -1
	curPos  int
}

// Iter returns an iterator starting at element start (negative counting
// from the tail), moving towards the tail if forward, else towards the
// head. O(nodes + node entries) to find the start.
func (q *Quicklist) Iter(start int, forward bool) Iter {
	it := Iter{q: q, fwd: forward, curNode: -1, node: -1}
	r, k, ok := q.locate(start)
	if !ok {
		return it
	}
	it.node = r
	it.pos, _ = q.ns[q.lo+r].Seek(k)
	return it
}

// Next returns the next element. O(1).
func (it *Iter) Next() (listpack.Value, bool) {
	q := it.q
	if it.node < 0 || it.node >= q.hi-q.lo {
		return listpack.Value{}, false
	}
	n := &q.ns[q.lo+it.node]
	v := n.Value(it.pos)
	it.curNode, it.curPos = it.node, it.pos
	var ok bool
	if it.fwd {
		if it.pos, ok = n.Next(it.pos); !ok {
			it.node++
			it.pos = listpack.HeaderSize
		}
	} else {
		if it.pos, ok = n.Prev(it.pos); !ok {
			it.node--
			if it.node >= 0 {
				it.pos, _ = q.ns[q.lo+it.node].Last()
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
	n := &q.ns[q.lo+r]
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
			prevSize := q.ns[q.lo+r-1].Size()
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
	it.curNode, it.node = -1, -1
}
