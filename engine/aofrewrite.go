package engine

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"shoal/engine/internal/kv"
	"shoal/engine/internal/listpack"
	"shoal/engine/internal/rdb"
)

// Rewriting the AOF without fork. A Go process cannot fork a child that
// writes a snapshot, so the shard writes it itself, a slice at a time
// inside its loop, while it serves:
//
//  1. The cut (startRewrite): what is buffered goes to the current incr
//     file, which is fsynced (a large backlog first on a goroutine, so
//     the loop fsyncs little: aofPresync); a new incr file begins, and
//     the manifest lists the old base, the old incr files and the new
//     one, so a crash from here on still loads everything. The key space
//     starts marking (kv's BeginMark).
//  2. Each turn (AOFTurn) writes a slice of keys of the cut to a temporary
//     base file. Before a write command changes a key, the key is written
//     out first if the rewrite has not reached it (rewriteBefore): copy
//     before write, so the base holds the key as it was at the cut. Keys
//     created after the cut are marked by the store and never written; a
//     key deleted is marked too. What changes after the cut is in the new
//     incr file.
//     A key that a command only replaces or deletes without reading it
//     (its key spec is OW or RM: SET without GET, MSET, DEL, a STORE
//     destination that is not also a source) is not copied: the rewrite
//     writes it later as it is then. That is as good as the cut's value,
//     because replaying the incr file sets every part of the key such
//     commands set (value, type, time to live) to what they set, and
//     leaves every other part as the base has it, which no command changed
//     without copying the key first. Keys a command only reads (RO) are
//     not copied either: reading changes nothing.
//  3. The base is fsynced (on a goroutine, which then fsyncs the incr
//     file too, so the manifest's fsync finds little to wait for), renamed
//     to its final name, and a new manifest names the new base and the new
//     incr file only; the old files are deleted on a goroutine.
//
// Extra memory: one bit per key id (the marks) and the write buffer of a
// slice or, where the base is written with O_DIRECT (aofbase.go), the two
// 4 MiB buffers keys are serialized into; all are in INFO persistence
// (aof_rewrite_buffer_length; the AOF's own buffer is INFO memory's
// mem_aof_buffer).
// A key is written in one piece: a big collection costs the loop O(its
// size) once, when reached or before its first change.

type rewriteStats struct {
	rewrites   int64
	lastOK     bool
	lastSecs   int64
	everFailed bool
}

type aofRewrite struct {
	s        *Shard
	seq      int64
	baseName string
	tmpPath  string
	f        *os.File
	direct   *baseDirect // writes f with O_DIRECT; nil when f is written buffered
	buf      []byte
	size     int64
	rdb      bool
	crc      uint64
	next     kv.Ref
	keys     int64
	walked   bool
	syncing  chan error // the fsync of the finished base
	start    time.Time
}

// rewriteSliceBytes bounds what one turn writes to the new base.
var rewriteSliceBytes = 256 << 10

func (s *Shard) newRewrite(seq int64) *aofRewrite {
	rw := &aofRewrite{s: s, seq: seq, start: time.Now(), next: 1}
	rw.rdb = s.Config.AOFUseRDBPreamble
	rw.baseName = s.aof.names.base(seq, rw.rdb)
	rw.tmpPath = filepath.Join(s.aof.dir, fmt.Sprintf("temp-rewriteaof-%d.aof", os.Getpid()))
	s.db.BeginMark()
	if rw.rdb {
		rw.buf = s.aofRDBHeader(rw.buf)
	} else {
		rw.buf = s.appendFunctionsAOF(rw.buf)
	}
	return rw
}

// stepBase writes up to budget bytes of keys; true when every key of the
// cut is written.
func (rw *aofRewrite) stepBase(budget int) bool {
	if rw.walked {
		return true
	}
	s := rw.s
	start := rw.size + int64(len(rw.buf))
	for rw.size+int64(len(rw.buf))-start < int64(budget) {
		r, next := s.db.NextUnmarked(rw.next, 4096)
		rw.next = next
		if r != kv.Nil {
			rw.writeKey(r)
		}
		if next == 0 {
			rw.walked = true
			break
		}
	}
	return rw.walked
}

// writeKey writes the key at r to the base and marks it.
func (rw *aofRewrite) writeKey(r kv.Ref) {
	s := rw.s
	if rw.rdb {
		rw.buf = s.aofRDBKey(rw.buf, r)
	} else {
		rw.buf = s.appendKeyCommands(rw.buf, r)
	}
	s.db.Mark(r)
	rw.keys++
	if len(rw.buf) >= rewriteSliceBytes || rw.direct != nil && cap(rw.buf)-len(rw.buf) < 4096 {
		rw.flush()
	}
}

// create makes the temporary base file, written with O_DIRECT when
// direct and the file system takes it.
func (rw *aofRewrite) create(direct bool) error {
	f, err := os.OpenFile(rw.tmpPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	rw.f = f
	if direct {
		rw.direct = newBaseDirect(f, &rw.s.aof.baseBufs, &rw.s.nowMs)
	}
	return nil
}

// flush writes the buffer to the temporary base file, creating it first
// (for direct writes: more is to come). An error ends the rewrite (the
// old AOF stays as it is).
func (rw *aofRewrite) flush() error {
	if rw.f == nil {
		if err := rw.create(true); err != nil {
			return err
		}
	}
	if rw.rdb {
		rw.crc = rdb.CRC64(rw.crc, rw.buf)
	}
	var n int
	var err error
	if d := rw.direct; d != nil {
		n, err = len(rw.buf), d.commit(rw.buf)
		rw.buf = d.room() // the next keys are serialized into the direct buffer itself
	} else {
		n, err = rw.f.Write(rw.buf)
		rw.buf = rw.buf[:0]
	}
	rw.size += int64(n)
	return err
}

// memBytes is the memory the rewrite's buffers hold: the direct buffers,
// which buf lies in, or buf alone.
func (rw *aofRewrite) memBytes() int {
	if rw.direct != nil {
		return rw.direct.mem()
	}
	return cap(rw.buf)
}

// finishBase completes the base synchronously (a new AOF's empty base).
func (rw *aofRewrite) finishBase() error {
	if err := rw.seal(); err != nil {
		return err
	}
	if err := rw.f.Sync(); err != nil {
		return rw.fail(err)
	}
	return rw.install()
}

// seal ends the base's content and writes what is buffered: for an RDB
// base, everything before EOF first, so that the CRC covers it, then
// EOF and the CRC.
func (rw *aofRewrite) seal() error {
	if rw.f == nil { // a base written in one go: no direct buffers for it
		if err := rw.create(false); err != nil {
			return rw.fail(err)
		}
	}
	if rw.rdb {
		if err := rw.flush(); err != nil {
			return rw.fail(err)
		}
		rw.buf = rdb.AppendEOF(rw.buf, rw.crc)
	}
	if err := rw.flush(); err != nil {
		return rw.fail(err)
	}
	if d := rw.direct; d != nil {
		rw.direct, rw.buf = nil, nil // buf lay in d's buffers, which finish releases
		if err := d.finish(); err != nil {
			return rw.fail(err)
		}
	}
	return nil
}

// install renames the base to its final name.
func (rw *aofRewrite) install() error {
	if err := rw.f.Close(); err != nil {
		return rw.fail(err)
	}
	rw.f = nil
	if err := os.Rename(rw.tmpPath, filepath.Join(rw.s.aof.dir, rw.baseName)); err != nil {
		return rw.fail(err)
	}
	rw.s.db.EndMark()
	return nil
}

func (rw *aofRewrite) fail(err error) error {
	if rw.direct != nil {
		rw.direct.wait() // the file stays open until no write names it
		rw.direct.release()
		rw.direct, rw.buf = nil, nil
	}
	if rw.f != nil {
		rw.f.Close()
		rw.f = nil
	}
	os.Remove(rw.tmpPath)
	rw.s.db.EndMark()
	return err
}

// rewriteBefore writes out, before cmd changes them, the keys of the cut
// it names that the rewrite has not reached and whose value at the cut a
// replay of the incr file needs: those it reads and changes (see the
// file's comment, step 2).
func (s *Shard) rewriteBefore(cmd *Command, argv [][]byte) {
	rw := s.aof.rw
	if rw == nil || rw.walked || cmd.Flags&FlagWrite == 0 {
		return
	}
	var buf [4]keyRange
	ranges := buf[:0]
	oneKind := cmd.oneKind
	if cmd.byGetKeys || cmd.varKinds {
		if cmd.GetKeys == nil {
			return
		}
		for _, k := range cmd.GetKeys(argv) {
			ranges = append(ranges, keyRange{first: k.pos, last: k.pos, step: 1, kind: keyKindOf(k.flags)})
		}
		oneKind = false // the kinds are this call's
	} else {
		var ok bool
		if ranges, ok = cmd.keyRanges(argv, ranges); !ok {
			return
		}
		for i := range ranges {
			ranges[i].kind = cmd.keyKinds[ranges[i].spec]
		}
	}
	for _, kr := range ranges {
		if kr.kind == keyRO || kr.kind != keyRW && oneKind {
			continue
		}
		for i := kr.first; i <= kr.last && i < len(argv); i += kr.step {
			if kr.kind == keyRW || keyMixed(argv, ranges, i, kr.kind) {
				rw.before(argv[i])
			}
		}
	}
}

// keyMixed reports whether the key argv[i], of kind kind, is also one of
// the command's keys of another kind (SUNIONSTORE's destination named as
// a source too).
func keyMixed(argv [][]byte, ranges []keyRange, i int, kind keyKind) bool {
	for _, kr := range ranges {
		if kr.kind == kind {
			continue
		}
		for j := kr.first; j <= kr.last && j < len(argv); j += kr.step {
			if string(argv[j]) == string(argv[i]) {
				return true
			}
		}
	}
	return false
}

func (rw *aofRewrite) before(key []byte) {
	s := rw.s
	r := s.db.Find(key)
	if r == kv.Nil || s.db.Marked(r) {
		return
	}
	rw.writeKey(r)
}

// startRewrite takes the cut. It needs the writer idle (no write in
// flight) and no transaction running (whose records must stay on one side
// of the cut): otherwise it stays scheduled and the next turn tries again.
func (s *Shard) startRewrite() error {
	a := &s.aof
	if a.rw != nil {
		return nil
	}
	if a.inflight || a.fd < 0 || s.prop.depth > 1 {
		a.rwAsk = true
		return nil
	}
	a.rwAsk = false
	a.presynced = false
	s.AOFFlushSync(true) // the old incr file complete and durable
	if a.writeErr != 0 {
		a.rwAsk = true // after the disk takes writes again
		return nil
	}
	m := a.man
	inc := aofFileInfo{name: a.names.incr(m.lastIncrSeq() + 1), seq: m.lastIncrSeq() + 1, typ: aofIncr}
	prior := a.off
	if err := s.aofOpenIncr(inc.name); err != nil {
		s.rewriteFailed(err)
		return err
	}
	a.incrPrior += prior
	m.incrs = append(m.incrs, inc)
	if err := writeFileAtomic(a.dir, a.names.manifest(), []byte(m.format())); err != nil {
		s.rewriteFailed(err)
		return err
	}
	seq := int64(1)
	if m.base != nil {
		seq = m.base.seq + 1
	}
	a.rw = s.newRewrite(seq)
	logf("notice", "Background append only file rewriting started (in the shard's loop, %d keys)", s.db.Len())
	return nil
}

// cutPresyncMin is the backlog of written and not yet fsynced bytes
// above which a scheduled cut first fsyncs the incr file in the
// background (aofPresync).
const cutPresyncMin = 4 << 20

// aofPresync prepares a scheduled cut and says whether it must wait. The
// cut fsyncs the old incr file in the loop; with everysec up to a second
// of writes is not yet durable, and that fsync (and the manifest's, whose
// journal commit waits for the same data) stalled the shard for tens of
// milliseconds at every automatic rewrite. So a large backlog is first
// written and fsynced on a goroutine while the loop serves; the cut then
// fsyncs only what came meanwhile. With appendfsync always there is no
// backlog. BGREWRITEAOF cuts at once (its reply says started).
func (s *Shard) aofPresync() bool {
	a := &s.aof
	if a.bgSyncing.Load() {
		return true
	}
	if a.presynced || s.fsyncPolicy() == fsyncAlways {
		return false
	}
	a.presynced = true
	s.aofWriteOut(false)
	if a.writeErr != 0 || a.written-a.synced < cutPresyncMin {
		return false
	}
	s.aofSyncBackground()
	return true
}

// AOFRewriteWait says how long the loop may sleep as far as a rewrite is
// concerned: not at all while it has keys to write (each turn writes a
// slice), a few milliseconds while its base or the backlog before its cut
// is being fsynced (the turn checks for the end), and any time when none
// runs (ok false).
func (s *Shard) AOFRewriteWait() (d time.Duration, ok bool) {
	rw := s.aof.rw
	switch {
	case rw == nil && s.aof.rwAsk && s.aof.bgSyncing.Load():
		return 2 * time.Millisecond, true // aofPresync's fsync
	case rw == nil:
		return 0, false
	case rw.syncing != nil:
		return 2 * time.Millisecond, true
	}
	return 0, true
}

// AOFTurn is the AOF's work once per loop turn: start a scheduled
// rewrite, write a slice of one that runs, finish one whose base is
// durable.
func (s *Shard) AOFTurn() {
	a := &s.aof
	if a.fd < 0 {
		return
	}
	s.aofReapBgSync()
	if a.rw == nil {
		if a.rwAsk && !a.inflight && !s.aofPresync() {
			s.startRewrite()
		}
		return
	}
	rw := a.rw
	if rw.syncing != nil {
		select {
		case err := <-rw.syncing:
			rw.syncing = nil
			if err != nil {
				s.rewriteFailed(rw.fail(err))
				return
			}
			s.finishRewrite()
		default:
		}
		return
	}
	if !rw.stepBase(rewriteSliceBytes) {
		if rw.f != nil && len(rw.buf) > 0 {
			if err := rw.flush(); err != nil {
				s.rewriteFailed(rw.fail(err))
			}
		}
		return
	}
	if err := rw.seal(); err != nil {
		s.rewriteFailed(err)
		return
	}
	f, incr := rw.f, a.fd
	ch := make(chan error, 1)
	rw.syncing = ch
	go func() {
		err := f.Sync()
		if err == nil { // read again only at the next start: off the page cache
			unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
			// finishRewrite's manifest fsyncs wait for the journal,
			// and the journal for the incr file's data written since
			// the cut: fsynced here, off the loop, little is left.
			// (A failure shows in the writer's own fsyncs.) The incr
			// file stays open until rw.syncing is read.
			unix.Fdatasync(incr)
		}
		ch <- err
	}()
}

// finishRewrite installs the new base and switches the manifest.
func (s *Shard) finishRewrite() {
	a := &s.aof
	rw := a.rw
	if err := rw.install(); err != nil {
		s.rewriteFailed(err)
		return
	}
	m := a.man
	cur := m.incrs[len(m.incrs)-1]
	old := make([]string, 0, len(m.incrs))
	if m.base != nil {
		old = append(old, m.base.name)
	}
	for _, f := range m.incrs[:len(m.incrs)-1] {
		old = append(old, f.name)
	}
	for _, f := range m.history {
		old = append(old, f.name)
	}
	nm := &aofManifest{base: &aofFileInfo{name: rw.baseName, seq: rw.seq, typ: aofBase}, incrs: []aofFileInfo{cur}}
	if err := writeFileAtomic(a.dir, a.names.manifest(), []byte(nm.format())); err != nil {
		os.Remove(filepath.Join(a.dir, rw.baseName))
		s.rewriteFailed(err)
		return
	}
	a.man = nm
	s.aofRemoveOld(old, rw.baseName)
	a.baseSize = rw.size
	a.incrPrior = 0
	a.rwBase = s.aofSize()
	a.rw = nil
	st := &s.rwStat
	st.rewrites++
	st.lastOK = true
	st.lastSecs = int64(time.Since(rw.start).Seconds())
	logf("notice", "Background AOF rewrite finished successfully (%d keys, %d bytes in %s)", rw.keys, rw.size, time.Since(rw.start).Round(time.Millisecond))
}

// aofRemoveOld deletes the files a new manifest (durable by now) no longer
// names, except keep, on a goroutine: unlinking hundreds of megabytes on
// ext4 took the loop tens of milliseconds, and Redis too leaves it to a
// background job. One removal runs at a time; StopPersistence waits for
// it.
func (s *Shard) aofRemoveOld(names []string, keep string) {
	a := &s.aof
	a.waitRemoved()
	paths := make([]string, 0, len(names))
	for _, name := range names {
		if name != keep {
			paths = append(paths, filepath.Join(a.dir, name))
		}
	}
	done := make(chan struct{})
	a.removing = done
	go func() {
		for _, p := range paths {
			os.Remove(p)
		}
		close(done)
	}()
}

// waitRemoved waits for the removal of old files, if one runs.
func (a *aofState) waitRemoved() {
	if a.removing != nil {
		<-a.removing
		a.removing = nil
	}
}

func (s *Shard) rewriteFailed(err error) {
	a := &s.aof
	a.rw = nil
	s.db.EndMark()
	s.rwStat.lastOK = false
	s.rwStat.everFailed = true
	logf("warning", "Background AOF rewrite failed: %v", err)
}

// abortRewrite ends a rewrite that runs, leaving the old AOF as it is.
func (s *Shard) abortRewrite(why string) {
	rw := s.aof.rw
	if rw == nil {
		return
	}
	if rw.syncing != nil {
		<-rw.syncing
	}
	rw.fail(errors.New(why))
	s.aof.rw = nil
	logf("notice", "Background AOF rewrite stopped: %s", why)
}

// appendKeyCommands writes the key at r as the commands that rebuild it,
// as Redis's rewrite does without an RDB preamble: SET, or RPUSH, SADD,
// ZADD, HMSET of up to 64 elements each, then PEXPIREAT when it has an
// expire time.
func (s *Shard) appendKeyCommands(b []byte, r kv.Ref) []byte {
	const perCmd = 64
	key := s.db.Key(r)
	switch s.typeOf(r) {
	case typeString:
		b = appendCommand(b, [][]byte{[]byte("SET"), key, s.db.Str(r)})
	case typeList:
		l := s.listAt(r)
		n := l.Len()
		it := l.Iter(0, true)
		var nb [listpack.IntBufSize]byte
		for done := 0; done < n; {
			k := min(perCmd, n-done)
			b = appendHeader(b, 2+k, "RPUSH", key)
			for range k {
				v, _ := it.Next()
				b = appendBulk(b, v.Bytes(&nb))
			}
			done += k
		}
	case typeSet:
		so := s.setAt(r)
		n, i := so.size(), 0
		var nb [20]byte
		so.each(func(e setElem) bool {
			if i%perCmd == 0 {
				b = appendHeader(b, 2+min(perCmd, n-i), "SADD", key)
			}
			b = appendBulk(b, e.bytes(nb[:]))
			i++
			return true
		})
	case typeHash:
		h := s.db.Obj(r).(*hashObj)
		n, i := h.len(), 0
		var fb, vb [listpack.IntBufSize]byte
		h.each(func(f, v listpack.Value) bool {
			if i%perCmd == 0 {
				b = appendHeader(b, 2+2*min(perCmd, n-i), "HMSET", key)
			}
			b = appendBulk(b, f.Bytes(&fb))
			b = appendBulk(b, v.Bytes(&vb))
			i++
			return true
		})
	case typeZSet:
		z := s.db.Obj(r).(*zsetObj)
		n, i := z.size(), 0
		var sb [32]byte
		z.each(func(m []byte, score float64) bool {
			if i%perCmd == 0 {
				b = appendHeader(b, 2+2*min(perCmd, n-i), "ZADD", key)
			}
			b = appendBulk(b, appendAOFScore(sb[:0], score))
			b = appendBulk(b, m)
			i++
			return true
		})
	}
	if at := s.db.Expire(r); at != kv.NoExpire {
		var tb [20]byte
		b = appendCommand(b, [][]byte{[]byte("PEXPIREAT"), key, strconv.AppendInt(tb[:0], at, 10)})
	}
	return b
}

func appendHeader(b []byte, n int, name string, key []byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '\r', '\n')
	b = appendBulk(b, []byte(name))
	return appendBulk(b, key)
}

func appendBulk(b, v []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, '\r', '\n')
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// appendAOFScore writes a score as Redis's %.17g does, inf as "inf".
func appendAOFScore(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}
