package server

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"shoal/engine"
	"shoal/internal/rlog"
	"shoal/uring"
)

// Completion kinds, kept in the top byte of user_data; below it a
// connection's generation (24 bits) and its slot (32 bits).
const (
	opAccept uint64 = iota + 1
	opRecv
	opSend
	opCancel
	opWake
	opAOFWrite
	opAOFSync
	opAOFDrop
)

func userData(op uint64, gen uint32, slot int32) uint64 {
	return op<<56 | uint64(gen&genMask)<<32 | uint64(uint32(slot))
}

func splitUserData(ud uint64) (op uint64, gen uint32, slot int32) {
	return ud >> 56, uint32(ud>>32) & genMask, int32(uint32(ud))
}

// Ring sizes. The buffer ring holds what the kernel may receive before the
// loop reaps it; a connection whose receive ran out of buffers is re-armed
// at the end of the turn, its data waiting in the socket meanwhile. They
// are variables so that tests can make them tiny and drive the loop
// through full queues and exhausted buffers.
var (
	ringEntries  uint32 = 4096
	recvBufCount        = 512
	recvBufSize         = 16 << 10
)

const recvGroup = 0

type uringBackend struct {
	s    *Server
	ring *uring.Ring
	bufs *uring.BufRing
	cqes []uring.CQE
	// backlog holds completions taken out of a full completion queue while
	// an SQE was being obtained: they are handled by the loop, in order,
	// never from inside the code that wanted the SQE.
	backlog []uring.CQE
	spill   []uring.CQE
	rearm   []*conn // receives that ended (ENOBUFS) and must be armed again
	wake    [8]byte
	// acceptRetry is set when a multishot accept ended on an error (such
	// as EMFILE); it is re-armed on the next cron tick instead of spinning.
	acceptRetry []int
	// aofWriting, aofSyncing, aofDropping: an AOF write, fsync or
	// page-cache drop is in flight
	// (server/aof.go).
	aofWriting, aofSyncing, aofDropping bool
}

func newUringBackend(s *Server) (*uringBackend, error) {
	ring, err := uring.New(ringEntries, uring.Options{})
	if err != nil {
		return nil, err
	}
	f := ring.Features()
	if !f.MultishotAccept || !f.MultishotRecv || !f.BufRing || !f.CancelFD {
		ring.Close()
		return nil, fmt.Errorf("kernel lacks multishot accept/recv, provided-buffer rings or cancel by fd (%s)", f)
	}
	bufs, err := uring.NewBufRing(ring, recvGroup, recvBufCount, recvBufSize)
	if err != nil {
		ring.Close()
		return nil, err
	}
	b := &uringBackend{s: s, ring: ring, bufs: bufs, cqes: make([]uring.CQE, 512), spill: make([]uring.CQE, 512)}
	s.shard.AOFDirectWrites(true) // the ring's workers wait for the device, not the loop
	return b, nil
}

func (b *uringBackend) name() string { return "io_uring" }

func (b *uringBackend) describe() string { return b.ring.Features().String() }

// sqe gets a free submission entry, submitting what is queued when the
// submission queue is full. It never handles a completion itself: it is
// called from inside completion handling and from flush, which must not be
// re-entered. When the kernel refuses to take more submissions until
// completions are reaped, it moves them to the backlog for the loop.
func (b *uringBackend) sqe() *uring.SQE {
	b.reserve(1)
	return b.ring.GetSQE()
}

// reserve makes room for n SQEs (a linked chain must not be split by a
// submit), submitting what is queued as sqe does.
func (b *uringBackend) reserve(n uint32) {
	for {
		if b.ring.SQSpace() >= n {
			return
		}
		_, err := b.ring.Submit()
		switch {
		case err == nil || errors.Is(err, unix.EINTR):
		case errors.Is(err, uring.ErrBusy):
			for {
				n := b.ring.Reap(b.spill)
				b.backlog = append(b.backlog, b.spill[:n]...)
				if n < len(b.spill) {
					break
				}
			}
		default:
			b.s.log.Logf(rlog.Warning, "io_uring submit: %v", err)
		}
	}
}

// drain handles every completion that is ready, without waiting: first
// those set aside in the backlog (they are the oldest), then the ring's,
// then any that handling them set aside meanwhile.
func (b *uringBackend) drain() {
	for {
		for i := 0; i < len(b.backlog); i++ {
			cqe := b.backlog[i]
			b.complete(&cqe)
		}
		b.backlog = b.backlog[:0]
		n := b.ring.Reap(b.cqes)
		for i := 0; i < n; i++ {
			b.complete(&b.cqes[i])
		}
		if n < len(b.cqes) && len(b.backlog) == 0 {
			return
		}
	}
}

func (b *uringBackend) armAccept(i int) {
	e := b.sqe()
	e.MultishotAccept(b.s.lns[i].fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	e.SetUserData(userData(opAccept, 0, int32(i)))
}

func (b *uringBackend) armWake() {
	e := b.sqe()
	e.PollAdd(b.s.wakeFD, unix.POLLIN, true)
	e.SetUserData(userData(opWake, 0, 0))
}

func (b *uringBackend) armRecv(c *conn) {
	e := b.sqe()
	e.RecvMultishot(c.fd, recvGroup)
	e.SetUserData(userData(opRecv, c.gen, c.slot))
	c.recvArmed = true
	c.inflight++
}

func (b *uringBackend) run() error {
	s := b.s
	defer b.bufs.Close()
	defer b.ring.Close()
	for i := range s.lns {
		b.armAccept(i)
	}
	b.armWake()
	for !s.stop.Load() && !s.shard.ShutdownAsked() {
		s.busTurn()
		s.resumeUnblocked()
		s.shard.TrackingTurn() // BCAST invalidations, before the output goes
		b.aofTurn()
		b.flush()
		if _, err := b.ring.SubmitAndWait(1, s.waitTime()); err != nil &&
			!errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ETIME) {
			return fmt.Errorf("server: io_uring wait: %w", err)
		}
		s.shard.Tick()
		b.drain()
		s.shard.ExpireBlocked()
		s.releaseHolds(b.send)
		if err := s.loadStep(); err != nil {
			return err
		}
		b.bufs.Publish()
		for _, c := range b.rearm {
			if !c.closing && !c.recvArmed && s.conns[c.slot] == c {
				b.armRecv(c)
			}
		}
		b.rearm = b.rearm[:0]
		now := nanotime()
		if now >= s.nextCron {
			for _, i := range b.acceptRetry {
				b.armAccept(i)
			}
			b.acceptRetry = b.acceptRetry[:0]
		}
		s.cron(now, b.close)
	}
	b.aofDrain()
	return nil
}

// complete handles one completion.
func (b *uringBackend) complete(cqe *uring.CQE) {
	s := b.s
	op, gen, slot := splitUserData(cqe.UserData)
	switch op {
	case opAccept:
		b.accepted(cqe, int(slot))
		return
	case opWake:
		unix.Read(s.wakeFD, b.wake[:])
		if !cqe.More() {
			b.armWake()
		}
		return
	case opAOFWrite, opAOFSync, opAOFDrop:
		b.aofCompleted(op, cqe)
		return
	}
	if int(slot) >= len(s.conns) {
		return
	}
	c := s.conns[slot]
	if c == nil || c.gen != gen {
		if op == opRecv && cqe.Flags&uring.CQEFBuffer != 0 {
			b.bufs.Recycle(cqe.BufferID())
		}
		return
	}
	switch op {
	case opRecv:
		b.received(c, cqe)
	case opSend:
		c.inflight--
		b.sent(c, cqe.Res)
	case opCancel:
		c.inflight--
	}
	if c.closing && c.inflight == 0 {
		s.freeConn(c)
	}
}

func (b *uringBackend) accepted(cqe *uring.CQE, li int) {
	s := b.s
	if !cqe.More() {
		if cqe.Res < 0 {
			s.log.Logf(rlog.Warning, "Accepting client connection: %v", unix.Errno(-cqe.Res))
			b.acceptRetry = append(b.acceptRetry, li)
			return
		}
		b.armAccept(li)
	}
	if cqe.Res < 0 {
		return
	}
	fd := int(cqe.Res)
	peer, local := sockAddrs(fd)
	if !s.admit(fd, peer) {
		return
	}
	s.setupConn(fd)
	c := s.newConn(fd, peer, local)
	b.armRecv(c)
}

func (b *uringBackend) received(c *conn, cqe *uring.CQE) {
	s := b.s
	if !cqe.More() {
		c.inflight--
		c.recvArmed = false
	}
	res := cqe.Res
	switch {
	case res > 0:
		id := cqe.BufferID()
		if !c.closing {
			s.shard.Stats.IOReadsProcessed++
			if !s.consume(c, b.bufs.Buf(id)[:res]) {
				b.close(c)
			}
		}
		b.bufs.Recycle(id)
		if !c.recvArmed && !c.closing {
			b.rearm = append(b.rearm, c)
		}
	case res == 0:
		// The peer closed (or half-closed) its side. Replies to what it
		// sent before are still delivered, as Redis writes them before it
		// reads the end of stream.
		if c.closing {
			break
		}
		c.cli.Flags |= engine.CloseAfterReply
		b.send(c)
	case res == -int32(unix.ENOBUFS):
		if !c.closing {
			b.rearm = append(b.rearm, c)
		}
	case res == -int32(unix.ECANCELED) && c.closing:
	default:
		if !c.closing {
			s.log.Logf(rlog.Verbose, "Reading from client: %v", unix.Errno(-res))
			b.close(c)
		}
	}
}

// flush starts a send for every client queued on Pending that has output
// and no send in flight.
func (b *uringBackend) flush() {
	s := b.s
	until, held := s.holdPending()
	for i := 0; i < len(s.shard.Pending); i++ {
		cli := s.shard.Pending[i]
		cli.Dequeued()
		c := s.connOf(cli)
		if c == nil || c.closing {
			continue
		}
		if cli.Flags&engine.CloseASAP != 0 {
			b.close(c)
			continue
		}
		if held {
			s.holdConn(c, until)
			continue
		}
		b.send(c)
	}
	s.shard.Pending = s.shard.Pending[:0]
}

// send hands c's output to the kernel unless a send is already in flight
// (its completion sends what accumulated meanwhile).
func (b *uringBackend) send(c *conn) {
	if c.sending != nil || c.closing {
		return
	}
	if len(c.cli.Out) == 0 {
		if c.cli.Flags&engine.CloseAfterReply != 0 {
			b.close(c)
		}
		return
	}
	c.sending, c.sendOff = c.cli.Out, 0
	c.cli.Out, c.spare = c.spare[:0], nil
	b.submitSend(c)
}

func (b *uringBackend) submitSend(c *conn) {
	e := b.sqe()
	e.Send(c.fd, c.sending[c.sendOff:], unix.MSG_NOSIGNAL)
	e.SetUserData(userData(opSend, c.gen, c.slot))
	c.inflight++
}

func (b *uringBackend) sent(c *conn, res int32) {
	s := b.s
	if c.closing {
		return
	}
	if res < 0 {
		if res == -int32(unix.EINTR) || res == -int32(unix.EAGAIN) {
			b.submitSend(c)
			return
		}
		s.log.Logf(rlog.Verbose, "Error writing to client: %v", unix.Errno(-res))
		b.close(c)
		return
	}
	s.shard.Stats.NetOutputBytes += int64(res)
	s.shard.Stats.IOWritesProcessed++
	c.sendOff += int(res)
	if c.sendOff < len(c.sending) {
		b.submitSend(c)
		return
	}
	if cap(c.sending) <= 1<<20 {
		c.spare = c.sending[:0]
	}
	c.sending = nil
	b.send(c)
}

// close unregisters c and cancels its operations; its slot and socket
// are released when the last of them completes.
func (b *uringBackend) close(c *conn) {
	if c.closing {
		return
	}
	c.closing = true
	b.s.shard.Unregister(c.cli)
	if c.inflight == 0 {
		b.s.freeConn(c)
		return
	}
	e := b.sqe()
	e.CancelFD(c.fd, true)
	e.SetUserData(userData(opCancel, c.gen, c.slot))
	c.inflight++
}

// closeAll closes every socket at shutdown; closing the ring (in run's
// defers) ends whatever the kernel still held for them.
func (b *uringBackend) closeAll() {
	s := b.s
	for _, c := range s.conns {
		if c != nil {
			if !c.closing {
				s.shard.Unregister(c.cli)
			}
			unix.Close(c.fd)
		}
	}
	s.conns = nil
	s.free = nil
}
