package engine

import (
	"shoal/engine/internal/kv"
	"shoal/engine/internal/listpack"
	"shoal/resp"
)

// The list family: pushes and pops at both ends (LPUSH ... RPOP, with
// counts), LMPOP, LMOVE and RPOPLPUSH, index and range access (LLEN,
// LINDEX, LRANGE, LSET), and the searches that edit in the middle
// (LINSERT, LREM, LTRIM, LPOS), and the blocking pops (BLPOP, BRPOP,
// BLMPOP, BLMOVE, BRPOPLPUSH; the waiting itself is in blocking.go), with
// Redis 7.0's semantics, replies and errors (t_list.c).
//
// Every list is a quicklist (listobj.go), OBJECT ENCODING "quicklist", as
// in Redis 7.0. Arguments are parsed first, with Redis's order of checks
// (an option error wins over WRONGTYPE where Redis parses first); then
// the keyspace work (the list* methods of Shard) runs; the Cmd functions
// write the replies. A key never holds an empty list: commands that
// remove the last element delete the key.
//
// Costs are those of Redis's quicklist: O(1) at the ends, O(nodes) to
// reach an index (each node holds up to list-max-listpack-size), O(N) for
// the scans. Nothing allocates in proportion to a count argument: counts
// are capped by the list's length before anything is sized.

// Errors only this family replies.
const (
	errIndexRange     = "ERR index out of range"
	errElementTooBig  = "ERR Element too large"
	errRankZero       = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errCountNegative  = "ERR COUNT can't be negative"
	errMaxlenNegative = "ERR MAXLEN can't be negative"
	errNumkeys        = "ERR numkeys should be greater than 0"
	errCountPositive  = "ERR count should be greater than 0"
)

// listMaxItemSize is the largest element Redis takes into a list
// (LIST_MAX_ITEM_SIZE).
const listMaxItemSize = 1<<32 - 1024

func init() {
	register(
		&Command{Name: "lpush", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Prepend one or multiple elements to a list",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Keys:       []KeySpec{{Flags: "RW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.4.0", "Accepts multiple `element` arguments."}},
			Syntax:     "key element...",
			Proc:       lpushCmd,
		},
		&Command{Name: "rpush", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Append one or multiple elements to a list",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Keys:       []KeySpec{{Flags: "RW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.4.0", "Accepts multiple `element` arguments."}},
			Syntax:     "key element...",
			Proc:       rpushCmd,
		},
		&Command{Name: "lpushx", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@list",
			Group: "list", Since: "2.2.0",
			Summary:    "Prepend an element to a list, only if the list exists",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Keys:       []KeySpec{{Flags: "RW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"4.0.0", "Accepts multiple `element` arguments."}},
			Syntax:     "key element...",
			Proc:       lpushxCmd,
		},
		&Command{Name: "rpushx", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@list",
			Group: "list", Since: "2.2.0",
			Summary:    "Append an element to a list, only if the list exists",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Keys:       []KeySpec{{Flags: "RW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"4.0.0", "Accepts multiple `element` arguments."}},
			Syntax:     "key element...",
			Proc:       rpushxCmd,
		},
		&Command{Name: "lpop", Arity: -2,
			Flags: FlagWrite | FlagFast,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Remove and get the first elements in a list",
			Complexity: "O(N) where N is the number of elements returned",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"6.2.0", "Added the `count` argument."}},
			Syntax:     "key [count:integer@6.2.0]",
			Proc:       lpopCmd,
		},
		&Command{Name: "rpop", Arity: -2,
			Flags: FlagWrite | FlagFast,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Remove and get the last elements in a list",
			Complexity: "O(N) where N is the number of elements returned",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"6.2.0", "Added the `count` argument."}},
			Syntax:     "key [count:integer@6.2.0]",
			Proc:       rpopCmd,
		},
		&Command{Name: "llen", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Get the length of a list",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       llenCmd,
		},
		&Command{Name: "lrange", Arity: 4,
			Flags: FlagReadonly,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Get a range of elements from a list",
			Complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key start:integer stop:integer",
			Proc:       lrangeCmd,
		},
		&Command{Name: "lindex", Arity: 3,
			Flags: FlagReadonly,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Get an element from a list by its index",
			Complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key index:integer",
			Proc:       lindexCmd,
		},
		&Command{Name: "lset", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Set the value of an element in a list by its index",
			Complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key index:integer element",
			Proc:       lsetCmd,
		},
		&Command{Name: "linsert", Arity: 5,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@list",
			Group: "list", Since: "2.2.0",
			Summary:    "Insert an element before or after another element in a list",
			Complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
			Keys:       []KeySpec{{Flags: "RW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key where:(BEFORE | AFTER) pivot element",
			Proc:       linsertCmd,
		},
		&Command{Name: "lrem", Arity: 4,
			Flags: FlagWrite,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Remove elements from a list",
			Complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
			Keys:       []KeySpec{{Flags: "RW DELETE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key count:integer element",
			Proc:       lremCmd,
		},
		&Command{Name: "ltrim", Arity: 4,
			Flags: FlagWrite,
			ACL:   "@list",
			Group: "list", Since: "1.0.0",
			Summary:    "Trim a list to the specified range",
			Complexity: "O(N) where N is the number of elements to be removed by the operation.",
			Keys:       []KeySpec{{Flags: "RW DELETE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key start:integer stop:integer",
			Proc:       ltrimCmd,
		},
		&Command{Name: "lpos", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@list",
			Group: "list", Since: "6.0.6",
			Summary:    "Return the index of matching elements on a list",
			Complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]",
			Proc:       lposCmd,
		},
		&Command{Name: "lmove", Arity: 5,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@list",
			Group: "list", Since: "6.2.0",
			Summary:    "Pop an element from a list, push it to another list and return it",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RW INSERT", Begin: 2, LastKey: 0, Step: 1}},
			Syntax:     "source:key destination:key wherefrom:(LEFT | RIGHT) whereto:(LEFT | RIGHT)",
			Proc:       lmoveCmd,
		},
		&Command{Name: "rpoplpush", Arity: 3,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@list",
			Group: "list", Since: "1.2.0",
			Summary:    "Remove the last element in a list, prepend it to another list and return it",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RW INSERT", Begin: 2, LastKey: 0, Step: 1}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`LMOVE` with the `RIGHT` and `LEFT` arguments",
			Syntax:     "source:key destination:key",
			Proc:       rpoplpushCmd,
		},
		&Command{Name: "lmpop", Arity: -4,
			Flags: FlagWrite,
			ACL:   "@list",
			Group: "list", Since: "7.0.0",
			Summary:    "Pop elements from a list",
			Complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "numkeys:integer key... where:(LEFT | RIGHT) [COUNT count:integer]",
			Proc:       lmpopCmd,
		},
		&Command{Name: "blpop", Arity: -3,
			Flags: FlagWrite | FlagNoScript | FlagBlocking,
			ACL:   "@list",
			Group: "list", Since: "2.0.0",
			Summary:    "Remove and get the first element in a list, or block until one is available",
			Complexity: "O(N) where N is the number of provided keys.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: -2, Step: 1}},
			History:    [][2]string{{"6.0.0", "`timeout` is interpreted as a double instead of an integer."}},
			Syntax:     "key... timeout:double",
			Proc:       blpopCmd,
		},
		&Command{Name: "brpop", Arity: -3,
			Flags: FlagWrite | FlagNoScript | FlagBlocking,
			ACL:   "@list",
			Group: "list", Since: "2.0.0",
			Summary:    "Remove and get the last element in a list, or block until one is available",
			Complexity: "O(N) where N is the number of provided keys.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: -2, Step: 1}},
			History:    [][2]string{{"6.0.0", "`timeout` is interpreted as a double instead of an integer."}},
			Syntax:     "key... timeout:double",
			Proc:       brpopCmd,
		},
		&Command{Name: "blmove", Arity: 6,
			Flags: FlagWrite | FlagDenyOOM | FlagNoScript | FlagBlocking,
			ACL:   "@list",
			Group: "list", Since: "6.2.0",
			Summary:    "Pop an element from a list, push it to another list and return it; or block until one is available",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RW INSERT", Begin: 2, LastKey: 0, Step: 1}},
			Syntax:     "source:key destination:key wherefrom:(LEFT | RIGHT) whereto:(LEFT | RIGHT) timeout:double",
			Proc:       blmoveCmd,
		},
		&Command{Name: "brpoplpush", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM | FlagNoScript | FlagBlocking,
			ACL:   "@list",
			Group: "list", Since: "2.2.0",
			Summary:    "Pop an element from a list, push it to another list and return it; or block until one is available",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RW INSERT", Begin: 2, LastKey: 0, Step: 1}},
			History:    [][2]string{{"6.0.0", "`timeout` is interpreted as a double instead of an integer."}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`BLMOVE` with the `RIGHT` and `LEFT` arguments",
			Syntax:     "source:key destination:key timeout:double",
			Proc:       brpoplpushCmd,
		},
		&Command{Name: "blmpop", Arity: -5,
			Flags: FlagWrite | FlagBlocking,
			ACL:   "@list",
			Group: "list", Since: "7.0.0",
			Summary:    "Pop elements from a list, or block until one is available",
			Complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 2, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "timeout:double numkeys:integer key... where:(LEFT | RIGHT) [COUNT count:integer]",
			Proc:       blmpopCmd,
		},
	)
}

// lookupList finds key for a list command: for reading (hits and misses
// counted) or for writing. It replies WRONGTYPE for another type (ok
// false); l is nil when the key is absent.
func (s *Shard) lookupList(c *Client, key []byte, read bool) (l *listObj, r kv.Ref, ok bool) {
	if r, ok = s.lookupTyped(c, key, typeList, read); r == kv.Nil {
		return nil, kv.Nil, ok
	}
	return s.listAt(r), r, true
}

// deleteIfEmpty deletes the key at r when its list l has no element left.
func (s *Shard) deleteIfEmpty(l *listObj, r kv.Ref) {
	if l.Len() == 0 {
		s.notifyRef(notifyGeneric, "del", r)
		s.db.Delete(r)
	}
}

// parseWhere reads LEFT or RIGHT (any case): head is true for LEFT.
func parseWhere(b []byte) (head, ok bool) {
	switch {
	case eqFold(b, "left"):
		return true, true
	case eqFold(b, "right"):
		return false, true
	}
	return false, false
}

// replyValue writes one list element as a bulk string.
func replyValue(c *Client, v listpack.Value) {
	if v.IsInt {
		c.BulkInt(v.Int)
	} else {
		c.Bulk(v.Str)
	}
}

// setDeferredArrayLen puts an array header for n elements at mark, before
// the elements already written after it (Redis's setDeferredArrayLen),
// for replies whose length is known only at the end. O(reply bytes).
func setDeferredArrayLen(c *Client, mark, n int) {
	var buf [24]byte
	h := resp.AppendArrayLen(buf[:0], n)
	end := len(c.Out)
	c.Out = append(c.Out, h...)
	copy(c.Out[mark+len(h):], c.Out[mark:end])
	copy(c.Out[mark:], h)
}

// ---- pushes -----------------------------------------------------------

// LPUSH/RPUSH/LPUSHX/RPUSHX key element...: the list's new length; the X
// forms answer 0 and create nothing when the key is absent. O(1) per
// element.
func pushGeneric(s *Shard, c *Client, argv [][]byte, head, xx bool) {
	for _, e := range argv[2:] {
		if len(e) > listMaxItemSize {
			c.Error(errElementTooBig)
			return
		}
	}
	l, _, ok := s.lookupList(c, argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		if xx {
			c.Int(0)
			return
		}
		l, _ = s.insertList(argv[1])
	}
	s.listPush(l, argv[2:], head)
	s.notify(notifyList, pushEvent(head), argv[1])
	c.Int(int64(l.Len()))
}

// listPush adds elems one by one at the head or the tail, as LPUSH a b c
// leaves c first. O(len(elems)).
func (s *Shard) listPush(l *listObj, elems [][]byte, head bool) {
	for _, e := range elems {
		if head {
			l.PushHead(e)
		} else {
			l.PushTail(e)
		}
	}
	s.dirty += int64(len(elems))
}

func lpushCmd(s *Shard, c *Client, argv [][]byte)  { pushGeneric(s, c, argv, true, false) }
func rpushCmd(s *Shard, c *Client, argv [][]byte)  { pushGeneric(s, c, argv, false, false) }
func lpushxCmd(s *Shard, c *Client, argv [][]byte) { pushGeneric(s, c, argv, true, true) }
func rpushxCmd(s *Shard, c *Client, argv [][]byte) { pushGeneric(s, c, argv, false, true) }

// ---- pops -------------------------------------------------------------

// LPOP/RPOP key [count]: without count the element popped (null when the
// key is absent); with count an array of up to count elements in popping
// order (a null array when the key is absent, an empty one for count 0).
// O(count).
func popGeneric(s *Shard, c *Client, argv [][]byte, head bool) {
	if len(argv) > 3 {
		c.Error(errWrongArgs(c.lastCmd.FullName))
		return
	}
	hasCount := len(argv) == 3
	var count int64
	if hasCount {
		n, ok := parseInt(argv[2])
		if !ok || n < 0 { // Redis says so for a non-integer too
			c.Error(errNotPositive)
			return
		}
		count = n
	}
	l, r, ok := s.lookupList(c, argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		if hasCount {
			c.NullArray()
		} else {
			c.Null()
		}
		return
	}
	if !hasCount {
		s.listPopReply(c, l, head, 1, false)
	} else if count == 0 {
		c.EmptyArray()
		return
	} else {
		s.listPopReply(c, l, head, count, true)
	}
	s.notify(notifyList, popEvent(head), argv[1])
	s.deleteIfEmpty(l, r)
}

// listPopReply pops up to count elements (at least one is there) from the
// head or the tail, writing them as bulk strings, in an array when array
// is set, in the order they were popped. O(count).
func (s *Shard) listPopReply(c *Client, l *listObj, head bool, count int64, array bool) {
	n := int(min(count, int64(l.Len())))
	if array {
		c.ArrayLen(n)
	}
	start := 0
	if !head {
		start = -1
	}
	it := l.Iter(start, head)
	for i := 0; i < n; i++ {
		v, _ := it.Next()
		replyValue(c, v)
	}
	if head {
		l.DeleteRange(0, n)
	} else {
		l.DeleteRange(-n, n)
	}
	s.dirty++
}

func lpopCmd(s *Shard, c *Client, argv [][]byte) { popGeneric(s, c, argv, true) }
func rpopCmd(s *Shard, c *Client, argv [][]byte) { popGeneric(s, c, argv, false) }

// parseMpop reads the arguments of LMPOP (numkeys at argv[1]) and BLMPOP
// (at argv[2]): the keys are argv[first:last+1]. It replies the error
// itself (ok false).
func parseMpop(c *Client, argv [][]byte, numkeysIdx int) (first, last int, head bool, count int64, ok bool) {
	numkeys, ok := parseInt(argv[numkeysIdx])
	if !ok || numkeys < 1 {
		c.Error(errNumkeys)
		return 0, 0, false, 0, false
	}
	whereIdx := int64(numkeysIdx) + 1 + numkeys
	if whereIdx >= int64(len(argv)) || whereIdx < 0 {
		c.Error(errSyntax)
		return 0, 0, false, 0, false
	}
	head, ok = parseWhere(argv[whereIdx])
	if !ok {
		c.Error(errSyntax)
		return 0, 0, false, 0, false
	}
	if count, ok = parseMPopCount(c, argv, int(whereIdx)+1); !ok {
		return 0, 0, false, 0, false
	}
	return numkeysIdx + 1, int(whereIdx) - 1, head, count, true
}

// parseMPopCount reads the [COUNT count] that ends LMPOP, BLMPOP, ZMPOP
// and BZMPOP from argv[from:]: at most once, positive, default 1. On an
// error it replies Redis's and returns false.
func parseMPopCount(c *Client, argv [][]byte, from int) (int64, bool) {
	count := int64(-1)
	for j := from; j < len(argv); j++ {
		if count == -1 && eqFold(argv[j], "count") && j+1 < len(argv) {
			j++
			n, ok := parseInt(argv[j])
			if !ok || n < 1 {
				c.Error(errCountPositive)
				return 0, false
			}
			count = n
			continue
		}
		c.Error(errSyntax)
		return 0, false
	}
	if count == -1 {
		count = 1
	}
	return count, true
}

// mpopFirst pops from the first of keys holding a list and replies
// [key, [elements...]] with up to count elements, or [key, element] when
// count is 0 (BLPOP, BRPOP). served is false when no key holds a list (no
// reply written) and on WRONGTYPE (replied, ok false). While a blocked
// client is served, only the ready key is looked at.
func (s *Shard) mpopFirst(c *Client, keys [][]byte, head bool, count int64) (served, ok bool) {
	for _, key := range keys {
		if s.retrySkips(key) {
			continue
		}
		l, r, ok := s.lookupList(c, key, false)
		if !ok {
			return false, false
		}
		if l == nil {
			continue
		}
		c.ArrayLen(2)
		c.Bulk(key)
		if s.prop.on {
			// BLPOP and BRPOP record the pop of one element, LMPOP and
			// BLMPOP the pop of their count.
			if count > 0 {
				s.propagateCount(popName(head), key, min(count, int64(l.Len())))
			} else {
				s.propagateAs([]byte(popName(head)), key)
			}
		}
		s.listPopReply(c, l, head, max(count, 1), count > 0)
		s.notify(notifyList, popEvent(head), key)
		s.deleteIfEmpty(l, r)
		return true, true
	}
	return false, true
}

// LMPOP numkeys key... LEFT|RIGHT [COUNT count]: from the first key
// holding a list, [key, [elements...]] with up to count elements (1 by
// default); a null array when every key is absent. O(numkeys + count).
func lmpopCmd(s *Shard, c *Client, argv [][]byte) {
	first, last, head, count, ok := parseMpop(c, argv, 1)
	if !ok {
		return
	}
	if served, ok := s.mpopFirst(c, argv[first:last+1], head, count); ok && !served {
		c.NullArray()
	}
}

// ---- blocking pops (blocking.go has the machinery) --------------------

// BLPOP/BRPOP key... timeout: [key, element] from the first key holding
// a list; else the client blocks until one of the keys gets elements
// (then served from that key) or the timeout (seconds, fractional; 0 for
// ever) passes: a null array. O(keys).
func bpopGeneric(s *Shard, c *Client, argv [][]byte, head bool) {
	deadline, ok := s.parseBlockTimeout(c, argv[len(argv)-1])
	if !ok {
		return
	}
	if served, ok := s.mpopFirst(c, argv[1:len(argv)-1], head, 0); !ok || served {
		return
	}
	s.blockClient(c, argv, 1, len(argv)-2, deadline)
}

func blpopCmd(s *Shard, c *Client, argv [][]byte) { bpopGeneric(s, c, argv, true) }
func brpopCmd(s *Shard, c *Client, argv [][]byte) { bpopGeneric(s, c, argv, false) }

// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT count]: LMPOP that
// blocks as BLPOP does when no key holds a list. O(numkeys + count).
func blmpopCmd(s *Shard, c *Client, argv [][]byte) {
	first, last, head, count, ok := parseMpop(c, argv, 2)
	if !ok {
		return
	}
	deadline, ok := s.parseBlockTimeout(c, argv[1])
	if !ok {
		return
	}
	if served, ok := s.mpopFirst(c, argv[first:last+1], head, count); !ok || served {
		return
	}
	s.blockClient(c, argv, first, last, deadline)
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout: LMOVE, or
// when source is absent, block on it (destination is checked when the
// element moves). BRPOPLPUSH is BLMOVE ... RIGHT LEFT. O(1).
func blmoveCmd(s *Shard, c *Client, argv [][]byte) {
	from, ok1 := parseWhere(argv[3])
	to, ok2 := parseWhere(argv[4])
	if !ok1 || !ok2 {
		c.Error(errSyntax)
		return
	}
	s.blmoveGeneric(c, argv, from, to, 5)
}

func brpoplpushCmd(s *Shard, c *Client, argv [][]byte) { s.blmoveGeneric(c, argv, false, true, 3) }

func (s *Shard) blmoveGeneric(c *Client, argv [][]byte, from, to bool, timeoutIdx int) {
	deadline, ok := s.parseBlockTimeout(c, argv[timeoutIdx])
	if !ok {
		return
	}
	l, _, ok := s.lookupList(c, argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		s.blockClient(c, argv, 1, 1, deadline)
		return
	}
	mark := s.dirty
	s.lmoveGeneric(c, argv[1], argv[2], from, to)
	if s.prop.on && s.dirty != mark {
		// Recorded as the move it made: LMOVE, or RPOPLPUSH for BRPOPLPUSH.
		if timeoutIdx == 3 {
			s.propagateAs([]byte("RPOPLPUSH"), argv[1], argv[2])
		} else {
			s.propagateAs([]byte("LMOVE"), argv[1], argv[2], argv[3], argv[4])
		}
	}
}

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT: the element moved, null
// when source is absent. RPOPLPUSH is LMOVE ... RIGHT LEFT. O(1).
func lmoveCmd(s *Shard, c *Client, argv [][]byte) {
	from, ok1 := parseWhere(argv[3])
	to, ok2 := parseWhere(argv[4])
	if !ok1 || !ok2 {
		c.Error(errSyntax)
		return
	}
	s.lmoveGeneric(c, argv[1], argv[2], from, to)
}

func rpoplpushCmd(s *Shard, c *Client, argv [][]byte) {
	s.lmoveGeneric(c, argv[1], argv[2], false, true)
}

// lmoveGeneric pops from src (at its head if fromHead) and pushes onto dst
// (at its head if toHead), creating dst, and replies the element. src and
// dst may be the same key: the element rotates.
func (s *Shard) lmoveGeneric(c *Client, src, dst []byte, fromHead, toHead bool) {
	sl, sr, ok := s.lookupList(c, src, false)
	if !ok {
		return
	}
	if sl == nil {
		c.Null()
		return
	}
	dl, _, ok := s.lookupList(c, dst, false)
	if !ok {
		return
	}
	start := 0
	if !fromHead {
		start = -1
	}
	it := sl.Iter(start, fromHead)
	v, _ := it.Next()
	// The element aliases src's node: copy it before either list changes
	// (they may be one list).
	var buf [64]byte
	elem := v.AppendTo(buf[:0])
	if fromHead {
		sl.DeleteRange(0, 1)
	} else {
		sl.DeleteRange(-1, 1)
	}
	if dl == nil { // dst is another key: src's Ref stays valid
		dl, _ = s.insertList(dst)
	}
	if toHead {
		dl.PushHead(elem)
	} else {
		dl.PushTail(elem)
	}
	s.dirty += 2
	c.Bulk(elem)
	s.notify(notifyList, pushEvent(toHead), dst)
	s.notify(notifyList, popEvent(fromHead), src)
	s.deleteIfEmpty(sl, sr)
}

// ---- reads ------------------------------------------------------------

// LLEN key: the length, 0 when absent. O(1).
func llenCmd(s *Shard, c *Client, argv [][]byte) {
	l, _, ok := s.lookupList(c, argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		c.Int(0)
		return
	}
	c.Int(int64(l.Len()))
}

// normRange turns LRANGE/LTRIM's start and stop (negative counting from
// the tail) into a first index and a count within a list of n elements,
// as Redis clamps them; count 0 for an empty range.
func normRange(start, stop int64, n int) (first, count int) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= ln {
		return 0, 0
	}
	if stop >= ln {
		stop = ln - 1
	}
	return int(start), int(stop - start + 1)
}

// LRANGE key start stop: the elements from start to stop inclusive.
// O(S+N): S to reach start (nodes, then entries in a node), N returned.
func lrangeCmd(s *Shard, c *Client, argv [][]byte) {
	start, ok1 := parseInt(argv[2])
	stop, ok2 := parseInt(argv[3])
	if !ok1 || !ok2 {
		c.Error(errNotInt)
		return
	}
	l, _, ok := s.lookupList(c, argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		c.EmptyArray()
		return
	}
	first, n := normRange(start, stop, l.Len())
	c.ArrayLen(n)
	l.replyRange(c, first, n)
}

// LINDEX key index: the element at index (negative from the tail), null
// out of range. O(N) to reach it, N the nodes plus entries of one node.
func lindexCmd(s *Shard, c *Client, argv [][]byte) {
	l, _, ok := s.lookupList(c, argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		c.Null()
		return
	}
	i, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if i < -int64(l.Len()) || i >= int64(l.Len()) {
		c.Null()
		return
	}
	v, _ := l.Index(int(i))
	replyValue(c, v)
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]: the
// index of the rank-th match (from the tail for a negative rank), null
// when none; with COUNT an array of up to num-matches indexes (0: all),
// looking at no more than len elements (0: all). O(N).
func lposCmd(s *Shard, c *Client, argv [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(argv); j++ {
		more := j+1 < len(argv)
		switch {
		case eqFold(argv[j], "rank") && more:
			j++
			n, ok := parseInt(argv[j])
			if !ok {
				c.Error(errNotInt)
				return
			}
			if n == 0 {
				c.Error(errRankZero)
				return
			}
			rank = n
		case eqFold(argv[j], "count") && more:
			j++
			n, ok := parseInt(argv[j])
			if !ok || n < 0 {
				c.Error(errCountNegative)
				return
			}
			count = n
		case eqFold(argv[j], "maxlen") && more:
			j++
			n, ok := parseInt(argv[j])
			if !ok || n < 0 {
				c.Error(errMaxlenNegative)
				return
			}
			maxlen = n
		default:
			c.Error(errSyntax)
			return
		}
	}
	fromHead := true
	if rank < 0 {
		// -MinInt64 stays negative, as in Redis: every match then
		// qualifies.
		rank = -rank
		fromHead = false
	}
	l, _, ok := s.lookupList(c, argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		if count != -1 {
			c.EmptyArray()
		} else {
			c.Null()
		}
		return
	}
	elem := argv[2]
	eInt, eIsInt := listpack.ParseInt(elem)
	llen := int64(l.Len())
	mark := len(c.Out)
	start := 0
	if !fromHead {
		start = -1
	}
	it := l.Iter(start, fromHead)
	var index, matches, found int64 = 0, 0, -1
	var replied int
	for maxlen == 0 || index < maxlen {
		v, ok := it.Next()
		if !ok {
			break
		}
		if v.IsInt && eIsInt && v.Int == eInt || !v.IsInt && string(v.Str) == string(elem) {
			matches++
			at := index
			if !fromHead {
				at = llen - index - 1
			}
			if matches >= rank {
				if count == -1 {
					found = at
					break
				}
				replied++
				c.Int(at)
				if count != 0 && matches-rank+1 >= count {
					break
				}
			}
		}
		index++
	}
	switch {
	case count != -1:
		setDeferredArrayLen(c, mark, replied)
	case found >= 0:
		c.Int(found)
	default:
		c.Null()
	}
}

// ---- edits ------------------------------------------------------------

// LSET key index element: OK, or Redis's errors for an absent key or an
// index out of range. O(N) to reach the index.
func lsetCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv[3]) > listMaxItemSize {
		c.Error(errElementTooBig)
		return
	}
	l, _, ok := s.lookupList(c, argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		c.Error(errNoSuchKey)
		return
	}
	i, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if i < -int64(l.Len()) || i >= int64(l.Len()) || !l.Replace(int(i), argv[3]) {
		c.Error(errIndexRange)
		return
	}
	s.dirty++
	s.notify(notifyList, "lset", argv[1])
	c.OK()
}

// LINSERT key BEFORE|AFTER pivot element: the new length, -1 when pivot
// is not found, 0 when the key is absent. O(N) to find the pivot.
func linsertCmd(s *Shard, c *Client, argv [][]byte) {
	var after bool
	switch {
	case eqFold(argv[2], "after"):
		after = true
	case eqFold(argv[2], "before"):
	default:
		c.Error(errSyntax)
		return
	}
	if len(argv[4]) > listMaxItemSize {
		c.Error(errElementTooBig)
		return
	}
	l, _, ok := s.lookupList(c, argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		c.Int(0)
		return
	}
	pivot := argv[3]
	it := l.Iter(0, true)
	for {
		v, ok := it.Next()
		if !ok {
			c.Int(-1)
			return
		}
		if v.Equal(pivot) {
			it.Insert(argv[4], after)
			s.dirty++
			s.notify(notifyList, "linsert", argv[1])
			c.Int(int64(l.Len()))
			return
		}
	}
}

// LREM key count element: how many were removed: the first count
// matches from the head (count > 0), from the tail (count < 0), or all
// (0). O(N).
func lremCmd(s *Shard, c *Client, argv [][]byte) {
	toRemove, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	l, r, ok := s.lookupList(c, argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		c.Int(0)
		return
	}
	fromHead, start := true, 0
	if toRemove < 0 {
		// -MinInt64 stays negative and is never reached: all go, as in
		// Redis.
		toRemove = -toRemove
		fromHead, start = false, -1
	}
	elem := argv[3]
	var removed int64
	it := l.Iter(start, fromHead)
	for {
		v, ok := it.Next()
		if !ok {
			break
		}
		if v.Equal(elem) {
			it.Delete()
			removed++
			if toRemove != 0 && removed == toRemove {
				break
			}
		}
	}
	it.Done()
	s.dirty += removed
	if removed > 0 {
		s.notify(notifyList, "lrem", argv[1])
	}
	s.deleteIfEmpty(l, r)
	c.Int(removed)
}

// LTRIM key start stop: OK, keeping only the elements from start to stop
// inclusive (deleting the key when none is left). O(N) in the elements
// removed, whole nodes at a time.
func ltrimCmd(s *Shard, c *Client, argv [][]byte) {
	start, ok1 := parseInt(argv[2])
	stop, ok2 := parseInt(argv[3])
	if !ok1 || !ok2 {
		c.Error(errNotInt)
		return
	}
	l, r, ok := s.lookupList(c, argv[1], false)
	if !ok {
		return
	}
	if l == nil {
		c.OK()
		return
	}
	n := l.Len()
	first, keep := normRange(start, stop, n)
	if tail := n - first - keep; tail > 0 {
		l.DeleteRange(-tail, tail)
	}
	if first > 0 && keep > 0 {
		l.DeleteRange(0, first)
	} else if keep == 0 {
		l.Clear()
	}
	s.dirty += int64(n - l.Len())
	s.notify(notifyList, "ltrim", argv[1])
	s.deleteIfEmpty(l, r)
	c.OK()
}
