//go:build linux

package uring

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BufRing is a provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19): a
// group of equal-sized buffers the kernel picks from for requests with
// SQEBufferSelect, such as RecvMultishot.
//
// The ring entries and the buffers share one anonymous mmap, outside the Go
// heap: nothing there moves and the garbage collector never scans it.
//
// Ownership of buffer id:
//   - the kernel's from the moment it is published (NewBufRing publishes
//     all; Recycle stages one, and Publish or the next submit publishes it)
//     until a CQE names it (CQE.HasBuffer, CQE.BufferID);
//   - then the caller's, to read through Buf, until the caller calls
//     Recycle(id). Recycle each id exactly once per CQE that named it.
//
// A BufRing belongs to its Ring's owner thread, like the Ring.
type BufRing struct {
	r         *Ring
	group     uint16
	mem       []byte         // entries, then buffers
	entries   []bufRingEntry // count entries at the start of mem
	tailWord  *atomic.Uint32 // bytes 12..15 of mem: bufs[0].bid and the tail
	bufs      []byte         // count × size bytes after the entries
	base      uint64         // address of bufs[0]
	size      int
	count     int
	mask      uint16
	tail      uint16 // staged tail: entries before it are written
	published uint16 // the tail the kernel can see
	closed    bool
}

// NewBufRing maps count buffers of size bytes (count a power of two up to
// 32768), registers them with r as buffer group group, and publishes them
// all to the kernel.
func NewBufRing(r *Ring, group uint16, count int, size int) (*BufRing, error) {
	if count < 1 || count > maxBufRingEntries || count&(count-1) != 0 {
		return nil, fmt.Errorf("uring: buffer ring of %d entries: want a power of two in 1..%d", count, maxBufRingEntries)
	}
	if size < 1 || size > math.MaxInt32 {
		return nil, fmt.Errorf("uring: buffer size %d: want 1..%d", size, math.MaxInt32)
	}
	if r.closed {
		return nil, errors.New("uring: buffer ring on a closed ring")
	}
	page := os.Getpagesize()
	ringBytes := roundUp(count*sizeofBufRingEntry, page) // the kernel wants the ring page-aligned
	total := ringBytes + roundUp(count*size, page)
	mem, err := unix.Mmap(-1, 0, total, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("uring: mmap buffer ring group %d (%d bytes): %w", group, total, err)
	}
	b := &BufRing{
		r:        r,
		group:    group,
		mem:      mem,
		entries:  unsafe.Slice((*bufRingEntry)(unsafe.Pointer(&mem[0])), count),
		tailWord: (*atomic.Uint32)(unsafe.Pointer(&mem[bufRingTailWordOff])),
		bufs:     mem[ringBytes : ringBytes+count*size : ringBytes+count*size],
		base:     uint64(uintptr(unsafe.Pointer(&mem[ringBytes]))),
		size:     size,
		count:    count,
		mask:     uint16(count - 1),
	}
	reg := &bufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&mem[0]))), ringEntries: uint32(count), bgid: group}
	if _, errno := r.register(regPbufRing, unsafe.Pointer(reg), 1); errno != 0 {
		unix.Munmap(mem)
		return nil, &Error{Op: fmt.Sprintf("register buffer ring group %d", group), Errno: errno}
	}
	for id := 0; id < count; id++ {
		b.Recycle(uint16(id))
	}
	b.Publish()
	r.bufRings = append(r.bufRings, b)
	return b, nil
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// Group returns the buffer group id, for RecvMultishot and SetBufferSelect.
func (b *BufRing) Group() uint16 { return b.group }

// Count returns the number of buffers.
func (b *BufRing) Count() int { return b.count }

// Size returns the size of each buffer.
func (b *BufRing) Size() int { return b.size }

// Buf returns the whole buffer id (its capacity ends with it); slice it to
// the CQE's Res. It is valid while the caller owns the buffer.
func (b *BufRing) Buf(id uint16) []byte {
	off := int(id) * b.size
	return b.bufs[off : off+b.size : off+b.size]
}

// Recycle gives buffer id back to the kernel. It only stages the entry;
// Publish, or the Ring's next submit, makes it visible. It panics if id is
// out of range.
func (b *BufRing) Recycle(id uint16) {
	if int(id) >= b.count {
		panic(fmt.Sprintf("uring: recycle buffer %d of a %d-buffer ring", id, b.count))
	}
	// The slot at the staged tail is free: every id is in the ring at most
	// once and id itself is not, so fewer than count entries are live.
	// bufs[0].resv is the ring tail, so entries are written field by field
	// and resv never.
	e := &b.entries[b.tail&b.mask]
	e.addr = b.base + uint64(id)*uint64(b.size)
	e.len = uint32(b.size)
	e.bid = id
	b.tail++
}

// Publish makes the recycled buffers visible to the kernel. The Ring's
// submits call it; call it directly when buffers must be available before
// the next submit (without DEFER_TASKRUN, completion work can run at any
// system call the thread makes).
//
// The 16-bit tail needs a store-release (the kernel load-acquires it and
// then reads the entries before it). Go has no 16-bit atomics, so the tail
// is stored together with bufs[0].bid, the 16 bits beside it, in one 32-bit
// atomic store that rewrites bid with the value it already holds. Only this
// thread writes that word; the kernel only reads it.
func (b *BufRing) Publish() {
	if b.tail == b.published {
		return
	}
	w := b.tailWord.Load()
	// The tail is the upper half of the word in memory order
	// (bytes 14..15), whatever the machine's byte order.
	*(*uint16)(unsafe.Add(unsafe.Pointer(&w), bufRingTailOffset-bufRingTailWordOff)) = b.tail
	b.tailWord.Store(w)
	b.published = b.tail
}

// Close unregisters the group and unmaps its memory. Call it only when no
// request that selects from the group is in flight (cancel them and reap
// their final CQEs first): the kernel writes into these buffers. After the
// Ring is closed, Close only returns nil.
func (b *BufRing) Close() error {
	if b.closed {
		return nil
	}
	var errs []error
	reg := &bufReg{bgid: b.group}
	if _, errno := b.r.register(unregPbufRing, unsafe.Pointer(reg), 1); errno != 0 {
		errs = append(errs, &Error{Op: fmt.Sprintf("unregister buffer ring group %d", b.group), Errno: errno})
	}
	rings := b.r.bufRings
	for i, br := range rings {
		if br == b {
			rings[i] = rings[len(rings)-1]
			rings[len(rings)-1] = nil
			b.r.bufRings = rings[:len(rings)-1]
			break
		}
	}
	errs = append(errs, b.release())
	return errors.Join(errs...)
}

// release unmaps the memory; the registration is gone with the ring or was
// removed by Close.
func (b *BufRing) release() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := unix.Munmap(b.mem)
	b.mem, b.entries, b.bufs, b.tailWord = nil, nil, nil, nil
	if err != nil {
		return fmt.Errorf("uring: munmap buffer ring group %d: %w", b.group, err)
	}
	return nil
}
