package engine

import "strconv"

// Propagation: what the append-only file records of each change.
//
// A command that changed the key space (Redis's server.dirty grew while it
// ran, not counting the deletions of expired keys it caused) is recorded
// with the arguments it was called with. A command whose replay could give
// another result records what it did instead, as Redis 7.0 does, so that
// a replay at any later time rebuilds the same data: a relative expire
// becomes PEXPIREAT (or DEL when the time is past), SET ... EX becomes
// SET ... PXAT, INCRBYFLOAT a SET of the result with KEEPTTL, a blocking
// or multi-key pop the plain pop it performed, SPOP the SREMs of the
// members it took, GETDEL a DEL. Those commands call propagateAs (or
// propagateNone); the generic rule then stays silent for them.
//
// The records of one execution unit (a command, or EXEC with what it
// queued, or a served blocked client) are gathered at the end of the AOF
// buffer; when there are more than one, they are wrapped in MULTI/EXEC so
// that a file cut in their middle never replays half of them. A key that
// expires is recorded as a DEL where the deletion happened.
//
// Everything here runs on the shard's loop; when the AOF is off, each
// hook is one predictable branch.
type propState struct {
	on      bool  // record changes (appendonly yes, and not loading)
	depth   int   // nesting of execution units (EXEC runs its queue inside)
	over    bool  // the running command recorded itself (propagateAs/None)
	ops     int   // records of the current unit
	start   int   // offset of the current unit in the AOF buffer
	expDels int64 // keys deleted by expiry, kept apart from the commands' changes
}

// beginUnit starts an execution unit and returns the change count to
// compare with at its end.
func (s *Shard) beginUnit() int64 {
	p := &s.prop
	if p.depth == 0 {
		p.ops = 0
		if p.on {
			s.aof.room()
		}
		p.start = len(s.aof.buf)
	}
	p.depth++
	p.over = false
	return s.dirty - p.expDels
}

// endUnit records cmd argv unless the command recorded itself or changed
// nothing, and closes the unit when it is the outermost.
func (s *Shard) endUnit(cmd *Command, argv [][]byte, mark int64) {
	p := &s.prop
	if !p.over && s.dirty-p.expDels != mark && cmd.Flags&FlagNoPropagate == 0 {
		s.feed(argv)
	}
	p.over = false
	p.depth--
	if p.depth == 0 && p.ops > 1 && p.on {
		s.wrapUnit()
	}
}

// wrapUnit puts MULTI before and EXEC after the records of the unit that
// just ended. O(size of the unit): it moves them once.
func (s *Shard) wrapUnit() {
	const multi, exec = "*1\r\n$5\r\nMULTI\r\n", "*1\r\n$4\r\nEXEC\r\n"
	b := s.aof.buf
	n := len(b)
	b = append(b, multi...)
	copy(b[s.prop.start+len(multi):], b[s.prop.start:n])
	copy(b[s.prop.start:], multi)
	s.aof.buf = append(b, exec...)
	s.prop.ops = 0
}

// feed appends one record to the AOF buffer.
func (s *Shard) feed(argv [][]byte) {
	if !s.aof.selected {
		s.aof.buf = append(s.aof.buf, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"...)
		s.aof.selected = true
		if s.prop.depth > 0 && s.prop.ops == 0 {
			s.prop.start = len(s.aof.buf)
		}
	}
	s.aof.buf = appendCommand(s.aof.buf, argv)
	s.prop.ops++
}

// appendCommand appends argv as a RESP array of bulk strings.
func appendCommand(b []byte, argv [][]byte) []byte {
	b = appendRESPLen(b, '*', len(argv))
	for _, a := range argv {
		b = appendRESPLen(b, '$', len(a))
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// appendRESPLen appends a RESP length line: prefix, n, CRLF. Lengths
// under 1000 (nearly all of them) are written without strconv, which
// took a third of the cost of recording a SET.
func appendRESPLen(b []byte, prefix byte, n int) []byte {
	switch {
	case n < 10:
		return append(b, prefix, byte('0'+n), '\r', '\n')
	case n < 100:
		return append(b, prefix, byte('0'+n/10), byte('0'+n%10), '\r', '\n')
	case n < 1000:
		return append(b, prefix, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10), '\r', '\n')
	}
	b = append(b, prefix)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// propagateAs records argv in place of the running command's own
// arguments; a command may call it more than once.
func (s *Shard) propagateAs(argv ...[]byte) {
	if !s.prop.on {
		return
	}
	s.prop.over = true
	s.feed(argv)
}

// propagateNone says the running command records nothing itself (what it
// changed is recorded otherwise, or needs no record).
func (s *Shard) propagateNone() { s.prop.over = true }

// propagateExpired records the deletion of an expired key.
func (s *Shard) propagateExpired(key []byte) {
	s.prop.expDels++
	if !s.prop.on {
		return
	}
	if s.prop.depth == 0 {
		s.prop.ops = 0
	}
	s.feed([][]byte{[]byte("DEL"), key})
}

// propagateExpireAt records an expire time set on key as PEXPIREAT key ms,
// followed by extra (EXPIRE's NX/XX/GT/LT flags), as Redis 7.0 does.
func (s *Shard) propagateExpireAt(key []byte, ms int64, extra [][]byte) {
	if !s.prop.on {
		return
	}
	var buf [20]byte
	argv := make([][]byte, 0, 3+len(extra))
	argv = append(argv, []byte("PEXPIREAT"), key, strconv.AppendInt(buf[:0], ms, 10))
	s.propagateAs(append(argv, extra...)...)
}

// propagateDel records the deletion of key by the running command.
func (s *Shard) propagateDel(key []byte) {
	if s.prop.on {
		s.propagateAs([]byte("DEL"), key)
	}
}

// propagateCount records name key n (a pop with its count).
func (s *Shard) propagateCount(name string, key []byte, n int64) {
	if !s.prop.on {
		return
	}
	var buf [20]byte
	s.propagateAs([]byte(name), key, strconv.AppendInt(buf[:0], n, 10))
}

// propagateSetAt records a SET with an expire time as SET key val PXAT ms.
func (s *Shard) propagateSetAt(key, val []byte, when int64) {
	if !s.prop.on {
		return
	}
	var buf [20]byte
	s.propagateAs([]byte("SET"), key, val, []byte("PXAT"), strconv.AppendInt(buf[:0], when, 10))
}

// propagateWithout records argv without its arguments equal (in any case)
// to word: SET ... GET is recorded without GET.
func (s *Shard) propagateWithout(argv [][]byte, word string) {
	out := make([][]byte, 0, len(argv))
	for i, a := range argv {
		if i < 3 || !eqFold(a, word) {
			out = append(out, a)
		}
	}
	s.propagateAs(out...)
}

func popName(head bool) string {
	if head {
		return "LPOP"
	}
	return "RPOP"
}

// propagateZpop records a pop served by ZMPOP, BZMPOP, BZPOPMIN or
// BZPOPMAX as the ZPOPMIN/ZPOPMAX it performed: with the number of
// members taken for the M forms, without for BZPOPMIN/BZPOPMAX.
func (s *Shard) propagateZpop(key []byte, max bool, count int64, size int, shape zpopShape) {
	name := "ZPOPMIN"
	if max {
		name = "ZPOPMAX"
	}
	if shape == zpopKeyNest {
		s.propagateCount(name, key, min(count, int64(size)))
		return
	}
	s.propagateAs([]byte(name), key)
}

// sremBatch is how many members one recorded SREM carries at most.
const sremBatch = 1024

// sremRecorder gathers the members SPOP key count took and records them
// as SREMs of up to sremBatch members each. It is inert unless started.
type sremRecorder struct {
	argv [][]byte
	on   bool
}

func (r *sremRecorder) start(key []byte) {
	r.on = true
	r.argv = append(r.argv[:0], []byte("SREM"), key)
}

func (r *sremRecorder) add(s *Shard, e *setElem) {
	if !r.on {
		return
	}
	var nb [20]byte
	r.argv = append(r.argv, append([]byte(nil), e.bytes(nb[:])...))
	if len(r.argv)-2 == sremBatch {
		r.flush(s)
	}
}

func (r *sremRecorder) flush(s *Shard) {
	if !r.on || len(r.argv) == 2 {
		return
	}
	s.propagateAs(r.argv...)
	r.argv = r.argv[:2]
}
