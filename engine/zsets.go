package engine

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"strconv"

	"shoal/engine/internal/kv"
	"shoal/engine/internal/listpack"
	"shoal/engine/internal/zset"
	"shoal/resp"
)

// The sorted set family: ZADD and ZINCRBY, removal (ZREM, ZPOPMIN,
// ZPOPMAX, ZMPOP, ZREMRANGEBY*), reads (ZCARD, ZSCORE, ZMSCORE, ZRANK,
// ZREVRANK, ZCOUNT, ZLEXCOUNT, the ZRANGE family and ZRANGESTORE,
// ZRANDMEMBER, ZSCAN), the set algebra (ZUNION, ZINTER, ZDIFF, their
// *STORE forms and ZINTERCARD, taking sets as sorted sets of score 1) and
// the blocking BZPOPMIN, BZPOPMAX and BZMPOP, with Redis 7.0's semantics,
// replies and errors (t_zset.c). The value type and its encodings are in
// zsetobj.go.
//
// Scores are parsed as Redis parses them (C's strtod: "inf", hex floats,
// "(" for an exclusive range bound; NaN rejected) and written as Redis
// 7.0 writes them: %.17g, a bulk string in RESP2 and a double in RESP3.
// Each command's comment states its cost; n is the sorted set's size, m
// the number of elements a command returns or removes.

// Errors only this family replies.
const (
	errZaddIncrPair  = "ERR INCR option supports a single increment-element pair"
	errZaddXXNX      = "ERR XX and NX options at the same time are not compatible"
	errZaddGTLTNX    = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZsetNaN       = "ERR resulting score is not a number (NaN)"
	errZMinMaxFloat  = "ERR min or max is not a float"
	errZMinMaxLex    = "ERR min or max not valid string range item"
	errZWeightFloat  = "ERR weight value is not a float"
	errZLimitRank    = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZScoresLex    = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errZLimitNeg     = "ERR LIMIT can't be negative"
	errZValueOfRange = "ERR value is out of range"
)

// ---- parsing ------------------------------------------------------------

func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isHexDigit(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// hasPrefixFold reports whether b starts with the lowercase ASCII word w,
// in any case.
func hasPrefixFold(b []byte, w string) bool {
	return len(b) >= len(w) && eqFold(b[:len(w)], w)
}

// strtod is C's strtod (glibc) on b: the value of the longest prefix that
// reads as a floating-point number, how many bytes it took (0 when none:
// no conversion) and whether the value was out of range (ERANGE: an
// overflow to ±inf, or an underflow to zero). It reads leading white
// space, a sign, "inf"/"infinity", "nan"/"nan(...)", hexadecimal (0x...,
// with an optional binary exponent) and decimal forms. O(len(b)); no
// allocation for numbers of up to 32 bytes.
func strtod(b []byte) (f float64, n int, erange bool) {
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	rest := b[i:]
	switch {
	case hasPrefixFold(rest, "inf"):
		n := 3
		if hasPrefixFold(rest, "infinity") {
			n = 8
		}
		if neg {
			return math.Inf(-1), i + n, false
		}
		return math.Inf(1), i + n, false
	case hasPrefixFold(rest, "nan"):
		n := 3
		if len(rest) > 3 && rest[3] == '(' {
			j := 4
			for j < len(rest) && (isDigit(rest[j]) || rest[j] == '_' ||
				('a' <= rest[j]|0x20 && rest[j]|0x20 <= 'z')) {
				j++
			}
			if j < len(rest) && rest[j] == ')' {
				n = j + 1
			}
		}
		return math.NaN(), i + n, false
	case len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x':
		j, digits, nonzero := 2, 0, false
		for ; j < len(rest) && isHexDigit(rest[j]); j++ {
			digits++
			nonzero = nonzero || rest[j] != '0'
		}
		if j < len(rest) && rest[j] == '.' {
			j++
			for ; j < len(rest) && isHexDigit(rest[j]); j++ {
				digits++
				nonzero = nonzero || rest[j] != '0'
			}
		}
		if digits == 0 {
			// Only the "0" before the x is a number.
			return math.Copysign(0, signOf(neg)), i + 1, false
		}
		mant := j
		if j < len(rest) && rest[j]|0x20 == 'p' {
			k := j + 1
			if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
				k++
			}
			if k < len(rest) && isDigit(rest[k]) {
				for k < len(rest) && isDigit(rest[k]) {
					k++
				}
				j = k
			}
		}
		var tmp [64]byte
		s := append(tmp[:0], b[start:i+mant]...)
		if j > mant {
			s = append(s, rest[mant:j]...)
		} else {
			s = append(s, "p0"...)
		}
		f, err := strconv.ParseFloat(string(s), 64)
		return f, i + j, err != nil || (f == 0 && nonzero)
	}
	j, digits, nonzero := 0, 0, false
	for ; j < len(rest) && isDigit(rest[j]); j++ {
		digits++
		nonzero = nonzero || rest[j] != '0'
	}
	if j < len(rest) && rest[j] == '.' {
		j++
		for ; j < len(rest) && isDigit(rest[j]); j++ {
			digits++
			nonzero = nonzero || rest[j] != '0'
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(rest) && rest[j]|0x20 == 'e' {
		k := j + 1
		if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
			k++
		}
		if k < len(rest) && isDigit(rest[k]) {
			for k < len(rest) && isDigit(rest[k]) {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(string(b[start:i+j]), 64)
	if err != nil {
		// Only a range error is possible on this syntax; an exponent
		// too long for ParseFloat is a huge or tiny value.
		if math.IsInf(f, 0) || f != 0 {
			return f, i + j, true
		}
		return math.Copysign(0, signOf(neg)), i + j, true
	}
	return f, i + j, f == 0 && nonzero
}

func signOf(neg bool) float64 {
	if neg {
		return -1
	}
	return 1
}

// parseScore reads a score, increment or weight as Redis's
// getDoubleFromObject: the whole argument must be a number for strtod, not
// empty, not starting with white space, not out of range, not NaN.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	f, n, erange := strtod(b)
	if n != len(b) || erange || f != f {
		return 0, false
	}
	return f, true
}

// parseScoreBound reads one end of a score range as Redis's zslParseRange:
// "(" makes it exclusive; the rest, up to a NUL byte as C sees it, must
// read entirely as a number that is not NaN (an empty one reads as 0).
func parseScoreBound(b []byte) (v float64, ex, ok bool) {
	b = cString(b)
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	f, n, _ := strtod(b)
	if n != len(b) || f != f {
		return 0, false, false
	}
	return f, ex, true
}

// parseScoreRange reads a min and max into a range.
func parseScoreRange(min, max []byte) (zset.Range, bool) {
	lo, loEx, ok1 := parseScoreBound(min)
	hi, hiEx, ok2 := parseScoreBound(max)
	return zset.Range{Min: lo, Max: hi, MinEx: loEx, MaxEx: hiEx}, ok1 && ok2
}

// lookupZset finds key, for reading (hits and misses counted) or writing;
// z is nil when the key is absent, ok false after a WRONGTYPE reply.
func (s *Shard) lookupZset(c *Client, key []byte, read bool) (z *zsetObj, r kv.Ref, ok bool) {
	if r, ok = s.lookupTyped(c, key, typeZSet, read); r == kv.Nil {
		return nil, kv.Nil, ok
	}
	return s.zsetAt(r), r, true
}

// zsetDone records z's encoding at r after a change, or deletes the key
// when z emptied; it reports whether it deleted the key.
func (s *Shard) zsetDone(r kv.Ref, z *zsetObj) (deleted bool) {
	if z.size() == 0 {
		s.db.Delete(r)
		return true
	}
	s.syncZsetEnc(r, z)
	return false
}

// zsetChanged sends the events of a command that removed members of the
// sorted set at key, as t_zset.c does: event (class z), then "del" when
// the key went with its last member.
func (s *Shard) zsetChanged(event string, key []byte, deleted bool) {
	s.notify(notifyZSet, event, key)
	if deleted {
		s.notify(notifyGeneric, "del", key)
	}
}

// zaddEvent is the event of ZADD (ZINCRBY and ZADD INCR: "zincr").
func zaddEvent(fl zaddFlags) string {
	if fl&zaddIncr != 0 {
		return "zincr"
	}
	return "zadd"
}

// replyScore writes a score: a double in RESP3, Redis's %.17g bulk string
// in RESP2.
func replyScore(c *Client, f float64) { c.Double(f) }

// ---- ZADD, ZINCRBY, ZREM ---------------------------------------------------

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]:
// the number of members added (added or changed with CH); with INCR the
// member's new score, or null when NX/XX/GT/LT left it alone. O(log n)
// per member as a skiplist, O(n) as a listpack (n at most
// zset-max-listpack-entries), plus O(n log n) for a conversion.
func zaddCmd(s *Shard, c *Client, argv [][]byte) { zaddGeneric(s, c, argv, 0) }

// ZINCRBY key increment member: ZADD key INCR increment member.
func zincrbyCmd(s *Shard, c *Client, argv [][]byte) { zaddGeneric(s, c, argv, zaddIncr) }

func zaddGeneric(s *Shard, c *Client, argv [][]byte, fl zaddFlags) {
	ch := false
	i := 2
	for ; i < len(argv); i++ {
		a := argv[i]
		switch {
		case eqFold(a, "nx"):
			fl |= zaddNX
		case eqFold(a, "xx"):
			fl |= zaddXX
		case eqFold(a, "ch"):
			ch = true
		case eqFold(a, "incr"):
			fl |= zaddIncr
		case eqFold(a, "gt"):
			fl |= zaddGT
		case eqFold(a, "lt"):
			fl |= zaddLT
		default:
			goto done
		}
	}
done:
	elems := len(argv) - i
	if elems%2 != 0 || elems == 0 {
		c.Error(errSyntax)
		return
	}
	if fl&zaddIncr != 0 && elems > 2 {
		c.Error(errZaddIncrPair)
		return
	}
	if fl&zaddNX != 0 && fl&zaddXX != 0 {
		c.Error(errZaddXXNX)
		return
	}
	if (fl&zaddNX != 0 && fl&(zaddGT|zaddLT) != 0) || fl&(zaddGT|zaddLT) == zaddGT|zaddLT {
		c.Error(errZaddGTLTNX)
		return
	}
	pairs := argv[i:]
	for j := 0; j < len(pairs); j += 2 {
		if _, ok := parseScore(pairs[j]); !ok {
			c.Error(errNotFloat)
			return
		}
	}
	z, r, ok := s.lookupZset(c, argv[1], false)
	if !ok {
		return
	}
	var added, updated, processed int
	var score float64
	if z == nil {
		if fl&zaddXX != 0 {
			goto reply
		}
		z = newZsetObj(len(pairs[1]), s.Config)
		r = s.db.InsertObject(argv[1], z, makeMeta(typeZSet, z.enc(), s.newClock), kv.NoExpire)
		s.notifyNew(argv[1])
	}
	for j := 0; j < len(pairs); j += 2 {
		sc, _ := parseScore(pairs[j])
		res, ns := z.add(pairs[j+1], sc, fl, s.Config)
		switch res {
		case zaddNaN:
			s.dirty += int64(added + updated)
			s.zsetDone(r, z)
			c.Error(errZsetNaN)
			if added+updated > 0 {
				s.notify(notifyZSet, zaddEvent(fl), argv[1])
			}
			return
		case zaddAdded:
			added++
		case zaddUpdated:
			updated++
		}
		if res != zaddNop {
			processed++
		}
		score = ns
	}
	s.dirty += int64(added + updated)
	s.zsetDone(r, z)
	if added+updated > 0 {
		s.notify(notifyZSet, zaddEvent(fl), argv[1])
	}
reply:
	switch {
	case fl&zaddIncr == 0 && ch:
		c.Int(int64(added + updated))
	case fl&zaddIncr == 0:
		c.Int(int64(added))
	case processed > 0:
		replyScore(c, score)
	default:
		c.Null()
	}
}

// ZREM key member [member ...]: the number of members removed; the key
// goes when it empties. O(m log n) / O(m n).
func zremCmd(s *Shard, c *Client, argv [][]byte) {
	z, r, ok := s.lookupZset(c, argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	n := 0
	for _, m := range argv[2:] {
		if z.remove(m) {
			n++
			if z.size() == 0 {
				break
			}
		}
	}
	s.dirty += int64(n)
	if n > 0 {
		s.zsetChanged("zrem", argv[1], s.zsetDone(r, z))
	}
	c.Int(int64(n))
}

// ---- single-member reads ------------------------------------------------

// ZCARD key: the number of members, 0 for no key. O(1).
func zcardCmd(s *Shard, c *Client, argv [][]byte) {
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	c.Int(int64(z.size()))
}

// ZSCORE key member: the member's score, null when absent. O(1) / O(n).
func zscoreCmd(s *Shard, c *Client, argv [][]byte) {
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.Null()
		return
	}
	if sc, found := z.score(argv[2]); found {
		replyScore(c, sc)
	} else {
		c.Null()
	}
}

// ZMSCORE key member [member ...]: each member's score or null. O(m) as a
// skiplist, O(m n) as a listpack.
func zmscoreCmd(s *Shard, c *Client, argv [][]byte) {
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	c.ArrayLen(len(argv) - 2)
	for _, m := range argv[2:] {
		if z == nil {
			c.Null()
			continue
		}
		if sc, found := z.score(m); found {
			replyScore(c, sc)
		} else {
			c.Null()
		}
	}
}

// ZRANK key member / ZREVRANK key member: the member's 0-based rank from
// the lowest (highest) score, null when absent. O(log n) / O(n).
func zrankCmd(s *Shard, c *Client, argv [][]byte)    { zrankGeneric(s, c, argv, false) }
func zrevrankCmd(s *Shard, c *Client, argv [][]byte) { zrankGeneric(s, c, argv, true) }

// ZRANK/ZREVRANK key member [WITHSCORE]: the member's rank, or with
// WITHSCORE [rank, score] (Redis 7.2's form); null (a null array with
// WITHSCORE) when key or member is absent. O(log n).
func zrankGeneric(s *Shard, c *Client, argv [][]byte, rev bool) {
	if len(argv) > 4 {
		name := "zrank"
		if rev {
			name = "zrevrank"
		}
		c.Error(errWrongArgs(name))
		return
	}
	withScore := len(argv) == 4
	if withScore && !eqFold(argv[3], "withscore") {
		c.Error(errSyntax)
		return
	}
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	rk, found := 0, false
	if z != nil {
		rk, found = z.rank(argv[2], rev)
	}
	switch {
	case !found && withScore:
		c.NullArray()
	case !found:
		c.Null()
	case withScore:
		score, _ := z.score(argv[2])
		c.ArrayLen(2)
		c.Int(int64(rk))
		replyScore(c, score)
	default:
		c.Int(int64(rk))
	}
}

// ZCOUNT key min max: the number of members with scores in the range.
// O(log n) / O(n).
func zcountCmd(s *Shard, c *Client, argv [][]byte) {
	rg, ok := parseScoreRange(argv[2], argv[3])
	if !ok {
		c.Error(errZMinMaxFloat)
		return
	}
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	c.Int(int64(z.countScore(rg)))
}

// ZLEXCOUNT key min max: the number of members in the lex range. O(log n)
// / O(n).
func zlexcountCmd(s *Shard, c *Client, argv [][]byte) {
	lr, ok := zset.ParseLexRange(argv[2], argv[3])
	if !ok {
		c.Error(errZMinMaxLex)
		return
	}
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	c.Int(int64(z.countLex(lr)))
}

func init() {
	register(
		&Command{Name: "zadd", Arity: -4,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "1.2.0",
			Summary:    "Add one or more members to a sorted set, or update its score if it already exists",
			Complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.4.0", "Accepts multiple elements."}, {"3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."}, {"6.2.0", "Added the `GT` and `LT` options."}},
			Syntax:     "key condition:[NX | XX]@3.0.2 comparison:[GT | LT]@6.2.0 [change:CH@3.0.2] [increment:INCR@3.0.2] (score:double member)...",
			Proc:       zaddCmd,
		},
		&Command{Name: "zincrby", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "1.2.0",
			Summary:    "Increment the score of a member in a sorted set",
			Complexity: "O(log(N)) where N is the number of elements in the sorted set.",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key increment:integer member",
			Proc:       zincrbyCmd,
		},
		&Command{Name: "zrem", Arity: -3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "1.2.0",
			Summary:    "Remove one or more members from a sorted set",
			Complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
			Keys:       []KeySpec{{Flags: "RW DELETE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.4.0", "Accepts multiple elements."}},
			Syntax:     "key member...",
			Proc:       zremCmd,
		},
		&Command{Name: "zcard", Arity: 2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "1.2.0",
			Summary:    "Get the number of members in a sorted set",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       zcardCmd,
		},
		&Command{Name: "zscore", Arity: 3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "1.2.0",
			Summary:    "Get the score associated with the given member in a sorted set",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key member",
			Proc:       zscoreCmd,
		},
		&Command{Name: "zmscore", Arity: -3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "6.2.0",
			Summary:    "Get the score associated with the given members in a sorted set",
			Complexity: "O(N) where N is the number of members being requested.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key member...",
			Proc:       zmscoreCmd,
		},
		&Command{Name: "zrank", Arity: -3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.0.0",
			Summary:    "Determine the index of a member in a sorted set",
			Complexity: "O(log(N))",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"7.2.0", "Added the optional `WITHSCORE` argument."}},
			Syntax:     "key member [withscore:WITHSCORE@7.2.0]",
			Proc:       zrankCmd,
		},
		&Command{Name: "zrevrank", Arity: -3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.0.0",
			Summary:    "Determine the index of a member in a sorted set, with scores ordered from high to low",
			Complexity: "O(log(N))",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"7.2.0", "Added the optional `WITHSCORE` argument."}},
			Syntax:     "key member [withscore:WITHSCORE@7.2.0]",
			Proc:       zrevrankCmd,
		},
		&Command{Name: "zcount", Arity: 4,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.0.0",
			Summary:    "Count the members in a sorted set with scores within the given values",
			Complexity: "O(log(N)) with N being the number of elements in the sorted set.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key min:double max:double",
			Proc:       zcountCmd,
		},
		&Command{Name: "zlexcount", Arity: 4,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.8.9",
			Summary:    "Count the number of members in a sorted set between a given lexicographical range",
			Complexity: "O(log(N)) with N being the number of elements in the sorted set.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key min max",
			Proc:       zlexcountCmd,
		},
		&Command{Name: "zrange", Arity: -4,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "1.2.0",
			Summary:    "Return a range of members in a sorted set",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."}},
			Syntax:     "key start stop sortby:[BYSCORE | BYLEX]@6.2.0 [REV@6.2.0] [LIMIT offset_count:[offset:integer count:integer]@6.2.0] [WITHSCORES]",
			Proc:       zrangeCmd,
		},
		&Command{Name: "zrangestore", Arity: -5,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "6.2.0",
			Summary:    "Store a range of members from sorted set into another key",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 2, LastKey: 0, Step: 1}},
			Syntax:     "dst:key src:key min max sortby:[BYSCORE | BYLEX] [REV] [LIMIT offset_count:[offset:integer count:integer]]",
			Proc:       zrangestoreCmd,
		},
		&Command{Name: "zrangebyscore", Arity: -4,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "1.0.5",
			Summary:    "Return a range of members in a sorted set, by score",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.0.0", "Added the `WITHSCORES` modifier."}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`ZRANGE` with the `BYSCORE` argument",
			Syntax:     "key min:double max:double [WITHSCORES@2.0.0] [LIMIT offset_count:[offset:integer count:integer]]",
			Proc:       zrangebyscoreCmd,
		},
		&Command{Name: "zrevrangebyscore", Arity: -4,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.2.0",
			Summary:    "Return a range of members in a sorted set, by score, with scores ordered from high to low",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"2.1.6", "`min` and `max` can be exclusive."}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`ZRANGE` with the `REV` and `BYSCORE` arguments",
			Syntax:     "key max:double min:double [WITHSCORES] [LIMIT offset_count:[offset:integer count:integer]]",
			Proc:       zrevrangebyscoreCmd,
		},
		&Command{Name: "zrangebylex", Arity: -4,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.8.9",
			Summary:    "Return a range of members in a sorted set, by lexicographical range",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`ZRANGE` with the `BYLEX` argument",
			Syntax:     "key min max [LIMIT offset_count:[offset:integer count:integer]]",
			Proc:       zrangebylexCmd,
		},
		&Command{Name: "zrevrangebylex", Arity: -4,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.8.9",
			Summary:    "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`ZRANGE` with the `REV` and `BYLEX` arguments",
			Syntax:     "key max min [LIMIT offset_count:[offset:integer count:integer]]",
			Proc:       zrevrangebylexCmd,
		},
		&Command{Name: "zrevrange", Arity: -4,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "1.2.0",
			Summary:    "Return a range of members in a sorted set, by index, with scores ordered from high to low",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`ZRANGE` with the `REV` argument",
			Syntax:     "key start:integer stop:integer [WITHSCORES]",
			Proc:       zrevrangeCmd,
		},
		&Command{Name: "zpopmin", Arity: -2,
			Flags: FlagWrite | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "5.0.0",
			Summary:    "Remove and return members with the lowest scores in a sorted set",
			Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key [count:integer]",
			Proc:       zpopminCmd,
		},
		&Command{Name: "zpopmax", Arity: -2,
			Flags: FlagWrite | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "5.0.0",
			Summary:    "Remove and return members with the highest scores in a sorted set",
			Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key [count:integer]",
			Proc:       zpopmaxCmd,
		},
		&Command{Name: "zmpop", Arity: -4,
			Flags: FlagWrite,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "7.0.0",
			Summary:    "Remove and return members with scores in a sorted set",
			Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "numkeys:integer key... where:(MIN | MAX) [COUNT count:integer]",
			Proc:       zmpopCmd,
		},
		&Command{Name: "zremrangebyrank", Arity: 4,
			Flags: FlagWrite,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.0.0",
			Summary:    "Remove all members in a sorted set within the given indexes",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
			Keys:       []KeySpec{{Flags: "RW DELETE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key start:integer stop:integer",
			Proc:       zremrangebyrankCmd,
		},
		&Command{Name: "zremrangebyscore", Arity: 4,
			Flags: FlagWrite,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "1.2.0",
			Summary:    "Remove all members in a sorted set within the given scores",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
			Keys:       []KeySpec{{Flags: "RW DELETE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key min:double max:double",
			Proc:       zremrangebyscoreCmd,
		},
		&Command{Name: "zremrangebylex", Arity: 4,
			Flags: FlagWrite,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.8.9",
			Summary:    "Remove all members in a sorted set between the given lexicographical range",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
			Keys:       []KeySpec{{Flags: "RW DELETE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key min max",
			Proc:       zremrangebylexCmd,
		},
		&Command{Name: "zunion", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "6.2.0",
			Summary:    "Add multiple sorted sets",
			Complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE aggregate:[SUM | MIN | MAX]] [WITHSCORES]",
			Proc:       zunionCmd,
		},
		&Command{Name: "zinter", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "6.2.0",
			Summary:    "Intersect multiple sorted sets",
			Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE aggregate:[SUM | MIN | MAX]] [WITHSCORES]",
			Proc:       zinterCmd,
		},
		&Command{Name: "zdiff", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "6.2.0",
			Summary:    "Subtract multiple sorted sets",
			Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "numkeys:integer key... [WITHSCORES]",
			Proc:       zdiffCmd,
		},
		&Command{Name: "zunionstore", Arity: -4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.0.0",
			Summary:    "Add multiple sorted sets and store the resulting sorted set in a new key",
			Complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 2, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "destination:key numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE aggregate:[SUM | MIN | MAX]]",
			Proc:       zunionstoreCmd,
		},
		&Command{Name: "zinterstore", Arity: -4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.0.0",
			Summary:    "Intersect multiple sorted sets and store the resulting sorted set in a new key",
			Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 2, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "destination:key numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE aggregate:[SUM | MIN | MAX]]",
			Proc:       zinterstoreCmd,
		},
		&Command{Name: "zdiffstore", Arity: -4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "6.2.0",
			Summary:    "Subtract multiple sorted sets and store the resulting sorted set in a new key",
			Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 2, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "destination:key numkeys:integer key...",
			Proc:       zdiffstoreCmd,
		},
		&Command{Name: "zintercard", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "7.0.0",
			Summary:    "Intersect multiple sorted sets and return the cardinality of the result",
			Complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "numkeys:integer key... [LIMIT limit:integer]",
			Proc:       zintercardCmd,
		},
		&Command{Name: "zrandmember", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "6.2.0",
			Summary:    "Get one or multiple random elements from a sorted set",
			Complexity: "O(N) where N is the number of elements returned",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key options:[count:integer [WITHSCORES]]",
			Proc:       zrandmemberCmd,
		},
		&Command{Name: "zscan", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "2.8.0",
			Summary:    "Incrementally iterate sorted sets elements and associated scores",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
			Proc:       zscanCmd,
		},
		&Command{Name: "bzpopmin", Arity: -3,
			Flags: FlagWrite | FlagNoScript | FlagBlocking | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "5.0.0",
			Summary:    "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
			Complexity: "O(log(N)) with N being the number of elements in the sorted set.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: -2, Step: 1}},
			History:    [][2]string{{"6.0.0", "`timeout` is interpreted as a double instead of an integer."}},
			Syntax:     "key... timeout:double",
			Proc:       bzpopminCmd,
		},
		&Command{Name: "bzpopmax", Arity: -3,
			Flags: FlagWrite | FlagNoScript | FlagBlocking | FlagFast,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "5.0.0",
			Summary:    "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
			Complexity: "O(log(N)) with N being the number of elements in the sorted set.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 1, LastKey: -2, Step: 1}},
			History:    [][2]string{{"6.0.0", "`timeout` is interpreted as a double instead of an integer."}},
			Syntax:     "key... timeout:double",
			Proc:       bzpopmaxCmd,
		},
		&Command{Name: "bzmpop", Arity: -5,
			Flags: FlagWrite | FlagBlocking,
			ACL:   "@sortedset",
			Group: "sorted-set", Since: "7.0.0",
			Summary:    "Remove and return members with scores in a sorted set or block until one is available",
			Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
			Keys:       []KeySpec{{Flags: "RW ACCESS DELETE", Begin: 2, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
			Syntax:     "timeout:double numkeys:integer key... where:(MIN | MAX) [COUNT count:integer]",
			Proc:       bzmpopCmd,
		},
	)
}

// ---- ZRANGE and its relatives ------------------------------------------

// zrangeKind is how a ZRANGE reads its min and max.
type zrangeKind uint8

const (
	zrangeAuto zrangeKind = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

// zrangeSink receives a range's elements: the client's reply, or the new
// sorted set of ZRANGESTORE (Redis's zrange_result_handler).
type zrangeSink struct {
	s          *Shard
	c          *Client
	store      bool
	dstKey     []byte
	withScores bool
	dst        *zsetObj
	deferred   bool
	mark       int
	n          int
}

// begin starts a result of length elements, -1 when not known yet.
func (k *zrangeSink) begin(length int) {
	if k.store {
		if length > k.s.Config.ZsetMaxListpackEntries {
			k.dst = &zsetObj{sk: zset.New()}
		} else {
			k.dst = &zsetObj{lp: listpack.New()}
		}
		return
	}
	if length < 0 {
		k.deferred, k.mark = true, len(k.c.Out)
		return
	}
	if k.withScores && !k.c.Resp3 {
		length *= 2
	}
	k.c.ArrayLen(length)
}

// emit adds one element.
func (k *zrangeSink) emit(m []byte, score float64) {
	k.n++
	if k.store {
		k.dst.insertNew(m, score, k.s.Config)
		return
	}
	c := k.c
	if k.withScores && c.Resp3 {
		c.ArrayLen(2)
	}
	c.Bulk(m)
	if k.withScores {
		replyScore(c, score)
	}
}

// finish ends the result: the deferred length, or ZRANGESTORE's store and
// reply.
func (k *zrangeSink) finish() {
	if k.store {
		if k.n > 0 {
			k.s.storeZset(k.dstKey, k.dst)
			k.s.notify(notifyZSet, "zrangestore", k.dstKey)
		} else if k.s.deleteKey(k.dstKey) {
			k.s.notify(notifyGeneric, "del", k.dstKey)
		}
		k.c.Int(int64(k.n))
		return
	}
	if k.deferred {
		n := k.n
		if k.withScores && !k.c.Resp3 {
			n *= 2
		}
		insertArrayLen(k.c, k.mark, n)
	}
}

// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count]
// [WITHSCORES]: the members in the range of ranks, scores or members.
// O(log n + m) as a skiplist (plus the LIMIT offset, walked), O(n) as a
// listpack.
func zrangeCmd(s *Shard, c *Client, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, false, zrangeAuto, 0)
}

// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]:
// ZRANGE stored at dst (deleted when the range is empty); the number of
// elements stored. O(log n + m) plus building dst.
func zrangestoreCmd(s *Shard, c *Client, argv [][]byte) {
	zrangeGeneric(s, c, argv, 2, true, zrangeAuto, 0)
}

// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]. O(log n +
// m).
func zrangebyscoreCmd(s *Shard, c *Client, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, false, zrangeScore, 1)
}

// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]. O(log
// n + m).
func zrevrangebyscoreCmd(s *Shard, c *Client, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, false, zrangeScore, -1)
}

// ZRANGEBYLEX key min max [LIMIT offset count]. O(log n + m).
func zrangebylexCmd(s *Shard, c *Client, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, false, zrangeLex, 1)
}

// ZREVRANGEBYLEX key max min [LIMIT offset count]. O(log n + m).
func zrevrangebylexCmd(s *Shard, c *Client, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, false, zrangeLex, -1)
}

// ZREVRANGE key start stop [WITHSCORES]. O(log n + m).
func zrevrangeCmd(s *Shard, c *Client, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, false, zrangeRank, -1)
}

// zrangeGeneric is Redis's zrangeGenericCommand: the source key is at
// argv[keyIdx], min and max follow it, then the options. dir is 1 or -1
// for a fixed direction, 0 when REV may choose.
func zrangeGeneric(s *Shard, c *Client, argv [][]byte, keyIdx int, store bool, kind zrangeKind, dir int) {
	minIdx, maxIdx := keyIdx+1, keyIdx+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := keyIdx + 3; j < len(argv); j++ {
		left := len(argv) - j - 1
		a := argv[j]
		switch {
		case !store && eqFold(a, "withscores"):
			withScores = true
		case eqFold(a, "limit") && left >= 2:
			var ok1, ok2 bool
			offset, ok1 = parseInt(argv[j+1])
			if ok1 {
				limit, ok2 = parseInt(argv[j+2])
			}
			if !ok1 || !ok2 {
				c.Error(errNotInt)
				return
			}
			j += 2
		case dir == 0 && eqFold(a, "rev"):
			dir = -1
		case kind == zrangeAuto && eqFold(a, "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && eqFold(a, "byscore"):
			kind = zrangeScore
		default:
			c.Error(errSyntax)
			return
		}
	}
	if dir == 0 {
		dir = 1
	}
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	if limit != -1 && kind == zrangeRank {
		c.Error(errZLimitRank)
		return
	}
	if withScores && kind == zrangeLex {
		c.Error(errZScoresLex)
		return
	}
	rev := dir < 0
	if rev && kind != zrangeRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var sr zset.Range
	var lr zset.LexRange
	switch kind {
	case zrangeRank:
		var ok1, ok2 bool
		start, ok1 = parseInt(argv[minIdx])
		if ok1 {
			end, ok2 = parseInt(argv[maxIdx])
		}
		if !ok1 || !ok2 {
			c.Error(errNotInt)
			return
		}
	case zrangeScore:
		var ok bool
		if sr, ok = parseScoreRange(argv[minIdx], argv[maxIdx]); !ok {
			c.Error(errZMinMaxFloat)
			return
		}
	case zrangeLex:
		var ok bool
		if lr, ok = zset.ParseLexRange(argv[minIdx], argv[maxIdx]); !ok {
			c.Error(errZMinMaxLex)
			return
		}
	}
	k := zrangeSink{s: s, c: c, store: store, withScores: withScores}
	if store {
		k.dstKey = argv[1]
	}
	z, _, ok := s.lookupZset(c, argv[keyIdx], true)
	if !ok {
		return
	}
	if z == nil {
		if store {
			k.begin(-1)
			k.finish()
		} else {
			c.EmptyArray()
		}
		return
	}
	switch kind {
	case zrangeRank:
		k.byRank(z, start, end, rev)
	case zrangeScore:
		it := z.iterScore(sr, rev)
		k.limited(z, &it, offset, limit)
	case zrangeLex:
		it := z.iterLex(lr, rev)
		k.limited(z, &it, offset, limit)
	}
}

// byRank emits ranks start..end (negative from the end), from the top
// when rev. O(log n + m).
func (k *zrangeSink) byRank(z *zsetObj, start, end int64, rev bool) {
	n := int64(z.size())
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	if start > end || start >= n {
		k.begin(0)
		k.finish()
		return
	}
	end = min(end, n-1)
	cnt := int(end - start + 1)
	k.begin(cnt)
	it := z.iterRank(int(start), rev)
	for range cnt {
		m, sc, ok := it.next()
		if !ok {
			break
		}
		k.emit(m, sc)
	}
	k.finish()
}

// limited emits what it yields after skipping offset elements, at most
// limit of them (all when limit is negative); a negative offset yields
// nothing, as in Redis. O(offset + m).
func (k *zrangeSink) limited(z *zsetObj, it *zIter, offset, limit int64) {
	if offset > 0 && offset >= int64(z.size()) {
		k.begin(0)
		k.finish()
		return
	}
	k.begin(-1)
	if offset >= 0 {
		it.skip(int(offset))
		for ; limit != 0; limit-- {
			m, sc, ok := it.next()
			if !ok {
				break
			}
			k.emit(m, sc)
		}
	}
	k.finish()
}

// ---- ZREMRANGEBY* ----------------------------------------------------------

// ZREMRANGEBYRANK key start stop: remove the members of those ranks
// (negative from the end); the number removed. O(log n + m) / O(n).
func zremrangebyrankCmd(s *Shard, c *Client, argv [][]byte) {
	start, ok1 := parseInt(argv[2])
	end, ok2 := parseInt(argv[3])
	if !ok1 || !ok2 {
		c.Error(errNotInt)
		return
	}
	z, r, ok := s.lookupZset(c, argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	n := int64(z.size())
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	if start > end || start >= n {
		c.Int(0)
		return
	}
	end = min(end, n-1)
	removed := z.deleteRanks(int(start), int(end))
	s.zremDone(c, argv[1], r, z, removed, "zremrangebyrank")
}

// zremDone finishes a ZREMRANGEBY*: counts the change, deletes an
// emptied key, sends event (and "del") when members went and replies the
// number removed.
func (s *Shard) zremDone(c *Client, key []byte, r kv.Ref, z *zsetObj, removed int, event string) {
	if removed > 0 {
		s.dirty += int64(removed)
		s.zsetChanged(event, key, s.zsetDone(r, z))
	}
	c.Int(int64(removed))
}

// ZREMRANGEBYSCORE key min max: remove the members with scores in the
// range; the number removed. O(log n + m) / O(n).
func zremrangebyscoreCmd(s *Shard, c *Client, argv [][]byte) {
	rg, ok := parseScoreRange(argv[2], argv[3])
	if !ok {
		c.Error(errZMinMaxFloat)
		return
	}
	z, r, ok := s.lookupZset(c, argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	s.zremDone(c, argv[1], r, z, z.deleteScore(rg), "zremrangebyscore")
}

// ZREMRANGEBYLEX key min max: remove the members in the lex range; the
// number removed. O(log n + m) / O(n).
func zremrangebylexCmd(s *Shard, c *Client, argv [][]byte) {
	lr, ok := zset.ParseLexRange(argv[2], argv[3])
	if !ok {
		c.Error(errZMinMaxLex)
		return
	}
	z, r, ok := s.lookupZset(c, argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	s.zremDone(c, argv[1], r, z, z.deleteLex(lr), "zremrangebylex")
}

// ---- pops -----------------------------------------------------------------

// zpopShape is how a pop replies (Redis's genericZpopCommand flags).
type zpopShape uint8

const (
	zpopFlat    zpopShape = iota // ZPOPMIN/MAX: [m, s, m, s ...]
	zpopNested                   // ZPOPMIN/MAX with a count in RESP3: [[m, s] ...]
	zpopKeyFlat                  // BZPOPMIN/MAX: [key, m, s]
	zpopKeyNest                  // ZMPOP/BZMPOP: [key, [[m, s] ...]]
)

// zpopFirst pops up to count members from the first of keys holding a
// sorted set (while a blocked client is served, the ready key only) and
// replies in shape. found is false when no key holds one (nothing
// written); ok is false after WRONGTYPE. O(keys + count log n).
func (s *Shard) zpopFirst(c *Client, keys [][]byte, max bool, count int64, shape zpopShape) (found, ok bool) {
	for _, key := range keys {
		if s.retrySkips(key) {
			continue
		}
		z, r, ok := s.lookupZset(c, key, false)
		if !ok {
			return false, false
		}
		if z == nil {
			continue
		}
		if s.prop.on {
			s.propagateZpop(key, max, count, z.size(), shape)
		}
		s.zpop(c, key, r, z, max, count, shape)
		return true, true
	}
	return false, true
}

// zpop pops up to count members of z, the sorted set at key (r), and
// replies in shape; the key goes when it empties. O(count log n).
func (s *Shard) zpop(c *Client, key []byte, r kv.Ref, z *zsetObj, max bool, count int64, shape zpopShape) {
	n := int(min(count, int64(z.size())))
	switch shape {
	case zpopFlat:
		c.ArrayLen(2 * n)
	case zpopNested:
		c.ArrayLen(n)
	case zpopKeyFlat:
		c.ArrayLen(2*n + 1)
		c.Bulk(key)
	case zpopKeyNest:
		c.ArrayLen(2)
		c.Bulk(key)
		c.ArrayLen(n)
	}
	nested := shape == zpopNested || shape == zpopKeyNest
	for range n {
		if nested {
			c.ArrayLen(2)
		}
		z.popReply(c, max)
	}
	s.dirty += int64(n)
	s.zsetChanged(zpopEvent(max), key, s.zsetDone(r, z))
}

// zpopEvent is the event of a pop from the lowest (highest when max)
// scores, whichever command popped.
func zpopEvent(max bool) string {
	if max {
		return "zpopmax"
	}
	return "zpopmin"
}

// ZPOPMIN key [count] / ZPOPMAX key [count]: remove and return the count
// (default 1) members of lowest (highest) score. O(count log n).
func zpopminCmd(s *Shard, c *Client, argv [][]byte) { zpopGeneric(s, c, argv, false) }
func zpopmaxCmd(s *Shard, c *Client, argv [][]byte) { zpopGeneric(s, c, argv, true) }

func zpopGeneric(s *Shard, c *Client, argv [][]byte, max bool) {
	if len(argv) > 3 {
		c.Error(errSyntax)
		return
	}
	count := int64(-1)
	if len(argv) == 3 {
		n, ok := parseInt(argv[2])
		if !ok || n < 0 {
			c.Error(errNotPositive)
			return
		}
		count = n
	}
	shape := zpopFlat
	if c.Resp3 && count != -1 {
		shape = zpopNested
	}
	z, r, ok := s.lookupZset(c, argv[1], false)
	if !ok {
		return
	}
	if z == nil || count == 0 {
		c.EmptyArray()
		return
	}
	s.zpop(c, argv[1], r, z, max, max64(count, 1), shape)
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// parseZmpop reads ZMPOP's arguments after numkeys at argv[numkeysIdx]:
// the keys argv[first:last+1], MIN or MAX, the count (1 by default). It
// replies the error itself (ok false).
func parseZmpop(c *Client, argv [][]byte, numkeysIdx int) (first, last int, max bool, count int64, ok bool) {
	numkeys, ok := parseInt(argv[numkeysIdx])
	if !ok || numkeys < 1 {
		c.Error(errNumkeys)
		return 0, 0, false, 0, false
	}
	if numkeys >= int64(len(argv)) {
		c.Error(errSyntax)
		return 0, 0, false, 0, false
	}
	whereIdx := numkeysIdx + 1 + int(numkeys)
	if whereIdx >= len(argv) {
		c.Error(errSyntax)
		return 0, 0, false, 0, false
	}
	switch {
	case eqFold(argv[whereIdx], "min"):
	case eqFold(argv[whereIdx], "max"):
		max = true
	default:
		c.Error(errSyntax)
		return 0, 0, false, 0, false
	}
	if count, ok = parseMPopCount(c, argv, whereIdx+1); !ok {
		return 0, 0, false, 0, false
	}
	return numkeysIdx + 1, whereIdx - 1, max, count, true
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: from the first key
// holding a sorted set, [key, [[member, score] ...]] with up to count
// members; a null array when there is none. O(numkeys + count log n).
func zmpopCmd(s *Shard, c *Client, argv [][]byte) {
	first, last, max, count, ok := parseZmpop(c, argv, 1)
	if !ok {
		return
	}
	if found, ok := s.zpopFirst(c, argv[first:last+1], max, count, zpopKeyNest); ok && !found {
		c.NullArray()
	}
}

// BZPOPMIN key [key ...] timeout / BZPOPMAX: [key, member, score] from the
// first key holding a sorted set; else the client blocks until one of the
// keys gets members (then served from that key) or the timeout (seconds,
// fractional; 0 for ever) passes: a null array. O(keys + log n).
func bzpopminCmd(s *Shard, c *Client, argv [][]byte) { bzpopGeneric(s, c, argv, false) }
func bzpopmaxCmd(s *Shard, c *Client, argv [][]byte) { bzpopGeneric(s, c, argv, true) }

func bzpopGeneric(s *Shard, c *Client, argv [][]byte, max bool) {
	deadline, ok := s.parseBlockTimeout(c, argv[len(argv)-1])
	if !ok {
		return
	}
	if found, ok := s.zpopFirst(c, argv[1:len(argv)-1], max, 1, zpopKeyFlat); !ok || found {
		return
	}
	s.blockClientOn(c, argv, 1, len(argv)-2, deadline, typeZSet)
}

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: ZMPOP that
// blocks as BZPOPMIN does when no key holds a sorted set. O(numkeys +
// count log n).
func bzmpopCmd(s *Shard, c *Client, argv [][]byte) {
	first, last, max, count, ok := parseZmpop(c, argv, 2)
	if !ok {
		return
	}
	deadline, ok := s.parseBlockTimeout(c, argv[1])
	if !ok {
		return
	}
	if found, ok := s.zpopFirst(c, argv[first:last+1], max, count, zpopKeyNest); !ok || found {
		return
	}
	s.blockClientOn(c, argv, first, last, deadline, typeZSet)
}

// ---- ZUNION, ZINTER, ZDIFF and their *STORE forms, ZINTERCARD --------------

// zsetOp is one of the set operations.
type zsetOp uint8

const (
	zopUnion zsetOp = iota
	zopInter
	zopDiff
)

// Aggregates of ZUNION and ZINTER.
const (
	aggSum uint8 = iota
	aggMin
	aggMax
)

// zsrc is one input of a set operation: a sorted set, a set (every member
// scoring 1) or nothing (an absent key).
type zsrc struct {
	z      *zsetObj
	set    *setObj
	weight float64
}

func (x *zsrc) size() int {
	switch {
	case x.z != nil:
		return x.z.size()
	case x.set != nil:
		return x.set.size()
	}
	return 0
}

// each calls fn with every member and score. O(size).
func (x *zsrc) each(fn func(m []byte, score float64)) {
	switch {
	case x.z != nil:
		x.z.each(func(m []byte, sc float64) bool { fn(m, sc); return true })
	case x.set != nil:
		var buf [20]byte
		x.set.each(func(e setElem) bool { fn(e.bytes(buf[:0]), 1); return true })
	}
}

// find returns m's score in the input. O(1) for skiplists and hashtables,
// O(n) for listpacks, O(log n) for intsets.
func (x *zsrc) find(m []byte) (float64, bool) {
	switch {
	case x.z != nil:
		return x.z.score(m)
	case x.set != nil:
		return 1, x.set.has(m)
	}
	return 0, false
}

// zresult collects a set operation's result: members in one buffer.
type zresult struct {
	buf   []byte
	items []zitem
	index map[string]int // union: member → item
}

type zitem struct {
	off, n int
	score  float64
}

func (r *zresult) add(m []byte, score float64) {
	r.items = append(r.items, zitem{off: len(r.buf), n: len(m), score: score})
	r.buf = append(r.buf, m...)
}

func (r *zresult) member(it zitem) []byte { return r.buf[it.off : it.off+it.n] }

// sort orders the result by score, then member, as a sorted set holds it.
func (r *zresult) sort() {
	slices.SortFunc(r.items, func(a, b zitem) int {
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		return bytesCompare(r.member(a), r.member(b))
	})
}

func bytesCompare(a, b []byte) int {
	if string(a) < string(b) {
		return -1
	}
	if string(a) > string(b) {
		return 1
	}
	return 0
}

// aggregate folds v into *acc (Redis's zunionInterAggregate): a sum that
// comes out NaN (inf + -inf) is 0.
func aggregate(acc *float64, v float64, agg uint8) {
	switch agg {
	case aggSum:
		*acc += v
		if *acc != *acc {
			*acc = 0
		}
	case aggMin:
		*acc = min(*acc, v)
	case aggMax:
		*acc = max(*acc, v)
	}
}

// weighted is score times weight, 0 when that is NaN (0 * inf).
func weighted(score, weight float64) float64 {
	v := score * weight
	if v != v {
		return 0
	}
	return v
}

// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
// [WITHSCORES]: the union, ordered by score. O(N) + O(M log M), N the
// total input size, M the result's.
func zunionCmd(s *Shard, c *Client, argv [][]byte) {
	zsetOpGeneric(s, c, argv, nil, 1, zopUnion, false)
}

// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]
// [WITHSCORES]: the intersection. O(N*K) + O(M log M), N the smallest
// input, K the number of inputs.
func zinterCmd(s *Shard, c *Client, argv [][]byte) {
	zsetOpGeneric(s, c, argv, nil, 1, zopInter, false)
}

// ZDIFF numkeys key [key ...] [WITHSCORES]: the members of the first
// input in none of the others. O(N*K) + O(M log M).
func zdiffCmd(s *Shard, c *Client, argv [][]byte) { zsetOpGeneric(s, c, argv, nil, 1, zopDiff, false) }

// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS ...]
// [AGGREGATE ...]: the union stored at destination (deleted when empty);
// its size. Costs as ZUNION.
func zunionstoreCmd(s *Shard, c *Client, argv [][]byte) {
	zsetOpGeneric(s, c, argv, argv[1], 2, zopUnion, false)
}

// ZINTERSTORE destination numkeys key ... : ZINTER stored. Costs as ZINTER.
func zinterstoreCmd(s *Shard, c *Client, argv [][]byte) {
	zsetOpGeneric(s, c, argv, argv[1], 2, zopInter, false)
}

// ZDIFFSTORE destination numkeys key ... : ZDIFF stored. Costs as ZDIFF.
func zdiffstoreCmd(s *Shard, c *Client, argv [][]byte) {
	zsetOpGeneric(s, c, argv, argv[1], 2, zopDiff, false)
}

// ZINTERCARD numkeys key [key ...] [LIMIT limit]: the size of the
// intersection, counting stopping at limit (0: no limit). O(N*K).
func zintercardCmd(s *Shard, c *Client, argv [][]byte) {
	zsetOpGeneric(s, c, argv, nil, 1, zopInter, true)
}

// zsetOpGeneric is Redis's zunionInterDiffGenericCommand.
func zsetOpGeneric(s *Shard, c *Client, argv [][]byte, dst []byte, numkeysIdx int, op zsetOp, cardOnly bool) {
	setnum, ok := parseInt(argv[numkeysIdx])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if setnum < 1 {
		c.Error("ERR at least 1 input key is needed for '" + s.cmdName(c, argv) + "' command")
		return
	}
	if setnum > int64(len(argv)-numkeysIdx-1) {
		c.Error(errSyntax)
		return
	}
	src := make([]zsrc, setnum)
	j := numkeysIdx + 1
	for i := range src {
		var r kv.Ref
		if dst != nil {
			r = s.lookup(argv[j])
		} else {
			r = s.lookupRead(argv[j])
		}
		j++
		src[i].weight = 1
		if r == kv.Nil {
			continue
		}
		switch s.typeOf(r) {
		case typeZSet:
			src[i].z = s.zsetAt(r)
		case typeSet:
			src[i].set = s.setAt(r)
		default:
			c.Error(errWrongType)
			return
		}
	}
	agg, withScores, limit := aggSum, false, int64(0)
	for j < len(argv) {
		remaining := len(argv) - j
		a := argv[j]
		switch {
		case op != zopDiff && !cardOnly && remaining >= len(src)+1 && eqFold(a, "weights"):
			j++
			for i := range src {
				w, ok := parseScore(argv[j])
				if !ok {
					c.Error(errZWeightFloat)
					return
				}
				src[i].weight = w
				j++
			}
		case op != zopDiff && !cardOnly && remaining >= 2 && eqFold(a, "aggregate"):
			switch v := argv[j+1]; {
			case eqFold(v, "sum"):
				agg = aggSum
			case eqFold(v, "min"):
				agg = aggMin
			case eqFold(v, "max"):
				agg = aggMax
			default:
				c.Error(errSyntax)
				return
			}
			j += 2
		case dst == nil && !cardOnly && eqFold(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && eqFold(a, "limit"):
			n, ok := parseInt(argv[j+1])
			if !ok || n < 0 {
				c.Error(errZLimitNeg)
				return
			}
			limit = n
			j += 2
		default:
			c.Error(errSyntax)
			return
		}
	}
	var res zresult
	switch op {
	case zopUnion:
		zunionInto(&res, src, agg)
	case zopInter:
		if n := zinterInto(&res, src, agg, cardOnly, limit); cardOnly {
			c.Int(int64(n))
			return
		}
	case zopDiff:
		zdiffInto(&res, src)
	}
	res.sort()
	if dst != nil {
		s.storeZresult(c, dst, &res, zstoreEvents[op])
		return
	}
	if withScores && !c.Resp3 {
		c.ArrayLen(2 * len(res.items))
	} else {
		c.ArrayLen(len(res.items))
	}
	for _, it := range res.items {
		if withScores && c.Resp3 {
			c.ArrayLen(2)
		}
		c.Bulk(res.member(it))
		if withScores {
			replyScore(c, it.score)
		}
	}
}

// cmdName is the running command's name as Redis prints it in errors.
func (s *Shard) cmdName(c *Client, argv [][]byte) string {
	if c.lastCmd != nil {
		return c.lastCmd.FullName
	}
	return string(argv[0])
}

// zunionInto aggregates every input into res. O(N).
func zunionInto(res *zresult, src []zsrc, agg uint8) {
	sortByCard(src)
	res.index = make(map[string]int, src[len(src)-1].size())
	for i := range src {
		x := &src[i]
		x.each(func(m []byte, sc float64) {
			v := weighted(sc, x.weight)
			if k, ok := res.index[string(m)]; ok {
				aggregate(&res.items[k].score, v, agg)
				return
			}
			res.index[string(m)] = len(res.items)
			res.add(m, v)
		})
	}
}

// zinterInto puts into res the members of the smallest input found in
// every other one, or only counts them (up to limit, 0 for all) when
// cardOnly. It returns the count. O(N*K).
func zinterInto(res *zresult, src []zsrc, agg uint8, cardOnly bool, limit int64) int {
	sortByCard(src)
	if src[0].size() == 0 {
		return 0
	}
	n := 0
	done := false
	src[0].each(func(m []byte, sc float64) {
		if done {
			return
		}
		acc := weighted(sc, src[0].weight)
		for j := 1; j < len(src); j++ {
			v, ok := src[j].find(m)
			if !ok {
				return
			}
			aggregate(&acc, weighted(v, src[j].weight), agg)
		}
		n++
		if cardOnly {
			done = limit > 0 && int64(n) >= limit
			return
		}
		res.add(m, acc)
	})
	return n
}

// zdiffInto puts into res the members of the first input that no other
// input has, with their scores. O(N*K).
func zdiffInto(res *zresult, src []zsrc) {
	src[0].each(func(m []byte, sc float64) {
		for j := 1; j < len(src); j++ {
			if _, ok := src[j].find(m); ok {
				return
			}
		}
		res.add(m, sc)
	})
}

// sortByCard orders the inputs from the smallest, stably.
func sortByCard(src []zsrc) {
	slices.SortStableFunc(src, func(a, b zsrc) int { return cmp.Compare(a.size(), b.size()) })
}

// zstoreEvents are the events of ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE.
var zstoreEvents = [...]string{zopUnion: "zunionstore", zopInter: "zinterstore", zopDiff: "zdiffstore"}

// storeZresult stores a sorted result at dst, a listpack when small
// enough (Redis's zsetConvertToListpackIfNeeded), deleting dst when it is
// empty, and replies its size; it sends event, or "del" for a deleted
// destination. O(M log M).
func (s *Shard) storeZresult(c *Client, dst []byte, res *zresult, event string) {
	if len(res.items) == 0 {
		if s.deleteKey(dst) {
			s.notify(notifyGeneric, "del", dst)
		}
		c.Int(0)
		return
	}
	maxLen := 0
	for _, it := range res.items {
		maxLen = max(maxLen, it.n)
	}
	var z *zsetObj
	if len(res.items) <= s.Config.ZsetMaxListpackEntries && int64(maxLen) <= s.Config.ZsetMaxListpackValue &&
		len(res.buf) < listpack.MaxSafeSize {
		z = &zsetObj{lp: listpack.New()}
		var sb [32]byte
		for _, it := range res.items {
			z.lp.Append(res.member(it))
			z.lp.Append(lpScoreBytes(sb[:0], it.score))
		}
	} else {
		z = &zsetObj{sk: zset.New()}
		for _, it := range res.items {
			z.sk.Insert(res.member(it), it.score)
		}
	}
	s.storeZset(dst, z)
	c.Int(int64(z.size()))
	s.notify(notifyZSet, event, dst)
}

// ---- ZRANDMEMBER, ZSCAN -----------------------------------------------------

// ZRANDMEMBER key [count [WITHSCORES]]: a random member (null for no key);
// with a count, up to count distinct members, or with a negative count
// exactly -count members that may repeat. O(1) / O(n) without a count,
// O(|count| log n) with one (O(n) when count reaches the size: the whole
// set, from the highest score down, as Redis replies it).
func zrandmemberCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) == 2 {
		z, _, ok := s.lookupZset(c, argv[1], true)
		if !ok {
			return
		}
		if z == nil {
			c.Null()
			return
		}
		it := z.iterRank(z.randomRank(s.rand64()), false)
		m, _, _ := it.next()
		c.Bulk(m)
		return
	}
	l, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if l == math.MinInt64 {
		c.Error(errSetRandCount)
		return
	}
	withScores := false
	if len(argv) > 4 || (len(argv) == 4 && !eqFold(argv[3], "withscores")) {
		c.Error(errSyntax)
		return
	} else if len(argv) == 4 {
		withScores = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.Error(errZValueOfRange)
			return
		}
	}
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.EmptyArray()
		return
	}
	uniq := l > 0
	count := l
	if !uniq {
		count = -l
	}
	size := int64(z.size())
	header := func(n int64) {
		if withScores && !c.Resp3 {
			c.ArrayLen(int(2 * n))
		} else {
			c.ArrayLen(int(n))
		}
	}
	one := func(m []byte, sc float64) {
		if withScores && c.Resp3 {
			c.ArrayLen(2)
		}
		c.Bulk(m)
		if withScores {
			replyScore(c, sc)
		}
	}
	if !uniq || count == 1 {
		header(count)
		for ; count > 0; count-- {
			it := z.iterRank(z.randomRank(s.rand64()), false)
			m, sc, _ := it.next()
			one(m, sc)
		}
		return
	}
	if count >= size {
		// The whole set, from the highest score down, as Redis's
		// zuiNext walks it.
		header(size)
		it := z.iterRank(0, true)
		for m, sc, ok := it.next(); ok; m, sc, ok = it.next() {
			one(m, sc)
		}
		return
	}
	// count < size: count distinct ranks (Floyd's sampling), replied in
	// a random order.
	n := int(count)
	picked := make(map[int]struct{}, n)
	ranks := make([]int, 0, n)
	for j := int(size) - n; j < int(size); j++ {
		t := int(s.rand64() % uint64(j+1))
		if _, dup := picked[t]; dup {
			t = j
		}
		picked[t] = struct{}{}
		ranks = append(ranks, t)
	}
	for i := len(ranks) - 1; i > 0; i-- {
		k := int(s.rand64() % uint64(i+1))
		ranks[i], ranks[k] = ranks[k], ranks[i]
	}
	header(count)
	for _, rk := range ranks {
		it := z.iterRank(rk, false)
		m, sc, _ := it.next()
		one(m, sc)
	}
}

// randomRank is a uniformly random rank of a non-empty set.
func (z *zsetObj) randomRank(rnd uint64) int {
	hi, _ := bits.Mul64(rnd, uint64(z.size()))
	return int(hi)
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]: [next cursor, [member,
// score ...]]. A listpack is returned whole with cursor 0; a skiplist is
// walked by its index buckets, about COUNT members per call (at most
// 10*COUNT buckets), as Redis's dictScan. O(COUNT) per call.
func zscanCmd(s *Shard, c *Client, argv [][]byte) {
	cursor, ok := parseScanCursor(argv[2])
	if !ok {
		c.Error(errInvalidCursor)
		return
	}
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	if z == nil {
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
	emit := func(m []byte, sc float64) {
		if usePat && !globMatch(pat, m, false) {
			return
		}
		c.Bulk(m)
		var sb [32]byte
		c.Bulk(resp.FormatDouble(sb[:0], sc))
		n += 2
	}
	if z.sk == nil {
		cursor = 0
		z.each(func(m []byte, sc float64) bool { emit(m, sc); return true })
	} else {
		sk := z.sk
		found := int64(0)
		maxIter := min(count, 1<<40) * 10
		fn := func(r zset.Ref) {
			found++
			emit(sk.Member(r), sk.ScoreOf(r))
		}
		for {
			cursor = sk.Scan(cursor, fn)
			maxIter--
			if cursor == 0 || maxIter <= 0 || found >= count {
				break
			}
		}
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
