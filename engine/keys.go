package engine

import (
	"bytes"
	"math"

	"shoal/engine/internal/kv"
	"shoal/resp"
)

// The generic key family: commands that work on keys whatever their type
// (Redis's db.c, expire.c and object.c commands). Strings live in the
// store's records and other types are objects in its side table; every
// command here handles both: a value is moved (RENAME) or copied (COPY)
// through its Ref, never by looking inside it, except that COPY asks an
// object to copy itself (valueCopier).

func init() {
	register(
		&Command{Name: "del", Arity: -2,
			Flags: FlagWrite,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.0.0",
			Summary:    "Delete a key",
			Complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
			Tips:       []string{"request_policy:multi_shard", "response_policy:agg_sum"},
			Keys:       []KeySpec{{Flags: "RM DELETE", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "key...",
			Proc:       delCmd,
		},
		&Command{Name: "unlink", Arity: -2,
			Flags: FlagWrite | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "4.0.0",
			Summary:    "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
			Complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
			Tips:       []string{"request_policy:multi_shard", "response_policy:agg_sum"},
			Keys:       []KeySpec{{Flags: "RM DELETE", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "key...",
			Proc:       unlinkCmd,
		},
		&Command{Name: "exists", Arity: -2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.0.0",
			Summary:    "Determine if a key exists",
			Complexity: "O(N) where N is the number of keys to check.",
			Tips:       []string{"request_policy:multi_shard", "response_policy:agg_sum"},
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: -1, Step: 1}},
			History:    [][2]string{{"3.0.3", "Accepts multiple `key` arguments."}},
			Syntax:     "key...",
			Proc:       existsCmd,
		},
		&Command{Name: "type", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.0.0",
			Summary:    "Determine the type stored at key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       typeCmd,
		},
		&Command{Name: "touch", Arity: -2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "3.2.1",
			Summary:    "Alters the last access time of a key(s). Returns the number of existing keys specified.",
			Complexity: "O(N) where N is the number of keys that will be touched.",
			Tips:       []string{"request_policy:multi_shard", "response_policy:agg_sum"},
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "key...",
			Proc:       touchCmd,
		},
		&Command{Name: "expire", Arity: -3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.0.0",
			Summary:    "Set a key's time to live in seconds",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."}},
			Syntax:     "key seconds:integer condition:[NX | XX | GT | LT]@7.0.0",
			Proc:       expireCmd,
		},
		&Command{Name: "pexpire", Arity: -3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "2.6.0",
			Summary:    "Set a key's time to live in milliseconds",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."}},
			Syntax:     "key milliseconds:integer condition:[NX | XX | GT | LT]@7.0.0",
			Proc:       pexpireCmd,
		},
		&Command{Name: "expireat", Arity: -3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.2.0",
			Summary:    "Set the expiration for a key as a UNIX timestamp",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."}},
			Syntax:     "key unix-time-seconds:unix-time condition:[NX | XX | GT | LT]@7.0.0",
			Proc:       expireatCmd,
		},
		&Command{Name: "pexpireat", Arity: -3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "2.6.0",
			Summary:    "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."}},
			Syntax:     "key unix-time-milliseconds:unix-time condition:[NX | XX | GT | LT]@7.0.0",
			Proc:       pexpireatCmd,
		},
		&Command{Name: "ttl", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.0.0",
			Summary:    "Get the time to live for a key in seconds",
			Complexity: "O(1)",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.8.0", "Added the -2 reply."}},
			Syntax:     "key",
			Proc:       ttlCmd,
		},
		&Command{Name: "pttl", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "2.6.0",
			Summary:    "Get the time to live for a key in milliseconds",
			Complexity: "O(1)",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.8.0", "Added the -2 reply."}},
			Syntax:     "key",
			Proc:       pttlCmd,
		},
		&Command{Name: "expiretime", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "7.0.0",
			Summary:    "Get the expiration Unix timestamp for a key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       expiretimeCmd,
		},
		&Command{Name: "pexpiretime", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "7.0.0",
			Summary:    "Get the expiration Unix timestamp for a key in milliseconds",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       pexpiretimeCmd,
		},
		&Command{Name: "persist", Arity: 2,
			Flags: FlagWrite | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "2.2.0",
			Summary:    "Remove the expiration from a key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       persistCmd,
		},
		&Command{Name: "keys", Arity: 2,
			Flags: FlagReadonly,
			ACL:   "@keyspace @dangerous",
			Group: "generic", Since: "1.0.0",
			Summary:    "Find all keys matching the given pattern",
			Complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
			Tips:       []string{"request_policy:all_shards", "nondeterministic_output_order"},
			Syntax:     "pattern:pattern",
			Proc:       keysCmd,
		},
		&Command{Name: "scan", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@keyspace",
			Group: "generic", Since: "2.8.0",
			Summary:    "Incrementally iterate the keys space",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
			Tips:       []string{"nondeterministic_output", "request_policy:special"},
			History:    [][2]string{{"6.0.0", "Added the `TYPE` subcommand."}},
			Syntax:     "cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type@6.0.0]",
			Proc:       scanCmd,
		},
		&Command{Name: "randomkey", Arity: 1,
			Flags: FlagReadonly,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.0.0",
			Summary:    "Return a random key from the keyspace",
			Complexity: "O(1)",
			Tips:       []string{"request_policy:all_shards", "nondeterministic_output"},
			Proc:       randomkeyCmd,
		},
		&Command{Name: "rename", Arity: 3,
			Flags: FlagWrite,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.0.0",
			Summary:    "Rename a key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "OW UPDATE", Begin: 2, LastKey: 0, Step: 1}},
			Syntax:     "key newkey:key",
			Proc:       renameCmd,
		},
		&Command{Name: "renamenx", Arity: 3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.0.0",
			Summary:    "Rename a key, only if the new key does not exist",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "OW INSERT", Begin: 2, LastKey: 0, Step: 1}},
			History:    [][2]string{{"3.2.0", "The command no longer returns an error when source and destination names are the same."}},
			Syntax:     "key newkey:key",
			Proc:       renamenxCmd,
		},
		&Command{Name: "copy", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@keyspace",
			Group: "generic", Since: "6.2.0",
			Summary:    "Copy a key",
			Complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}, {Flags: "OW UPDATE", Begin: 2, LastKey: 0, Step: 1}},
			Syntax:     "source:key destination:key [DB destination-db:integer] [REPLACE]",
			Proc:       copyCmd,
		},
		&Command{Name: "move", Arity: 3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@keyspace",
			Group: "generic", Since: "1.0.0",
			Summary:    "Move a key to another database",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key db:integer",
			Proc:       moveCmd,
		},
		&Command{Name: "object", Arity: -2,
			Group: "generic", Since: "2.2.3",
			Summary:    "A container for object introspection commands",
			Complexity: "Depends on subcommand.",
			Proc:       objectCmd,
			Subs: []*Command{
				{Name: "encoding", Arity: 3,
					Flags: FlagReadonly,
					ACL:   "@keyspace",
					Group: "generic", Since: "2.2.3",
					Summary:    "Inspect the internal encoding of a Redis object",
					Complexity: "O(1)",
					Tips:       []string{"nondeterministic_output"},
					Keys:       []KeySpec{{Flags: "RO", Begin: 2, LastKey: 0, Step: 1}},
					Syntax:     "key",
					Proc:       objectEncodingCmd,
				},
				{Name: "freq", Arity: 3,
					Flags: FlagReadonly,
					ACL:   "@keyspace",
					Group: "generic", Since: "4.0.0",
					Summary:    "Get the logarithmic access frequency counter of a Redis object",
					Complexity: "O(1)",
					Tips:       []string{"nondeterministic_output"},
					Keys:       []KeySpec{{Flags: "RO", Begin: 2, LastKey: 0, Step: 1}},
					Syntax:     "key",
					Proc:       objectFreqCmd,
				},
				{Name: "help", Arity: 2,
					Flags: FlagLoading | FlagStale,
					ACL:   "@keyspace",
					Group: "generic", Since: "6.2.0",
					Summary:    "Show helpful text about the different subcommands",
					Complexity: "O(1)",
					Proc:       objectHelpCmd,
				},
				{Name: "idletime", Arity: 3,
					Flags: FlagReadonly,
					ACL:   "@keyspace",
					Group: "generic", Since: "2.2.3",
					Summary:    "Get the time since a Redis object was last accessed",
					Complexity: "O(1)",
					Tips:       []string{"nondeterministic_output"},
					Keys:       []KeySpec{{Flags: "RO", Begin: 2, LastKey: 0, Step: 1}},
					Syntax:     "key",
					Proc:       objectIdletimeCmd,
				},
				{Name: "refcount", Arity: 3,
					Flags: FlagReadonly,
					ACL:   "@keyspace",
					Group: "generic", Since: "2.2.3",
					Summary:    "Get the number of references to the value of the key",
					Complexity: "O(1)",
					Tips:       []string{"nondeterministic_output"},
					Keys:       []KeySpec{{Flags: "RO", Begin: 2, LastKey: 0, Step: 1}},
					Syntax:     "key",
					Proc:       objectRefcountCmd,
				},
			},
		},
	)
}

// Error replies only this family gives.
const (
	errExpireNXWith   = "ERR NX and XX, GT or LT options at the same time are not compatible"
	errExpireGTAndLT  = "ERR GT and LT options at the same time are not compatible"
	errLFUSelected    = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	errLFUNotSelected = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)

// valueCopier is what every value kept as an object (hashes, lists, sets,
// sorted sets, streams) implements so that COPY can duplicate it:
// copyValue returns a deep copy that shares no mutable state with the
// original, since either may be changed afterwards. It runs on the
// shard's loop, like every command, and costs O(elements).
type valueCopier interface {
	copyValue() any
}

// lookupNoTouch finds key for a reading command that must not refresh the
// key's access clock (Redis's LOOKUP_NOTOUCH: EXISTS, TYPE, TTL, OBJECT,
// SCAN's TYPE filter): lazy expiry, and keyspace hits and misses counted.
func (s *Shard) lookupNoTouch(key []byte) kv.Ref {
	r := s.exists(key)
	if r == kv.Nil {
		s.Stats.KeyspaceMisses++
	} else {
		s.Stats.KeyspaceHits++
	}
	return r
}

// typeName is the name TYPE and SCAN TYPE give the value at r.
func (s *Shard) typeName(r kv.Ref) string { return typeNames[s.typeOf(r)] }

// insertArrayLen puts an array header for n elements at Out[start:], in
// front of the n replies written from there: for replies whose length is
// known only once they are written (Redis's deferred length). One move of
// the replies; no allocation beyond growing Out.
func insertArrayLen(c *Client, start, n int) {
	var hb [24]byte
	h := resp.AppendArrayLen(hb[:0], n)
	end := len(c.Out)
	c.Out = append(c.Out, h...)
	copy(c.Out[start+len(h):], c.Out[start:end])
	copy(c.Out[start:], h)
}

// DEL key [key ...], UNLINK key [key ...]: the number of keys removed. A
// value is released to the GC either way, so UNLINK is DEL.
func delCmd(s *Shard, c *Client, argv [][]byte) {
	var n int64
	for _, key := range argv[1:] {
		if s.deleteKey(key) {
			s.notify(notifyGeneric, "del", key)
			n++
		}
	}
	c.Int(n)
}

func unlinkCmd(s *Shard, c *Client, argv [][]byte) { delCmd(s, c, argv) }

// EXISTS key [key ...]: how many of the keys exist, counting a key as
// often as it is named.
func existsCmd(s *Shard, c *Client, argv [][]byte) {
	var n int64
	for _, key := range argv[1:] {
		if s.lookupNoTouch(key) != kv.Nil {
			n++
		}
	}
	c.Int(n)
}

// TYPE key: the value's type name, "none" for a missing key.
func typeCmd(s *Shard, c *Client, argv [][]byte) {
	r := s.lookupNoTouch(argv[1])
	if r == kv.Nil {
		c.Simple("none")
		return
	}
	c.Simple(s.typeName(r))
}

// TOUCH key [key ...]: refreshes the access clock of the keys that exist
// and counts them.
func touchCmd(s *Shard, c *Client, argv [][]byte) {
	var n int64
	for _, key := range argv[1:] {
		if s.lookupRead(key) != kv.Nil {
			n++
		}
	}
	c.Int(n)
}

// Conditions of the EXPIRE family.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// parseExpireFlags reads the NX/XX/GT/LT options of the EXPIRE family,
// replying Redis's error (and returning false) on an unknown option or an
// incompatible pair.
func parseExpireFlags(c *Client, opts [][]byte) (int, bool) {
	flags := 0
	for _, o := range opts {
		switch {
		case eqFold(o, "nx"):
			flags |= expireNX
		case eqFold(o, "xx"):
			flags |= expireXX
		case eqFold(o, "gt"):
			flags |= expireGT
		case eqFold(o, "lt"):
			flags |= expireLT
		default:
			c.Error("ERR Unsupported option " + string(cString(o)))
			return 0, false
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.Error(errExpireNXWith)
		return 0, false
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.Error(errExpireGTAndLT)
		return 0, false
	}
	return flags, true
}

// expireGeneric is EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: argv[2] is in
// seconds (seconds) or milliseconds, relative to base (unix ms; 0 for the
// absolute forms). A time not after now deletes the key and answers 1, as
// Redis does (an explicit delete: not counted in expired_keys). name is
// the command's name for the overflow error.
func expireGeneric(s *Shard, c *Client, argv [][]byte, base int64, seconds bool, name string) {
	flags, ok := parseExpireFlags(c, argv[3:])
	if !ok {
		return
	}
	when, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.Error(errInvalidExpire(name))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.Error(errInvalidExpire(name))
		return
	}
	when += base
	r := s.lookup(argv[1])
	if r == kv.Nil {
		c.Int(0)
		return
	}
	if flags != 0 {
		cur := s.db.Expire(r)
		has := cur != kv.NoExpire
		switch {
		case flags&expireNX != 0 && has,
			flags&expireXX != 0 && !has,
			flags&expireGT != 0 && (!has || when <= cur), // no TTL is an infinite one
			flags&expireLT != 0 && has && when >= cur:
			c.Int(0)
			return
		}
	}
	if when <= s.nowMs && !s.loading {
		s.db.Delete(r)
		s.dirty++
		s.notify(notifyGeneric, "del", argv[1])
		s.propagateDel(argv[1])
		c.Int(1)
		return
	}
	s.db.SetExpire(r, when)
	s.dirty++
	s.notify(notifyGeneric, "expire", argv[1])
	s.propagateExpireAt(argv[1], when, argv[3:])
	c.Int(1)
}

func expireCmd(s *Shard, c *Client, argv [][]byte) {
	expireGeneric(s, c, argv, s.nowMs, true, "expire")
}

func pexpireCmd(s *Shard, c *Client, argv [][]byte) {
	expireGeneric(s, c, argv, s.nowMs, false, "pexpire")
}

func expireatCmd(s *Shard, c *Client, argv [][]byte) {
	expireGeneric(s, c, argv, 0, true, "expireat")
}

func pexpireatCmd(s *Shard, c *Client, argv [][]byte) {
	expireGeneric(s, c, argv, 0, false, "pexpireat")
}

// ttlGeneric is TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing
// key, -1 for a key without a time to live, else the time left (or the
// absolute expire time when abs), in ms or rounded to the nearest second.
func ttlGeneric(s *Shard, c *Client, key []byte, ms, abs bool) {
	r := s.lookupNoTouch(key)
	if r == kv.Nil {
		c.Int(-2)
		return
	}
	at := s.db.Expire(r)
	if at == kv.NoExpire {
		c.Int(-1)
		return
	}
	t := at
	if !abs {
		t -= s.nowMs
	}
	t = max(t, 0)
	if !ms {
		// Unsigned, so that the rounding of a time near the int64 limit
		// does not wrap (Redis's answer there is the unwrapped one too).
		t = int64((uint64(t) + 500) / 1000)
	}
	c.Int(t)
}

func ttlCmd(s *Shard, c *Client, argv [][]byte)  { ttlGeneric(s, c, argv[1], false, false) }
func pttlCmd(s *Shard, c *Client, argv [][]byte) { ttlGeneric(s, c, argv[1], true, false) }
func expiretimeCmd(s *Shard, c *Client, argv [][]byte) {
	ttlGeneric(s, c, argv[1], false, true)
}
func pexpiretimeCmd(s *Shard, c *Client, argv [][]byte) {
	ttlGeneric(s, c, argv[1], true, true)
}

// PERSIST key: 1 if a time to live was removed.
func persistCmd(s *Shard, c *Client, argv [][]byte) {
	r := s.lookup(argv[1])
	if r == kv.Nil || s.db.Expire(r) == kv.NoExpire {
		c.Int(0)
		return
	}
	s.db.SetExpire(r, kv.NoExpire)
	s.dirty++
	s.notify(notifyGeneric, "persist", argv[1])
	c.Int(1)
}

// KEYS pattern: every key matching pattern, in table order. Keys past
// their expire time are left out but not deleted (Redis 7.0 checks, it
// does not expire, while it walks the table). O(N) as documented; the
// walk does not change the store, so it sees each key exactly once.
func keysCmd(s *Shard, c *Client, argv [][]byte) {
	pat := argv[1]
	all := len(pat) == 1 && pat[0] == '*'
	start := len(c.Out)
	n := 0
	if s.db.Len() > 0 {
		visit := func(r kv.Ref) {
			key := s.db.Key(r)
			if (all || globMatch(pat, key, false)) && !s.expired(r) {
				c.Bulk(key)
				n++
			}
		}
		for cursor := s.db.Scan(0, visit); cursor != 0; {
			cursor = s.db.Scan(cursor, visit)
		}
	}
	insertArrayLen(c, start, n)
}

// parseScanCursor reads a SCAN cursor as Redis does (strtoul in base 10
// on the argument as a C string): an optional sign ("-1" wraps to the
// largest cursor), digits, nothing after them; no leading space; no
// overflow. An empty argument is cursor 0, as it is for Redis.
func parseScanCursor(b []byte) (uint64, bool) {
	if len(b) > 0 {
		switch b[0] {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return 0, false
		}
	}
	b = cString(b)
	if len(b) == 0 {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i++
	}
	if i == len(b) {
		return 0, false // a sign alone: strtoul reads nothing
	}
	var v uint64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(d))/10 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	if neg {
		v = -v
	}
	return v, true
}

// scanOpts are the options of SCAN, HSCAN, SSCAN and ZSCAN.
type scanOpts struct {
	count   int64  // COUNT, default 10
	pat     []byte // MATCH
	usePat  bool   // a MATCH other than "*"
	typ     []byte // TYPE (SCAN only), cut at a NUL as Redis reads it
	useType bool
}

// parseScanOpts reads [MATCH pattern] [COUNT count], and [TYPE type] when
// withType, from argv[from:], as Redis's scanGenericCommand: any order,
// the last of each wins, COUNT below 1 is a syntax error. On a bad option
// it replies Redis's error and returns false.
func parseScanOpts(c *Client, argv [][]byte, from int, withType bool) (scanOpts, bool) {
	o := scanOpts{count: 10}
	for i := from; i < len(argv); i += 2 {
		more := len(argv) - i
		switch {
		case eqFold(argv[i], "count") && more >= 2:
			n, ok := parseInt(argv[i+1])
			if !ok {
				c.Error(errNotInt)
				return o, false
			}
			if n < 1 {
				c.Error(errSyntax)
				return o, false
			}
			o.count = n
		case eqFold(argv[i], "match") && more >= 2:
			o.pat = argv[i+1]
			o.usePat = !(len(o.pat) == 1 && o.pat[0] == '*')
		case withType && eqFold(argv[i], "type") && more >= 2:
			o.typ = cString(argv[i+1])
			o.useType = true
		default:
			c.Error(errSyntax)
			return o, false
		}
	}
	return o, true
}

// scanStackRefs is how many keys a SCAN call collects before its buffer
// moves to the heap (COUNT 10, Redis's default, fits many times over).
const scanStackRefs = 128

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], as Redis's
// scanGenericCommand: visit table buckets from cursor until COUNT keys
// were collected, the scan completes, or 10*COUNT buckets were visited;
// then drop keys not matching the pattern, of another type, or expired
// (those are deleted, as Redis expires them here). The TYPE filter reads
// the key as Redis's lookup does: an expired key is deleted there and its
// type is "none", so TYPE none lists it, exactly as Redis 7.0 does.
func scanCmd(s *Shard, c *Client, argv [][]byte) {
	cursor, ok := parseScanCursor(argv[1])
	if !ok {
		c.Error(errInvalidCursor)
		return
	}
	opts, ok := parseScanOpts(c, argv, 2, true)
	if !ok {
		return
	}
	count, pat, usePat, typ, useType := opts.count, opts.pat, opts.usePat, opts.typ, opts.useType

	var refBuf [scanStackRefs]kv.Ref
	refs := refBuf[:0]
	if s.db.Len() == 0 {
		cursor = 0
	} else {
		steps := int64(math.MaxInt64)
		if count <= math.MaxInt64/10 {
			steps = count * 10
		}
		collect := func(r kv.Ref) { refs = append(refs, r) }
		for {
			cursor = s.db.Scan(cursor, collect)
			if cursor == 0 || steps == 0 {
				break
			}
			steps--
			if int64(len(refs)) >= count {
				break
			}
		}
	}

	// Filter without changing the store, so every Ref stays valid; the
	// expired keys are deleted once the reply is written.
	var doomedBuf [16]kv.Ref
	doomed := doomedBuf[:0]
	kept := 0
	for _, r := range refs {
		if usePat && !globMatch(pat, s.db.Key(r), false) {
			continue
		}
		expired := s.expired(r)
		if useType {
			name := "none"
			if expired {
				doomed = append(doomed, r)
				s.Stats.KeyspaceMisses++
			} else {
				s.Stats.KeyspaceHits++
				name = s.typeName(r)
			}
			if !eqFold(typ, name) {
				continue
			}
		} else if expired {
			doomed = append(doomed, r)
			continue
		}
		refs[kept] = r
		kept++
	}

	c.ArrayLen(2)
	c.BulkInt(int64(cursor))
	c.ArrayLen(kept)
	for _, r := range refs[:kept] {
		c.Bulk(s.db.Key(r))
	}
	if len(doomed) > 0 && !s.expiryHeld() {
		for _, r := range doomed {
			s.expireNow(r)
		}
	}
}

// RANDOMKEY: a random key, nil when there is none. A drawn key past its
// expire time is deleted and another drawn, as Redis's dbRandomKey does;
// each extra draw thus removes a key that active expiry would have had to
// remove anyway, so the work is amortized O(1). While clients are paused
// expired keys stay: after 100 draws of expired keys RANDOMKEY returns
// one if every key has a time to live, since all may have expired, as
// Redis does on a replica.
func randomkeyCmd(s *Shard, c *Client, argv [][]byte) {
	for tries := 1; ; tries++ {
		r := s.db.Random(s.rand64())
		if r == kv.Nil {
			c.Null()
			return
		}
		if s.expired(r) {
			if !s.expiryHeld() {
				s.expireNow(r)
				continue
			}
			// A pause keeps expired keys: when all might have expired,
			// give up after a few draws with the last one.
			if tries < randomkeyTries || s.db.Volatile() != s.db.Len() {
				continue
			}
		}
		c.Bulk(s.db.Key(r))
		return
	}
}

// moveEntry files the value at r under newKey, with r's Meta and expire
// time, and deletes r. newKey must be absent. A string value is copied
// into the new record (O(len)); an object moves as it is.
func (s *Shard) moveEntry(r kv.Ref, newKey []byte) {
	m, at := s.db.Meta(r), s.db.Expire(r)
	if s.db.IsObject(r) {
		obj := s.db.Obj(r)
		s.db.Delete(r)
		s.db.InsertObject(newKey, obj, m, at)
		s.kept(obj)
		s.notifyNew(newKey)
		return
	}
	s.db.InsertString(newKey, s.db.Str(r), m, at)
	s.db.Delete(r)
	s.notifyNew(newKey)
}

// renameGeneric is RENAME (nx false) and RENAMENX: the value, its encoding
// and its time to live move to the new name; RENAME overwrites a value of
// any type there, RENAMENX answers 0 instead. The same name for both is a
// no-op once the key is known to exist.
func renameGeneric(s *Shard, c *Client, argv [][]byte, nx bool) {
	src, dst := argv[1], argv[2]
	r := s.lookup(src)
	if r == kv.Nil {
		c.Error(errNoSuchKey)
		return
	}
	if bytes.Equal(src, dst) {
		if nx {
			c.Int(0)
		} else {
			c.OK()
		}
		return
	}
	if d := s.lookup(dst); d != kv.Nil {
		if nx {
			c.Int(0)
			return
		}
		s.db.Delete(d)
	}
	s.moveEntry(r, dst)
	s.dirty++
	s.notify(notifyGeneric, "rename_from", src)
	s.notify(notifyGeneric, "rename_to", dst)
	if nx {
		c.Int(1)
	} else {
		c.OK()
	}
}

func renameCmd(s *Shard, c *Client, argv [][]byte)   { renameGeneric(s, c, argv, false) }
func renamenxCmd(s *Shard, c *Client, argv [][]byte) { renameGeneric(s, c, argv, true) }

// MOVE key db. A shard has one database, as Redis with databases 1: the
// destination is either out of range or the source itself, which Redis
// refuses before it looks at the key.
func moveCmd(s *Shard, c *Client, argv [][]byte) {
	if s.cluster != nil {
		c.Error("ERR MOVE is not allowed in cluster mode")
		return
	}
	id, ok := parseInt(argv[2])
	switch {
	case !ok:
		c.Error(errNotInt)
		return
	case id != int64(int32(id)):
		c.Error("ERR value is out of range, value must between -2147483648 and 2147483647")
		return
	case id != int64(c.db):
		c.Error("ERR DB index is out of range")
		return
	}
	c.Error("ERR source and destination objects are the same")
}

// COPY source destination [DB destination-db] [REPLACE]: 1 if copied. The
// copy keeps the value's encoding and time to live; its access clock
// starts now. A shard has one database, so DB must name it (0).
func copyCmd(s *Shard, c *Client, argv [][]byte) {
	replace := false
	dbid := int64(c.db)
	for j := 3; j < len(argv); j++ {
		switch {
		case eqFold(argv[j], "replace"):
			replace = true
		case eqFold(argv[j], "db") && j+1 < len(argv):
			n, ok := parseInt(argv[j+1])
			if !ok {
				c.Error(errNotInt)
				return
			}
			if n < math.MinInt32 || n > math.MaxInt32 {
				c.Error(errIntRange)
				return
			}
			if n < 0 || n >= int64(s.Config.Databases) {
				c.Error(errDBIndex)
				return
			}
			dbid = n
			j++
		default:
			c.Error(errSyntax)
			return
		}
	}
	src, dst := argv[1], argv[2]
	if dbid == int64(c.db) && bytes.Equal(src, dst) {
		c.Error(errSameObject)
		return
	}
	r := s.lookupRead(src)
	if r == kv.Nil {
		c.Int(0)
		return
	}
	d := s.lookup(dst)
	if d != kv.Nil && !replace {
		c.Int(0)
		return
	}
	m := makeMeta(s.typeOf(r), metaEnc(s.db.Meta(r)), s.newClock)
	at := s.db.Expire(r)
	if s.db.IsObject(r) {
		cp, ok := s.db.Obj(r).(valueCopier)
		if !ok {
			// Every object type implements valueCopier; nothing has
			// changed yet, and the shard's recovery answers the client.
			panic("engine: COPY of an object that cannot copy itself")
		}
		obj := cp.copyValue()
		if d != kv.Nil {
			s.db.Delete(d)
		}
		s.db.InsertObject(dst, obj, m, at)
	} else {
		if d != kv.Nil {
			s.db.Delete(d)
		}
		s.db.InsertString(dst, s.db.Str(r), m, at)
	}
	s.dirty++
	s.notifyNew(dst)
	s.notify(notifyGeneric, "copy_to", dst)
	c.Int(1)
}

// OBJECT with a subcommand it does not have never reaches here (the
// dispatcher answers that), nor OBJECT alone (arity); this answers as the
// dispatcher would, for completeness.
func objectCmd(s *Shard, c *Client, argv [][]byte) {
	sub := []byte("")
	if len(argv) > 1 {
		sub = argv[1]
	}
	c.Error(errUnknownSubcommand(sub, "object"))
}

// objectLookup finds the key of an OBJECT subcommand (without touching
// its access clock), replying nil when it is missing.
func objectLookup(s *Shard, c *Client, key []byte) (kv.Ref, bool) {
	r := s.lookupNoTouch(key)
	if r == kv.Nil {
		c.Null()
		return kv.Nil, false
	}
	return r, true
}

func objectEncodingCmd(s *Shard, c *Client, argv [][]byte) {
	if r, ok := objectLookup(s, c, argv[2]); ok {
		c.BulkString(encNames[metaEnc(s.db.Meta(r))])
	}
}

// Shared integers: Redis keeps one object for each of the values 0..9999
// and stores it, with a refcount of INT_MAX that never changes, for every
// string set to one of them, unless maxmemory is set with an LRU or LFU
// policy (each key then needs an access field of its own).
const (
	sharedIntegers = 10000
	sharedRefcount = math.MaxInt32
)

// refcount is what Redis's OBJECT REFCOUNT answers for the value at r:
// INT_MAX for an int-encoded string in the shared range, else 1.
func (s *Shard) refcount(r kv.Ref) int64 {
	m := s.db.Meta(r)
	if metaType(m) == typeString && metaEnc(m) == encInt && !s.noSharedIntegers() {
		if v, ok := parseInt(s.db.Str(r)); ok && v >= 0 && v < sharedIntegers {
			return sharedRefcount
		}
	}
	return 1
}

func objectRefcountCmd(s *Shard, c *Client, argv [][]byte) {
	if r, ok := objectLookup(s, c, argv[2]); ok {
		c.Int(s.refcount(r))
	}
}

// idleSeconds is the time since the key at r was last accessed, from the
// 24-bit LRU clock in seconds (wrapping as Redis's estimateObjectIdleTime).
func (s *Shard) idleSeconds(r kv.Ref) int64 {
	lru, now := metaLRU(s.db.Meta(r)), s.lruClock
	if now >= lru {
		return int64(now - lru)
	}
	return int64(now + (lruMask - lru))
}

// OBJECT IDLETIME: the key's idle seconds, which an LFU policy does not
// track (Redis's error then, for an existing key).
func objectIdletimeCmd(s *Shard, c *Client, argv [][]byte) {
	if r, ok := objectLookup(s, c, argv[2]); ok {
		if s.lfu {
			c.Error(errLFUSelected)
			return
		}
		c.Int(s.idleSeconds(r))
	}
}

// OBJECT FREQ: the key's LFU counter, decayed for the time since it was
// last decremented; only an LFU policy tracks it (Redis's error else, for
// an existing key).
func objectFreqCmd(s *Shard, c *Client, argv [][]byte) {
	if r, ok := objectLookup(s, c, argv[2]); ok {
		if !s.lfu {
			c.Error(errLFUNotSelected)
			return
		}
		c.Int(int64(s.lfuDecayed(metaLRU(s.db.Meta(r)))))
	}
}

var objectHelp = []string{
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
}

func objectHelpCmd(s *Shard, c *Client, argv [][]byte) { replyHelp(c, "OBJECT", objectHelp) }
