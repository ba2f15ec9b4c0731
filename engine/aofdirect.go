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
// through a second descriptor of the same file: the records are copied
// into an aligned staging buffer (the stage), whose whole blocks are
// written directly; the partial block at its end stays staged and is
// written again, completed, by the next direct write. In a 2-vCPU VM on
// ext4 this took the AOF's share of the CPU per SET at -P 30 from about
// 160 ns in the kernel to about 45.
//
// The stage mirrors the file from an aligned offset (base): the first in
// bytes are in the file already (the start of the partial block), the rest
// are not. A direct write is handed out only when it adds at least
// aofDirectMin bytes, as a direct write's fixed cost (pinning, a device
// request: tens of microseconds in a VM) would cost more than the page
// cache below that. Otherwise what the stage holds beyond in is written
// buffered through the ordinary descriptor, and the shard goes back to
// writing its chunks buffered (aofbuf.go) as soon as the stage holds
// nothing unwritten: a quiet shard writes every turn's records to the page
// cache at once, as Redis does, and the staged tail of a busy one waits for
// the next write only (it is in the file no later than the turn after the
// stream stops). A later direct write over a block that went through the
// page cache is kept coherent by the kernel.
//
// Direct writes are used with appendfsync everysec and no, where the
// writer runs them on the ring (a direct write waits for the device, which
// must not stall the loop: the epoll writer never stages), and where the
// file system takes O_DIRECT with an alignment of at most 4 KiB. With
// appendfsync always every turn's records are synced before their
// replies, so there is no stream to stage. A final flush (shutdown, a
// rewrite's cut, appendonly off) writes the stage buffered.
//
// Ownership: buf belongs to the engine, except buf[wstart:wend] while a
// write handed out by AOFNextWrite is in flight (the kernel reads it until
// AOFWriteDone).

const (
	aofStageCap  = 4 << 20   // bytes the stage takes at most (whole chunks)
	aofDirectMin = 128 << 10 // least a direct write adds to the file
	aofAlign     = 4 << 10   // the stage's block: offsets and lengths of direct writes
)

type aofStage struct {
	dfd          int    // the incr file opened with O_DIRECT, -1 when not usable
	buf          []byte // aligned, aofStageCap+aofAlign bytes once used
	base         int64  // file offset of buf[0], a multiple of aofAlign
	in           int    // buf[:in] is in the file
	n            int    // buf[:n] is staged
	wstart, wend int    // the write in flight or to retry: buf[wstart:wend]; wend 0 when none
	direct       bool   // that write is direct
	allowed      bool   // the writer runs direct writes (the ring)
	final        bool   // a final flush is running: nothing is staged
	on           bool   // records go through the stage
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
func (st *aofStage) unwritten() int { return st.n - st.in }

// writingLen is what the write in flight adds to the file when whole.
func (st *aofStage) writingLen() int {
	if st.wend == 0 {
		return 0
	}
	return max(0, st.wend-st.in)
}

// usable says whether records go to the stage now.
func (s *Shard) stageUsable() bool {
	a := &s.aof
	return a.st.allowed && a.st.dfd >= 0 && !a.st.final && s.fsyncPolicy() != fsyncAlways
}

// AOFDirectWrites says whether the writer runs the AOF's writes where a
// direct write may wait for the device without stalling the loop (the
// ring's workers).
func (s *Shard) AOFDirectWrites(on bool) { s.aof.st.allowed = on }

// stageNext hands out the stage's next write, if any: a direct one when
// the stage is usable and has enough whole blocks beyond what is in the
// file, else what it holds unwritten, buffered. It first moves what was
// fed into the stage, starting one when enough was fed. ok false means
// the chunks are written as they are.
func (s *Shard) stageNext() (fd int, off int64, p []byte, ok bool) {
	a := &s.aof
	st := &a.st
	usable := s.stageUsable()
	if st.on && st.unwritten() == 0 && (!usable || a.fed() < aofDirectMin) {
		st.reset() // the stream stopped: back to the chunks
	}
	if usable {
		if !st.on && a.fed() >= aofDirectMin && !s.stageStart() {
			usable = false
		}
		if st.on {
			had := len(a.buf)
			n := a.drainInto(st.buf[st.n : aofStageCap+aofAlign])
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
	if end := st.n &^ (aofAlign - 1); usable && end-st.in >= aofDirectMin {
		st.wstart, st.wend, st.direct = 0, end, true
		return st.dfd, st.base, st.buf[:end], true
	}
	if st.n > st.in {
		st.wstart, st.wend, st.direct = st.in, st.n, false
		return a.fd, st.base + int64(st.in), st.buf[st.in:st.n], true
	}
	st.reset() // everything staged is in the file: back to the chunks
	return 0, 0, nil, false
}

// stageStart begins staging at the file's end: the stage starts at the
// block the end lies in, whose first bytes are read back from the file.
func (s *Shard) stageStart() bool {
	a := &s.aof
	st := &a.st
	if st.buf == nil {
		st.buf = stageBuf(aofStageCap + aofAlign)
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

// reset leaves staged mode; the stage must hold nothing unwritten.
func (st *aofStage) reset() { st.on, st.n, st.in = false, 0, 0 }

// stageDone records that the stage's write in flight put n bytes in the
// file and drops the whole blocks in the file from the stage. It returns
// the bytes the file gained and whether the write was whole.
func (st *aofStage) stageDone(n int) (added int, whole bool) {
	end := st.wstart + n
	whole = end >= st.wend
	st.wend = 0
	if end > st.in {
		added = end - st.in
		st.in = end
	}
	if k := st.in &^ (aofAlign - 1); k > 0 {
		st.n = copy(st.buf, st.buf[k:st.n])
		st.in -= k
		st.base += int64(k)
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

// stageBuf is n bytes of memory outside the Go heap, 2 MiB aligned and
// advised to be backed by huge pages where the kernel gives them (THP
// "madvise" or "always"): a direct write pins its pages one by one, and
// a huge page is one. It falls back to the heap. The stage is kept for
// the shard's life.
func stageBuf(n int) []byte {
	const huge = 2 << 20
	m, err := unix.Mmap(-1, 0, n+huge, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return alignedBuf(n)
	}
	skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(m))) & (huge - 1))
	b := m[skip : skip+n : skip+n]
	unix.Madvise(b, unix.MADV_HUGEPAGE)
	return b
}
