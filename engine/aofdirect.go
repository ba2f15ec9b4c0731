package engine

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Direct writes of the incr file. Under a steady stream of writes the
// kernel's buffered write was most of what the AOF cost the shard's CPU:
// the copy into the page cache, allocating and charging each page, delayed
// allocation per block, the writeback at the fsync and dropping the pages
// again (aofDrop). Large writes therefore go to the file with O_DIRECT,
// through a second descriptor of the same file, from an aligned staging
// buffer (the stage) that the records are appended to in place (the
// alias, below). In a 2-vCPU VM on ext4 this took the kernel's share of
// the CPU per SET at -P 30, as perf sees it, from about 160 ns to about
// 40. io_uring's worker, which makes the direct writes (an extending
// direct write waits for the device), is on the CPU 34-74 ns per SET there
// by the scheduler's switch events (about 55 us per write of ~480 KiB in
// a run at 34 ns; 30-35 us outside the server), and perf samples 33-46
// ns; the per-thread run time in /proc (schedstat) counts about three
// times that in that VM. Outside the server a direct write costs nearly
// the same from 256 KiB (27 us) to 1 MiB (33 us).
// Buffered writes, in the loop or on the ring, still cost the shard more.
//
// The stage mirrors the file from an aligned offset (base): buf[:in] is in
// the file already, buf[in:n] is not. A direct write covers the whole
// blocks from the one holding buf[in] to the last whole one before n; the
// partial block after it stays staged and is written again, completed, by
// the next one. The stage is written through from its start towards its
// end and its live part (from the block holding buf[in]) is moved back to
// the start when that is small, or, under a stream that never leaves it
// small, wrapped round (wrap): once a direct write starts far enough into
// the stage, the partial block after it is copied to the start and the
// stage mirrors the file from there, while that write, detached, still
// reads where it was. The stage is one huge page, small enough that the
// memory records are appended to is still in the CPU's caches when the
// stage comes round to it again: with 4 MiB, recording a SET at -P 30
// cost ~15 ns more; and wrapping round instead of going back to the
// chunks for a turn, to be copied in, saves ~14 ns more. A direct write
// is handed out only when it adds at least aofDirectMin bytes, as a
// direct write's fixed cost (pinning, a device request: tens of
// microseconds in a VM) would cost more than the page cache below that.
// Otherwise what the stage holds beyond in is written buffered through
// the ordinary descriptor, and the shard goes back to writing its chunks
// buffered (aofbuf.go) once the stage holds nothing unwritten and little
// is fed: a quiet shard writes every turn's records to the page cache at
// once, as Redis does, and the staged tail of a busy one waits for the
// next write only (it is in the file no later than the turn after the
// stream stops). A later direct write over a block that went through the
// page cache is kept coherent by the kernel.
//
// Direct writes are used with appendfsync everysec and no, where the
// writer runs them on the ring (a direct write waits for the device, which
// must not stall the loop: the epoll writer never stages), and where the
// file system takes O_DIRECT with an alignment of at most 4 KiB. With
// appendfsync always every turn's records are synced before their
// replies, so there is no stream to stage. When the loop writes itself
// (a final flush at shutdown, a rewrite's cut or appendonly off, and the
// flush before a cut's background fsync), the stage is written buffered.
//
// Ownership: buf belongs to the engine, except buf[wstart:wend] while a
// write handed out by AOFNextWrite is in flight (the kernel reads it until
// AOFWriteDone); buf[n:limit()] is the alias chunk's while there is one
// (records are appended there during the turn); buf[dstart:dend], a
// detached write's region, is not the stage's to reuse until it is in the
// file.

const (
	aofStageCap  = 2 << 20   // the stage's size: one huge page
	aofStageLow  = 512 << 10 // an alias is made with at least this much of the stage free
	aofStageMove = 64 << 10  // compact moves at most this much
	aofDirectMin = 128 << 10 // least a direct write adds to the file
	aofAlign     = 4 << 10   // the stage's block: offsets and lengths of direct writes
)

type aofStage struct {
	dfd          int    // the incr file opened with O_DIRECT by the first stage, else -1
	path         string // the incr file
	tried        bool   // dfd was tried for path (and is -1 if the file system refused)
	buf          []byte // aofStageCap bytes, 2 MiB aligned (hugeBuf), once used
	base         int64  // file offset of buf[0], a multiple of aofAlign
	in           int    // buf[:in] is in the file
	n            int    // buf[:n] is staged
	wstart, wend int    // the write in flight or to retry: buf[wstart:wend]; wend 0 when none
	direct       bool   // that write is direct
	// The detached write (wrap): buf[dstart:dend] is still to go to
	// the file at doff, before anything the stage mirrors now, which lies
	// below dstart; dend 0 when none. The file has everything before
	// dnew already (the write's first block was in part rewritten).
	// While there is one, any write handed out is it (detached).
	dstart, dend int
	doff, dnew   int64
	allowed      bool // the writer runs direct writes (the ring)
	inline       bool // the loop writes itself (aofWriteOut): nothing goes direct
	on           bool // records go through the stage
	alias        bool // the oldest chunk fed lies in buf at n (stageAlias)
}

// openDirect opens path again with O_DIRECT for the stage's writes, or
// returns -1 when the file system does not take it (or aligns coarser
// than a block of the stage).
func openDirect(path string, fd int) int {
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &st); err != nil ||
		st.Mask&unix.STATX_DIOALIGN == 0 || st.Dio_offset_align == 0 ||
		st.Dio_offset_align > aofAlign || st.Dio_mem_align > aofAlign {
		return -1
	}
	dfd, err := unix.Open(path, unix.O_WRONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return dfd
}

// unwritten is what the stage holds that is not in the file.
func (st *aofStage) unwritten() int { return st.n - st.in + st.dend - st.dstart }

// writingLen is what the write in flight adds to the file when whole.
func (st *aofStage) writingLen() int {
	switch {
	case st.wend == 0:
		return 0
	case st.detached():
		return int(max(0, st.doff+int64(st.dend-st.dstart)-st.dnew))
	}
	return max(0, st.wend-st.in)
}

// detached says whether the write in flight or to retry is the detached
// one.
func (st *aofStage) detached() bool { return st.wend > 0 && st.dend > 0 }

// limit is where the part of buf the stage mirrors must end: at the
// detached region while there is one.
func (st *aofStage) limit() int {
	if st.dend > 0 {
		return st.dstart
	}
	return len(st.buf)
}

// usable says whether records go to the stage now.
func (s *Shard) stageUsable() bool {
	a := &s.aof
	return a.st.allowed && (a.st.dfd >= 0 || !a.st.tried) && !a.st.inline && s.fsyncPolicy() != fsyncAlways
}

// AOFDirectWrites says whether the writer runs the AOF's writes where a
// direct write may wait for the device without stalling the loop (the
// ring's workers).
func (s *Shard) AOFDirectWrites(on bool) { s.aof.st.allowed = on }

// stageNext hands out the stage's next write, if any: a direct one when
// the stage is usable and has enough whole blocks beyond what is in the
// file, else what it holds unwritten, buffered. It first takes in what
// was fed: records appended in place (the alias) cost nothing, chunks are
// copied; a stage starts when enough was fed. ok false means the chunks
// are written as they are.
func (s *Shard) stageNext() (fd int, off int64, p []byte, ok bool) {
	a := &s.aof
	st := &a.st
	usable := s.stageUsable()
	absorbed := s.stageAbsorb()
	if st.on && st.unwritten() == 0 && (!usable || a.fed() < aofDirectMin) {
		a.stageReset() // the stream stopped: back to the chunks
	}
	if usable {
		if !st.on && a.fed() >= aofDirectMin && !s.stageStart() {
			usable = false
		}
		if st.on {
			if absorbed == 0 {
				st.compact()
			}
			had := len(a.buf)
			n := a.drainInto(st.buf[st.n:st.limit()])
			if had > 0 && len(a.buf) == 0 && s.prop.depth > 0 {
				s.prop.start = 0 // as in AOFNextWrite: the unit's records left unwrapped
			}
			st.n += n
			a.off += int64(n)
			a.taken += uint64(n)
		}
	}
	if !st.on {
		return 0, 0, nil, false
	}
	if st.dend > 0 { // what is left of a detached write goes first
		st.wstart, st.wend, st.direct = st.dstart, st.dend, false
		if usable {
			s.stageAlias()
		}
		return a.fd, st.doff, st.buf[st.dstart:st.dend], true
	}
	if end := st.n &^ (aofAlign - 1); usable && end-st.in >= aofDirectMin {
		lo := st.in &^ (aofAlign - 1)
		st.wstart, st.wend, st.direct = lo, end, true
		off, p := st.base+int64(lo), st.buf[lo:end]
		st.wrap()
		s.stageAlias()
		return st.dfd, off, p, true
	}
	if st.n > st.in {
		st.wstart, st.wend, st.direct = st.in, st.n, false
		if usable {
			s.stageAlias()
		}
		return a.fd, st.base + int64(st.in), st.buf[st.in:st.n], true
	}
	a.stageReset() // everything staged is in the file: back to the chunks
	return 0, 0, nil, false
}

// The alias: while a stage runs, the chunk records are appended to is
// the stage's free part itself (buf[n:]), so what a turn records is
// staged without a copy. It is the oldest chunk fed (a.buf, or the first
// sealed one once it filled up): it is made only when nothing else is
// fed, at the end of stageNext, and taken in first by the next one. A
// chunk that moved (an append that outgrew it) is no alias any more and
// is copied as any other.

// stageAlias makes the stage's free part the chunk records go to, when
// nothing else is fed and enough of the stage is free.
func (s *Shard) stageAlias() {
	a := &s.aof
	st := &a.st
	if st.alias || len(a.sealed) > 0 || len(a.buf) > 0 || st.limit()-st.n < aofStageLow {
		return
	}
	a.free(a.buf)
	a.buf = st.buf[st.n:st.n:st.limit()]
	st.alias = true
}

// wrap detaches the direct write just handed out, buf[wstart:wend], when
// it starts far enough into the stage that what follows it (the partial
// block after it, under aofAlign bytes) can move to the start with room
// for a turn's records after it: the stage then mirrors the file from
// the start again, and what is recorded next is appended where the stage
// began, which is still in the caches.
func (st *aofStage) wrap() {
	t := st.n - st.wend
	if st.dend > 0 || st.wstart < aofStageLow+t {
		return
	}
	st.dstart, st.dend = st.wstart, st.wend
	st.doff, st.dnew = st.base+int64(st.wstart), st.base+int64(st.in)
	copy(st.buf, st.buf[st.wend:st.n])
	st.base += int64(st.wend)
	st.in, st.n = 0, t
}

// stageAbsorb takes what was appended to the alias into the stage and
// ends the alias; it returns the bytes taken.
func (s *Shard) stageAbsorb() int {
	a := &s.aof
	st := &a.st
	if !st.alias {
		return 0
	}
	st.alias = false
	sealed := len(a.sealed) > 0
	c := *a.oldestFed()
	if len(c) == 0 {
		a.buf = a.chunk()
		return 0
	}
	if unsafe.SliceData(c) != &st.buf[st.n] {
		return 0 // it moved: copied with the other chunks
	}
	if sealed {
		a.sealed[0] = nil
		a.sealed = a.sealed[:copy(a.sealed, a.sealed[1:])]
		a.pending -= len(c)
	} else {
		a.buf = a.chunk()
		if s.prop.depth > 0 {
			s.prop.start = 0 // as in AOFNextWrite: the unit's records left unwrapped
		}
	}
	st.n += len(c)
	a.off += int64(len(c))
	a.taken += uint64(len(c))
	return len(c)
}

// oldestFed is the oldest chunk fed: the first sealed one, else the
// current one (where the alias lies while there is one).
func (a *aofState) oldestFed() *[]byte {
	if len(a.sealed) > 0 {
		return &a.sealed[0]
	}
	return &a.buf
}

// stageStart begins staging at the file's end: the stage starts at the
// block the end lies in, whose first bytes are read back from the file.
func (s *Shard) stageStart() bool {
	a := &s.aof
	st := &a.st
	if st.dfd < 0 {
		st.tried = true
		if st.dfd = openDirect(st.path, a.fd); st.dfd < 0 {
			return false
		}
	}
	if st.buf == nil {
		st.buf, _ = hugeBuf(aofStageCap)
	}
	st.base = a.off &^ (aofAlign - 1)
	st.in = int(a.off - st.base)
	if st.in > 0 {
		if n, err := unix.Pread(a.fd, st.buf[:st.in], st.base); err != nil || n != st.in {
			st.in = 0
			return false
		}
	}
	st.n = st.in
	st.on = true
	return true
}

// stageReset leaves staged mode; the stage must hold nothing unwritten.
// What the alias holds moves to a chunk of its own.
func (a *aofState) stageReset() {
	st := &a.st
	if st.alias {
		st.alias = false
		p := a.oldestFed()
		*p = append(a.chunk(), *p...)
	}
	st.on, st.n, st.in = false, 0, 0
	st.dstart, st.dend = 0, 0
}

// compact moves the live part of the stage (from the block holding the
// first byte not in the file) to its start, when that costs little: the
// stage is written through from its start to its end and moved back
// whenever its live part is small, which it is once a write took in
// everything staged and the alias held nothing.
func (st *aofStage) compact() {
	lo := st.in &^ (aofAlign - 1)
	if lo == 0 || st.n-lo > aofStageMove {
		return
	}
	st.n = copy(st.buf, st.buf[lo:st.n])
	st.in -= lo
	st.base += int64(lo)
}

// stageDone records that the stage's write in flight put n bytes in the
// file. It returns the bytes the file gained and whether the write was
// whole.
func (st *aofStage) stageDone(n int) (added int, whole bool) {
	if st.detached() {
		st.wend = 0
		st.dstart += n
		st.doff += int64(n)
		if st.doff > st.dnew {
			added = int(st.doff - st.dnew)
			st.dnew = st.doff
		}
		if whole = st.dstart >= st.dend; whole {
			st.dstart, st.dend = 0, 0
		}
		return added, whole
	}
	end := st.wstart + n
	whole = end >= st.wend
	st.wend = 0
	if end > st.in {
		added = end - st.in
		st.in = end
	}
	return added, whole
}

// drainInto moves whole fed chunks, oldest first, into dst while they
// fit, and returns the bytes moved; the chunks go back to the free list.
func (b *aofBuf) drainInto(dst []byte) int {
	n := 0
	i := 0
	for ; i < len(b.sealed) && len(b.sealed[i]) <= len(dst)-n; i++ {
		c := b.sealed[i]
		n += copy(dst[n:], c)
		b.pending -= len(c)
		b.free(c)
	}
	clear(b.sealed[:i])
	b.sealed = b.sealed[:copy(b.sealed, b.sealed[i:])]
	if len(b.sealed) == 0 && len(b.buf) > 0 && len(b.buf) <= len(dst)-n {
		n += copy(dst[n:], b.buf)
		b.buf = b.buf[:0]
	}
	return n
}

// hugeBuf is n bytes of memory outside the Go heap, 2 MiB aligned and
// advised to be backed by huge pages where the kernel gives them (THP
// "madvise" or "always"): a direct write pins its pages one by one, and
// a huge page is one. m is the mapping, for munmap; nil when the memory
// came from the heap (mmap refused). The stage is kept for the shard's
// life, a rewrite's buffers while rewrites use them (baseBufs).
func hugeBuf(n int) (b, m []byte) {
	const huge = 2 << 20
	m, err := unix.Mmap(-1, 0, n+huge, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return alignedBuf(n), nil
	}
	skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(m))) & (huge - 1))
	b = m[skip : skip+n : skip+n]
	unix.Madvise(b, unix.MADV_HUGEPAGE)
	return b, m
}

// memory is INFO's mem_aof_buffer: the chunks and the stage, the alias
// counted once (as the stage), and a rewrite's direct buffers while kept
// between rewrites.
func (a *aofState) memory() int {
	n := a.memBytes() + cap(a.st.buf) + a.baseBufs.mem()
	if a.st.alias {
		n -= cap(*a.oldestFed())
	}
	return n
}

// aofInlineMax is the most a write the loop makes itself may carry
// (AOFWriteSmall).
const aofInlineMax = 64 << 10

// AOFWriteSmall writes what AOFNextWrite just handed out with pwritev in
// the loop, as Redis writes before it sleeps, and reports it done, when it
// is a buffered write of at most aofInlineMax bytes and replies need not
// wait for it (everysec, no). It returns false when the writer must run
// the write itself (on the ring: a direct write, a large one, or one that
// appendfsync always links to its fsync). A small buffered write costs
// the loop a few microseconds; handed to the ring it went to a worker of
// io_uring (ext4 does not take buffered writes without blocking), whose
// wake-up and context switches cost more than the write: at -P 1 about
// 0.65 us per SET of the shard's CPU.
func (s *Shard) AOFWriteSmall(fd int, off int64, iov []unix.Iovec) bool {
	a := &s.aof
	if s.fsyncPolicy() == fsyncAlways || a.st.wend > 0 && a.st.direct {
		return false
	}
	n := 0
	for _, v := range iov {
		n += int(v.Len)
	}
	if n > aofInlineMax {
		return false
	}
	s.aofWriteNow(fd, off, iov)
	return true
}
