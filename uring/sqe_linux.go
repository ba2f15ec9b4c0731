//go:build linux

package uring

import (
	"math"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SQE is one submission queue entry, laid out as struct io_uring_sqe. An
// *SQE from Ring.GetSQE points into the SQE array shared with the kernel.
//
// Use exactly one prep method (Nop, Recv, Send, ...) first: it writes every
// field, zeroing those the operation does not use. Then apply setters
// (SetUserData, SetLink, ...). The SQE is published by the next Submit or
// SubmitAndWait and must not be touched afterwards.
//
// Memory named by an SQE (a buffer, an iovec array and the memory it points
// to) must be Go heap or mmap'd memory that the caller keeps reachable and
// unchanged until the request's final CQE; never a stack variable, whose
// address can change. The kernel sees only the address.
type SQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64 // off / addr2
	addr        uint64 // addr / splice_off_in
	len         uint32
	opFlags     uint32 // rw_flags, fsync_flags, poll32_events, msg_flags, timeout_flags, accept_flags, cancel_flags, ...
	userData    uint64
	bufIndex    uint16 // buf_index / buf_group
	personality uint16
	spliceFdIn  int32 // splice_fd_in / file_index / addr_len
	addr3       uint64
	_           uint64
}

// Prep fills the SQE for any opcode, like liburing's io_uring_prep_rw: the
// named fields are set and every other field is zeroed. The specific prep
// methods are built on it; use it for operations they do not cover, with
// SetOpFlags and SetIoprio for the rest.
func (s *SQE) Prep(op Op, fd int, addr uintptr, length uint32, off uint64) {
	*s = SQE{opcode: uint8(op), fd: int32(fd), addr: uint64(addr), len: length, off: off}
}

// Nop prepares a no-op, which completes with Res 0.
func (s *SQE) Nop() { s.Prep(OpNop, -1, 0, 0, 0) }

// Accept prepares one accept(2) on the listening socket fd. flags are
// accept4 flags (unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC). Res is the new fd.
func (s *SQE) Accept(fd int, flags int) {
	s.Prep(OpAccept, fd, 0, 0, 0)
	s.opFlags = uint32(flags)
}

// MultishotAccept prepares an accept that stays armed (5.19): each
// connection posts a CQE with the new fd in Res and CQEFMore set. A CQE
// without CQEFMore ends it (an error, or cancellation); re-arm if the
// listener is still wanted.
func (s *SQE) MultishotAccept(fd int, flags int) {
	s.Accept(fd, flags)
	s.ioprio = acceptMultishot
}

// Recv prepares one recv(2) into buf. Res is the byte count, 0 at EOF.
func (s *SQE) Recv(fd int, buf []byte) {
	s.Prep(OpRecv, fd, bufAddr(buf), bufLen(buf), 0)
}

// RecvMultishot prepares a receive that stays armed (6.0) and takes a fresh
// buffer from the provided-buffer group for every chunk: each CQE carries
// the buffer id (CQE.BufferID) and the length in Res, with CQEFMore while
// the request stays armed. It ends with Res 0 at EOF, with -ENOBUFS when
// the group has no buffer left (recycle, then re-arm), or with an error.
func (s *SQE) RecvMultishot(fd int, group uint16) {
	s.Prep(OpRecv, fd, 0, 0, 0)
	s.ioprio = recvMultishot
	s.flags = SQEBufferSelect
	s.bufIndex = group
}

// Send prepares a send(2) of buf with msgFlags (for example
// unix.MSG_NOSIGNAL, or MSG_WAITALL to complete only when all of buf went
// out or on error). Res is the byte count sent.
func (s *SQE) Send(fd int, buf []byte, msgFlags int) {
	s.Prep(OpSend, fd, bufAddr(buf), bufLen(buf), 0)
	s.opFlags = uint32(msgFlags)
}

// Read prepares a pread(2) of buf at off; off ^uint64(0) reads at the file
// position (FeatRWCurPos).
func (s *SQE) Read(fd int, buf []byte, off uint64) {
	s.Prep(OpRead, fd, bufAddr(buf), bufLen(buf), off)
}

// Write prepares a pwrite(2) of buf at off; off ^uint64(0) writes at the
// file position (and appends on an O_APPEND file).
func (s *SQE) Write(fd int, buf []byte, off uint64) {
	s.Prep(OpWrite, fd, bufAddr(buf), bufLen(buf), off)
}

// Writev prepares a pwritev(2) of iov at off (^uint64(0): file position).
// The iovec array and the memory it points to follow the SQE memory rule.
func (s *SQE) Writev(fd int, iov []unix.Iovec, off uint64) {
	var addr uintptr
	if len(iov) > 0 {
		addr = uintptr(unsafe.Pointer(unsafe.SliceData(iov)))
	}
	s.Prep(OpWritev, fd, addr, uint32(len(iov)), off)
}

// Fsync prepares an fsync(2), or fdatasync(2) when datasync is set.
func (s *SQE) Fsync(fd int, datasync bool) {
	s.Prep(OpFsync, fd, 0, 0, 0)
	if datasync {
		s.opFlags = fsyncDatasync
	}
}

// Fadvise prepares a posix_fadvise(2) of n bytes of fd from off with
// advice (unix.FADV_*) (5.6; n is 32 bits wide there).
func (s *SQE) Fadvise(fd int, off uint64, n uint32, advice uint32) {
	s.Prep(OpFadvise, fd, 0, n, off)
	s.opFlags = advice
}

// Close prepares a close(2) of fd (5.6).
func (s *SQE) Close(fd int) { s.Prep(OpClose, fd, 0, 0, 0) }

// Timeout prepares a timeout that completes with -ETIME after ts (relative
// to CLOCK_MONOTONIC unless flags say otherwise), or with Res 0 as soon as
// count other completions have been posted when count > 0. The kernel
// copies *ts when it consumes the SQE, during the submitting call: ts must
// stay valid and unchanged until that call returns. Ring.Timespec gives a
// slot the ring owns for exactly that.
func (s *SQE) Timeout(ts *Timespec, count uint32, flags uint32) {
	s.Prep(OpTimeout, -1, uintptr(unsafe.Pointer(ts)), 1, uint64(count))
	s.opFlags = flags
}

// CancelFD prepares the cancellation of the first request (all: every
// request) on fd (5.19, Features.CancelFD). Res is 0 for one found
// (with all: the number cancelled), -ENOENT for none, -EALREADY when the
// request was already running. Each cancelled request posts its own final
// CQE with -ECANCELED.
func (s *SQE) CancelFD(fd int, all bool) {
	s.Prep(OpAsyncCancel, fd, 0, 0, 0)
	s.opFlags = cancelFD
	if all {
		s.opFlags |= cancelAll
	}
}

// CancelUserData prepares the cancellation of the request submitted with
// user_data ud. Res as for CancelFD.
func (s *SQE) CancelUserData(ud uint64) {
	s.Prep(OpAsyncCancel, -1, 0, 0, 0)
	s.addr = ud
}

// PollAdd prepares a poll for events (unix.POLLIN, ...) on fd. Res is the
// ready mask. A multishot poll (5.13) stays armed and posts a CQE with
// CQEFMore on every new wake-up of fd.
func (s *SQE) PollAdd(fd int, events uint32, multishot bool) {
	var n uint32
	if multishot {
		n = pollAddMulti
	}
	s.Prep(OpPollAdd, fd, 0, n, 0)
	if bigEndian {
		events = events<<16 | events>>16
	}
	s.opFlags = events
}

// SetUserData sets the value the CQE carries back. Values at or above
// UserDataReserved belong to the package.
func (s *SQE) SetUserData(ud uint64) { s.userData = ud }

// SetFlags adds IOSQE_* flags (SQEIOLink, ...).
func (s *SQE) SetFlags(flags uint8) { s.flags |= flags }

// SetLink links the next SQE: it starts only when this one succeeds, and
// completes with -ECANCELED if this one fails.
func (s *SQE) SetLink() { s.flags |= SQEIOLink }

// SetBufferSelect makes the request take its buffer from provided-buffer
// group (Recv with a nil buffer and a length limit, Read, ...).
func (s *SQE) SetBufferSelect(group uint16) {
	s.flags |= SQEBufferSelect
	s.bufIndex = group
}

// SetCQESkipSuccess asks for no CQE when the request succeeds (5.17;
// check Features.CQESkip first: older kernels fail the SQE with -EINVAL).
func (s *SQE) SetCQESkipSuccess() { s.flags |= SQECQESkipSuccess }

// SetFixedFile marks fd as an index into the registered file table.
func (s *SQE) SetFixedFile() { s.flags |= SQEFixedFile }

// SetOpFlags sets the per-opcode flags word (rw_flags, msg_flags, ...).
func (s *SQE) SetOpFlags(f uint32) { s.opFlags = f }

// SetIoprio sets the ioprio field, which some opcodes use for their flags.
func (s *SQE) SetIoprio(p uint16) { s.ioprio = p }

// Opcode returns the prepared opcode.
func (s *SQE) Opcode() Op { return Op(s.opcode) }

// UserData returns the user_data set on the SQE.
func (s *SQE) UserData() uint64 { return s.userData }

// Flags returns the IOSQE_* flags set on the SQE.
func (s *SQE) Flags() uint8 { return s.flags }

func bufAddr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

func bufLen(b []byte) uint32 {
	if uint64(len(b)) > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(len(b))
}

// NewTimespec converts d (negative counts as 0) to a Timespec.
func NewTimespec(d time.Duration) Timespec {
	if d < 0 {
		d = 0
	}
	return Timespec{Sec: int64(d / time.Second), Nsec: int64(d % time.Second)}
}

// CQE is one completion, laid out as struct io_uring_cqe. Reap copies CQEs
// out of the shared ring, so a CQE value is the caller's.
type CQE struct {
	UserData uint64 // the SQE's user_data
	Res      int32  // the result: a count, an fd, or -errno
	Flags    uint32 // CQEF* flags; the upper 16 bits hold a buffer id
}

// More reports CQEFMore: the multishot request that posted this CQE stays
// armed. A multishot CQE without it is the request's last.
func (c CQE) More() bool { return c.Flags&CQEFMore != 0 }

// HasBuffer reports CQEFBuffer: BufferID names a provided buffer that now
// belongs to the caller.
func (c CQE) HasBuffer() bool { return c.Flags&CQEFBuffer != 0 }

// BufferID returns the provided-buffer id; meaningful only when HasBuffer.
func (c CQE) BufferID() uint16 { return uint16(c.Flags >> cqeBufferShift) }

// SockNonempty reports CQEFSockNonempty: the socket still had data queued.
func (c CQE) SockNonempty() bool { return c.Flags&CQEFSockNonempty != 0 }

// Errno returns the error of a failed request, 0 when Res >= 0.
func (c CQE) Errno() unix.Errno {
	if c.Res >= 0 {
		return 0
	}
	return unix.Errno(-c.Res)
}
