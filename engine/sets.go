package engine

import (
	"math"
	"slices"
	"strconv"

	"shoal/engine/internal/dict"
	"shoal/engine/internal/kv"
	"shoal/resp"
)

// The set family: SADD, SREM, membership, cardinality, random members
// (SPOP, SRANDMEMBER), SMOVE, the set algebra (SINTER, SUNION, SDIFF, their
// *STORE forms and SINTERCARD) and SSCAN, with Redis 7.0's semantics,
// replies and errors (t_set.c). The value type and its encodings are in
// setobj.go.
//
// Each command's comment states its cost. Random choices (SPOP,
// SRANDMEMBER) follow Redis's strategies, so a count close to the set's
// size costs O(size) and never loops on retries; results built anew (the
// *STORE commands, SUNION and SDIFF replies, what SPOP keeps) are built as
// Redis builds them, starting as an intset, so their encodings and, where
// Redis's order is deterministic (intsets), their order match Redis's.

// Errors only this family replies.
const (
	errSetNumkeys     = "ERR numkeys should be greater than 0"
	errSetNumkeysArgs = "ERR Number of keys can't be greater than number of args"
	errSetLimit       = "ERR LIMIT can't be negative"
	errSetRandCount   = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)

// Redis's thresholds (t_set.c): the strategies of SPOP and SRANDMEMBER
// with a count, and the cap it puts on set-max-intset-entries.
const (
	spopMoveStrategyMul       = 5 // SPOP count: rebuild the rest when it is under count/5
	srandmemberSubStrategyMul = 3 // SRANDMEMBER count: copy and subtract when count > size/3
	maxIntsetCap              = 1 << 30
)

func init() {
	register(
		&Command{Name: "sadd", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Add one or more members to a set",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Keys:       []KeySpec{{Flags: "RW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.4.0", "Accepts multiple `member` arguments."}},
			Syntax:     "key member...",
			Proc:       saddCmd,
		},
		&Command{Name: "srem", Arity: -3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Remove one or more members from a set",
			Complexity: "O(N) where N is the number of members to be removed.",
			Keys:       []KeySpec{{Flags: "RW DELETE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.4.0", "Accepts multiple `member` arguments."}},
			Syntax:     "key member...",
			Proc:       sremCmd,
		},
		&Command{Name: "smembers", Arity: 2,
			Flags: FlagReadonly,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Get all the members in a set",
			Complexity: "O(N) where N is the set cardinality.",
			Tips:       []string{"nondeterministic_output_order"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       smembersCmd,
		},
		&Command{Name: "sismember", Arity: 3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Determine if a given value is a member of a set",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key member",
			Proc:       sismemberCmd,
		},
		&Command{Name: "smismember", Arity: -3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@set",
			Group: "set", Since: "6.2.0",
			Summary:    "Returns the membership associated with the given elements for a set",
			Complexity: "O(N) where N is the number of elements being checked for membership",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key member...",
			Proc:       smismemberCmd,
		},
		&Command{Name: "scard", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Get the number of members in a set",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       scardCmd,
		},
		&Command{Name: "spop", Arity: -2,
			Flags: FlagWrite | FlagFast,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Remove and return one or multiple random members from a set",
			Complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"3.2.0", "Added the `count` argument."}},
			Syntax:     "key [count:integer@3.2.0]",
			Proc:       spopCmd,
		},
		&Command{Name: "srandmember", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Get one or multiple random members from a set",
			Complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.6.0", "Added the optional `count` argument."}},
			Syntax:     "key [count:integer@2.6.0]",
			Proc:       srandmemberCmd,
		},
		&Command{Name: "smove", Arity: 4,
			Flags: FlagWrite | FlagFast,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Move a member from one set to another",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RW INSERT", Begin: 2, LastKey: 0, Step: 1}},
			Syntax:     "source:key destination:key member",
			Proc:       smoveCmd,
		},
		&Command{Name: "sinter", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Intersect multiple sets",
			Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
			Tips:       []string{"nondeterministic_output_order"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "key...",
			Proc:       sinterCmd,
		},
		&Command{Name: "sintercard", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@set",
			Group: "set", Since: "7.0.0",
			Summary:    "Intersect multiple sets and return the cardinality of the result",
			Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "numkeys:integer key... [LIMIT limit:integer]",
			Proc:       sintercardCmd,
		},
		&Command{Name: "sinterstore", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Intersect multiple sets and store the resulting set in a key",
			Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 2, LastKey: -1, Step: 1}},
			Syntax:     "destination:key key...",
			Proc:       sinterstoreCmd,
		},
		&Command{Name: "sunion", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Add multiple sets",
			Complexity: "O(N) where N is the total number of elements in all given sets.",
			Tips:       []string{"nondeterministic_output_order"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "key...",
			Proc:       sunionCmd,
		},
		&Command{Name: "sunionstore", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Add multiple sets and store the resulting set in a key",
			Complexity: "O(N) where N is the total number of elements in all given sets.",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 2, LastKey: -1, Step: 1}},
			Syntax:     "destination:key key...",
			Proc:       sunionstoreCmd,
		},
		&Command{Name: "sdiff", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Subtract multiple sets",
			Complexity: "O(N) where N is the total number of elements in all given sets.",
			Tips:       []string{"nondeterministic_output_order"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "key...",
			Proc:       sdiffCmd,
		},
		&Command{Name: "sdiffstore", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@set",
			Group: "set", Since: "1.0.0",
			Summary:    "Subtract multiple sets and store the resulting set in a key",
			Complexity: "O(N) where N is the total number of elements in all given sets.",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 2, LastKey: -1, Step: 1}},
			Syntax:     "destination:key key...",
			Proc:       sdiffstoreCmd,
		},
		&Command{Name: "sscan", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@set",
			Group: "set", Since: "2.8.0",
			Summary:    "Incrementally iterate Set elements",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
			Proc:       sscanCmd,
		},
	)
}

// setMaxInts is the most members an intset may hold:
// set-max-intset-entries, capped at 2^30 as Redis caps it.
func (s *Shard) setMaxInts() int { return min(s.Config.SetMaxIntsetEntries, maxIntsetCap) }

// replySetElem writes one member as a bulk string.
func replySetElem(c *Client, e *setElem) {
	if e.isInt {
		c.BulkInt(e.v)
	} else {
		c.Bulk(e.m)
	}
}

// replySet writes every member of so as a set reply (an array in RESP2).
// O(n).
func replySet(c *Client, so *setObj) {
	c.SetLen(so.size())
	so.each(func(e setElem) bool {
		replySetElem(c, &e)
		return true
	})
}

// insertSetLen is insertArrayLen for a set reply: the header is "~n" in
// RESP3 (Redis's setDeferredSetLen).
func insertSetLen(c *Client, start, n int) {
	var hb [24]byte
	h := resp.AppendSetLen(hb[:0], n, c.Resp3)
	end := len(c.Out)
	c.Out = append(c.Out, h...)
	copy(c.Out[start+len(h):], c.Out[start:end])
	copy(c.Out[start:], h)
}

// lookupSet finds the set at key, for a reading command (read: lazy expiry,
// keyspace hits and misses counted) or a writing one. so is nil when key
// is absent; ok is false after a WRONGTYPE reply.
func (s *Shard) lookupSet(c *Client, key []byte, read bool) (so *setObj, r kv.Ref, ok bool) {
	if r, ok = s.lookupTyped(c, key, typeSet, read); r == kv.Nil {
		return nil, kv.Nil, ok
	}
	return s.setAt(r), r, true
}

// SADD key member [member ...]: the number of members added. A new key
// starts as an intset when its first member is an integer. O(1) per
// member for a hashtable; O(n) per member for an intset (its elements
// move; n is at most set-max-intset-entries), plus O(n) for a conversion.
func saddCmd(s *Shard, c *Client, argv [][]byte) {
	so, r, ok := s.lookupSet(c, argv[1], false)
	if !ok {
		return
	}
	if so == nil {
		so = newSetFor(argv[2])
		r = s.db.InsertObject(argv[1], so, makeMeta(typeSet, so.enc(), s.newClock), kv.NoExpire)
		s.notifyNew(argv[1])
	}
	added := s.setAdd(r, so, argv[2:])
	if added > 0 {
		s.notify(notifySet, "sadd", argv[1])
	}
	c.Int(added)
}

// setAdd adds members to so, the set at r, and returns how many were new.
func (s *Shard) setAdd(r kv.Ref, so *setObj, members [][]byte) int64 {
	maxInts := s.setMaxInts()
	var added int64
	for _, m := range members {
		if so.add(m, maxInts) {
			added++
		}
	}
	s.syncSetEnc(r, so)
	s.dirty += added
	return added
}

// SREM key member [member ...]: the number of members removed; the key
// goes with its last member. O(1) per member for a hashtable, O(n) for an
// intset.
func sremCmd(s *Shard, c *Client, argv [][]byte) {
	so, r, ok := s.lookupSet(c, argv[1], false)
	if !ok {
		return
	}
	if so == nil {
		c.Int(0)
		return
	}
	n := s.setRemove(r, so, argv[2:])
	if n > 0 {
		s.notify(notifySet, "srem", argv[1])
		if so.size() == 0 {
			s.notify(notifyGeneric, "del", argv[1])
		}
	}
	c.Int(n)
}

// setRemove removes members from so, the set at r, deleting the key when
// it empties, and returns how many were removed.
func (s *Shard) setRemove(r kv.Ref, so *setObj, members [][]byte) int64 {
	var n int64
	for _, m := range members {
		if so.remove(m) {
			n++
			if so.size() == 0 {
				s.db.Delete(r)
				break
			}
		}
	}
	s.dirty += n
	return n
}

// SMOVE source destination member: 1 when member was in source (and is
// now in destination, created if missing), else 0. A missing source
// answers 0 before any type check of destination, as in Redis. O(1) for
// hashtables, O(n) for intsets.
func smoveCmd(s *Shard, c *Client, argv [][]byte) {
	rs, rd := s.lookup(argv[1]), s.lookup(argv[2])
	if rs == kv.Nil {
		c.Int(0)
		return
	}
	if s.typeOf(rs) != typeSet || rd != kv.Nil && s.typeOf(rd) != typeSet {
		c.Error(errWrongType)
		return
	}
	if s.setMove(rs, rd, argv[2], argv[3]) {
		c.Int(1)
	} else {
		c.Int(0)
	}
}

// setMove moves m from the set at rs to the set at rd (kv.Nil: a new set
// at key dst) and reports whether m was in the source. With rs == rd it
// only reports membership.
func (s *Shard) setMove(rs, rd kv.Ref, dst, m []byte) bool {
	src := s.setAt(rs)
	if rs == rd {
		return src.has(m)
	}
	if !src.remove(m) {
		return false
	}
	s.notifyRef(notifySet, "srem", rs)
	if src.size() == 0 {
		s.notifyRef(notifyGeneric, "del", rs)
		s.db.Delete(rs)
	}
	var to *setObj
	if rd == kv.Nil {
		to = newSetFor(m)
		rd = s.db.InsertObject(dst, to, makeMeta(typeSet, to.enc(), s.newClock), kv.NoExpire)
		s.notifyNew(dst)
	} else {
		to = s.setAt(rd)
	}
	s.dirty++
	if !to.add(m, s.setMaxInts()) {
		s.watch.unchanged = dst // for WATCH: dst is as it was (multi.go)
	} else {
		s.syncSetEnc(rd, to)
		s.dirty++
		s.notify(notifySet, "sadd", dst)
	}
	return true
}

// SISMEMBER key member: 1 or 0. O(1) for a hashtable, O(log n) for an
// intset.
func sismemberCmd(s *Shard, c *Client, argv [][]byte) {
	so, _, ok := s.lookupSet(c, argv[1], true)
	if !ok {
		return
	}
	if so != nil && so.has(argv[2]) {
		c.Int(1)
	} else {
		c.Int(0)
	}
}

// SMISMEMBER key member [member ...]: 1 or 0 for each member; a missing
// key is an empty set. O(1) (hashtable) or O(log n) (intset) per member.
func smismemberCmd(s *Shard, c *Client, argv [][]byte) {
	so, _, ok := s.lookupSet(c, argv[1], true)
	if !ok {
		return
	}
	c.ArrayLen(len(argv) - 2)
	for _, m := range argv[2:] {
		if so != nil && so.has(m) {
			c.Int(1)
		} else {
			c.Int(0)
		}
	}
}

// SCARD key: the number of members. O(1).
func scardCmd(s *Shard, c *Client, argv [][]byte) {
	so, _, ok := s.lookupSet(c, argv[1], true)
	if !ok {
		return
	}
	if so == nil {
		c.Int(0)
		return
	}
	c.Int(int64(so.size()))
}

// SMEMBERS key: every member, as a set reply (empty for a missing key).
// O(n).
func smembersCmd(s *Shard, c *Client, argv [][]byte) {
	so, _, ok := s.lookupSet(c, argv[1], true)
	if !ok {
		return
	}
	if so == nil {
		c.SetLen(0)
		return
	}
	replySet(c, so)
}

// SPOP key [count]: without count, a random member removed (null for a
// missing key), O(1) for a hashtable and O(n) for an intset.
func spopCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) == 3 {
		spopCountCmd(s, c, argv)
		return
	}
	if len(argv) > 3 {
		c.Error(errSyntax)
		return
	}
	so, r, ok := s.lookupSet(c, argv[1], false)
	if !ok {
		return
	}
	if so == nil {
		c.Null()
		return
	}
	var e setElem
	i := so.random(s.rand64(), &e)
	// The reply goes first: a hashtable member aliases the set until the
	// member is deleted.
	replySetElem(c, &e)
	if s.prop.on {
		var nb [20]byte
		s.propagateAs([]byte("SREM"), argv[1], e.bytes(nb[:]))
	}
	so.removeRandom(i, &e)
	s.notify(notifySet, "spop", argv[1])
	if so.size() == 0 {
		s.db.Delete(r)
		s.notify(notifyGeneric, "del", argv[1])
	}
	s.dirty++
}

// SPOP key count: up to count random members removed, as a set reply,
// with Redis's three strategies: count at least the size takes the whole
// set (and deletes the key); a few members are popped one at a time; when
// fewer than count/5 would stay, those are picked into a new set that
// replaces the old one, and the old one is the reply (so what stays may
// become an intset again, as in Redis). O(count) with a hashtable (plus
// O(n) per member popped from an intset), O(n) when the whole set goes.
func spopCountCmd(s *Shard, c *Client, argv [][]byte) {
	count, ok := parseInt(argv[2])
	if !ok || count < 0 {
		c.Error(errNotPositive)
		return
	}
	so, r, ok := s.lookupSet(c, argv[1], false)
	if !ok {
		return
	}
	if so == nil || count == 0 {
		c.SetLen(0)
		return
	}
	size := int64(so.size())
	if count >= size {
		// Redis answers with SUNION of the key, a set built anew.
		s.Stats.KeyspaceHits++
		replySet(c, s.setUnion([]*setObj{so}))
		s.db.Delete(r)
		s.dirty += size
		s.notify(notifySet, "spop", argv[1])
		s.notify(notifyGeneric, "del", argv[1])
		s.propagateDel(argv[1])
		return
	}
	var rec sremRecorder
	if s.prop.on {
		rec.start(argv[1])
	}
	s.dirty += count
	s.notify(notifySet, "spop", argv[1])
	c.SetLen(int(count))
	remaining := size - count
	if remaining*spopMoveStrategyMul > count {
		var e setElem
		for range count {
			i := so.random(s.rand64(), &e)
			replySetElem(c, &e)
			rec.add(s, &e)
			so.removeRandom(i, &e)
		}
		rec.flush(s)
		return
	}
	kept := s.setMoveRandom(so, int(remaining))
	so.each(func(e setElem) bool {
		replySetElem(c, &e)
		rec.add(s, &e)
		return true
	})
	rec.flush(s)
	s.db.SetObject(r, kept)
	s.syncSetEnc(r, kept)
}

// setMoveRandom moves n random members (n < size) of so into a new set,
// made as Redis's setTypeCreate makes one for the first of them, and
// returns it. O(n) for a hashtable, O(n*size) for an intset.
func (s *Shard) setMoveRandom(so *setObj, n int) *setObj {
	var kept *setObj
	var e setElem
	var nb [20]byte
	maxInts := s.setMaxInts()
	for range n {
		i := so.random(s.rand64(), &e)
		if kept == nil {
			kept = newSetFor(e.bytes(nb[:]))
		}
		kept.addElem(&e, maxInts)
		so.removeRandom(i, &e)
	}
	return kept
}

// SRANDMEMBER key [count]: without count, a random member (null for a
// missing key). O(1).
func srandmemberCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) == 3 {
		srandmemberCountCmd(s, c, argv)
		return
	}
	if len(argv) > 3 {
		c.Error(errSyntax)
		return
	}
	so, _, ok := s.lookupSet(c, argv[1], true)
	if !ok {
		return
	}
	if so == nil {
		c.Null()
		return
	}
	var e setElem
	so.random(s.rand64(), &e)
	replySetElem(c, &e)
}

// SRANDMEMBER key count: an array of random members. A negative count
// asks for -count members that may repeat, O(-count), as Redis serves it
// whatever its size. A positive count asks for distinct members: the
// whole set when count is at least its size, O(n); a random subset of
// the set's members when count is over a third of the size, O(n); else
// random picks into a temporary set until count are distinct, O(count)
// expected.
func srandmemberCountCmd(s *Shard, c *Client, argv [][]byte) {
	l, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if l == math.MinInt64 {
		c.Error(errSetRandCount)
		return
	}
	so, _, ok := s.lookupSet(c, argv[1], true)
	if !ok {
		return
	}
	if so == nil || l == 0 {
		c.EmptyArray()
		return
	}
	count, uniq := l, true
	if l < 0 {
		count, uniq = -l, false
	}
	size := int64(so.size())
	var e setElem
	switch {
	case !uniq || count == 1:
		c.ArrayLen(int(count))
		for range count {
			so.random(s.rand64(), &e)
			replySetElem(c, &e)
		}
	case count >= size:
		replyArrayOfSet(c, so)
	case count*srandmemberSubStrategyMul > size:
		// Members of a hashtable alias it: nothing changes it meanwhile.
		all := make([]setElem, 0, size)
		so.each(func(e setElem) bool {
			all = append(all, e)
			return true
		})
		c.ArrayLen(int(count))
		for i := range int(count) {
			j := i + int(s.rand64()%uint64(len(all)-i))
			all[i], all[j] = all[j], all[i]
			replySetElem(c, &all[i])
		}
	default:
		picked := dict.NewSet(int(count))
		var nb [20]byte
		for int64(picked.Len()) < count {
			so.random(s.rand64(), &e)
			picked.Add(e.bytes(nb[:]), nil)
		}
		c.ArrayLen(int(count))
		for m := range picked.All() {
			c.Bulk(m)
		}
	}
}

// replyArrayOfSet writes every member of so as an array (SRANDMEMBER's
// reply is an array even in RESP3). O(n).
func replyArrayOfSet(c *Client, so *setObj) {
	c.ArrayLen(so.size())
	so.each(func(e setElem) bool {
		replySetElem(c, &e)
		return true
	})
}

// setOperands looks up the sets of an algebra command, in order, nil for a
// missing key, counting keyspace hits and misses. ok is false after a
// WRONGTYPE reply, given at the first key of another type as Redis gives
// it (missing keys before it do not stop the lookups).
func (s *Shard) setOperands(c *Client, keys [][]byte, buf []*setObj) (sets []*setObj, ok bool) {
	sets = buf[:0]
	for _, k := range keys {
		so, _, ok := s.lookupSet(c, k, true)
		if !ok {
			return nil, false
		}
		sets = append(sets, so)
	}
	return sets, true
}

// setInterEach calls fn with each member of the intersection of sets
// (none nil), until fn returns false. It sorts sets by size, walks the
// smallest and looks each member up in the others (skipping the smallest
// itself when a key is given twice), as Redis does: O(n*m) for the
// smallest set's n members and m sets.
func setInterEach(sets []*setObj, fn func(e setElem) bool) {
	slices.SortStableFunc(sets, func(a, b *setObj) int { return a.size() - b.size() })
	first := sets[0]
	first.each(func(e setElem) bool {
		for _, o := range sets[1:] {
			if o != first && !o.hasElem(&e) {
				return true
			}
		}
		return fn(e)
	})
}

// SINTER key [key ...]: the members common to every set, as a set reply;
// a missing key is an empty set, which empties the result. O(n*m), n the
// smallest set's size, m the number of keys.
func sinterCmd(s *Shard, c *Client, argv [][]byte) {
	var buf [8]*setObj
	sets, ok := s.setOperands(c, argv[1:], buf[:])
	if !ok {
		return
	}
	if slices.Contains(sets, nil) {
		c.SetLen(0)
		return
	}
	start, n := len(c.Out), 0
	setInterEach(sets, func(e setElem) bool {
		replySetElem(c, &e)
		n++
		return true
	})
	insertSetLen(c, start, n)
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]: the size of the
// intersection, counting stopped at limit (0: no limit). O(n*m), as
// SINTER, or less with a limit.
func sintercardCmd(s *Shard, c *Client, argv [][]byte) {
	numkeys, ok := parseInt(argv[1])
	if !ok || numkeys < 1 {
		c.Error(errSetNumkeys)
		return
	}
	if numkeys > int64(len(argv)-2) {
		c.Error(errSetNumkeysArgs)
		return
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(argv); j++ {
		if !eqFold(argv[j], "limit") || j+1 == len(argv) {
			c.Error(errSyntax)
			return
		}
		j++
		if limit, ok = parseInt(argv[j]); !ok || limit < 0 {
			c.Error(errSetLimit)
			return
		}
	}
	var buf [8]*setObj
	sets, ok := s.setOperands(c, argv[2:2+numkeys], buf[:])
	if !ok {
		return
	}
	var n int64
	if !slices.Contains(sets, nil) {
		setInterEach(sets, func(setElem) bool {
			n++
			return limit == 0 || n < limit
		})
	}
	c.Int(n)
}

// SINTERSTORE destination key [key ...]: stores the intersection at
// destination, replacing any value of any type and its time to live, or
// deletes destination when the intersection is empty; replies its size.
// O(n*m), as SINTER.
func sinterstoreCmd(s *Shard, c *Client, argv [][]byte) {
	var buf [8]*setObj
	sets, ok := s.setOperands(c, argv[2:], buf[:])
	if !ok {
		return
	}
	res := &setObj{}
	if !slices.Contains(sets, nil) {
		maxInts := s.setMaxInts()
		setInterEach(sets, func(e setElem) bool {
			res.addElem(&e, maxInts)
			return true
		})
	}
	c.Int(s.setStoreResult(argv[1], res, "sinterstore"))
}

// setStoreResult stores res at dst, or deletes dst when res is empty, and
// returns res's size; event is the command's keyspace event.
func (s *Shard) setStoreResult(dst []byte, res *setObj, event string) int64 {
	n := res.size()
	if n == 0 {
		if s.deleteKey(dst) {
			s.notify(notifyGeneric, "del", dst)
		}
		return 0
	}
	s.storeSet(dst, res)
	s.notify(notifySet, event, dst)
	return int64(n)
}

// setUnion returns the union of sets (nil ones are empty), built as Redis
// builds it: an intset converting as members come. O(total members).
func (s *Shard) setUnion(sets []*setObj) *setObj {
	res := &setObj{}
	maxInts := s.setMaxInts()
	for _, so := range sets {
		if so == nil {
			continue
		}
		so.each(func(e setElem) bool {
			res.addElem(&e, maxInts)
			return true
		})
	}
	return res
}

// setDiff returns the members of sets[0] that are in none of the others
// (nil ones are empty). As Redis, it picks between walking sets[0] and
// looking each member up in the others (O(n0*m), taken when n0*m/2 is at
// most the total size; sets[1:] are then sorted largest first) and
// copying sets[0] and removing every member of the others (O(total)); the
// choice decides the result's encoding, as it does in Redis. A key given
// again after the first empties the result at once.
func (s *Shard) setDiff(sets []*setObj) *setObj {
	res := &setObj{}
	first := sets[0]
	if first == nil || slices.Contains(sets[1:], first) {
		return res
	}
	work1, work2 := 0, 0
	for _, o := range sets {
		if o != nil {
			work1 += first.size()
			work2 += o.size()
		}
	}
	maxInts := s.setMaxInts()
	if work1/2 <= work2 {
		slices.SortStableFunc(sets[1:], func(a, b *setObj) int { return setSizeOrZero(b) - setSizeOrZero(a) })
		first.each(func(e setElem) bool {
			for _, o := range sets[1:] {
				if o != nil && o.hasElem(&e) {
					return true
				}
			}
			res.addElem(&e, maxInts)
			return true
		})
		return res
	}
	first.each(func(e setElem) bool {
		res.addElem(&e, maxInts)
		return true
	})
	for _, o := range sets[1:] {
		if o == nil {
			continue
		}
		o.each(func(e setElem) bool {
			res.removeElem(&e)
			return res.size() > 0
		})
		if res.size() == 0 {
			break
		}
	}
	return res
}

func setSizeOrZero(so *setObj) int {
	if so == nil {
		return 0
	}
	return so.size()
}

// SUNION key [key ...]: every member of any set, as a set reply. O(total
// members).
func sunionCmd(s *Shard, c *Client, argv [][]byte) {
	var buf [8]*setObj
	if sets, ok := s.setOperands(c, argv[1:], buf[:]); ok {
		replySet(c, s.setUnion(sets))
	}
}

// SUNIONSTORE destination key [key ...]: stores the union as SINTERSTORE
// stores the intersection. O(total members).
func sunionstoreCmd(s *Shard, c *Client, argv [][]byte) {
	var buf [8]*setObj
	if sets, ok := s.setOperands(c, argv[2:], buf[:]); ok {
		c.Int(s.setStoreResult(argv[1], s.setUnion(sets), "sunionstore"))
	}
}

// SDIFF key [key ...]: the members of the first set in none of the
// others, as a set reply. O(total members) at most (see setDiff).
func sdiffCmd(s *Shard, c *Client, argv [][]byte) {
	var buf [8]*setObj
	if sets, ok := s.setOperands(c, argv[1:], buf[:]); ok {
		replySet(c, s.setDiff(sets))
	}
}

// SDIFFSTORE destination key [key ...]: stores the difference as
// SINTERSTORE stores the intersection. O(total members) at most.
func sdiffstoreCmd(s *Shard, c *Client, argv [][]byte) {
	var buf [8]*setObj
	if sets, ok := s.setOperands(c, argv[2:], buf[:]); ok {
		c.Int(s.setStoreResult(argv[1], s.setDiff(sets), "sdiffstore"))
	}
}

// sscanStackKeys is how many members an SSCAN call collects before its
// buffer moves to the heap.
const sscanStackKeys = 64

// SSCAN key cursor [MATCH pattern] [COUNT count], as Redis's
// scanGenericCommand on a set: the cursor is checked first, then the key
// (a missing key answers an empty scan without looking at the options).
// An intset is returned whole with cursor 0, whatever the cursor; a
// hashtable is scanned from cursor until COUNT members were collected or
// 10*COUNT buckets visited, with the guarantees of a dict scan; MATCH
// filters what was collected. O(COUNT) per call (O(n) for an intset).
func sscanCmd(s *Shard, c *Client, argv [][]byte) {
	cursor, ok := parseScanCursor(argv[2])
	if !ok {
		c.Error(errInvalidCursor)
		return
	}
	so, _, ok := s.lookupSet(c, argv[1], true)
	if !ok {
		return
	}
	if so == nil {
		c.ArrayLen(2)
		c.BulkInt(0)
		c.EmptyArray()
		return
	}
	opts, ok := parseScanOpts(c, argv, 3, false)
	if !ok {
		return
	}
	count, pat, usePat := opts.count, opts.pat, opts.usePat

	c.ArrayLen(2)
	if so.d == nil {
		c.BulkInt(0)
		start, n := len(c.Out), 0
		var nb [20]byte
		for i := range so.ints.Len() {
			v := so.ints.Get(i)
			if usePat && !globMatch(pat, strconv.AppendInt(nb[:0], v, 10), false) {
				continue
			}
			c.BulkInt(v)
			n++
		}
		insertArrayLen(c, start, n)
		return
	}
	var keyBuf [sscanStackKeys][]byte
	keys := keyBuf[:0]
	// The members alias the dict, which nothing changes before the reply
	// is written.
	next := so.d.Scan(cursor, int(min(count, math.MaxInt32)), func(k, _ []byte) { keys = append(keys, k) })
	c.BulkInt(int64(next))
	kept := 0
	for _, k := range keys {
		if !usePat || globMatch(pat, k, false) {
			keys[kept] = k
			kept++
		}
	}
	c.ArrayLen(kept)
	for _, k := range keys[:kept] {
		c.Bulk(k)
	}
}
