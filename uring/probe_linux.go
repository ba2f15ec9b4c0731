//go:build linux

package uring

import (
	"encoding/binary"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Features is what New found out about the kernel. The booleans are what
// the server decides on; they come from the setup flags the kernel
// accepted, its IORING_FEAT_* bits, IORING_REGISTER_PROBE, and requests
// New submits once to see whether the kernel accepts a flag.
type Features struct {
	Setup     SetupFlags   // setup flags the kernel accepted
	Kernel    FeatureFlags // IORING_FEAT_* reported by io_uring_setup
	SQEntries uint32       // SQ size the kernel chose
	CQEntries uint32       // CQ size the kernel chose
	Probed    bool         // IORING_REGISTER_PROBE answered (5.6); Op is false for all when not

	MultishotAccept bool // IORING_ACCEPT_MULTISHOT (5.19)
	MultishotRecv   bool // IORING_RECV_MULTISHOT (6.0)
	BufRing         bool // IORING_REGISTER_PBUF_RING (5.19)
	ExtArg          bool // SubmitAndWait times its waits with IORING_ENTER_EXT_ARG (5.11)
	RegisteredRing  bool // the ring fd is registered (5.18)
	CancelFD        bool // IORING_ASYNC_CANCEL_FD (5.19)
	CQESkip         bool // IOSQE_CQE_SKIP_SUCCESS (5.17)

	ops [4]uint64 // supported opcodes, one bit each
}

// Op reports whether the kernel implements op (false when !Probed).
func (f Features) Op(op Op) bool { return f.ops[op>>6]&(1<<(op&63)) != 0 }

// DeferTaskrun reports whether the ring runs completion work only when the
// owner thread asks for events (SINGLE_ISSUER|DEFER_TASKRUN).
func (f Features) DeferTaskrun() bool { return f.Setup&SetupDeferTaskrun != 0 }

// String summarizes the features on one line, for the server's log.
func (f Features) String() string {
	var b strings.Builder
	b.WriteString("io_uring sq=")
	b.WriteString(strconv.FormatUint(uint64(f.SQEntries), 10))
	b.WriteString(" cq=")
	b.WriteString(strconv.FormatUint(uint64(f.CQEntries), 10))
	b.WriteString(" setup=")
	b.WriteString(f.Setup.String())
	b.WriteString(" features=0x")
	b.WriteString(strconv.FormatUint(uint64(f.Kernel), 16))
	b.WriteString(" ops=")
	if f.Probed {
		n := 0
		for _, w := range f.ops {
			n += bits.OnesCount64(w)
		}
		b.WriteString(strconv.Itoa(n))
	} else {
		b.WriteString("unknown")
	}
	for _, kv := range []struct {
		name string
		on   bool
	}{
		{"multishot-accept", f.MultishotAccept},
		{"multishot-recv", f.MultishotRecv},
		{"buf-ring", f.BufRing},
		{"ext-arg", f.ExtArg},
		{"registered-ring", f.RegisteredRing},
		{"cancel-fd", f.CancelFD},
		{"cqe-skip", f.CQESkip},
	} {
		b.WriteByte(' ')
		b.WriteString(kv.name)
		if kv.on {
			b.WriteString("=yes")
		} else {
			b.WriteString("=no")
		}
	}
	return b.String()
}

// user_data of the package's own requests, at or above UserDataReserved.
const (
	udWaitTimeout   = ^uint64(0)
	udProbeAccept   = ^uint64(0) - 1
	udProbeRecv     = ^uint64(0) - 2
	udProbeCancelFD = ^uint64(0) - 3

	probeGroup = 0xffff // buffer group used, then released, by the probe
)

// probe fills the feature booleans New cannot read from the setup result.
func (r *Ring) probe() {
	buf := make([]byte, sizeofProbeHeader+probeOps*sizeofProbeOp)
	if _, errno := r.register(regProbe, unsafe.Pointer(&buf[0]), probeOps); errno == 0 {
		r.feat.ops, r.feat.Probed = parseProbe(buf)
	}
	r.probeBufRing()
	r.probeRequests()
}

// parseProbe decodes a struct io_uring_probe the kernel filled in.
func parseProbe(buf []byte) (ops [4]uint64, ok bool) {
	if len(buf) < sizeofProbeHeader {
		return ops, false
	}
	n := int(buf[1]) // ops_len
	for i := 0; i < n; i++ {
		at := sizeofProbeHeader + i*sizeofProbeOp
		if at+sizeofProbeOp > len(buf) {
			break
		}
		op := buf[at]
		if binary.NativeEndian.Uint16(buf[at+2:])&probeOpSupported != 0 {
			ops[op>>6] |= 1 << (op & 63)
		}
	}
	return ops, true
}

// probeBufRing registers and unregisters a one-entry buffer ring.
func (r *Ring) probeBufRing() {
	mem, err := unix.Mmap(-1, 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return
	}
	defer unix.Munmap(mem)
	reg := &bufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&mem[0]))), ringEntries: 1, bgid: probeGroup}
	if _, errno := r.register(regPbufRing, unsafe.Pointer(reg), 1); errno != 0 {
		return
	}
	r.feat.BufRing = true
	r.register(unregPbufRing, unsafe.Pointer(&bufReg{bgid: probeGroup}), 1)
}

// probeRequests finds out whether the kernel knows the request flags the
// server relies on by submitting each on fd -1. A kernel that does not know
// a flag fails the SQE while preparing it, with -EINVAL; one that does gets
// as far as looking up the fd and fails with -EBADF (or, for a cancel, may
// find nothing to cancel: -ENOENT).
func (r *Ring) probeRequests() {
	type probe struct {
		ud   uint64
		op   Op
		prep func(*SQE)
		set  *bool
	}
	probes := []probe{
		{udProbeAccept, OpAccept, func(s *SQE) { s.MultishotAccept(-1, 0) }, &r.feat.MultishotAccept},
		{udProbeRecv, OpRecv, func(s *SQE) { s.RecvMultishot(-1, probeGroup) }, &r.feat.MultishotRecv},
		{udProbeCancelFD, OpAsyncCancel, func(s *SQE) { s.CancelFD(-1, false) }, &r.feat.CancelFD},
	}
	want := 0
	for _, p := range probes {
		if !r.feat.Op(p.op) {
			continue
		}
		sqe := r.GetSQE()
		if sqe == nil {
			break
		}
		p.prep(sqe)
		sqe.SetUserData(p.ud)
		want++
	}
	if want == 0 {
		return
	}
	// Without SUBMIT_ALL the kernel stops at the first SQE that fails to
	// prepare, so submit until all are consumed; each call consumes one at
	// least. Then wait for the completions, each bounded by a second.
	var cqes [4]CQE
	got := 0
	for tries := 0; got < want && tries < 2*want+4; tries++ {
		toSubmit := r.flush()
		var errno unix.Errno
		if r.extArg {
			r.waitTs = NewTimespec(time.Second)
			_, errno = r.enter(toSubmit, 1, enterGetEvents|enterExtArg, unsafe.Pointer(&r.waitArg), unsafe.Sizeof(r.waitArg))
		} else {
			_, errno = r.enter(toSubmit, 1, enterGetEvents, nil, 0)
		}
		if errno != 0 && errno != unix.ETIME && errno != unix.EINTR {
			break
		}
		n := r.reapRing(cqes[:])
		for _, c := range cqes[:n] {
			for _, p := range probes {
				if c.UserData == p.ud {
					*p.set = probeSupported(c.Res)
					got++
				}
			}
		}
	}
	// A probe that has not completed by now is counted as unsupported; its
	// CQE, if it ever comes, is filtered out by Reap.
	r.internal += want - got
}

// probeSupported classifies a probe request's result.
func probeSupported(res int32) bool { return res != -int32(unix.EINVAL) }
