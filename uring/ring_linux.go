//go:build linux

package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Options tune New. The zero value asks for the best mode the kernel
// offers; the Disable* fields exist to run the plainer modes of older
// kernels on a new one (tests, benchmarks side by side).
type Options struct {
	// CQEntries is the completion queue size; 0 means 4 × entries, since
	// multishot requests post many CQEs per SQE. It must be >= entries.
	CQEntries uint32
	// DisableDeferTaskrun skips SINGLE_ISSUER|DEFER_TASKRUN (6.1).
	DisableDeferTaskrun bool
	// DisableCoopTaskrun also skips COOP_TASKRUN (5.19): a plain ring.
	DisableCoopTaskrun bool
	// DisableRegisteredRing does not register the ring fd (5.18).
	DisableRegisteredRing bool
	// DisableExtArg makes SubmitAndWait time its waits with an internal
	// IORING_OP_TIMEOUT, as on kernels before 5.11.
	DisableExtArg bool
}

// Ring is an io_uring instance: the submission queue, the completion queue
// and the SQE array mapped from the kernel. It is owned by the OS thread
// that called New (see the package documentation); no method may be called
// from any other thread, and none is safe for concurrent use.
type Ring struct {
	fd         int
	enterFD    int    // the registered ring index when enterFlags has enterRegisteredRing, else fd
	enterFlags uint32 // added to every io_uring_enter
	regIndex   int    // registered ring index, -1 when not registered

	sq sqRing
	cq cqRing

	ringMem []byte // SQ ring (and CQ ring with FeatSingleMmap)
	cqMem   []byte // CQ ring; aliases ringMem with FeatSingleMmap
	sqeMem  []byte

	feat         Features
	deferTaskrun bool
	extArg       bool

	// waitTs and waitArg are the ext-arg wait's timeout, in the Ring (on
	// the heap, so their addresses are stable) because the kernel reads
	// them during io_uring_enter. waitArg.ts points at waitTs for the
	// Ring's life.
	waitTs  Timespec
	waitArg geteventsArg
	// fallbackTs is the timespec of the internal timeout SubmitAndWait
	// queues when ext-arg waits are not available.
	fallbackTs Timespec
	// slots are the per-SQE-slot timespecs handed out by Timespec.
	slots []Timespec

	// internal counts the package's own requests still to post a final
	// CQE; while it is non-zero Reap filters their CQEs out.
	internal int

	bufRings []*BufRing
	closed   bool
}

// sqRing is the submission side. The kernel writes head (as it consumes
// SQEs) and flags; we write tail and the SQE slots.
type sqRing struct {
	head      *atomic.Uint32
	tail      *atomic.Uint32
	flags     *atomic.Uint32
	dropped   *atomic.Uint32
	mask      uint32
	entries   uint32
	sqes      []SQE
	local     uint32 // tail including SQEs handed out but not yet published
	published uint32 // the value last stored to *tail
}

// cqRing is the completion side. The kernel writes tail (as it posts CQEs),
// the CQE slots and overflow; we write head.
type cqRing struct {
	head     *atomic.Uint32
	tail     *atomic.Uint32
	overflow *atomic.Uint32
	mask     uint32
	entries  uint32
	cqes     []CQE
	local    uint32 // our head; equal to *head between calls
}

// Memory ordering on the shared rings.
//
// Go's sync/atomic operations are sequentially consistent, which is
// stronger than the acquire/release pairs the io_uring ABI asks for (and
// compiles to the same instructions where it matters: LDAR/STLR on arm64,
// MOV/XCHG on amd64). The pairs are:
//
//   - SQ tail, store-release (flush): our plain writes of SQE slots (and of
//     the SQ index array) happen before the kernel, after its load-acquire
//     of the tail, reads them.
//   - SQ head, load-acquire (GetSQE, flush): the kernel's reads of the
//     slots it consumed happen before we overwrite those slots.
//   - CQ tail, load-acquire (Reap): the kernel's writes of the CQEs it
//     posted happen before our reads of them.
//   - CQ head, store-release (Reap): our reads of the CQEs happen before
//     the kernel, after seeing the new head, reuses their slots.
//   - SQ flags (CQ overflow, task-run pending) are loaded atomically; they
//     are hints that decide whether to enter the kernel, not data.
//
// Buffer rings have the same shape; see BufRing.Publish.

// New creates a ring with entries SQ slots (rounded up to a power of two by
// the kernel) on the calling thread, which must be locked to its goroutine
// (runtime.LockOSThread) and stays the ring's owner.
//
// It tries, in order, SINGLE_ISSUER|DEFER_TASKRUN (6.1; with COOP_TASKRUN,
// TASKRUN_FLAG, SUBMIT_ALL and, from 6.6, NO_SQARRAY), then
// COOP_TASKRUN|TASKRUN_FLAG|SUBMIT_ALL (5.19), then a plain ring, each with
// CQSIZE; Features reports what took. It then registers the ring fd (5.18)
// and probes what the kernel supports.
//
// When io_uring is refused (seccomp, kernel.io_uring_disabled, LSM, a
// kernel without it) the error wraps ErrUnavailable and the errno, and its
// text says which cause applies.
func New(entries uint32, opts Options) (*Ring, error) {
	if entries == 0 || entries > maxEntries {
		return nil, fmt.Errorf("uring: %d SQ entries: want 1..%d", entries, maxEntries)
	}
	cqEntries := opts.CQEntries
	if cqEntries == 0 {
		cqEntries = 4 * entries
	}
	if cqEntries < entries {
		return nil, fmt.Errorf("uring: %d CQ entries is fewer than %d SQ entries", cqEntries, entries)
	}

	p := new(params)
	var fd int
	var errno unix.Errno
	for _, flags := range setupLadder(opts) {
		*p = params{sqEntries: entries, cqEntries: cqEntries, flags: uint32(flags)}
		fd, errno = ioUringSetup(entries, p)
		if errno != unix.EINVAL {
			break
		}
	}
	if errno != 0 {
		return nil, setupError(errno)
	}

	r := &Ring{fd: fd, enterFD: fd, regIndex: -1}
	r.feat.Setup = SetupFlags(p.flags)
	r.feat.Kernel = FeatureFlags(p.features)
	r.feat.SQEntries = p.sqEntries
	r.feat.CQEntries = p.cqEntries
	if err := r.mapRings(p); err != nil {
		r.unmap()
		unix.Close(fd)
		return nil, err
	}
	r.deferTaskrun = r.feat.Setup&SetupDeferTaskrun != 0
	r.extArg = r.feat.Kernel&FeatExtArg != 0 && !opts.DisableExtArg
	r.feat.ExtArg = r.extArg
	r.feat.CQESkip = r.feat.Kernel&FeatCQESkip != 0
	r.waitArg = geteventsArg{sigmaskSz: kernelSigsetBytes, ts: uint64(uintptr(unsafe.Pointer(&r.waitTs)))}
	r.slots = make([]Timespec, r.sq.entries)

	if !opts.DisableRegisteredRing {
		r.registerRingFD()
	}
	r.probe()
	return r, nil
}

// setupLadder lists the setup flag sets to try, best first. Each step is
// tried only when the previous one failed with EINVAL (an unknown flag).
func setupLadder(opts Options) []SetupFlags {
	const sized = SetupCQSize | SetupClamp
	var ladder []SetupFlags
	if !opts.DisableDeferTaskrun && !opts.DisableCoopTaskrun {
		dt := sized | SetupSingleIssuer | SetupDeferTaskrun | SetupCoopTaskrun | SetupTaskrunFlag | SetupSubmitAll
		ladder = append(ladder, dt|SetupNoSQArray, dt)
	}
	if !opts.DisableCoopTaskrun {
		ladder = append(ladder, sized|SetupCoopTaskrun|SetupTaskrunFlag|SetupSubmitAll)
	}
	return append(ladder, sized, SetupCQSize)
}

func ioUringSetup(entries uint32, p *params) (int, unix.Errno) {
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	return int(fd), errno
}

// mapRings maps the rings described by p and points the queues into them.
func (r *Ring) mapRings(p *params) error {
	sqSize := uintptr(p.sqOff.array) + uintptr(p.sqEntries)*4
	if p.flags&uint32(SetupNoSQArray) != 0 {
		sqSize = uintptr(max(p.sqOff.head, p.sqOff.tail, p.sqOff.ringMask, p.sqOff.ringEntries, p.sqOff.flags, p.sqOff.dropped)) + 4
	}
	cqSize := uintptr(p.cqOff.cqes) + uintptr(p.cqEntries)*sizeofCQE
	single := p.features&uint32(FeatSingleMmap) != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	const prot = unix.PROT_READ | unix.PROT_WRITE
	const flags = unix.MAP_SHARED | unix.MAP_POPULATE
	var err error
	if r.ringMem, err = unix.Mmap(r.fd, offSQRing, int(sqSize), prot, flags); err != nil {
		return fmt.Errorf("uring: mmap SQ ring: %w", err)
	}
	if single {
		r.cqMem = r.ringMem
	} else if r.cqMem, err = unix.Mmap(r.fd, offCQRing, int(cqSize), prot, flags); err != nil {
		return fmt.Errorf("uring: mmap CQ ring: %w", err)
	}
	if r.sqeMem, err = unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*sizeofSQE, prot, flags); err != nil {
		return fmt.Errorf("uring: mmap SQEs: %w", err)
	}

	sq := &r.sq
	sq.head = u32At(r.ringMem, p.sqOff.head)
	sq.tail = u32At(r.ringMem, p.sqOff.tail)
	sq.flags = u32At(r.ringMem, p.sqOff.flags)
	sq.dropped = u32At(r.ringMem, p.sqOff.dropped)
	sq.mask = u32At(r.ringMem, p.sqOff.ringMask).Load()
	sq.entries = u32At(r.ringMem, p.sqOff.ringEntries).Load()
	sq.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&r.sqeMem[0])), sq.entries)
	sq.local = sq.tail.Load()
	sq.published = sq.local
	if p.flags&uint32(SetupNoSQArray) == 0 {
		// The index array maps SQ ring positions to SQE slots. GetSQE hands
		// out slot (tail & mask) for position tail, so the identity map is
		// written once here; the first store-release of the tail publishes
		// it along with the first SQEs.
		array := unsafe.Slice((*uint32)(unsafe.Pointer(&r.ringMem[p.sqOff.array])), sq.entries)
		for i := range array {
			array[i] = uint32(i)
		}
	}

	cq := &r.cq
	cq.head = u32At(r.cqMem, p.cqOff.head)
	cq.tail = u32At(r.cqMem, p.cqOff.tail)
	cq.overflow = u32At(r.cqMem, p.cqOff.overflow)
	cq.mask = u32At(r.cqMem, p.cqOff.ringMask).Load()
	cq.entries = u32At(r.cqMem, p.cqOff.ringEntries).Load()
	cq.cqes = unsafe.Slice((*CQE)(unsafe.Pointer(&r.cqMem[p.cqOff.cqes])), cq.entries)
	cq.local = cq.head.Load()
	return nil
}

// u32At points at a 32-bit ring field; the index panics if off is outside
// the mapping.
func u32At(mem []byte, off uint32) *atomic.Uint32 {
	_ = mem[off+3]
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

// registerRingFD registers the ring fd in the calling thread's io_uring
// context, so io_uring_enter can skip the fd table lookup. Failure (before
// 5.18) leaves the plain fd in use.
func (r *Ring) registerRingFD() {
	upd := &rsrcUpdate{offset: ^uint32(0), data: uint64(r.fd)}
	n, errno := r.register(regRingFDs, unsafe.Pointer(upd), 1)
	if errno != 0 || n != 1 {
		return
	}
	r.regIndex = int(upd.offset)
	r.enterFD = r.regIndex
	r.enterFlags = enterRegisteredRing
	r.feat.RegisteredRing = true
}

func (r *Ring) register(op uintptr, arg unsafe.Pointer, nr uintptr) (int, unix.Errno) {
	n, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), op, uintptr(arg), nr, 0, 0)
	return int(n), errno
}

// enter calls io_uring_enter. It is a blocking system call that lets the Go
// scheduler hand this thread's P to other goroutines while it waits.
func (r *Ring) enter(toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr) (int, unix.Errno) {
	n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.enterFD), uintptr(toSubmit),
		uintptr(minComplete), uintptr(flags|r.enterFlags), uintptr(arg), argSize)
	return int(n), errno
}

// Features reports what the kernel accepted and supports.
func (r *Ring) Features() Features { return r.feat }

// FD returns the ring's file descriptor (for /proc/self/fdinfo).
func (r *Ring) FD() int { return r.fd }

// GetSQE returns the next free SQE slot, or nil when the submission queue is
// full: submit, then try again. The slot must be prepared (one prep method)
// before the next submit, which publishes it.
func (r *Ring) GetSQE() *SQE {
	sq := &r.sq
	// Load-acquire of the head: the kernel is done reading every slot
	// before it, so handing one of them out again is safe.
	if sq.local-sq.head.Load() >= sq.entries {
		return nil
	}
	s := &sq.sqes[sq.local&sq.mask]
	sq.local++
	return s
}

// SQSpace is how many SQEs GetSQE can hand out before the next submit.
func (r *Ring) SQSpace() uint32 {
	sq := &r.sq
	return sq.entries - (sq.local - sq.head.Load())
}

// Timespec stores d in the ring-owned slot that belongs to sqe's position
// in the SQE array and returns it, for sqe.Timeout. The slot is reused only
// when GetSQE hands out the same SQE slot again, by which time the kernel
// has consumed the SQE and copied the timespec.
func (r *Ring) Timespec(sqe *SQE, d time.Duration) *Timespec {
	i := (uintptr(unsafe.Pointer(sqe)) - uintptr(unsafe.Pointer(&r.sq.sqes[0]))) / sizeofSQE
	ts := &r.slots[i]
	*ts = NewTimespec(d)
	return ts
}

// flush publishes staged buffer-ring entries and the SQEs handed out since
// the last flush, and returns how many SQEs the kernel has yet to consume.
func (r *Ring) flush() uint32 {
	for _, br := range r.bufRings {
		br.Publish()
	}
	sq := &r.sq
	if sq.local != sq.published {
		// Store-release: the SQE contents written above are visible to the
		// kernel before the tail that covers them.
		sq.tail.Store(sq.local)
		sq.published = sq.local
	}
	return sq.local - sq.head.Load()
}

// needGetEvents reports whether entering the kernel with GETEVENTS has work
// to do even when nothing is waited for: deferred task work (which only
// runs on GETEVENTS with DEFER_TASKRUN), pending task work the kernel
// flagged, or overflowed CQEs to move into the ring.
func (r *Ring) needGetEvents() bool {
	return r.deferTaskrun || r.sq.flags.Load()&(sqCQOverflow|sqTaskrun) != 0
}

// Submit publishes the prepared SQEs and submits them without waiting. It
// returns the number the kernel consumed. With DEFER_TASKRUN it also runs
// the deferred completion work, so that Reap sees finished requests.
func (r *Ring) Submit() (int, error) { return r.SubmitAndWait(0, 0) }

// SubmitAndWait publishes and submits the prepared SQEs and, in the same
// system call, waits until at least waitNr CQEs are ready or timeout has
// passed. timeout < 0 waits without limit; timeout == 0 (or waitNr == 0)
// does not wait. It returns the number of SQEs the kernel consumed.
//
// Expiry (ETIME) and interruption by a signal (EINTR) are not errors: it
// returns normally and the caller reaps whatever is ready. An error wrapping
// ErrBusy means the kernel wants completions reaped before it takes more
// submissions; the SQEs stay queued and the next call submits them.
//
// On kernels without ext-arg waits (before 5.11, or DisableExtArg) the
// timeout is an internal IORING_OP_TIMEOUT: it takes one SQE slot, and the
// wait ends at the first completion (or expiry) whatever waitNr is.
func (r *Ring) SubmitAndWait(waitNr uint32, timeout time.Duration) (int, error) {
	var (
		flags, minComplete uint32
		arg                unsafe.Pointer
		argSize            uintptr
		internalQueued     bool
	)
	switch {
	case timeout == 0 || waitNr == 0:
		if r.needGetEvents() {
			flags = enterGetEvents
		}
	case timeout < 0:
		flags, minComplete = enterGetEvents, waitNr
	case r.extArg:
		r.waitTs = NewTimespec(timeout)
		flags, minComplete = enterGetEvents|enterExtArg, waitNr
		arg, argSize = unsafe.Pointer(&r.waitArg), unsafe.Sizeof(r.waitArg)
	default:
		if !r.queueWaitTimeout(waitNr, timeout) {
			// The SQ is full even after submitting: wait without the
			// timeout being queued would be unbounded, so do not wait.
			break
		}
		internalQueued = true
		flags, minComplete = enterGetEvents, 1
	}
	toSubmit := r.flush()
	if toSubmit == 0 && flags == 0 {
		return 0, nil
	}
	n, errno := r.enter(toSubmit, minComplete, flags, arg, argSize)
	if internalQueued && n > 0 && uint32(n) == toSubmit {
		n-- // the kernel consumed the internal timeout too; report the caller's SQEs only
	}
	switch errno {
	case 0:
		return n, nil
	case unix.ETIME, unix.EINTR:
		return 0, nil
	}
	return 0, enterError(errno, r.regIndex >= 0)
}

// queueWaitTimeout queues the internal timeout that bounds a wait on
// kernels without ext-arg waits. Its CQE is filtered out by Reap.
func (r *Ring) queueWaitTimeout(waitNr uint32, timeout time.Duration) bool {
	sqe := r.GetSQE()
	if sqe == nil {
		if n, _ := r.enter(r.flush(), 0, 0, nil, 0); n <= 0 {
			return false
		}
		if sqe = r.GetSQE(); sqe == nil {
			return false
		}
	}
	r.fallbackTs = NewTimespec(timeout)
	sqe.Timeout(&r.fallbackTs, waitNr, 0)
	sqe.SetUserData(udWaitTimeout)
	r.internal++
	return true
}

// Reap copies up to len(dst) ready CQEs into dst, advancing the CQ head
// once per contiguous batch, and returns how many it copied; fewer than
// len(dst) means none is left. When the ring runs empty while the kernel
// holds overflowed CQEs, it has the kernel move them into the ring (one
// io_uring_enter) and goes on copying. It does not block and does not
// allocate.
func (r *Ring) Reap(dst []CQE) int {
	n := 0
	for n < len(dst) {
		if got := r.reapRing(dst[n:]); got > 0 {
			if r.internal > 0 {
				got = r.dropInternal(dst[n : n+got])
			}
			n += got
			continue
		}
		if r.sq.flags.Load()&sqCQOverflow == 0 {
			break
		}
		// The ring is drained but the kernel holds overflowed CQEs:
		// GETEVENTS flushes as many as fit into the ring.
		if _, errno := r.enter(0, 0, enterGetEvents, nil, 0); errno != 0 && errno != unix.EINTR {
			break
		}
		if r.cq.tail.Load() == r.cq.local {
			break // nothing moved: do not spin
		}
	}
	return n
}

// reapRing copies ready CQEs from the ring into dst.
func (r *Ring) reapRing(dst []CQE) int {
	cq := &r.cq
	// Load-acquire of the tail: the CQEs before it are fully written.
	ready := cq.tail.Load() - cq.local
	n := uint32(len(dst))
	if ready < n {
		n = ready
	}
	if n == 0 {
		return 0
	}
	start := cq.local & cq.mask
	first := min(n, cq.entries-start)
	copy(dst, cq.cqes[start:start+first])
	copy(dst[first:n], cq.cqes[:n-first])
	cq.local += n
	// Store-release of the head: our reads of those slots are done before
	// the kernel may reuse them.
	cq.head.Store(cq.local)
	return int(n)
}

// dropInternal removes the package's own CQEs from cqes, keeping order, and
// returns how many remain.
func (r *Ring) dropInternal(cqes []CQE) int {
	k := 0
	for i := range cqes {
		if cqes[i].UserData >= UserDataReserved {
			if !cqes[i].More() {
				r.internal--
			}
			continue
		}
		cqes[k] = cqes[i]
		k++
	}
	return k
}

// CQOverflow returns the kernel's count of CQEs lost to overflow. With
// FeatNoDrop (5.5) the kernel keeps overflowed CQEs instead, and this stays
// 0 unless it ran out of memory.
func (r *Ring) CQOverflow() uint32 { return r.cq.overflow.Load() }

// Close unregisters the ring fd, unmaps the rings, closes the ring (the
// kernel cancels whatever is still in flight) and then unmaps the memory of
// every BufRing still open. Call it once, from the owner thread; later
// calls return nil.
func (r *Ring) Close() error {
	if r == nil || r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	if r.regIndex >= 0 {
		upd := &rsrcUpdate{offset: uint32(r.regIndex)}
		if _, errno := r.register(unregRingFDs, unsafe.Pointer(upd), 1); errno != 0 {
			errs = append(errs, &Error{Op: "unregister ring fd", Errno: errno})
		}
		r.regIndex = -1
	}
	// The mappings hold references to the ring file: unmap before closing
	// so that the close is the last reference and tears the ring down now.
	errs = append(errs, r.unmap())
	if err := unix.Close(r.fd); err != nil {
		errs = append(errs, fmt.Errorf("uring: close ring: %w", err))
	}
	for _, br := range r.bufRings {
		errs = append(errs, br.release())
	}
	r.bufRings = nil
	return errors.Join(errs...)
}

func (r *Ring) unmap() error {
	var errs []error
	if r.sqeMem != nil {
		errs = append(errs, munmap(r.sqeMem, "SQEs"))
	}
	if r.cqMem != nil && (r.ringMem == nil || &r.cqMem[0] != &r.ringMem[0]) {
		errs = append(errs, munmap(r.cqMem, "CQ ring"))
	}
	if r.ringMem != nil {
		errs = append(errs, munmap(r.ringMem, "SQ ring"))
	}
	r.sqeMem, r.cqMem, r.ringMem = nil, nil, nil
	// Leave no pointer into the unmapped memory: a use after Close panics
	// on a nil pointer instead of faulting on a stale address.
	r.sq = sqRing{}
	r.cq = cqRing{}
	return errors.Join(errs...)
}

func munmap(b []byte, what string) error {
	if err := unix.Munmap(b); err != nil {
		return fmt.Errorf("uring: munmap %s: %w", what, err)
	}
	return nil
}
