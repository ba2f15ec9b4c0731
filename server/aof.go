package server

import (
	"syscall"

	"golang.org/x/sys/unix"

	"shoal/uring"
)

// The append-only file's I/O (the engine decides what and when: see
// engine/aof.go).
//
// io_uring: once per turn, after the commands ran, the buffered records
// are written with one IORING_OP_WRITEV of the engine's chunks (or of its
// stage, aofdirect.go) at the offset the engine gives; the chunks and the
// iovec array belong to the kernel until the write's completion. A small
// buffered write with everysec or no the engine makes in the loop itself
// (AOFWriteSmall), as the epoll writer does. With
// appendfsync always a fdatasync is linked after the write (one chain, so
// a submit never separates them), and every reply produced while data
// was not yet durable is held: its client goes on Server.holds with the
// byte count that must be synced first, and neither its output nor its
// further input is handled until the sync completes (group commit: one
// write and one fsync acknowledge every write of the turn). everysec's
// fdatasync is submitted from the turn once a second.
//
// epoll: the turn ends with the engine's AOFFlushSync, pwrite(2) and, for
// always, fdatasync in the loop, as Redis writes before it sleeps.

// hold is a client whose output waits until the AOF has synced until.
type hold struct {
	until uint64
	c     *conn
}

// holdPending reports whether output produced now must wait for the AOF,
// and until which byte count.
func (s *Server) holdPending() (uint64, bool) {
	sh := s.shard
	if !sh.AOFAlways() {
		return 0, false
	}
	until := sh.AOFHoldUntil()
	return until, until > sh.AOFSynced()
}

// holdPendingSync is holdPending for the epoll backend, whose writer
// (AOFFlushSync) ran just before: with appendfsync always, everything is
// durable unless that write failed, and then this turn's replies wait.
func (s *Server) holdPendingSync() (uint64, bool) {
	sh := s.shard
	if !sh.AOFFailedNow() {
		return 0, false
	}
	until := sh.AOFHoldUntil()
	return until, until > sh.AOFSynced()
}

// holdConn puts c on the hold list.
func (s *Server) holdConn(c *conn, until uint64) {
	if c.held {
		return
	}
	c.held = true
	s.holds = append(s.holds, hold{until: until, c: c})
}

// releaseHolds sends the output of the clients whose data is durable and
// runs the input they received meanwhile. While writes to the AOF fail,
// held clients stay held (their writes are not acknowledged until the
// disk takes them); other clients' replies are not held then, so reads go
// on. When the AOF is turned off, every hold ends.
func (s *Server) releaseHolds(send func(*conn)) {
	if len(s.holds) == 0 {
		return
	}
	sh := s.shard
	synced := sh.AOFSynced()
	on := sh.AOFOn()
	i := 0
	for ; i < len(s.holds); i++ {
		h := s.holds[i]
		if on && h.until > synced {
			break
		}
		c := h.c
		c.held = false
		if s.conns[c.slot] != c || c.closing {
			continue
		}
		send(c)
		if len(c.in) > 0 {
			n := s.process(c, c.in)
			c.in = c.in[:copy(c.in, c.in[n:])]
			c.cli.QueryBuf, c.cli.QueryFree = len(c.in), cap(c.in)-len(c.in)
		}
	}
	if i > 0 {
		clear(s.holds[:i])
		s.holds = s.holds[:copy(s.holds, s.holds[i:])]
	}
}

// aofTurn submits the AOF's write (and fsync) for this turn.
func (b *uringBackend) aofTurn() {
	sh := b.s.shard
	if !sh.AOFOn() {
		return
	}
	sh.AOFTurn()
	if fd, off, iov, ok := sh.AOFNextWrite(); ok && !sh.AOFWriteSmall(fd, off, iov) {
		b.reserve(2)
		e := b.ring.GetSQE()
		e.Writev(fd, iov, uint64(off))
		e.SetUserData(userData(opAOFWrite, 0, 0))
		if !b.aofSyncing && sh.AOFSyncWithWrite() {
			e.SetLink()
			f := b.ring.GetSQE()
			f.Fsync(sh.AOFSyncNow(fd), true)
			f.SetUserData(userData(opAOFSync, 0, 0))
			b.aofSyncing = true
		}
		b.aofWriting = true
		return
	}
	if fd, ok := sh.AOFSyncDue(); ok && !b.aofSyncing {
		e := b.sqe()
		e.Fsync(fd, true)
		e.SetUserData(userData(opAOFSync, 0, 0))
		b.aofSyncing = true
	}
	if fd, off, n, ok := sh.AOFDropDue(); ok {
		e := b.sqe()
		e.Fadvise(fd, uint64(off), uint32(n), unix.FADV_DONTNEED)
		e.SetUserData(userData(opAOFDrop, 0, 0))
		b.aofDropping = true
	}
}

// aofCompleted handles the completion of an AOF write or fsync.
func (b *uringBackend) aofCompleted(op uint64, cqe *uring.CQE) {
	sh := b.s.shard
	var errno syscall.Errno
	n := 0
	if cqe.Res < 0 {
		errno = syscall.Errno(-cqe.Res)
	} else {
		n = int(cqe.Res)
	}
	switch op {
	case opAOFWrite:
		b.aofWriting = false
		sh.AOFWriteDone(n, errno)
	case opAOFSync:
		b.aofSyncing = false
		sh.AOFSyncDone(errno)
	case opAOFDrop:
		b.aofDropping = false
		sh.AOFDropDone() // advice: a failure loses nothing
	}
}

// aofDrain waits for the AOF's operations in flight, at shutdown, so the
// engine can write the rest itself.
func (b *uringBackend) aofDrain() {
	for i := 0; (b.aofWriting || b.aofSyncing || b.aofDropping) && i < 10000; i++ {
		b.ring.SubmitAndWait(1, 0)
		n := b.ring.Reap(b.cqes)
		for j := 0; j < n; j++ {
			op, _, _ := splitUserData(b.cqes[j].UserData)
			if op == opAOFWrite || op == opAOFSync || op == opAOFDrop {
				b.aofCompleted(op, &b.cqes[j])
			}
		}
	}
}
