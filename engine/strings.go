package engine

import (
	"math"
	"math/big"
	"strconv"

	"shoal/engine/internal/kv"
)

// The string family: GET, SET and their variants, the counters (INCR ...,
// INCRBYFLOAT), ranges (GETRANGE, SETRANGE, APPEND) and LCS, with Redis
// 7.0's semantics, replies and errors (t_string.c).
//
// Encodings follow Redis so that OBJECT ENCODING answers the same: values
// stored whole (SET, GETSET, MSET, APPEND to a missing key) get
// stringEncoding's int/embstr/raw; APPEND and SETRANGE on a key turn it
// raw, as Redis unshares the value; the INCR family stores "int" whatever
// the size; INCRBYFLOAT stores embstr or raw by length.

// Errors only this family replies.
const (
	errDecrOverflow = "ERR decrement would overflow"
	errLCSWrongType = "ERR The specified keys must contain string values"
	errLCSLenAndIdx = "ERR If you want both the length and indexes, please just use IDX."
	errLCSTooLong   = "ERR String too long for LCS"
	errLCSMemory    = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)

func init() {
	register(
		&Command{Name: "get", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Get the value of a key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       getCmd,
		},
		&Command{Name: "set", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Set the string value of a key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE VARIABLE_FLAGS", Notes: "RW and ACCESS due to the optional `GET` argument", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."}, {"6.0.0", "Added the `KEEPTTL` option."}, {"6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."}, {"7.0.0", "Allowed the `NX` and `GET` options to be used together."}},
			Syntax:     "key value condition:[NX | XX]@2.6.12 [GET@6.2.0] expiration:[EX seconds:integer@2.6.12 | PX milliseconds:integer@2.6.12 | EXAT unix-time-seconds:unix-time@6.2.0 | PXAT unix-time-milliseconds:unix-time@6.2.0 | KEEPTTL@6.0.0]",
			Proc:       setCmd,
			GetKeys:    setKeys,
		},
		&Command{Name: "setnx", Arity: 3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Set the value of a key, only if the key does not exist",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "OW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key value",
			Proc:       setnxCmd,
		},
		&Command{Name: "setex", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@string",
			Group: "string", Since: "2.0.0",
			Summary:    "Set the value and expiration of a key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key seconds:integer value",
			Proc:       setexCmd,
		},
		&Command{Name: "psetex", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@string",
			Group: "string", Since: "2.6.0",
			Summary:    "Set the value and expiration in milliseconds of a key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key milliseconds:integer value",
			Proc:       psetexCmd,
		},
		&Command{Name: "getset", Arity: 3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Set the string value of a key and return its old value",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`SET` with the `!GET` argument",
			Syntax:     "key value",
			Proc:       getsetCmd,
		},
		&Command{Name: "getdel", Arity: 2,
			Flags: FlagWrite | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "6.2.0",
			Summary:    "Get the value of a key and delete the key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       getdelCmd,
		},
		&Command{Name: "getex", Arity: -2,
			Flags: FlagWrite | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "6.2.0",
			Summary:    "Get the value of a key and optionally set its expiration",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Notes: "RW and UPDATE because it changes the TTL", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key expiration:[EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | PERSIST]",
			Proc:       getexCmd,
		},
		&Command{Name: "mget", Arity: -2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Get the values of all the given keys",
			Complexity: "O(N) where N is the number of keys to retrieve.",
			Tips:       []string{"request_policy:multi_shard"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "key...",
			Proc:       mgetCmd,
		},
		&Command{Name: "mset", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@string",
			Group: "string", Since: "1.0.1",
			Summary:    "Set multiple keys to multiple values",
			Complexity: "O(N) where N is the number of keys to set.",
			Tips:       []string{"request_policy:multi_shard", "response_policy:all_succeeded"},
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: -1, Step: 2}},
			Syntax:     "(key value)...",
			Proc:       msetCmd,
		},
		&Command{Name: "msetnx", Arity: -3,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@string",
			Group: "string", Since: "1.0.1",
			Summary:    "Set multiple keys to multiple values, only if none of the keys exist",
			Complexity: "O(N) where N is the number of keys to set.",
			Tips:       []string{"request_policy:multi_shard", "response_policy:agg_min"},
			Keys:       []KeySpec{{Flags: "OW INSERT", Begin: 1, LastKey: -1, Step: 2}},
			Syntax:     "(key value)...",
			Proc:       msetnxCmd,
		},
		&Command{Name: "append", Arity: 3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "2.0.0",
			Summary:    "Append a value to a key",
			Complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
			Keys:       []KeySpec{{Flags: "RW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key value",
			Proc:       appendCmd,
		},
		&Command{Name: "strlen", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "2.2.0",
			Summary:    "Get the length of the value stored in a key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       strlenCmd,
		},
		&Command{Name: "incr", Arity: 2,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Increment the integer value of a key by one",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       incrCmd,
		},
		&Command{Name: "decr", Arity: 2,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Decrement the integer value of a key by one",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       decrCmd,
		},
		&Command{Name: "incrby", Arity: 3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Increment the integer value of a key by the given amount",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key increment:integer",
			Proc:       incrbyCmd,
		},
		&Command{Name: "decrby", Arity: 3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Decrement the integer value of a key by the given number",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key decrement:integer",
			Proc:       decrbyCmd,
		},
		&Command{Name: "incrbyfloat", Arity: 3,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@string",
			Group: "string", Since: "2.6.0",
			Summary:    "Increment the float value of a key by the given amount",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key increment:double",
			Proc:       incrbyfloatCmd,
		},
		&Command{Name: "getrange", Arity: 4,
			Flags: FlagReadonly,
			ACL:   "@string",
			Group: "string", Since: "2.4.0",
			Summary:    "Get a substring of the string stored at a key",
			Complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key start:integer end:integer",
			Proc:       getrangeCmd,
		},
		&Command{Name: "substr", Arity: 4,
			Flags: FlagReadonly,
			ACL:   "@string",
			Group: "string", Since: "1.0.0",
			Summary:    "Get a substring of the string stored at a key",
			Complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "2.0.0",
			ReplacedBy: "`GETRANGE`",
			Syntax:     "key start:integer end:integer",
			Proc:       substrCmd,
		},
		&Command{Name: "setrange", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@string",
			Group: "string", Since: "2.2.0",
			Summary:    "Overwrite part of a string at key starting at the specified offset",
			Complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key offset:integer value",
			Proc:       setrangeCmd,
		},
		&Command{Name: "lcs", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@string",
			Group: "string", Since: "7.0.0",
			Summary:    "Find longest common substring",
			Complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 1, Step: 1}},
			Syntax:     "key1:key key2:key#0 [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]",
			Proc:       lcsCmd,
		},
	)
}

// Options of SET and GETEX, as Redis's OBJ_* flags.
const (
	optNX = 1 << iota
	optXX
	optGet
	optKeepTTL
	optPersist
	optEX
	optPX
	optEXAT
	optPXAT

	optExpire = optEX | optPX | optEXAT | optPXAT
)

// parseStringOpts reads the options of SET (isSet, from argv[3]) or GETEX
// (from argv[2]) with Redis's rules: each option may repeat but must not
// conflict with one already seen (NX/XX, the expirations, KEEPTTL,
// PERSIST); an expiration needs a following argument, which is returned
// unparsed. ok is false on a syntax error (no reply written).
func parseStringOpts(argv [][]byte, isSet bool) (flags int, expire []byte, ok bool) {
	j := 2
	if isSet {
		j = 3
	}
	for ; j < len(argv); j++ {
		opt := argv[j]
		hasNext := j+1 < len(argv)
		switch {
		case isSet && eqFold(opt, "nx") && flags&optXX == 0:
			flags |= optNX
		case isSet && eqFold(opt, "xx") && flags&optNX == 0:
			flags |= optXX
		case isSet && eqFold(opt, "get"):
			flags |= optGet
		case isSet && eqFold(opt, "keepttl") && flags&(optPersist|optExpire) == 0:
			flags |= optKeepTTL
		case !isSet && eqFold(opt, "persist") && flags&(optExpire|optKeepTTL) == 0:
			flags |= optPersist
		case eqFold(opt, "ex") && hasNext && flags&(optKeepTTL|optPersist|optExpire&^optEX) == 0:
			flags |= optEX
			expire = argv[j+1]
			j++
		case eqFold(opt, "px") && hasNext && flags&(optKeepTTL|optPersist|optExpire&^optPX) == 0:
			flags |= optPX
			expire = argv[j+1]
			j++
		case eqFold(opt, "exat") && hasNext && flags&(optKeepTTL|optPersist|optExpire&^optEXAT) == 0:
			flags |= optEXAT
			expire = argv[j+1]
			j++
		case eqFold(opt, "pxat") && hasNext && flags&(optKeepTTL|optPersist|optExpire&^optPXAT) == 0:
			flags |= optPXAT
			expire = argv[j+1]
			j++
		default:
			return 0, nil, false
		}
	}
	return flags, expire, true
}

// expireAt turns an EX/PX/EXAT/PXAT argument into an absolute unix time
// in ms, replying Redis's errors for command name when it is not an
// integer, not positive, or overflows once in ms or once the current
// time is added.
func (s *Shard) expireAt(c *Client, name string, flags int, arg []byte) (int64, bool) {
	ms, ok := parseInt(arg)
	if !ok {
		c.Error(errNotInt)
		return 0, false
	}
	seconds := flags&(optEX|optEXAT) != 0
	if ms <= 0 || seconds && ms > math.MaxInt64/1000 {
		c.Error(errInvalidExpire(name))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(optEX|optPX) != 0 {
		ms += s.nowMs // wraps negative on overflow, caught below as in Redis
	}
	if ms <= 0 {
		c.Error(errInvalidExpire(name))
		return 0, false
	}
	return ms, true
}

// putString stores val at key as a string of encoding enc, where r is the
// key's Ref from a lookup (kv.Nil when the key is absent): it inserts or
// overwrites (any type), setting the expire time unless keepTTL. It does
// what setString does without looking the key up again.
func (s *Shard) putString(r kv.Ref, key, val []byte, enc uint8, expire int64, keepTTL bool) kv.Ref {
	m := makeMeta(typeString, enc, s.newClock)
	s.dirty++
	if r == kv.Nil {
		if keepTTL {
			expire = kv.NoExpire
		}
		r = s.db.InsertString(key, val, m, expire)
		s.notifyNew(key)
		return r
	}
	s.db.SetString(r, val)
	s.db.SetMeta(r, s.overwriteMeta(r, m))
	if !keepTTL {
		s.db.SetExpire(r, expire)
	}
	return r
}

// lookupWriteString is lookup for commands that modify a string in place:
// it replies WRONGTYPE for another type (ok false).
func (s *Shard) lookupWriteString(c *Client, key []byte) (r kv.Ref, ok bool) {
	return s.lookupTyped(c, key, typeString, false)
}

// checkStringLength refuses, with Redis's error, a string that would grow
// from size by add bytes beyond proto-max-bulk-len.
func (s *Shard) checkStringLength(c *Client, size, add int64) bool {
	total := int64(uint64(size) + uint64(add))
	if total > s.Config.ProtoMaxBulkLen || total < size || total < add {
		c.Error(errStringTooBig)
		return false
	}
	return true
}

// getGeneric replies the string at key (null when absent) and returns its
// Ref; ok is false after a WRONGTYPE reply. GET, GETSET, GETDEL, SET GET.
func (s *Shard) getGeneric(c *Client, key []byte) (r kv.Ref, ok bool) {
	r, ok = s.lookupString(c, key)
	if !ok {
		return kv.Nil, false
	}
	if r == kv.Nil {
		c.Null()
	} else {
		c.Bulk(s.db.Str(r))
	}
	return r, true
}

func getCmd(s *Shard, c *Client, argv [][]byte) { s.getGeneric(c, argv[1]) }

// setKeys gives SET's key with the flags its arguments imply, as Redis's
// setGetKeys: reading and updating with GET, overwriting without it.
// The slices are shared: callers only read them.
func setKeys(argv [][]byte) []keyPos {
	for _, a := range argv[3:] {
		if eqFold(a, "get") {
			return setKeysRW
		}
	}
	return setKeysOW
}

var (
	setKeysRW = []keyPos{{pos: 1, flags: "RW ACCESS UPDATE"}}
	setKeysOW = []keyPos{{pos: 1, flags: "OW UPDATE"}}
)

func setCmd(s *Shard, c *Client, argv [][]byte) {
	flags, exp, ok := parseStringOpts(argv, true)
	if !ok {
		c.Error(errSyntax)
		return
	}
	when := kv.NoExpire
	if exp != nil {
		if when, ok = s.expireAt(c, "set", flags, exp); !ok {
			return
		}
	}
	key, val := argv[1], argv[2]
	keepTTL := flags&optKeepTTL != 0
	if flags&(optNX|optXX|optGet) == 0 {
		s.setString(key, val, stringEncoding(val), when, keepTTL)
		s.notifySet(key, exp != nil)
		if exp != nil && s.prop.on {
			s.propagateSetAt(key, val, when)
		}
		c.OK()
		return
	}
	if flags&optGet != 0 {
		if _, ok := s.getGeneric(c, key); !ok {
			return
		}
	}
	r := s.lookup(key)
	if flags&optNX != 0 && r != kv.Nil || flags&optXX != 0 && r == kv.Nil {
		if flags&optGet == 0 {
			c.Null()
		}
		return
	}
	s.putString(r, key, val, stringEncoding(val), when, keepTTL)
	s.notifySet(key, exp != nil)
	if s.prop.on {
		switch {
		case exp != nil:
			s.propagateSetAt(key, val, when)
		case flags&optGet != 0:
			s.propagateWithout(argv, "get")
		}
	}
	if flags&optGet == 0 {
		c.OK()
	}
}

func setnxCmd(s *Shard, c *Client, argv [][]byte) {
	r := s.lookup(argv[1])
	if r != kv.Nil {
		c.Int(0)
		return
	}
	s.putString(r, argv[1], argv[2], stringEncoding(argv[2]), kv.NoExpire, false)
	s.notify(notifyString, "set", argv[1])
	c.Int(1)
}

func setexCmd(s *Shard, c *Client, argv [][]byte)  { setexGeneric(s, c, argv, "setex", optEX) }
func psetexCmd(s *Shard, c *Client, argv [][]byte) { setexGeneric(s, c, argv, "psetex", optPX) }

func setexGeneric(s *Shard, c *Client, argv [][]byte, name string, unit int) {
	when, ok := s.expireAt(c, name, unit, argv[2])
	if !ok {
		return
	}
	s.setString(argv[1], argv[3], stringEncoding(argv[3]), when, false)
	s.notifySet(argv[1], true)
	s.propagateSetAt(argv[1], argv[3], when)
	c.OK()
}

func getsetCmd(s *Shard, c *Client, argv [][]byte) {
	r, ok := s.getGeneric(c, argv[1])
	if !ok {
		return
	}
	s.putString(r, argv[1], argv[2], stringEncoding(argv[2]), kv.NoExpire, false)
	s.notify(notifyString, "set", argv[1])
}

func getdelCmd(s *Shard, c *Client, argv [][]byte) {
	r, ok := s.getGeneric(c, argv[1])
	if !ok || r == kv.Nil {
		return
	}
	s.db.Delete(r)
	s.dirty++
	s.notify(notifyGeneric, "del", argv[1])
	s.propagateDel(argv[1])
}

func getexCmd(s *Shard, c *Client, argv [][]byte) {
	flags, exp, ok := parseStringOpts(argv, false)
	if !ok {
		c.Error(errSyntax)
		return
	}
	r, ok := s.lookupString(c, argv[1])
	if !ok {
		return
	}
	if r == kv.Nil {
		c.Null()
		return
	}
	when := kv.NoExpire
	if exp != nil {
		if when, ok = s.expireAt(c, "getex", flags, exp); !ok {
			return
		}
	}
	c.Bulk(s.db.Str(r))
	switch {
	case flags&(optEXAT|optPXAT) != 0 && when <= s.nowMs:
		// An absolute time already past deletes the key at once.
		s.db.Delete(r)
		s.dirty++
		s.notify(notifyGeneric, "del", argv[1])
		s.propagateDel(argv[1])
	case exp != nil:
		s.db.SetExpire(r, when)
		s.dirty++
		s.notify(notifyGeneric, "expire", argv[1])
		s.propagateExpireAt(argv[1], when, nil)
	case flags&optPersist != 0 && s.db.Expire(r) != kv.NoExpire:
		s.db.SetExpire(r, kv.NoExpire)
		s.dirty++
		s.notify(notifyGeneric, "persist", argv[1])
		if s.prop.on {
			s.propagateAs([]byte("PERSIST"), argv[1])
		}
	}
}

func mgetCmd(s *Shard, c *Client, argv [][]byte) {
	c.ArrayLen(len(argv) - 1)
	for _, key := range argv[1:] {
		r := s.lookupRead(key)
		if r == kv.Nil || s.typeOf(r) != typeString {
			c.Null()
		} else {
			c.Bulk(s.db.Str(r))
		}
	}
}

func msetCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv)%2 == 0 {
		c.Error(errWrongArgs("mset"))
		return
	}
	for j := 1; j < len(argv); j += 2 {
		s.setString(argv[j], argv[j+1], stringEncoding(argv[j+1]), kv.NoExpire, false)
		s.notify(notifyString, "set", argv[j])
	}
	c.OK()
}

func msetnxCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv)%2 == 0 {
		c.Error(errWrongArgs("msetnx"))
		return
	}
	for j := 1; j < len(argv); j += 2 {
		if s.lookup(argv[j]) != kv.Nil {
			c.Int(0)
			return
		}
	}
	for j := 1; j < len(argv); j += 2 {
		s.setString(argv[j], argv[j+1], stringEncoding(argv[j+1]), kv.NoExpire, false)
		s.notify(notifyString, "set", argv[j])
	}
	c.Int(1)
}

func appendCmd(s *Shard, c *Client, argv [][]byte) {
	key, val := argv[1], argv[2]
	r, ok := s.lookupWriteString(c, key)
	if !ok {
		return
	}
	if r == kv.Nil {
		s.putString(r, key, val, stringEncoding(val), kv.NoExpire, false)
		s.notify(notifyString, "append", key)
		c.Int(int64(len(val)))
		return
	}
	old := len(s.db.Str(r))
	if !s.checkStringLength(c, int64(old), int64(len(val))) {
		return
	}
	buf := s.db.ResizeString(r, old+len(val))
	copy(buf[old:], val)
	s.db.SetMeta(r, makeMeta(typeString, encRaw, metaLRU(s.db.Meta(r))))
	s.dirty++
	s.notify(notifyString, "append", key)
	c.Int(int64(len(buf)))
}

func strlenCmd(s *Shard, c *Client, argv [][]byte) {
	r, ok := s.lookupString(c, argv[1])
	switch {
	case !ok:
	case r == kv.Nil:
		c.Int(0)
	default:
		c.Int(int64(len(s.db.Str(r))))
	}
}

func incrCmd(s *Shard, c *Client, argv [][]byte) { s.incrDecr(c, argv[1], 1) }
func decrCmd(s *Shard, c *Client, argv [][]byte) { s.incrDecr(c, argv[1], -1) }

func incrbyCmd(s *Shard, c *Client, argv [][]byte) {
	n, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	s.incrDecr(c, argv[1], n)
}

func decrbyCmd(s *Shard, c *Client, argv [][]byte) {
	n, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if n == math.MinInt64 {
		c.Error(errDecrOverflow)
		return
	}
	s.incrDecr(c, argv[1], -n)
}

// incrDecr adds incr to the integer at key (0 when absent), keeping its
// time to live, and stores the result with the int encoding.
func (s *Shard) incrDecr(c *Client, key []byte, incr int64) {
	r, ok := s.lookupWriteString(c, key)
	if !ok {
		return
	}
	var v int64
	if r != kv.Nil {
		if v, ok = parseInt(s.db.Str(r)); !ok {
			c.Error(errNotInt)
			return
		}
	}
	if incr < 0 && v < 0 && incr < math.MinInt64-v || incr > 0 && v > 0 && incr > math.MaxInt64-v {
		c.Error(errOverflow)
		return
	}
	v += incr
	var buf [20]byte
	s.putString(r, key, strconv.AppendInt(buf[:0], v, 10), encInt, kv.NoExpire, true)
	s.notify(notifyString, "incrby", key)
	c.Int(v)
}

func incrbyfloatCmd(s *Shard, c *Client, argv [][]byte) {
	key := argv[1]
	r, ok := s.lookupWriteString(c, key)
	if !ok {
		return
	}
	cur := new(big.Float)
	if r != kv.Nil {
		if cur = parseLongDouble(s.db.Str(r)); cur == nil {
			c.Error(errNotFloat)
			return
		}
	}
	incr := parseLongDouble(argv[2])
	if incr == nil {
		c.Error(errNotFloat)
		return
	}
	sum, ok := addLongDouble(cur, incr)
	if !ok {
		c.Error(errIncrFloatNaN)
		return
	}
	var buf [64]byte
	val := appendLongDoubleHuman(buf[:0], sum)
	enc := encEmbstr
	if len(val) > 44 {
		enc = encRaw
	}
	s.putString(r, key, val, enc, kv.NoExpire, true)
	if s.prop.on {
		s.propagateAs([]byte("SET"), key, val, []byte("KEEPTTL"))
	}
	s.notify(notifyString, "incrbyfloat", key)
	c.Bulk(val)
}

func getrangeCmd(s *Shard, c *Client, argv [][]byte) {
	start, ok1 := parseInt(argv[2])
	end, ok2 := parseInt(argv[3])
	if !ok1 || !ok2 {
		c.Error(errNotInt)
		return
	}
	r, ok := s.lookupString(c, argv[1])
	if !ok {
		return
	}
	var str []byte
	if r != kv.Nil {
		str = s.db.Str(r)
	}
	c.Bulk(substring(str, start, end))
}

// substring is GETRANGE's slice of str: negative indexes count from the
// end, both ends are clamped into the string, end is inclusive; empty
// when nothing is left (and when both are negative with start > end).
func substring(str []byte, start, end int64) []byte {
	n := int64(len(str))
	if start < 0 && end < 0 && start > end {
		return str[:0]
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return str[:0]
	}
	return str[start : end+1]
}

func substrCmd(s *Shard, c *Client, argv [][]byte) { getrangeCmd(s, c, argv) }

func setrangeCmd(s *Shard, c *Client, argv [][]byte) {
	key, val := argv[1], argv[3]
	offset, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if offset < 0 {
		c.Error(errOffsetRange)
		return
	}
	r, ok := s.lookupWriteString(c, key)
	if !ok {
		return
	}
	if r == kv.Nil {
		if len(val) == 0 {
			c.Int(0)
			return
		}
		if !s.checkStringLength(c, offset, int64(len(val))) {
			return
		}
		r = s.putString(kv.Nil, key, nil, encRaw, kv.NoExpire, false)
	} else {
		old := len(s.db.Str(r))
		if len(val) == 0 {
			c.Int(int64(old))
			return
		}
		if !s.checkStringLength(c, offset, int64(len(val))) {
			return
		}
		s.db.SetMeta(r, makeMeta(typeString, encRaw, metaLRU(s.db.Meta(r))))
		s.dirty++
	}
	// offset+len(val) is at most proto-max-bulk-len here.
	n := max(len(s.db.Str(r)), int(offset)+len(val))
	buf := s.db.ResizeString(r, n)
	copy(buf[offset:], val)
	s.notify(notifyString, "setrange", key)
	c.Int(int64(n))
}

func lcsCmd(s *Shard, c *Client, argv [][]byte) {
	ra, rb := s.lookupRead(argv[1]), s.lookupRead(argv[2])
	if ra != kv.Nil && s.typeOf(ra) != typeString || rb != kv.Nil && s.typeOf(rb) != typeString {
		c.Error(errLCSWrongType)
		return
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(argv); j++ {
		switch opt := argv[j]; {
		case eqFold(opt, "idx"):
			getIdx = true
		case eqFold(opt, "len"):
			getLen = true
		case eqFold(opt, "withmatchlen"):
			withMatchLen = true
		case eqFold(opt, "minmatchlen") && j+1 < len(argv):
			n, ok := parseInt(argv[j+1])
			if !ok {
				c.Error(errNotInt)
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			c.Error(errSyntax)
			return
		}
	}
	if getLen && getIdx {
		c.Error(errLCSLenAndIdx)
		return
	}
	var a, b []byte
	if ra != kv.Nil {
		a = s.db.Str(ra)
	}
	if rb != kv.Nil {
		b = s.db.Str(rb)
	}
	if uint64(len(a)) >= math.MaxUint32-1 || uint64(len(b)) >= math.MaxUint32-1 {
		c.Error(errLCSTooLong)
		return
	}
	cells := uint64(len(a)+1) * uint64(len(b)+1) // < 2^64: both lengths are below 2^32
	if cells > math.MaxUint64/4 || cells*4 > uint64(s.Config.ProtoMaxBulkLen) {
		c.Error(errLCSMemory)
		return
	}
	lcsReply(c, a, b, make([]uint32, cells), getLen, getIdx, withMatchLen, minMatchLen)
}

// lcsReply computes the longest common subsequence of a and b with the
// dynamic-programming table t ((len(a)+1)×(len(b)+1) cells) and writes
// LCS's reply: the length (getLen), the matching ranges (getIdx), or the
// subsequence itself. O(len(a)×len(b)) time; the walk back through the
// table reports ranges from the ends of the strings, as Redis does.
func lcsReply(c *Client, a, b []byte, t []uint32, getLen, getIdx, withMatchLen bool, minMatchLen int64) {
	alen, blen := len(a), len(b)
	w := blen + 1
	for i := 1; i <= alen; i++ {
		prev, row := t[(i-1)*w:i*w], t[i*w:(i+1)*w]
		ai := a[i-1]
		for j := 1; j <= blen; j++ {
			switch {
			case ai == b[j-1]:
				row[j] = prev[j-1] + 1
			case prev[j] > row[j-1]:
				row[j] = prev[j]
			default:
				row[j] = row[j-1]
			}
		}
	}
	total := t[alen*w+blen]
	if getLen {
		c.Int(int64(total))
		return
	}
	var result []byte
	if !getIdx {
		result = make([]byte, total)
	}
	// Each range is 4 numbers: a start, a end, b start, b end.
	var ranges []int
	idx := total
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0 // aStart == alen: no range open
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			if result != nil {
				result[idx-1] = a[i-1]
			}
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if t[(i-1)*w+j] > t[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			if getIdx && (minMatchLen == 0 || int64(aEnd-aStart+1) >= minMatchLen) {
				ranges = append(ranges, aStart, aEnd, bStart, bEnd)
			}
			aStart = alen
		}
	}
	if !getIdx {
		c.Bulk(result)
		return
	}
	c.MapLen(2)
	c.BulkString("matches")
	c.ArrayLen(len(ranges) / 4)
	for k := 0; k < len(ranges); k += 4 {
		if withMatchLen {
			c.ArrayLen(3)
		} else {
			c.ArrayLen(2)
		}
		c.ArrayLen(2)
		c.Int(int64(ranges[k]))
		c.Int(int64(ranges[k+1]))
		c.ArrayLen(2)
		c.Int(int64(ranges[k+2]))
		c.Int(int64(ranges[k+3]))
		if withMatchLen {
			c.Int(int64(ranges[k+1] - ranges[k] + 1))
		}
	}
	c.BulkString("len")
	c.Int(int64(total))
}
