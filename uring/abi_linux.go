//go:build linux

package uring

import (
	"strconv"
	"strings"
	"unsafe"
)

// This file mirrors the parts of include/uapi/linux/io_uring.h the package
// uses. The layouts are fixed by the kernel ABI and identical on every
// 64-bit architecture; the size assertions below fail the build if a Go
// struct ever drifts from its C counterpart.

// Op is an io_uring opcode (IORING_OP_*).
type Op uint8

// Opcodes, in kernel order. Whether a kernel implements one is reported by
// Features.Op.
const (
	OpNop Op = iota
	OpReadv
	OpWritev
	OpFsync
	OpReadFixed
	OpWriteFixed
	OpPollAdd
	OpPollRemove
	OpSyncFileRange
	OpSendmsg
	OpRecvmsg
	OpTimeout
	OpTimeoutRemove
	OpAccept
	OpAsyncCancel
	OpLinkTimeout
	OpConnect
	OpFallocate
	OpOpenat
	OpClose
	OpFilesUpdate
	OpStatx
	OpRead
	OpWrite
	OpFadvise
	OpMadvise
	OpSend
	OpRecv
	OpOpenat2
	OpEpollCtl
	OpSplice
	OpProvideBuffers
	OpRemoveBuffers
	OpTee
	OpShutdown
	OpRenameat
	OpUnlinkat
	OpMkdirat
	OpSymlinkat
	OpLinkat
	OpMsgRing
	OpFsetxattr
	OpSetxattr
	OpFgetxattr
	OpGetxattr
	OpSocket
	OpUringCmd
	OpSendZC
	OpSendmsgZC
	OpReadMultishot
	OpWaitid
	OpFutexWait
	OpFutexWake
	OpFutexWaitv
	OpFixedFdInstall
	OpFtruncate
	OpBind
	OpListen
	OpRecvZC
	OpEpollWait
	OpReadvFixed
	OpWritevFixed
	OpPipe
)

var opNames = [...]string{
	"NOP", "READV", "WRITEV", "FSYNC", "READ_FIXED", "WRITE_FIXED", "POLL_ADD",
	"POLL_REMOVE", "SYNC_FILE_RANGE", "SENDMSG", "RECVMSG", "TIMEOUT",
	"TIMEOUT_REMOVE", "ACCEPT", "ASYNC_CANCEL", "LINK_TIMEOUT", "CONNECT",
	"FALLOCATE", "OPENAT", "CLOSE", "FILES_UPDATE", "STATX", "READ", "WRITE",
	"FADVISE", "MADVISE", "SEND", "RECV", "OPENAT2", "EPOLL_CTL", "SPLICE",
	"PROVIDE_BUFFERS", "REMOVE_BUFFERS", "TEE", "SHUTDOWN", "RENAMEAT",
	"UNLINKAT", "MKDIRAT", "SYMLINKAT", "LINKAT", "MSG_RING", "FSETXATTR",
	"SETXATTR", "FGETXATTR", "GETXATTR", "SOCKET", "URING_CMD", "SEND_ZC",
	"SENDMSG_ZC", "READ_MULTISHOT", "WAITID", "FUTEX_WAIT", "FUTEX_WAKE",
	"FUTEX_WAITV", "FIXED_FD_INSTALL", "FTRUNCATE", "BIND", "LISTEN", "RECV_ZC",
	"EPOLL_WAIT", "READV_FIXED", "WRITEV_FIXED", "PIPE",
}

// String returns the kernel's name without the IORING_OP_ prefix.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "OP_" + strconv.Itoa(int(o))
}

// SQE flags (IOSQE_*), set with SQE.SetFlags or the specific setters.
const (
	SQEFixedFile      uint8 = 1 << 0 // fd is an index into the registered file table
	SQEIODrain        uint8 = 1 << 1 // start only after every earlier SQE completed
	SQEIOLink         uint8 = 1 << 2 // the next SQE starts when this one succeeds
	SQEIOHardlink     uint8 = 1 << 3 // like SQEIOLink, but the chain survives failure
	SQEAsync          uint8 = 1 << 4 // always punt to a kernel worker
	SQEBufferSelect   uint8 = 1 << 5 // pick a buffer from the group in the SQE
	SQECQESkipSuccess uint8 = 1 << 6 // post no CQE on success (Features.CQESkip)
)

// CQE flags (IORING_CQE_F_*).
const (
	CQEFBuffer       uint32 = 1 << 0 // upper 16 bits of Flags hold a buffer id
	CQEFMore         uint32 = 1 << 1 // the multishot request stays armed
	CQEFSockNonempty uint32 = 1 << 2 // more data was queued on the socket after this recv
	CQEFNotif        uint32 = 1 << 3 // zero-copy send notification

	cqeBufferShift = 16
)

// Timeout flags for SQE.Timeout (IORING_TIMEOUT_*).
const (
	TimeoutAbs          uint32 = 1 << 0 // ts is an absolute time
	TimeoutBoottime     uint32 = 1 << 2 // CLOCK_BOOTTIME instead of CLOCK_MONOTONIC
	TimeoutRealtime     uint32 = 1 << 3 // CLOCK_REALTIME instead of CLOCK_MONOTONIC
	TimeoutEtimeSuccess uint32 = 1 << 5 // an expiry does not break a link chain (5.16)
	TimeoutMultishot    uint32 = 1 << 6 // fire every ts, count times or forever (6.4)
)

// SetupFlags are io_uring_setup flags (IORING_SETUP_*).
type SetupFlags uint32

// Setup flags. The package chooses among them itself (see New); they are
// exported to read Features.Setup.
const (
	SetupIOPoll           SetupFlags = 1 << 0
	SetupSQPoll           SetupFlags = 1 << 1
	SetupSQAff            SetupFlags = 1 << 2
	SetupCQSize           SetupFlags = 1 << 3
	SetupClamp            SetupFlags = 1 << 4
	SetupAttachWQ         SetupFlags = 1 << 5
	SetupRDisabled        SetupFlags = 1 << 6
	SetupSubmitAll        SetupFlags = 1 << 7
	SetupCoopTaskrun      SetupFlags = 1 << 8
	SetupTaskrunFlag      SetupFlags = 1 << 9
	SetupSQE128           SetupFlags = 1 << 10
	SetupCQE32            SetupFlags = 1 << 11
	SetupSingleIssuer     SetupFlags = 1 << 12
	SetupDeferTaskrun     SetupFlags = 1 << 13
	SetupNoMmap           SetupFlags = 1 << 14
	SetupRegisteredFDOnly SetupFlags = 1 << 15
	SetupNoSQArray        SetupFlags = 1 << 16
)

var setupNames = [...]string{
	"IOPOLL", "SQPOLL", "SQ_AFF", "CQSIZE", "CLAMP", "ATTACH_WQ", "R_DISABLED",
	"SUBMIT_ALL", "COOP_TASKRUN", "TASKRUN_FLAG", "SQE128", "CQE32",
	"SINGLE_ISSUER", "DEFER_TASKRUN", "NO_MMAP", "REGISTERED_FD_ONLY",
	"NO_SQARRAY",
}

// String returns the flags as NAME|NAME, "0" when none is set.
func (f SetupFlags) String() string { return bitNames(uint32(f), setupNames[:]) }

// FeatureFlags are the IORING_FEAT_* bits io_uring_setup reports.
type FeatureFlags uint32

// Feature bits.
const (
	FeatSingleMmap     FeatureFlags = 1 << 0
	FeatNoDrop         FeatureFlags = 1 << 1
	FeatSubmitStable   FeatureFlags = 1 << 2
	FeatRWCurPos       FeatureFlags = 1 << 3
	FeatCurPersonality FeatureFlags = 1 << 4
	FeatFastPoll       FeatureFlags = 1 << 5
	FeatPoll32Bits     FeatureFlags = 1 << 6
	FeatSQPollNonfixed FeatureFlags = 1 << 7
	FeatExtArg         FeatureFlags = 1 << 8
	FeatNativeWorkers  FeatureFlags = 1 << 9
	FeatRsrcTags       FeatureFlags = 1 << 10
	FeatCQESkip        FeatureFlags = 1 << 11
	FeatLinkedFile     FeatureFlags = 1 << 12
	FeatRegRegRing     FeatureFlags = 1 << 13
	FeatRecvsendBundle FeatureFlags = 1 << 14
	FeatMinTimeout     FeatureFlags = 1 << 15
	FeatRWAttr         FeatureFlags = 1 << 16
	FeatNoIOWait       FeatureFlags = 1 << 17
)

var featNames = [...]string{
	"SINGLE_MMAP", "NODROP", "SUBMIT_STABLE", "RW_CUR_POS", "CUR_PERSONALITY",
	"FAST_POLL", "POLL_32BITS", "SQPOLL_NONFIXED", "EXT_ARG", "NATIVE_WORKERS",
	"RSRC_TAGS", "CQE_SKIP", "LINKED_FILE", "REG_REG_RING", "RECVSEND_BUNDLE",
	"MIN_TIMEOUT", "RW_ATTR", "NO_IOWAIT",
}

// String returns the flags as NAME|NAME, "0" when none is set.
func (f FeatureFlags) String() string { return bitNames(uint32(f), featNames[:]) }

func bitNames(v uint32, names []string) string {
	if v == 0 {
		return "0"
	}
	var b strings.Builder
	for i := 0; i < 32; i++ {
		bit := uint32(1) << i
		if v&bit == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		if i < len(names) {
			b.WriteString(names[i])
		} else {
			b.WriteString("0x")
			b.WriteString(strconv.FormatUint(uint64(bit), 16))
		}
	}
	return b.String()
}

// Per-opcode flags kept in sqe.ioprio, sqe.len or the op-flags union.
const (
	acceptMultishot = 1 << 0 // IORING_ACCEPT_MULTISHOT, in ioprio
	recvMultishot   = 1 << 1 // IORING_RECV_MULTISHOT, in ioprio
	pollAddMulti    = 1 << 0 // IORING_POLL_ADD_MULTI, in len
	fsyncDatasync   = 1 << 0 // IORING_FSYNC_DATASYNC
	cancelAll       = 1 << 0 // IORING_ASYNC_CANCEL_ALL
	cancelFD        = 1 << 1 // IORING_ASYNC_CANCEL_FD
)

// SQ ring flags (IORING_SQ_*), written by the kernel.
const (
	sqCQOverflow = 1 << 1 // overflowed CQEs wait in the kernel
	sqTaskrun    = 1 << 2 // completion work is pending (TASKRUN_FLAG)
)

// io_uring_enter flags (IORING_ENTER_*).
const (
	enterGetEvents      = 1 << 0
	enterExtArg         = 1 << 3
	enterRegisteredRing = 1 << 4
)

// mmap offsets for the ring fd.
const (
	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

// io_uring_register opcodes.
const (
	regProbe           = 8
	regRingFDs         = 20
	unregRingFDs       = 21
	regPbufRing        = 22
	unregPbufRing      = 23
	probeOpSupported   = 1 << 0 // IO_URING_OP_SUPPORTED
	probeOps           = 256    // ops[] slots we offer the kernel
	maxEntries         = 32768  // IORING_MAX_ENTRIES
	maxBufRingEntries  = 32768  // largest power of two below 65536
	sizeofProbeHeader  = 16     // struct io_uring_probe
	sizeofProbeOp      = 8      // struct io_uring_probe_op
	sizeofSQE          = 64
	sizeofCQE          = 16
	sizeofBufRingEntry = 16
	bufRingTailOffset  = 14 // io_uring_buf_ring.tail overlays bufs[0].resv
	bufRingTailWordOff = 12 // the 32-bit word holding bufs[0].bid and the tail
	kernelSigsetBytes  = 8  // _NSIG/8 on every Linux architecture we build for
)

// UserDataReserved is the lowest user_data value the package keeps for its
// own requests (the feature probe and, on kernels without
// IORING_FEAT_EXT_ARG, the timeout behind SubmitAndWait). Callers use
// values below it.
const UserDataReserved uint64 = ^uint64(0) - 0xff

// sqRingOffsets is struct io_sqring_offsets.
type sqRingOffsets struct {
	head        uint32
	tail        uint32
	ringMask    uint32
	ringEntries uint32
	flags       uint32
	dropped     uint32
	array       uint32
	resv1       uint32
	userAddr    uint64
}

// cqRingOffsets is struct io_cqring_offsets.
type cqRingOffsets struct {
	head        uint32
	tail        uint32
	ringMask    uint32
	ringEntries uint32
	overflow    uint32
	cqes        uint32
	flags       uint32
	resv1       uint32
	userAddr    uint64
}

// params is struct io_uring_params.
type params struct {
	sqEntries    uint32
	cqEntries    uint32
	flags        uint32
	sqThreadCPU  uint32
	sqThreadIdle uint32
	features     uint32
	wqFD         uint32
	resv         [3]uint32
	sqOff        sqRingOffsets
	cqOff        cqRingOffsets
}

// rsrcUpdate is struct io_uring_rsrc_update (IORING_REGISTER_RING_FDS).
type rsrcUpdate struct {
	offset uint32
	resv   uint32
	data   uint64
}

// bufReg is struct io_uring_buf_reg (IORING_REGISTER_PBUF_RING).
type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	resv        [3]uint64
}

// bufRingEntry is struct io_uring_buf. In entry 0 the resv field is the
// ring's tail, so it is never written through this type.
type bufRingEntry struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16
}

// geteventsArg is struct io_uring_getevents_arg (IORING_ENTER_EXT_ARG).
type geteventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	pad       uint32 // min_wait_usec on 6.12+; left 0
	ts        uint64
}

// Timespec is the kernel's struct __kernel_timespec: 64-bit fields on every
// architecture, unlike unix.Timespec on 32-bit ones.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// Compile-time layout checks: each index is out of range (or a constant
// underflows) unless the size matches the kernel's.
var (
	_ = [1]struct{}{}[unsafe.Sizeof(params{})-120]
	_ = [1]struct{}{}[unsafe.Sizeof(SQE{})-sizeofSQE]
	_ = [1]struct{}{}[unsafe.Sizeof(CQE{})-sizeofCQE]
	_ = [1]struct{}{}[unsafe.Sizeof(bufRingEntry{})-sizeofBufRingEntry]
	_ = [1]struct{}{}[unsafe.Sizeof(bufReg{})-40]
	_ = [1]struct{}{}[unsafe.Sizeof(rsrcUpdate{})-16]
	_ = [1]struct{}{}[unsafe.Sizeof(geteventsArg{})-24]
	_ = [1]struct{}{}[unsafe.Sizeof(Timespec{})-16]
)

// bigEndian reports the byte order, for the one field (poll32_events) the
// ABI stores half-word-swapped on big-endian machines.
var bigEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 0
}()
