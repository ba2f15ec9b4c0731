package engine

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stagedShard is an everysec AOF shard whose writer may write direct.
// Where the test's file system refuses O_DIRECT, a plain second
// descriptor stands in for the direct one (the alignment of what goes to
// it is still checked by the caller).
func stagedShard(t *testing.T, dir string, now *int64) *Shard {
	t.Helper()
	s := aofShard(t, dir, now, "everysec")
	s.AOFDirectWrites(true)
	if dfd := openDirect(s.aof.st.path, s.aof.fd); dfd >= 0 {
		unix.Close(dfd)
	} else {
		fd, err := unix.Dup(s.aof.fd)
		if err != nil {
			t.Fatal(err)
		}
		s.aof.st.dfd = fd
		t.Log("no O_DIRECT here: a plain descriptor stands in")
	}
	return s
}

// stagedWriter plays the ring's writer: it writes what AOFNextWrite hands
// out, checks that direct writes are whole aligned blocks, and can make
// writes short or fail.
type stagedWriter struct {
	t                      *testing.T
	s                      *Shard
	rng                    *rand.Rand
	direct, tails, chunked int
	detached, detShort     int // writes detached by a wrap (aofStage.wrap), and of those cut short or failed
}

func (w *stagedWriter) step(short, fail bool) bool {
	s := w.s
	fd, off, iov, ok := s.AOFNextWrite()
	if !ok {
		return false
	}
	if s.aof.st.detached() {
		w.detached++
		if short || fail {
			w.detShort++
		}
	}
	if fail {
		s.AOFWriteDone(0, unix.ENOSPC)
		s.aof.retryAt = 0
		return w.step(false, false) // the disk takes writes again
	}
	n := 0
	for _, v := range iov {
		n += int(v.Len)
	}
	switch {
	case fd == s.aof.st.dfd:
		w.direct++
		if off%aofAlign != 0 || n%aofAlign != 0 || len(iov) != 1 {
			w.t.Fatalf("direct write at %d of %d bytes in %d pieces", off, n, len(iov))
		}
		if short && n > aofAlign {
			n = (1 + w.rng.Intn(n/aofAlign-1)) * aofAlign
			iov[0].SetLen(n)
		}
	case len(iov) == 1 && s.aof.st.wend > 0:
		w.tails++
		if short && n > 1 {
			n = 1 + w.rng.Intn(n-1)
			iov[0].SetLen(n)
		}
	default:
		w.chunked++
	}
	got, err := pwritev(fd, iov, off)
	if err != nil {
		w.t.Fatalf("pwritev: %v", err)
	}
	s.AOFWriteDone(got, 0)
	return true
}

// TestAOFStagedWrites: a stream of SETs of every size, written by a
// writer whose writes are sometimes short or fail, goes to the file
// through direct writes of whole blocks, buffered writes of the stage's
// tail and chunk writes, and the file loads back to the same key space.
func TestAOFStagedWrites(t *testing.T) {
	dir := t.TempDir()
	now := scriptStart
	s := stagedShard(t, dir, &now)
	c := s.NewClient()
	w := &stagedWriter{t: t, s: s, rng: rand.New(rand.NewSource(7))}
	rng := w.rng
	model := map[string]string{}
	for round := range 400 {
		burst := rng.Intn(3) == 0
		for i := range rng.Intn(60) + 1 {
			n := rng.Intn(300)
			if burst {
				n = rng.Intn(20000)
			}
			if rng.Intn(100) == 0 {
				n = 100000 + rng.Intn(200000)
			}
			key := "k" + strconv.Itoa(rng.Intn(500))
			val := string(bytes.Repeat([]byte{byte('a' + (round+i)%26)}, n))
			if r := raw(s, c, "SET", key, val); r != "+OK\r\n" {
				t.Fatalf("SET: %q", r)
			}
			model[key] = val
		}
		for range rng.Intn(3) {
			w.step(rng.Intn(4) == 0, rng.Intn(15) == 0)
		}
	}
	for range 1000 {
		if !w.step(false, false) {
			break
		}
	}
	if w.direct == 0 || w.tails == 0 || w.chunked == 0 || w.detShort == 0 {
		t.Fatalf("writes: %d direct, %d staged tails, %d of chunks, %d detached (%d short or failed)",
			w.direct, w.tails, w.chunked, w.detached, w.detShort)
	}
	if u := s.aof.unwritten() + s.aof.st.unwritten(); u != 0 || s.aof.written != s.aof.taken {
		t.Fatalf("%d bytes left unwritten by a writer that ran out of writes; %d written of %d taken",
			u, s.aof.written, s.aof.taken)
	}
	st, err := os.Stat(filepath.Join(dir, s.aof.names.incr(1)))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != s.aof.off {
		t.Fatalf("incr file of %d bytes, %d taken", st.Size(), s.aof.off)
	}
	s.StopPersistence()
	checkAOFModel(t, dir, model)
}

// checkAOFModel loads dir into a new shard and compares it with model.
func checkAOFModel(t *testing.T, dir string, model map[string]string) {
	t.Helper()
	now := scriptStart
	l := aofShard(t, dir, &now, "everysec")
	defer l.StopPersistence()
	lc := l.NewClient()
	if got := l.db.Len(); got != len(model) {
		t.Fatalf("loaded %d keys, want %d", got, len(model))
	}
	for k, v := range model {
		if r := raw(l, lc, "GET", k); r != "$"+strconv.Itoa(len(v))+"\r\n"+v+"\r\n" {
			t.Fatalf("%s: loaded %.40q..., want %d bytes", k, r, len(v))
		}
	}
}

func stagedSetup(t *testing.T) (string, *Shard, *Client, *stagedWriter) {
	dir := t.TempDir()
	now := scriptStart
	s := stagedShard(t, dir, &now)
	return dir, s, s.NewClient(), &stagedWriter{t: t, s: s, rng: rand.New(rand.NewSource(1))}
}

// TestAOFStageTailAfterStream: once a stream stops, the partial block a
// direct write left staged goes to the file by the next write, buffered,
// and so does a small turn's; once nothing is left the stage ends, and
// small turns are written from the chunks.
func TestAOFStageTailAfterStream(t *testing.T) {
	dir, s, c, w := stagedSetup(t)
	val := string(bytes.Repeat([]byte("v"), 1000))
	model := map[string]string{}
	for i := range 300 {
		k := "key" + strconv.Itoa(i)
		raw(s, c, "SET", k, val)
		model[k] = val
	}
	if !w.step(false, false) || w.direct != 1 {
		t.Fatalf("first write not direct (%d direct)", w.direct)
	}
	if s.aof.st.unwritten() == 0 {
		t.Fatal("nothing staged after the direct write (the stream is not block aligned)")
	}
	if !w.step(false, false) || w.tails != 1 {
		t.Fatalf("the staged tail was not written next (%d tails)", w.tails)
	}
	if s.aof.st.unwritten() != 0 || s.aof.written != s.aof.taken {
		t.Fatalf("after the tail: %d staged, %d of %d written", s.aof.st.unwritten(), s.aof.written, s.aof.taken)
	}
	raw(s, c, "SET", "small", "x")
	model["small"] = "x"
	if !w.step(false, false) || w.direct != 1 || s.aof.written != s.aof.taken {
		t.Fatalf("a small turn was not written at once, buffered (%d direct, %d of %d written)", w.direct, s.aof.written, s.aof.taken)
	}
	if w.step(false, false) || s.aof.st.on {
		t.Fatal("the stage stays on after the stream stopped")
	}
	raw(s, c, "SET", "small", "y")
	model["small"] = "y"
	if !w.step(false, false) || w.chunked != 1 || s.aof.st.on {
		t.Fatalf("a small turn went through the stage (%d chunk writes, %d staged)", w.chunked, s.aof.st.n)
	}
	for i := range 300 { // a new stream starts mid-block: the block is read back
		k := "again" + strconv.Itoa(i)
		raw(s, c, "SET", k, val)
		model[k] = val
	}
	for w.step(false, false) {
	}
	if w.direct != 2 {
		t.Fatalf("%d direct writes, want 2", w.direct)
	}
	s.StopPersistence()
	checkAOFModel(t, dir, model)
}

// TestAOFStageFinalAndPolicy: a final flush (here appendonly's fsync at
// shutdown) and appendfsync always write what is staged buffered; with
// always nothing is staged.
func TestAOFStageFinalAndPolicy(t *testing.T) {
	dir, s, c, w := stagedSetup(t)
	val := string(bytes.Repeat([]byte("v"), 1000))
	for i := range 300 {
		raw(s, c, "SET", "key"+strconv.Itoa(i), val)
	}
	w.step(false, false)
	if s.aof.st.unwritten() == 0 {
		t.Fatal("nothing staged")
	}
	if r := raw(s, c, "CONFIG", "SET", "appendfsync", "always"); r != "+OK\r\n" {
		t.Fatal(r)
	}
	for i := range 300 {
		raw(s, c, "SET", "more"+strconv.Itoa(i), val)
	}
	for w.step(false, false) {
	}
	if w.direct != 1 || s.aof.st.on {
		t.Fatalf("with always: %d direct writes, %d staged", w.direct, s.aof.st.n)
	}
	if r := raw(s, c, "CONFIG", "SET", "appendfsync", "everysec"); r != "+OK\r\n" {
		t.Fatal(r)
	}
	for i := range 300 {
		raw(s, c, "SET", "last"+strconv.Itoa(i), val)
	}
	w.step(false, false)
	if w.direct != 2 || s.aof.st.unwritten() == 0 {
		t.Fatalf("%d direct writes, %d staged", w.direct, s.aof.st.unwritten())
	}
	s.StopPersistence() // writes the staged tail
	st, err := os.Stat(filepath.Join(dir, s.aof.names.incr(1)))
	if err != nil || st.Size() != s.aof.off {
		t.Fatalf("incr file: %v, %v bytes, want %d", err, st, s.aof.off)
	}
}

// TestAOFStageAlias: during a stream, records are appended to the stage
// in place (the alias), and the stage is written through and moved back
// to its start; an alias that fills up is sealed and still taken in
// without a copy, and one that an append outgrew is copied. The file
// loads back to the same key space.
func TestAOFStageAlias(t *testing.T) {
	dir, s, c, w := stagedSetup(t)
	model := map[string]string{}
	set := func(k string, n int, b byte) {
		v := string(bytes.Repeat([]byte{b}, n))
		if r := raw(s, c, "SET", k, v); r != "+OK\r\n" {
			t.Fatalf("SET: %q", r)
		}
		model[k] = v
	}
	st := &s.aof.st
	aliased, compacted := 0, 0
	for round := range 60 { // a stream: 200 KB a turn, one write a turn
		for i := range 200 {
			set("s"+strconv.Itoa(i), 1000, byte('a'+round%26))
		}
		base := st.base
		w.step(false, false)
		if st.base != base {
			compacted++
		}
		if st.alias {
			aliased++
		}
	}
	if aliased < 40 || compacted == 0 || w.direct < 50 {
		t.Fatalf("stream: %d of 60 turns aliased, %d compactions, %d direct writes", aliased, compacted, w.direct)
	}
	if !st.alias {
		w.step(false, false)
	}
	if !st.alias {
		t.Fatal("no alias to fill")
	}
	for i := range 5000 { // more than the stage holds, with no write
		set("o"+strconv.Itoa(i), 1000, 'o')
	}
	if len(s.aof.sealed) < 2 || unsafe.SliceData(s.aof.sealed[0]) != &st.buf[st.n] {
		t.Fatalf("the filled alias is not the first sealed chunk (%d sealed)", len(s.aof.sealed))
	}
	if m := s.aof.memory(); m > aofStageCap+(aofPoolMax+len(s.aof.sealed)+1)*aofChunk {
		t.Fatalf("mem_aof_buffer %d counts the alias twice", m)
	}
	for w.step(false, false) {
	}
	for !st.alias {
		set("x", 200000, 'x')
		w.step(false, false)
	}
	set("big", len(st.buf)-st.n+1000, 'b') // outgrows the alias
	if len(s.aof.buf) == 0 || unsafe.SliceData(s.aof.buf) == &st.buf[st.n] {
		t.Fatal("the record did not move out of the alias")
	}
	for w.step(false, false) {
	}
	if s.aof.written != s.aof.taken || s.aof.fed() != 0 {
		t.Fatalf("%d of %d written, %d fed", s.aof.written, s.aof.taken, s.aof.fed())
	}
	s.StopPersistence()
	checkAOFModel(t, dir, model)
}

// TestAOFStageResetKeepsAlias: ending the stage while the alias holds
// records (a new incr file, appendonly off) moves them to a chunk of their
// own, and they are written after what was staged.
func TestAOFStageResetKeepsAlias(t *testing.T) {
	dir, s, c, w := stagedSetup(t)
	model := map[string]string{}
	val := string(bytes.Repeat([]byte("v"), 1000))
	for i := range 300 {
		k := "key" + strconv.Itoa(i)
		raw(s, c, "SET", k, val)
		model[k] = val
	}
	w.step(false, false)
	for s.aof.st.unwritten() > 0 { // the tail, buffered; the alias stays
		w.step(false, false)
	}
	raw(s, c, "SET", "late", "1")
	model["late"] = "1"
	if !s.aof.st.alias || len(s.aof.buf) == 0 {
		t.Fatal("no record in the alias")
	}
	s.aof.stageReset()
	if s.aof.st.alias || unsafe.SliceData(s.aof.buf) == unsafe.SliceData(s.aof.st.buf[s.aof.st.n:]) {
		t.Fatal("the chunk still lies in the stage")
	}
	for w.step(false, false) {
	}
	s.StopPersistence()
	checkAOFModel(t, dir, model)
}

// TestAOFWriteSmall: the loop writes a small buffered write itself with
// everysec and no; with always, and for a direct or large write, the
// writer does.
func TestAOFWriteSmall(t *testing.T) {
	_, s, c, w := stagedSetup(t)
	raw(s, c, "SET", "a", "1")
	fd, off, iov, ok := s.AOFNextWrite()
	if !ok || !s.AOFWriteSmall(fd, off, iov) || s.aof.inflight || s.aof.written != s.aof.taken {
		t.Fatalf("a small write was not made in the loop (%v, %d of %d written)", ok, s.aof.written, s.aof.taken)
	}
	raw(s, c, "CONFIG", "SET", "appendfsync", "always")
	raw(s, c, "SET", "a", "2")
	if fd, off, iov, ok = s.AOFNextWrite(); !ok || s.AOFWriteSmall(fd, off, iov) {
		t.Fatal("with always a write was made in the loop")
	}
	got, err := pwritev(fd, iov, off)
	if err != nil {
		t.Fatal(err)
	}
	s.AOFWriteDone(got, 0)
	raw(s, c, "CONFIG", "SET", "appendfsync", "everysec")
	val := string(bytes.Repeat([]byte("v"), 1000))
	for i := range 300 {
		raw(s, c, "SET", "k"+strconv.Itoa(i), val)
	}
	if fd, off, iov, ok = s.AOFNextWrite(); !ok || fd != s.aof.st.dfd || s.AOFWriteSmall(fd, off, iov) {
		t.Fatal("a direct write was made in the loop")
	}
	got, err = pwritev(fd, iov, off)
	if err != nil {
		t.Fatal(err)
	}
	s.AOFWriteDone(got, 0)
	s.AOFDirectWrites(false) // chunks: a large buffered write is the writer's too
	for w.step(false, false) {
	}
	for i := range 100 {
		raw(s, c, "SET", "k"+strconv.Itoa(i), val)
	}
	if fd, off, iov, ok = s.AOFNextWrite(); !ok || fd != s.aof.fd || s.AOFWriteSmall(fd, off, iov) {
		t.Fatal("a large write was made in the loop")
	}
}

// TestAOFStageWrap: under a stream the stage wraps round: a direct write
// far enough into it is detached, the partial block after it moves to the
// stage's start and the next records are appended there. DEBUG LOADAOF
// while the detached write is in flight, the detached write failing, and
// then being cut short, lose nothing.
func TestAOFStageWrap(t *testing.T) {
	dir, s, c, w := stagedSetup(t)
	st := &s.aof.st
	model := map[string]string{}
	round := 0
	feed := func() { // ~400 KB, more than aofDirectMin
		v := string(bytes.Repeat([]byte{byte('a' + round%26)}, 2000))
		for i := range 200 {
			k := "w" + strconv.Itoa(i+round%3*200)
			if r := raw(s, c, "SET", k, v); r != "+OK\r\n" {
				t.Fatalf("SET: %q", r)
			}
			model[k] = v
		}
		round++
	}
	var fd int
	var off int64
	var iov []unix.Iovec
	for i := 0; ; i++ {
		if i == 30 {
			t.Fatal("no write was detached")
		}
		feed()
		var ok bool
		if fd, off, iov, ok = s.AOFNextWrite(); !ok {
			t.Fatal("nothing to write")
		}
		if st.detached() {
			break
		}
		n, err := pwritev(fd, iov, off)
		if err != nil {
			t.Fatal(err)
		}
		s.AOFWriteDone(n, 0)
	}
	if fd != st.dfd || st.in != 0 || st.n >= aofAlign || st.dstart < aofStageLow || !st.alias ||
		unsafe.SliceData(s.aof.buf) != &st.buf[st.n] {
		t.Fatalf("after the wrap: direct %v, in %d, n %d, detached from %d, alias %v",
			fd == st.dfd, st.in, st.n, st.dstart, st.alias)
	}
	feed() // appended at the stage's start while the detached write is in flight
	s.Config.EnableDebugCommand = "yes"
	if got := raw(s, c, "DEBUG", "LOADAOF"); got != "+OK\r\n" {
		t.Fatalf("DEBUG LOADAOF: %q", got)
	}
	s.AOFWriteDone(0, unix.EIO) // the detached write fails: its whole region is left
	s.aof.retryAt = 0
	fd, doff, iov, ok := s.AOFNextWrite()
	if !ok || !st.detached() || fd != s.aof.fd || doff != off || int(iov[0].Len) != st.dend-st.dstart {
		t.Fatalf("the detached region is not written again first, buffered (at %d, want %d)", doff, off)
	}
	iov[0].SetLen(aofAlign) // cut short
	if n, err := pwritev(fd, iov, doff); err != nil || n != aofAlign {
		t.Fatal(n, err)
	}
	s.AOFWriteDone(aofAlign, 0)
	if !w.step(false, false) || st.dend != 0 {
		t.Fatal("the rest of the detached region is not written next")
	}
	for w.step(false, false) {
	}
	if s.aof.written != s.aof.taken || s.aof.fed() != 0 || st.unwritten() != 0 {
		t.Fatalf("%d written of %d taken, %d fed, %d staged", s.aof.written, s.aof.taken, s.aof.fed(), st.unwritten())
	}
	s.StopPersistence()
	checkAOFModel(t, dir, model)
}
