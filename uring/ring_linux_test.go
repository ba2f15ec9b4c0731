//go:build linux

package uring

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestNewFeatures(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 64, m.opts)
			f := r.Features()
			t.Log(f.String())
			if f.SQEntries != 64 || f.CQEntries != 256 {
				t.Errorf("entries: sq=%d cq=%d, want 64 and 256 (CQ defaults to 4x)", f.SQEntries, f.CQEntries)
			}
			if f.Setup&SetupCQSize == 0 {
				t.Errorf("setup %v lacks CQSIZE", f.Setup)
			}
			if (m.opts.DisableDeferTaskrun || m.opts.DisableCoopTaskrun) && f.DeferTaskrun() {
				t.Errorf("setup %v: DEFER_TASKRUN taken despite %+v", f.Setup, m.opts)
			}
			if m.opts.DisableCoopTaskrun && f.Setup&SetupCoopTaskrun != 0 {
				t.Errorf("setup %v: COOP_TASKRUN taken despite %+v", f.Setup, m.opts)
			}
			if m.opts.DisableRegisteredRing && f.RegisteredRing {
				t.Error("ring fd registered despite DisableRegisteredRing")
			}
			if m.opts.DisableExtArg && f.ExtArg {
				t.Error("ExtArg reported despite DisableExtArg")
			}
			if f.ExtArg != (f.Kernel&FeatExtArg != 0 && !m.opts.DisableExtArg) {
				t.Errorf("ExtArg=%v with kernel features %v", f.ExtArg, f.Kernel)
			}
			if f.Probed && !f.Op(OpNop) {
				t.Error("probe says NOP is unsupported")
			}
			if f.Op(Op(250)) {
				t.Error("probe says opcode 250 is supported")
			}
			if !strings.HasPrefix(f.String(), "io_uring sq=64 cq=256 setup=") {
				t.Errorf("String() = %q", f.String())
			}
		})
	}
}

// TestFeaturesThisKernel pins what the probe must find on a kernel that has
// everything the server uses (6.1 and later), so a probe that wrongly
// reports "unsupported" fails here instead of silently degrading the server.
func TestFeaturesThisKernel(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor); err != nil {
		t.Skipf("cannot parse kernel release %q", u.Release)
	}
	if major < 6 || major == 6 && minor < 6 {
		t.Skipf("kernel %d.%d predates the full feature set", major, minor)
	}
	r := newTestRing(t, 8, Options{})
	f := r.Features()
	want := SetupSingleIssuer | SetupDeferTaskrun | SetupCoopTaskrun | SetupTaskrunFlag | SetupSubmitAll | SetupNoSQArray
	if f.Setup&want != want {
		t.Errorf("setup %v, want at least %v", f.Setup, want)
	}
	for name, got := range map[string]bool{
		"Probed": f.Probed, "MultishotAccept": f.MultishotAccept, "MultishotRecv": f.MultishotRecv,
		"BufRing": f.BufRing, "ExtArg": f.ExtArg, "RegisteredRing": f.RegisteredRing,
		"CancelFD": f.CancelFD, "CQESkip": f.CQESkip, "DeferTaskrun": f.DeferTaskrun(),
	} {
		if !got {
			t.Errorf("%s = false on kernel %d.%d", name, major, minor)
		}
	}
	for _, op := range []Op{OpAccept, OpRecv, OpSend, OpWrite, OpWritev, OpRead, OpFsync, OpClose, OpTimeout, OpAsyncCancel, OpPollAdd} {
		if !f.Op(op) {
			t.Errorf("probe: %v unsupported", op)
		}
	}
}

func TestNewArguments(t *testing.T) {
	for _, tc := range []struct {
		entries uint32
		opts    Options
		want    string
	}{
		{0, Options{}, "SQ entries"},
		{maxEntries + 1, Options{}, "SQ entries"},
		{16, Options{CQEntries: 8}, "fewer than"},
	} {
		r, err := New(tc.entries, tc.opts)
		if err == nil {
			r.Close()
			t.Errorf("New(%d, %+v) succeeded", tc.entries, tc.opts)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "uring: ") {
			t.Errorf("New(%d, %+v) = %v, want a uring: error mentioning %q", tc.entries, tc.opts, err, tc.want)
		}
	}
}

func TestNopRoundTrip(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 16, m.opts)
			for round := 0; round < 3; round++ {
				const n = 10
				for i := 0; i < n; i++ {
					s := mustSQE(t, r)
					s.Nop()
					s.SetUserData(uint64(round*100 + i))
				}
				got := byUserData(t, collect(t, r, n, 5*time.Second))
				for i := 0; i < n; i++ {
					c, ok := got[uint64(round*100+i)]
					if !ok || c.Res != 0 || c.Flags != 0 {
						t.Fatalf("round %d nop %d: %+v (present %v)", round, i, c, ok)
					}
				}
			}
		})
	}
}

func TestGetSQEFull(t *testing.T) {
	r := newTestRing(t, 4, Options{})
	for i := 0; i < 4; i++ {
		s := mustSQE(t, r)
		s.Nop()
		s.SetUserData(uint64(i))
	}
	if s := r.GetSQE(); s != nil {
		t.Fatal("GetSQE returned a fifth SQE from a 4-entry queue")
	}
	n, err := r.Submit()
	if err != nil || n != 4 {
		t.Fatalf("Submit = %d, %v; want 4", n, err)
	}
	if s := r.GetSQE(); s == nil {
		t.Fatal("GetSQE returned nil after the queue was submitted")
	} else {
		s.Nop()
		s.SetUserData(4)
	}
	if got := len(collect(t, r, 5, 5*time.Second)); got != 5 {
		t.Fatalf("got %d CQEs", got)
	}
}

func TestSubmitAndWaitTimeouts(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 8, m.opts)
			var cqes [8]CQE
			for _, tc := range []struct {
				name     string
				nops     int
				waitNr   uint32
				timeout  time.Duration
				min, max time.Duration
				wantCQEs int
			}{
				{"no wait", 0, 1, 0, 0, time.Second, 0},
				{"waitNr 0", 0, 0, time.Second, 0, time.Second, 0},
				{"expires", 0, 1, 30 * time.Millisecond, 25 * time.Millisecond, 3 * time.Second, 0},
				{"completes first", 1, 1, 10 * time.Second, 0, 3 * time.Second, 1},
				{"no limit", 2, 1, -1, 0, 3 * time.Second, 2},
			} {
				for i := 0; i < tc.nops; i++ {
					s := mustSQE(t, r)
					s.Nop()
					s.SetUserData(uint64(i))
				}
				start := time.Now()
				n, err := r.SubmitAndWait(tc.waitNr, tc.timeout)
				elapsed := time.Since(start)
				if err != nil || n != tc.nops {
					t.Fatalf("%s: SubmitAndWait = %d, %v; want %d, nil", tc.name, n, err, tc.nops)
				}
				if elapsed < tc.min || elapsed > tc.max {
					t.Errorf("%s: waited %v, want %v..%v", tc.name, elapsed, tc.min, tc.max)
				}
				got := r.Reap(cqes[:])
				if tc.wantCQEs > 0 && got == 0 {
					// NOPs complete inline, but a plain ring may post
					// them a moment later: give it a bounded wait.
					got = len(collect(t, r, tc.wantCQEs, 5*time.Second))
				}
				if got != tc.wantCQEs {
					t.Errorf("%s: reaped %d CQEs %+v, want %d", tc.name, got, cqes[:got], tc.wantCQEs)
				}
			}
			if r.internal != 0 && !r.extArg {
				// An internal timeout still pending is fine; it must
				// not leak CQEs to the caller, which Reap checked above.
				t.Logf("%d internal timeouts outstanding", r.internal)
			}
		})
	}
}

func TestTimeoutOp(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 8, m.opts)

			// A relative timeout fires with -ETIME.
			s := mustSQE(t, r)
			s.Timeout(r.Timespec(s, 20*time.Millisecond), 0, 0)
			s.SetUserData(1)
			start := time.Now()
			c := collect(t, r, 1, 5*time.Second)[0]
			if el := time.Since(start); el < 15*time.Millisecond {
				t.Errorf("timeout fired after %v, want >= 20ms", el)
			}
			if c.UserData != 1 || c.Errno() != unix.ETIME {
				t.Errorf("timeout CQE %+v, want user_data 1 and ETIME", c)
			}

			// A timeout with count 1 completes (Res 0) when one other
			// request completes, long before its time.
			s = mustSQE(t, r)
			ts := &Timespec{Sec: 10}
			s.Timeout(ts, 1, 0)
			s.SetUserData(2)
			s = mustSQE(t, r)
			s.Nop()
			s.SetUserData(3)
			start = time.Now()
			got := byUserData(t, collect(t, r, 2, 5*time.Second))
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("count timeout took %v", el)
			}
			if got[2].Res != 0 || got[3].Res != 0 {
				t.Errorf("count timeout %+v, nop %+v; want Res 0 for both", got[2], got[3])
			}
		})
	}
}

func TestTimespecSlot(t *testing.T) {
	r := newTestRing(t, 4, Options{})
	s := mustSQE(t, r)
	ts := r.Timespec(s, 1500*time.Millisecond)
	if *ts != (Timespec{Sec: 1, Nsec: 5e8}) {
		t.Errorf("Timespec = %+v", *ts)
	}
	s2 := mustSQE(t, r)
	if r.Timespec(s2, time.Second) == ts {
		t.Error("two SQE slots share a timespec slot")
	}
	s.Nop()
	s2.Nop()
	for _, tc := range []struct {
		d    time.Duration
		want Timespec
	}{
		{-time.Second, Timespec{}},
		{0, Timespec{}},
		{time.Nanosecond, Timespec{Nsec: 1}},
		{2*time.Second + 3, Timespec{Sec: 2, Nsec: 3}},
	} {
		if got := NewTimespec(tc.d); got != tc.want {
			t.Errorf("NewTimespec(%v) = %+v, want %+v", tc.d, got, tc.want)
		}
	}
}

// TestCQOverflow posts many more completions than the CQ holds without
// reaping, then checks that every one of them is delivered exactly once.
func TestCQOverflow(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			opts := m.opts
			opts.CQEntries = 8
			r := newTestRing(t, 8, opts)
			if r.Features().Kernel&FeatNoDrop == 0 {
				t.Skip("kernel drops overflowed CQEs (no IORING_FEAT_NODROP)")
			}
			const rounds, per = 16, 8
			total := 0
			for round := 0; round < rounds; round++ {
				for i := 0; i < per; i++ {
					s := mustSQE(t, r)
					s.Nop()
					s.SetUserData(uint64(round*per + i))
				}
				for tries := 0; ; tries++ {
					n, err := r.Submit()
					if errors.Is(err, ErrBusy) && tries < 10 {
						continue // not expected on NODROP kernels; retry bounded
					}
					if err != nil {
						t.Fatalf("Submit: %v", err)
					}
					total += n
					break
				}
			}
			if total != rounds*per {
				t.Fatalf("submitted %d, want %d", total, rounds*per)
			}
			if r.sq.flags.Load()&sqCQOverflow == 0 {
				t.Fatalf("%d completions in an 8-entry CQ did not set IORING_SQ_CQ_OVERFLOW", total)
			}
			seen := make(map[uint64]bool)
			var buf [5]CQE // smaller than the CQ to exercise partial reaps
			for tries := 0; len(seen) < total && tries < 1000; tries++ {
				n := r.Reap(buf[:])
				if n == 0 {
					if _, err := r.SubmitAndWait(1, 20*time.Millisecond); err != nil {
						t.Fatalf("SubmitAndWait: %v", err)
					}
				}
				for _, c := range buf[:n] {
					if seen[c.UserData] || c.UserData >= uint64(total) {
						t.Fatalf("unexpected or duplicate CQE %+v", c)
					}
					seen[c.UserData] = true
				}
			}
			if len(seen) != total {
				t.Fatalf("recovered %d of %d completions", len(seen), total)
			}
			if r.sq.flags.Load()&sqCQOverflow != 0 {
				t.Error("overflow flag still set after draining")
			}
			if d := r.CQOverflow(); d != 0 {
				t.Errorf("kernel dropped %d CQEs", d)
			}
			// The ring works normally afterwards.
			s := mustSQE(t, r)
			s.Nop()
			s.SetUserData(1000)
			if c := collect(t, r, 1, 5*time.Second); c[0].UserData != 1000 {
				t.Fatalf("after recovery: %+v", c)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	r := newTestRing(t, 4, Options{})
	fd := r.FD()
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		// The number may have been reused by the runtime meanwhile; only
		// a descriptor that still is an io_uring would be a leak.
		if link, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); strings.Contains(link, "io_uring") {
			t.Errorf("ring fd %d still open after Close (%s)", fd, link)
		}
	}
}

// TestSteadyStateAllocs asserts that a loop turn allocates nothing: queue
// requests, submit and wait with a timeout, reap, recycle buffers.
func TestSteadyStateAllocs(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 32, m.opts)
			var cqes [32]CQE

			allocs := testing.AllocsPerRun(500, func() {
				for i := 0; i < 4; i++ {
					s := r.GetSQE()
					s.Nop()
					s.SetUserData(uint64(i))
				}
				got := 0
				for tries := 0; got < 4 && tries < 100; tries++ {
					if _, err := r.SubmitAndWait(1, time.Second); err != nil {
						panic(err)
					}
					got += r.Reap(cqes[:])
				}
				if got != 4 {
					panic(fmt.Sprintf("reaped %d of 4", got))
				}
			})
			if allocs != 0 {
				t.Errorf("nop turn: %v allocations, want 0", allocs)
			}

			if !r.Features().MultishotRecv || !r.Features().BufRing {
				return
			}
			a, b := socketPair(t)
			br, err := NewBufRing(r, 3, 8, 64)
			if err != nil {
				t.Fatal(err)
			}
			s := mustSQE(t, r)
			s.RecvMultishot(a, br.Group())
			s.SetUserData(99)
			if _, err := r.Submit(); err != nil {
				t.Fatal(err)
			}
			msg := []byte("ping\r\n")
			allocs = testing.AllocsPerRun(500, func() {
				if _, err := unix.Write(b, msg); err != nil {
					panic(err)
				}
				got := 0
				for tries := 0; got == 0 && tries < 100; tries++ {
					if _, err := r.SubmitAndWait(1, time.Second); err != nil {
						panic(err)
					}
					n := r.Reap(cqes[:])
					for _, c := range cqes[:n] {
						if c.UserData != 99 || !c.HasBuffer() || !c.More() {
							panic(fmt.Sprintf("unexpected CQE %+v", c))
						}
						got += int(c.Res)
						br.Recycle(c.BufferID())
					}
				}
			})
			if allocs != 0 {
				t.Errorf("recv turn: %v allocations, want 0", allocs)
			}
		})
	}
}

// TestReapSkipsInternal runs without ext-arg waits, where each timed wait
// queues an internal timeout, and checks that Reap hides their CQEs and
// still fills the caller's slice in one call.
func TestReapSkipsInternal(t *testing.T) {
	r := newTestRing(t, 16, Options{DisableExtArg: true})
	for i := 0; i < 3; i++ {
		if _, err := r.SubmitAndWait(1, 5*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	// A wait returns at once while an earlier timeout's CQE sits unreaped,
	// so later timeouts may still be running: let them all expire. Their
	// CQEs are posted before or (with DEFER_TASKRUN, whose timer work runs
	// during the submit below) after ours.
	time.Sleep(30 * time.Millisecond)
	for i := 0; i < 4; i++ {
		s := mustSQE(t, r)
		s.Nop()
		s.SetUserData(uint64(100 + i))
	}
	if n, err := r.Submit(); err != nil || n != 4 {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	var cqes [4]CQE
	if n := r.Reap(cqes[:]); n != 4 {
		t.Fatalf("Reap = %d (%+v), want the 4 NOPs in one call", n, cqes[:n])
	}
	for i, c := range cqes {
		if c.UserData != uint64(100+i) {
			t.Errorf("CQE %d: %+v", i, c)
		}
	}
	// Internal CQEs posted after ours are consumed by the next Reap, which
	// has nothing for the caller.
	if n := r.Reap(cqes[:]); n != 0 {
		t.Errorf("second Reap = %d (%+v), want 0", n, cqes[:n])
	}
	if r.internal != 0 {
		t.Errorf("%d internal requests not accounted for", r.internal)
	}
}

// countIOUring returns the process's io_uring descriptors and mappings.
func countIOUring(t *testing.T) (fds, maps int) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	for _, e := range ents {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.Contains(link, "io_uring") {
			fds++
		}
	}
	m, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	maps = strings.Count(string(m), "io_uring")
	return fds, maps
}

// TestCloseReleases creates and closes rings with buffer rings and checks
// that no descriptor or mapping outlives them.
func TestCloseReleases(t *testing.T) {
	r0 := newTestRing(t, 4, Options{}) // locks the thread, checks support
	fds0, maps0 := countIOUring(t)
	for i := 0; i < 20; i++ {
		r, err := New(8, modes[i%len(modes)].opts)
		if err != nil {
			t.Fatal(err)
		}
		if fds, maps := countIOUring(t); fds != fds0+1 || maps <= maps0 {
			t.Fatalf("open ring: %d fds, %d maps; before %d, %d", fds, maps, fds0, maps0)
		}
		if r.Features().BufRing {
			if _, err := NewBufRing(r, 1, 4, 64); err != nil {
				t.Fatal(err)
			}
			br, err := NewBufRing(r, 2, 4, 64)
			if err != nil {
				t.Fatal(err)
			}
			if err := br.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if fds, maps := countIOUring(t); fds != fds0 || maps != maps0 {
		t.Fatalf("after closing: %d io_uring fds, %d mappings; want %d, %d", fds, maps, fds0, maps0)
	}
	_ = r0
}
