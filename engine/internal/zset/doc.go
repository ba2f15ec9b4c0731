// Package zset is the sorted set of large zsets: a skiplist ordered by
// (score, member) with rank spans, plus a member index, the structure Redis
// uses once a zset outgrows its listpack (more than zset-max-listpack-entries
// elements, or a member longer than zset-max-listpack-value bytes).
//
// # Order and semantics
//
// Elements are ordered by score (float64, never NaN: callers reject NaN
// before calling), then by member bytes in memcmp order, as Redis orders
// them. Ranks are 0-based in ascending order unless a method says
// otherwise. Score ranges (Range) and lex ranges (LexRange) follow Redis's
// zrangespec and zlexrangespec: inclusive or exclusive bounds, ±inf, and
// for lex ranges "-" and "+". Lex ranges are meaningful only when all
// elements have the same score; like Redis, the set does not check that.
//
// # Shape
//
// Nothing in a Set is a Go pointer per element. Nodes are 40-byte structs
// in segments of a few thousand, named by uint32 ids (Ref);
// the skiplist levels above level 0 are pooled uint32 arrays (tower.go);
// member bytes live in pointer-free pages (arena.go); the member index is a
// chained hash table whose buckets are uint32 arrays and whose chains run
// through the nodes (dict.go). The GC sees one pointer per segment or page.
//
// Deleted nodes and levels go to free lists and are reused; when the set
// has shrunk to half of its node segments, deletes move the nodes of the
// last segment down, a few per call, and release it (nodes.go). Member
// pages are compacted when half of a page is dead, so a delete-heavy
// workload stays within about twice its live member bytes. The index grows
// and shrinks incrementally, as Redis's dict does: every insert and delete
// moves a bounded number of buckets, so no single call rehashes the whole
// set. Tidy is the idle-time hook that finishes such upkeep.
//
// # Files
//
// zset.go the Set, its nodes and the per-member API; skiplist.go the
// skiplist walks, ranks and links; nodes.go node allocation and giving
// node segments back; tower.go the levels above level 0; arena.go member
// pages; dict.go the member index; ranges.go score and lex ranges; iter.go
// iterators; scan.go the ZSCAN cursor.
//
// # Costs
//
// Every method states its cost. n is Len(); m is the number of elements a
// call returns or removes; "O(1)" is expected constant time, "O(log n)"
// expected (skiplist) time. Methods that may allocate say so; lookups,
// ranks, range searches and iteration never allocate.
//
// # Ownership
//
// A Set is owned by one goroutine (the shard's loop) and is not safe for
// concurrent use. Member slices returned by any method alias the set's
// pages: they stay valid and unchanged until the next call that modifies
// the set (Insert, Add, Update, Delete, DeleteRef, DeleteRange,
// DeleteLex, DeleteRanks, PopMin, PopMax); the caller copies what it keeps
// longer and never writes through them. Member slices passed in are copied before the
// call returns (the caller may reuse them at once, and they may alias the
// set's own memory). An Iter is invalidated by any modification of the set.
//
// A Ref names one element until the next call that deletes an element
// (any element: deletes may move others to give memory back, see Ref) or
// Tidy; inserts and Update keep Refs. Passing a stale Ref is a bug in the caller that the set does not always
// detect (builds with the invariants or race tag check and panic).
package zset
