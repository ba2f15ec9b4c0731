// Package uring is Shoal's io_uring binding, written over the raw
// io_uring_setup, io_uring_enter and io_uring_register system calls
// (golang.org/x/sys/unix, no cgo): ring setup with a feature probe, the
// mmap'd submission and completion queues, SQE preparation, submit-and-wait
// in one system call, batched reaping, and provided-buffer rings. It builds
// on Linux only.
//
// # Who calls what
//
// A Ring belongs to one goroutine that has called runtime.LockOSThread
// before New and stays locked for the Ring's life: that OS thread, and no
// other, calls every method of the Ring, of its SQEs and of its BufRings,
// Close included. Nothing here takes a lock. This is the kernel's rule as
// much as ours: a SINGLE_ISSUER|DEFER_TASKRUN ring refuses io_uring_enter
// from any other thread (EEXIST), and the registered ring fd exists only in
// the registering thread's io_uring context. The one thing another
// goroutine may do is make a request complete, for example by writing to
// an eventfd the ring polls, which wakes a blocked SubmitAndWait.
//
// A loop turn: GetSQE and a prep method for each request (nil from GetSQE
// means the SQ is full: submit and retry), then one SubmitAndWait with the
// timeout of the next timer, then Reap into a slice the caller owns, until
// it returns fewer than the slice holds, dispatching on CQE.UserData. None
// of these allocates.
//
// # Memory the kernel reads or writes, and until when
//
//   - The SQ ring, CQ ring and SQE array are mapped from the ring fd when
//     New returns and unmapped by Close.
//   - An *SQE from GetSQE is a slot of the shared SQE array. It is the
//     caller's to fill until the next Submit or SubmitAndWait, which hands
//     it to the kernel; afterwards the caller must not touch it (GetSQE
//     will hand the slot out again once the kernel has consumed it).
//   - The memory an SQE names (Send, Recv, Read, Write and Writev buffers,
//     Writev's iovec array) is the kernel's from the submit until that
//     request's final CQE. It must be Go heap or mmap'd memory the caller
//     keeps reachable and unchanged; never a stack array, which can move.
//   - A Timeout's Timespec is copied by the kernel while it consumes the
//     SQE, inside the submitting call. Ring.Timespec hands out a slot the
//     ring owns for this.
//   - CQEs are copied out by Reap, so a CQE value is the caller's.
//   - A BufRing's entries and buffers are one anonymous mapping outside the
//     Go heap. A buffer is the kernel's from publication until a CQE names
//     it (CQE.HasBuffer, CQE.BufferID), then the caller's until Recycle.
//     Recycled buffers are published by Publish or by the Ring's next
//     submit.
//
// # Multishot requests
//
// MultishotAccept, RecvMultishot and a multishot PollAdd stay armed and
// post CQEs with CQE.More set. The CQE without More is the last: for a
// receive, Res 0 is EOF, -ENOBUFS means the buffer group ran dry (recycle
// buffers, then prepare a new RecvMultishot: the connection is fine), and
// other negative values are errors or -ECANCELED. A final CQE may still
// carry data or a buffer; handle it before deciding.
//
// # Memory ordering
//
// The indices shared with the kernel are accessed with sync/atomic through
// pointers into the mapped rings: load-acquire of what the kernel writes
// (CQ tail, SQ head), store-release of what we write (SQ tail after filling
// SQEs, CQ head after copying CQEs, a buffer ring's tail after writing its
// entries). ring_linux.go and bufring_linux.go explain each pairing.
//
// # Errors
//
// Errors are *Error values prefixed "uring: " that wrap the errno, so
// errors.Is(err, unix.EPERM) works. New's error also wraps ErrUnavailable
// when io_uring is refused (seccomp, kernel.io_uring_disabled, an LSM, a
// kernel without it) and says which cause applies: the caller falls back to
// epoll. SubmitAndWait returns ErrBusy-wrapping errors when the kernel wants
// completions reaped first; timeouts and signals are not errors.
package uring
