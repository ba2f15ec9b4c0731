package server

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"shoal/engine"
	"shoal/internal/rlog"
)

// Event tags kept in EpollEvent.Pad: the kind in the low 2 bits, a
// connection's generation above them; EpollEvent.Fd holds the slot (or
// the listener's index).
const (
	tagConn     = 0
	tagListener = 1
	tagWake     = 2
	genMask     = 1<<24 - 1
)

// readChunk is how much the loop reads from one connection per event, as
// Redis's PROTO_IOBUF_LEN.
const readChunk = 16 << 10

type epollBackend struct {
	s      *Server
	epfd   int
	events []unix.EpollEvent
	rbuf   []byte
}

func newEpollBackend(s *Server) (*epollBackend, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("server: epoll_create1: %w", err)
	}
	b := &epollBackend{s: s, epfd: epfd, events: make([]unix.EpollEvent, 1024), rbuf: make([]byte, readChunk)}
	for i, l := range s.lns {
		if err := b.add(l.fd, unix.EPOLLIN, int32(i), tagListener); err != nil {
			unix.Close(epfd)
			return nil, err
		}
	}
	if err := b.add(s.wakeFD, unix.EPOLLIN, 0, tagWake); err != nil {
		unix.Close(epfd)
		return nil, err
	}
	return b, nil
}

func (b *epollBackend) name() string { return "epoll" }

func (b *epollBackend) add(fd int, events uint32, id int32, tag int32) error {
	ev := unix.EpollEvent{Events: events, Fd: id, Pad: tag}
	if err := unix.EpollCtl(b.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("server: epoll_ctl add: %w", err)
	}
	return nil
}

func (b *epollBackend) modify(c *conn, events uint32) {
	ev := unix.EpollEvent{Events: events, Fd: c.slot, Pad: int32(c.gen<<2 | tagConn)}
	unix.EpollCtl(b.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
}

func (b *epollBackend) run() error {
	s := b.s
	defer unix.Close(b.epfd)
	for !s.stop.Load() && !s.shard.ShutdownAsked() {
		s.busTurn()
		s.resumeUnblocked()
		s.shard.TrackingTurn() // BCAST invalidations, before the output goes
		if s.shard.AOFOn() {
			s.shard.AOFTurn()
			s.shard.AOFFlushSync(false)
		}
		s.releaseHolds(b.write)
		b.flush()
		timeout := int(s.waitTime().Milliseconds())
		n, err := unix.EpollWait(b.epfd, b.events, timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("server: epoll_wait: %w", err)
		}
		s.shard.Tick()
		s.shard.ExpireBlocked()
		if err := s.loadStep(); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			ev := &b.events[i]
			switch ev.Pad & 3 {
			case tagListener:
				b.accept(s.lns[ev.Fd].fd)
			case tagWake:
				var buf [8]byte
				unix.Read(s.wakeFD, buf[:])
			case tagConn:
				c := s.conns[ev.Fd]
				if c == nil || c.gen != uint32(ev.Pad)>>2 {
					continue // closed earlier in this turn
				}
				if ev.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
					b.read(c)
				}
				if ev.Events&unix.EPOLLOUT != 0 && s.conns[ev.Fd] == c {
					b.write(c)
				}
			}
		}
		s.cron(nanotime(), b.close)
	}
	return nil
}

// accept takes every pending connection (up to 1000 a turn, as Redis).
func (b *epollBackend) accept(lfd int) {
	s := b.s
	for i := 0; i < 1000; i++ {
		fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
				s.log.Logf(rlog.Warning, "Accepting client connection: %v", err)
			}
			return
		}
		peer, local := sockAddrs(fd)
		if !s.admit(fd, peer) {
			continue
		}
		s.setupConn(fd)
		c := s.newConn(fd, peer, local)
		if err := b.add(fd, unix.EPOLLIN, c.slot, int32(c.gen<<2|tagConn)); err != nil {
			s.shard.Unregister(c.cli)
			s.freeConn(c)
		}
	}
}

func (b *epollBackend) read(c *conn) {
	s := b.s
	buf := b.rbuf
	// A big bulk in progress is read straight into the connection's
	// buffer, sized by the parser, instead of through the scratch buffer.
	if len(c.in) > 0 && cap(c.in)-len(c.in) >= readChunk {
		buf = c.in[len(c.in):cap(c.in)]
	}
	n, err := unix.Read(c.fd, buf)
	switch {
	case n > 0:
		s.shard.Stats.IOReadsProcessed++
		var ok bool
		if &buf[0] == &b.rbuf[0] {
			ok = s.consume(c, buf[:n])
		} else {
			ok = s.consumeInPlace(c, n)
		}
		if !ok {
			b.close(c)
		}
	case n == 0:
		c.cli.Flags |= engine.CloseAfterReply
		if !c.wantWrite {
			b.write(c) // deliver what is pending, then close
		}
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
	default:
		s.log.Logf(rlog.Verbose, "Reading from client: %v", err)
		b.close(c)
	}
}

// flush writes the output of every client queued on Pending.
func (b *epollBackend) flush() {
	s := b.s
	until, held := s.holdPendingSync()
	for i := 0; i < len(s.shard.Pending); i++ {
		cli := s.shard.Pending[i]
		cli.Dequeued()
		c := s.connOf(cli)
		if c == nil {
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
		if !c.wantWrite {
			b.write(c)
		}
	}
	s.shard.Pending = s.shard.Pending[:0]
}

// write sends as much of c's output as the socket takes; the rest waits
// for EPOLLOUT.
func (b *epollBackend) write(c *conn) {
	s := b.s
	if c.held {
		// Its output waits for the AOF (aof.go): no EPOLLOUT meanwhile;
		// releaseHolds writes it.
		if c.wantWrite {
			c.wantWrite = false
			b.modify(c, unix.EPOLLIN)
		}
		return
	}
	out := c.cli.Out
	off := 0
	for off < len(out) {
		n, err := unix.Write(c.fd, out[off:])
		if n > 0 {
			off += n
			s.shard.Stats.NetOutputBytes += int64(n)
			continue
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		s.log.Logf(rlog.Verbose, "Error writing to client: %v", err)
		b.close(c)
		return
	}
	s.shard.Stats.IOWritesProcessed++
	if off < len(out) {
		c.cli.Out = out[:copy(out, out[off:])]
		if !c.wantWrite {
			c.wantWrite = true
			b.modify(c, unix.EPOLLIN|unix.EPOLLOUT)
		}
		return
	}
	c.cli.Out = out[:0]
	if cap(out) > 1<<20 {
		c.cli.Out = nil
	}
	if c.wantWrite {
		c.wantWrite = false
		b.modify(c, unix.EPOLLIN)
	}
	if c.cli.Flags&engine.CloseAfterReply != 0 {
		b.close(c)
	}
}

func (b *epollBackend) close(c *conn) {
	if c.fd < 0 {
		return
	}
	b.s.shard.Unregister(c.cli)
	b.s.freeConn(c)
}

func (b *epollBackend) closeAll() {
	for _, c := range b.s.conns {
		if c != nil {
			b.close(c)
		}
	}
}
