package engine

import (
	"shoal/engine/internal/kv"
	"shoal/engine/internal/quicklist"
)

// listObj is the value of a list key: a quicklist of listpack nodes, the
// one encoding Redis 7.0 gives every list ("quicklist"; the listpack
// encoding of small lists came with Redis 7.2). A list of a few short
// elements is one node, a listpack, so it is as compact as a listpack
// encoding would be; longer ones split into nodes of list-max-listpack-size
// as Redis splits them.
//
// A listObj is kept by the key space as an object (kv.InsertObject) and,
// like everything there, belongs to the shard's loop. A key never holds an
// empty list: every command that removes elements deletes the key when the
// last one goes.
type listObj struct {
	quicklist.Quicklist
}

// newListObj makes an empty list whose nodes follow the shard's current
// list-max-listpack-size and list-compress-depth (a list keeps those it
// was made with, as in Redis).
func (s *Shard) newListObj() *listObj {
	l := &listObj{Quicklist: *quicklist.New(s.Config.ListMaxListpackSize)}
	l.SetCompressDepth(s.Config.ListCompressDepth)
	return l
}

// copyValue copies every node (COPY). O(bytes of the list).
func (l *listObj) copyValue() any {
	cp := &listObj{Quicklist: *quicklist.New(l.Fill())}
	cp.SetCompressDepth(l.CompressDepth())
	for i := 0; i < l.NodeCount(); i++ {
		cp.AppendNode(l.Node(i).Clone())
	}
	return cp
}

// replyRange writes the n elements from index first on (all present) as
// bulk strings, walking the nodes' listpacks directly: the reply loop of
// LRANGE. O(nodes + n).
func (l *listObj) replyRange(c *Client, first, n int) {
	for i := 0; i < l.NodeCount() && n > 0; i++ {
		if c := l.NodeLen(i); first >= c {
			first -= c // skipped without decompressing it
			continue
		}
		lp := l.Node(i)
		p, ok := lp.Seek(first)
		first = 0
		for ; ok && n > 0; p, ok = lp.Next(p) {
			if s, v, isInt := lp.Get(p); isInt {
				c.BulkInt(v)
			} else {
				c.Bulk(s)
			}
			n--
		}
	}
}

// listAt is the list at r, which must hold one (typeOf(r) == typeList).
func (s *Shard) listAt(r kv.Ref) *listObj { return s.db.Obj(r).(*listObj) }

// insertList files a new, empty list at key (absent) and returns it.
func (s *Shard) insertList(key []byte) (*listObj, kv.Ref) {
	l := s.newListObj()
	r := s.db.InsertObject(key, l, makeMeta(typeList, encQuicklist, s.newClock), kv.NoExpire)
	s.notifyNew(key)
	return l, r
}
