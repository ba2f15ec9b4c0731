package engine

import (
	"bytes"
	"strconv"

	"shoal/engine/internal/kv"
	"shoal/engine/internal/listpack"
	"shoal/engine/internal/zset"
	"shoal/resp"
)

// zsetObj is the value of a sorted set key, in one of Redis 7.0's two
// encodings: a listpack of member, score, member, score ... ordered by
// (score, member) (encListpack) while the set is small, and a zset.Set
// (encSkiplist) once it is not. Scores go into the listpack as Redis's
// d2string writes them (integers as integer entries, others in %.17g),
// so the listpack's bytes are those Redis would hold.
//
// A sorted set becomes a skiplist when a member longer than
// zset-max-listpack-value is added or it would get more than
// zset-max-listpack-entries members, and never converts back in place;
// only sets built anew (the ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE and
// ZRANGESTORE results) start as listpacks again when they are small
// enough, as in Redis. The key's Meta carries the same encoding, kept in
// step by the commands (Shard.syncZsetEnc).
//
// A zsetObj belongs to the shard's loop, like the rest of the key space.
// A key never holds an empty sorted set: every command that removes
// members deletes the key when the last one goes. Member slices a zsetObj
// or its iterators hand out alias its memory (or the iterator's buffer)
// until its next change (or the iterator's next step).
type zsetObj struct {
	lp listpack.Listpack // members and scores while sk is nil
	sk *zset.Set         // the skiplist encoding; nil while a listpack
}

// newZsetObj makes the empty sorted set Redis's ZADD makes for a new key:
// a skiplist when the listpack limits allow nothing or the first member is
// already too long for them.
func newZsetObj(firstLen int, cfg *Config) *zsetObj {
	if cfg.ZsetMaxListpackEntries == 0 || int64(firstLen) > cfg.ZsetMaxListpackValue {
		return &zsetObj{sk: zset.New()}
	}
	return &zsetObj{lp: listpack.New()}
}

// newZsetSized makes the empty sorted set Redis's zsetTypeCreate makes for
// a result of size members whose longest member is maxLen bytes (the
// *STORE commands).
func newZsetSized(size, maxLen int, cfg *Config) *zsetObj {
	if size <= cfg.ZsetMaxListpackEntries && int64(maxLen) <= cfg.ZsetMaxListpackValue {
		return &zsetObj{lp: listpack.New()}
	}
	return &zsetObj{sk: zset.New()}
}

// enc is the encoding OBJECT ENCODING names.
func (z *zsetObj) enc() uint8 {
	if z.sk != nil {
		return encSkiplist
	}
	return encListpack
}

// size is the number of members. O(1).
func (z *zsetObj) size() int {
	if z.sk != nil {
		return z.sk.Len()
	}
	return z.lp.Len() / 2
}

// lpScoreAt reads the score entry at p (Redis's zzlGetScore).
func (z *zsetObj) lpScoreAt(p int) float64 {
	s, v, isInt := z.lp.Get(p)
	if isInt {
		return float64(v)
	}
	f, _ := strconv.ParseFloat(string(s), 64) // no allocation: the conversion does not escape
	return f
}

// lpFind finds member m in the listpack: the positions of its member and
// score entries. O(n).
func (z *zsetObj) lpFind(m []byte) (mp, sp int, ok bool) {
	p, ok := z.lp.First()
	if !ok {
		return 0, 0, false
	}
	if mp, ok = z.lp.Find(p, m, 1); !ok {
		return 0, 0, false
	}
	sp, _ = z.lp.Next(mp)
	return mp, sp, true
}

// score returns m's score. O(1) as a skiplist, O(n) as a listpack; no
// allocation.
func (z *zsetObj) score(m []byte) (float64, bool) {
	if z.sk != nil {
		return z.sk.Score(m)
	}
	_, sp, ok := z.lpFind(m)
	if !ok {
		return 0, false
	}
	return z.lpScoreAt(sp), true
}

// lpMemberLess reports whether the member entry at p orders before m.
func (z *zsetObj) lpMemberLess(p int, m []byte) bool {
	var buf [listpack.IntBufSize]byte
	return bytes.Compare(z.lp.GetBytes(p, &buf), m) < 0
}

// lpInsert inserts m with score at its place (Redis's zzlInsert); m must
// be absent. O(n).
func (z *zsetObj) lpInsert(m []byte, score float64) {
	var sb [32]byte
	sbytes := lpScoreBytes(sb[:0], score)
	for p, ok := z.lp.First(); ok; {
		sp, _ := z.lp.Next(p)
		s := z.lpScoreAt(sp)
		if s > score || (s == score && !z.lpMemberLess(p, m)) {
			p = z.lp.InsertBefore(p, m)
			z.lp.InsertAfter(p, sbytes)
			return
		}
		p, ok = z.lp.Next(sp)
	}
	z.lp.Append(m)
	z.lp.Append(sbytes)
}

// lpScoreBytes appends score as Redis 7.0's d2string writes it into a
// listpack: %.17g, integers in full, and a negative zero as "0".
func lpScoreBytes(dst []byte, score float64) []byte {
	if score == 0 {
		score = 0 // drops the sign of -0
	}
	return resp.FormatDouble(dst, score)
}

// lpDeleteAt removes the member at p and its score. O(n).
func (z *zsetObj) lpDeleteAt(p int) { z.lp.DeleteN(p, 2) }

// toSkiplist converts a listpack sorted set to a skiplist (Redis's
// zsetConvert). O(n log n).
func (z *zsetObj) toSkiplist() {
	if z.sk != nil {
		return
	}
	sk := zset.New()
	var buf [listpack.IntBufSize]byte
	for p, ok := z.lp.First(); ok; {
		sp, _ := z.lp.Next(p)
		sk.Insert(z.lp.GetBytes(p, &buf), z.lpScoreAt(sp))
		p, ok = z.lp.Next(sp)
	}
	z.sk, z.lp = sk, listpack.Listpack{}
}

// zaddFlags are ZADD's options (Redis's ZADD_IN_*).
type zaddFlags uint8

const (
	zaddIncr zaddFlags = 1 << iota
	zaddNX
	zaddXX
	zaddGT
	zaddLT
)

// zaddResult is what add did (Redis's ZADD_OUT_*).
type zaddResult uint8

const (
	zaddNop zaddResult = iota
	zaddAdded
	zaddUpdated
	zaddUnchanged // the member was processed and kept its score
	zaddNaN       // INCR would make the score NaN: nothing changed
)

// add is Redis's zsetAdd: it sets member m's score (or adds score to it
// with zaddIncr) under the NX/XX/GT/LT options, converting a listpack to
// a skiplist when m is too long for it or it would hold too many members.
// It returns what happened and the member's score afterwards. O(log n)
// as a skiplist, O(n) as a listpack; no allocation unless a container
// grows.
func (z *zsetObj) add(m []byte, score float64, fl zaddFlags, cfg *Config) (zaddResult, float64) {
	if z.sk == nil {
		if mp, sp, ok := z.lpFind(m); ok {
			if fl&zaddNX != 0 {
				return zaddNop, 0
			}
			cur := z.lpScoreAt(sp)
			res, score := zaddUpdate(cur, score, fl)
			if res == zaddUpdated {
				z.lpDeleteAt(mp)
				z.lpInsert(m, score)
			}
			return res, score
		}
		if fl&zaddXX != 0 {
			return zaddNop, 0
		}
		if z.size()+1 > cfg.ZsetMaxListpackEntries || int64(len(m)) > cfg.ZsetMaxListpackValue ||
			!z.lp.SafeToAdd(len(m)) {
			z.toSkiplist()
		} else {
			z.lpInsert(m, score)
			return zaddAdded, score
		}
	}
	if r := z.sk.Find(m); r != zset.Nil {
		if fl&zaddNX != 0 {
			return zaddNop, 0
		}
		res, score := zaddUpdate(z.sk.ScoreOf(r), score, fl)
		if res == zaddUpdated {
			z.sk.Update(r, score)
		}
		return res, score
	}
	if fl&zaddXX != 0 {
		return zaddNop, 0
	}
	z.sk.Insert(m, score)
	return zaddAdded, score
}

// zaddUpdate decides the new score of a present member whose score is cur.
func zaddUpdate(cur, score float64, fl zaddFlags) (zaddResult, float64) {
	if fl&zaddIncr != 0 {
		score += cur
		if score != score {
			return zaddNaN, 0
		}
	}
	if (fl&zaddLT != 0 && score >= cur) || (fl&zaddGT != 0 && score <= cur) {
		return zaddNop, 0
	}
	if score == cur {
		return zaddUnchanged, score
	}
	return zaddUpdated, score
}

// insertNew appends m (absent) with score while building a set anew; it
// converts as add does. O(log n) / O(n).
func (z *zsetObj) insertNew(m []byte, score float64, cfg *Config) {
	if z.sk == nil {
		if z.size()+1 > cfg.ZsetMaxListpackEntries || int64(len(m)) > cfg.ZsetMaxListpackValue ||
			!z.lp.SafeToAdd(len(m)) {
			z.toSkiplist()
		} else {
			z.lpInsert(m, score)
			return
		}
	}
	z.sk.Insert(m, score)
}

// remove deletes member m and reports whether it was present. O(log n) /
// O(n).
func (z *zsetObj) remove(m []byte) bool {
	if z.sk != nil {
		return z.sk.Delete(m)
	}
	mp, _, ok := z.lpFind(m)
	if ok {
		z.lpDeleteAt(mp)
	}
	return ok
}

// rank returns m's 0-based rank, from the highest score when rev. O(log
// n) / O(n).
func (z *zsetObj) rank(m []byte, rev bool) (int, bool) {
	if z.sk != nil {
		return z.sk.Rank(m, rev)
	}
	i := 0
	for p, ok := z.lp.First(); ok; i++ {
		if z.lp.Equal(p, m) {
			if rev {
				return z.size() - 1 - i, true
			}
			return i, true
		}
		sp, _ := z.lp.Next(p)
		p, ok = z.lp.Next(sp)
	}
	return 0, false
}

// zIter walks a sorted set of either encoding in ascending or descending
// order, optionally bounded by a score or lex range. It is a value; using
// it does not allocate. Any change to the set invalidates it.
type zIter struct {
	z     *zsetObj
	sit   zset.Iter
	p     int // listpack: position of the next member, when ok
	ok    bool
	rev   bool
	bound uint8 // boundless, score range or lex range (listpack only)
	sr    zset.Range
	lr    zset.LexRange
	buf   [listpack.IntBufSize]byte
}

const (
	zBoundNone uint8 = iota
	zBoundScore
	zBoundLex
)

// iterRank starts at rank start (counted from the top when rev). O(log n)
// / O(n).
func (z *zsetObj) iterRank(start int, rev bool) zIter {
	it := zIter{z: z, rev: rev}
	if z.sk != nil {
		it.sit = z.sk.IterRank(start, rev)
		return it
	}
	n := z.size()
	if start < 0 || start >= n {
		return it
	}
	i := start
	if rev {
		i = n - 1 - start
	}
	it.p, it.ok = z.lp.Seek(2 * i)
	return it
}

// iterScore walks the members with scores in r, from the lowest (the
// highest when rev). O(log n) / O(n) to start.
func (z *zsetObj) iterScore(r zset.Range, rev bool) zIter {
	it := zIter{z: z, rev: rev, bound: zBoundScore, sr: r}
	if z.sk != nil {
		it.sit = z.sk.IterRange(r, rev)
		return it
	}
	if r.Empty() {
		return it
	}
	it.p, it.ok = it.lpStart()
	for it.ok {
		sp, _ := z.lp.Next(it.p)
		s := z.lpScoreAt(sp)
		if rev {
			if r.LteMax(s) {
				it.ok = r.GteMin(s)
				return it
			}
		} else if r.GteMin(s) {
			it.ok = r.LteMax(s)
			return it
		}
		it.step()
	}
	return it
}

// iterLex walks the members in r, from the lowest (the highest when rev).
func (z *zsetObj) iterLex(r zset.LexRange, rev bool) zIter {
	it := zIter{z: z, rev: rev, bound: zBoundLex, lr: r}
	if z.sk != nil {
		it.sit = z.sk.IterLex(r, rev)
		return it
	}
	if r.Empty() {
		return it
	}
	it.p, it.ok = it.lpStart()
	for it.ok {
		m := z.lp.GetBytes(it.p, &it.buf)
		if rev {
			if r.LteMax(m) {
				it.ok = r.GteMin(m)
				return it
			}
		} else if r.GteMin(m) {
			it.ok = r.LteMax(m)
			return it
		}
		it.step()
	}
	return it
}

// lpStart is the member position a listpack walk starts from.
func (it *zIter) lpStart() (int, bool) {
	if it.rev {
		p, ok := it.z.lp.Seek(-2)
		return p, ok
	}
	return it.z.lp.First()
}

// step moves a listpack walk to the next member, unbounded.
func (it *zIter) step() {
	lp := &it.z.lp
	if it.rev {
		if it.p, it.ok = lp.Prev(it.p); it.ok {
			it.p, it.ok = lp.Prev(it.p)
		}
		return
	}
	sp, _ := lp.Next(it.p)
	it.p, it.ok = lp.Next(sp)
}

// next returns the next member (aliasing the set or the iterator) and its
// score; ok is false at the end. O(1).
func (it *zIter) next() (m []byte, score float64, ok bool) {
	if it.z.sk != nil {
		return it.sit.Next()
	}
	if !it.ok {
		return nil, 0, false
	}
	lp := &it.z.lp
	sp, _ := lp.Next(it.p)
	m, score = lp.GetBytes(it.p, &it.buf), it.z.lpScoreAt(sp)
	it.step()
	if it.ok && it.bound != zBoundNone {
		it.ok = it.within()
	}
	return m, score, true
}

// within reports whether the listpack member at it.p is inside the far
// bound of the walk.
func (it *zIter) within() bool {
	lp := &it.z.lp
	if it.bound == zBoundScore {
		sp, _ := lp.Next(it.p)
		s := it.z.lpScoreAt(sp)
		if it.rev {
			return it.sr.GteMin(s)
		}
		return it.sr.LteMax(s)
	}
	var buf [listpack.IntBufSize]byte
	m := lp.GetBytes(it.p, &buf)
	if it.rev {
		return it.lr.GteMin(m)
	}
	return it.lr.LteMax(m)
}

// skip passes up to k elements. O(k).
func (it *zIter) skip(k int) {
	for ; k > 0; k-- {
		if _, _, ok := it.next(); !ok {
			return
		}
	}
}

// countScore is the number of members with scores in r: ZCOUNT. O(log n)
// / O(n).
func (z *zsetObj) countScore(r zset.Range) int {
	if z.sk != nil {
		return z.sk.Count(r)
	}
	n := 0
	it := z.iterScore(r, false)
	for _, _, ok := it.next(); ok; _, _, ok = it.next() {
		n++
	}
	return n
}

// countLex is the number of members in r: ZLEXCOUNT. O(log n) / O(n).
func (z *zsetObj) countLex(r zset.LexRange) int {
	if z.sk != nil {
		return z.sk.CountLex(r)
	}
	n := 0
	it := z.iterLex(r, false)
	for _, _, ok := it.next(); ok; _, _, ok = it.next() {
		n++
	}
	return n
}

// lpDeleteWhere removes the listpack members for which in reports true
// (a contiguous run, since ranges are) and returns how many. O(n).
func (z *zsetObj) lpDeleteWhere(in func(p, sp int) bool) int {
	first, n, i := -1, 0, 0
	for p, ok := z.lp.First(); ok; i++ {
		sp, _ := z.lp.Next(p)
		if in(p, sp) {
			if first < 0 {
				first = i
			}
			n++
		} else if first >= 0 {
			break
		}
		p, ok = z.lp.Next(sp)
	}
	if n > 0 {
		z.lp.DeleteRange(2*first, 2*n)
	}
	return n
}

// deleteScore removes the members with scores in r: ZREMRANGEBYSCORE.
// O(log n + removed) / O(n).
func (z *zsetObj) deleteScore(r zset.Range) int {
	if z.sk != nil {
		return z.sk.DeleteRange(r)
	}
	if r.Empty() {
		return 0
	}
	return z.lpDeleteWhere(func(_, sp int) bool { return r.Contains(z.lpScoreAt(sp)) })
}

// deleteLex removes the members in r: ZREMRANGEBYLEX.
func (z *zsetObj) deleteLex(r zset.LexRange) int {
	if z.sk != nil {
		return z.sk.DeleteLex(r)
	}
	if r.Empty() {
		return 0
	}
	var buf [listpack.IntBufSize]byte
	return z.lpDeleteWhere(func(p, _ int) bool { return r.Contains(z.lp.GetBytes(p, &buf)) })
}

// deleteRanks removes ranks start..stop (0-based, inclusive, within the
// set): ZREMRANGEBYRANK.
func (z *zsetObj) deleteRanks(start, stop int) int {
	if z.sk != nil {
		return z.sk.DeleteRanks(start, stop)
	}
	z.lp.DeleteRange(2*start, 2*(stop-start+1))
	return stop - start + 1
}

// popReply removes the lowest-scored member (the highest when max) and
// writes it: the member, then its score (a double in RESP3, a bulk
// string in RESP2). The set must not be empty. O(log n) / O(n).
func (z *zsetObj) popReply(c *Client, max bool) {
	if z.sk != nil {
		var m []byte
		var score float64
		if max {
			m, score, _ = z.sk.PopMax()
		} else {
			m, score, _ = z.sk.PopMin()
		}
		c.Bulk(m)
		c.Double(score)
		return
	}
	it := z.iterRank(0, max)
	m, score, _ := it.next()
	c.Bulk(m)
	c.Double(score)
	if max {
		z.lp.DeleteRange(-2, 2)
	} else {
		z.lp.DeleteRange(0, 2)
	}
}

// each calls fn with every member and score in ascending order until fn
// returns false. fn must not change z. O(n).
func (z *zsetObj) each(fn func(m []byte, score float64) bool) {
	it := z.iterRank(0, false)
	for m, sc, ok := it.next(); ok; m, sc, ok = it.next() {
		if !fn(m, sc) {
			return
		}
	}
}

// copyValue is COPY's deep copy, in the same encoding. O(n).
func (z *zsetObj) copyValue() any {
	if z.sk == nil {
		return &zsetObj{lp: z.lp.Clone()}
	}
	sk := zset.New()
	for it := z.sk.IterRank(0, false); ; {
		m, sc, ok := it.Next()
		if !ok {
			break
		}
		sk.Insert(m, sc)
	}
	return &zsetObj{sk: sk}
}

// zsetAt is the sorted set at r, which must hold one.
func (s *Shard) zsetAt(r kv.Ref) *zsetObj { return s.db.Obj(r).(*zsetObj) }

// syncZsetEnc records z's encoding in the Meta of r after a change that
// may have converted it. O(1).
func (s *Shard) syncZsetEnc(r kv.Ref, z *zsetObj) {
	m := s.db.Meta(r)
	if enc := z.enc(); metaEnc(m) != enc {
		s.db.SetMeta(r, makeMeta(typeZSet, enc, metaLRU(m)))
	}
}

// storeZset files z at key (a *STORE destination): it replaces whatever
// key held, of any type, and drops its time to live, as Redis's setKey
// does ("new" when the key is created). z must not be empty.
func (s *Shard) storeZset(key []byte, z *zsetObj) {
	m := makeMeta(typeZSet, z.enc(), s.newClock)
	if r := s.lookup(key); r != kv.Nil {
		s.db.SetObject(r, z)
		s.db.SetMeta(r, s.overwriteMeta(r, m))
		s.db.SetExpire(r, kv.NoExpire)
	} else {
		s.db.InsertObject(key, z, m, kv.NoExpire)
		s.notifyNew(key)
	}
	s.dirty++
}
