package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"shoal/engine/internal/kv"
)

// The HyperLogLog family: PFADD, PFCOUNT, PFMERGE and PFDEBUG, with Redis
// 7.0's semantics, replies and errors (hyperloglog.c). Values are strings
// in Redis's format (hllobj.go), changed in place in the key space.
//
// PFCOUNT and PFMERGE of several keys gather the registers in a 16 KB
// array on the shard loop's stack: no allocation per call.

// Errors only this family replies.
const (
	errNotHLL     = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errInvalidHLL = "INVALIDOBJ Corrupted HLL object detected"
)

func init() {
	register(
		&Command{Name: "pfadd", Arity: -2,
			Flags: FlagWrite | FlagDenyOOM | FlagFast,
			ACL:   "@hyperloglog",
			Group: "hyperloglog", Since: "2.8.9",
			Summary:    "Adds the specified elements to the specified HyperLogLog.",
			Complexity: "O(1) to add every element.",
			Keys:       []KeySpec{{Flags: "RW INSERT", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key [element...]",
			Proc:       pfaddCmd,
		},
		&Command{Name: "pfcount", Arity: -2,
			Flags: FlagReadonly | FlagMayReplicate,
			ACL:   "@hyperloglog",
			Group: "hyperloglog", Since: "2.8.9",
			Summary:    "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
			Complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
			Keys:       []KeySpec{{Flags: "RW ACCESS", Notes: "RW because it may change the internal representation of the key, and propagate to replicas", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "key...",
			Proc:       pfcountCmd,
		},
		&Command{Name: "pfmerge", Arity: -2,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@hyperloglog",
			Group: "hyperloglog", Since: "2.8.9",
			Summary:    "Merge N different HyperLogLogs into a single one.",
			Complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
			Keys:       []KeySpec{{Flags: "RW ACCESS INSERT", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 2, LastKey: -1, Step: 1}},
			Syntax:     "destkey:key sourcekey:key...",
			Proc:       pfmergeCmd,
		},
		&Command{Name: "pfselftest", Arity: 1,
			Flags: FlagAdmin,
			ACL:   "@hyperloglog",
			Group: "hyperloglog", Since: "2.8.9",
			Summary:    "An internal command for testing HyperLogLog values",
			Complexity: "N/A",
			DocFlags:   []string{"syscmd"},
			Syntax:     "",
			Proc:       pfselftestCmd,
		},
		&Command{Name: "pfdebug", Arity: 3,
			Flags: FlagWrite | FlagDenyOOM | FlagAdmin,
			ACL:   "@hyperloglog",
			Group: "hyperloglog", Since: "2.8.9",
			Summary:    "Internal commands for debugging HyperLogLog values",
			Complexity: "N/A",
			Keys:       []KeySpec{{Flags: "RW ACCESS", Begin: 2, LastKey: 0, Step: 1}},
			DocFlags:   []string{"syscmd"},
			Syntax:     "subcommand key",
			Proc:       pfdebugCmd,
		},
	)
}

// checkHLL is Redis's isHLLObjectOrReply for the string key at r: it
// replies WRONGTYPE for another type or a string that is no HLL.
func (s *Shard) checkHLL(c *Client, r kv.Ref) bool {
	if s.typeOf(r) != typeString {
		c.Error(errWrongType)
		return false
	}
	if !hllValid(s.db.Str(r)) {
		c.Error(errNotHLL)
		return false
	}
	return true
}

// writableString makes the string at r raw (as Redis unshares a value it
// changes in place) and returns its bytes for writing, valid until the
// key is next changed. O(1).
func (s *Shard) writableString(r kv.Ref) []byte {
	if m := s.db.Meta(r); metaEnc(m) != encRaw {
		s.db.SetMeta(r, makeMeta(typeString, encRaw, metaLRU(m)))
	}
	return s.db.ResizeString(r, len(s.db.Str(r)))
}

// newHLL stores an empty HyperLogLog at the absent key.
func (s *Shard) newHLL(key []byte) kv.Ref {
	r := s.db.InsertString(key, hllEmpty[:], makeMeta(typeString, encRaw, s.newClock), kv.NoExpire)
	s.notifyNew(key)
	return r
}

// pfaddCmd: O(1) per element for a dense value, O(sparse length) for a
// sparse one (at most hll-sparse-max-bytes).
func pfaddCmd(s *Shard, c *Client, argv [][]byte) {
	key := argv[1]
	r := s.lookup(key)
	updated := int64(0)
	if r == kv.Nil {
		r = s.newHLL(key)
		updated++
	} else if !s.checkHLL(c, r) {
		return
	}
	h := hllValue{db: s.db, r: r, b: s.writableString(r), maxSparse: s.Config.HLLSparseMaxBytes}
	for _, ele := range argv[2:] {
		switch h.add(ele) {
		case 1:
			updated++
		case -1:
			c.Error(errInvalidHLL)
			return
		}
	}
	if updated == 0 {
		c.Int(0)
		return
	}
	hllInvalidateCache(h.b)
	s.dirty += updated
	s.notify(notifyString, "pfadd", key)
	c.Int(1)
}

// pfcountCmd: O(1) when the cached cardinality is fresh, otherwise
// O(registers) per key.
func pfcountCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) > 2 {
		var max [hllRegisters]uint8
		for _, key := range argv[1:] {
			r := s.lookupRead(key)
			if r == kv.Nil {
				continue
			}
			if !s.checkHLL(c, r) {
				return
			}
			if !hllMerge(&max, s.db.Str(r)) {
				c.Error(errInvalidHLL)
				return
			}
		}
		var histo [64]int
		hllRawHisto(&max, &histo)
		c.Int(int64(hllCountHisto(&histo)))
		return
	}
	r := s.lookupRead(argv[1])
	if r == kv.Nil {
		c.Int(0)
		return
	}
	if !s.checkHLL(c, r) {
		return
	}
	b := s.writableString(r)
	if hllCacheValid(b) {
		c.Int(int64(hllCachedCard(b)))
		return
	}
	var histo [64]int
	if !hllHisto(b, &histo) {
		c.Error(errInvalidHLL)
		return
	}
	card := hllCountHisto(&histo)
	hllSetCachedCard(b, card)
	s.dirty++
	c.Int(int64(card))
}

// pfmergeCmd: O(registers) per source key, and up to O(registers ×
// hll-sparse-max-bytes) to write a sparse destination, as in Redis.
func pfmergeCmd(s *Shard, c *Client, argv [][]byte) {
	var max [hllRegisters]uint8
	useDense := false
	for _, key := range argv[1:] {
		r := s.lookupRead(key)
		if r == kv.Nil {
			continue
		}
		if !s.checkHLL(c, r) {
			return
		}
		b := s.db.Str(r)
		if b[4] == hllDense {
			useDense = true
		}
		if !hllMerge(&max, b) {
			c.Error(errInvalidHLL)
			return
		}
	}
	dst := argv[1]
	r := s.lookup(dst)
	if r == kv.Nil {
		r = s.newHLL(dst)
	}
	h := hllValue{db: s.db, r: r, b: s.writableString(r), maxSparse: s.Config.HLLSparseMaxBytes}
	if useDense && !h.toDense() {
		c.Error(errInvalidHLL)
		return
	}
	for i, v := range max {
		if v != 0 {
			h.set(i, v)
		}
	}
	hllInvalidateCache(h.b)
	s.dirty++
	// PFMERGE sends PFADD's event, as Redis does.
	s.notify(notifyString, "pfadd", dst)
	c.OK()
}

// pfdebugCmd: GETREG (O(registers)), DECODE (O(length)), ENCODING and
// TODENSE (O(registers)).
func pfdebugCmd(s *Shard, c *Client, argv [][]byte) {
	sub := argv[1]
	r := s.lookup(argv[2])
	if r == kv.Nil {
		c.Error("ERR The specified key does not exist")
		return
	}
	if !s.checkHLL(c, r) {
		return
	}
	h := hllValue{db: s.db, r: r, b: s.writableString(r), maxSparse: s.Config.HLLSparseMaxBytes}
	switch {
	case eqFold(sub, "getreg"):
		if h.b[4] == hllSparse {
			if !h.toDense() {
				c.Error(errInvalidHLL)
				return
			}
			s.dirty++
		}
		c.ArrayLen(hllRegisters)
		regs := h.b[hllHdrSize:]
		for i := range hllRegisters {
			c.Int(int64(hllDenseGet(regs, i)))
		}
	case eqFold(sub, "decode"):
		if h.b[4] != hllSparse {
			c.Error("ERR HLL encoding is not sparse")
			return
		}
		var out []byte
		b := h.b
		for p := hllHdrSize; p < len(b); {
			if len(out) > 0 {
				out = append(out, ' ')
			}
			switch op := b[p]; {
			case hllIsZero(op):
				out = append(out, "z:"...)
				out = strconv.AppendInt(out, int64(hllZeroLen(op)), 10)
				p++
			case hllIsXZero(op):
				out = append(out, "Z:"...)
				out = strconv.AppendInt(out, int64(hllXZeroLen(op, byteAt(b, p+1))), 10)
				p += 2
			default:
				out = append(out, "v:"...)
				out = strconv.AppendInt(out, int64(hllValValue(op)), 10)
				out = append(out, ',')
				out = strconv.AppendInt(out, int64(hllValLen(op)), 10)
				p++
			}
		}
		c.Bulk(out)
	case eqFold(sub, "encoding"):
		if h.b[4] == hllDense {
			c.Simple("dense")
		} else {
			c.Simple("sparse")
		}
	case eqFold(sub, "todense"):
		if h.b[4] != hllSparse {
			c.Int(0)
			return
		}
		if !h.toDense() {
			c.Error(errInvalidHLL)
			return
		}
		s.dirty++
		c.Int(1)
	default:
		c.Error("ERR Unknown PFDEBUG subcommand '" + string(cString(sub)) + "'")
	}
}

// hllTestCycles is how many times PFSELFTEST fills every register.
const hllTestCycles = 1000

// pfselftestCmd is Redis's PFSELFTEST, run on this implementation:
//  1. every register of a dense array keeps the value last written to it,
//     writing one disturbing none of its neighbours (hllTestCycles rounds
//     of random values);
//  2. adding 1 to 10,000,000 distinct elements to a sparse value (which
//     turns dense as it must) and to a dense one, at every power of ten
//     the sparse value is still sparse below hll-sparse-max-bytes/2
//     elements, both count the same, and the count is within six
//     standard errors (1.04/sqrt(registers)) of the truth (1 at 10).
//
// It works on values of its own (the key space is not touched) and holds
// the loop for the time it takes, a fraction of a second, as in Redis.
func pfselftestCmd(s *Shard, c *Client, argv [][]byte) {
	regs := make([]byte, hllDenseSize-hllHdrSize)
	var want [hllRegisters]uint8
	for range hllTestCycles {
		for i := range want {
			want[i] = uint8(rand.IntN(hllRegisterMax + 1))
			hllDenseSetReg(regs, i, want[i])
		}
		for i, w := range want {
			if got := hllDenseGet(regs, i); got != w {
				c.Error(fmt.Sprintf("TESTFAILED Register %d should be %d but is %d", i, w, got))
				return
			}
		}
	}

	st := kv.New()
	value := func(key string) hllValue {
		r := st.InsertString([]byte(key), hllEmpty[:], 0, kv.NoExpire)
		return hllValue{db: st, r: r, b: st.ResizeString(r, len(hllEmpty)), maxSparse: s.Config.HLLSparseMaxBytes}
	}
	count := func(b []byte) uint64 {
		var histo [64]int
		hllHisto(b, &histo)
		return hllCountHisto(&histo)
	}
	sparse, dense := value("sparse"), value("dense")
	dense.toDense()
	relErr := 1.04 / math.Sqrt(hllRegisters)
	seed := rand.Uint64()
	var ele [8]byte
	checkpoint := uint64(1)
	for j := uint64(1); j <= 10_000_000; j++ {
		binary.LittleEndian.PutUint64(ele[:], j^seed)
		dense.add(ele[:])
		sparse.add(ele[:])
		if j != checkpoint {
			continue
		}
		if int64(j) < s.Config.HLLSparseMaxBytes/2 && sparse.b[4] != hllSparse {
			c.Error("TESTFAILED sparse encoding not used")
			return
		}
		card := count(dense.b)
		if card != count(sparse.b) {
			c.Error("TESTFAILED dense/sparse disagree")
			return
		}
		maxErr := uint64(math.Ceil(relErr * 6 * float64(checkpoint)))
		if j == 10 {
			maxErr = 1 // a collision among ten elements is not that unlikely
		}
		absErr := card - checkpoint
		if card < checkpoint {
			absErr = checkpoint - card
		}
		if absErr > maxErr {
			c.Error(fmt.Sprintf("TESTFAILED Too big error. card:%d abserr:%d", checkpoint, absErr))
			return
		}
		checkpoint *= 10
	}
	c.OK()
}
