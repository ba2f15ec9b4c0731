package engine

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The AOF's buffer: records are appended to a chunk of aofChunk bytes
// (aof.buf); a chunk with less than aofChunkRoom bytes left is sealed at
// the start of the next execution unit, so the records of one unit stay
// in one chunk (wrapUnit moves them). The writer takes every sealed chunk
// and the current one at once and writes them with one pwritev at the
// file's offset; written chunks go back to a free list and are reused,
// most recently written first, while their lines are still in the cache.
// So a steady stream of writes allocates nothing, and what a turn appends
// never copies what earlier turns appended (a single growing buffer did
// both, and dropped megabytes to the collector whenever the disk lagged).
//
// Ownership: buf and sealed belong to the engine; wchunks, writing and iov
// belong to the writer (and the kernel) from AOFNextWrite until the
// AOFWriteDone that completes them.
const (
	aofChunk     = 64 << 10
	aofChunkRoom = 4 << 10
	aofPoolMax   = 64  // free chunks kept (4 MiB); more are left to the collector
	aofWriteMax  = 256 // chunks per write (IOV_MAX is 1024)
)

// aofBuf is the buffer's state inside aofState.
type aofBuf struct {
	buf     []byte   // the chunk records are appended to
	sealed  [][]byte // full chunks not yet handed to the writer, oldest first
	pending int      // bytes in sealed

	wchunks [][]byte     // the chunks of the write in flight (or to retry), whole
	writing [][]byte     // what is still to be written of wchunks
	iov     []unix.Iovec // writing as the kernel reads it
	pool    [][]byte     // free chunks
}

// fed is how many bytes were fed and not yet handed to the writer.
func (b *aofBuf) fed() int { return b.pending + len(b.buf) }

// writingLen is how many bytes the writer still has to write.
func (b *aofBuf) writingLen() int {
	n := 0
	for _, w := range b.writing {
		n += len(w)
	}
	return n
}

// unwritten is how many bytes were fed and not yet written.
func (b *aofBuf) unwritten() int { return b.fed() + b.writingLen() }

// memBytes is the memory the buffer holds: every chunk, filled, being
// written or free (INFO's mem_aof_buffer).
func (b *aofBuf) memBytes() int {
	n := cap(b.buf)
	for _, list := range [...][][]byte{b.sealed, b.wchunks, b.pool} {
		for _, c := range list {
			n += cap(c)
		}
	}
	return n
}

// room seals the current chunk when it has less than aofChunkRoom bytes
// left. Called where an execution unit begins.
func (b *aofBuf) room() {
	if cap(b.buf)-len(b.buf) >= aofChunkRoom {
		return
	}
	if len(b.buf) > 0 {
		b.sealed = append(b.sealed, b.buf)
		b.pending += len(b.buf)
	}
	b.buf = b.chunk()
}

// chunk is an empty chunk: the most recently freed, or a new one.
func (b *aofBuf) chunk() []byte {
	if n := len(b.pool); n > 0 {
		c := b.pool[n-1]
		b.pool[n-1] = nil
		b.pool = b.pool[:n-1]
		return c
	}
	return make([]byte, 0, aofChunk)
}

// take moves what was fed to the writer: up to aofWriteMax chunks, the
// sealed ones first, then the current one when all sealed ones fit. It
// returns the bytes taken.
func (b *aofBuf) take() int {
	n := 0
	k := min(len(b.sealed), aofWriteMax)
	for _, c := range b.sealed[:k] {
		b.wchunks = append(b.wchunks, c)
		n += len(c)
	}
	clear(b.sealed[:k])
	b.sealed = b.sealed[:copy(b.sealed, b.sealed[k:])]
	b.pending -= n
	if len(b.sealed) == 0 && len(b.buf) > 0 && len(b.wchunks) < aofWriteMax {
		b.wchunks = append(b.wchunks, b.buf)
		n += len(b.buf)
		b.buf = b.chunk()
	}
	b.writing = append(b.writing[:0], b.wchunks...)
	return n
}

// vec returns writing as iovecs.
func (b *aofBuf) vec() []unix.Iovec {
	b.iov = b.iov[:0]
	for _, w := range b.writing {
		v := unix.Iovec{Base: unsafe.SliceData(w)}
		v.SetLen(len(w))
		b.iov = append(b.iov, v)
	}
	return b.iov
}

// advance drops n written bytes from writing; when all is written, the
// chunks go back to the free list.
func (b *aofBuf) advance(n int) {
	i := 0
	for i < len(b.writing) && n >= len(b.writing[i]) {
		n -= len(b.writing[i])
		i++
	}
	if i < len(b.writing) {
		b.writing[i] = b.writing[i][n:]
	}
	clear(b.writing[:i])
	b.writing = b.writing[:copy(b.writing, b.writing[i:])]
	if len(b.writing) > 0 {
		return
	}
	for i, c := range b.wchunks {
		b.free(c)
		b.wchunks[i] = nil
	}
	b.wchunks = b.wchunks[:0]
	clear(b.iov)
}

// free returns a written chunk to the free list.
func (b *aofBuf) free(c []byte) {
	if cap(c) == aofChunk && len(b.pool) < aofPoolMax {
		b.pool = append(b.pool, c[:0])
	}
}

// discard forgets everything fed and not handed to the writer (appendonly
// turned off after its last write failed).
func (b *aofBuf) discard() {
	clear(b.sealed)
	b.sealed = b.sealed[:0]
	b.pending = 0
	b.buf = b.buf[:0]
}

// pwritev writes iov at off with pwritev(2), without the allocation of
// x/sys's wrapper.
func pwritev(fd int, iov []unix.Iovec, off int64) (int, error) {
	if len(iov) == 0 {
		return 0, nil
	}
	n, _, e := unix.Syscall6(unix.SYS_PWRITEV, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(iov))),
		uintptr(len(iov)), uintptr(off), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// pwriteAll writes all of p at off, however many pwrite(2) calls it takes.
func pwriteAll(fd int, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := unix.Pwrite(fd, p, off)
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.ENOSPC
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}
