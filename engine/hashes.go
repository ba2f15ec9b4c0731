package engine

import (
	"cmp"
	"math"
	"math/big"
	"slices"
	"strconv"

	"shoal/engine/internal/dict"
	"shoal/engine/internal/kv"
	"shoal/engine/internal/listpack"
	"shoal/resp"
)

// The hash family: HSET, HGET and the rest of Redis 7.0's t_hash.c, with
// its replies, errors and encodings. The value is a hashObj (hashobj.go):
// a listpack while small, a dict.Dict once a field or value is longer than
// hash-max-listpack-value or the hash has more than
// hash-max-listpack-entries fields.
//
// Costs: the per-field operations are O(1) on a hashtable and O(n) on a
// listpack, whose n is bounded by hash-max-listpack-entries (Redis's
// trade, made for the same reason: a small listpack scan is as fast as a
// hash lookup and far smaller). Each command's comment gives its cost.

// Errors only this family replies.
const (
	errHashNotInt      = "ERR hash value is not an integer"
	errHashNotFloat    = "ERR hash value is not a float"
	errIncrNaNOrInf    = "ERR value is NaN or Infinity"
	errRandCountRange  = "ERR value is out of range"
	errRandCountBounds = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)

func init() {
	register(
		&Command{Name: "hset", Arity: -4,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Set the string value of a hash field",
			Complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"4.0.0", "Accepts multiple `field` and `value` arguments."}},
			Syntax:     "key (field value)...",
			Proc:       hsetCmd,
		},
		&Command{Name: "hsetnx", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Set the value of a hash field, only if the field does not exist",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key field value",
			Proc:       hsetnxCmd,
		},
		&Command{Name: "hget", Arity: 3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Get the value of a hash field",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key field",
			Proc:       hgetCmd,
		},
		&Command{Name: "hmget", Arity: -3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Get the values of all the given hash fields",
			Complexity: "O(N) where N is the number of fields being requested.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key field...",
			Proc:       hmgetCmd,
		},
		&Command{Name: "hmset", Arity: -4,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Set multiple hash fields to multiple values",
			Complexity: "O(N) where N is the number of fields being set.",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "4.0.0",
			ReplacedBy: "`HSET` with multiple field-value pairs",
			Syntax:     "key (field value)...",
			Proc:       hmsetCmd,
		},
		&Command{Name: "hdel", Arity: -3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Delete one or more hash fields",
			Complexity: "O(N) where N is the number of fields to be removed.",
			Keys:       []KeySpec{{Flags: "RW DELETE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.4.0", "Accepts multiple `field` arguments."}},
			Syntax:     "key field...",
			Proc:       hdelCmd,
		},
		&Command{Name: "hlen", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Get the number of fields in a hash",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       hlenCmd,
		},
		&Command{Name: "hstrlen", Arity: 3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "3.2.0",
			Summary:    "Get the length of the value of a hash field",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key field",
			Proc:       hstrlenCmd,
		},
		&Command{Name: "hexists", Arity: 3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Determine if a hash field exists",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key field",
			Proc:       hexistsCmd,
		},
		&Command{Name: "hkeys", Arity: 2,
			Flags: FlagReadonly,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Get all the fields in a hash",
			Complexity: "O(N) where N is the size of the hash.",
			Tips:       []string{"nondeterministic_output_order"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       hkeysCmd,
		},
		&Command{Name: "hvals", Arity: 2,
			Flags: FlagReadonly,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Get all the values in a hash",
			Complexity: "O(N) where N is the size of the hash.",
			Tips:       []string{"nondeterministic_output_order"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       hvalsCmd,
		},
		&Command{Name: "hgetall", Arity: 2,
			Flags: FlagReadonly,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Get all the fields and values in a hash",
			Complexity: "O(N) where N is the size of the hash.",
			Tips:       []string{"nondeterministic_output_order"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       hgetallCmd,
		},
		&Command{Name: "hincrby", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.0.0",
			Summary:    "Increment the integer value of a hash field by the given number",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key field increment:integer",
			Proc:       hincrbyCmd,
		},
		&Command{Name: "hincrbyfloat", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@hash",
			Group: "hash", Since: "2.6.0",
			Summary:    "Increment the float value of a hash field by the given amount",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key field increment:double",
			Proc:       hincrbyfloatCmd,
		},
		&Command{Name: "hrandfield", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@hash",
			Group: "hash", Since: "6.2.0",
			Summary:    "Get one or multiple random fields from a hash",
			Complexity: "O(N) where N is the number of fields returned",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key options:[count:integer [WITHVALUES]]",
			Proc:       hrandfieldCmd,
		},
		&Command{Name: "hscan", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@hash",
			Group: "hash", Since: "2.8.0",
			Summary:    "Incrementally iterate hash fields and associated values",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
			Proc:       hscanCmd,
		},
	)
}

// ---- lookups ------------------------------------------------------------

// hashAt is the hash at r, a key of type hash.
func (s *Shard) hashAt(r kv.Ref) *hashObj { return s.db.Obj(r).(*hashObj) }

// lookupHashRead finds key for a reading command (keyspace hits and misses
// counted): h is nil when the key is absent; ok is false after a
// WRONGTYPE reply.
func (s *Shard) lookupHashRead(c *Client, key []byte) (h *hashObj, ok bool) {
	r, ok := s.lookupTyped(c, key, typeHash, true)
	if r == kv.Nil {
		return nil, ok
	}
	return s.hashAt(r), true
}

// lookupHashWrite finds key for a writing command (no hit or miss counted,
// as Redis's lookupKeyWrite): r is kv.Nil and h nil when absent; ok is
// false after a WRONGTYPE reply.
func (s *Shard) lookupHashWrite(c *Client, key []byte) (r kv.Ref, h *hashObj, ok bool) {
	if r, ok = s.lookupTyped(c, key, typeHash, false); r == kv.Nil {
		return kv.Nil, nil, ok
	}
	return r, s.hashAt(r), true
}

// newHash stores an empty listpack hash at key, which must be absent. The
// caller adds a field at once: a key never holds an empty hash. O(1);
// allocates the object.
func (s *Shard) newHash(key []byte) (kv.Ref, *hashObj) {
	h := newHashObj()
	r := s.db.InsertObject(key, h, makeMeta(typeHash, encListpack, s.newClock), kv.NoExpire)
	s.notifyNew(key)
	return r, h
}

// syncHashEnc records h's encoding in the Meta of its key r after a write
// that may have converted it. O(1).
func (s *Shard) syncHashEnc(r kv.Ref, h *hashObj) {
	m := s.db.Meta(r)
	if enc := h.encoding(); metaEnc(m) != enc {
		s.db.SetMeta(r, makeMeta(typeHash, enc, metaLRU(m)))
	}
}

// hashSet sets field to val in h as Redis's hashTypeSet: a listpack takes
// a field or value longer than hash-max-listpack-value only by becoming a
// hashtable first (the HINCRBY* case; HSET converts earlier, in
// convertFor), and becomes one after the write when it has more than
// hash-max-listpack-entries fields. It reports whether the field is new.
// The caller calls syncHashEnc. O(1) / O(n).
func (s *Shard) hashSet(h *hashObj, field, val []byte) bool {
	maxv := s.Config.HashMaxListpackValue
	if h.d == nil && (hashTooLong(len(field), maxv) || hashTooLong(len(val), maxv)) {
		h.convert()
	}
	return h.set(field, val, s.Config.HashMaxListpackEntries)
}

// replyHashValue writes one field or value as a bulk string.
func replyHashValue(c *Client, v listpack.Value) {
	if v.IsInt {
		c.BulkInt(v.Int)
	} else {
		c.Bulk(v.Str)
	}
}

// ---- writes -------------------------------------------------------------

// HSET key field value [field value ...]: the number of fields created.
// HMSET: the same, replying OK. O(1) per pair on a hashtable, O(n) per
// pair on a listpack.
func hsetCmd(s *Shard, c *Client, argv [][]byte)  { hsetGeneric(s, c, argv, "hset") }
func hmsetCmd(s *Shard, c *Client, argv [][]byte) { hsetGeneric(s, c, argv, "hmset") }

func hsetGeneric(s *Shard, c *Client, argv [][]byte, name string) {
	if len(argv)%2 == 1 {
		c.Error(errWrongArgs(name))
		return
	}
	key := argv[1]
	r, h, ok := s.lookupHashWrite(c, key)
	if !ok {
		return
	}
	if h == nil {
		r, h = s.newHash(key)
	}
	h.convertFor(argv[2:], s.Config.HashMaxListpackValue)
	created := int64(0)
	for j := 2; j < len(argv); j += 2 {
		if s.hashSet(h, argv[j], argv[j+1]) {
			created++
		}
	}
	s.syncHashEnc(r, h)
	s.dirty += int64(len(argv)-2) / 2
	s.notify(notifyHash, "hset", key)
	if name == "hmset" {
		c.OK()
	} else {
		c.Int(created)
	}
}

// HSETNX key field value: 1 if the field was set, 0 if it was there. The
// lengths only convert a listpack when the field is written, as in Redis.
// O(1) / O(n).
func hsetnxCmd(s *Shard, c *Client, argv [][]byte) {
	key, field := argv[1], argv[2]
	r, h, ok := s.lookupHashWrite(c, key)
	if !ok {
		return
	}
	if h != nil && h.exists(field) {
		c.Int(0)
		return
	}
	if h == nil {
		r, h = s.newHash(key)
	}
	h.convertFor(argv[2:4], s.Config.HashMaxListpackValue)
	s.hashSet(h, field, argv[3])
	s.syncHashEnc(r, h)
	s.dirty++
	s.notify(notifyHash, "hset", key)
	c.Int(1)
}

// HDEL key field [field ...]: the number of fields removed. The key goes
// with its last field. O(1) per field on a hashtable, O(n) per field on a
// listpack.
func hdelCmd(s *Shard, c *Client, argv [][]byte) {
	r, h, ok := s.lookupHashWrite(c, argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.Int(0)
		return
	}
	deleted := int64(0)
	removed := false
	for _, f := range argv[2:] {
		if !h.del(f) {
			continue
		}
		deleted++
		if h.len() == 0 {
			s.db.Delete(r)
			removed = true
			break
		}
	}
	s.dirty += deleted
	if deleted > 0 {
		s.notify(notifyHash, "hdel", argv[1])
		if removed {
			s.notify(notifyGeneric, "del", argv[1])
		}
	}
	c.Int(deleted)
}

// HINCRBY key field increment: the new value of the field (0 when absent)
// plus increment. O(1) / O(n).
func hincrbyCmd(s *Shard, c *Client, argv [][]byte) {
	incr, ok := parseInt(argv[3])
	if !ok {
		c.Error(errNotInt)
		return
	}
	key, field := argv[1], argv[2]
	r, h, ok := s.lookupHashWrite(c, key)
	if !ok {
		return
	}
	var cur int64
	vp := -1 // the value's position when the field is in a listpack
	if h != nil {
		var v listpack.Value
		found := false
		if h.d == nil {
			if _, p, ok := h.lpFind(field); ok {
				vp, v, found = p, h.lp.Value(p), true
			}
		} else {
			v.Str, found = h.d.Get(field)
		}
		if found {
			if v.IsInt {
				cur = v.Int
			} else if cur, ok = parseInt(v.Str); !ok {
				c.Error(errHashNotInt)
				return
			}
		}
	}
	if incr < 0 && cur < 0 && incr < math.MinInt64-cur || incr > 0 && cur > 0 && incr > math.MaxInt64-cur {
		c.Error(errOverflow)
		return
	}
	cur += incr
	var buf [20]byte
	val := strconv.AppendInt(buf[:0], cur, 10)
	maxv := s.Config.HashMaxListpackValue
	if vp >= 0 && !hashTooLong(len(field), maxv) && !hashTooLong(len(val), maxv) {
		// The field is in the listpack and stays there: replace its value
		// where it was found rather than walking the listpack again.
		h.lp.ReplaceInt(vp, cur)
	} else {
		if h == nil {
			r, h = s.newHash(key)
		}
		s.hashSet(h, field, val)
		s.syncHashEnc(r, h)
	}
	s.dirty++
	s.notify(notifyHash, "hincrby", key)
	c.Int(cur)
}

// HINCRBYFLOAT key field increment: the new value, computed in long
// double and printed as INCRBYFLOAT does (longdouble.go). An infinite
// increment is refused before the key is looked at. O(1) / O(n), plus the
// long double arithmetic (not a hot path: it allocates).
func hincrbyfloatCmd(s *Shard, c *Client, argv [][]byte) {
	incr := parseLongDouble(argv[3])
	if incr == nil {
		c.Error(errNotFloat)
		return
	}
	if incr.IsInf() {
		c.Error(errIncrNaNOrInf)
		return
	}
	key, field := argv[1], argv[2]
	r, h, ok := s.lookupHashWrite(c, key)
	if !ok {
		return
	}
	cur := new(big.Float)
	if h != nil {
		if v, found := h.get(field); found {
			if v.IsInt {
				cur.SetInt64(v.Int)
			} else if cur = parseLongDouble(v.Str); cur == nil {
				c.Error(errHashNotFloat)
				return
			}
		}
	}
	sum, ok := addLongDouble(cur, incr)
	if !ok {
		c.Error(errIncrFloatNaN)
		return
	}
	var buf [64]byte
	val := appendLongDoubleHuman(buf[:0], sum)
	if h == nil {
		r, h = s.newHash(key)
	}
	s.hashSet(h, field, val)
	s.syncHashEnc(r, h)
	s.dirty++
	s.notify(notifyHash, "hincrbyfloat", key)
	if s.prop.on {
		s.propagateAs([]byte("HSET"), key, field, val)
	}
	c.Bulk(val)
}

// ---- reads --------------------------------------------------------------

// HGET key field: the value, or null. O(1) / O(n).
func hgetCmd(s *Shard, c *Client, argv [][]byte) {
	h, ok := s.lookupHashRead(c, argv[1])
	if !ok {
		return
	}
	if h != nil {
		if v, found := h.get(argv[2]); found {
			replyHashValue(c, v)
			return
		}
	}
	c.Null()
}

// HMGET key field [field ...]: the values, null for missing fields (all
// null for a missing key). O(1) per field on a hashtable, O(n) per field
// on a listpack.
func hmgetCmd(s *Shard, c *Client, argv [][]byte) {
	h, ok := s.lookupHashRead(c, argv[1])
	if !ok {
		return
	}
	c.ArrayLen(len(argv) - 2)
	for _, f := range argv[2:] {
		if h != nil {
			if v, found := h.get(f); found {
				replyHashValue(c, v)
				continue
			}
		}
		c.Null()
	}
}

// HLEN key: the number of fields. O(1).
func hlenCmd(s *Shard, c *Client, argv [][]byte) {
	h, ok := s.lookupHashRead(c, argv[1])
	switch {
	case !ok:
	case h == nil:
		c.Int(0)
	default:
		c.Int(int64(h.len()))
	}
}

// HSTRLEN key field: the length of the value, 0 when absent. O(1) / O(n).
func hstrlenCmd(s *Shard, c *Client, argv [][]byte) {
	h, ok := s.lookupHashRead(c, argv[1])
	if !ok {
		return
	}
	n := 0
	if h != nil {
		if v, found := h.get(argv[2]); found {
			n = v.Len()
		}
	}
	c.Int(int64(n))
}

// HEXISTS key field: 1 or 0. O(1) / O(n).
func hexistsCmd(s *Shard, c *Client, argv [][]byte) {
	h, ok := s.lookupHashRead(c, argv[1])
	switch {
	case !ok:
	case h != nil && h.exists(argv[2]):
		c.Int(1)
	default:
		c.Int(0)
	}
}

// What HKEYS, HVALS and HGETALL reply of each field.
const (
	hashReplyFields = 1 << iota
	hashReplyValues
)

// HKEYS, HVALS, HGETALL key: the fields, the values, or both (a map in
// RESP3), in the hash's order. O(n).
func hkeysCmd(s *Shard, c *Client, argv [][]byte) { hgetallGeneric(s, c, argv, hashReplyFields) }
func hvalsCmd(s *Shard, c *Client, argv [][]byte) { hgetallGeneric(s, c, argv, hashReplyValues) }
func hgetallCmd(s *Shard, c *Client, argv [][]byte) {
	hgetallGeneric(s, c, argv, hashReplyFields|hashReplyValues)
}

func hgetallGeneric(s *Shard, c *Client, argv [][]byte, what int) {
	h, ok := s.lookupHashRead(c, argv[1])
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.len()
	}
	if what == hashReplyFields|hashReplyValues {
		c.MapLen(n)
	} else {
		c.ArrayLen(n)
	}
	if h == nil {
		return
	}
	h.each(func(f, v listpack.Value) bool {
		if what&hashReplyFields != 0 {
			replyHashValue(c, f)
		}
		if what&hashReplyValues != 0 {
			replyHashValue(c, v)
		}
		return true
	})
}

// ---- HRANDFIELD -----------------------------------------------------------

// Redis's HRANDFIELD tuning: listpack samples are drawn in batches of this
// many (HRANDFIELD_RANDOM_SAMPLE_LIMIT), and a distinct count above
// 1/hrandfieldSubStrategyMul of the hash is served by copying the hash and
// removing random fields rather than by drawing fields.
const (
	hrandfieldSampleLimit    = 1000
	hrandfieldSubStrategyMul = 3
)

// HRANDFIELD key [count [WITHVALUES]]: without count one random field (or
// null); with a positive count that many distinct fields (all of them when
// count is at least the size); with a negative count -count fields drawn
// independently, possibly repeated. WITHVALUES adds each value: after its
// field in RESP2, as [field, value] pairs in RESP3. O(1) for one field on
// a hashtable, O(n) on a listpack; O(count) (plus O(n) on a listpack or
// when count is close to the size) with a count. A count beyond
// LONG_MAX/2 with WITHVALUES is refused, as Redis refuses it (the reply's
// length would overflow).
func hrandfieldCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) >= 3 {
		hrandfieldCount(s, c, argv)
		return
	}
	h, ok := s.lookupHashRead(c, argv[1])
	switch {
	case !ok:
	case h == nil:
		c.Null()
	default:
		f, _ := h.random(s.rand64())
		replyHashValue(c, f)
	}
}

func hrandfieldCount(s *Shard, c *Client, argv [][]byte) {
	l, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if l == math.MinInt64 {
		c.Error(errRandCountBounds)
		return
	}
	if len(argv) > 4 || len(argv) == 4 && !eqFold(argv[3], "withvalues") {
		c.Error(errSyntax)
		return
	}
	withValues := len(argv) == 4
	if withValues && (l < -math.MaxInt64/2 || l > math.MaxInt64/2) {
		c.Error(errRandCountRange)
		return
	}
	h, ok := s.lookupHashRead(c, argv[1])
	if !ok {
		return
	}
	if h == nil || l == 0 {
		c.EmptyArray()
		return
	}
	count, uniq := l, true
	if l < 0 {
		count, uniq = -l, false
	}
	size := int64(h.len())
	pairs := withValues && c.Resp3 // each element a [field, value] array
	reply := func(f, v listpack.Value) {
		if pairs {
			c.ArrayLen(2)
		}
		replyHashValue(c, f)
		if withValues {
			replyHashValue(c, v)
		}
	}
	header := func(n int64) {
		if withValues && !c.Resp3 {
			n *= 2
		}
		c.ArrayLen(int(n))
	}

	switch {
	case !uniq || count == 1:
		// Independent draws, in random order.
		header(count)
		if h.d != nil {
			for ; count > 0; count-- {
				f, v, _ := h.d.Random(s.rand64())
				reply(listpack.Value{Str: f}, listpack.Value{Str: v})
			}
			return
		}
		for count > 0 {
			n := min(count, hrandfieldSampleLimit)
			count -= n
			s.hashRandomPairs(h, int(n), reply)
		}
	case count >= size:
		// The whole hash.
		header(size)
		h.each(func(f, v listpack.Value) bool { reply(f, v); return true })
	case h.d == nil:
		// Distinct fields of a listpack: one pass of selection sampling,
		// so they come in the listpack's order.
		header(count)
		left, avail := count, size
		for p, ok := h.lp.First(); ok && left > 0; avail-- {
			vp, _ := h.lp.Next(p)
			if int64(s.rand64()%uint64(avail)) < left {
				reply(h.lp.Value(p), h.lp.Value(vp))
				left--
			}
			p, ok = h.lp.Next(vp)
		}
	case count*hrandfieldSubStrategyMul > size:
		// Most of the fields: copy them and remove random ones until
		// count are left. O(n).
		picked := dict.NewSet(int(size))
		for f := range h.d.All() {
			picked.Add(f, nil)
		}
		for int64(picked.Len()) > count {
			f, _, _ := picked.Random(s.rand64())
			picked.Delete(f)
		}
		header(count)
		for f := range picked.All() {
			v, _ := h.d.Get(f)
			reply(listpack.Value{Str: f}, listpack.Value{Str: v})
		}
	default:
		// Few of the fields: draw until count distinct ones were seen.
		// Expected O(count): each draw is new with probability > 2/3.
		picked := dict.NewSet(int(count))
		header(count)
		for int64(picked.Len()) < count {
			f, v, _ := h.d.Random(s.rand64())
			if picked.Add(f, nil) {
				reply(listpack.Value{Str: f}, listpack.Value{Str: v})
			}
		}
	}
}

// hashRandomPairs replies n (at most hrandfieldSampleLimit) fields of the
// listpack hash h drawn independently, as Redis's lpRandomPairs: draw the
// pair indexes, sort them, find them all in one walk, and reply them in
// the order drawn. O(size + n log n).
func (s *Shard) hashRandomPairs(h *hashObj, n int, reply func(f, v listpack.Value)) {
	type pick struct{ idx, order int32 }
	var picks [hrandfieldSampleLimit]pick
	var pos [hrandfieldSampleLimit]int
	total := uint64(h.lp.Len() / 2)
	for i := range n {
		picks[i] = pick{int32(s.rand64() % total), int32(i)}
	}
	slices.SortFunc(picks[:n], func(a, b pick) int { return cmp.Compare(a.idx, b.idx) })
	p, _ := h.lp.First()
	at := int32(0)
	for i := 0; i < n; {
		if picks[i].idx == at {
			pos[picks[i].order] = p
			i++
			continue
		}
		vp, _ := h.lp.Next(p)
		p, _ = h.lp.Next(vp)
		at++
	}
	for _, p := range pos[:n] {
		vp, _ := h.lp.Next(p)
		reply(h.lp.Value(p), h.lp.Value(vp))
	}
}

// ---- HSCAN ----------------------------------------------------------------

// HSCAN key cursor [MATCH pattern] [COUNT count]: as SCAN, over one hash's
// fields, replying field and value for each. A listpack hash is returned
// whole in one call with cursor 0, whatever COUNT says (as Redis does). A
// hashtable is scanned with dict.Scan's reverse-binary cursor: each call
// visits buckets until it has about COUNT entries (a field and a value
// count two, as in Redis's list of replies) or has visited 5*COUNT
// buckets; MATCH filters what was visited. O(COUNT) per call on a
// hashtable, O(n) on a listpack.
func hscanCmd(s *Shard, c *Client, argv [][]byte) {
	cursor, ok := parseScanCursor(argv[2])
	if !ok {
		c.Error(errInvalidCursor)
		return
	}
	h, ok := s.lookupHashRead(c, argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.Out = append(c.Out, "*2\r\n$1\r\n0\r\n*0\r\n"...)
		return
	}
	opts, ok := parseScanOpts(c, argv, 3, false)
	if !ok {
		return
	}
	count, pat, usePat := opts.count, opts.pat, opts.usePat

	start := len(c.Out)
	n := 0
	emit := func(f, v listpack.Value) {
		if usePat {
			var fb [listpack.IntBufSize]byte
			if !globMatch(pat, f.Bytes(&fb), false) {
				return
			}
		}
		replyHashValue(c, f)
		replyHashValue(c, v)
		n += 2
	}
	if h.d == nil {
		cursor = 0
		h.each(func(f, v listpack.Value) bool { emit(f, v); return true })
	} else {
		// Fields wanted: COUNT entries, two per field. Capped far beyond
		// any dict's size so that dict.Scan's 10*count cannot overflow.
		fields := int(min((count+1)/2, 1<<40))
		cursor = h.d.Scan(cursor, fields, func(f, v []byte) {
			emit(listpack.Value{Str: f}, listpack.Value{Str: v})
		})
	}
	var hb [64]byte
	var cb [20]byte
	hdr := resp.AppendArrayLen(hb[:0], 2)
	hdr = resp.AppendBulk(hdr, strconv.AppendUint(cb[:0], cursor, 10))
	hdr = resp.AppendArrayLen(hdr, n)
	end := len(c.Out)
	c.Out = append(c.Out, hdr...)
	copy(c.Out[start+len(hdr):], c.Out[start:end])
	copy(c.Out[start:], hdr)
}
