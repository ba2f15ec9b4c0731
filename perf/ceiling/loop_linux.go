//go:build linux

package main

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"shoal/uring"
)

// Completion kinds, in the top byte of user_data; below it a connection's
// generation (24 bits) and its slot (32 bits).
const (
	opAccept uint64 = iota + 1
	opRecv
	opSend
	opCancel
)

const genMask = 1<<24 - 1

func userData(op uint64, gen uint32, slot int32) uint64 {
	return op<<56 | uint64(gen&genMask)<<32 | uint64(uint32(slot))
}

func splitUserData(ud uint64) (op uint64, gen uint32, slot int32) {
	return ud >> 56, uint32(ud>>32) & genMask, int32(uint32(ud))
}

// Ring and buffer sizes, as server/ uses them. They are variables so that
// tests can make them tiny and drive the loop through a full submission
// queue and an exhausted buffer group.
var (
	ringEntries  uint32 = 4096
	recvBufCount        = 512
	recvBufSize         = 16 << 10
)

const (
	recvGroup = 0
	// waitSlice bounds each wait, so that the stop flag is seen promptly.
	waitSlice = 100 * time.Millisecond
	// acceptBackoff spaces re-arming an accept that ended on an error
	// (EMFILE, ENFILE) so the loop does not spin on it.
	acceptBackoff = 100 * time.Millisecond
	// sqeAttempts bounds the submits tried to free an SQE slot.
	sqeAttempts = 1000
)

// loop is the io_uring event loop. Everything in it belongs to the
// goroutine running run, which is locked to its OS thread.
type loop struct {
	lfd     int
	r       *responder
	ring    *uring.Ring
	bufs    *uring.BufRing
	conns   []*conn // by slot; nil when free
	free    []int32
	gens    []uint32
	pending []*conn // connections with replies to send at the end of the turn
	rearm   []*conn // receives that ended with ENOBUFS
	cqes    []uring.CQE
	spill   []uring.CQE
	// backlog holds completions reaped while an SQE was being obtained;
	// the loop handles them in order, never from inside sqe.
	backlog     []uring.CQE
	acceptArmed bool
	acceptAfter time.Time
	stats       loopStats
}

// loopStats count the loop's rarer paths.
type loopStats struct {
	accepted  int // connections
	sqFull    int // submits made to free an SQE slot
	noBuffers int // receives that ended with ENOBUFS and were re-armed
}

// lastStats are the counters of the last loop to return; tests read them.
var lastStats loopStats

// run serves on the listening socket lfd until stop is set. It locks the
// calling goroutine to its thread for the ring's whole life, and closes
// every connection (not lfd) before it returns.
func run(lfd int, r *responder, stop *atomic.Bool, ready func(uring.Features)) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	ring, err := uring.New(ringEntries, uring.Options{})
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	defer ring.Close()
	f := ring.Features()
	if !f.MultishotAccept || !f.MultishotRecv || !f.BufRing || !f.CancelFD {
		return fmt.Errorf("ceiling: the kernel lacks multishot accept/recv, provided-buffer rings or cancel by fd (%s)", f)
	}
	bufs, err := uring.NewBufRing(ring, recvGroup, recvBufCount, recvBufSize)
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	l := &loop{lfd: lfd, r: r, ring: ring, bufs: bufs,
		cqes: make([]uring.CQE, 512), spill: make([]uring.CQE, 512)}
	defer l.closeAll()
	defer func() { lastStats = l.stats }()
	if ready != nil {
		ready(f)
	}
	l.armAccept()
	for !stop.Load() {
		l.flush()
		if _, err := ring.SubmitAndWait(1, waitSlice); err != nil && !errors.Is(err, uring.ErrBusy) {
			return fmt.Errorf("ceiling: io_uring wait: %w", err)
		}
		l.drain()
		for _, c := range l.rearm {
			if !c.closing && !c.recvArmed {
				l.armRecv(c)
			}
		}
		l.rearm = l.rearm[:0]
		if !l.acceptArmed && !time.Now().Before(l.acceptAfter) {
			l.armAccept()
		}
	}
	return nil
}

// sqe returns a free SQE, submitting what is queued while the submission
// queue is full. Completions the kernel wants reaped first go to the
// backlog; sqe never handles one itself, as it is called from inside
// completion handling.
func (l *loop) sqe() *uring.SQE {
	var last error
	for range sqeAttempts {
		if e := l.ring.GetSQE(); e != nil {
			return e
		}
		l.stats.sqFull++
		_, err := l.ring.Submit()
		if errors.Is(err, uring.ErrBusy) {
			for {
				n := l.ring.Reap(l.spill)
				l.backlog = append(l.backlog, l.spill[:n]...)
				if n < len(l.spill) {
					break
				}
			}
		} else if err != nil {
			last = err
		}
	}
	panic(fmt.Sprintf("ceiling: no free SQE after %d submits (last error: %v)", sqeAttempts, last))
}

// drain handles every completion that is ready without waiting: the
// backlog first (the oldest), then the ring's, until both are empty.
func (l *loop) drain() {
	for {
		for i := 0; i < len(l.backlog); i++ {
			cqe := l.backlog[i]
			l.complete(&cqe)
		}
		l.backlog = l.backlog[:0]
		n := l.ring.Reap(l.cqes)
		for i := range n {
			l.complete(&l.cqes[i])
		}
		if n < len(l.cqes) && len(l.backlog) == 0 {
			return
		}
	}
}

func (l *loop) armAccept() {
	e := l.sqe()
	e.MultishotAccept(l.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	e.SetUserData(userData(opAccept, 0, 0))
	l.acceptArmed = true
}

func (l *loop) armRecv(c *conn) {
	e := l.sqe()
	e.RecvMultishot(c.fd, recvGroup)
	e.SetUserData(userData(opRecv, c.gen, c.slot))
	c.recvArmed = true
	c.inflight++
}

func (l *loop) complete(cqe *uring.CQE) {
	op, gen, slot := splitUserData(cqe.UserData)
	if op == opAccept {
		l.accepted(cqe)
		return
	}
	var c *conn
	if int(slot) < len(l.conns) {
		c = l.conns[slot]
	}
	if c == nil || c.gen != gen {
		if cqe.HasBuffer() {
			l.bufs.Recycle(cqe.BufferID())
		}
		return
	}
	switch op {
	case opRecv:
		l.received(c, cqe)
	case opSend:
		c.inflight--
		l.sent(c, cqe.Res)
	case opCancel:
		c.inflight--
	}
	if c.closing && c.inflight == 0 {
		l.release(c)
	}
}

func (l *loop) accepted(cqe *uring.CQE) {
	if !cqe.More() {
		l.acceptArmed = false
		if cqe.Res < 0 {
			l.acceptAfter = time.Now().Add(acceptBackoff)
		}
	}
	if cqe.Res < 0 {
		return
	}
	fd := int(cqe.Res)
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	c := l.newConn(fd)
	l.stats.accepted++
	l.armRecv(c)
}

func (l *loop) newConn(fd int) *conn {
	var slot int32
	if n := len(l.free); n > 0 {
		slot = l.free[n-1]
		l.free = l.free[:n-1]
	} else {
		slot = int32(len(l.conns))
		l.conns = append(l.conns, nil)
		l.gens = append(l.gens, 0)
	}
	l.gens[slot] = (l.gens[slot] + 1) & genMask
	c := &conn{fd: fd, slot: slot, gen: l.gens[slot]}
	l.conns[slot] = c
	return c
}

func (l *loop) received(c *conn, cqe *uring.CQE) {
	if !cqe.More() {
		c.inflight--
		c.recvArmed = false
	}
	res := cqe.Res
	switch {
	case res > 0:
		id := cqe.BufferID()
		if !c.closing {
			if !c.consume(l.r, l.bufs.Buf(id)[:res]) {
				l.close(c)
			} else {
				l.queue(c)
			}
		}
		l.bufs.Recycle(id)
		if !c.recvArmed && !c.closing {
			l.rearm = append(l.rearm, c)
		}
	case res == 0:
		// End of stream: deliver the replies to what came before it.
		if !c.closing {
			c.quit = true
			l.queue(c)
		}
	case res == -int32(unix.ENOBUFS):
		l.stats.noBuffers++
		if !c.closing {
			l.rearm = append(l.rearm, c)
		}
	case c.closing:
	default:
		l.close(c)
	}
}

// queue puts c on the list of connections flushed at the end of the turn.
func (l *loop) queue(c *conn) {
	if !c.queued {
		c.queued = true
		l.pending = append(l.pending, c)
	}
}

// flush starts one send for every queued connection that has replies and
// no send in flight, and closes those that are done after QUIT or end of
// input.
func (l *loop) flush() {
	for i, c := range l.pending {
		l.pending[i] = nil
		c.queued = false
		if c.closing || c.sending != nil {
			continue
		}
		if len(c.out) > 0 {
			l.startSend(c)
		} else if c.quit {
			l.close(c)
		}
	}
	l.pending = l.pending[:0]
}

func (l *loop) startSend(c *conn) {
	c.sending, c.sendOff = c.out, 0
	c.out, c.spare = c.spare[:0], nil
	l.submitSend(c)
}

func (l *loop) submitSend(c *conn) {
	e := l.sqe()
	e.Send(c.fd, c.sending[c.sendOff:], unix.MSG_NOSIGNAL)
	e.SetUserData(userData(opSend, c.gen, c.slot))
	c.inflight++
}

func (l *loop) sent(c *conn, res int32) {
	if c.closing {
		return
	}
	if res < 0 {
		if res == -int32(unix.EINTR) || res == -int32(unix.EAGAIN) {
			l.submitSend(c)
			return
		}
		l.close(c)
		return
	}
	c.sendOff += int(res)
	if c.sendOff < len(c.sending) {
		l.submitSend(c)
		return
	}
	if cap(c.sending) <= 1<<20 {
		c.spare = c.sending[:0]
	}
	c.sending = nil
	// Replies made while the send was in flight go out at the end of this
	// turn, with whatever else the turn produces for c.
	if len(c.out) > 0 || c.quit {
		l.queue(c)
	}
}

// close cancels c's requests; its slot and socket are released when the
// last of them has completed.
func (l *loop) close(c *conn) {
	if c.closing {
		return
	}
	c.closing = true
	if c.inflight == 0 {
		l.release(c)
		return
	}
	e := l.sqe()
	e.CancelFD(c.fd, true)
	e.SetUserData(userData(opCancel, c.gen, c.slot))
	c.inflight++
}

func (l *loop) release(c *conn) {
	if c.fd < 0 {
		return
	}
	unix.Close(c.fd)
	c.fd = -1
	l.conns[c.slot] = nil
	l.free = append(l.free, c.slot)
}

// closeAll closes every socket at shutdown; closing the ring afterwards
// ends whatever the kernel still held for them.
func (l *loop) closeAll() {
	for _, c := range l.conns {
		if c != nil && c.fd >= 0 {
			unix.Close(c.fd)
			c.fd = -1
		}
	}
	l.conns = nil
}
