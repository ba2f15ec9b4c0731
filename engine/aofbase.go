package engine

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A rewrite's base goes to its temporary file with O_DIRECT where the
// file system takes it: whole aligned 4 MiB buffers, each written by a
// goroutine while the loop fills the other. The base is read again only
// at the next start, so there is nothing to gain from the page cache, and
// the buffered write cost the loop the kernel's copy into the cache,
// delayed allocation and, at the fsync, the writeback of every page. On
// ext4 in a 2-vCPU VM an idle shard rewrote 950,000 keys (262 MB) in
// about 255 ms buffered and 160 ms direct, and the AOF benchmark's CPU
// per SET fell by about 45 ns (3%). Keys are serialized into the buffer
// being filled itself (room, commit), not copied into it, and the buffers
// are huge-page memory outside the heap (hugeBuf): 160 -> ~120 ms. The
// shard keeps them from one rewrite to the next (baseBufs) and unmaps them
// once no rewrite used them for baseKeepMs. The last partial buffer is
// written buffered, O_DIRECT cleared, so the file ends exactly where the
// base does. Where O_DIRECT is refused (tmpfs, some FUSE and network file
// systems) or its alignment is coarser than a page, the base is written
// buffered as before.
//
// Ownership: the buffer being filled belongs to the loop (the rewrite's
// buf is its free part); the other one, while done is not nil, to the
// goroutine writing it. The file stays open
// until every write ended (wait).

// baseDirectSize is one buffer, a multiple of 4 KiB: big enough that
// the fixed cost of a direct write (pinning pages, a device request; some
// 60 us in a VM) stays small per byte. Tests make it small.
var baseDirectSize = 4 << 20

// baseBufs are the direct writer's two buffers, kept by the shard between
// rewrites: memory mapped afresh is faulted in and zeroed again by every
// rewrite, at about 1 GB/s in a VM whose host takes freed pages back (two
// 4 MiB buffers cost ~11 ns per SET of the AOF benchmark at -P 30, where
// a rewrite runs every second or so). The loop owns them; a baseDirect
// holds them (busy) from newBaseDirect to release.
type baseBufs struct {
	bufs [2][]byte
	maps [2][]byte // the mappings (hugeBuf); nil for heap memory
	busy bool      // a rewrite's writer holds them
	used int64     // ms: when a writer last released them
}

// baseKeepMs is how long unused buffers are kept.
const baseKeepMs = 60_000

// take gives the buffers to a writer, mapping them when there are none.
func (b *baseBufs) take() [2][]byte {
	if b.bufs[0] == nil {
		for i := range b.bufs {
			b.bufs[i], b.maps[i] = hugeBuf(baseDirectSize)
		}
	}
	b.busy = true
	return b.bufs
}

// idle unmaps the buffers when no writer has used them for baseKeepMs
// (at once when keep is false), as of now (ms).
func (b *baseBufs) idle(now int64, keep bool) {
	if b.bufs[0] == nil || b.busy || keep && now-b.used < baseKeepMs {
		return
	}
	for i, m := range b.maps {
		if m != nil {
			unix.Munmap(m)
		}
		b.maps[i], b.bufs[i] = nil, nil
	}
}

// mem is the memory the buffers take while no writer holds them.
func (b *baseBufs) mem() int {
	if b.bufs[0] == nil || b.busy {
		return 0
	}
	return 2 * len(b.bufs[0])
}

type baseDirect struct {
	fd   int
	bufs [2][]byte
	kept *baseBufs  // where bufs came from, given back by release
	now  *int64     // the shard's clock (ms), for kept.used
	cur  int        // the buffer the loop fills
	fill int        // bytes in bufs[cur]
	off  int64      // file offset of bufs[cur]
	done chan error // the write of the other buffer, nil when none runs
}

// newBaseDirect switches f, a new empty file, to O_DIRECT and returns its
// writer, with kept's buffers, or nil when f is to be written buffered.
// now is the shard's clock.
func newBaseDirect(f *os.File, kept *baseBufs, now *int64) *baseDirect {
	fd := int(f.Fd())
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &st); err != nil ||
		st.Mask&unix.STATX_DIOALIGN == 0 || st.Dio_offset_align == 0 ||
		st.Dio_offset_align > 4096 || st.Dio_mem_align > 4096 {
		return nil
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return nil
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_DIRECT); err != nil {
		return nil
	}
	d := &baseDirect{fd: fd, kept: kept, now: now}
	d.bufs = kept.take()
	return d
}

// alignedBuf is n bytes starting on a 4 KiB boundary.
func alignedBuf(n int) []byte {
	b := make([]byte, n+4096)
	skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & 4095)
	return b[skip : skip+n : skip+n]
}

// write takes p (copied); each full buffer goes to the file on a
// goroutine. An error is that of an earlier buffer's write.
func (d *baseDirect) write(p []byte) error {
	for len(p) > 0 {
		n := copy(d.bufs[d.cur][d.fill:], p)
		d.fill += n
		p = p[n:]
		if d.fill < len(d.bufs[d.cur]) {
			continue
		}
		if err := d.submit(); err != nil {
			return err
		}
	}
	return nil
}

// room is the free part of the buffer being filled, as an empty slice
// whose capacity ends with the buffer: what the loop appends to it, commit
// takes without a copy.
func (d *baseDirect) room() []byte {
	b := d.bufs[d.cur]
	return b[d.fill:d.fill:len(b)]
}

// commit takes p, appended to what room returned: in place while it lies
// there, copied by write when an append outgrew it.
func (d *baseDirect) commit(p []byte) error {
	b := d.bufs[d.cur]
	if len(p) == 0 || d.fill == len(b) || unsafe.SliceData(p) != &b[d.fill] || len(p) > len(b)-d.fill {
		return d.write(p)
	}
	d.fill += len(p)
	if d.fill < len(b) {
		return nil
	}
	return d.submit()
}

// submit hands the full buffer to a goroutine that writes it, once the
// other one's write ended, and goes on with the other buffer.
func (d *baseDirect) submit() error {
	if err := d.wait(); err != nil {
		return err
	}
	buf, off, fd := d.bufs[d.cur], d.off, d.fd
	ch := make(chan error, 1)
	d.done = ch
	go func() { ch <- pwriteAll(fd, buf, off) }()
	d.off += int64(len(buf))
	d.cur ^= 1
	d.fill = 0
	return nil
}

// wait waits for the write in flight, if any, and returns its error.
func (d *baseDirect) wait() error {
	if d.done == nil {
		return nil
	}
	err := <-d.done
	d.done = nil
	return err
}

// finish writes what the buffers still hold, the part short of a whole
// buffer buffered, and leaves the file without O_DIRECT.
func (d *baseDirect) finish() error {
	if err := d.wait(); err != nil {
		d.release()
		return err
	}
	fl, err := unix.FcntlInt(uintptr(d.fd), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(d.fd), unix.F_SETFL, fl&^unix.O_DIRECT)
	}
	if err != nil {
		d.release()
		return err
	}
	err = pwriteAll(d.fd, d.bufs[d.cur][:d.fill], d.off)
	d.release()
	return err
}

// release gives the buffers back to the shard; no write may be in
// flight.
func (d *baseDirect) release() {
	if d.bufs[0] == nil {
		return
	}
	d.bufs = [2][]byte{}
	d.kept.busy = false
	d.kept.used = *d.now
}

// mem is the memory the writer holds.
func (d *baseDirect) mem() int {
	if d == nil {
		return 0
	}
	return 2 * len(d.kept.bufs[0])
}
