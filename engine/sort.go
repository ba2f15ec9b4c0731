package engine

import (
	"bytes"
	"cmp"
	"slices"

	"shoal/cluster"
	"shoal/engine/internal/kv"
	"shoal/engine/internal/listpack"
)

// SORT and SORT_RO, as Redis 7.0's sort.c: the elements of a list, set or
// sorted set ordered numerically (by default) or as strings (ALPHA), by
// themselves or by weights read from other keys (BY pattern, "->field"
// for a hash field; a pattern without '*' skips sorting), a window of
// them (LIMIT offset count), and for each either the element or values
// read from other keys (GET pattern, "#" for the element itself), replied
// or stored as a list (STORE destination, SORT only).
//
// Comparison is Redis's: numeric weights are read with C's strtod (the
// whole value must be a number, NaN and out-of-range values are errors)
// and equal weights order by the elements' bytes; ALPHA compares bytes up
// to the first NUL as strcoll does in the C locale, and plain bytes when
// the result is stored, as Redis does. Elements that compare equal keep
// their input order (glibc's qsort is a merge sort), so ALPHA BY with
// equal weights keeps the list's or sorted set's order; a set's own order
// is Shoal's and may differ from Redis's there.
//
// As in Redis, sorting a sorted set converts it to the skiplist encoding
// first, and a BY pattern without '*' on a set that is stored is replaced
// by an ALPHA sort, so that what is stored does not depend on the set's
// internal order.
//
// In cluster mode a BY or GET pattern is refused unless every key it can
// form hashes to the slot of the key sorted: the pattern must carry that
// slot's hash tag before any '*' (Redis's patternHashSlot); "#" is always
// allowed. Redis 7.0.15 refused every pattern there with "BY option of
// SORT denied in Cluster mode." (likewise GET, "#" included); Shoal
// follows later Redis versions, which accept the patterns that stay in
// the slot and word the error as below.
//
// Cost: O(n) to load n elements plus O(n log n) to sort them (none with a
// constant BY), plus one key lookup per element for BY and per returned
// element and GET pattern. SORT copies the elements it sorts, so any
// number of lookups may run while it holds them; it allocates O(n).

// Errors only SORT replies.
const (
	errSortScore    = "ERR One or more scores can't be converted into double"
	errSortBySlots  = "ERR BY option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots."
	errSortGetSlots = "ERR GET option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots."
)

func init() {
	register(
		&Command{Name: "sort", Arity: -2,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@set @sortedset @list @dangerous",
			Group: "generic", Since: "1.0.0",
			Summary:    "Sort the elements in a list, set or sorted set",
			Complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
			Keys:       sortKeySpecs,
			Syntax:     "key [BY pattern:pattern#1] [LIMIT offset_count:(offset:integer count:integer)] [GET pattern:pattern#1...+] order:[ASC | DESC] [sorting:ALPHA] [STORE destination:key#2]",
			Proc:       sortCmd,
			GetKeys:    sortGetKeys,
		},
		&Command{Name: "sort_ro", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@set @sortedset @list @dangerous",
			Group: "generic", Since: "7.0.0",
			Summary:    "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
			Complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
			Keys:       sortROKeySpecs,
			Syntax:     "key [BY pattern:pattern#1] [LIMIT offset_count:(offset:integer count:integer)] [GET pattern:pattern#1...+] order:[ASC | DESC] [sorting:ALPHA]",
			Proc:       sortROCmd,
			GetKeys:    sortROGetKeys,
		},
	)
}

// The key specs of SORT and SORT_RO, Redis's: the key sorted, then specs
// of unknown position for the keys BY and GET patterns form and for the
// STORE destination, so that the commands' own key functions
// (sortGetKeys, sortROGetKeys) find their keys for cluster routing,
// COMMAND GETKEYS, WATCH and the AOF rewrite.
var (
	sortKeySpecs = []KeySpec{
		{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1},
		{Flags: "RO ACCESS", Unknown: true,
			Notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"},
		{Flags: "OW UPDATE", Unknown: true,
			Notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"},
	}
	sortROKeySpecs = sortKeySpecs[:2]
)

// sortGetKeys is Redis's sortGetKeys: the key sorted (read) and the
// destination of the last STORE (overwritten), skipping the arguments of
// LIMIT, GET and BY so that a pattern or count named "store" is not taken
// for the option.
func sortGetKeys(argv [][]byte) []keyPos {
	keys := []keyPos{{pos: 1, flags: "RO ACCESS"}}
	store := 0
	for i := 2; i < len(argv); i++ {
		switch a := argv[i]; {
		case eqFoldASCII(a, "limit"):
			i += 2
		case eqFoldASCII(a, "store") && i+1 < len(argv):
			store = i + 1
		case eqFoldASCII(a, "get"), eqFoldASCII(a, "by"):
			i++
		}
	}
	if store > 0 {
		keys = append(keys, keyPos{pos: store, flags: "OW UPDATE"})
	}
	return keys
}

// sortROGetKeys is Redis's sortROGetKeys: the key sorted.
func sortROGetKeys(argv [][]byte) []keyPos { return []keyPos{{pos: 1, flags: "RO ACCESS"}} }

// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
// [ALPHA] [STORE destination]: the sorted elements (or what GET reads for
// them); with STORE, their number, the result stored as a list at
// destination (deleted when the result is empty).
func sortCmd(s *Shard, c *Client, argv [][]byte) { sortGeneric(s, c, argv, false) }

// SORT_RO key ...: SORT without STORE, for replicas and read-only ACLs.
func sortROCmd(s *Shard, c *Client, argv [][]byte) { sortGeneric(s, c, argv, true) }

// sortArgs are SORT's parsed options.
type sortArgs struct {
	desc, alpha, dontsort bool
	limitStart, limitCnt  int64
	by, store             []byte // nil when not given
	gets                  [][]byte
}

// parseSort reads SORT's options from argv[2:] as Redis's
// sortCommandGeneric does, replying the first error (ok false).
func (s *Shard) parseSort(c *Client, argv [][]byte, readonly bool) (a sortArgs, ok bool) {
	a.limitCnt = -1
	slot := -1
	keySlot := func() int {
		if slot < 0 {
			slot = int(cluster.KeySlot(argv[1]))
		}
		return slot
	}
	for j := 2; j < len(argv); j++ {
		left := len(argv) - j - 1
		switch w := argv[j]; {
		case eqFold(w, "asc"):
			a.desc = false
		case eqFold(w, "desc"):
			a.desc = true
		case eqFold(w, "alpha"):
			a.alpha = true
		case eqFold(w, "limit") && left >= 2:
			var ok1, ok2 bool
			a.limitStart, ok1 = parseInt(argv[j+1])
			if ok1 {
				a.limitCnt, ok2 = parseInt(argv[j+2])
			}
			if !ok1 || !ok2 {
				c.Error(errNotInt)
				return a, false
			}
			j += 2
		case !readonly && eqFold(w, "store") && left >= 1:
			a.store = argv[j+1]
			j++
		case eqFold(w, "by") && left >= 1:
			a.by = argv[j+1]
			// A pattern without '*' names one key for every element:
			// there is nothing to sort by.
			if bytes.IndexByte(cString(a.by), '*') < 0 {
				a.dontsort = true
			} else if s.cluster != nil && patternSlot(a.by) != keySlot() {
				c.Error(errSortBySlots)
				return a, false
			}
			j++
		case eqFold(w, "get") && left >= 1:
			p := argv[j+1]
			if s.cluster != nil && !isHashPattern(p) && patternSlot(p) != keySlot() {
				c.Error(errSortGetSlots)
				return a, false
			}
			a.gets = append(a.gets, p)
			j++
		default:
			c.Error(errSyntax)
			return a, false
		}
	}
	return a, true
}

// isHashPattern reports whether a GET pattern is "#", the element itself
// (compared as C compares strings: up to a NUL).
func isHashPattern(p []byte) bool { return string(cString(p)) == "#" }

// patternSlot is the one slot every key a pattern can form hashes to, or
// -1 when they may hash to different slots (Redis's patternHashSlot): a
// hash tag closed before any wildcard ('*', '?', '[') or backslash decides
// the slot; a pattern without any of those names a single key.
func patternSlot(p []byte) int {
	open := -1 // index of the first '{'; -2 after an empty "{}"
	for i, ch := range p {
		switch {
		case ch == '*' || ch == '?' || ch == '[' || ch == '\\':
			return -1
		case open == -1 && ch == '{':
			open = i
		case open >= 0 && ch == '}' && i == open+1:
			open = -2
		case open >= 0 && ch == '}':
			// The tag holds no '}', so KeySlot hashes all of it.
			return int(cluster.KeySlot(p[open+1 : i]))
		}
	}
	return int(cluster.KeySlot(p))
}

// sortElem is one element being sorted: its bytes (and those of an ALPHA
// BY weight) in sorter.buf, and its numeric weight.
type sortElem struct {
	off, n       int
	score        float64
	cmpOff, cmpN int // ALPHA BY weight; cmpOff < 0 when the weight key is missing
}

// sorter holds the elements of one SORT.
type sorter struct {
	s     *Shard
	buf   []byte // every element and ALPHA BY weight, back to back
	elems []sortElem
	key   []byte // scratch for the keys patterns form
	ib    [listpack.IntBufSize]byte
}

func (so *sorter) add(m []byte) {
	so.elems = append(so.elems, sortElem{off: len(so.buf), n: len(m), cmpOff: -1})
	so.buf = append(so.buf, m...)
}

func (so *sorter) elem(e *sortElem) []byte { return so.buf[e.off : e.off+e.n] }

// lookup is Redis's lookupKeyByPattern: the value pattern names for
// element subst. "#" is subst itself; otherwise the first '*' is replaced
// by subst to form a key, and "->field" after the '*' reads that field of
// a hash instead of a string. ok is false when the pattern has no '*', or
// the key is missing or of another type, or the field is missing. The
// result aliases the key space (or subst) until the next change. Lookups
// count as keyspace hits and misses, as in Redis.
func (so *sorter) lookup(pattern, subst []byte) (val []byte, ok bool) {
	cp := cString(pattern)
	if string(cp) == "#" {
		return subst, true
	}
	star := bytes.IndexByte(cp, '*')
	if star < 0 {
		return nil, false
	}
	var field []byte
	postfix := pattern[star+1:]
	if f := bytes.Index(cp[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(cp) {
		f += star + 1
		field = pattern[f+2:]
		postfix = pattern[star+1 : f]
	}
	so.key = append(append(append(so.key[:0], pattern[:star]...), subst...), postfix...)
	s := so.s
	r := s.lookupRead(so.key)
	if r == kv.Nil {
		return nil, false
	}
	if field == nil {
		if s.typeOf(r) != typeString {
			return nil, false
		}
		return s.db.Str(r), true
	}
	if s.typeOf(r) != typeHash {
		return nil, false
	}
	v, found := s.hashAt(r).get(field)
	if !found {
		return nil, false
	}
	return v.Bytes(&so.ib), true
}

// sortScore reads a numeric weight as sort.c does with strtod: leading
// white space is skipped, everything up to the end (or a NUL) must be
// part of the number, which must not be NaN or out of range. An empty
// value weighs 0.
func sortScore(b []byte) (float64, bool) {
	b = cString(b)
	f, n, erange := strtod(b)
	if n != len(b) || erange || f != f {
		return 0, false
	}
	return f, true
}

// collate compares as strcoll in the C locale: bytes, up to a NUL.
func collate(a, b []byte) int { return bytes.Compare(cString(a), cString(b)) }

func sortGeneric(s *Shard, c *Client, argv [][]byte, readonly bool) {
	a, ok := s.parseSort(c, argv, readonly)
	if !ok {
		return
	}
	r := s.lookupRead(argv[1])
	typ := typeList
	if r != kv.Nil {
		typ = s.typeOf(r)
		if typ != typeList && typ != typeSet && typ != typeZSet {
			c.Error(errWrongType)
			return
		}
	}
	by := a.by
	if a.dontsort && typ == typeSet && (a.store != nil || c.scriptCaller != nil) {
		// A set's order is its encoding's: sort what is stored, or
		// given to a script.
		a.dontsort, a.alpha, by = false, true, nil
	}
	var z *zsetObj
	size := 0
	if r != kv.Nil {
		switch typ {
		case typeList:
			size = s.listAt(r).Len()
		case typeSet:
			size = s.setAt(r).size()
		case typeZSet:
			z = s.zsetAt(r)
			z.toSkiplist()
			s.syncZsetEnc(r, z)
			size = z.size()
		}
	}

	// The window, as sort.c clamps it.
	n := int64(size)
	start := min(max(a.limitStart, 0), n)
	cnt := min(max(a.limitCnt, -1), n)
	end := n - 1
	if cnt >= 0 {
		end = start + cnt - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)

	so := sorter{s: s}
	if r != kv.Nil {
		if a.dontsort && (typ == typeList || typ == typeZSet) {
			// Elements in their own order (reversed with DESC), and only
			// the window of them.
			if end >= start {
				so.elems = make([]sortElem, 0, end-start+1)
				so.loadRange(r, typ, int(start), int(end-start+1), a.desc)
			}
			end -= start
			start = 0
		} else {
			so.elems = make([]sortElem, 0, size)
			so.loadAll(r, typ)
		}
	}

	if !a.dontsort {
		if !so.weigh(by, a.alpha) {
			c.Error(errSortScore)
			return
		}
		so.sort(by != nil, a.alpha, a.store != nil, a.desc)
	}

	var window []sortElem
	if end >= start {
		window = so.elems[start : end+1]
	}
	out := len(window)
	if len(a.gets) > 0 {
		out *= len(a.gets)
	}
	if a.store == nil {
		c.ArrayLen(out)
		for i := range window {
			m := so.elem(&window[i])
			if len(a.gets) == 0 {
				c.Bulk(m)
			}
			for _, p := range a.gets {
				if v, ok := so.lookup(p, m); ok {
					c.Bulk(v)
				} else {
					c.Null()
				}
			}
		}
		return
	}
	s.sortStore(c, a.store, &so, window, a.gets, out)
}

// loadAll copies every element of the value at r: a list in order, a set
// in its iteration order, a sorted set by rank.
func (so *sorter) loadAll(r kv.Ref, typ uint8) {
	s := so.s
	switch typ {
	case typeList:
		l := s.listAt(r)
		for it := l.Iter(0, true); ; {
			v, ok := it.Next()
			if !ok {
				break
			}
			so.add(v.Bytes(&so.ib))
		}
	case typeSet:
		var nb [20]byte
		s.setAt(r).each(func(e setElem) bool {
			so.add(e.bytes(nb[:0]))
			return true
		})
	case typeZSet:
		so.loadRange(r, typ, 0, s.zsetAt(r).size(), false)
	}
}

// loadRange copies cnt elements of a list or sorted set from position
// start, counted from the end (and walked backwards) when rev.
func (so *sorter) loadRange(r kv.Ref, typ uint8, start, cnt int, rev bool) {
	s := so.s
	if typ == typeZSet {
		it := s.zsetAt(r).iterRank(start, rev)
		for range cnt {
			m, _, ok := it.next()
			if !ok {
				return
			}
			so.add(m)
		}
		return
	}
	l := s.listAt(r)
	first := start
	if rev {
		first = l.Len() - 1 - start
	}
	it := l.Iter(first, !rev)
	for range cnt {
		v, ok := it.Next()
		if !ok {
			return
		}
		so.add(v.Bytes(&so.ib))
	}
}

// weigh sets every element's weight: the element itself, or the value
// by names for it (a missing one weighs 0, or sorts first with ALPHA).
// It reports false when a numeric weight is not a number.
func (so *sorter) weigh(by []byte, alpha bool) bool {
	ok := true
	for i := range so.elems {
		e := &so.elems[i]
		val := so.elem(e)
		if by != nil {
			v, found := so.lookup(by, val)
			if !found {
				continue
			}
			val = v
		}
		if alpha {
			if by != nil {
				// val may alias the key space: copy it beside the elements.
				e.cmpOff, e.cmpN = len(so.buf), len(val)
				so.buf = append(so.buf, val...)
			}
			continue
		}
		f, good := sortScore(val)
		if !good {
			ok = false
		}
		e.score = f
	}
	return ok
}

// sort orders the elements as sort.c's sortCompare, stably. O(n log n).
func (so *sorter) sort(byPattern, alpha, store, desc bool) {
	compare := func(a, b *sortElem) int {
		switch {
		case !alpha:
			if c := cmp.Compare(a.score, b.score); c != 0 {
				return c
			}
			return bytes.Compare(so.elem(a), so.elem(b))
		case byPattern:
			switch aMiss, bMiss := a.cmpOff < 0, b.cmpOff < 0; {
			case aMiss && bMiss:
				return 0
			case aMiss: // a missing weight orders first
				return -1
			case bMiss:
				return 1
			case store:
				return bytes.Compare(so.buf[a.cmpOff:a.cmpOff+a.cmpN], so.buf[b.cmpOff:b.cmpOff+b.cmpN])
			}
			return collate(so.buf[a.cmpOff:a.cmpOff+a.cmpN], so.buf[b.cmpOff:b.cmpOff+b.cmpN])
		case store:
			return bytes.Compare(so.elem(a), so.elem(b))
		}
		return collate(so.elem(a), so.elem(b))
	}
	// Elements that compare equal keep their input order, which their
	// offsets in buf follow: sorting by it last is a stable sort.
	slices.SortFunc(so.elems, func(a, b sortElem) int {
		c := compare(&a, &b)
		if desc {
			c = -c
		}
		if c == 0 {
			return cmp.Compare(a.off, b.off)
		}
		return c
	})
}

// sortStore is SORT's STORE: the window's elements (or, with GET
// patterns, what each reads, "" for nothing) stored as a list at dst,
// replacing any value and its time to live; dst is deleted when the
// result is empty. It replies the number of elements stored.
func (s *Shard) sortStore(c *Client, dst []byte, so *sorter, window []sortElem, gets [][]byte, out int) {
	if out == 0 {
		if s.deleteKey(dst) {
			s.notify(notifyGeneric, "del", dst)
		}
		c.Int(0)
		return
	}
	l := s.newListObj()
	for i := range window {
		m := so.elem(&window[i])
		if len(gets) == 0 {
			l.PushTail(m)
		}
		for _, p := range gets {
			v, _ := so.lookup(p, m)
			l.PushTail(v)
		}
	}
	meta := makeMeta(typeList, encQuicklist, s.newClock)
	if r := s.lookup(dst); r != kv.Nil {
		s.db.SetObject(r, l)
		s.db.SetMeta(r, s.overwriteMeta(r, meta))
		s.db.SetExpire(r, kv.NoExpire)
	} else {
		s.db.InsertObject(dst, l, meta, kv.NoExpire)
		s.notifyNew(dst)
		s.signalReady(dst)
	}
	s.notify(notifyList, "sortstore", dst)
	s.dirty += int64(out)
	c.Int(int64(out))
}

// signalReady marks key ready for the clients blocked on it (a list just
// created by a command whose keys the command table cannot list); the
// end of the command serves them (blocking.go's afterWrite).
func (s *Shard) signalReady(key []byte) {
	if _, waited := s.block.waiting[string(key)]; waited && !s.block.readySet[string(key)] {
		s.block.readySet[string(key)] = true
		s.block.ready = append(s.block.ready, bytes.Clone(key))
	}
}
